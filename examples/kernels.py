"""Representative Triton kernels, and how to compile each one for a named Intel target.

The project's one kernel collection: the README's main command, the benchmarks, the tests and the lit
suite (whose RUN lines compile this file with ``triton-xpu compile``) all use it.  Every kernel is
ordinary Triton; ``SPECS`` gives each one a signature, constexpr values and launch options so it can be
compiled ahead of time with
``triton.compile(spec.source(), target=GPUTarget("xpu", "pvc", 32), options=spec.options)``.
The last few kernels, not in ``SPECS``, each show one behaviour the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import triton
import triton.language as tl
from triton.compiler import ASTSource


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) + tl.load(y_ptr + offsets, mask=mask), mask=mask)


@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_row_stride, out_row_stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(in_ptr + row * in_row_stride + cols, mask=cols < n_cols, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    num = tl.exp(x)
    tl.store(out_ptr + row * out_row_stride + cols, num / tl.sum(num, axis=0), mask=cols < n_cols)


@triton.jit
def layernorm_kernel(x_ptr, y_ptr, w_ptr, b_ptr, stride, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride + cols, mask=mask, other=0.).to(tl.float32)
    mean = tl.sum(x, axis=0) / n_cols
    diff = tl.where(mask, x - mean, 0.)
    rstd = 1 / tl.sqrt(tl.sum(diff * diff, axis=0) / n_cols + eps)
    w = tl.load(w_ptr + cols, mask=mask)
    b = tl.load(b_ptr + cols, mask=mask)
    tl.store(y_ptr + row * stride + cols, diff * rstd * w + b, mask=mask)


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_m[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_n[None, :] * stride_bn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_K, other=0.)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_K, other=0.)
        acc += tl.dot(a, b)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk
    c_ptrs = c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    c_mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=c_mask)


@triton.jit
def block_ptr_matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm,
                            stride_cn, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    a_block = tl.make_block_ptr(base=a_ptr, shape=(M, K), strides=(stride_am, stride_ak),
                                offsets=(pid_m * BLOCK_M, 0), block_shape=(BLOCK_M, BLOCK_K), order=(1, 0))
    b_block = tl.make_block_ptr(base=b_ptr, shape=(K, N), strides=(stride_bk, stride_bn),
                                offsets=(0, pid_n * BLOCK_N), block_shape=(BLOCK_K, BLOCK_N), order=(1, 0))
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for _ in range(0, K, BLOCK_K):
        acc += tl.dot(tl.load(a_block, boundary_check=(0, 1)), tl.load(b_block, boundary_check=(0, 1)))
        a_block = tl.advance(a_block, (0, BLOCK_K))
        b_block = tl.advance(b_block, (BLOCK_K, 0))
    c_block = tl.make_block_ptr(base=c_ptr, shape=(M, N), strides=(stride_cm, stride_cn),
                                offsets=(pid_m * BLOCK_M, pid_n * BLOCK_N), block_shape=(BLOCK_M, BLOCK_N),
                                order=(1, 0))
    tl.store(c_block, acc.to(c_ptr.dtype.element_ty), boundary_check=(0, 1))


@triton.jit
def sort_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offsets = tl.arange(0, N)
    tl.store(out_ptr + offsets, tl.sort(tl.load(x_ptr + offsets), descending=False))


@triton.jit
def attention_kernel(q_ptr, k_ptr, v_ptr, out_ptr, seq_len, sm_scale, stride_s, BLOCK_M: tl.constexpr,
                     BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    q = tl.load(q_ptr + offs_m[:, None] * stride_s + offs_d[None, :])
    m_i = tl.full((BLOCK_M, ), float("-inf"), tl.float32)
    l_i = tl.zeros((BLOCK_M, ), tl.float32)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), tl.float32)
    for start_n in range(0, seq_len, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        k = tl.load(k_ptr + offs_n[None, :] * stride_s + offs_d[:, None])
        qk = tl.dot(q, k) * sm_scale
        m_new = tl.maximum(m_i, tl.max(qk, 1))
        p = tl.exp(qk - m_new[:, None])
        alpha = tl.exp(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_ptr + offs_n[:, None] * stride_s + offs_d[None, :])
        acc = acc * alpha[:, None] + tl.dot(p.to(tl.float16), v)
        m_i = m_new
    tl.store(out_ptr + offs_m[:, None] * stride_s + offs_d[None, :], (acc / l_i[:, None]).to(tl.float16))


@triton.jit
def atomic_histogram_kernel(x_ptr, hist_ptr, n_elements, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    bins = tl.load(x_ptr + offsets, mask=mask, other=0)
    tl.atomic_add(hist_ptr + bins, 1, mask=mask)
    tl.atomic_max(hist_ptr, tl.max(bins, 0))


@triton.jit
def grid3d_kernel(out_ptr, BLOCK: tl.constexpr):
    """Each program writes its block's offsets: a 3-D grid's programs in the order z, y, x."""
    pid = tl.program_id(0) + tl.num_programs(0) * (tl.program_id(1) + tl.num_programs(1) * tl.program_id(2))
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, offs.to(tl.float32))


@triton.jit
def dot_kernel(a_ptr, b_ptr, c_ptr, BLOCK: tl.constexpr):
    """One BLOCK x BLOCK tl.dot, stored as c's type: on pvc DPAS with sub-groups of 16, on acm-g10 32 and some
    shared memory (a fat binary whose targets launch differently).  "*bf16,*bf16,*bf16,16" needs a float -> bf16
    conversion; BLOCK=16 compiles in seconds, 64 spills heavily outside pvc and takes a minute."""
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs[:, None] * BLOCK + offs[None, :])
    b = tl.load(b_ptr + offs[:, None] * BLOCK + offs[None, :])
    tl.store(c_ptr + offs[:, None] * BLOCK + offs[None, :], tl.dot(a, b).to(c_ptr.dtype.element_ty))


@triton.jit
def row_sum_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    """A reduction across the sub-groups of a work-group: shared local memory and a barrier."""
    row = tl.program_id(0)
    tl.store(out_ptr + row, tl.sum(tl.load(x_ptr + row * BLOCK + tl.arange(0, BLOCK)), axis=0))


@triton.jit
def scalars_kernel(out_ptr, flag, i8, i16, u16, u32, i64, h, bf, f, d, BLOCK: tl.constexpr):
    """One scalar argument of each kind the C launcher passes."""
    total = (flag.to(tl.float32) + i8.to(tl.float32) + i16.to(tl.float32) + u16.to(tl.float32) + u32.to(tl.float32) +
             i64.to(tl.float32) + h.to(tl.float32) + bf.to(tl.float32) + f + d.to(tl.float32))
    tl.store(out_ptr + tl.arange(0, BLOCK), tl.zeros((BLOCK, ), tl.float32) + total)


def ast_source(fn: Any, signature: Dict[str, str], constexprs: Dict[str, Any]) -> ASTSource:
    """What triton.compile takes for ``fn``: its runtime arguments' types and its constexprs' values."""
    return ASTSource(fn, signature={**signature, **{k: "constexpr" for k in constexprs}}, constexprs=dict(constexprs))


@dataclass(frozen=True)
class KernelSpec:
    """One kernel with everything needed to compile it without running it."""

    name: str
    fn: Any
    signature: Dict[str, str]
    constexprs: Dict[str, Any]
    options: Dict[str, Any] = field(default_factory=dict)
    # launch(alloc) -> (grid, runtime arguments); alloc(nbytes, dtype) gives zeroed host-visible memory.
    launch: Optional[Callable[[Callable], Tuple[Tuple[int, ...], List[Any]]]] = None

    def source(self) -> ASTSource:
        return ast_source(self.fn, self.signature, self.constexprs)

    def compile(self, arch: str):
        from triton.backends.compiler import GPUTarget
        return triton.compile(self.source(), target=GPUTarget("xpu", arch, 32), options=dict(self.options))


def _pointwise(n: int, dtype: str = "float32", buffers: int = 3):
    return lambda alloc: ((triton.cdiv(n, 1024), 1, 1), [alloc(4 * n, dtype) for _ in range(buffers)] + [n])


def _rows(rows: int, cols: int, scalars: List[Any], buffers: int):
    return lambda alloc: ((rows, 1, 1), [alloc(4 * rows * cols, "float32") for _ in range(buffers)] + scalars)


def _matmul(size: int, block: int, dtype: str):
    def launch(alloc):
        buf = [alloc(2 * size * size, dtype) for _ in range(3)]
        return (size // block, size // block, 1), buf + [size, size, size, size, 1, size, 1, size, 1]

    return launch


def _attention(seq: int, head: int, block: int):
    def launch(alloc):
        return (seq // block, 1, 1), [alloc(2 * seq * head, "float16") for _ in range(4)] + [seq, 0.125, head]

    return launch


def _matmul_sig(dtype: str) -> Dict[str, str]:
    sig = {"a_ptr": f"*{dtype}", "b_ptr": f"*{dtype}", "c_ptr": f"*{dtype}"}
    sig.update({k: "i32" for k in ("M", "N", "K", "stride_am", "stride_ak", "stride_bk", "stride_bn",
                                   "stride_cm", "stride_cn")})
    return sig


SPECS: Dict[str, KernelSpec] = {
    s.name: s
    for s in (
        KernelSpec("add", add_kernel, {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n_elements": "i32"},
                   {"BLOCK": 1024}, launch=_pointwise(1 << 16)),
        KernelSpec("softmax", softmax_kernel, {"out_ptr": "*fp32", "in_ptr": "*fp32", "in_row_stride": "i32",
                                               "out_row_stride": "i32", "n_cols": "i32"}, {"BLOCK": 1024},
                   launch=_rows(64, 1024, [1024, 1024, 1000], 2)),
        KernelSpec("layernorm", layernorm_kernel, {"x_ptr": "*fp32", "y_ptr": "*fp32", "w_ptr": "*fp32",
                                                   "b_ptr": "*fp32", "stride": "i32", "n_cols": "i32",
                                                   "eps": "fp32"}, {"BLOCK": 1024},
                   launch=_rows(64, 1024, [1024, 1000, 1e-5], 4)),
        KernelSpec("matmul", matmul_kernel, _matmul_sig("fp16"), {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32},
                   launch=_matmul(256, 64, "float16")),
        KernelSpec("matmul_128", matmul_kernel, _matmul_sig("fp16"), {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32},
                   {"num_warps": 8}, launch=_matmul(256, 128, "float16")),
        KernelSpec("block_ptr_matmul_bf16", block_ptr_matmul_kernel, _matmul_sig("bf16"),
                   {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32}, {"num_warps": 8},
                   launch=_matmul(256, 128, "bfloat16")),
        KernelSpec("sort", sort_kernel, {"x_ptr": "*fp32", "out_ptr": "*fp32"}, {"N": 128},
                   launch=lambda alloc: ((1, 1, 1), [alloc(4 * 128, "float32"), alloc(4 * 128, "float32")])),
        KernelSpec("attention", attention_kernel, {"q_ptr": "*fp16", "k_ptr": "*fp16", "v_ptr": "*fp16",
                                                   "out_ptr": "*fp16", "seq_len": "i32", "sm_scale": "fp32",
                                                   "stride_s": "i32"}, {"BLOCK_M": 64, "BLOCK_N": 64,
                                                                        "HEAD_DIM": 64}, {"num_warps": 8},
                   launch=_attention(256, 64, 64)),
        KernelSpec("atomics", atomic_histogram_kernel, {"x_ptr": "*i32", "hist_ptr": "*i32", "n_elements": "i32"},
                   {"BLOCK": 256}, launch=lambda alloc: ((16, 1, 1), [alloc(4 * 4096, "int32"),
                                                                       alloc(4 * 256, "int32"), 4096])),
    )
}

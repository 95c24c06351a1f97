"""Each kind of kernel the project targets, compiled by the real backend, run by the executor (a real Intel GPU's
native binary through the project's driver, else the SPIR-V on Intel's CPU OpenCL runtime: numeric_executors.py),
and compared with a NumPy reference in float64 at a stated tolerance.  docs/numeric.md lists the kinds, the
tolerances and why, and the errors measured.

Notation for the tolerances: u32 = 2^-24 (fp32 unit roundoff), u16 = 2^-11 (fp16), ubf = 2^-8 (bf16).  A sum of n
fp32 terms in any order is within gamma_n = n*u32 / (1 - n*u32) of the exact sum of absolute values (Higham, 3.1),
which bounds every reduction, dot product and accumulation below whatever order a backend uses.
"""

import numpy as np
import pytest

import triton
import triton.language as tl

import kernels as examples  # examples/kernels.py: the project's representative kernels
from numeric_executors import Kernel

U32, U16, UBF = 2.0**-24, 2.0**-11, 2.0**-8


def gamma(n, u=U32):
    return n * u / (1 - n * u)


def rng(seed):
    return np.random.default_rng(seed)


def max_err(out, ref):
    return float(np.max(np.abs(np.asarray(out, np.float64) - ref)))


def within(out, ref, bound):
    """(max |out - ref|, max of |out - ref| / bound) for an elementwise bound: the second is <= 1 when every element
    is within its own bound; the report shows both."""
    err = np.abs(np.asarray(out, np.float64) - ref)
    return float(err.max()), float(np.max(err / bound))


# --- kernels of the suite (besides examples/kernels.py) ---------------------------------------------------------


@triton.jit
def silu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask).to(tl.float32)
    tl.store(y_ptr + offs, (x * tl.sigmoid(x)).to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def row_sum_max_kernel(x_ptr, sum_ptr, max_ptr, stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride + cols, mask=mask, other=0.)
    tl.store(sum_ptr + row, tl.sum(x, axis=0))
    tl.store(max_ptr + row, tl.max(tl.where(mask, x, -float("inf")), axis=0))


@triton.jit
def col_sum_kernel(x_ptr, out_ptr, n_rows, n_cols, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    # A 2-D reduction along axis 0: partial sums over row blocks, then across the block.
    cols = tl.program_id(0) * BLOCK_C + tl.arange(0, BLOCK_C)
    acc = tl.zeros((BLOCK_C, ), tl.float32)
    for start in range(0, n_rows, BLOCK_R):
        rows = start + tl.arange(0, BLOCK_R)
        mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
        acc += tl.sum(tl.load(x_ptr + rows[:, None] * n_cols + cols[None, :], mask=mask, other=0.), axis=0)
    tl.store(out_ptr + cols, acc, mask=cols < n_cols)


@triton.jit
def atomic_sum_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.atomic_add(out_ptr, tl.sum(tl.load(x_ptr + offs, mask=offs < n, other=0.), axis=0))


@triton.jit
def dot_kernel(a_ptr, b_ptr, c_ptr, M, N, K, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
               PRECISION: tl.constexpr):
    # Row-major A (M x K), B (K x N), C (M x N); C = A @ B accumulated in fp32, stored as C's type.
    offs_m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, K, BLOCK_K):
        a = tl.load(a_ptr + offs_m[:, None] * K + (k + offs_k)[None, :])
        b = tl.load(b_ptr + (k + offs_k)[:, None] * N + offs_n[None, :])
        acc = tl.dot(a, b, acc, input_precision=PRECISION, out_dtype=tl.float32)
    tl.store(c_ptr + offs_m[:, None] * N + offs_n[None, :], acc.to(c_ptr.dtype.element_ty))


def _mm_sig(a, b, c):
    sig = {"a_ptr": f"*{a}", "b_ptr": f"*{b}", "c_ptr": f"*{c}"}
    sig.update({k: "i32" for k in ("M", "N", "K", "stride_am", "stride_ak", "stride_bk", "stride_bn", "stride_cm",
                                   "stride_cn")})
    return sig


# --- pointwise ----------------------------------------------------------------------------------------------


def test_pointwise_add_fp32(executor, record):
    # One IEEE fp32 addition per element, as NumPy does: exact.  n is not a multiple of BLOCK (masked tail).
    n = 5000
    g = rng(1)
    x, y = g.standard_normal(n).astype(np.float32), g.standard_normal(n).astype(np.float32)
    out = np.zeros(n, np.float32)
    executor.run(Kernel(examples.add_kernel, {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32",
                                              "n_elements": "i32"}, {"BLOCK": 1024}), (triton.cdiv(n, 1024), ),
                 [x, y, out, n])
    record(max_err(out, x + y), 0, "add fp32 (exact)")


@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_pointwise_silu(executor, record, dtype):
    # x * sigmoid(x) in fp32 from fp16/bf16 input, stored as fp16/bf16: one rounding of the result (u16 / ubf
    # relative) plus the fp32 sigmoid (exp and division, a few u32); |y| <= 4 here.
    n = 3000
    g = rng(2)
    x32 = (g.standard_normal(n) * 2).astype(np.float32)
    if dtype == "fp16":
        x = x32.astype(np.float16)
        xf = x.astype(np.float64)
        y = np.zeros(n, np.float16)
        u = U16
    else:  # bf16 as its 16-bit patterns (NumPy has no bfloat16): the top half of the fp32 value
        x = (x32.view(np.uint32) >> 16).astype(np.uint16)
        xf = (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        y = np.zeros(n, np.uint16)
        u = UBF
    executor.run(Kernel(silu_kernel, {"x_ptr": f"*{dtype}", "y_ptr": f"*{dtype}", "n": "i32"}, {"BLOCK": 512}),
                 (triton.cdiv(n, 512), ), [x, y, n])
    out = y.astype(np.float64) if dtype == "fp16" else (y.astype(np.uint32) << 16).view(np.float32)
    ref = xf / (1 + np.exp(-xf))
    err, ratio = within(out, ref, u * np.abs(ref) + 16 * U32 * np.abs(ref) + 2.0**-25)
    record(ratio, 1, f"silu {dtype} (error / bound)", err)


# --- reductions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_warps", [1, 4])
def test_reduction_row_sum_and_max(executor, record, num_warps):
    # Sum of n fp32 values in any order: within gamma_n * sum|x|; max exact.  With 4 warps the reduction crosses
    # sub-groups through shared local memory (the trailing local-memory argument of the launch contract).
    rows, cols = 16, 700
    x = rng(3).standard_normal((rows, cols)).astype(np.float32)
    s, m = np.zeros(rows, np.float32), np.zeros(rows, np.float32)
    compiled = executor.run(Kernel(row_sum_max_kernel, {"x_ptr": "*fp32", "sum_ptr": "*fp32", "max_ptr": "*fp32",
                                                        "stride": "i32", "n_cols": "i32"}, {"BLOCK": 1024},
                                   (("num_warps", num_warps), )), (rows, ), [x, s, m, cols, cols])
    if num_warps > 1:
        assert compiled.metadata.shared > 0  # the contract's local-memory argument is exercised
    xf = x.astype(np.float64)
    err, ratio = within(s, xf.sum(1), gamma(cols) * np.abs(xf).sum(1))
    record(ratio, 1, "row sum (error / gamma_n bound)", err)
    record(max_err(m, xf.max(1)), 0, "row max (exact)")


def test_reduction_columns(executor, record):
    rows, cols = 300, 96
    x = rng(4).standard_normal((rows, cols)).astype(np.float32)
    out = np.zeros(cols, np.float32)
    executor.run(Kernel(col_sum_kernel, {"x_ptr": "*fp32", "out_ptr": "*fp32", "n_rows": "i32", "n_cols": "i32"},
                        {"BLOCK_R": 64, "BLOCK_C": 32}), (triton.cdiv(cols, 32), ), [x, out, rows, cols])
    xf = x.astype(np.float64)
    err, ratio = within(out, xf.sum(0), gamma(rows) * np.abs(xf).sum(0))
    record(ratio, 1, "column sum (error / gamma_n bound)", err)


# --- softmax, layer norm ------------------------------------------------------------------------------------


def test_softmax(executor, record):
    # exp and one division per element in fp32 (a few u32 each) and a sum of n terms (gamma_n): relative bound
    # (gamma_n + 8 u32) on each probability.
    rows, cols = 32, 1000
    x = rng(5).standard_normal((rows, cols)).astype(np.float32) * 3
    out = np.zeros_like(x)
    compiled = executor.run(Kernel(examples.softmax_kernel, examples.SPECS["softmax"].signature, {"BLOCK": 1024}),
                            (rows, ), [out, x, cols, cols, cols])
    assert compiled.metadata.shared > 0
    xf = x.astype(np.float64)
    ref = np.exp(xf - xf.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    err, ratio = within(out, ref, (gamma(cols) + 8 * U32) * ref + 1e-30)
    record(ratio, 1, "softmax (error / bound)", err)


def test_layernorm_fp16(executor, record):
    # fp16 input and output, fp32 weights and statistics: the output's one fp16 rounding (u16 |y|) dominates;
    # mean and variance are n-term fp32 sums (gamma_n relative), tiny next to it.
    rows, cols = 16, 1000
    g = rng(6)
    x = (g.standard_normal((rows, cols)) * 2 + 0.5).astype(np.float16)
    w, b = g.standard_normal(cols).astype(np.float32), g.standard_normal(cols).astype(np.float32)
    y = np.zeros_like(x)
    sig = dict(examples.SPECS["layernorm"].signature, x_ptr="*fp16", y_ptr="*fp16")
    executor.run(Kernel(examples.layernorm_kernel, sig, {"BLOCK": 1024}), (rows, ), [x, y, w, b, cols, cols, 1e-5])
    xf = x.astype(np.float64)
    mean = xf.mean(1, keepdims=True)
    ref = (xf - mean) / np.sqrt(((xf - mean)**2).mean(1, keepdims=True) + 1e-5) * w + b
    bound = U16 * np.abs(ref) + 64 * gamma(cols) * (np.abs(ref) + np.abs(b)) + 2.0**-25
    err, ratio = within(y, ref, bound)
    record(ratio, 1, "layernorm fp16 (error / bound)", err)


# --- matmuls ------------------------------------------------------------------------------------------------

# Every matmul is checked elementwise against
#   |C - A@B| <= gamma_K * (|A| @ |B|)        fp32 accumulation in any order (products of fp16/bf16/fp8 are
#                                             exact in fp32, so this is the only error before the store)
#              + u_in * 2 * (|A| @ |B|)       tf32 only: each input rounded to 10 mantissa bits on DPAS
#              + u_out * |A@B|                the store's rounding to C's type (fp16: u16, bf16: ubf, fp32: 0)
# and the table reports max(error / bound), which must be <= 1.

M = N = 64


def _check_mm(record, what, c, a, b, u_out, u_in=0.0):
    ref = a @ b
    k = a.shape[1]
    bound = (gamma(k) + 2 * u_in) * (np.abs(a) @ np.abs(b)) + u_out * np.abs(ref) + 2.0**-25
    err, ratio = within(c, ref, bound)
    record(ratio, 1, f"{what} (error / bound)", err)


def _fp16(g, shape):
    return g.standard_normal(shape).astype(np.float16)


def _bf16(g, shape):
    bits = (g.standard_normal(shape).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return bits, (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def _uses_dot(kernel_fn, sig, constexprs, options=()):
    return Kernel(kernel_fn, sig, constexprs, tuple(options), uses_dot=True)


@pytest.mark.parametrize("out", ["fp16", "fp32"])
def test_matmul_fp16(executor, record, out):
    K = 96  # 3 iterations of BLOCK_K, with the example's masked K loads
    g = rng(7)
    a, b = _fp16(g, (M, K)), _fp16(g, (K, N))
    c = np.zeros((M, N), np.float16 if out == "fp16" else np.float32)
    executor.run(_uses_dot(examples.matmul_kernel, _mm_sig("fp16", "fp16", out), {"BLOCK_M": 32, "BLOCK_N": 32,
                                                                                  "BLOCK_K": 32}),
                 (M // 32, N // 32), [a, b, c, M, N, K, K, 1, N, 1, N, 1])
    _check_mm(record, f"matmul fp16 -> {out}", c, a.astype(np.float64), b.astype(np.float64),
              U16 if out == "fp16" else 0)


@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_matmul_block_pointers(executor, record, dtype):
    # examples' block-pointer matmul (2D block IO on pvc/bmg); M, N, K not multiples of the blocks: the
    # boundary checks zero-fill the edges.
    m, n, k = 72, 80, 80
    g = rng(8)
    if dtype == "fp16":
        a, b = _fp16(g, (m, k)), _fp16(g, (k, n))
        af, bf = a.astype(np.float64), b.astype(np.float64)
        c = np.zeros((m, n), np.float16)
    else:
        (a, af), (b, bf) = _bf16(g, (m, k)), _bf16(g, (k, n))
        c = np.zeros((m, n), np.uint16)
    executor.run(_uses_dot(examples.block_ptr_matmul_kernel, _mm_sig(dtype, dtype, dtype),
                           {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32}, (("num_warps", 4), )),
                 (triton.cdiv(m, 32), triton.cdiv(n, 32)), [a, b, c, m, n, k, k, 1, n, 1, n, 1])
    cf = c.astype(np.float64) if dtype == "fp16" else (c.astype(np.uint32) << 16).view(np.float32)
    _check_mm(record, f"block-ptr matmul {dtype}", cf, af, bf, U16 if dtype == "fp16" else UBF)


TF32_KERNEL = _uses_dot(dot_kernel, {"a_ptr": "*fp32", "b_ptr": "*fp32", "c_ptr": "*fp32", "M": "i32", "N": "i32",
                                     "K": "i32"}, {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 16, "PRECISION": "tf32"})


def test_matmul_tf32(executor, record):
    if executor.name == "cpu":
        # Measured: tf32 exists only as a DPAS instruction.  For the CPU's target (tgllp, no DPAS) the backend
        # refuses input_precision="tf32" (its allowed precisions there are ('ieee',)); for pvc the dot becomes
        # intel_sub_group_tf32_tf32_matrix_mad_k8, which the CPU runtime does not have
        # (test_gpu_only.py::test_dpas_and_block_io_do_not_build_on_the_cpu).
        from triton.compiler.errors import CompilationError
        with pytest.raises(CompilationError) as e:
            executor.compile(TF32_KERNEL)
        assert "input_precision must be one of ('ieee',)" in str(e.value.__cause__ or e.value)
        pytest.xfail("GPU-only: tf32 dots exist only as DPAS (pvc, bmg, lnl, ptl); the backend refuses tf32 for a "
                     "target without it, and the CPU runtime has no DPAS builtins")
    K = 64
    g = rng(9)
    a, b = g.standard_normal((M, K)).astype(np.float32), g.standard_normal((K, N)).astype(np.float32)
    c = np.zeros((M, N), np.float32)
    executor.run(TF32_KERNEL, (M // 32, N // 32), [a, b, c, M, N, K])
    _check_mm(record, "matmul tf32", c, a.astype(np.float64), b.astype(np.float64), 0, u_in=2.0**-11)


def _fp8e5(g, shape):
    # fp8 e5m2 (bias 15) is the top byte of an fp16: random patterns with exponent fields 12..18 (magnitudes
    # 2^-3 .. 2^4, normal numbers), decoded through fp16.
    bits = (g.integers(0, 2, shape) << 7 | g.integers(12, 19, shape) << 2 | g.integers(0, 4, shape)).astype(np.uint8)
    return bits, (bits.astype(np.uint16) << 8).view(np.float16).astype(np.float64)


def _fp8e4nv(g, shape):
    # fp8 e4m3fn (Triton's fp8e4nv, bias 7, no infinities): exponent fields 4..10 (magnitudes 2^-3 .. 2^4).
    sign, e, m = g.integers(0, 2, shape), g.integers(4, 11, shape), g.integers(0, 8, shape)
    bits = (sign << 7 | e << 3 | m).astype(np.uint8)
    mag = (1 + m / 8) * 2.0**(e - 7)
    return bits, np.where(sign == 1, -mag, mag)


@pytest.mark.parametrize("fmt", ["fp8e5", "fp8e4nv"])
def test_matmul_fp8(executor, record, fmt):
    K = 64
    g = rng(10)
    (a, af), (b, bf) = (_fp8e5(g, (M, K)), _fp8e5(g, (K, N))) if fmt == "fp8e5" else \
        (_fp8e4nv(g, (M, K)), _fp8e4nv(g, (K, N)))
    c = np.zeros((M, N), np.float32)
    executor.run(_uses_dot(dot_kernel, {"a_ptr": f"*{fmt}", "b_ptr": f"*{fmt}", "c_ptr": "*fp32", "M": "i32",
                                        "N": "i32", "K": "i32"}, {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32,
                                                                  "PRECISION": "ieee"}),
                 (M // 32, N // 32), [a, b, c, M, N, K])
    _check_mm(record, f"matmul {fmt} -> fp32", c, af, bf, 0)


# --- attention ----------------------------------------------------------------------------------------------


def test_attention_forward(executor, record):
    # examples' flash-attention forward (fp16 Q, K, V; fp32 scores and online softmax; P cast to fp16 before
    # P @ V, as FlashAttention does): P's fp16 rounding moves the output by at most u16 * max|V| (the weights sum
    # to one), the fp16 store by u16 * |O|, the fp32 softmax and dots by far less (+ 64 u32 * max|V|).
    seq, head = 128, 64
    g = rng(11)
    q, k, v = (g.standard_normal((seq, head)).astype(np.float16) for _ in range(3))
    out = np.zeros((seq, head), np.float16)
    sm_scale = head**-0.5
    executor.run(_uses_dot(examples.attention_kernel, examples.SPECS["attention"].signature,
                           {"BLOCK_M": 32, "BLOCK_N": 32, "HEAD_DIM": head}, (("num_warps", 4), )),
                 (seq // 32, ), [q, k, v, out, seq, sm_scale, head])
    qf, kf, vf = (t.astype(np.float64) for t in (q, k, v))
    s = qf @ kf.T * sm_scale
    p = np.exp(s - s.max(1, keepdims=True))
    ref = p @ vf / p.sum(1, keepdims=True)
    vmax = np.abs(vf).max()
    err, ratio = within(out, ref, U16 * vmax + U16 * np.abs(ref) + 64 * U32 * vmax)
    record(ratio, 1, "attention fp16 (error / bound)", err)


# --- sort, atomics ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [128, 256])
def test_sort(executor, record, n):
    x = rng(12).standard_normal(n).astype(np.float32)
    out = np.zeros_like(x)
    executor.run(Kernel(examples.sort_kernel, {"x_ptr": "*fp32", "out_ptr": "*fp32"}, {"N": n}), (1, ), [x, out])
    record(max_err(out, np.sort(x)), 0, "sort (exact)")


def test_atomics_histogram(executor, record):
    # examples' atomic histogram: integer atomic_add from every work item (contended bins) and atomic_max.
    n, bins = 4096, 256
    # Values 1..63 (heavy contention on 63 of 256 bins); bin 0 receives only the atomic_max of each block.
    x = rng(13).integers(1, 64, n).astype(np.int32)
    hist = np.zeros(bins, np.int32)
    executor.run(Kernel(examples.atomic_histogram_kernel, examples.SPECS["atomics"].signature, {"BLOCK": 256}),
                 (n // 256, ), [x, hist, n])
    ref = np.bincount(x, minlength=bins)
    ref[0] = x.max()
    record(max_err(hist, ref), 0, "atomic_add/max int32 histogram (exact)")


def test_atomics_float_sum(executor, record):
    # Block sums added atomically into one fp32: the order is any, so within gamma_n * sum|x|.
    n = 8192
    x = rng(14).standard_normal(n).astype(np.float32)
    out = np.zeros(1, np.float32)
    executor.run(Kernel(atomic_sum_kernel, {"x_ptr": "*fp32", "out_ptr": "*fp32", "n": "i32"}, {"BLOCK": 512}),
                 (n // 512, ), [x, out, n])
    xf = x.astype(np.float64)
    err, ratio = within(out, xf.sum(), gamma(n) * np.abs(xf).sum())
    record(ratio, 1, "atomic_add fp32 sum (error / bound)", err)

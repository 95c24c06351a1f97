"""The kernels of the lit tests, compiled by their RUN lines with
`%triton-xpu compile %S/../Inputs/kernels.py --kernel NAME --signature ...` (which executes this file).

add_kernel and layernorm_kernel are the examples' own (examples/kernels.py: the README's main command and the
benchmarks compile them), imported rather than copied so that the tests check the kernels that ship.  The
others each exist for one behaviour the examples do not show.
"""

import importlib.util
import sys
from pathlib import Path

import triton
import triton.language as tl


def _load_examples():
    # By path and under a name of its own: `import kernels` would find this file first (its folder leads sys.path).
    path = Path(__file__).resolve().parents[2] / "examples" / "kernels.py"
    spec = importlib.util.spec_from_file_location("triton_xpu_examples_kernels", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_examples = _load_examples()
# Signature "*fp32,*fp32,*fp32,i32,BLOCK".  Pointwise: it never spills.
add_kernel = _examples.add_kernel
# Signature "*fp32,*fp32,*fp32,*fp32,i32,i32,fp32,BLOCK".  A row of 8192 floats over 8 warps spills on pvc at
# 128 GRF (IGC 1 and 2).
layernorm_kernel = _examples.layernorm_kernel


@triton.jit
def dot_kernel(a_ptr, b_ptr, c_ptr, N: tl.constexpr):
    # Signature "*bf16,*bf16,*bf16,N".  tl.dot runs on DPAS on pvc; the bf16 result needs a float -> bf16
    # conversion.  N=16 compiles in seconds; 64 spills heavily outside pvc and takes a minute.
    offs = tl.arange(0, N)
    a = tl.load(a_ptr + offs[:, None] * N + offs[None, :])
    b = tl.load(b_ptr + offs[:, None] * N + offs[None, :])
    tl.store(c_ptr + offs[:, None] * N + offs[None, :], tl.dot(a, b).to(tl.bfloat16))


@triton.jit
def row_sum_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    # A reduction across the sub-groups of a work-group: shared local memory and a barrier.
    row = tl.program_id(0)
    tl.store(out_ptr + row, tl.sum(tl.load(x_ptr + row * BLOCK + tl.arange(0, BLOCK)), axis=0))


@triton.jit
def scalars_kernel(out_ptr, flag, i8, u16, i64, h, bf, f, d, BLOCK: tl.constexpr):
    # One scalar argument of each kind the C launcher passes.
    total = (flag.to(tl.float32) + i8.to(tl.float32) + u16.to(tl.float32) + i64.to(tl.float32) + h.to(tl.float32) +
             bf.to(tl.float32) + f + d.to(tl.float32))
    tl.store(out_ptr + tl.arange(0, BLOCK), tl.zeros((BLOCK, ), tl.float32) + total)

"""Kernels for the ahead-of-time tests (compiled by `triton-xpu compile`, which executes this file)."""

import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) + tl.load(y_ptr + offsets, mask=mask), mask=mask)


@triton.jit
def dot_kernel(a_ptr, b_ptr, c_ptr, BLOCK: tl.constexpr):
    # On pvc Triton picks sub-groups of 16 for DPAS; on acm-g10 32 and some shared memory: a fat binary whose
    # targets launch differently.
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs[:, None] * BLOCK + offs[None, :])
    b = tl.load(b_ptr + offs[:, None] * BLOCK + offs[None, :])
    tl.store(c_ptr + offs[:, None] * BLOCK + offs[None, :], tl.dot(a, b))


@triton.jit
def scalars_kernel(out_ptr, flag, i8, i16, u32, i64, h, bf, f, d, BLOCK: tl.constexpr):
    # One scalar of each kind the C launcher passes.
    offs = tl.arange(0, BLOCK)
    total = (flag.to(tl.float32) + i8.to(tl.float32) + i16.to(tl.float32) + u32.to(tl.float32) + i64.to(tl.float32) +
             h.to(tl.float32) + bf.to(tl.float32) + f + d.to(tl.float32))
    tl.store(out_ptr + offs, tl.zeros((BLOCK, ), tl.float32) + total)


def not_a_kernel():
    pass

"""Each kind of kernel the project targets, launched as users launch it -- ``kernel[grid](...)``, with Triton 3.3's
real specialisation -- through the project's driver and launcher (on a real Intel GPU its native binary, else the
SYCL launcher on Intel's CPU device: numeric_executors.py), and compared with a NumPy reference in float64 at a
stated tolerance.  docs/numeric.md lists the kinds, the tolerances and why, and the errors measured.

Every call passes distinct scalars (M != N != K, strides unlike sizes) and rows padded beyond their length (strides
not equal to the row length), with sentinels in the padding that a wrong stride or a wrong mask would read or
overwrite; so no swap of two arguments can hide.  Every tolerance is shown to be tight in the same run: the
test's own reference, with a bug planted in it (a 0.1 % scale error, a dropped row, a wrong variance divisor),
must fail the same bound (:func:`check`).

Notation for the tolerances: u32 = 2^-24 (fp32 unit roundoff), u16 = 2^-11 (fp16), ubf = 2^-8 (bf16).  A sum of n
fp32 terms in any order is within gamma_n = n*u32 / (1 - n*u32) of the exact sum of absolute values (Higham, 3.1),
which bounds every reduction, dot product and accumulation below whatever order a backend uses.
"""

import numpy as np
import pytest

import triton
import triton.language as tl
from triton.language.extra import libdevice

import kernels as examples  # examples/kernels.py: the project's representative kernels
from numeric_executors import Typed

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


def check(record, what, out, ref, bound, scale=1e-3):
    """Records max(|out - ref| / bound) <= 1, and shows the bound is tight: the same output against the reference
    with a planted bug -- scaled by (1 + scale), or its last row (element) dropped to zero -- must exceed it.
    ``scale`` is 0.1 % unless the output's own type cannot resolve it (bf16: unit roundoff 0.39 %)."""
    err, ratio = within(out, ref, bound)
    record(ratio, 1, f"{what} (error / bound)", err)
    scaled = within(out, ref * (1 + scale), bound)[1]
    dropped = np.array(ref, np.float64, copy=True)
    dropped[-1] = 0
    assert scaled > 1, f"{what}: a {scale:.1%} scale error in the reference passes the bound ({scaled:.3g})"
    assert within(out, dropped, bound)[1] > 1, f"{what}: a dropped last row passes the bound"


def padded(rng_, rows, cols, stride, dtype, sentinel):
    """A (rows, stride) array whose first ``cols`` columns are data and the rest ``sentinel``: a kernel given
    ``stride`` must neither read the padding into a result nor write it."""
    full = np.full((rows, stride), sentinel, dtype)
    full[:, :cols] = rng_(rows, cols).astype(dtype)
    return full


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


# --- pointwise ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5000, 4096])
def test_pointwise_add_fp32(executor, record, n):
    # One IEEE fp32 addition per element, as NumPy does: exact.  5000 is no multiple of BLOCK (masked tail) nor
    # of 16; 4096 is, and Triton specialises it as divisible by 16, a variant of its own.
    g = rng(1)
    x, y = g.standard_normal(n).astype(np.float32), g.standard_normal(n).astype(np.float32)
    out = np.full(n + 16, -7, np.float32)  # past n: must stay untouched
    info = executor.run(examples.add_kernel, (triton.cdiv(n, 1024), ), [x, y, out, n], BLOCK=1024)
    assert info.fast_launch  # the checked launch is the native dispatcher's (a repeated call)
    assert ("n_elements" in info.divisible_by_16()) == (n % 16 == 0)
    assert {"x_ptr", "y_ptr", "out_ptr"} <= set(info.divisible_by_16())
    record(max_err(out[:n], x + y), 0, f"add fp32 n={n} (exact)")
    assert np.all(out[n:] == -7)


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
        u, args = U16, [x, y, n]
    else:  # bf16 as its 16-bit patterns (NumPy has no bfloat16): the top half of the fp32 value
        x = (x32.view(np.uint32) >> 16).astype(np.uint16)
        xf = (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        y = np.zeros(n, np.uint16)
        u, args = UBF, [Typed(x, "bfloat16"), Typed(y, "bfloat16"), n]
    info = executor.run(silu_kernel, (triton.cdiv(n, 512), ), args, BLOCK=512)
    assert info.signature["x_ptr"] == f"*{dtype}"
    out = y.astype(np.float64) if dtype == "fp16" else (y.astype(np.uint32) << 16).view(np.float32)
    ref = xf / (1 + np.exp(-xf))
    check(record, f"silu {dtype}", out, ref, u * np.abs(ref) + 16 * U32 * np.abs(ref) + 2.0**-25,
          scale=1e-3 if dtype == "fp16" else 1e-2)


@triton.jit
def gelu_libdevice_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    # erf from the backend's libdevice (linked into every module that calls it)
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, 0.5 * x * (1 + libdevice.erf(x * 0.7071067811865476)), mask=mask)


def test_pointwise_gelu_libdevice(executor, record):
    # An fp32 libdevice call (erf, a few ulp), the multiplies and the add: 16 u32 relative, plus an absolute term
    # for erf's error near its zero (|x| small).
    n = 4000
    x = (rng(15).standard_normal(n) * 2).astype(np.float32)
    y = np.zeros(n, np.float32)
    executor.run(gelu_libdevice_kernel, (triton.cdiv(n, 1024), ), [x, y, n], BLOCK=1024)
    from math import erf
    xf = x.astype(np.float64)
    ref = 0.5 * xf * (1 + np.vectorize(erf)(xf / np.sqrt(2)))
    check(record, "gelu (libdevice erf) fp32", y, ref, 16 * U32 * (np.abs(ref) + np.abs(xf)) + 2.0**-40)


def test_grid_3d_covers_exactly_its_programs(executor, record):
    # examples' 3-D grid kernel: each program writes its own block, numbered z, y, x from tl.num_programs, so a
    # grid with one program too many or too few in any dimension shows -- in the values and past the end.
    grid, block = (3, 5, 7), 128
    size = grid[0] * grid[1] * grid[2] * block
    out = np.full(size + 4 * block, -1, np.float32)
    executor.run(examples.grid3d_kernel, grid, [out], BLOCK=block)
    record(max_err(out[:size], np.arange(size)), 0, "3-D grid: every program's block (exact)")
    assert np.all(out[size:] == -1), "programs beyond the grid wrote"


# --- reductions ---------------------------------------------------------------------------------------------

# Sums of positive values: the rigorous bound gamma_n * sum|x| is then gamma_n relative to the result itself, so a
# 0.1 % error shows (with signed values sum|x| can dwarf |sum x|).


@pytest.mark.parametrize("num_warps", [1, 4])
def test_reduction_row_sum_and_max(executor, record, num_warps):
    # Sum of n fp32 values in any order: within gamma_n * sum|x|; max exact.  With 4 warps the reduction crosses
    # sub-groups through shared local memory (the launcher's trailing local-memory argument).
    rows, cols, stride = 16, 700, 720
    x = padded(lambda r, c: rng(3).uniform(0.5, 1.5, (r, c)), rows, cols, stride, np.float32, 1e30)
    s, m = np.zeros(rows, np.float32), np.zeros(rows, np.float32)
    info = executor.run(row_sum_max_kernel, (rows, ), [x, s, m, stride, cols], BLOCK=1024, num_warps=num_warps)
    if num_warps > 1:
        assert info.shared > 0  # the launcher's local-memory argument is exercised
    xf = x[:, :cols].astype(np.float64)
    check(record, "row sum", s, xf.sum(1), gamma(cols) * np.abs(xf).sum(1))
    record(max_err(m, xf.max(1)), 0, "row max (exact)")


def test_reduction_columns(executor, record):
    rows, cols = 300, 96
    x = rng(4).uniform(0.5, 1.5, (rows, cols)).astype(np.float32)
    out = np.zeros(cols, np.float32)
    executor.run(col_sum_kernel, (triton.cdiv(cols, 32), ), [x, out, rows, cols], BLOCK_R=64, BLOCK_C=32)
    xf = x.astype(np.float64)
    check(record, "column sum", out, xf.sum(0), gamma(rows) * np.abs(xf).sum(0))


# --- softmax, layer norm ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threads_per_warp", [32, 16])
def test_softmax(executor, record, threads_per_warp):
    # exp and one division per element in fp32 (a few u32 each) and a sum of n terms (gamma_n): relative bound
    # (gamma_n + 8 u32) on each probability.  Input rows 1008 apart, output rows 1024: two strides, one length.
    # 16-wide sub-groups too: the launcher's work-group is num_warps x the kernel's own sub-group size.
    rows, cols, in_stride, out_stride = 32, 1000, 1008, 1024
    x = padded(lambda r, c: rng(5).standard_normal((r, c)) * 3, rows, cols, in_stride, np.float32, 50.0)
    out = np.full((rows, out_stride), -1, np.float32)
    info = executor.run(examples.softmax_kernel, (rows, ), [out, x, in_stride, out_stride, cols], BLOCK=1024,
                        threads_per_warp=threads_per_warp)
    assert info.shared > 0 and info.threads_per_warp == threads_per_warp
    xf = x[:, :cols].astype(np.float64)
    ref = np.exp(xf - xf.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    check(record, f"softmax, {threads_per_warp}-wide", out[:, :cols], ref, (gamma(cols) + 8 * U32) * ref + 1e-30)
    assert np.all(out[:, cols:] == -1)


def layernorm_bound(x, w, b, ref, u_out):
    """The layer norm's error bound, elementwise: the store's rounding (u_out |y|); the mean's error (gamma_n of
    mean|x|) and the variance's (gamma_n relative, halved by the square root, a few u32 for sqrt and division),
    carried through rstd * w; a few u32 for the final multiply-add."""
    n = x.shape[1]
    mean = x.mean(1, keepdims=True)
    rstd = 1 / np.sqrt(((x - mean)**2).mean(1, keepdims=True) + 1e-5)
    xhat = np.abs((x - mean) * rstd)
    return (u_out * np.abs(ref) + np.abs(w) * (gamma(n) * np.abs(x).mean(1, keepdims=True) * rstd +
                                               (gamma(n) + 8 * U32) * xhat) + 8 * U32 * (np.abs(ref) + np.abs(b)) +
            2.0**-24)


@pytest.mark.parametrize("dtype", ["fp16", "fp32"])
def test_layernorm(executor, record, dtype):
    # fp16 or fp32 input and output (rows 320 apart, 300 long), fp32 weights and statistics.
    rows, cols, stride = 16, 300, 320
    g = rng(6)
    np_type = np.float16 if dtype == "fp16" else np.float32
    x = padded(lambda r, c: g.standard_normal((r, c)) * 2 + 0.5, rows, cols, stride, np_type, 1e4)
    w, b = g.standard_normal(cols).astype(np.float32), g.standard_normal(cols).astype(np.float32)
    y = np.full((rows, stride), 3, np_type)
    executor.run(examples.layernorm_kernel, (rows, ), [x, y, w, b, stride, cols, 1e-5], BLOCK=512)
    xf = x[:, :cols].astype(np.float64)

    def reference(divisor):
        mean = xf.mean(1, keepdims=True)
        return (xf - mean) / np.sqrt(((xf - mean)**2).sum(1, keepdims=True) / divisor + 1e-5) * w + b

    ref = reference(cols)
    bound = layernorm_bound(xf, w, b, ref, U16 if dtype == "fp16" else 0)
    check(record, f"layernorm {dtype}", y[:, :cols], ref, bound)
    assert within(y[:, :cols], reference(cols - 1), bound)[1] > 1, "an n-1 variance passes the bound"
    assert np.all(y[:, cols:] == 3)


# --- matmuls ------------------------------------------------------------------------------------------------

# Every matmul is checked elementwise against
#   |C - A@B| <= gamma_K * (|A| @ |B|)        fp32 accumulation in any order (products of fp16/bf16/fp8 are
#                                             exact in fp32, so this is the only error before the store)
#              + u_in * 2 * (|A| @ |B|)       tf32 only: each input rounded to 10 mantissa bits on DPAS
#              + u_out * |A@B|                the store's rounding to C's type (fp16: u16, bf16: ubf, fp32: 0)
# and the table reports max(error / bound), which must be <= 1.  M, N, K and every stride differ; the operands'
# padding holds NaN, which any read of it would spread into C.


def _check_mm(record, what, c, a, b, u_out, u_in=0.0, scale=1e-3):
    ref = a @ b
    k = a.shape[1]
    bound = (gamma(k) + 2 * u_in) * (np.abs(a) @ np.abs(b)) + u_out * np.abs(ref) + 2.0**-25
    check(record, what, c, ref, bound, scale)


def _fp16(g, shape):
    return g.standard_normal(shape).astype(np.float16)


def _bf16(g, shape):
    bits = (g.standard_normal(shape).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return bits, (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def _pad(a, stride, fill):
    """``a`` (rows x cols) stored with rows ``stride`` elements apart, ``fill`` between them."""
    out = np.full((a.shape[0], stride), fill, a.dtype)
    out[:, :a.shape[1]] = a
    return out


@pytest.mark.parametrize("out", ["fp16", "fp32"])
def test_matmul_fp16(executor, record, out):
    # A column-major (stride_am = 1, specialised away; stride_ak = 112), B and C row-major with padded rows.
    M, N, K = 96, 64, 80  # K: 3 iterations of BLOCK_K, the last masked
    lda, ldb, ldc = 112, 72, 88
    g = rng(7)
    a, b = _fp16(g, (M, K)), _fp16(g, (K, N))
    a_store = _pad(np.ascontiguousarray(a.T), lda, np.nan)  # K rows of M
    c = np.full((M, ldc), -2, np.float16 if out == "fp16" else np.float32)
    info = executor.run(examples.matmul_kernel, (M // 32, N // 32),
                        [a_store, _pad(b, ldb, np.nan), c, M, N, K, 1, lda, ldb, 1, ldc, 1], uses_dot=True,
                        BLOCK_M=32, BLOCK_N=32, BLOCK_K=32)
    assert info.signature["stride_am"] == "constexpr" and info.signature["stride_ak"] == "i32"
    assert info.fast_launch
    _check_mm(record, f"matmul fp16 -> {out}", c[:, :N], a.astype(np.float64), b.astype(np.float64),
              U16 if out == "fp16" else 0)
    assert np.all(c[:, N:] == -2)


@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_matmul_block_pointers(executor, record, dtype):
    # examples' block-pointer matmul (2D block IO on pvc/bmg); M, N, K not multiples of the blocks: the
    # boundary checks zero-fill the edges and keep the store inside C (its padding holds a sentinel).
    m, n, k = 72, 80, 88
    lda, ldb, ldc = 112, 96, 120
    g = rng(8)
    if dtype == "fp16":
        a, b = _fp16(g, (m, k)), _fp16(g, (k, n))
        af, bf = a.astype(np.float64), b.astype(np.float64)
        c = np.full((m, ldc), 5, np.float16)
        wrap = lambda arr: arr  # noqa: E731
    else:
        (a, af), (b, bf) = _bf16(g, (m, k)), _bf16(g, (k, n))
        c = np.full((m, ldc), 0x40a0, np.uint16)  # bf16 5.0
        wrap = lambda arr: Typed(arr, "bfloat16")  # noqa: E731
    nan = 0x7fc0 if dtype == "bf16" else np.nan
    executor.run(examples.block_ptr_matmul_kernel, (triton.cdiv(m, 32), triton.cdiv(n, 32)),
                 [wrap(_pad(a, lda, nan)), wrap(_pad(b, ldb, nan)), wrap(c), m, n, k, lda, 1, ldb, 1, ldc, 1],
                 uses_dot=True, num_warps=4, BLOCK_M=32, BLOCK_N=32, BLOCK_K=32)
    cf = c.astype(np.float64) if dtype == "fp16" else (c.astype(np.uint32) << 16).view(np.float32)
    _check_mm(record, f"block-ptr matmul {dtype}", cf[:, :n], af, bf, U16 if dtype == "fp16" else UBF,
              scale=1e-3 if dtype == "fp16" else 1e-2)
    assert np.all(cf[:, n:] == 5)


def test_matmul_tf32(executor, record):
    M, N, K = 64, 96, 128
    g = rng(9)
    a, b = g.standard_normal((M, K)).astype(np.float32), g.standard_normal((K, N)).astype(np.float32)
    c = np.zeros((M, N), np.float32)
    launch = lambda: executor.run(dot_kernel, (M // 32, N // 32), [a, b, c, M, N, K], uses_dot=True,  # noqa: E731
                                  BLOCK_M=32, BLOCK_N=32, BLOCK_K=16, PRECISION="tf32")
    if executor.name == "cpu":
        # Measured: tf32 exists only as a DPAS instruction.  For the CPU's target (tgllp, no DPAS) the backend
        # refuses input_precision="tf32" (its allowed precisions there are ('ieee',)); for pvc the dot becomes
        # intel_sub_group_tf32_tf32_matrix_mad_k8, which the CPU runtime does not have
        # (test_gpu_only.py::test_dpas_and_block_io_do_not_build_on_the_cpu).
        with pytest.raises(RuntimeError, match=r"input_precision must be one of \('ieee',\)"):
            launch()
        pytest.xfail("GPU-only: tf32 dots exist only as DPAS (pvc, bmg, lnl, ptl); the backend refuses tf32 for a "
                     "target without it, and the CPU runtime has no DPAS builtins")
    launch()
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
    M, N, K = 64, 96, 128
    g = rng(10)
    (a, af), (b, bf) = (_fp8e5(g, (M, K)), _fp8e5(g, (K, N))) if fmt == "fp8e5" else \
        (_fp8e4nv(g, (M, K)), _fp8e4nv(g, (K, N)))
    c = np.zeros((M, N), np.float32)
    info = executor.run(dot_kernel, (M // 32, N // 32), [Typed(a, fmt), Typed(b, fmt), c, M, N, K], uses_dot=True,
                        BLOCK_M=32, BLOCK_N=32, BLOCK_K=32, PRECISION="ieee")
    assert info.signature["a_ptr"] == f"*{fmt}"
    _check_mm(record, f"matmul {fmt} -> fp32", c, af, bf, 0)


# --- attention ----------------------------------------------------------------------------------------------


def test_attention_forward(executor, record):
    # examples' flash-attention forward (fp16 Q, K, V; fp32 scores and online softmax; P cast to fp16 before
    # P @ V, as FlashAttention does): P's fp16 rounding moves each output by at most u16 * (P @ |V|) / sum P (the
    # weights' own rounding), the fp16 store by u16 * |O|, the fp32 softmax and dots by far less (+ 64 u32 of
    # the same).  Rows of Q, K, V and O 80 apart (head 64), NaN between.  The fp16 store and P's rounding leave
    # a 1 % error as the smallest that must show.
    seq, head, stride = 128, 64, 80
    g = rng(11)
    q, k, v = (g.standard_normal((seq, head)).astype(np.float16) for _ in range(3))
    out = np.full((seq, stride), 9, np.float16)
    sm_scale = head**-0.5
    executor.run(examples.attention_kernel, (seq // 32, ), [_pad(q, stride, np.nan), _pad(k, stride, np.nan),
                                                            _pad(v, stride, np.nan), out, seq, sm_scale, stride],
                 uses_dot=True, num_warps=4, BLOCK_M=32, BLOCK_N=32, HEAD_DIM=head)
    qf, kf, vf = (t.astype(np.float64) for t in (q, k, v))
    s = qf @ kf.T * sm_scale
    p = np.exp(s - s.max(1, keepdims=True))
    ref = p @ vf / p.sum(1, keepdims=True)
    weighted = p @ np.abs(vf) / p.sum(1, keepdims=True)
    check(record, "attention fp16", out[:, :head], ref, (U16 + 64 * U32) * weighted + U16 * np.abs(ref) + 2.0**-24,
          scale=1e-2)
    assert np.all(out[:, head:] == 9)


# --- sort, atomics ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [128, 256])
def test_sort(executor, record, n):
    x = rng(12).standard_normal(n).astype(np.float32)
    out = np.zeros_like(x)
    executor.run(examples.sort_kernel, (1, ), [x, out], N=n)
    record(max_err(out, np.sort(x)), 0, "sort (exact)")


def test_atomics_histogram(executor, record):
    # examples' histogram: integer atomic_add from every work item (contended bins) and atomic_max.  n is not a
    # multiple of BLOCK: the masked tail must not count.
    n, bins = 4000, 256
    # Values 1..63 (heavy contention on 63 of 256 bins); bin 0 receives only the atomic_max of each block.
    x = rng(13).integers(1, 64, n).astype(np.int32)
    hist = np.zeros(bins, np.int32)
    executor.run(examples.atomic_histogram_kernel, (triton.cdiv(n, 256), ), [x, hist, n], BLOCK=256)
    ref = np.bincount(x, minlength=bins)
    ref[0] = x.max()
    record(max_err(hist, ref), 0, "atomic_add/max int32 histogram (exact)")


def test_atomics_float_sum(executor, record):
    # Block sums of positive values added atomically into one fp32: the order is any, so within gamma_n * sum x.
    n = 8000
    x = rng(14).uniform(0.5, 1.5, n).astype(np.float32)
    out = np.zeros(1, np.float32)
    executor.run(atomic_sum_kernel, (triton.cdiv(n, 512), ), [x, out, n], BLOCK=512)
    xf = x.astype(np.float64)
    err, ratio = within(out, xf.sum(), gamma(n) * np.abs(xf).sum())
    record(ratio, 1, "atomic_add fp32 sum (error / bound)", err)
    assert within(out, xf[:-512].sum(), gamma(n) * np.abs(xf).sum())[1] > 1, "a dropped block passes the bound"
    assert within(out, xf.sum() * 1.001, gamma(n) * np.abs(xf).sum())[1] > 1, "a 0.1 % error passes the bound"

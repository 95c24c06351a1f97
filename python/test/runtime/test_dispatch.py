"""Dispatch verification of the driver's launches (its Level Zero launcher and a SYCL queue): what was actually
dispatched, as NEO and the Level Zero loader's tracing layer report it, checked against the kernel's metadata and
its ``.ze_info``, and every argument's value against what the caller passed.

A child process on the emulated pvc (NEO in AUB-capture mode: every driver call runs, kernels do not execute)
launches seven kernels through Triton and the driver -- a pointwise add, a softmax (a reduction using shared
memory), a DPAS matmul the GRF policy compiles at 256 GRF, a kernel on a 3-D grid, a 16-wide (threads_per_warp=16)
add, and a kernel of 33 mixed arguments (8 pointers, 25 scalars, a 3-D grid, shared memory) twice: through
``kernel[grid](...)`` (the JIT's types: int -> i32/i64/u64 by range, bool -> i1, float -> fp32, integer
annotations) and compiled with a signature of every scalar type and a None pointer (the JIT makes None a constexpr
and has no fp16/bf16/fp64 scalars) -- with NEO's ``PrintKernelDispatchParameters`` and the Level Zero loader's
tracing layer on (see dispatch_report.py for both formats).  For each launch the tests check:

* work-groups: NEO's ``threadGroupDimensions`` is the grid and ``threadGroupCount`` its product, and the
  tracer's ``zeCommandListAppendLaunchKernel`` has the grid;
* SIMD: NEO's ``simdSize`` is ``.ze_info``'s ``simd_size`` and the metadata's ``threads_per_warp``;
* hardware threads per group: ``numberOfThreadsInGpgpuThreadGroup`` is ``num_warps`` (a group of num_warps x
  threads_per_warp work-items at SIMD threads_per_warp).  NEO does not print the work-group size itself;
* GRF: NEO's ``grfCount`` is ``.ze_info``'s ``grf_count`` and the metadata's ``grf_mode``;
* arguments: the tracer's ``zeKernelSetArgumentValue`` calls for the kernel set indices 0..n-1 once each, n the
  kernel's explicit arguments in ``.ze_info``, each with its type's size (which fits its ``.ze_info`` slot) and
  value: a pointer the caller's buffer (None: null), a scalar its type's bit pattern computed with NumPy (fp16,
  bf16, fp32 rounded to nearest even, from values a truncation or a rounding through fp32 would get wrong).
  Triton's shared-memory argument (a local-address-space pointer) comes last with ``metadata.shared`` bytes and
  no value.  NEO itself prints buffer arguments only (``PrintL0SetKernelArg``).  Every value of the mixed-argument
  launches is distinct, so any two arguments swapped show.

Each launch runs on both of the driver's paths: its own Level Zero launcher, and a caller's SYCL queue (dpctl,
in-order, the way PyTorch hands Triton its stream: the driver's module in the queue's context, a SYCL kernel,
``parallel_for``); on the SYCL path the arguments checked are those of the driver's kernel in the queue's context,
which SYCL's Level Zero adapter sets.  A SYCL application's own loader (not the driver) is checked by
test_sycl_interop.py.

Measured on both toolchains: NEO 26.27's release build (`current`) prints the dispatch report; NEO 22.43's
(`legacy`) prints nothing for ``PrintKernelDispatchParameters`` (nor ``PrintL0SetKernelArg``), while loader 1.8's
tracing layer reports every argument and launch there too.  So on a toolchain other than `current` the
dispatch-report test is skipped when NEO printed no report (said in the skip reason), and the tracer's tests still
run; on `current` a missing report fails.
"""

import json
import os
import struct

import numpy as np
import pytest
from triton.backends.intel import driver as xpu_driver

from dispatch_report import DISPATCH_ENV, TRACER_PRELUDE, parse_dispatches
from test_driver import run

TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")

CHILD = TRACER_PRELUDE + """
import inspect
from triton.backends.intel.binary import zebin as zb
level_zero.runtime()
install_tracer()

import contextlib, os
if os.environ.get("DISPATCH_TEST_PATH") == "sycl":
    import dpctl, dpctl.memory as dpm
    from triton.backends.intel.runtime import sycl
    queue = dpctl.SyclQueue("level_zero:gpu", property="in_order")

    class USM:
        # dpctl USM memory seen as a tensor: data_ptr() and a dtype, what Triton's JIT binds pointers from.
        def __init__(self, memory, dtype):
            self.memory, self.dtype = memory, dtype
        def data_ptr(self):
            return self.memory._pointer

    def mem(nbytes, dtype="float32"):
        return USM(dpm.MemoryUSMDevice(nbytes, queue=queue), dtype)
    on_path = lambda: driver.active.stream(queue)

    def launched_kernel(k):
        # The driver's copy of the kernel in the queue's Level Zero context is the one SYCL launches.
        (kernel, ), = [[entry[1]] for key, entry in sycl._kernels.items() if key[0] == k.function]
        return kernel
else:
    def mem(nbytes, dtype="float32"):
        return driver.active.alloc(nbytes, kind="device", dtype=dtype)
    on_path = contextlib.nullcontext
    launched_kernel = lambda k: k.function


@triton.jit
def mixed_args_kernel(out_ptr, x_ptr, y_ptr, z_ptr, w_ptr, b_ptr, idx_ptr, opt_ptr, n, stride, offset, count, rows,
                      cols, big, neg_big, huge, use_opt, negate, scale, shift, alpha, beta, eps, gamma, delta, theta,
                      i8v: tl.int8, u8v: tl.uint8, i16v: tl.int16, u16v: tl.uint16, u32v: tl.uint32, k64: tl.int64,
                      BLOCK: tl.constexpr):
    # 33 runtime arguments, every one used (so none can be dropped from the kernel's), a shared-memory reduction
    # over num_warps warps, and a 3-D grid.
    pid = tl.program_id(0) + tl.num_programs(0) * (tl.program_id(1) + tl.num_programs(1) * tl.program_id(2))
    offs = tl.arange(0, BLOCK)
    v = (tl.load(x_ptr + offs) + tl.load(y_ptr + offs).to(tl.float32) + tl.load(z_ptr + offs).to(tl.float32) +
         tl.load(w_ptr + offs).to(tl.float32) + tl.load(b_ptr + offs).to(tl.float32) +
         tl.load(idx_ptr + offs).to(tl.float32))
    if use_opt:
        v += tl.load(opt_ptr + offs)
    ints = (n.to(tl.float32) + stride.to(tl.float32) + offset.to(tl.float32) + count.to(tl.float32) +
            rows.to(tl.float32) + cols.to(tl.float32) + big.to(tl.float32) + neg_big.to(tl.float32) +
            huge.to(tl.float32) + i8v.to(tl.float32) + u8v.to(tl.float32) + i16v.to(tl.float32) +
            u16v.to(tl.float32) + u32v.to(tl.float32) + k64.to(tl.float32))
    floats = (alpha.to(tl.float32) + beta.to(tl.float32) + eps.to(tl.float32) + gamma.to(tl.float32) +
              delta.to(tl.float32) + theta.to(tl.float32))
    total = tl.sum(v * scale.to(tl.float32) + shift.to(tl.float32), axis=0) + ints + floats
    tl.store(out_ptr + pid, tl.where(negate, -total, total))


BLOCK = 1024


def mixed_buffers(opt=True):
    # One buffer per pointer argument, each its own allocation: no two pointers share an address.
    dtypes = ["float32", "float32", "float16", "bfloat16", "float64", "int32", "int64", "float32"]
    return [mem(8 * BLOCK, dt) for dt in dtypes[:7]] + [mem(8 * BLOCK, dtypes[7]) if opt else None]


# Through the JIT the types come from the values (int -> i32/i64/u64 by range, bool -> i1, float -> fp32) or
# from the annotation (i8v ... k64).  Every value distinct, every float one that fp32 must round.
JIT_SCALARS = [7, -3, 196613, 2**31 - 1, -2**31, 1000003, 2**40 + 3, -2**40 - 7, 2**63 + 5, True, False,
               0.1, -2.7, 1 / 3, 1e-40, 16777217.0, 0.3, -1e-6, 1e10 + 1, -100, 200, -30000, 60000, 4000000000, -9]
# Through triton.compile with an explicit signature: every scalar type the launcher converts, and a null pointer.
EVERY_TYPE_SIGNATURE = dict(
    {name: "*" + ty for name, ty in zip(["out_ptr", "x_ptr", "y_ptr", "z_ptr", "w_ptr", "b_ptr", "idx_ptr", "opt_ptr"],
                                        ["fp32", "fp32", "fp16", "bf16", "fp64", "i32", "i64", "fp32"])},
    n="i32", stride="u32", offset="i16", count="u16", rows="i8", cols="u8", big="i64", neg_big="i64", huge="u64",
    use_opt="i1", negate="u1", scale="fp16", shift="fp16", alpha="fp16", beta="bf16", eps="bf16", gamma="fp32",
    delta="fp32", theta="fp64", i8v="i8", u8v="u8", i16v="i16", u16v="u16", u32v="u32", k64="i64")
EVERY_TYPE_SCALARS = [-7, 3000000000, -1234, 54321, -128, 255, -2**62 - 11, 2**41 + 13, 2**64 - 17, False, True,
                      0.3, 1 + 2**-11 + 2**-40, -1e-6, 0.1, 3.0234375, 0.1, 16777217.0, 1 / 3, 99, 7, 12345, 40000,
                      123456789, -2**50]
every_type = triton.compile(kernels.ast_source(mixed_args_kernel, EVERY_TYPE_SIGNATURE, {"BLOCK": BLOCK}),
                            target=driver.active.get_current_target())

N = 1 << 16
x, y, out = mem(4 * N), mem(4 * N), mem(4 * N)
a, b, c = (mem(2 * 256 * 256, "float16") for _ in range(3))
mm = kernels.SPECS["matmul"].constexprs
# case: (grid, kernel, arguments, constexprs and options)
launches = {
    "pointwise": ((64, 1, 1), kernels.add_kernel, (x, y, out, N), dict(BLOCK=1024)),
    "reduction_shared": ((8, 1, 1), kernels.softmax_kernel, (out, x, 1024, 1024, 1000), dict(BLOCK=1024)),
    "dpas_matmul_256": ((4, 4, 1), kernels.matmul_kernel, (a, b, c, 256, 256, 256, 256, 1, 256, 1, 256, 1), mm),
    "grid_3d": ((3, 5, 7), kernels.grid3d_kernel, (out, ), dict(BLOCK=128)),
    "simd16": ((32, 1, 1), kernels.add_kernel, (x, y, out, N), dict(BLOCK=2048, threads_per_warp=16)),
    "mixed_args_jit": ((5, 3, 2), mixed_args_kernel, (*mixed_buffers(), *JIT_SCALARS), dict(BLOCK=BLOCK)),
    "every_type_compiled": ((2, 7, 3), every_type, (*mixed_buffers(opt=False), *EVERY_TYPE_SCALARS), {}),
}


def launch(grid, kernel, args, kwargs):
    # The compiled kernel, and the runtime arguments as the caller passed them, in the kernel's argument order.
    if isinstance(kernel, triton.compiler.CompiledKernel):
        kernel[grid](*args)
        return kernel, list(args)
    k = kernel[grid](*args, **kwargs)
    bound = inspect.signature(kernel.fn).bind(*args, **{n: v for n, v in kwargs.items() if n in kernel.arg_names})
    return k, [bound.arguments[name] for name, ty in k.src.signature.items() if ty != "constexpr"]


from triton.backends.intel.runtime import fast_launch

# Each JIT case again ("<case>_fast"): a repeated call, which the native dispatcher launches (runtime/fast_launch.py).
again = [(case + "_fast", spec) for case, spec in launches.items()
         if not isinstance(spec[1], triton.compiler.CompiledKernel)]
result = {}
for case, (grid, kernel, args, kwargs) in list(launches.items()) + again:
    first, first_launch = len(SET_ARGS), len(LAUNCHES)
    hits = fast_launch.hits(kernel)
    print(f"CASE {case}", flush=True)
    with on_path():
        k, runtime_args = launch(grid, kernel, args, kwargs)
        driver.active.synchronize()
    md = k.metadata
    info = zb.read(k.asm["zebin"]).kernel(md.name)
    types = [ty for ty in k.src.signature.values() if ty != "constexpr"]
    result[case] = {
        "fast": fast_launch.hits(kernel) > hits,
        "grid": list(grid), "name": md.name, "num_warps": md.num_warps, "threads_per_warp": md.threads_per_warp,
        "shared": md.shared, "grf_mode": md.grf_mode, "simd_width": info.simd_width, "grf_count": info.grf_count,
        "has_dpas": info.has_dpas,
        "args": [{"index": a.arg_index, "size": a.size, "addrspace": a.addrspace} for a in info.explicit_arguments],
        # What the caller passed: a pointer as its buffer's address (None for None), a scalar as the Python value.
        "call_args": [{"type": ty, "value": (None if v is None else v.data_ptr()) if ty.startswith("*") else v}
                      for ty, v in zip(types, runtime_args)],
        "set_args": [s for s in SET_ARGS[first:] if s["kernel"] == launched_kernel(k)],
        "launches": [entry["groups"] for entry in LAUNCHES[first_launch:] if entry["kernel"] == launched_kernel(k)],
        # The work-group size in force at the launch: the last one set for the kernel (a launcher sets it once).
        "group_size": ([g["size"] for g in GROUP_SIZES if g["kernel"] == launched_kernel(k)] or [None])[-1],
    }
print("RESULT " + json.dumps(result), flush=True)
"""


# The driver's own Level Zero launcher, and its launches on a caller's SYCL queue (a dpctl in-order queue, as
# PyTorch hands Triton its streams).
PATHS = ["level_zero", "sycl"]


@pytest.fixture(scope="module", params=PATHS)
def report(request):
    if request.param == "sycl":
        request.getfixturevalue("sycl_gpu")
    proc = run(CHILD, env=dict(DISPATCH_ENV, DISPATCH_TEST_PATH=request.param))
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The dispatch lines NEO printed after each "CASE name" marker belong to that case's launch.
    cases, current = {}, None
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("CASE "):
            current = line[5:].strip()
            cases[current] = []
        elif line.startswith("RESULT "):
            result = json.loads(line[7:])
        elif current is not None:
            cases[current].extend(parse_dispatches(line))
    assert result is not None, proc.stdout[-3000:]
    return {case: (result[case], cases.get(case, [])) for case in result}


def _needs_dispatch_report(report):
    if TOOLCHAIN != "current" and not any(dispatches for _, dispatches in report.values()):
        pytest.skip(f"NEO in the {TOOLCHAIN} toolchain printed no PrintKernelDispatchParameters report (NEO 22.43's "
                    "release build has none; NEO 26.27's, in the current toolchain, has)")


JIT_CASES = ["pointwise", "reduction_shared", "dpas_matmul_256", "grid_3d", "simd16", "mixed_args_jit"]
# The same calls repeated: launched by the native dispatcher instead of JITFunction.run.
FAST_CASES = [case + "_fast" for case in JIT_CASES]
CASES = JIT_CASES + ["every_type_compiled"] + FAST_CASES


@pytest.mark.parametrize("case", CASES)
def test_a_repeated_call_and_only_it_is_launched_by_the_native_dispatcher(report, case):
    meta, _ = report[case]
    assert meta["fast"] == (case in FAST_CASES)


@pytest.mark.parametrize("case", CASES)
def test_neo_dispatches_the_grid_simd_and_grf_of_the_kernels_metadata(report, case):
    _needs_dispatch_report(report)
    meta, dispatches = report[case]
    assert len(dispatches) == 1, dispatches
    d = dispatches[0]
    grid = meta["grid"]
    assert d["kernel"] == meta["name"]
    assert d["threadGroupDimensions"] == grid
    assert d["threadGroupCount"] == grid[0] * grid[1] * grid[2]
    assert d["simdSize"] == meta["simd_width"] == meta["threads_per_warp"]
    assert d["numberOfThreadsInGpgpuThreadGroup"] == meta["num_warps"]
    assert d["grfCount"] == meta["grf_count"] == int(meta["grf_mode"])


@pytest.mark.parametrize("case", CASES)
def test_the_launch_is_appended_with_the_callers_grid(report, case):
    # What the launcher asked Level Zero for; on `current` NEO's threadGroupDimensions (above) says the same of
    # what it dispatched, on `legacy` this is the only check of the grid.
    meta, _ = report[case]
    assert meta["launches"] == [meta["grid"]]


@pytest.mark.parametrize("case", CASES)
def test_the_work_group_is_num_warps_times_the_kernels_sub_group_size(report, case):
    # zeKernelSetGroupSize as the tracer saw it (NEO prints no work-group size): num_warps sub-groups of the width
    # the kernel was compiled for (.ze_info's simd_size; 16 for the simd16 and DPAS cases), on both toolchains.
    meta, _ = report[case]
    assert meta["group_size"] == [meta["num_warps"] * meta["simd_width"], 1, 1]
    assert meta["simd_width"] == meta["threads_per_warp"]


@pytest.mark.parametrize("case", CASES)
def test_every_argument_is_set_once_with_its_types_size_in_its_ze_info_slot(report, case):
    meta, _ = report[case]
    # The type's size, as OpenCL's clSetKernelArg takes it; the shared-memory argument: metadata.shared bytes.
    sizes = [8 if a["type"].startswith("*") else len(scalar_bytes(a["type"], 0)) for a in meta["call_args"]]
    expected = list(enumerate(sizes + ([meta["shared"]] if meta["shared"] else [])))
    assert [(s["index"], s["size"]) for s in meta["set_args"]] == expected
    # .ze_info has a slot for each index (on IGC 1 a pointer has two entries, a 0-byte binding and its 8 bytes)
    # that holds the value: measured, IGC 2.40's slots are the type's size, IGC 1.0's 4 bytes for smaller scalars.
    slots = {}
    for arg in meta["args"]:
        slots[arg["index"]] = max(slots.get(arg["index"], 0), arg["size"])
    local = [arg["index"] for arg in meta["args"] if arg["addrspace"] == "local"]
    assert sorted(slots) == [i for i, _ in expected] and local == ([len(sizes)] if meta["shared"] else [])
    assert [(i, size) for i, size in expected[:len(sizes)] if size > slots[i]] == []


# The cases whose kernels take Triton's shared-memory argument (test_the_fixtures_cover_what_they_are_named_for).
SHARED_CASES = ["reduction_shared", "mixed_args_jit", "every_type_compiled", "reduction_shared_fast",
                "mixed_args_jit_fast"]


@pytest.mark.parametrize("case", SHARED_CASES)
def test_the_shared_memory_argument_comes_last_with_no_value(report, case):
    meta, _ = report[case]
    shared = [s for s in meta["set_args"] if s["index"] == len(meta["call_args"])]
    assert [(s["size"], s["value"]) for s in shared] == [(meta["shared"], None)], meta["set_args"][-3:]


def _traced_values(meta):
    return {s["index"]: s["value"] for s in meta["set_args"]}


@pytest.mark.parametrize("case", CASES)
def test_every_pointer_argument_is_the_callers_buffer(report, case):
    meta, _ = report[case]
    values = _traced_values(meta)
    # A null pointer may come as no value or as eight zero bytes: the same to the driver.
    null = lambda value: None if value == "00" * 8 else value
    pointers = [(i, a["value"]) for i, a in enumerate(meta["call_args"]) if a["type"].startswith("*")]
    assert pointers
    expected = [(i, None if address is None else struct.pack("<Q", address).hex()) for i, address in pointers]
    assert [(i, null(values.get(i))) for i, _ in pointers] == expected


_INTS = {"i8": np.int8, "u8": np.uint8, "i16": np.int16, "u16": np.uint16, "i32": np.int32, "u32": np.uint32,
         "i64": np.int64, "u64": np.uint64}


def scalar_bytes(ty: str, value) -> bytes:
    """The bytes of ``value`` as a kernel argument of type ``ty``, computed with NumPy, not the launcher's code:
    integers in two's complement, fp16/fp32/fp64 rounded to nearest even by NumPy's conversion of the double
    (fp16 directly, not through fp32), bf16 as the fp32 value's bits rounded to nearest even to the upper 16."""
    if ty in ("i1", "u1"):
        return bytes([int(bool(value))])
    if ty in _INTS:
        return np.array(value, dtype=_INTS[ty]).tobytes()  # raises for a value out of the type's range
    if ty == "bf16":
        bits = int(np.float32(value).view(np.uint32))
        return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).to_bytes(2, "little")
    return {"fp16": np.float16, "fp32": np.float32, "fp64": np.float64}[ty](value).tobytes()


@pytest.mark.parametrize("case", [case for case in CASES if not case.startswith("grid_3d")])  # it takes no scalar
def test_every_scalar_argument_is_the_bit_pattern_of_its_type(report, case):
    meta, _ = report[case]
    values = _traced_values(meta)
    scalars = [(i, a["type"], a["value"]) for i, a in enumerate(meta["call_args"]) if not a["type"].startswith("*")]
    assert scalars
    assert [(i, ty, values.get(i)) for i, ty, _ in scalars] == [(i, ty, scalar_bytes(ty, v).hex())
                                                               for i, ty, v in scalars]


VALUE_CASES = ["mixed_args_jit", "every_type_compiled", "mixed_args_jit_fast"]


@pytest.mark.parametrize("case", VALUE_CASES)
def test_the_value_fixtures_leave_no_swap_unseen(report, case):
    meta, _ = report[case]
    args = meta["call_args"]
    # More arguments than the SYCL launcher converts on its stack (kInlineArgs, 32), every one's bytes distinct
    # (a swap of any two changes what is set), a 3-D grid of distinct extents (a swap or an error in x, y or z
    # shows).
    assert len(args) > 32
    encoded = [struct.pack("<Q", a["value"]) if a["type"].startswith("*") else scalar_bytes(a["type"], a["value"])
               for a in args if a["value"] is not None]
    assert len(set(encoded)) == len(encoded)
    assert len(set(meta["grid"])) == 3 and min(meta["grid"]) > 1


def test_the_value_fixtures_cover_every_argument_type(report):
    # Triton 3.3's JIT types scalars by their Python values (int by range: i32, i64, u64; bool i1; float fp32)
    # or by an integer annotation; None becomes a constexpr, which the launcher drops (measured), so a null
    # pointer and fp16/bf16/fp64 scalars reach the C++ launchers only through a kernel compiled with a signature.
    jit = [a["type"] for a in report["mixed_args_jit"][0]["call_args"]]
    assert jit == (["*fp32", "*fp32", "*fp16", "*bf16", "*fp64", "*i32", "*i64", "*fp32"] + ["i32"] * 6 +
                   ["i64", "i64", "u64", "i1", "i1"] + ["fp32"] * 8 + ["i8", "u8", "i16", "u16", "u32", "i64"])
    every = report["every_type_compiled"][0]["call_args"]
    assert {a["type"] for a in every} >= xpu_driver._INT_KINDS | xpu_driver._FLOAT_KINDS
    assert any(a["type"].startswith("*") and a["value"] is None for a in every)


def test_the_float_values_are_ones_a_wrong_rounding_changes(report):
    floats = [(a["type"], a["value"]) for case in VALUE_CASES for a in report[case][0]["call_args"]
              if a["type"] in ("fp16", "bf16", "fp32")]
    as_float = {"fp16": np.float16, "fp32": np.float32,
                "bf16": lambda v: np.uint32(int.from_bytes(scalar_bytes("bf16", v), "little") << 16).view(np.float32)}
    rounded = [(ty, v, float(as_float[ty](v))) for ty, v in floats]
    # Every value needs rounding in its type, and in each type one rounds away from zero (truncation differs).
    assert all(r != v for _, v, r in rounded), rounded
    assert {ty for ty, v, r in rounded if abs(r) > abs(v)} == {"fp16", "bf16", "fp32"}
    # An fp16 value that rounding through fp32 first would get wrong (the launcher rounds the double once).
    assert any(ty == "fp16" and np.float16(np.float32(v)) != np.float16(v) for ty, v in floats)
    # No bf16 value on which rounding the double directly and rounding its fp32 value differ (a tie after fp32).
    assert all(np.float32(v) == v or int(np.float32(v).view(np.uint32)) & 0xFFFF != 0x8000
               for ty, v in floats if ty == "bf16")


def test_the_fixtures_cover_what_they_are_named_for(report):
    for case in SHARED_CASES:
        assert report[case][0]["shared"] > 0
        assert any(a["addrspace"] == "local" for a in report[case][0]["args"])
    matmul = report["dpas_matmul_256"][0]
    assert matmul["has_dpas"] and matmul["grf_mode"] == "256"
    assert report["pointwise"][0]["grf_mode"] == "128"
    assert report["simd16"][0]["threads_per_warp"] == 16
    assert report["grid_3d"][0]["grid"] == [3, 5, 7]


def test_the_parser_reads_neos_measured_line_by_key_not_position():
    # The line NEO 26.27.39122.14 printed for a softmax on the emulated pvc, and the same with a field moved and
    # one added, as another NEO release might print it.
    measured = ("kernel, softmax_kernel, grfCount, 128, simdSize, 32, tilesCount, 0, implicitScaling, no, "
                "threadGroupCount, 4, numberOfThreadsInGpgpuThreadGroup, 4, threadGroupDimensions, 4, 1, 1, "
                "threadGroupDispatchSize enum, 3")
    other = ("kernel, softmax_kernel, threadGroupDimensions, 4, 1, 1, newField, 7, simdSize, 32, grfCount, 128, "
             "threadGroupCount, 4, numberOfThreadsInGpgpuThreadGroup, 4")
    noise = "set arg buffer index : 0 requested address : 0x7f2697770000\nkernel launch done"
    for line in (measured, other):
        d, = parse_dispatches(noise + "\n" + line + "\n")
        assert (d["kernel"], d["grfCount"], d["simdSize"], d["threadGroupCount"],
                d["numberOfThreadsInGpgpuThreadGroup"], d["threadGroupDimensions"]) == ("softmax_kernel", 128, 32, 4,
                                                                                        4, [4, 1, 1])

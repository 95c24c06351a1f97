"""Dispatch verification of the driver's launches (its Level Zero launcher and a SYCL queue): what was actually
dispatched, as NEO and the Level Zero loader's tracing layer report it, checked against the kernel's metadata and
its ``.ze_info``.

A child process on the emulated pvc (NEO in AUB-capture mode: every driver call runs, kernels do not execute)
launches five of the project's kernels through Triton's JIT and the driver — a pointwise add, a softmax (a
reduction using shared memory), a DPAS matmul the GRF policy compiles at 256 GRF, a kernel on a 3-D grid, and a
16-wide (threads_per_warp=16) add — with NEO's ``PrintKernelDispatchParameters`` and the Level Zero loader's
tracing layer on (see dispatch_report.py for both formats).  For each launch the tests check:

* work-groups: NEO's ``threadGroupDimensions`` is the grid and ``threadGroupCount`` its product;
* SIMD: NEO's ``simdSize`` is ``.ze_info``'s ``simd_size`` and the metadata's ``threads_per_warp``;
* hardware threads per group: ``numberOfThreadsInGpgpuThreadGroup`` is ``num_warps`` (a group of num_warps x
  threads_per_warp work-items at SIMD threads_per_warp).  NEO does not print the work-group size itself;
* GRF: NEO's ``grfCount`` is ``.ze_info``'s ``grf_count`` and the metadata's ``grf_mode``;
* arguments: the tracing layer's ``zeKernelSetArgumentValue`` calls for the kernel are indices 0..n-1, n the
  kernel's explicit arguments in ``.ze_info``'s ``payload_arguments``, each of the size given there, except
  Triton's shared-memory argument (a local-address-space pointer), which gets ``metadata.shared`` bytes and no
  value.  NEO itself prints buffer arguments only (``PrintL0SetKernelArg``), so it does not check sizes.

Each launch runs on both of the driver's paths: its own Level Zero launcher, and a caller's SYCL queue (dpctl,
in-order, the way PyTorch hands Triton its stream: the driver's module in the queue's context, a SYCL kernel,
``parallel_for``); on the SYCL path the arguments checked are those of the driver's kernel in the queue's context.
A SYCL application's own loader (not the driver) is checked by test_sycl_interop.py.

Measured on both toolchains: NEO 26.27's release build (`current`) prints the dispatch report; NEO 22.43's
(`legacy`) prints nothing for ``PrintKernelDispatchParameters`` (nor ``PrintL0SetKernelArg``), while loader 1.8's
tracing layer reports every argument there too.  So on a toolchain other than `current` the dispatch-report test
is skipped when NEO printed no report (said in the skip reason), and the argument test still runs; on `current`
a missing report fails.
"""

import importlib.util
import json
import os

import pytest

from dispatch_report import DISPATCH_ENV, TRACER_PRELUDE, parse_dispatches
from test_driver import run

TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")

CHILD = TRACER_PRELUDE + """
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

N = 1 << 16
x, y, out = mem(4 * N), mem(4 * N), mem(4 * N)
a, b, c = (mem(2 * 256 * 256, "float16") for _ in range(3))
mm = kernels.SPECS["matmul"].constexprs
launches = {
    "pointwise": ((64, 1, 1), lambda g: kernels.add_kernel[g](x, y, out, N, BLOCK=1024)),
    "reduction_shared": ((8, 1, 1), lambda g: kernels.softmax_kernel[g](out, x, 1024, 1024, 1000, BLOCK=1024)),
    "dpas_matmul_256": ((4, 4, 1), lambda g: kernels.matmul_kernel[g](a, b, c, 256, 256, 256, 256, 1, 256, 1, 256, 1,
                                                                       **mm)),
    "grid_3d": ((3, 5, 7), lambda g: kernels.grid3d_kernel[g](out, BLOCK=128)),
    "simd16": ((32, 1, 1), lambda g: kernels.add_kernel[g](x, y, out, N, BLOCK=2048, threads_per_warp=16)),
}
result = {}
for case, (grid, launch) in launches.items():
    first = len(SET_ARGS)
    print(f"CASE {case}", flush=True)
    with on_path():
        k = launch(grid)
        driver.active.synchronize()
    md = k.metadata
    info = zb.read(k.asm["zebin"]).kernel(md.name)
    result[case] = {
        "grid": list(grid), "name": md.name, "num_warps": md.num_warps, "threads_per_warp": md.threads_per_warp,
        "shared": md.shared, "grf_mode": md.grf_mode, "simd_width": info.simd_width, "grf_count": info.grf_count,
        "has_dpas": info.has_dpas,
        "args": [{"index": a.arg_index, "size": a.size, "addrspace": a.addrspace} for a in info.explicit_arguments],
        "set_args": [s for s in SET_ARGS[first:] if s["kernel"] == launched_kernel(k)],
    }
print("RESULT " + json.dumps(result), flush=True)
"""


# The driver's own Level Zero launcher, and its launches on a caller's SYCL queue (a dpctl in-order queue, as
# PyTorch hands Triton its streams).
PATHS = ["level_zero", "sycl"]


@pytest.fixture(scope="module", params=PATHS)
def report(request):
    if request.param == "sycl" and importlib.util.find_spec("dpctl") is None and TOOLCHAIN != "current":
        pytest.skip(f"no SYCL runtime (dpctl) in the {TOOLCHAIN} toolchain; the current toolchain has one")
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


CASES = ["pointwise", "reduction_shared", "dpas_matmul_256", "grid_3d", "simd16"]


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
def test_every_argument_is_set_with_the_index_and_size_of_ze_info(report, case):
    meta, _ = report[case]
    expected = {}
    for arg in meta["args"]:
        shared = arg["addrspace"] == "local"
        expected[arg["index"]] = (meta["shared"] if shared else arg["size"], shared)
    seen = [(s["index"], s["size"], s["value"] is None) for s in meta["set_args"]]
    assert [i for i, _, _ in seen] == list(range(len(expected))) == sorted(expected), (seen, expected)
    for index, size, null in seen:
        assert (size, null) == expected[index], (index, seen, expected)


def test_the_fixtures_cover_what_they_are_named_for(report):
    assert report["reduction_shared"][0]["shared"] > 0
    assert any(a["addrspace"] == "local" for a in report["reduction_shared"][0]["args"])
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

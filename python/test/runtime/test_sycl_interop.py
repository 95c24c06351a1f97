"""The project's zebins loaded and launched as a SYCL application loads them, checked by NEO's dispatch report.

``sycl_interop/load_zebin.cpp`` is a small host-only SYCL program of the project's own, compiled here with g++
against the headers and libsycl of PyPI's intel-sycl-rt (in the toolchain's venv, requirements-numeric.txt).  It
does what PyTorch AOT Inductor's ``loadKernel``/``launchKernel`` do: a Level Zero module created NATIVE in the
SYCL queue's context and device, ``zeKernelCreate``, ``sycl::make_kernel_bundle``/``make_kernel``
(ext_oneapi_level_zero, ownership transferred), then ``parallel_for`` over an nd_range of global
(gz, gy, gx * num_warps * threads_per_warp) and local (1, 1, num_warps * threads_per_warp), the arguments with
``handler::set_arg`` and Triton's shared memory as a trailing ``local_accessor<int8_t>`` of ``metadata.shared``
bytes.  It runs on the emulated pvc (kernels do not execute) with NEO's ``PrintKernelDispatchParameters`` and the
Level Zero loader's tracing layer, and the tests check, for a pointwise add, a softmax (shared memory), a DPAS
matmul at 256 GRF, a 3-D grid and a 16-wide add:

* NEO's ``threadGroupDimensions`` is the grid (SYCL's slowest dimension 0 is Triton's z), ``threadGroupCount`` its
  product, ``numberOfThreadsInGpgpuThreadGroup`` is num_warps;
* NEO's ``simdSize`` is ``.ze_info``'s ``simd_size``, ``metadata.threads_per_warp`` and the required sub-group
  size Level Zero reports for the kernel;
* NEO's ``grfCount`` is ``.ze_info``'s ``grf_count`` and ``metadata.grf_mode``;
* the SYCL runtime's ``zeKernelSetArgumentValue`` calls (seen by the program's tracer) are indices 0..n-1 with
  ``.ze_info``'s sizes, the shared-memory argument ``metadata.shared`` bytes without a value.

NEO does not print the work-group size; SIMD x threads per group stands for it.  On `legacy` these tests are
skipped: the SYCL runtime's Level Zero adapter crashes with Debian 12's Level Zero loader 1.8 and NEO 22.43.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch_report import DISPATCH_ENV, parse_dispatches

TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")
HERE = Path(__file__).resolve().parent
SOURCE = HERE / "sycl_interop" / "load_zebin.cpp"

pytestmark = pytest.mark.usefixtures("sycl_gpu")  # skipped where SYCL cannot open the GPU (legacy)


def _specs():
    import kernels
    n = 1 << 16
    return {
        "pointwise": kernels.SPECS["add"],
        "reduction_shared": kernels.SPECS["softmax"],
        "dpas_matmul_256": kernels.SPECS["matmul"],
        "grid_3d": kernels.KernelSpec("grid3d", kernels.grid3d_kernel, {"out_ptr": "*fp32"}, {"BLOCK": 128},
                                      launch=lambda alloc: ((3, 5, 7), [alloc(4 * 128 * 105, "float32")])),
        "simd16": kernels.KernelSpec("add16", kernels.add_kernel, dict(kernels.SPECS["add"].signature),
                                     {"BLOCK": 2048}, {"threads_per_warp": 16},
                                     launch=lambda alloc: ((n // 2048, 1, 1), [alloc(4 * n, "float32")
                                                                               for _ in range(3)] + [n])),
    }


CASES = ["pointwise", "reduction_shared", "dpas_matmul_256", "grid_3d", "simd16"]


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    prefix = Path(sys.prefix)
    if not (prefix / "include" / "sycl" / "sycl.hpp").exists():
        pytest.fail(f"no SYCL headers in {prefix}/include: install intel-sycl-rt "
                    "(pip install -r requirements-numeric.txt)")
    if shutil.which("g++") is None:
        pytest.fail("no g++ to build the SYCL interop program")
    exe = tmp_path_factory.mktemp("sycl_interop") / "load_zebin"
    lib = prefix / "lib"
    cmd = ["g++", "-std=c++17", "-O1", "-DSYCL_DISABLE_FSYCL_SYCLHPP_WARNING", str(SOURCE), "-o", str(exe),
           f"-I{prefix / 'include'}", f"-I{prefix / 'include' / 'sycl'}", f"-L{lib}", f"-Wl,-rpath,{lib}", "-lsycl",
           "-lze_loader"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return exe


def _arg(kind: str, value) -> str:
    if isinstance(value, tuple):  # a buffer from _alloc
        return f"ptr:{value[1]}"
    if kind in ("i32", "i64"):
        return f"{kind}:{int(value)}"
    if kind == "fp32":
        return f"f32:{float(value)!r}"
    raise AssertionError(f"no program argument for a {kind} scalar")


def _alloc(nbytes, dtype):
    return ("ptr", nbytes)


def _emulated_pvc_env(**extra: str) -> dict:
    """The environment of a program run on the emulated pvc with NEO's dispatch report on."""
    from triton.backends.intel import targets
    from triton.backends.intel.runtime import emulation
    env = dict(os.environ)
    env.update(emulation.environment(targets.lookup("pvc")))
    env.update(DISPATCH_ENV, **extra)
    return env


def _run_program(program, path, md, grid, args, env):
    """Load the zebin at ``path`` (kernel ``md.name``) and launch it over ``grid``; (process, its JSON result)."""
    cmd = [str(program), str(path), md.name, *map(str, grid), str(md.num_warps * md.threads_per_warp),
           str(md.shared), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    lines = proc.stdout.strip().splitlines()
    return proc, (json.loads(lines[-1]) if lines else None)


@pytest.fixture(scope="module")
def launches(program, tmp_path_factory):
    from triton.backends.intel.binary import zebin as zb
    folder = tmp_path_factory.mktemp("zebins")
    env = _emulated_pvc_env(TRITON_XPU_TRACE_ARGS="1")
    results = {}
    for case, spec in _specs().items():
        compiled = spec.compile("pvc")
        md = compiled.metadata
        path = folder / f"{case}.zebin"
        path.write_bytes(compiled.asm["zebin"])
        grid, values = spec.launch(_alloc)
        kinds = list(spec.signature.values())
        args = [_arg(kind, value) for kind, value in zip(kinds, values)]
        proc, out = _run_program(program, path, md, grid, args, env)
        assert proc.returncode == 0 and out is not None, (case, proc.stdout[-2000:], proc.stderr[-3000:])
        assert out["ok"], out
        set_args = []
        for line in proc.stderr.splitlines():
            parts = line.split()
            if len(parts) == 5 and parts[0] == "setarg" and parts[1] == out["kernel"]:
                set_args.append((int(parts[2]), int(parts[3]), parts[4] == "null"))
        info = zb.read(compiled.asm["zebin"]).kernel(md.name)
        results[case] = {"grid": list(grid), "md": md, "info": info, "out": out, "set_args": set_args,
                         "dispatches": parse_dispatches(proc.stdout)}
    return results


@pytest.mark.parametrize("case", CASES)
def test_sycl_dispatch_has_the_grid_simd_and_grf_of_the_kernels_metadata(launches, case):
    r = launches[case]
    md, info, grid = r["md"], r["info"], r["grid"]
    assert len(r["dispatches"]) == 1, r["dispatches"]
    d = r["dispatches"][0]
    assert d["kernel"] == md.name
    assert d["threadGroupDimensions"] == grid
    assert d["threadGroupCount"] == grid[0] * grid[1] * grid[2]
    assert d["numberOfThreadsInGpgpuThreadGroup"] == md.num_warps
    assert d["simdSize"] == info.simd_width == md.threads_per_warp == r["out"]["required_subgroup_size"]
    assert d["grfCount"] == info.grf_count == int(md.grf_mode)


@pytest.mark.parametrize("case", CASES)
def test_sycl_sets_every_argument_with_the_index_and_size_of_ze_info(launches, case):
    r = launches[case]
    expected = {}
    for arg in r["info"].explicit_arguments:
        shared = arg.addrspace == "local"
        expected[arg.arg_index] = (r["md"].shared if shared else arg.size, shared)
    assert r["out"]["num_args"] == len(expected)
    assert [i for i, _, _ in r["set_args"]] == list(range(len(expected))), (r["set_args"], expected)
    for index, size, null in r["set_args"]:
        assert (size, null) == expected[index], (index, r["set_args"], expected)


def test_the_sycl_fixtures_cover_what_they_are_named_for(launches):
    assert launches["reduction_shared"]["md"].shared > 0
    assert any(a.addrspace == "local" for a in launches["reduction_shared"]["info"].explicit_arguments)
    assert launches["dpas_matmul_256"]["info"].has_dpas and launches["dpas_matmul_256"]["md"].grf_mode == "256"
    assert launches["simd16"]["md"].threads_per_warp == 16
    assert launches["grid_3d"]["grid"] == [3, 5, 7]


def _load_on_emulated_pvc(program, folder, compiled):
    """Run the SYCL program on the emulated pvc with a zebin compiled for another target."""
    md = compiled.metadata
    path = folder / f"{md.name}-{'ir' if md.keep_ir else 'no-ir'}.zebin"
    path.write_bytes(compiled.asm["zebin"])
    n = 1 << 16
    return _run_program(program, path, md, (n // 1024, 1, 1), [f"ptr:{4 * n}"] * 3 + [f"i32:{n}"],
                        _emulated_pvc_env())


def test_an_ir_free_zebin_for_another_device_fails_to_load_instead_of_running_as_jit(program, tmp_path):
    """Issue 25: a zebin for acm-g10 on a pvc.  Without IR (the default) a SYCL application's loader fails at
    zeModuleCreate with the driver's error, and nothing is launched; with keep_ir the same loader succeeds by
    recompiling the embedded SPIR-V (a silent JIT compile, which is why IR is left out)."""
    import kernels
    import triton
    from triton.backends.compiler import GPUTarget
    spec = kernels.SPECS["add"]
    no_ir = spec.compile("acm-g10")
    assert not no_ir.metadata.keep_ir
    proc, out = _load_on_emulated_pvc(program, tmp_path, no_ir)
    assert proc.returncode != 0 and not out["ok"]
    assert out["error"].startswith("zeModuleCreate: "), out
    assert not parse_dispatches(proc.stdout)
    with_ir = triton.compile(spec.source(), target=GPUTarget("xpu", "acm-g10", 32),
                             options=dict(spec.options, keep_ir=True))
    proc, out = _load_on_emulated_pvc(program, tmp_path, with_ir)
    assert proc.returncode == 0 and out["ok"], out
    assert len(parse_dispatches(proc.stdout)) == 1

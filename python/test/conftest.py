"""Shared pytest set-up: a private Triton cache per test session, the project's script folders on sys.path
(examples/: the kernel collection and the main job; benchmarks/), and real inputs made with the real ocloc.
Test support shared by several folders is the ``support`` package beside this file (python/test/support).

``cl_spirv`` / ``cl_zebin`` compile OpenCL C with the ``ocloc`` executable (``-spv_only`` for SPIR-V,
``-internal_options -cl-intel-allow-zebin`` for a zebin), ``spirv_zebin`` compiles SPIR-V, ``triton_zebin``
compiles an example kernel with Triton; each result is cached for the session.  Tests needing them are
skipped where ocloc is not installed.
"""

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest

import suite_summary
from support import intel_stack

REPO = Path(__file__).resolve().parents[2]
# The one place the tests' path reaches outside python/test: `import kernels` (examples/kernels.py), `import main`
# (examples/main.py), `import bench_common` and the other benchmark scripts.
sys.path[:0] = [str(REPO / "examples"), str(REPO / "benchmarks")]

# Tools installed in the environment (PyPI's newer spirv-dis, lit's filecheck) come first, as under ./run.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

# Never read or pollute the user's ~/.triton cache; each xdist worker gets its own.
os.environ["TRITON_CACHE_DIR"] = tempfile.mkdtemp(prefix="triton-xpu-test-cache-")

# The GRF policy's early attempt depends on whether a core is free at that moment; tests that count ocloc
# runs need the same runs every time.  Tests of the parallel attempts (test_grf_parallel.py) set it themselves.
os.environ.setdefault("TRITON_XPU_GRF_PARALLEL", "0")


# The Intel stack a result depends on, by its Debian packages (exact versions): in the header of every run and
# in the report of every failure, so a failure reads with the NEO/IGC/loader it happened on.
@functools.lru_cache(maxsize=None)
def _stack_versions() -> str:
    found = [f"{package} {version}" for package, version in (intel_stack.versions() or {}).items()]
    toolchain = os.environ.get("TRITON_XPU_TOOLCHAIN", "?")
    return f"toolchain {toolchain}: " + (", ".join(found) or "no Intel packages found by dpkg")


def pytest_report_header(config):
    return _stack_versions()


# Tests that hand deliberately broken binaries (fuzzed or edited zebins, unchecked) to the driver and launch them.
# They run on NEO's emulated device (TRITON_XPU_EMULATE in their child processes, AUB mode: no hardware is
# touched), but on a machine with a real Intel GPU they are not run at all: a broken binary must never reach a
# real device's command streamer.
BROKEN_BINARIES_MARK = "launches_broken_binaries"


def _real_intel_gpu() -> bool:
    try:
        from triton.backends.intel.runtime import level_zero
    except ImportError:
        return False
    return bool(level_zero.intel_render_nodes())


def pytest_configure(config):
    config.addinivalue_line("markers", f"{BROKEN_BINARIES_MARK}: launches deliberately broken binaries; never run "
                            "on a machine with a real Intel GPU")
    # Skip/xfail reasons checked against skip_reasons.py, the corpus's counts, the JSON for ./run test's tables.
    suite_summary.register(config)


def pytest_collection_modifyitems(config, items):
    if not any(item.get_closest_marker(BROKEN_BINARIES_MARK) for item in items) or not _real_intel_gpu():
        return
    skip = pytest.mark.skip(reason="launches deliberately broken binaries: never on a machine with a real Intel GPU")
    for item in items:
        if item.get_closest_marker(BROKEN_BINARIES_MARK):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.sections.append(("Intel stack", _stack_versions()))


def pytest_terminal_summary(terminalreporter):
    # The numeric suite's table (python/test/numeric/conftest.py's ``record``: user properties travel with xdist's
    # reports).
    rows = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        if report.when != "call":
            continue
        for key, value in getattr(report, "user_properties", ()):
            if key == "numeric":
                rows.append((report.nodeid.split("::")[-1], *value))
    if not rows:
        return
    terminalreporter.section("numeric suite: measured / tolerance, and max absolute error")
    for name, executor, what, err, tol, abs_error in sorted(rows):
        terminalreporter.write_line(f"{executor:3}  {name:36} {what:40} {err:9.3g} / {tol:<6.3g} {abs_error:9.3g}")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty Triton cache directory for one test."""
    cache = tmp_path / "triton-cache"
    monkeypatch.setenv("TRITON_CACHE_DIR", str(cache))
    return cache



# OpenCL C kernels with known properties (on pvc, SIMD32, 128 GRF).
ADD_CL = """
__kernel void add(__global const float* a, __global const float* b, __global float* c) {
  int i = get_global_id(0);
  c[i] = a[i] + b[i];
}
"""

# 80 values live across a loop: spills with 128 registers, fits in 256.
SPILL_CL = """
#define N 80
__kernel void spill(__global const float* a, __global float* c, int n) {
  int i = get_global_id(0);
  float v[N];
  #pragma unroll
  for (int k = 0; k < N; ++k) v[k] = a[i + k * 4096];
  for (int r = 0; r < n; ++r) {
    #pragma unroll
    for (int k = 0; k < N; ++k) v[k] = v[k] * v[(k + 1) % N] + v[(k + 13) % N];
  }
  #pragma unroll
  for (int k = 0; k < N; ++k) c[i + k * 4096] = v[k];
}
"""

# A dynamically indexed private array: private memory in scratch, no register spills.
PRIVATE_CL = """
__kernel void private_array(__global const float* a, __global float* c, int n) {
  int i = get_global_id(0);
  float p[1024];
  for (int k = 0; k < 1024; ++k) p[k] = a[k + i];
  c[i] = p[(i * n) % 1024];
}
"""

# A private array just under the 256 KiB per-thread scratch limit plus register spills: IGC 1.0.12504
# accepts it and emits 512 KiB of scratch; IGC 2 fits it into exactly 256 KiB (it moves larger private
# arrays to global memory), so there a real compile cannot overflow.
SCRATCH_OVERFLOW_CL = """
#define N 160
#define P 2040
__kernel void overflow(__global const float* a, __global float* c, int n) {
  int i = get_global_id(0);
  float p[P];
  for (int k = 0; k < P; ++k) p[k] = a[k + i];
  float v[N];
  #pragma unroll
  for (int k = 0; k < N; ++k) v[k] = a[i + k * 4096];
  for (int r = 0; r < n; ++r) {
    #pragma unroll
    for (int k = 0; k < N; ++k) v[k] = v[k] * v[(k + 1) % N] + p[(k * r) % P];
  }
  #pragma unroll
  for (int k = 0; k < N; ++k) c[i + k * 4096] = v[k];
}
"""

# Two kernels in one module; the second uses 4 KiB of SLM and a barrier.
TWO_KERNELS_CL = ADD_CL + """
__kernel void reverse_slm(__global float* c) {
  __local float s[1024];
  int i = get_local_id(0);
  s[i] = c[i];
  barrier(CLK_LOCAL_MEM_FENCE);
  c[i] = s[1023 - i];
}
"""


@pytest.fixture(scope="session")
def opencl():
    """The OpenCL C sources above: opencl.ADD, .SPILL, .PRIVATE, .SCRATCH_OVERFLOW, .TWO_KERNELS."""
    return types.SimpleNamespace(ADD=ADD_CL, SPILL=SPILL_CL, PRIVATE=PRIVATE_CL,
                                 SCRATCH_OVERFLOW=SCRATCH_OVERFLOW_CL, TWO_KERNELS=TWO_KERNELS_CL)


@pytest.fixture(scope="session")
def ocloc_exe():
    exe = shutil.which("ocloc")
    if exe is None:
        pytest.skip("ocloc is not installed (apt-get install intel-opencl-icd)")
    return exe


def _binary_in(directory, name):
    for candidate in (name, name + ".bin", name + ".ar"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return f.read()
    raise AssertionError(f"ocloc wrote no {name} in {directory}: {os.listdir(directory)}")


@pytest.fixture(scope="session")
def run_ocloc(ocloc_exe, tmp_path_factory):
    """run_ocloc(input name, input bytes, extra args, spv_only=False) -> (output bytes, log); cached."""
    cache = {}

    def run(name, data, args, spv_only=False, check=True):
        key = (name, data, tuple(args), spv_only)
        if key not in cache:
            d = tmp_path_factory.mktemp("ocloc")
            (d / name).write_bytes(data)
            cmd = [ocloc_exe, "compile", "-file", name, *args, "-output", "k", "-output_no_suffix", "-out_dir", str(d)]
            cmd += ["-spv_only"] if spv_only else ["-internal_options", "-cl-intel-allow-zebin"]
            proc = subprocess.run(cmd, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if check:
                assert proc.returncode == 0, proc.stdout
            if proc.returncode != 0:
                cache[key] = (None, proc.stdout)
            else:
                cache[key] = (_binary_in(d, "k.spv" if spv_only else "k"), proc.stdout)
        return cache[key]

    return run


@pytest.fixture(scope="session")
def cl_spirv(run_ocloc):
    """cl_spirv(source) -> SPIR-V bytes of OpenCL C source."""

    def compile_cl(source):
        return run_ocloc("k.cl", source.encode(), ["-device", "pvc"], spv_only=True)[0]

    return compile_cl


@pytest.fixture(scope="session")
def cl_zebin(run_ocloc):
    """cl_zebin(source, device="pvc", options="") -> (zebin bytes, build log) of OpenCL C source."""

    def compile_cl(source, device="pvc", options=""):
        args = ["-device", device] + (["-options", options] if options else [])
        return run_ocloc("k.cl", source.encode(), args)

    return compile_cl


@pytest.fixture(scope="session")
def spirv_zebin(run_ocloc):
    """spirv_zebin(spirv, device="pvc", check=True) -> (binary or None, build log) of a SPIR-V module."""

    def compile_spirv(spirv, device="pvc", check=True):
        return run_ocloc("k.spv", spirv, ["-spirv_input", "-device", device], check=check)

    return compile_spirv


@pytest.fixture(scope="session")
def triton_spirv():
    """triton_spirv(name) -> SPIR-V of an example kernel (examples/kernels.py) compiled by Triton for pvc."""
    cache = {}

    def compile_kernel(name):
        if name not in cache:  # a compile failure of the project's own example kernels fails the test
            import kernels
            cache[name] = kernels.SPECS[name].compile("pvc").asm["spv"]
        return cache[name]

    return compile_kernel


@pytest.fixture(scope="session")
def triton_zebin():
    """triton_zebin(name, arch) -> the zebin of an example kernel (examples/kernels.py) compiled by Triton."""
    cache = {}

    def compile_kernel(name, arch):
        if (name, arch) not in cache:  # a compile failure of the project's own example kernels fails the test
            import kernels
            cache[name, arch] = kernels.SPECS[name].compile(arch).asm["zebin"]
        return cache[name, arch]

    return compile_kernel

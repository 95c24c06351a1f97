"""The backend as Triton sees it: discovery, construction with no device, options, errors."""

import subprocess
import sys
from pathlib import Path

import pytest

import triton
from triton.backends.compiler import GPUTarget
from triton.backends.intel.errors import TargetError

REPO = Path(__file__).resolve().parents[3]
BACKEND_SRC = REPO / "third_party" / "intel" / "backend"


def test_triton_discovers_this_repositorys_backend():
    from triton.backends import backends
    # Triton loads compiler.py by path, outside sys.modules: ask the code object where it came from.
    compiler_file = Path(backends["intel"].compiler.add_stages.__code__.co_filename)
    # Installed as a copy (pip install .) or through the develop-mode link (pip install -e .).
    assert compiler_file.read_bytes() == (BACKEND_SRC / "compiler.py").read_bytes()
    assert backends["intel"].compiler.__name__ == "XPUBackend"


def test_backend_constructs_without_device_sycl_or_torch():
    code = ("import sys; from triton.backends.compiler import GPUTarget; from triton.compiler.compiler import "
            "make_backend; b = make_backend(GPUTarget('xpu', 'pvc', 32)); "
            "print(b.target_info.name, 'torch' in sys.modules, b.binary_ext)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "pvc" and out.split()[1] == "False"


def test_driver_is_inactive_without_a_device():
    from triton.backends import backends
    assert backends["intel"].driver.is_active() is False


def test_unknown_target_fails_in_make_backend_with_the_list():
    from triton.compiler.compiler import make_backend
    with pytest.raises(TargetError, match="unknown Intel GPU target 'xe9'; known targets: acm-g10"):
        make_backend(GPUTarget("xpu", "xe9", 32))


def test_unknown_target_from_triton_compile_names_the_target():
    import kernels
    with pytest.raises(TargetError, match="unknown Intel GPU target 'gfx942'"):
        triton.compile(kernels.SPECS["add"].source(), target=GPUTarget("xpu", "gfx942", 32))


def test_num_warps_must_be_a_power_of_two():
    import kernels
    with pytest.raises(ValueError, match="num_warps must be a power of 2, got 3"):
        triton.compile(kernels.SPECS["add"].source(), target=GPUTarget("xpu", "pvc", 32), options={"num_warps": 3})


def test_stage_times_are_recorded_in_metadata(fresh_cache):
    import kernels
    md = kernels.SPECS["add"].compile("pvc").metadata
    assert set(md.stage_ms) == {"ttir", "ttgir", "llir", "spv", "zebin"}
    assert all(ms > 0 for ms in md.stage_ms.values())
    assert md.target_arch == "pvc"

"""The numeric suite's machinery (numeric_executors.py, cpu_queue_child.py): the SPIR-V edit, the SYCL CPU executor
and what stays out of the driver, and which executor runs where."""

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from triton.backends.compiler import GPUTarget
from triton.backends.intel import spirv as spv
from triton.backends.intel.runtime import level_zero

import kernels as examples
import numeric_executors as ne

ADD_SIGNATURE = {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n_elements": "i32"}


@pytest.fixture(scope="module")
def add_pvc():
    import triton
    return triton.compile(examples.ast_source(examples.add_kernel, ADD_SIGNATURE, {"BLOCK": 1024}),
                          target=GPUTarget("xpu", "pvc", 32))


# --- the SPIR-V edit ---------------------------------------------------------------------------------------------


def _words(*instructions):
    header = struct.pack("<5I", spv.MAGIC, 0x10400, 0, 10, 0)
    return header + b"".join(struct.pack(f"<{len(i)}I", len(i) << 16 | i[0], *i[1:]) for i in instructions)


def _string(text):
    raw = text.encode() + b"\0"
    raw += b"\0" * (-len(raw) % 4)
    return struct.unpack(f"<{len(raw) // 4}I", raw)


def test_strip_removes_only_the_capability_its_modes_and_extension(add_pvc):
    original = add_pvc.asm["spv"]
    before, after = spv.summarize(original), spv.summarize(ne.strip_kernel_attributes(original))
    assert 5892 in before.capabilities  # Triton's modules declare KernelAttributesINTEL...
    assert 5892 not in after.capabilities
    assert after.capabilities == [c for c in before.capabilities if c != 5892]
    assert after.entry_points == before.entry_points and after.sub_group_size == before.sub_group_size
    stripped = ne.strip_kernel_attributes(original)
    removed = {(op, ops) for _, op, ops in spv.instructions(original)} - \
        {(op, ops) for _, op, ops in spv.instructions(stripped)}
    # ...for one MaxWorkgroupSizeINTEL execution mode, with the extension: exactly those three go.
    assert sorted(op for op, _ in removed) == [10, 16, 17], removed
    assert stripped[:20] == original[:20]
    assert "MaxWorkgroupSizeINTEL" not in spv.disassemble(stripped)  # still a module spirv-dis reads


def test_strip_keeps_the_extension_while_its_fpga_capability_stays():
    ext = (10, *_string("SPV_INTEL_kernel_attributes"))
    module = _words((17, 6), (17, 5892), (17, 5897), ext, (16, 1, 5893, 64, 1, 1), (16, 1, 35, 16))
    out = list(spv.instructions(ne.strip_kernel_attributes(module)))
    assert [(op, ops) for _, op, ops in out] == [(17, (6, )), (17, (5897, )), (ext[0], ext[1:]), (16, (1, 35, 16))]
    without_fpga = list(spv.instructions(ne.strip_kernel_attributes(_words((17, 5892), ext, (16, 1, 5893, 64, 1, 1)))))
    assert without_fpga == []


def test_the_cpu_runtime_refuses_the_unedited_module(cpu, add_pvc):
    # Why the edit exists (measured with intel-opencl-rt 2026.2): the original module does not build; edited, it does.
    with pytest.raises(RuntimeError, match="building add_kernel from SPIR-V for .* failed"):
        cpu.build(add_pvc.asm["spv"], "add_kernel")
    cpu.build(ne.strip_kernel_attributes(add_pvc.asm["spv"]), "add_kernel")


# --- the SYCL CPU executor -----------------------------------------------------------------------------------------


def test_the_cpu_executor_launches_through_the_drivers_sycl_launcher(cpu):
    # What computes here is the project's launch: Triton's JIT specialised the call (pointers divisible by 16, n not),
    # and the driver's XPULauncher and C++ SyclLauncher submitted it on the CPU queue.
    n = 3000
    x, y, out = np.arange(n, dtype=np.float32), np.full(n, 0.5, np.float32), np.zeros(n, np.float32)
    info = cpu.run(examples.add_kernel, (3, ), [x, y, out, n], BLOCK=1024)
    assert np.array_equal(out, x + y)
    assert info.signature == dict(ADD_SIGNATURE, BLOCK="constexpr") and info.divisible_by_16() == ["x_ptr", "y_ptr",
                                                                                                  "out_ptr"]
    assert "Processor" in cpu.device_name() or "CPU" in cpu.device_name()


def test_a_dead_child_is_an_error_naming_how_it_ended_and_the_next_run_starts_another(cpu):
    child = cpu.child(ne.CPU_TARGET)
    child.process.kill()
    child.process.wait()
    with pytest.raises(ne.ExecutorChildError, match=r"the CPU executor's child for pvc exited with status -9"):
        child.call({"spirv": b"", "name": "k"})
    out = np.zeros(64, np.float32)
    cpu.run(examples.add_kernel, (1, ), [np.ones(64, np.float32), np.ones(64, np.float32), out, 64], BLOCK=64)
    assert np.all(out == 2) and cpu.child(ne.CPU_TARGET) is not child


PRODUCT_REFUSALS = r"""
import sys
sys.path.insert(0, %r)
import numpy as np
import cpu_queue_child, numeric_executors as ne
from triton.backends.intel.runtime import level_zero
level_zero.runtime()  # the emulated pvc's NEO variables, before SYCL enumerates its devices
cpu_queue_child.preload_opencl(ne.opencl_runtime_library())
import dpctl
cpu = dpctl.SyclQueue("opencl:cpu")
from triton.runtime.driver import driver
try:
    driver.active.set_current_stream(cpu)
except ValueError as e:
    print("stream refused:", e)
from triton.backends.intel.runtime import sycl
if %r:
    gpu = dpctl.SyclQueue("level_zero:gpu")
    try:
        address, holder = sycl.hold(gpu)  # the capsule owns the queue copy at address: keep it
        sycl.module().executor_kernel_from_spirv(address, b"\x03\x02\x23\x07", "k")
    except ValueError as e:
        print("spirv refused:", e)
"""


def test_the_driver_itself_refuses_the_cpu_queue_and_spirv_on_level_zero(tmp_path):
    # The SPIR-V path exists for the executor only: the real driver refuses a queue that is not on Level Zero, and
    # the SPIR-V entry refuses Level Zero queues (where a SYCL runtime runs on this toolchain's GPU stack).
    import importlib.util
    from bench_common import sycl_gpu_problem
    with_gpu = os.environ.get("TRITON_XPU_TOOLCHAIN") == "current" or not sycl_gpu_problem()
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc", PYTHONWARNINGS="ignore",
               OCL_ICD_FILENAMES=ne.opencl_runtime_library() or "",
               ONEAPI_DEVICE_SELECTOR="opencl:cpu;level_zero:gpu" if with_gpu else "opencl:cpu")
    if importlib.util.find_spec("dpctl") is None:
        pytest.fail("dpctl is not installed: pip install -r requirements-numeric.txt")
    proc = subprocess.run([sys.executable, "-c", PRODUCT_REFUSALS % (os.path.dirname(ne.__file__), with_gpu)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert "stream refused: the SYCL queue is not on the Level Zero backend (its backend is OpenCL)" in proc.stdout, \
        proc.stdout + proc.stderr[-3000:]
    if with_gpu:
        assert "spirv refused: executor_kernel_from_spirv: a Level Zero queue runs native binaries only" in \
            proc.stdout, proc.stdout + proc.stderr[-3000:]


def test_load_binary_still_refuses_spirv():
    from triton.backends.intel.driver import XPUUtils
    with pytest.raises(level_zero.NativeBinaryError, match="loads native binaries only, never SPIR-V"):
        XPUUtils().load_binary("k", b"\x03\x02\x23\x07", 0, "", True, 0)


# --- which executor runs where -----------------------------------------------------------------------------------


def test_a_real_gpu_selects_the_gpu_executor(monkeypatch):
    monkeypatch.delenv(ne.EXECUTOR_ENV, raising=False)
    monkeypatch.setattr(level_zero, "intel_render_nodes", lambda root=level_zero.DRM_ROOT: ["/sys/class/drm/renderD128"])
    assert ne.select_executor_kind() == "gpu"
    monkeypatch.setattr(level_zero, "intel_render_nodes", lambda root=level_zero.DRM_ROOT: [])
    assert ne.select_executor_kind() == "cpu"
    assert ne.select_executor_kind(gpu_present=True) == "gpu"
    monkeypatch.setenv(ne.EXECUTOR_ENV, "cpu")
    assert ne.select_executor_kind(gpu_present=True) == "cpu"
    monkeypatch.setenv(ne.EXECUTOR_ENV, "fpga")
    with pytest.raises(ValueError, match="choose gpu or cpu"):
        ne.select_executor_kind()


def test_this_machine_selects_what_it_has():
    assert ne.select_executor_kind() == ("gpu" if level_zero.intel_render_nodes() else
                                         os.environ.get(ne.EXECUTOR_ENV) or "cpu")


def test_the_gpu_executor_fails_rather_than_skips_on_an_emulated_device(tmp_path):
    # Where the GPU executor is chosen it must run on the real device: an emulated one is an error, never a
    # silent fallback or a skip.  (In a child: it initialises the Level Zero driver on the emulated pvc.)
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import numeric_executors as ne\n"
            "try:\n    ne.GpuExecutor()\nexcept RuntimeError as e:\n    print('refused:', e)\n") % os.path.dirname(
                ne.__file__)
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert "refused: an Intel GPU is present but the project's driver reports an emulated device" in proc.stdout, \
        proc.stdout + proc.stderr[-2000:]


def test_tests_that_launch_broken_binaries_never_run_on_a_real_gpu(monkeypatch, request):
    # python/test/conftest.py skips every test marked launches_broken_binaries (the fuzzer, the validator's launches
    # of edited zebins) where a real Intel GPU is present.
    # The root conftest as pytest loaded it (a plugin registered under its file's path).
    root = request.config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    assert root is not None and hasattr(root, "pytest_collection_modifyitems")

    class Item:

        def __init__(self, marked):
            self.marks = [pytest.mark.launches_broken_binaries.mark] if marked else []

        def get_closest_marker(self, name):
            return next((m for m in self.marks if m.name == name), None)

        def add_marker(self, mark):
            self.marks.append(mark.mark)

    for gpu in (False, True):
        monkeypatch.setattr(root, "_real_intel_gpu", lambda: gpu)
        broken, plain = Item(True), Item(False)
        root.pytest_collection_modifyitems(None, [broken, plain])
        assert bool(broken.get_closest_marker("skip")) == gpu
        assert plain.get_closest_marker("skip") is None


def test_the_gpu_executor_path_runs_on_the_emulated_device(tmp_path):
    # The GPU executor's whole path -- kernel[grid] for the device's target, zebin, the project's driver: shared
    # memory, load, launch, synchronise, copy back -- on the emulated pvc, where kernels do not execute: the output
    # keeps its contents.  (On a real GPU the numeric tests run this path and check the numbers.)
    code = ("import sys; sys.path.insert(0, %r); sys.path.insert(0, %r)\n"
            "import numpy as np, kernels, numeric_executors as ne\n"
            "ex = ne.GpuExecutor(allow_emulated=True)\n"
            "x = np.ones(2048, np.float32); out = np.full(2048, 7, np.float32)\n"
            "info = ex.run(kernels.add_kernel, (2, ), [x, x, out, 2048], BLOCK=1024)\n"
            "print('kernel', info.name, 'signature', info.signature['x_ptr'], 'out', set(out.tolist()))\n"
            ) % (os.path.dirname(ne.__file__), os.path.dirname(examples.__file__))
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert "kernel add_kernel signature *fp32 out {7.0}" in proc.stdout, proc.stdout + proc.stderr[-3000:]

"""The numeric suite's machinery (numeric_executors.py): the SPIR-V edit, the launch contract, and which executor
runs where."""

import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from triton.backends.intel import spirv as spv
from triton.backends.intel.runtime import level_zero

import kernels as examples
import numeric_executors as ne

ADD = ne.Kernel(examples.add_kernel, {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n_elements": "i32"},
                {"BLOCK": 1024})
SOFTMAX = ne.Kernel(examples.softmax_kernel, examples.SPECS["softmax"].signature, {"BLOCK": 1024})


@pytest.fixture(scope="module")
def add_pvc():
    return ADD.compile(ne.GPUTarget("xpu", "pvc", 32))


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
    # Why the edit exists (measured with intel-opencl-rt 2026.2): the original module does not build.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception):
            cpu.cl.Program(cpu.context, add_pvc.asm["spv"]).build()


# --- the launch contract ---------------------------------------------------------------------------------------


def test_contract_comes_from_the_project_launcher():
    compiled = SOFTMAX.compile(ne.GPUTarget("xpu", "pvc", 32))
    contract = ne.LaunchContract.of(compiled)
    md = compiled.metadata
    assert contract.kinds == ("ptr", "ptr", "i32", "i32", "i32")
    assert contract.group_size == (md.num_warps * md.threads_per_warp, 1, 1)
    assert contract.shared == md.shared > 0  # softmax's cross-warp reduction: the trailing local-memory argument
    assert contract.global_size((3, 2)) == (3 * md.num_warps * md.threads_per_warp, 2, 1)


def test_a_wrong_contract_shows_in_the_results(cpu):
    # The numeric tests check the contract: launched with half the work-group size, half of every block is never
    # computed; launched without the local-memory argument, the kernel does not launch at all.
    n = 4096
    x, y, out = np.ones(n, np.float32), np.ones(n, np.float32), np.zeros(n, np.float32)
    compiled = cpu.compile(ADD)
    right = ne.LaunchContract.of(compiled)
    half = ne.LaunchContract(right.keep, right.kinds, (right.group_size[0] // 2, 1, 1), right.shared)
    cpu._launch(compiled, half, (n // 1024, 1, 1), [x, y, out, n])
    assert 0 < np.count_nonzero(out == 2) < n
    cpu._launch(compiled, right, (n // 1024, 1, 1), [x, y, out, n])
    assert np.all(out == 2)

    softmax = cpu.compile(SOFTMAX)
    contract = ne.LaunchContract.of(softmax)
    no_shared = ne.LaunchContract(contract.keep, contract.kinds, contract.group_size, 0)
    rows = np.zeros((2, 1024), np.float32)
    # (pyopencl counts the kernel's arguments: the sixth, its local memory, is missing.)
    with pytest.raises(Exception, match="arg5|INVALID_KERNEL_ARGS"):
        cpu._launch(softmax, no_shared, (2, 1, 1), [rows.copy(), rows, 1024, 1024, 1024])


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


def test_tests_that_launch_broken_binaries_never_run_on_a_real_gpu(monkeypatch):
    # python/test/conftest.py skips every test marked launches_broken_binaries (the fuzzer, the validator's launches
    # of edited zebins) where a real Intel GPU is present.
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_root_conftest_for_test", path)
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)

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
    # The GPU executor's whole path -- compile for the device's target, zebin, the project's driver: shared memory,
    # load, launch, synchronise, copy back -- on the emulated pvc, where kernels do not execute: the output keeps
    # its contents.  (On a real GPU the numeric tests run this path and check the numbers.)
    code = ("import sys; sys.path.insert(0, %r); sys.path.insert(0, %r)\n"
            "import numpy as np, kernels, numeric_executors as ne\n"
            "ex = ne.GpuExecutor(allow_emulated=True)\n"
            "k = ne.Kernel(kernels.add_kernel, {'x_ptr': '*fp32', 'y_ptr': '*fp32', 'out_ptr': '*fp32', "
            "'n_elements': 'i32'}, {'BLOCK': 1024})\n"
            "x = np.ones(2048, np.float32); out = np.full(2048, 7, np.float32)\n"
            "c = ex.run(k, (2, ), [x, x, out, 2048])\n"
            "print('target', ex.target(k).arch['arch'], 'zebin', c.asm['zebin'][:4] == b'\\x7fELF', 'out', set(out.tolist()))\n"
            ) % (os.path.dirname(ne.__file__), os.path.dirname(examples.__file__))
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert "target pvc zebin True out {7.0}" in proc.stdout, proc.stdout + proc.stderr[-3000:]

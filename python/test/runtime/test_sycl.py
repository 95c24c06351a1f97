"""Launching on a caller's SYCL queue, as PyTorch hands Triton its streams and memory: a real SYCL runtime
(dpctl 0.22 and intel-sycl-rt 2026) on the emulated pvc, where kernels do not execute but every Level Zero
and SYCL call runs.

Only the `current` toolchain has a SYCL runtime that works with its driver stack; elsewhere these tests are
skipped with the reason.  What needs no SYCL runtime (libsycl never loaded without a queue, the error when
it is missing) runs everywhere.
"""

import importlib.util
import json
import os
import textwrap

import pytest

from test_driver import run, run_json

HAVE_DPCTL = importlib.util.find_spec("dpctl") is not None
TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")
# Skipped (with the probed reason) where the SYCL runtime cannot open the GPU; never on `current`.
needs_sycl = pytest.mark.usefixtures("sycl_gpu")

# The emulated device is set up before the SYCL runtime starts Level Zero (it reads NEO's settings then).
SYCL_PRELUDE = """
    level_zero.runtime()
    import dpctl, dpctl.memory as dpm
    import numpy as np
    from triton.backends.intel.runtime import sycl

    class USM:
        '''dpctl USM memory seen as a tensor: data_ptr() and a dtype, what Triton's JIT binds pointers from.'''
        dtype = "float32"
        def __init__(self, memory):
            self.memory = memory
        def data_ptr(self):
            return self.memory._pointer

    N = 1024
"""


def run_sycl(code: str):
    return run_json(textwrap.dedent(SYCL_PRELUDE) + textwrap.dedent(code))


@needs_sycl
def test_kernels_launch_on_in_order_and_default_queues_in_the_queues_context():
    out = run_sycl("""
        result = {}
        for kind, props in (("in_order", {"property": "in_order"}), ("default", {})):
            q = dpctl.SyclQueue("level_zero:gpu", **props)
            x, y = USM(dpm.MemoryUSMDevice(4 * N, queue=q)), USM(dpm.MemoryUSMShared(4 * N, queue=q))
            driver.active.set_current_stream(q)
            stream = driver.active.get_current_stream()
            k = kernels.add_kernel[(4, )](x, y, x, N, BLOCK=256)
            k = kernels.add_kernel[(4, )](x, y, x, N, BLOCK=256)  # the second launch reuses the module
            driver.active.synchronize()
            info = sycl.queue(stream)
            copies = [key for key in sycl._kernels if key[0] == k.function]
            (module, kernel, _), = [sycl._kernels[key] for key in copies]
            result[kind] = {
                "in_order": info.in_order,
                "module_context_is_the_queues": level_zero.runtime().ze.kernel_context(kernel) == info.context,
                "own_context_differs": level_zero.runtime().ze.kernel_context(k.function) != info.context,
                "copies": len(copies),
                "launchers": [key[1] == stream for key in k.run._queue_launchers],
            }
        print(json.dumps(result))
    """)
    assert out["in_order"]["in_order"] is True and out["default"]["in_order"] is False
    for kind in ("in_order", "default"):
        assert out[kind]["module_context_is_the_queues"] and out[kind]["own_context_differs"], out
        assert out[kind]["copies"] == 1
    assert out["in_order"]["launchers"] == [True] and out["default"]["launchers"] == [False, True]


@needs_sycl
def test_kernels_with_shared_memory_get_it_on_the_queue_and_usm_interface_objects_are_pointers():
    out = run_sycl("""
        q = dpctl.SyclQueue("level_zero:gpu", property="in_order")
        mem = dpm.MemoryUSMShared(4 * 4 * N, queue=q)
        with driver.active.stream(q):
            sm = kernels.softmax_kernel[(4, )](USM(mem), USM(mem), N, N, 1000, BLOCK=N)
            # A CompiledKernel takes objects with __sycl_usm_array_interface__ (dpctl) as pointers.
            add = kernels.SPECS["add"].compile("pvc")
            add[(1, 1, 1)](mem, mem, mem, N)
            driver.active.synchronize()
        print(json.dumps({"shared": sm.metadata.shared, "usm_interface": hasattr(mem, "__sycl_usm_array_interface__")}))
    """)
    assert out["shared"] > 0 and out["usm_interface"]


@needs_sycl
def test_set_current_stream_returns_the_previous_one_and_the_context_manager_restores_it():
    out = run_sycl("""
        q1 = dpctl.SyclQueue("level_zero:gpu", property="in_order")
        q2 = dpctl.SyclQueue("level_zero:gpu", property="in_order")
        seen = {"start": driver.active.get_current_stream()}
        seen["first_previous"] = driver.active.set_current_stream(q1)
        seen["q1"] = driver.active.get_current_stream()
        with driver.active.stream(q2) as inside:
            seen["inside"] = [inside == driver.active.get_current_stream(), inside != seen["q1"]]
        seen["after"] = driver.active.get_current_stream() == seen["q1"]
        seen["previous_is_q1"] = driver.active.set_current_stream(0) is q1
        seen["own"] = driver.active.get_current_stream()
        print(json.dumps(seen))
    """)
    assert out["start"] == 0 and out["first_previous"] is None and out["q1"] != 0
    assert out["inside"] == [True, True] and out["after"] and out["previous_is_q1"] and out["own"] == 0


@needs_sycl
def test_get_current_stream_is_torchs_current_queue_when_torch_is_initialised():
    # torch with XPU support cannot be installed here: a stand-in (a test double) exposes what the driver
    # reads of it, torch.xpu.is_initialized() and torch.xpu.current_stream(device).sycl_queue.
    out = run_sycl("""
        import sys, types
        q = dpctl.SyclQueue("level_zero:gpu", property="in_order")
        address, keep = sycl.hold(q)
        before = driver.active.get_current_stream()  # the driver is chosen before torch is imported
        torch_stand_in = types.ModuleType("torch")
        torch_stand_in.version = types.SimpleNamespace(hip=None, cuda=None, xpu="stand-in")
        state = {"initialized": False}
        torch_stand_in.xpu = types.SimpleNamespace(
            is_initialized=lambda: state["initialized"],
            current_stream=lambda device=None: types.SimpleNamespace(sycl_queue=address))
        sys.modules["torch"] = torch_stand_in
        imported = driver.active.get_current_stream()  # torch imported, XPU not initialised: the driver's own
        state["initialized"] = True
        during = driver.active.get_current_stream()
        x = USM(dpm.MemoryUSMDevice(4 * N, queue=q))
        k = kernels.add_kernel[(4, )](x, x, x, N, BLOCK=256)
        driver.active.synchronize()
        print(json.dumps({"before": [before, imported], "during": during == address,
                          "launched_on_it": [key[1] == address for key in k.run._queue_launchers]}))
    """)
    assert out == {"before": [0, 0], "during": True, "launched_on_it": [True]}


@needs_sycl
def test_memory_the_queue_cannot_use_is_refused_naming_the_argument():
    out = run_sycl("""
        import re
        q = dpctl.SyclQueue("level_zero:gpu", property="in_order")
        good = USM(dpm.MemoryUSMDevice(4 * N, queue=q))
        own = driver.active.alloc(4 * N, "device", "float32")
        host = np.zeros(N, np.float32)

        class Address:
            dtype = "float32"
            def __init__(self, address):
                self.address = address
            def data_ptr(self):
                return self.address

        errors = {}
        def attempt(case, *args):
            try:
                kernels.add_kernel[(4, )](*args, N, BLOCK=256)
            except Exception as e:
                errors[case] = [type(e).__name__, re.sub("0x[0-9a-f]+", "ADDRESS", str(e))]
        with driver.active.stream(q):
            attempt("driver's own memory on the queue", good, own, good)
            attempt("host memory on the queue", good, good, Address(host.ctypes.data))
        attempt("the queue's memory without it", good, own, own)
        print(json.dumps(errors))
    """)
    tail = ". Nothing was launched"
    assert out == {
        "driver's own memory on the queue": [
            "PointerArgumentError", "add_kernel argument 1 (y_ptr): ADDRESS is not memory the device can use: it is "
            "memory of the Triton driver's own Level Zero context (driver.active.alloc), not of the SYCL queue's; "
            "allocate it on the queue (a torch XPU tensor, or dpctl memory of that queue), or launch without a "
            "SYCL stream (driver.active.set_current_stream(0))" + tail],
        "host memory on the queue": [
            "PointerArgumentError", "add_kernel argument 2 (out_ptr): ADDRESS is not memory the device can use: it "
            "is host memory of this process that was not allocated through Level Zero (e.g. from malloc, numpy or "
            "a CPU tensor); allocate it with driver.active.alloc(nbytes, kind='device'|'shared'|'host'), or pass "
            "an XPU tensor" + tail],
        "the queue's memory without it": [
            "PointerArgumentError", "add_kernel argument 0 (x_ptr): ADDRESS is not memory the device can use: it is "
            "memory of another Level Zero context (e.g. a SYCL queue's: a torch XPU tensor or dpctl memory), not of "
            "the Triton driver's own; launch on that queue: pass it as the stream "
            "(driver.active.set_current_stream(queue), or torch's current stream), or allocate with "
            "driver.active.alloc" + tail],
    }


@needs_sycl
def test_a_sycl_runtime_the_wheel_is_not_built_for_is_refused():
    # A library named libsycl.so.7 (an empty test double) stands for a SYCL runtime of another ABI.
    out = run(textwrap.dedent(SYCL_PRELUDE).replace("import dpctl, dpctl.memory as dpm",
                                                    "import ctypes, subprocess, tempfile") + textwrap.dedent("""
        lib = tempfile.mkdtemp() + "/libsycl.so.7"
        open(lib + ".c", "w").write("int libsycl_stand_in;\\n")
        subprocess.run(["cc", "-shared", "-o", lib, lib + ".c"], check=True)
        ctypes.CDLL(lib)
        try:
            driver.active.set_current_stream(12345)
        except Exception as e:
            print(json.dumps([type(e).__name__, str(e).replace(lib, "LIB")]))
    """))
    kind, message = json.loads(out.stdout.strip().splitlines()[-1])
    assert kind == "SyclUnavailable"
    assert message == ("this process runs a SYCL runtime (LIB, libsycl.so.7) that triton-xpu's SYCL part is not "
                       "built for (libsycl.so.9, libsycl.so.8); use a PyTorch or dpctl built on oneAPI 2025 or 2026")


def test_the_wheel_has_a_sycl_part_for_each_runtime_abi():
    # PyTorch 2.7 runs oneAPI 2025 (libsycl.so.8), dpctl 0.22 oneAPI 2026 (libsycl.so.9).  Only the latter can
    # make a queue here; the former's part is checked for what it links and exports.
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    import triton.backends.intel as intel
    folder = os.path.dirname(intel.__file__)
    parts = {n.split(".")[0]: os.path.join(folder, n) for n in os.listdir(folder) if n.startswith("_sycl")}
    assert sorted(parts) == ["_sycl8", "_sycl9"]
    for major in (8, 9):
        with open(parts[f"_sycl{major}"], "rb") as f:
            elf = ELFFile(f)
            needed = [t.needed for s in elf.iter_sections() if isinstance(s, DynamicSection)
                      for t in s.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
            exports = {sym.name for sym in elf.get_section_by_name(".dynsym").iter_symbols()}
        assert f"libsycl.so.{major}" in needed and [n for n in needed if n.startswith("libsycl")] == \
            [f"libsycl.so.{major}"]
        assert f"PyInit__sycl{major}" in exports


def test_libsycl_is_never_loaded_without_a_queue():
    out = run_json("""
        compiled = kernels.SPECS["add"].compile("pvc")
        x = driver.active.alloc(4096, "device", "float32")
        compiled[(1, 1, 1)](x, x, x, 1024)
        driver.active.synchronize()
        mapped = [line for line in open("/proc/self/maps") if "libsycl" in line]
        print(json.dumps({"stream": driver.active.get_current_stream(), "libsycl": mapped,
                          "modules": [m for m in sys.modules if m.endswith("_sycl")]}))
    """)
    assert out == {"stream": 0, "libsycl": [], "modules": []}


def test_a_missing_sycl_runtime_is_one_clear_error():
    # Real where intel-sycl-rt is not installed (legacy); elsewhere the import of the SYCL part is made to fail
    # as it does without libsycl (a test double).
    hide = "" if not HAVE_DPCTL else ("sys.modules['triton.backends.intel._sycl9'] = None\n"
                                      "sys.modules['triton.backends.intel._sycl8'] = None\n")
    out = run_json(hide + textwrap.dedent("""
        try:
            driver.active.set_current_stream(12345)
            error = None
        except Exception as e:
            error = [type(e).__name__, str(e)]
        print(json.dumps({"error": error, "stream": driver.active.get_current_stream()}))
    """))
    kind, message = out["error"]
    assert kind == "SyclUnavailable" and out["stream"] == 0
    assert message.startswith("launching on a SYCL queue needs the SYCL runtime (libsycl), which could not be "
                              "loaded (")
    assert message.endswith("); install it: pip install 'triton-xpu[sycl]'")
    if not HAVE_DPCTL:
        assert "libsycl.so.9: cannot open shared object file" in message
        assert "libsycl.so.8: cannot open shared object file" in message

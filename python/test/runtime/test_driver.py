"""The native-only driver through Triton's own entry points, on the emulated pvc device (the real NEO driver).

Each test runs its Level Zero work in a fresh process: NEO reads the emulation settings when it loads, and a
crash must fail the test rather than end pytest.
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from triton.backends.intel.runtime import level_zero

REPO = Path(__file__).resolve().parents[3]

PRELUDE = textwrap.dedent("""
    import json, sys, warnings
    sys.path.insert(0, {examples!r})
    import kernels
    import triton
    import triton.language as tl
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero
""").format(examples=str(REPO / "examples"))


def run(code: str, emulate: str = "pvc", cwd=None, env=None):
    full_env = dict(os.environ, **(env or {}))
    if emulate:
        full_env["TRITON_XPU_EMULATE"] = emulate
    else:
        full_env.pop("TRITON_XPU_EMULATE", None)
    # A file, not -c: @triton.jit needs the kernel's source.
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="driver_test_", delete=False) as script:
        script.write(PRELUDE + textwrap.dedent(code))
    try:
        return subprocess.run([sys.executable, script.name], capture_output=True, text=True, env=full_env, cwd=cwd,
                              timeout=600)
    finally:
        os.unlink(script.name)


def run_json(code: str, **kw):
    proc = run(code, **kw)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- no device ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(bool(level_zero.intel_render_nodes()), reason="an Intel GPU is present")
def test_without_a_device_the_driver_is_inactive_and_loads_nothing():
    out = run_json("""
        from triton.backends import backends
        active = backends["intel"].driver.is_active()
        try:
            driver.active.get_current_target()
            error = None
        except RuntimeError as e:
            error = str(e)
        compiled = kernels.SPECS["add"].compile("pvc")
        print(json.dumps({"active": active, "error": error, "zebin": len(compiled.asm["zebin"]),
                          "ze_loaded": "triton.backends.intel._level_zero" in sys.modules}))
    """, emulate=None)
    assert out["active"] is False
    assert out["error"] == (
        "0 active drivers ([]). There should only be one. xpu: no Intel GPU was found (no Intel render node in "
        "/sys/class/drm) and TRITON_XPU_EMULATE is not set. To run on an emulated device (driver calls run, "
        "kernels do not execute), set TRITON_XPU_EMULATE=pvc (or acm-g10, tgllp, bmg, bmg-g31); to compile without a "
        "device, name the target: triton.compile(src, target=GPUTarget(\"xpu\", \"pvc\", 32)), or "
        "`triton-xpu compile --target pvc`.")
    assert out["zebin"] > 0 and out["ze_loaded"] is False


def test_render_nodes_of_other_vendors_do_not_count(tmp_path):
    from triton.backends.intel.runtime import level_zero
    for node, vendor in (("renderD128", "0x10de\n"), ("renderD129", "0x8086\n"), ("renderD130", "garbage")):
        (tmp_path / node / "device").mkdir(parents=True)
        (tmp_path / node / "device" / "vendor").write_text(vendor)
    assert level_zero.intel_render_nodes(str(tmp_path)) == [str(tmp_path / "renderD129")]
    assert level_zero.intel_render_nodes(str(tmp_path / "missing")) == []


def test_unknown_emulated_device_is_a_clear_error():
    proc = run("driver.active.get_current_target()", emulate="h100")
    assert proc.returncode != 0
    assert "TRITON_XPU_EMULATE='h100' is not an emulated device; choose one of: pvc, acm-g10, tgllp" in proc.stderr


# --- the emulated device -----------------------------------------------------------------------------------


def test_emulated_pvc_is_the_active_driver_with_its_target(tmp_path):
    out = run_json("""
        target = driver.active.get_current_target()
        props = driver.active.utils.get_device_properties(driver.active.get_current_device())
        print(json.dumps({"backend": target.backend, "arch": target.arch["arch"], "warp": target.warp_size,
                          "sub_group_sizes": target.arch["sub_group_sizes"], "max_shared_mem": props["max_shared_mem"],
                          "device_id": props["device_id"], "emulated": props["emulated"]}))
    """, cwd=tmp_path)
    assert (out["backend"], out["arch"], out["warp"]) == ("xpu", "pvc", 32)
    assert out["device_id"] == 0x0BD5 and out["emulated"] is True
    assert 16 in out["sub_group_sizes"] and out["max_shared_mem"] > 0


def test_capture_files_stay_out_of_the_working_directory_and_a_warning_is_given_once(tmp_path):
    proc = run("""
        buf = driver.active.alloc(4096, "shared", "float32")
        k = kernels.add_kernel[(1, )](buf, buf, buf, 1024, BLOCK=1024)
        k = kernels.add_kernel[(1, )](buf, buf, buf, 1024, BLOCK=1024)
        driver.active.synchronize()
        import triton.backends.intel.runtime.emulation as emu
        print(json.dumps({"capture_dir": emu._capture_dir}))
    """, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    capture_dir = json.loads(proc.stdout.strip().splitlines()[-1])["capture_dir"]
    assert list(tmp_path.iterdir()) == []
    assert not os.path.exists(capture_dir)  # removed at exit
    assert proc.stderr.count("kernels do not execute") == 1


def test_jit_launch_end_to_end_on_shared_memory():
    out = run_json("""
        import numpy as np
        n = 3000
        x = driver.active.alloc(4 * n, "shared", "float32")
        y = driver.active.alloc(4 * n, "shared", "float32")
        z = driver.active.alloc(4 * n, "shared", "float32")
        x.numpy()[:] = 1.0
        z.numpy()[:] = 7.0
        k = kernels.add_kernel[(triton.cdiv(n, 1024), )](x, y, z, n, BLOCK=1024)
        driver.active.synchronize()
        md = k.metadata
        print(json.dumps({"arch": md.target.arch["arch"] if isinstance(md.target.arch, dict) else md.target.arch,
                          "n_regs": k.n_regs, "n_spills": k.n_spills, "grf": md.n_regs,
                          "module": k.module != 0, "x0": float(x.numpy()[0]), "z0": float(z.numpy()[0])}))
    """)
    assert out["arch"] == "pvc" and out["module"]
    assert out["n_regs"] == out["grf"] == 128 and out["n_spills"] == 0
    # The emulated device does not execute kernels: memory keeps what the host wrote.
    assert out["x0"] == 1.0 and out["z0"] == 7.0


def test_launch_with_every_scalar_kind_and_constexpr_dropped():
    out = run_json("""
        @triton.jit
        def scalars(out_ptr, a, b, c, d, e, BLOCK: tl.constexpr):
            offs = tl.arange(0, BLOCK)
            tl.store(out_ptr + offs, a + b + c + d + e + offs)

        out = driver.active.alloc(4 * 64, "device", "float32")
        k = scalars[(2, )](out, 3, 2**40, 1.5, True, -7, BLOCK=64)
        driver.active.synchronize()
        print(json.dumps({"sig": list(k.src.signature.values()), "kinds": k.run.kinds}))
    """)
    assert out["sig"] == ["*fp32", "i32", "i64", "fp32", "i1", "i32", "constexpr"]
    assert out["kinds"] == ["ptr", "i32", "i64", "fp32", "i1", "i32"]


def test_wrong_argument_count_is_a_type_error():
    out = run_json("""
        compiled = kernels.SPECS["add"].compile("pvc")
        buf = driver.active.alloc(4096, "device", "float32")
        try:
            compiled[(1, 1, 1)](buf, buf, 1024)  # missing one pointer (BLOCK is a constexpr)
            error = None
        except TypeError as e:
            error = str(e)
        print(json.dumps({"error": error}))
    """)
    assert out["error"] == ("add_kernel takes 4 runtime arguments (x_ptr, y_ptr, out_ptr, n_elements), or 5 with "
                            "its constexprs; got 3")


def test_memory_the_device_cannot_use_is_refused_naming_the_argument():
    # NEO 26.x accepts any address as a pointer argument (the kernel would fault on the GPU) and 22.43
    # refuses it without saying which: the launcher checks each pointer against the device's context.
    out = run_json("""
        import ctypes, re
        import numpy as np
        compiled = kernels.SPECS["add"].compile("pvc")
        good = driver.active.alloc(4096, "device", "float32")

        class Address:  # a tensor-like object holding any address
            dtype = "float32"
            def __init__(self, address):
                self.address = address
            def data_ptr(self):
                return self.address

        host = np.zeros(1024, np.float32)
        freed = driver.active.alloc(4096, "shared", "float32")
        freed_address = freed.data_ptr()
        del freed
        cases = {"host": Address(host.ctypes.data), "freed": Address(freed_address), "unmapped": Address(0x1000),
                 "past the end": Address(good.data_ptr() + 4096)}
        errors = {}
        for case, arg in cases.items():
            try:
                compiled[(1, 1, 1)](good, arg, good, 1024)
            except Exception as e:
                errors[case] = [type(e).__name__, re.sub("0x[0-9a-f]+", "ADDRESS", str(e))]
        compiled[(1, 1, 1)](good, Address(good.data_ptr() + 4092), good, 1)  # inside: launched
        compiled[(1, 1, 1)](good, None, good, 0)  # a null pointer: launched
        try:
            compiled[(1, 1, 1)](good, good, good, 1.5)
        except TypeError as e:
            errors["float for i32"] = ["TypeError", str(e)]
        driver.active.synchronize()
        print(json.dumps(errors))
    """)
    head = "add_kernel argument 1 (y_ptr): ADDRESS is not memory the device can use: "
    tail = ". Nothing was launched"
    assert out == {
        "host": ["PointerArgumentError", head + "it is host memory of this process that was not allocated through "
                 "Level Zero (e.g. from malloc, numpy or a CPU tensor); allocate it with driver.active.alloc(nbytes, "
                 "kind='device'|'shared'|'host'), or pass an XPU tensor" + tail],
        "freed": ["PointerArgumentError", head + "it lies in a 4096-byte shared allocation that was freed; keep the "
                  "buffer (or tensor) alive until the kernel has run" + tail],
        "unmapped": ["PointerArgumentError", head + "no memory is mapped at that address; pass a live allocation "
                     "(driver.active.alloc, or an XPU tensor)" + tail],
        "past the end": ["PointerArgumentError", head + "it is just past the end of an allocation; check the "
                         "pointer's offset against the buffer's size" + tail],
        "float for i32": ["TypeError", "add_kernel argument 3 (n_elements): expected i32 (an int), got float"],
    }


def test_device_memory_is_not_host_visible():
    out = run_json("""
        buf = driver.active.alloc(64, "device")
        try:
            buf.numpy()
            error = None
        except ValueError as e:
            error = str(e)
        print(json.dumps({"error": error, "ptr": buf.data_ptr() != 0, "nbytes": buf.nbytes}))
    """)
    assert out["error"].startswith("device memory is not host-visible") and out["ptr"] and out["nbytes"] == 64


# --- refusals ------------------------------------------------------------------------------------------------

REFUSALS = """
    from triton.backends.compiler import GPUTarget
    from triton.backends.intel.native import ocloc
    utils = driver.active.utils
    add = kernels.SPECS["add"].compile("pvc")
    zebin_pvc = add.asm["zebin"]
    cases = {
        "spirv": add.asm["spv"],
        "random": bytes(range(256)) * 8,
        "truncated": zebin_pvc[:len(zebin_pvc) // 3],
        "x86_elf": open(sys.executable, "rb").read(4096),
        "acm_g10": kernels.SPECS["add"].compile("acm-g10").asm["zebin"],
        "acm_g10_with_ir": triton.compile(kernels.SPECS["add"].source(), target=GPUTarget("xpu", "acm-g10", 32),
                                          options={**kernels.SPECS["add"].options, "keep_ir": True}).asm["zebin"],
        "fat_without_pvc": ocloc.compile_spirv(add.asm["spv"], ["acm-g10", "tgllp"]).binary,
    }
    result = {}
    for name, binary in cases.items():
        try:
            utils.load_binary("add_kernel", binary, 0, "", 0)
            result[name] = None
        except Exception as e:
            result[name] = [type(e).__name__, str(e)]
    fat = ocloc.compile_spirv(add.asm["spv"], ["acm-g10", "pvc"]).binary
    module, function, n_regs, n_spills = utils.load_binary("add_kernel", fat, 0, "", 0)
    result["fat_with_pvc"] = [function != 0, n_regs]
    print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def refusals():
    return run_json(REFUSALS)


@pytest.mark.parametrize("case, message", [
    ("spirv", "refusing SPIR-V: this driver loads only native binaries (zebin) and never compiles at load time"),
    ("random", "not a loadable native binary: "),
    ("truncated", "not a loadable native binary: "),
    ("x86_elf", "not a loadable native binary: "),
    ("acm_g10", "cannot load add_kernel: its zebin is native code for dg2 (acm-g10/acm-g11/acm-g12), but the device "
                "is pvc (product family pvc); native code runs only on the device it was compiled for, and this "
                "driver never recompiles at load time: recompile add_kernel for pvc (GPUTarget('xpu', 'pvc', ...), "
                "or `triton-xpu compile --target pvc`)"),
    ("fat_without_pvc", "fat binary has no member for pvc (members: acm-g10, tgllp)"),
])
def test_bad_binaries_are_refused_with_a_clear_message(refusals, case, message):
    kind, text = refusals[case]
    assert kind == "NativeBinaryError"
    assert message in text


def test_the_driver_explains_a_native_binary_neo_refuses():
    # Behind the load-time checks (which refuse a zebin of another product family themselves), NEO may still
    # refuse a native binary it finds incompatible with the device or driver: with no IR in the zebin, 22.43
    # answers INVALID_NATIVE_BINARY and 26.x MODULE_BUILD_FAILURE with an empty build log.  The error says so.
    import kernels
    from triton.backends.intel import _level_zero as ze
    from triton.backends.intel.runtime import level_zero
    dev = level_zero.Device(0, "Intel(R) Data Center GPU Max 1100", level_zero.targets.lookup("pvc"), {})
    refused = ze.ZeError("zeModuleCreate", 0x70000004, "ZE_RESULT_ERROR_MODULE_BUILD_FAILURE", "")
    native = kernels.SPECS["add"].compile("acm-g10").asm["zebin"]
    assert level_zero._driver_refusal(refused, "add_kernel", dev, native) == (
        "the Level Zero driver refused add_kernel on device 0 (Intel(R) Data Center GPU Max 1100, pvc): the driver "
        "found its native code incompatible with this device or driver, and the zebin carries no IR to recompile "
        "from (none is kept by default); recompile add_kernel for pvc. zeModuleCreate failed: "
        "ZE_RESULT_ERROR_MODULE_BUILD_FAILURE (0x70000004)")
    recompiled = ze.ZeError("zeModuleCreate", ze.RESULT_RECOMPILED_FROM_IR, "RECOMPILED_FROM_IR",
                            "warning: module got recompiled from IR [-Wrecompiled-from-ir]")
    assert level_zero._driver_refusal(recompiled, "add_kernel", dev, native).startswith(
        "the Level Zero driver refused add_kernel on device 0 (Intel(R) Data Center GPU Max 1100, pvc): the driver "
        "could load it only by recompiling the SPIR-V the zebin embeds (it was built with keep_ir), so its native "
        "code is not for this device or driver, and this driver never compiles at load time; recompile add_kernel "
        "for pvc. zeModuleCreate failed: RECOMPILED_FROM_IR")


def test_a_zebin_kept_with_ir_for_another_device_is_refused_too(refusals):
    # With keep_ir the zebin would load on pvc through NEO's silent recompile; this driver refuses it first.
    kind, text = refusals["acm_g10_with_ir"]
    assert kind == "NativeBinaryError"
    assert text.startswith("cannot load add_kernel: its zebin is native code for dg2 (acm-g10/acm-g11/acm-g12), but "
                           "the device is pvc")


def test_fat_binary_with_a_member_for_the_device_loads(refusals):
    assert refusals["fat_with_pvc"] == [True, 128]


def test_thousands_of_mutated_zebins_neither_crash_nor_leak():
    out = run_json("""
        import random, resource
        from triton.backends.intel.runtime.level_zero import NativeBinaryError
        utils = driver.active.utils
        good = kernels.SPECS["add"].compile("pvc").asm["zebin"]
        rng = random.Random(1234)
        outcomes = {"loaded": 0, "refused": 0}
        def rss():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for i in range(3000):
            data = bytearray(good)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if i % 10 == 0:
                data = data[:rng.randrange(len(data))]
            try:
                module, function, _, _ = utils.load_binary("add_kernel", bytes(data), 0, "", 0)
                utils.unload_binary(module, function)
                outcomes["loaded"] += 1
            except NativeBinaryError:
                outcomes["refused"] += 1
            if i == 500:
                base = rss()
        outcomes["rss_growth_kb"] = rss() - base
        print(json.dumps(outcomes))
    """)
    assert out["loaded"] + out["refused"] == 3000
    assert out["refused"] > 0 and out["loaded"] > 0
    assert out["rss_growth_kb"] < 64 * 1024


@pytest.mark.parametrize("emulate, arch, device_id", [("acm-g10", "acm-g10", 0x56A0), ("dg2", "acm-g10", 0x56A0),
                                                     ("tgllp", "tgllp", 0x9A49)])
def test_other_emulated_devices_compile_for_their_own_target(emulate, arch, device_id):
    out = run_json("""
        x = driver.active.alloc(4096, "shared", "float32")
        k = kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
        driver.active.synchronize()
        props = driver.active.get_device_properties()
        print(json.dumps({"arch": driver.active.get_current_target().arch["arch"], "device_id": props["device_id"],
                          "compiled_for": k.metadata.target_arch}))
    """, emulate=emulate)
    assert out == {"arch": arch, "device_id": device_id, "compiled_for": arch}


def test_a_binary_the_driver_would_recompile_from_ir_never_reaches_it():
    # A pvc zebin whose target metadata demands hardware revision 31: NEO would find it incompatible and
    # silently rebuild it from the embedded SPIR-V.  The load-time check refuses it first; behind it, the C++
    # runtime refuses any module NEO recompiled (test_level_zero_module.py loads an acm-g10 zebin on pvc).
    out = run_json("""
        import struct
        from triton.backends.intel.binary import zebin
        binary = bytearray(kernels.SPECS["add"].compile("pvc").asm["zebin"])
        word = zebin.read(bytes(binary)).target_metadata.packed
        at = bytes(binary).find(b"IntelGT\\0" + struct.pack("<I", word))
        assert at > 0
        demand_rev_31 = (word & ~(0x1F << 8 | 0x1F << 16)) | 1 << 13 | 31 << 8 | 31 << 16
        binary[at + 8:at + 12] = struct.pack("<I", demand_rev_31)
        try:
            driver.active.utils.load_binary("add_kernel", bytes(binary), 0, "", 0)
            error = None
        except Exception as e:
            error = [type(e).__name__, str(e)]
        print(json.dumps({"error": error}))
    """)
    kind, message = out["error"]
    assert kind == "NativeBinaryError"
    assert message == ("not a loadable native binary: corrupt .note.intelgt.compat: target metadata 0x003f3f00 "
                       "sets validateRevisionId (bit 13), which no compiler writes")


def test_benchmarker_and_the_calls_triton_testing_makes_work_without_torch():
    out = run_json("""
        x = driver.active.alloc(4096, "shared", "float32")
        fn = lambda: kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
        bench = driver.active.get_benchmarker()
        ms = bench(fn, quantiles=[0.5, 0.2, 0.8])
        driver.active.get_device_interface().synchronize()
        driver.active.utils.wait()
        cache = driver.active.get_empty_cache_for_benchmark()
        driver.active.clear_cache(cache)
        print(json.dumps({"ms": ms, "cache": cache.nbytes, "torch": "torch" in sys.modules,
                          "stream": driver.active.get_current_stream(0)}))
    """)
    assert len(out["ms"]) == 3 and all(m > 0 for m in out["ms"]) and out["ms"][1] <= out["ms"][2]
    assert out["cache"] >= 256 * 1024 * 1024 and out["torch"] is False and out["stream"] == 0


def test_kernels_using_shared_memory_get_their_local_memory_argument():
    # Triton passes shared local memory as one extra, last kernel argument (size only).
    out = run_json("""
        x = driver.active.alloc(4 * 1024 * 4, "shared", "float32")
        sm = kernels.softmax_kernel[(4, )](x, x, 1024, 1024, 1000, BLOCK=1024)
        ln = kernels.layernorm_kernel[(4, )](x, x, x, x, 1024, 1000, 1e-5, BLOCK=1024)
        driver.active.synchronize()
        print(json.dumps([sm.metadata.shared, ln.metadata.shared, repr(sm.run._launchers[sm.function])]))
    """)
    assert out[0] > 0 and out[1] > 0
    assert out[2].startswith("<Launcher softmax_kernel(ptr, ptr, i32, i32, i32)")


def test_bmg_is_emulated_where_the_driver_knows_it_else_the_error_says_which_driver_does():
    out = run_json("""
        from triton.backends.intel.errors import IntelBackendError
        try:
            devices = [d.target.name for d in level_zero.runtime().devices]
        except IntelBackendError as e:
            print(json.dumps({"error": str(e)}))
            sys.exit(0)
        n = 1024
        x = driver.active.alloc(4 * n, kind="shared", dtype="float32")
        ran = kernels.add_kernel[(1, )](x, x, x, n, BLOCK=1024)
        driver.active.synchronize()
        print(json.dumps({"devices": devices, "arch": ran.metadata.target_arch}))
    """, emulate="bmg")
    if "error" in out:  # NEO 22.43 does not know Battlemage
        assert out["error"].startswith("TRITON_XPU_EMULATE=bmg: the installed Level Zero driver (NEO) cannot "
                                       "emulate bmg (")
        assert "`./run --toolchain current`" in out["error"]
    else:  # NEO 26.x
        assert out == {"devices": ["bmg"], "arch": "bmg"}

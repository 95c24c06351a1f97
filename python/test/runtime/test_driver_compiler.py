"""The second native compiler: the Level Zero driver's own compiler, behind the same zebin stage and GRF
policy, at compile time.  Runs on the emulated pvc device (the real NEO driver and its IGC)."""

import re
import subprocess

import pytest

from test_driver import run, run_json

OCL_SUB_GROUP_8 = b"""
__attribute__((intel_reqd_sub_group_size(8)))
__kernel void sg8(__global float* a) { a[get_global_id(0)] = 1.0f; }
"""


def test_driver_compiler_applies_the_same_grf_policy_and_its_binaries_load_natively():
    out = run_json("""
        import dataclasses
        spilling = dataclasses.replace(kernels.SPECS["layernorm"], constexprs={"BLOCK": 8192}, options={"num_warps": 8})
        result = {}
        for name in ("ocloc", "driver"):
            opts = dict(spilling.options, native_compiler=name)
            k = dataclasses.replace(spilling, options=opts).compile("pvc")
            result[name] = {"compiler": k.metadata.native_compiler, "version": k.metadata.native_compiler_version,
                            "flags": [a["flags"] for a in k.metadata.grf_attempts], "grf": k.metadata.grf_mode,
                            "spill": k.metadata.spill_bytes}
            x = driver.active.alloc(4 * 8192, "shared", "float32")
            ran = spilling.fn[(1, )](x, x, x, x, 8192, 8192, 1e-5, BLOCK=8192, num_warps=8, native_compiler=name)
            driver.active.synchronize()
            result[name]["loaded"] = ran.module != 0 and ran.metadata.native_compiler == name
        print(json.dumps(result))
    """)
    ocloc, drv = out["ocloc"], out["driver"]
    assert ocloc["compiler"] == "ocloc" and ocloc["version"].startswith("ocloc ")
    assert drv["compiler"] == "driver" and drv["version"].startswith("level-zero driver ") and "(pvc)" in drv["version"]
    # One policy, two native compilers: both spill at 128, retry at 256 and keep it.
    assert drv["flags"] == ocloc["flags"] == ["", "-cl-intel-256-GRF-per-thread"]
    assert drv["grf"] == ocloc["grf"] == "256"
    assert ocloc["loaded"] and drv["loaded"]


def test_auto_uses_ocloc_for_targets_it_knows():
    out = run_json("""
        print(json.dumps(kernels.SPECS["add"].compile("pvc").metadata.native_compiler))
    """, env={"TRITON_XPU_NATIVE_COMPILER": "auto"})
    assert out == "ocloc"


@pytest.fixture
def ocloc_without_targets(tmp_path):
    """Stands in for an ocloc that predates the target (none such can be installed here): answers `ids` with
    no match and runs the real ocloc for everything else."""
    fake = tmp_path / "ocloc"
    fake.write_text('#!/bin/sh\n[ "$1" = ids ] && { echo "Could not determine target"; exit 1; }\n'
                    'exec /usr/bin/ocloc "$@"\n')
    fake.chmod(0o755)
    return str(fake)


def test_auto_uses_the_driver_where_ocloc_does_not_know_the_target(ocloc_without_targets):
    out = run_json("""
        print(json.dumps(kernels.SPECS["add"].compile("pvc").metadata.native_compiler))
    """, env={"TRITON_XPU_NATIVE_COMPILER": "auto", "TRITON_OCLOC_PATH": ocloc_without_targets})
    assert out == "driver"


def test_auto_without_ocloc_support_or_device_names_both_fixes(ocloc_without_targets):
    proc = run("""kernels.SPECS["add"].compile("pvc")""", emulate=None,
               env={"TRITON_XPU_NATIVE_COMPILER": "auto", "TRITON_OCLOC_PATH": ocloc_without_targets})
    assert proc.returncode != 0
    assert (f"no way to compile native code for pvc: the installed ocloc does not know pvc (`{ocloc_without_targets} "
            "ids pvc`: Could not determine target); install an ocloc that supports pvc (intel-opencl-icd). Without "
            "ocloc, native_compiler 'auto' uses the Level Zero driver's compiler, but no pvc device is present "
            "(TRITON_XPU_EMULATE=pvc provides an emulated one)\n") in proc.stderr


def test_driver_compiler_without_a_device_of_the_target_is_a_clear_error():
    proc = run("""kernels.SPECS["add"].compile("acm-g10")""", env={"TRITON_XPU_NATIVE_COMPILER": "driver"})
    assert proc.returncode != 0
    assert ("native_compiler 'driver' needs a Level Zero device of acm-g10, and none is present; use native_compiler "
            "'ocloc', or run where a acm-g10 device is (or TRITON_XPU_EMULATE=acm-g10)") in proc.stderr


def test_unknown_native_compiler_is_an_error():
    proc = run("""kernels.SPECS["add"].compile("pvc")""", env={"TRITON_XPU_NATIVE_COMPILER": "igc"})
    assert "unknown native compiler 'igc'; choose one of ocloc, driver, auto" in proc.stderr


def test_native_compiler_and_its_version_are_in_the_cache_key(tmp_path):
    out = run_json("""
        from triton.compiler.compiler import make_backend
        from triton.backends.compiler import GPUTarget
        a = kernels.SPECS["add"]
        import dataclasses
        k1 = dataclasses.replace(a, options={"native_compiler": "ocloc"}).compile("pvc")
        k2 = dataclasses.replace(a, options={"native_compiler": "driver"}).compile("pvc")
        backend = make_backend(GPUTarget("xpu", "pvc", 32))
        versions = [backend.parse_options({"native_compiler": n}).native_compiler_version for n in ("ocloc", "driver")]
        print(json.dumps({"hashes": [k1.hash, k2.hash], "compilers": [k1.metadata.native_compiler,
                          k2.metadata.native_compiler], "versions": versions, "key": backend.hash()}))
    """, env={"TRITON_CACHE_DIR": str(tmp_path)})
    assert out["hashes"][0] != out["hashes"][1] and out["compilers"] == ["ocloc", "driver"]
    # Each native compiler's version is in the options Triton hashes into the key; the backend's part names neither.
    assert out["versions"][0].startswith("ocloc ") and out["versions"][1].startswith("level-zero driver ")
    assert "ocloc" not in out["key"] and "level-zero" not in out["key"]


def test_hashing_and_compiling_with_ocloc_start_no_level_zero_driver(tmp_path):
    # A device is there (emulated), so a driver could be started; an ocloc compile must not start one.
    out = run_json("""
        from triton.compiler.compiler import make_backend
        from triton.backends.compiler import GPUTarget
        backend = make_backend(GPUTarget("xpu", "pvc", 32))
        backend.hash()
        md = kernels.SPECS["add"].compile("pvc").metadata
        with open("/proc/self/maps") as f:
            maps = f.read()
        print(json.dumps({"compiler": md.native_compiler, "runtime": level_zero._runtime is not None,
                          "mapped": [lib for lib in ("libze_loader", "libze_intel_gpu") if lib in maps]}))
    """, env={"TRITON_CACHE_DIR": str(tmp_path)})
    assert out == {"compiler": "ocloc", "runtime": False, "mapped": []}


def test_spirv_the_driver_rejects_carries_its_build_log(tmp_path):
    spv = tmp_path / "k.spv"
    src = tmp_path / "k.cl"
    src.write_bytes(OCL_SUB_GROUP_8)
    subprocess.run(["ocloc", "compile", "-file", str(src), "-device", "pvc", "-spv_only", "-output", "k",
                    "-output_no_suffix", "-out_dir", str(tmp_path), "-q"], check=True, capture_output=True)
    out = run_json(f"""
        from triton.backends.intel.native import compilers
        from triton.backends.intel.errors import CompilationError
        level_zero.runtime()
        try:
            compilers.DriverCompiler(0).compile(open({str(spv)!r}, "rb").read(), "pvc", "")
            error = None
        except CompilationError as e:
            error = [str(e).splitlines()[0], e.log]
        print(json.dumps(error))
    """)
    first_line, log = out
    # The driver's compiler's own reason is on the first line, taken from its log.  Its wording is IGC's
    # (1.0.12504 and 2.40: "Kernel compiled with required subgroup size 8, which is unsupported on this
    # platform"; IGC 2 also names the kernel) and may change with any upload of it.
    prefix = "the Level Zero driver failed to compile the SPIR-V for pvc (ZE_RESULT_ERROR_MODULE_BUILD_FAILURE): "
    assert first_line.startswith(prefix), first_line
    reason = first_line[len(prefix):]
    assert re.search(r"(?i)sub-?group size", reason), first_line
    assert reason.split(": ")[-1].strip() in log


def test_a_driver_compile_that_hangs_is_answered_at_the_timeout():
    # The driver's compiler runs inside the process and cannot be stopped; the caller still gets an answer
    # within TRITON_XPU_OCLOC_TIMEOUT.  The hanging compiler is a test double: a real IGC hang cannot be
    # produced on demand.
    out = run_json("""
        import threading, time
        from triton.backends.intel.native import compilers
        from triton.backends.intel.errors import CompilationError
        ze = level_zero.runtime().ze
        release = threading.Event()
        ze.compile_spirv = lambda *args: release.wait()  # stands in for a hung zeModuleCreate
        start = time.monotonic()
        try:
            compilers.DriverCompiler(0).compile(b"", "pvc", "")
            error = None
        except CompilationError as e:
            error = str(e).splitlines()[0]
        release.set()
        print(json.dumps({"error": error, "s": time.monotonic() - start}))
    """, env={"TRITON_XPU_OCLOC_TIMEOUT": "1"})
    assert out["error"] == (
        "the Level Zero driver did not finish compiling the SPIR-V for pvc within 1 s. Its compiler runs inside "
        "this process and cannot be stopped: it goes on in a background thread, so restart the process if it never "
        "ends; raise TRITON_XPU_OCLOC_TIMEOUT (seconds) if the kernel needs longer, or use native_compiler 'ocloc', "
        "whose runs are stopped")
    assert 1 <= out["s"] < 5


def test_driver_compiler_leaves_the_spirv_out_unless_asked():
    # NEO 26.27's zeModuleCreate keeps the .spv section whatever the build flags say (22.43's honours
    # -cl-intel-exclude-ir-from-zebin): the native compiler cuts it out, and the binary still loads natively.
    out = run_json("""
        from triton.backends.compiler import GPUTarget
        from triton.backends.intel.binary import zebin
        result = {}
        for keep_ir in (False, True):
            opts = dict(kernels.SPECS["add"].options, native_compiler="driver", keep_ir=keep_ir)
            compiled = triton.compile(kernels.SPECS["add"].source(), target=GPUTarget("xpu", "pvc", 32), options=opts)
            binary = compiled.asm["zebin"]
            module, function, _, _ = driver.active.utils.load_binary("add_kernel", binary, 0, "", 0)
            result[str(keep_ir)] = {"compiler": compiled.metadata.native_compiler,
                                    "spirv": zebin.read(binary).spirv == compiled.asm["spv"],
                                    "sections": zebin.read(binary).sections, "loaded": function != 0}
        print(json.dumps(result))
    """)
    without, kept = out["False"], out["True"]
    assert without["compiler"] == kept["compiler"] == "driver"
    assert ".spv" not in without["sections"] and not without["spirv"] and without["loaded"]
    assert ".spv" in kept["sections"] and kept["spirv"] and kept["loaded"]

"""The C++ Level Zero runtime, ``triton.backends.intel._level_zero``, on NEO's emulated devices.

Every test that touches the driver runs its Level Zero work in a fresh subprocess: NEO reads its
emulation settings (AUB-capture mode, see the shared toolchain notes) from the environment when it
loads, and a driver crash must fail one test, not kill pytest.  The snippets print one JSON line.
Argument packing and ZeError need no driver and run in-process (importing the module does not
initialise Level Zero).
"""

from __future__ import annotations

import json
import math
import os
import pickle
import struct
import subprocess
import sys
import textwrap

import pytest

try:
    from triton.backends.intel import _level_zero as ze
except ImportError as exc:  # pragma: no cover - reported as the failure of every test
    ze = None
    _IMPORT_ERROR = exc

# NEO's AUB-capture emulation, with the backend's own settings per product (emulation.environment): they
# differ between NEO versions (UseAubStream=0 for Debian's NEO 26.x, which has no aubstream).
from triton.backends.intel import targets  # noqa: E402
from triton.backends.intel.runtime import emulation

EMULATED = ("pvc", "acm-g10", "tgllp")
EMULATION = {name: emulation.environment(targets.lookup(name)) for name in EMULATED}
NEO_KEYS = set().union(*EMULATION.values()) | {"AUBDumpCaptureFileName", "CreateMultipleRootDevices",
                                               "AUBDumpToggleCaptureOnOff"}

ADD_KINDS = ["ptr", "ptr", "ptr", "i32"]
ADD_GROUP = (128, 1, 1)  # num_warps 4 x 32 threads per warp


def _require_module():
    if ze is None:
        pytest.fail(f"triton.backends.intel._level_zero is not built ({_IMPORT_ERROR}); build it with CMake "
                    "(see CMakeLists.txt) or install the package")


@pytest.fixture(scope="session")
def binaries(tmp_path_factory):
    """The example add kernel compiled for each emulated target: zebin (without IR, the default), zebin with
    its SPIR-V kept (``TARGET.ir.zebin``, keep_ir) and SPIR-V files."""
    _require_module()
    import kernels  # examples/, on sys.path via python/test/conftest.py
    import triton
    from triton.backends.compiler import GPUTarget

    out = tmp_path_factory.mktemp("add-kernel")
    files = {}
    spec = kernels.SPECS["add"]
    for target in EMULATION:
        k = spec.compile(target)
        assert k.metadata.name == "add_kernel"
        for kind in ("zebin", "spv"):
            path = out / f"add.{target}.{kind}"
            path.write_bytes(k.asm[kind])
            files[f"{target}.{kind}"] = str(path)
        kept = triton.compile(spec.source(), target=GPUTarget("xpu", target, 32), options={**spec.options,
                                                                                            "keep_ir": True})
        path = out / f"add.{target}.ir.zebin"
        path.write_bytes(kept.asm["zebin"])
        files[f"{target}.ir.zebin"] = str(path)
    return files


@pytest.fixture
def run_ze(binaries, tmp_path):
    """run_ze(snippet, product="pvc", env=None) -> the JSON object the snippet emits last.

    The snippet runs in a fresh interpreter with NEO's emulation of ``product`` in its environment,
    ``ze`` imported and initialised, ``blob(name)`` reading a compiled binary ("pvc.zebin",
    "acm-g10.spv", ...) and ``emit(**values)`` printing the result.  Its working directory is an
    empty folder, so the test can check the driver wrote nothing there.
    """

    def run(snippet: str, product: str = "pvc", env=None, init: bool = True):
        workdir = tmp_path / "cwd"
        workdir.mkdir(exist_ok=True)
        prelude = textwrap.dedent(f"""
            import ctypes, json, os, sys
            from triton.backends.intel import _level_zero as ze
            FILES = {binaries!r}
            def blob(name):
                with open(FILES[name], "rb") as f:
                    return f.read()
            def emit(**values):
                print(json.dumps(values), flush=True)
            def error(fn, *args):
                try:
                    fn(*args)
                except Exception as e:
                    return {{"type": type(e).__name__, "message": str(e),
                            "result_name": getattr(e, "result_name", None), "result": getattr(e, "result", None),
                            "call": getattr(e, "call", None), "log": getattr(e, "log", None)}}
                return None
        """)
        if init:
            prelude += "ze.init()\n"
        full_env = {k: v for k, v in os.environ.items() if k not in NEO_KEYS}
        full_env.update(EMULATION[product])
        full_env.update(env or {})
        proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(snippet)], cwd=workdir, env=full_env,
                              capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            pytest.fail(f"the Level Zero subprocess failed (exit code {proc.returncode})\n"
                        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        assert lines, f"the snippet emitted nothing\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        assert not list(workdir.iterdir()), f"the driver wrote into the working directory: {list(workdir.iterdir())}"
        return json.loads(lines[-1])

    return run


# ---------------------------------------------------------------------------------------------
# With the emulated driver


def test_init_and_device_properties(run_ze):
    out = run_ze("""
        ze.init()  # idempotent
        emit(count=ze.device_count(), props=ze.device_properties(0),
             bad_index=error(ze.device_properties, ze.device_count()))
    """)
    assert out["count"] == 1
    props = out["props"]
    for key in ("name", "device_id", "vendor_id", "max_total_group_size", "max_group_size_x", "max_group_size_y",
                "max_group_size_z", "sub_group_sizes", "num_threads_per_eu", "num_eus_per_subslice",
                "num_subslices_per_slice", "num_slices", "max_shared_local_memory", "max_mem_alloc_size",
                "core_clock_rate", "driver_version"):
        assert key in props, key
    assert props["device_id"] == 0x0BD5
    assert props["vendor_id"] == 0x8086
    assert props["max_total_group_size"] == 1024
    assert {16, 32} <= set(props["sub_group_sizes"])
    assert props["num_threads_per_eu"] > 0 and props["max_shared_local_memory"] > 0
    assert isinstance(props["name"], str) and props["name"]
    assert out["bad_index"]["type"] == "IndexError"


def test_not_initialised_is_an_error(run_ze):
    out = run_ze("emit(err=error(ze.alloc, 0, 64, 'device'), count=ze.device_count())", init=False)
    assert out["err"]["type"] == "RuntimeError" and "init()" in out["err"]["message"]
    assert out["count"] == 0


def test_load_native_and_unload(run_ze):
    out = run_ze("""
        k = ze.load_native(0, blob("pvc.zebin"), "add_kernel")
        ze.unload(k["module"], k["kernel"])
        emit(k=k, again=error(ze.unload, k["module"], k["kernel"]),
             bad_name=error(ze.load_native, 0, blob("pvc.zebin"), "no_such_kernel"))
    """)
    k = out["k"]
    assert k["module"] and k["kernel"]
    assert k["num_args"] == 4
    assert k["spill_mem_size"] == 0 and k["private_mem_size"] == 0 and k["local_mem_size"] == 0
    assert k["max_subgroup_size"] in (16, 32)
    assert k["required_subgroup_size"] in (0, 16, 32)
    assert isinstance(k["build_log"], str) and "recompiled" not in k["build_log"].lower()
    assert out["again"]["type"] == "ValueError"
    assert out["bad_name"]["result_name"] == "ZE_RESULT_ERROR_INVALID_KERNEL_NAME"


def test_alloc_free_and_shared_memory_is_host_visible(run_ze):
    out = run_ze("""
        ptrs = {kind: ze.alloc(0, 4096, kind) for kind in ("device", "shared", "host")}
        written = {}
        for kind in ("shared", "host"):
            data = bytes(range(256)) * 16
            ctypes.memmove(ptrs[kind], data, len(data))
            written[kind] = ctypes.string_at(ptrs[kind], len(data)) == data
        ze.copy(ptrs["device"], ptrs["shared"], 4096, 0)  # appended, then waited for
        for p in ptrs.values():
            ze.free(p)
        emit(ptrs=ptrs, written=written, double_free=error(ze.free, ptrs["host"]),
             bad_kind=error(ze.alloc, 0, 64, "texture"))
    """)
    addresses = list(out["ptrs"].values())
    assert all(addresses) and len(set(addresses)) == 3
    assert all(p % 64 == 0 for p in addresses)
    assert out["written"] == {"shared": True, "host": True}
    assert out["double_free"]["type"] == "ValueError"
    assert out["bad_kind"]["type"] == "ValueError"


def test_launcher_launches_and_synchronize_waits(run_ze):
    out = run_ze(f"""
        k = ze.load_native(0, blob("pvc.zebin"), "add_kernel")
        x, y, z = (ze.alloc(0, 4096, kind) for kind in ("device", "shared", "host"))

        class Tensor:
            def __init__(self, p):
                self.p = p
            def data_ptr(self):
                return self.p

        launch = ze.Launcher(k["kernel"], 0, {ADD_KINDS!r}, {ADD_GROUP!r})
        launch(8, 1, 1, x, y, z, 1024)
        launch(1, 1, 1, Tensor(x), Tensor(y), Tensor(z), 7)
        launch(0, 1, 1, x, y, z, 0)  # empty grid: nothing appended
        ze.Launcher(k["kernel"], 0, ["*fp32", "*fp32", "*fp32", "i32"], {ADD_GROUP!r})(2, 1, 1, x, y, z, -3)
        ze.synchronize(0)
        for i in range(50):
            launch(4, 1, 1, x, y, z, 4096)
        ze.synchronize(0)
        ze.synchronize(0)
        emit(repr=repr(launch), kernel=launch.kernel == k["kernel"], kinds=launch.arg_kinds,
             group=list(launch.group_size), device=launch.device)
    """)
    assert out["kernel"] and out["device"] == 0
    assert out["kinds"] == ADD_KINDS and out["group"] == list(ADD_GROUP)
    assert "add_kernel" in out["repr"]


def test_launcher_argument_errors(run_ze):
    out = run_ze(f"""
        k = ze.load_native(0, blob("pvc.zebin"), "add_kernel")
        x = ze.alloc(0, 4096, "device")
        launch = ze.Launcher(k["kernel"], 0, {ADD_KINDS!r}, {ADD_GROUP!r})
        errors = dict(
            too_few=error(launch, 1, 1, 1, x, x, x),
            too_many=error(launch, 1, 1, 1, x, x, x, 4, 5),
            no_grid=error(launch, 1),
            float_for_i32=error(launch, 1, 1, 1, x, x, x, 1.5),
            str_for_ptr=error(launch, 1, 1, 1, x, "oops", x, 4),
            bool_for_ptr=error(launch, 1, 1, 1, x, True, x, 4),
            i32_overflow=error(launch, 1, 1, 1, x, x, x, 2**31),
            grid_type=error(launch, 1.0, 1, 1, x, x, x, 4),
            keyword=error(lambda: launch(1, 1, 1, x, x, x, n=4)),
            kind_count=error(ze.Launcher, k["kernel"], 0, ["ptr", "ptr", "i32"], {ADD_GROUP!r}),
            unknown_kind=error(ze.Launcher, k["kernel"], 0, ["ptr", "ptr", "ptr", "int"], {ADD_GROUP!r}),
            unknown_kernel=error(ze.Launcher, 12345, 0, {ADD_KINDS!r}, {ADD_GROUP!r}),
            zero_group=error(ze.Launcher, k["kernel"], 0, {ADD_KINDS!r}, (0, 1, 1)),
            foreign_ptr=error(launch, 1, 1, 1, x, 0x1000, x, 4),
        )
        errors["memory_types"] = [ze.memory_type(0, a) for a in (x, x + 4095, x + 4096, 0x1000)]
        launch(1, 1, 1, x, x, x, 4)  # still usable after the errors
        ze.unload(k["module"], k["kernel"])
        errors["after_unload"] = error(launch, 1, 1, 1, x, x, x, 4)
        emit(**errors)
    """)
    for key in ("too_few", "too_many"):
        assert out[key]["type"] == "TypeError", out[key]
        assert "takes 4 kernel arguments" in out[key]["message"]
    assert out["no_grid"]["type"] == "TypeError"
    assert out["float_for_i32"]["type"] == "TypeError"
    assert "argument 3" in out["float_for_i32"]["message"] and "i32" in out["float_for_i32"]["message"]
    assert "float" in out["float_for_i32"]["message"]
    for key in ("str_for_ptr", "bool_for_ptr"):
        assert out[key]["type"] == "TypeError" and "argument 1" in out[key]["message"]
        assert "ptr" in out[key]["message"]
    assert out["i32_overflow"]["type"] == "OverflowError" and "argument 3" in out["i32_overflow"]["message"]
    assert out["grid_type"]["type"] == "TypeError" and "gx" in out["grid_type"]["message"]
    assert out["keyword"]["type"] == "TypeError"
    assert out["kind_count"]["type"] == "ValueError" and "takes 4 arguments" in out["kind_count"]["message"]
    assert out["unknown_kind"]["type"] == "ValueError" and "'int'" in out["unknown_kind"]["message"]
    assert out["unknown_kernel"]["type"] == "ValueError"
    assert out["zero_group"]["type"] == "ValueError"
    assert out["after_unload"]["type"] == "RuntimeError" and "unloaded" in out["after_unload"]["message"]
    assert out["foreign_ptr"]["type"] == "ForeignPointerError"
    assert out["foreign_ptr"]["message"] == "kernel argument 1: 0x1000 is not memory of the device's context"
    assert out["memory_types"] == ["device", "device", "unknown", "unknown"]


def test_load_native_refuses_what_is_not_native_code_for_this_device(run_ze):
    out = run_ze("""
        import random
        zebin = blob("pvc.zebin")
        rng = random.Random(0)
        cases = {
            "spirv": blob("pvc.spv"),
            "random": bytes(rng.randrange(256) for _ in range(4096)),
            "empty": b"",
            "elf_header_only": zebin[:64],
            "truncated_half": zebin[: len(zebin) // 2],
            "truncated_tail": zebin[:-1],
            "acm-g10": blob("acm-g10.ir.zebin"),
            "tgllp": blob("tgllp.ir.zebin"),
        }
        results = {name: error(ze.load_native, 0, data, "add_kernel") for name, data in cases.items()}
        k = ze.load_native(0, zebin, "add_kernel")  # the process and the driver are fine afterwards
        emit(results=results, alive=bool(k["kernel"]), constant=ze.RESULT_RECOMPILED_FROM_IR)
    """)
    results = out["results"]
    for name, err in results.items():
        assert err is not None, f"{name}: loaded"
        assert err["type"] == "ZeError", (name, err)
        assert err["call"] == "zeModuleCreate"
        assert err["result_name"], name
        assert err["message"].startswith(f"zeModuleCreate failed: {err['result_name']} (0x"), err["message"]
    for name in ("spirv", "random", "empty", "elf_header_only", "truncated_half", "truncated_tail"):
        assert results[name]["result_name"].startswith("ZE_RESULT_ERROR_"), (name, results[name])
    for name in ("acm-g10", "tgllp"):  # zebins that keep their SPIR-V (keep_ir): NEO would recompile them
        err = results[name]
        assert err["result_name"] == "RECOMPILED_FROM_IR", (name, err)
        assert err["result"] == out["constant"]
        assert "recompiled" in err["log"].lower() and err["log"] in err["message"]
    assert out["alive"]


# NEO's own answer to a native binary for another device that carries no IR: 22.43 INVALID_NATIVE_BINARY,
# 26.x MODULE_BUILD_FAILURE, both with an empty build log.  What any loader gets, PyTorch's SYCL one included.
NEO_REFUSES_NATIVE = {"ZE_RESULT_ERROR_INVALID_NATIVE_BINARY": 0x7800000F,
                      "ZE_RESULT_ERROR_MODULE_BUILD_FAILURE": 0x70000004}


@pytest.mark.parametrize("product, foreign", [("pvc", "acm-g10"), ("pvc", "tgllp"), ("acm-g10", "pvc")])
def test_neo_refuses_an_ir_free_zebin_for_another_device(run_ze, product, foreign):
    # zeModuleCreate(NATIVE) straight to NEO, no check of this project's in between: without the .spv section NEO
    # has nothing to recompile, so the load fails instead of falling back to a silent JIT.
    out = run_ze(f"""
        from triton.backends.intel.binary import zebin as zb
        zebin = blob("{foreign}.zebin")
        emit(has_ir=zb.read(zebin).spirv is not None, error=error(ze.load_native, 0, zebin, "add_kernel"),
             own=bool(ze.load_native(0, blob("{product}.zebin"), "add_kernel")["kernel"]))
    """, product=product)
    err = out["error"]
    assert not out["has_ir"]
    assert err is not None, "NEO loaded an IR-free zebin built for another device"
    assert err["call"] == "zeModuleCreate" and err["result_name"] in NEO_REFUSES_NATIVE, err
    assert err["result"] == NEO_REFUSES_NATIVE[err["result_name"]]
    assert "recompiled" not in (err["log"] or "").lower()
    assert out["own"]  # the device's own IR-free zebin loads


@pytest.mark.parametrize("product", ["acm-g10", "tgllp"])
def test_other_emulated_targets_load_their_own_zebin(run_ze, product):
    out = run_ze(f"""
        k = ze.load_native(0, blob("{product}.zebin"), "add_kernel")
        p = ze.alloc(0, 4096, "shared")
        ze.Launcher(k["kernel"], 0, {ADD_KINDS!r}, {ADD_GROUP!r})(2, 1, 1, p, p, p, 64)
        ze.synchronize(0)
        emit(props=ze.device_properties(0), pvc=error(ze.load_native, 0, blob("pvc.ir.zebin"), "add_kernel"))
    """, product=product)
    assert out["pvc"]["result_name"] == "RECOMPILED_FROM_IR"
    assert {8, 16, 32} <= set(out["props"]["sub_group_sizes"])
    if product == "acm-g10":
        assert out["props"]["device_id"] == 0x56A0 and out["props"]["max_total_group_size"] == 1024


def test_raw_launch_loop_measures_the_baseline(run_ze):
    out = run_ze(f"""
        import time
        k = ze.load_native(0, blob("pvc.zebin"), "add_kernel")
        x, y, z = (ze.alloc(0, 4096, "device") for _ in range(3))
        args = [(8, p.to_bytes(8, "little")) for p in (x, y, z)] + [(4, (1024).to_bytes(4, "little"))]
        raw = ze.raw_launch_loop(k["kernel"], 0, 4, 1, 1, args, 200, group_size={ADD_GROUP!r})
        launch = ze.Launcher(k["kernel"], 0, {ADD_KINDS!r}, {ADD_GROUP!r})
        start = time.perf_counter()
        for _ in range(200):
            launch(4, 1, 1, x, y, z, 1024)
        launcher = (time.perf_counter() - start) / 200 * 1e9
        ze.synchronize(0)
        emit(raw=raw, launcher=launcher, null_ptr=ze.raw_launch_loop(k["kernel"], 0, 1, 1, 1,
                                                                     [(8, None)] * 3 + [(4, bytes(4))], 1))
    """)
    assert out["raw"] > 0 and out["null_ptr"] > 0
    assert out["launcher"] > 0


def test_compile_spirv_gives_a_binary_load_native_accepts(run_ze):
    out = run_ze("""
        results = {}
        # NEO 22.43 returns its legacy patch-token format by default and a zebin with -cl-intel-allow-zebin
        # (newer drivers: zebin either way); load_native takes both.
        for flags in ("", "-cl-intel-allow-zebin"):
            c = ze.compile_spirv(0, blob("pvc.spv"), flags)
            k = ze.load_native(0, c["binary"], "add_kernel")
            results[flags] = dict(magic=c["binary"][:4].hex(), machine=int.from_bytes(c["binary"][18:20], "little"),
                                  ms=c["ms"], kernels=c["kernels"], log=c["build_log"], loaded=k["num_args"])
        # Input that is not SPIR-V is refused before IGC sees it (IGC 22.43 exits the process on it).
        bad = error(ze.compile_spirv, 0, b"not spir-v, not spir-v", "")
        emit(results=results, bad=bad)
    """)
    for flags, r in out["results"].items():
        assert r["magic"] == "7f454c46", flags  # ELF
        assert r["ms"] > 0
        assert r["kernels"]["add_kernel"]["num_args"] == 4
        assert r["kernels"]["add_kernel"]["spill_mem_size"] == 0
        assert r["loaded"] == 4
    assert out["results"]["-cl-intel-allow-zebin"]["machine"] == 205  # EM_INTELGT: a zebin
    assert out["bad"]["type"] == "ValueError" and "SPIR-V" in out["bad"]["message"]


def test_exit_and_shutdown_release_everything(run_ze):
    # Exit with kernels loaded, memory allocated and launches not waited for: the atexit hook releases
    # them in order (run_ze fails on a non-zero exit code or a crash).
    run_ze(f"""
        k = ze.load_native(0, blob("pvc.zebin"), "add_kernel")
        p = ze.alloc(0, 1 << 20, "shared")
        launch = ze.Launcher(k["kernel"], 0, {ADD_KINDS!r}, {ADD_GROUP!r})
        for _ in range(20):
            launch(64, 1, 1, p, p, p, 1 << 18)
        emit(ok=True)
    """)
    out = run_ze(f"""
        k = ze.load_native(0, blob("pvc.zebin"), "add_kernel")
        p = ze.alloc(0, 4096, "device")
        launch = ze.Launcher(k["kernel"], 0, {ADD_KINDS!r}, {ADD_GROUP!r})
        launch(1, 1, 1, p, p, p, 1)
        ze._shutdown()
        ze._shutdown()
        ze.free(p)  # no-ops once everything is released
        ze.unload(k["module"], k["kernel"])
        emit(launch=error(launch, 1, 1, 1, p, p, p, 1), init=error(ze.init),
             alloc=error(ze.alloc, 0, 64, "device"))
    """)
    assert out["launch"]["type"] == "RuntimeError"
    assert out["init"]["type"] == "RuntimeError" and "shut down" in out["init"]["message"]
    assert out["alloc"]["type"] == "RuntimeError"


def test_several_devices(run_ze):
    out = run_ze(f"""
        launches = []
        for i in range(ze.device_count()):
            k = ze.load_native(i, blob("pvc.zebin"), "add_kernel")
            p = ze.alloc(i, 4096, "device")
            ze.Launcher(k["kernel"], i, {ADD_KINDS!r}, {ADD_GROUP!r})(1, 1, 1, p, p, p, 1)
            ze.synchronize(i)
            launches.append(k["kernel"])
        other = error(ze.Launcher, launches[0], 1, {ADD_KINDS!r}, {ADD_GROUP!r})
        emit(count=ze.device_count(), other=other)
    """, env={"CreateMultipleRootDevices": "2"})
    assert out["count"] == 2
    assert out["other"]["type"] == "ValueError" and "device 0" in out["other"]["message"]


# ---------------------------------------------------------------------------------------------
# Without a driver: argument packing and the exception type


def _fp16_reference(x: float) -> bytes:
    import numpy as np
    with np.errstate(over="ignore"):
        return np.array([x], dtype=np.float16).tobytes()


def test_pack_integers_and_pointers():
    _require_module()
    pack = ze._pack_arg
    assert pack("i8", -1) == b"\xff"
    assert pack("i16", -2) == struct.pack("<h", -2)
    assert pack("i32", 2**31 - 1) == struct.pack("<i", 2**31 - 1)
    assert pack("i64", -(2**63)) == struct.pack("<q", -(2**63))
    assert pack("u8", 255) == b"\xff"
    assert pack("u32", 2**32 - 1) == b"\xff" * 4
    assert pack("u64", 2**64 - 1) == b"\xff" * 8
    assert pack("i1", True) == b"\x01" and pack("u1", 0) == b"\x00" and pack("i1", 5) == b"\x01"
    assert pack("ptr", 0x1234) == struct.pack("<Q", 0x1234)
    assert pack("ptr", None) == bytes(8)

    class Tensor:
        def data_ptr(self):
            return 0xABCD00

    assert pack("ptr", Tensor()) == struct.pack("<Q", 0xABCD00)
    assert pack("*fp16", 64) == struct.pack("<Q", 64)
    for kind, value in (("i8", 128), ("i8", -129), ("u8", -1), ("u32", 2**32), ("i64", 2**63), ("u64", 2**64),
                        ("ptr", -1)):
        with pytest.raises(OverflowError, match=kind if kind != "ptr" else "ptr"):
            pack(kind, value)
    for kind, value in (("i32", 1.0), ("i32", "3"), ("u1", 1.0), ("ptr", "x"), ("ptr", object()), ("fp32", "1")):
        with pytest.raises(TypeError, match=f"argument 0: expected {kind}"):
            pack(kind, value)


def test_pack_floats_round_to_nearest_even():
    _require_module()
    pack = ze._pack_arg
    values = [0.0, -0.0, 1.0, -2.5, 0.1, 1 / 3, 65504.0, 65519.99, 65520.0, 1e10, -1e10, 6.1e-5, 5.96e-8, 2.98e-8,
              2.99e-8, 1e-9, 1 + 2**-11, 1 + 3 * 2**-11, math.inf, -math.inf, 3.14159]
    for v in values:
        assert pack("fp16", v) == _fp16_reference(v), v
        assert pack("fp64", v) == struct.pack("<d", v)
        if abs(v) < 3.4e38:
            assert pack("fp32", v) == struct.pack("<f", v), v
    assert struct.unpack("<H", pack("fp16", math.nan))[0] & 0x7E00 == 0x7E00  # a quiet NaN
    assert pack("fp32", 1e39) == struct.pack("<f", math.inf)

    def bf16_of_f32(x: float) -> int:  # RNE on float32 bits, for values float32 holds exactly
        b = struct.unpack("<I", struct.pack("<f", x))[0]
        return (b + 0x7FFF + ((b >> 16) & 1)) >> 16

    for v in (1.0, -2.5, 3.140625, 1 + 2**-8, 1 + 3 * 2**-8, 255.5, 2.0**-130, 1e30, 0.1):
        v = struct.unpack("<f", struct.pack("<f", v))[0]  # exactly a float32
        assert struct.unpack("<H", pack("bf16", v))[0] == bf16_of_f32(v), v
    # Rounded once from the double: rounding to float32 first would give the tie and round to 1.0.
    assert struct.unpack("<H", pack("bf16", 1 + 2**-8 + 2**-30))[0] == 0x3F81
    assert pack("bf16", 1e39) == struct.pack("<H", 0x7F80)


def test_ze_error_type():
    _require_module()
    err = ze.ZeError("zeModuleCreate", 0x7800000F, "ZE_RESULT_ERROR_INVALID_NATIVE_BINARY", "a log\n")
    assert isinstance(err, RuntimeError)
    assert str(err).startswith("zeModuleCreate failed: ZE_RESULT_ERROR_INVALID_NATIVE_BINARY (0x7800000f)")
    assert "a log" in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.call, copy.result, copy.result_name, copy.log) == (err.call, err.result, err.result_name, err.log)
    assert str(ze.ZeError("zeInit", 0x78000001, "ZE_RESULT_ERROR_UNINITIALIZED")) == \
        "zeInit failed: ZE_RESULT_ERROR_UNINITIALIZED (0x78000001)"
    assert ze.result_name(0x7800000F) == "ZE_RESULT_ERROR_INVALID_NATIVE_BINARY"
    assert ze.result_name(ze.RESULT_RECOMPILED_FROM_IR) == "RECOMPILED_FROM_IR"
    assert ze.result_name(0x12345) == "ZE_RESULT_0x00012345"
    assert set(ze.ARG_KINDS) >= {"ptr", "i1", "i32", "u64", "fp16", "bf16", "fp32", "fp64"}
    assert ze.Launcher.__doc__ and ze.load_native.__doc__ and ze.init.__doc__

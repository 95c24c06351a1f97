"""ocloc invocation: in process (libocloc) and as a subprocess, results, and every way it can fail."""

import io
import os
import re
import shlex
import stat
import subprocess
import sys

import pytest

from elftools.elf.elffile import ELFFile

from triton.backends.intel.native import ocloc
from triton.backends.intel.errors import CompilationError, ToolNotFoundError
from triton.backends.intel.native import build_log
from triton.backends.intel.binary import fatbin, zebin
from triton.backends.intel.binary.fatbin import is_fat_binary
from triton.backends.intel.binary.zebin import is_zebin


def read_zebin(data, log=""):
    return zebin.read(data, build_log.spills(log))


def read_fat_binary(data):
    return fatbin.device_binaries(data)
from triton.runtime.errors import OutOfResources

MODES = {"lib": "libocloc", "subprocess": "subprocess"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, ocloc_exe):
    for var in (ocloc.MODE_ENV, ocloc.LIB_ENV, "TRITON_OCLOC_PATH"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(params=list(MODES))
def mode(request, monkeypatch):
    monkeypatch.setenv(ocloc.MODE_ENV, request.param)
    return request.param


@pytest.fixture(scope="module")
def add_spv(cl_spirv, opencl):
    return cl_spirv(opencl.ADD)


def fake_ocloc(tmp_path, body, name="ocloc"):
    """An executable script standing in for ocloc."""
    path = tmp_path / name
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


@pytest.fixture
def fake_libocloc(tmp_path):
    """fake_libocloc(body) -> path of a library whose oclocInvoke runs ``body`` (C): a test double for a
    libocloc that crashes or hangs, which the real one does only on inputs that differ between versions."""
    def build(body):
        src = tmp_path / "fake_ocloc.c"
        src.write_text("#include <signal.h>\n#include <unistd.h>\n"
                       f"int oclocInvoke(void) {{ {body} }}\nint oclocFreeOutput(void) {{ return 0; }}\n")
        lib = tmp_path / "libfake_ocloc.so"
        subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
        return str(lib)
    return build


def sections(binary):
    """The parts of a zebin that must not depend on how ocloc was run."""
    elf = ELFFile(io.BytesIO(binary))
    return {s.name: s.data() for s in elf.iter_sections() if s.name.startswith((".text", ".ze_info", ".note"))}


# --------------------------------------------------------------------------------------------
# Compiling


def test_compiles_vector_add(mode, add_spv):
    result = ocloc.compile_spirv(add_spv, ["pvc"])
    assert result.via == MODES[mode]
    assert is_zebin(result.binary)
    zb = read_zebin(result.binary, result.log)
    assert [k.name for k in zb.kernels] == ["add"]
    assert zb.product_family_name == "pvc"
    assert "Build succeeded" in result.log
    assert result.ms > 0
    argv = shlex.split(result.command)
    assert os.path.basename(argv[0]) == "ocloc" and argv[1] == "compile"
    assert argv[argv.index("-file") + 1] == "kernel.spv"
    assert "-spirv_input" in argv and argv[argv.index("-device") + 1] == "pvc"
    assert "-cl-intel-allow-zebin" in argv[argv.index("-internal_options") + 1]
    assert "-out_dir" not in argv  # the repro writes next to kernel.spv


def test_both_modes_give_the_same_zebin(monkeypatch, add_spv):
    results = {}
    for mode in MODES:
        monkeypatch.setenv(ocloc.MODE_ENV, mode)
        results[mode] = ocloc.compile_spirv(add_spv, ["pvc"], options="-cl-fast-relaxed-math")
    lib, sub = results["lib"], results["subprocess"]
    assert (lib.via, sub.via) == ("libocloc", "subprocess")
    assert sections(lib.binary) == sections(sub.binary)
    assert lib.log == sub.log
    assert shlex.split(lib.command)[1:] == shlex.split(sub.command)[1:]


def test_options_are_passed(add_spv):
    result = ocloc.compile_spirv(add_spv, ["pvc"], options="-cl-intel-256-GRF-per-thread",
                                 internal_options="-cl-intel-greater-than-4GB-buffer-required")
    argv = shlex.split(result.command)
    assert argv[argv.index("-options") + 1] == "-cl-intel-256-GRF-per-thread"
    internal = argv[argv.index("-internal_options") + 1].split()
    assert internal == ["-cl-intel-allow-zebin", "-cl-intel-greater-than-4GB-buffer-required"]
    assert read_zebin(result.binary).kernels[0].grf_count == 256


def test_triton_spirv(mode, triton_spirv):
    result = ocloc.compile_spirv(triton_spirv("add"), ["pvc"])
    kernel = read_zebin(result.binary, result.log).kernel("add_kernel")
    assert sorted({a.arg_index for a in kernel.explicit_arguments}) == [0, 1, 2, 3]


def test_fat_binary(mode, add_spv):
    result = ocloc.compile_spirv(add_spv, ["pvc", "acm-g10"])
    assert is_fat_binary(result.binary)
    assert shlex.split(result.command)[shlex.split(result.command).index("-device") + 1] == "pvc,acm-g10"
    members = read_fat_binary(result.binary)
    assert set(members) == {"pvc", "acm-g10"}
    assert read_zebin(members["pvc"]).product_family_name == "pvc"
    assert read_zebin(members["acm-g10"]).product_family_name == "dg2"
    assert "pvc" in result.log and "acm-g10" in result.log


def test_spills_at_128_grf_not_at_256(cl_spirv, opencl):
    spirv = cl_spirv(opencl.SPILL)
    small = ocloc.compile_spirv(spirv, ["pvc"])
    kernel = read_zebin(small.binary, small.log).kernel("spill")
    assert kernel.grf_count == 128
    assert kernel.spill_bytes and kernel.spill_bytes > 0
    assert kernel.spill_source in ("spill_size", "build_log", "spill_fill_space")

    large = ocloc.compile_spirv(spirv, ["pvc"], options="-cl-intel-256-GRF-per-thread")
    kernel256 = read_zebin(large.binary, large.log).kernel("spill")
    assert kernel256.grf_count == 256
    assert kernel256.spill_bytes is not None and kernel256.spill_bytes < kernel.spill_bytes


def test_no_binary_beyond_the_scratch_limit_is_returned(cl_spirv, opencl):
    # Whatever the installed IGC makes of the kernel, a binary whose scratch exceeds pvc's limit never passes.
    spirv = cl_spirv(opencl.SCRATCH_OVERFLOW)
    unchecked = None
    try:
        unchecked = read_zebin(ocloc.compile_spirv(spirv, ["pvc"], check_limits=False).binary).kernel("overflow")
    except OutOfResources:  # IGC refused the kernel itself ("total scratch space exceeds HW supported limit")
        pass
    if unchecked is not None and unchecked.scratch_bytes <= 256 * 1024:
        result = ocloc.compile_spirv(spirv, ["pvc"])  # IGC 2: it fits, and is accepted
        assert read_zebin(result.binary).kernel("overflow").scratch_bytes <= 256 * 1024
        return
    with pytest.raises(OutOfResources) as info:  # IGC 1.0.12504 emits it; the stage's own check refuses it
        ocloc.compile_spirv(spirv, ["pvc"])
    err = info.value
    assert err.limit == 256 * 1024  # pvc's per-thread scratch space
    assert err.required > err.limit
    assert "scratch" in err.name
    assert "kernel.spv" in err.repro


def test_igc_scratch_overflow_message(tmp_path, monkeypatch, add_spv):
    # What newer IGC prints when a kernel needs more scratch space than the hardware has.
    exe = fake_ocloc(tmp_path, "#!/bin/sh\n"
                     "echo 'error: total scratch space exceeds HW supported limit for kernel dot_kernel: "
                     "587264 bytes (max permitted PTSS 262144 bytes)'\n"
                     "echo 'Build failed with error code: -11'\nexit 245\n")
    monkeypatch.setenv("TRITON_OCLOC_PATH", exe)
    with pytest.raises(OutOfResources) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert (info.value.required, info.value.limit) == (587264, 262144)
    assert "dot_kernel" in info.value.name
    assert "PTSS" in info.value.log


# --------------------------------------------------------------------------------------------
# Failures


def test_input_that_is_not_spirv(mode):
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(b"garbage!" * 10, ["pvc"])
    err = info.value
    assert "not SPIR-V" in str(err) and "magic" in err.log
    assert shlex.split(err.repro)[1:4] == ["compile", "-file", "kernel.spv"]


def test_invalid_spirv_is_a_compile_error_with_log_and_repro(mode, add_spv):
    # A valid header followed by nonsense: IGC 1 reports an error, IGC 2 aborts.  Either way the caller gets a
    # compile error and survives (in process, libocloc runs in its worker process).
    broken = add_spv[:20] + b"\xff" * 200
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(broken, ["pvc"])
    err = info.value
    if str(err).startswith("ocloc crashed"):
        # Which signal IGC dies of is its accident (IGC 2.40.14: SIGABRT on some machines, SIGSEGV on others);
        # what is promised is that the message names it and the caller survives.
        assert re.match(r"ocloc crashed with signal SIG[A-Z]+ \(\d+\) compiling for pvc", str(err)), str(err)
        assert ("this process is unaffected" in str(err)) == (mode == "lib")
    else:
        assert str(err).startswith("ocloc failed compiling for pvc")
        assert "error" in err.log.lower()
    assert ("--- build log ---" in str(err)) == bool(err.log.strip()) and "Repro: " in str(err)
    assert "-spirv_input" in err.repro and "kernel.spv" in err.repro
    assert ocloc.compile_spirv(add_spv, ["pvc"]).binary  # the next compile works


def test_libocloc_that_crashes_leaves_the_caller_alive(fake_libocloc, monkeypatch, add_spv):
    monkeypatch.setenv(ocloc.MODE_ENV, "lib")
    monkeypatch.setenv(ocloc.LIB_ENV, fake_libocloc("raise(SIGSEGV); return 0;"))
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert str(info.value).startswith("ocloc crashed with signal SIGSEGV (11) compiling for pvc (libocloc, in its "
                                      "worker process; this process is unaffected)")
    with pytest.raises(CompilationError):  # a new worker for the next call, which crashes again
        ocloc.compile_spirv(add_spv, ["pvc"])


def test_libocloc_whose_worker_cannot_start_again_says_why(fake_libocloc, monkeypatch, add_spv):
    # The library the worker loaded is gone when a new worker must start (a package upgrade meanwhile).
    path = fake_libocloc("raise(SIGSEGV); return 0;")
    monkeypatch.setenv(ocloc.MODE_ENV, "lib")
    monkeypatch.setenv(ocloc.LIB_ENV, path)
    with pytest.raises(CompilationError):  # the worker dies
        ocloc.compile_spirv(add_spv, ["pvc"])
    os.unlink(path)
    with pytest.raises(ToolNotFoundError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    message = str(info.value)
    assert message.startswith("libocloc's worker process could not be started (") and path in message
    assert "cannot open shared object file: No such file or directory" in message
    assert message.endswith(f"the library this process loaded earlier ({path}) may have been removed or replaced: "
                            "reinstall intel-opencl-icd and restart the process, or set "
                            "TRITON_XPU_OCLOC_MODE=subprocess")


def test_libocloc_that_hangs_is_stopped_at_the_timeout(fake_libocloc, monkeypatch, add_spv):
    monkeypatch.setenv(ocloc.MODE_ENV, "lib")
    monkeypatch.setenv(ocloc.TIMEOUT_ENV, "2")
    monkeypatch.setenv(ocloc.LIB_ENV, fake_libocloc("for (;;) pause(); return 0;"))
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert str(info.value).startswith("ocloc did not finish compiling for pvc within 2 s and was stopped; raise "
                                      "TRITON_XPU_OCLOC_TIMEOUT (seconds) if the kernel needs longer")


def test_ocloc_executable_that_hangs_is_killed_at_the_timeout(tmp_path, monkeypatch, add_spv):
    monkeypatch.setenv("TRITON_OCLOC_PATH", fake_ocloc(tmp_path, "#!/bin/sh\nexec sleep 600\n"))
    monkeypatch.setenv(ocloc.TIMEOUT_ENV, "1")
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert "within 1 s and was stopped" in str(info.value)


def test_truncated_spirv(mode, add_spv):
    # ocloc 22.43 exits 0 and writes a zebin without kernels; that must not pass as a success.
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(add_spv[:len(add_spv) // 2 // 4 * 4], ["pvc"])
    assert info.value.repro


def test_unknown_device(mode, add_spv):
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(add_spv, ["nosuchdevice"])
    assert "nosuchdevice" in info.value.log


def test_no_devices(add_spv):
    with pytest.raises(ValueError):
        ocloc.compile_spirv(add_spv, [])


def test_libocloc_failure_does_not_print(monkeypatch, capfd, add_spv):
    monkeypatch.setenv(ocloc.MODE_ENV, "lib")
    with pytest.raises(CompilationError):
        ocloc.compile_spirv(add_spv, ["nosuchdevice"])
    out, err = capfd.readouterr()
    assert "Command was" not in out + err


def test_ocloc_path_not_executable(monkeypatch, add_spv):
    monkeypatch.setenv(ocloc.MODE_ENV, "subprocess")
    monkeypatch.setenv("TRITON_OCLOC_PATH", "/nonexistent/ocloc")
    with pytest.raises(ToolNotFoundError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert str(info.value) == ("TRITON_OCLOC_PATH='/nonexistent/ocloc' is not an executable file; unset it or "
                               "point it to ocloc; ocloc comes with intel-opencl-icd "
                               "(`apt-get install intel-opencl-icd`)")


def test_ocloc_not_on_path(monkeypatch, add_spv):
    monkeypatch.setenv(ocloc.MODE_ENV, "subprocess")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolNotFoundError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert str(info.value) == ("ocloc not found on PATH (needed for compiling SPIR-V to native Intel GPU "
                               "binaries); install it with `apt-get install intel-opencl-icd`, or set "
                               "TRITON_OCLOC_PATH to its path")
    with pytest.raises(ToolNotFoundError):
        ocloc.ocloc_version()


def test_libocloc_missing(monkeypatch, add_spv):
    monkeypatch.setenv(ocloc.LIB_ENV, "/nonexistent/libocloc.so")
    monkeypatch.setenv(ocloc.MODE_ENV, "lib")
    with pytest.raises(ToolNotFoundError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert "libocloc could not be loaded" in str(info.value)
    assert "apt-get install intel-opencl-icd" in str(info.value)
    monkeypatch.setenv(ocloc.MODE_ENV, "auto")  # falls back to the executable
    assert ocloc.compile_spirv(add_spv, ["pvc"]).via == "subprocess"


def test_auto_mode(monkeypatch, ocloc_exe, add_spv):
    assert ocloc.compile_spirv(add_spv, ["pvc"]).via == "libocloc"
    monkeypatch.setenv("TRITON_OCLOC_PATH", ocloc_exe)  # an explicitly chosen executable wins
    assert ocloc.compile_spirv(add_spv, ["pvc"]).via == "subprocess"


def test_bad_mode(monkeypatch, add_spv):
    monkeypatch.setenv(ocloc.MODE_ENV, "gpu")
    with pytest.raises(ValueError, match="TRITON_XPU_OCLOC_MODE"):
        ocloc.compile_spirv(add_spv, ["pvc"])


def test_crashed_ocloc(tmp_path, monkeypatch, add_spv):
    exe = fake_ocloc(tmp_path, "#!/bin/sh\nkill -SEGV $$\n")
    monkeypatch.setenv("TRITON_OCLOC_PATH", exe)  # auto mode: the chosen executable is used
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert str(info.value).startswith("ocloc crashed with signal SIGSEGV (11) compiling for pvc")
    assert info.value.repro.startswith(exe + " compile ")


def test_ocloc_without_output(tmp_path, monkeypatch, add_spv):
    monkeypatch.setenv("TRITON_OCLOC_PATH", fake_ocloc(tmp_path, "#!/bin/sh\necho 'Build succeeded.'\n"))
    with pytest.raises(CompilationError) as info:
        ocloc.compile_spirv(add_spv, ["pvc"])
    assert str(info.value).startswith("ocloc exited successfully but produced no output for pvc")
    assert info.value.log == "Build succeeded.\n"


def test_ocloc_rejecting_allow_zebin(tmp_path, monkeypatch, spirv_zebin, add_spv):
    # An ocloc that only knows zebin and refuses the option enabling it: detected, then left out.
    zebin_path = tmp_path / "real.zebin"
    zebin_path.write_bytes(spirv_zebin(add_spv)[0])
    calls = tmp_path / "calls"
    exe = fake_ocloc(tmp_path, f"""#!{sys.executable}
import shutil, sys
args = sys.argv[1:]
open({str(calls)!r}, "a").write(" ".join(args) + "\\n")
if "-cl-intel-allow-zebin" in " ".join(args):
    print("Invalid internal option: -cl-intel-allow-zebin")
    sys.exit(1)
shutil.copy({str(zebin_path)!r}, args[args.index("-out_dir") + 1] + "/kernel")
print("Build succeeded.")
""")
    monkeypatch.setenv("TRITON_OCLOC_PATH", exe)
    first = ocloc.compile_spirv(add_spv, ["pvc"])
    assert "-cl-intel-allow-zebin" not in first.command
    second = ocloc.compile_spirv(add_spv, ["pvc"], internal_options="-cl-intel-allow-zebin")
    assert "-internal_options" not in second.command
    assert [("-cl-intel-allow-zebin" in line) for line in calls.read_text().splitlines()] == [True, False, False]


def test_ocloc_version(monkeypatch):
    versions = {}
    for mode in MODES:
        monkeypatch.setenv(ocloc.MODE_ENV, mode)
        versions[mode] = ocloc.ocloc_version()
        assert ocloc.ocloc_version() == versions[mode]
    assert versions["lib"] == versions["subprocess"]
    assert versions["lib"].startswith("ocloc ") and " igc " in versions["lib"]
    assert "unknown" not in versions["lib"]


def test_short_ocloc_jobs_that_hang_are_stopped_and_named(tmp_path, monkeypatch):
    # Version queries, `ocloc ids` and the capability probes all go through short_job.
    exe = fake_ocloc(tmp_path, "#!/bin/sh\nexec sleep 600\n")
    monkeypatch.setenv("TRITON_OCLOC_PATH", exe)
    monkeypatch.setenv(ocloc.TIMEOUT_ENV, "1")
    with pytest.raises(ToolNotFoundError) as info:
        ocloc.short_job(["ids", "pvc"])
    assert str(info.value) == (f"`{exe} ids pvc` did not answer within 1 s and was stopped: the installed ocloc "
                               "hangs; reinstall intel-opencl-icd or raise TRITON_XPU_OCLOC_TIMEOUT")
    with pytest.raises(ToolNotFoundError, match=f"`{exe} query OCL_DRIVER_VERSION` did not answer within 1 s"):
        ocloc.ocloc_version()  # never "ocloc unknown": the cache key would not name the compiler


def test_short_jobs_run_as_compiles_do(mode):
    shown, result = ocloc.short_job(["ids", "pvc"])
    assert result.code == 0 and "Matched ids" in result.log
    assert shown.startswith("`ocloc ids pvc` (libocloc ") if mode == "lib" else shown.endswith("ocloc ids pvc`")
    assert ocloc.device_support("pvc") is None

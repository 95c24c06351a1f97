"""What a user sees when ocloc is missing or broken, under the default ``TRITON_XPU_NATIVE_COMPILER=auto``.

``auto`` compiles with ocloc when it can compile for the target, else with the Level Zero driver of a device
of the target.  With neither, the error names the real reason ocloc cannot: no ocloc, a path pointing at
nothing, an ocloc that hangs, crashes or answers nothing, or one that does not know the target.  The fake
ocloc executables are test doubles of broken installations; the real libocloc and ocloc run elsewhere.

Each case runs ``triton.compile`` in a fresh process without a Level Zero device, as a user would.
"""

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from triton.backends.intel.native import ocloc
TIMEOUT = "TRITON_XPU_OCLOC_TIMEOUT"

# Stand-ins for broken installations.
BROKEN = {
    "segfaults": "#!/bin/sh\nkill -SEGV $$\n",
    "prints nothing": "#!/bin/sh\nexit 0\n",
    "hangs": "#!/bin/sh\nexec sleep 600\n",
    # Answers queries as the real ocloc does; a compile writes a file that is not a zebin.
    "writes garbage": textwrap.dedent("""\
        #!/bin/sh
        case "$1" in compile) ;; *) exec "$REAL_OCLOC" "$@";; esac
        while [ $# -gt 0 ]; do [ "$1" = -out_dir ] && out=$2; shift; done
        printf 'garbage, not an ELF file' > "$out/kernel"
        """),
}

COMPILE = textwrap.dedent("""
    import json, os
    import kernels
    try:
        kernels.SPECS[os.environ.get("KERNEL", "add")].compile("pvc")
        print(json.dumps(["ok", ""]))
    except Exception as e:
        print(json.dumps([type(e).__name__, str(e)]))
""")


def compile_add(tmp_path, **env):
    """(exception type name or "ok", message) of compiling the add kernel (or $KERNEL) for pvc in a fresh
    process."""
    full = {k: v for k, v in os.environ.items() if k not in ("TRITON_XPU_EMULATE", "TRITON_OCLOC_PATH",
                                                           ocloc.LIB_ENV, ocloc.MODE_ENV)}
    full.update(env, TRITON_CACHE_DIR=str(tmp_path / "cache"), TRITON_XPU_NATIVE_COMPILER="auto")
    script = tmp_path / "compile_add.py"
    script.write_text(COMPILE)
    examples = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples")
    full["PYTHONPATH"] = os.pathsep.join([os.path.abspath(examples), full.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=full, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return tuple(json.loads(proc.stdout.strip().splitlines()[-1]))


def broken_ocloc(tmp_path, kind):
    path = tmp_path / "ocloc"
    path.write_text(BROKEN[kind])
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


NO_DEVICE = ("Without ocloc, native_compiler 'auto' uses the Level Zero driver's compiler, but no pvc device is "
             "present (TRITON_XPU_EMULATE=pvc provides an emulated one)")


def test_without_the_ocloc_executable_auto_compiles_with_libocloc(tmp_path):
    # A block-pointer store: on IGC 1.0 (Debian 12) it links only if the capability probe, run through
    # libocloc too, finds the 2D block write builtin missing.
    python_only = os.path.dirname(sys.executable)  # PATH without /usr/bin: no ocloc executable
    assert compile_add(tmp_path, PATH=python_only, KERNEL="block_ptr_matmul_bf16") == ("ok", "")


def test_without_ocloc_at_all_auto_says_so(tmp_path):
    python_only = os.path.dirname(sys.executable)
    assert compile_add(tmp_path, PATH=python_only, TRITON_LIBOCLOC_PATH="/nonexistent/libocloc.so") == (
        "IntelBackendError",
        "no way to compile native code for pvc: ocloc not found on PATH (needed for compiling SPIR-V to native "
        "Intel GPU binaries); install it with `apt-get install intel-opencl-icd`, or set TRITON_OCLOC_PATH to its "
        "path. " + NO_DEVICE)


def test_ocloc_path_pointing_at_nothing(tmp_path):
    assert compile_add(tmp_path, TRITON_OCLOC_PATH="/nonexistent/ocloc") == (
        "IntelBackendError",
        "no way to compile native code for pvc: TRITON_OCLOC_PATH='/nonexistent/ocloc' is not an executable file; "
        "unset it or point it to ocloc; ocloc comes with intel-opencl-icd (`apt-get install intel-opencl-icd`). "
        + NO_DEVICE)


def test_ocloc_that_segfaults(tmp_path):
    exe = broken_ocloc(tmp_path, "segfaults")
    assert compile_add(tmp_path, TRITON_OCLOC_PATH=exe) == (
        "IntelBackendError",
        f"no way to compile native code for pvc: `{exe} ids pvc` crashed with signal SIGSEGV (11): the installed "
        "ocloc is broken; reinstall intel-opencl-icd. " + NO_DEVICE)


def test_ocloc_that_exits_0_and_prints_nothing(tmp_path):
    exe = broken_ocloc(tmp_path, "prints nothing")
    assert compile_add(tmp_path, TRITON_OCLOC_PATH=exe) == (
        "IntelBackendError",
        f"no way to compile native code for pvc: `{exe} ids pvc` exited with status 0 and printed nothing instead "
        "of the device's ids: it is not a working ocloc; reinstall intel-opencl-icd or point TRITON_OCLOC_PATH to "
        "a working one. " + NO_DEVICE)


def test_ocloc_that_hangs_is_stopped_and_named(tmp_path):
    exe = broken_ocloc(tmp_path, "hangs")
    assert compile_add(tmp_path, TRITON_OCLOC_PATH=exe, **{TIMEOUT: "1"}) == (
        "IntelBackendError",
        f"no way to compile native code for pvc: `{exe} ids pvc` did not answer within 1 s and was stopped: the "
        "installed ocloc hangs; reinstall intel-opencl-icd or raise TRITON_XPU_OCLOC_TIMEOUT. " + NO_DEVICE)


def test_ocloc_that_writes_garbage(tmp_path, ocloc_exe):
    exe = broken_ocloc(tmp_path, "writes garbage")
    kind, message = compile_add(tmp_path, TRITON_OCLOC_PATH=exe, REAL_OCLOC=ocloc_exe)
    assert kind == "CompilationError"
    assert message.startswith("add_kernel for pvc: ocloc exited successfully but its output is unusable: not a "
                              "zebin: not an ELF file (starts with b'garbage,')\n")
    assert f"Repro: {exe} compile -file " in message

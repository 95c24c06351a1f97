"""libocloc's worker process leaves once idle (``TRITON_XPU_OCLOC_IDLE_TIMEOUT``) and is started again on
demand: IGC keeps 120-190 MB resident in it, and PyTorch keeps a pool of compiling processes.  Each case runs
in its own process with the real libocloc, so the test process's own worker is left alone."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from triton.backends.intel.native import ocloc_runner
SCRIPT = """
import json, os, sys, time
from triton.backends.intel.native import ocloc_runner
from triton.backends.intel.native.ocloc_runner import choose_runner, short_job

def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"

def worker_pid():
    lib = choose_runner()[1]
    return lib._proc.pid if lib._proc is not None else None

def wait_until(condition, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
"""


def run(body: str, idle: str, extra_env=None) -> dict:
    env = dict(os.environ, TRITON_XPU_OCLOC_MODE="lib", TRITON_XPU_OCLOC_IDLE_TIMEOUT=idle, **(extra_env or {}))
    proc = subprocess.run([sys.executable, "-c", SCRIPT + textwrap.dedent(body)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_an_idle_worker_leaves_and_the_next_run_starts_another():
    out = run("""
        first = (short_job(["ids", "pvc"])[1].code, worker_pid())
        gone = wait_until(lambda: not alive(first[1]), 30)
        after = worker_pid()
        again = (short_job(["ids", "pvc"])[1].code, worker_pid())
        print(json.dumps({"first": first, "gone": gone, "after": after, "again": again}))
    """, idle="0.5")
    assert out["first"][0] == 0 and out["first"][1]
    assert out["gone"] and out["after"] is None  # stopped, not crashed: the runner knows it is gone
    assert out["again"][0] == 0 and out["again"][1] not in (None, out["first"][1])


def test_with_0_the_worker_stays():
    out = run("""
        short_job(["ids", "pvc"])
        pid = worker_pid()
        time.sleep(2)
        print(json.dumps({"pid": pid, "alive": alive(pid), "same": worker_pid() == pid}))
    """, idle="0")
    assert out["alive"] and out["same"]


def test_a_worker_in_use_is_not_stopped(tmp_path):
    # A test double of libocloc whose every call takes 1.5 s, three times the idle time: the worker must last
    # through the calls (the idle clock starts when a run ends).
    src = tmp_path / "slow.c"
    src.write_text("#include <unistd.h>\nint oclocInvoke(void) { usleep(1500000); return 0; }\n"
                   "int oclocFreeOutput(void) { return 0; }\n")
    lib = tmp_path / "libslow_ocloc.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    out = run("""
        pid = worker_pid()
        codes = [short_job(["ids", "pvc"])[1].code for _ in range(3)]
        print(json.dumps({"codes": codes, "same": worker_pid() == pid}))
    """, idle="0.5", extra_env={"TRITON_LIBOCLOC_PATH": str(lib)})
    assert out == {"codes": [0, 0, 0], "same": True}


@pytest.mark.parametrize("value, message", [
    ("soon", "TRITON_XPU_OCLOC_IDLE_TIMEOUT='soon' is not a number of seconds (0: keep the worker for the life "
     "of the process)"),
    ("-1", "TRITON_XPU_OCLOC_IDLE_TIMEOUT='-1' is not a number of seconds (0: keep the worker for the life of "
     "the process)"),
])
def test_bad_idle_values_are_named(monkeypatch, value, message):
    monkeypatch.setenv(ocloc_runner.IDLE_ENV, value)
    with pytest.raises(ValueError) as info:
        ocloc_runner.idle_timeout()
    assert str(info.value) == message


def test_idle_default_and_never(monkeypatch):
    monkeypatch.delenv(ocloc_runner.IDLE_ENV, raising=False)
    assert ocloc_runner.idle_timeout() == 30.0
    monkeypatch.setenv(ocloc_runner.IDLE_ENV, "0")
    assert ocloc_runner.idle_timeout() is None

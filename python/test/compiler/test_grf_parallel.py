"""Parallel GRF attempts: the larger mode's compile starts beside the default one when the kernel is forecast
to spill, is used when the policy asks for it and cancelled when not; decisions stay those of the sequential
policy.  The policy's rules run against a test double of a native compiler; the rest against the real ocloc."""

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from triton.runtime.errors import OutOfResources

import kernels
from fake_compiler import LARGE, FakeCompiler
from test_zebin_stage import SPILLING  # spills on pvc at 128 GRF, not at 256, with IGC 1 and 2
from triton.backends.intel import targets
from triton.backends.intel.native import grf_policy, ocloc, spill_forecast
from triton.backends.intel.errors import CompilationError

REPO = Path(__file__).resolve().parents[3]
PVC = targets.lookup("pvc")


# --- the policy, against a test double (fake_compiler.py) -----------------------------------------------


def _select(outcomes, speculate, threshold=0, min_gain=0.1, num_warps=8, requested="default", can_start=True):
    gen = FakeCompiler(outcomes, can_start)
    try:
        sel = grf_policy.select_binary(b"spirv", "k", PVC, num_warps, requested, threshold, gen, min_gain,
                                       speculate=speculate)
    except (OutOfResources, CompilationError) as e:
        return gen, ("raised", type(e).__name__, str(e))
    attempts = [{k: v for k, v in a.as_dict().items() if k not in ("ms", "early")} for a in sel.attempts]
    return gen, (sel.binary, sel.attempt.flags, attempts), sel


SCENARIOS = list(itertools.product([0, 900, 8000, "oor", "error"], [0, 4000, 7800, "oor", "error"], [0, 1000]))


@pytest.mark.parametrize("default,large,threshold", SCENARIOS)
def test_parallel_decisions_are_the_sequential_ones(default, large, threshold):
    outcomes = {"": default, LARGE: large}
    seq_gen, sequential = _select(outcomes, False, threshold)[:2]
    par_gen, parallel = _select(outcomes, True, threshold)[:2]
    assert parallel == sequential
    assert seq_gen.started == [] and par_gen.started == [LARGE]
    # The early compile stands in for the sequential policy's second compile, or is cancelled.
    needed = LARGE in seq_gen.compiled
    assert par_gen.compiled == [""] and par_gen.cancelled == ([] if needed else [LARGE])


def test_early_attempt_is_marked_and_reported():
    _, _, sel = _select({"": 8000, LARGE: 0}, True)
    assert [a.early for a in sel.attempts] == [False, True]
    assert sel.early == grf_policy.EarlyAttempt("256", used=True)
    assert sel.attempt.flags == LARGE and sel.attempt.early


def test_early_attempt_not_needed_is_cancelled_and_reported():
    gen, _, sel = _select({"": 500, LARGE: 0}, True, threshold=1000)
    assert gen.cancelled == [LARGE] and sel.early == grf_policy.EarlyAttempt("256", used=False)
    assert [a.early for a in sel.attempts] == [False]


@pytest.mark.parametrize("case,kwargs", [
    ("explicit mode", dict(requested="256")),
    ("the larger mode could not launch", dict(num_warps=64)),
    ("a native compiler that cannot start compiles (the driver's)", dict(can_start=False)),
])
def test_no_early_attempt(case, kwargs):
    gen, _, sel = _select({"": 8000, LARGE: 0}, True, **kwargs)
    assert gen.started == [] and sel.early is None


def test_no_early_attempt_without_a_larger_mode():
    gen = FakeCompiler({"": 8000})
    sel = grf_policy.select_binary(b"spirv", "k", targets.lookup("tgllp"), 8, "default", 0, gen, speculate=True)
    assert gen.started == [] and sel.early is None and len(sel.attempts) == 1


# --- the forecast ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,arch,demand,spills", [
    ("add", "pvc", 2048, False),  # two 1024-float loads over 4 sub-groups
    ("layernorm", "pvc", 3072, False),
    ("layernorm", "acm-g10", 3072, True),  # 3/4 of acm-g10's 4 KiB register file
    ("matmul", "pvc", 12288, True),  # 64x32 + 32x64 fp16 operands and a 64x64 fp32 accumulator over 4
])
def test_register_demand_from_the_ttgir(name, arch, demand, spills):
    md = kernels.SPECS[name].compile(arch).metadata
    assert md.register_demand == demand
    assert spill_forecast.likely_to_spill(md.register_demand, targets.lookup(arch)) is spills
    assert (md.grf_attempts[0]["spill_bytes"] > 0) is spills  # the forecast is right for these


def test_parallel_knob(monkeypatch):
    monkeypatch.setattr(spill_forecast, "free_core", lambda: False)
    cases = {"0": (False, False), "1": (True, False), "always": (True, True), "auto": (False, False)}
    for value, (likely, unlikely) in cases.items():
        monkeypatch.setenv(spill_forecast.PARALLEL_ENV, value)
        assert spill_forecast.start_larger_mode_early(12288, PVC) is likely, value
        assert spill_forecast.start_larger_mode_early(2048, PVC) is unlikely, value
    monkeypatch.setattr(spill_forecast, "free_core", lambda: True)
    monkeypatch.setenv(spill_forecast.PARALLEL_ENV, "auto")
    assert spill_forecast.start_larger_mode_early(12288, PVC)
    assert not spill_forecast.start_larger_mode_early(None, PVC)  # no forecast (a caller without TTGIR)
    monkeypatch.setenv(spill_forecast.PARALLEL_ENV, "sometimes")
    with pytest.raises(ValueError, match=r"TRITON_XPU_GRF_PARALLEL='sometimes': expected one of auto, 1, always, 0"):
        spill_forecast.start_larger_mode_early(12288, PVC)


# --- the real ocloc --------------------------------------------------------------------------------------


def _compiled(kernel, arch, parallel, tmp_path, monkeypatch, tag):
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path / f"cache-{tag}"))
    monkeypatch.setenv(spill_forecast.PARALLEL_ENV, parallel)
    return kernel.compile(arch)


def _decisions(md):
    return [{k: v for k, v in a.items() if k not in ("ms", "early")} for a in md.grf_attempts]


def _children(marker):
    """Command lines of this process's children that contain ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and marker in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.parametrize("mode", ["lib", "subprocess"])
def test_real_parallel_attempts_decide_as_sequential_ones(mode, tmp_path, monkeypatch):
    monkeypatch.setenv(ocloc.MODE_ENV, mode)
    sequential = _compiled(SPILLING, "pvc", "0", tmp_path, monkeypatch, "seq")
    parallel = _compiled(SPILLING, "pvc", "1", tmp_path, monkeypatch, "par")
    seq, par = sequential.metadata, parallel.metadata
    assert spill_forecast.likely_to_spill(par.register_demand, PVC)
    assert _decisions(par) == _decisions(seq) and par.grf_mode == seq.grf_mode == "256"
    assert parallel.asm["zebin"] == sequential.asm["zebin"]
    assert [a["early"] for a in par.grf_attempts] == [False, True]
    assert par.grf_early_attempt == {"grf_mode": "256", "used": True} and seq.grf_early_attempt is None
    # Each attempt keeps its own time; the stage's is the wall time, less than their sum.
    assert par.stage_ms["zebin"] < sum(a["ms"] for a in par.grf_attempts)


@pytest.mark.parametrize("mode,marker", [("lib", "ocloc_worker.py"), ("subprocess", "ocloc compile")])
def test_early_attempt_not_needed_is_stopped(mode, marker, tmp_path, monkeypatch):
    monkeypatch.setenv(ocloc.MODE_ENV, mode)
    before = len(_children(marker))
    md = _compiled(kernels.SPECS["add"], "pvc", "always", tmp_path, monkeypatch, "always").metadata
    assert md.grf_early_attempt == {"grf_mode": "256", "used": False}
    assert len(md.grf_attempts) == 1 and md.grf_mode == "128"
    # The cancelled compile's process is gone: at most the main libocloc worker is left.
    assert len(_children(marker)) <= max(before, 1 if mode == "lib" else 0)


THREAD_THEN_MAIN = textwrap.dedent("""
    import os, sys, threading
    sys.path.insert(0, {examples!r})
    import kernels
    from triton.backends.intel.native import ocloc
    from triton.backends.intel.native.ocloc_runner import choose_runner
    os.environ["TRITON_XPU_OCLOC_MODE"] = "subprocess"  # so that no libocloc worker starts in this thread
    spirv = kernels.SPECS["add"].compile("pvc").asm["spv"]
    os.environ["TRITON_XPU_OCLOC_MODE"] = "lib"
    # The first compile, in a thread that then ends, starts libocloc's worker.
    worker = threading.Thread(target=lambda: ocloc.compile_spirv(spirv, ["pvc"]))
    worker.start(); worker.join()
    pid = choose_runner()[1]._proc.pid
    binary = ocloc.compile_spirv(spirv, ["pvc"]).binary
    print(pid, choose_runner()[1]._proc.pid, len(binary))
""")


def test_libocloc_worker_outlives_the_thread_that_started_it(tmp_path):
    # The worker asks to die with its parent (PR_SET_PDEATHSIG), which Linux applies to the starting thread.
    env = dict(os.environ, TRITON_CACHE_DIR=str(tmp_path), TRITON_XPU_OCLOC_MODE="lib")
    out = subprocess.run([sys.executable, "-c", THREAD_THEN_MAIN.format(examples=str(REPO / "examples"))], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    started, used, size = map(int, out.stdout.split()[-3:])
    assert started == used and size > 0  # the same warm worker, not one restarted after it was killed


FORK_SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {examples!r})
    import kernels
    from triton.backends.intel.native import ocloc
    spirv = kernels.SPECS["add"].compile("pvc").asm["spv"]
    ocloc.compile_spirv(spirv, ["pvc"])
    pid = os.fork()
    if pid == 0:  # the child compiles with a worker of its own
        ok = ocloc.compile_spirv(spirv, ["pvc"], options="-cl-intel-256-GRF-per-thread").binary[:4] == b"\\x7fELF"
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status), "parent", len(ocloc.compile_spirv(spirv, ["pvc"]).binary) > 0)
""")


def test_forked_child_compiles_beside_its_parent(tmp_path):
    env = dict(os.environ, TRITON_CACHE_DIR=str(tmp_path), TRITON_XPU_OCLOC_MODE="lib")
    out = subprocess.run([sys.executable, "-c", FORK_SCRIPT.format(examples=str(REPO / "examples"))], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-4:] == ["child", "0", "parent", "True"]


def test_a_core_is_free_unless_every_core_stays_busy(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    readings = iter([2, 3, 1])  # a short-lived process is counted once, then gone
    monkeypatch.setattr(spill_forecast, "_runnable", lambda: next(readings))
    assert spill_forecast.free_core()
    monkeypatch.setattr(spill_forecast, "_runnable", lambda: 2)  # this process and another, throughout
    assert not spill_forecast.free_core()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setattr(spill_forecast, "_runnable", lambda: 0)
    assert not spill_forecast.free_core()  # one core: nothing to run beside the default attempt

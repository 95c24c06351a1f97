"""Two `./run --toolchain current test` side by side in one clone both pass and both print their own summary:
each run has its own summary folder (build/test-summary/run-PID) and lit Output folder (TRITON_XPU_LIT_OUTPUT),
removed at its end, and nothing lands in the tree's test/**/Output.

Each inner run selects one small pytest file (-k) and runs the whole lit suite, so the two overlap where they
used to collide: the summary's removal at the start of a run and lit's Output folders."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(os.environ.get("TRITON_XPU_TOOLCHAIN") != "current",
                    reason="the concurrent suites test runs once, in the current toolchain's suite")
def test_two_suites_of_one_clone_run_side_by_side():
    before = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "test").rglob("Output"))
    env = {k: v for k, v in os.environ.items() if k != "TRITON_XPU_TEST_SUMMARY_DIR"}
    cmd = [str(REPO / "run"), "--toolchain", "current", "test", "-k", "test_knobs", "-p", "no:cacheprovider"]
    runs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    outs = [run.communicate(timeout=900)[0] for run in runs]
    for run, out in zip(runs, outs):
        assert run.returncode == 0, out[-3000:]
        assert "Passed: 15" in out and "=== corpus and skip/xfail reasons per toolchain ===" in out, out[-3000:]
        assert "no summary" not in out.lower(), out[-3000:]
    for run in runs:  # each run's summary folder is gone with it
        assert not (REPO / "build" / "test-summary" / f"run-{run.pid}").exists()
    after = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "test").rglob("Output"))
    assert after == before

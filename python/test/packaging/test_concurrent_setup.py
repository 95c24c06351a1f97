"""Two `./run --toolchain current true` started at once in a fresh clone both succeed: one sets up, the other waits
for it (scripts/venv_lock.sh), saying so, and then finds the work done.  The wheel is built outside the source tree,
and build products a person leaves in it (`pip install .`: build/, python/*.egg-info) do not make a rebuild.

The fresh clone is of this repository's working tree as it is (uncommitted changes and new files copied over), in
a temporary folder.  Its set-up takes minutes (a venv from pip's cache, the wheel built once), so the test runs
once, in the `current` toolchain's suite: from inside that toolchain, whose ./run enters the same root file system
(scripts/toolchain.sh mounts the store read-only there).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
WAITED = "[setup] waiting for another ./run setting up .toolchains/current/venv (pid {pid})"
BUILT = "[setup] building the triton-xpu wheel"


def git(*args, cwd):
    return subprocess.run(["git", "-c", "safe.directory=*", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout


def fresh_clone(dest: Path) -> None:
    """A clone of REPO with its working tree's uncommitted changes: what a person gets after committing them."""
    git("clone", "-q", "--no-hardlinks", str(REPO), str(dest), cwd=REPO.parent)
    changed = git("ls-files", "-z", "--modified", "--deleted", "--others", "--exclude-standard", cwd=REPO)
    for rel in sorted(set(filter(None, changed.split("\0")))):
        src, dst = REPO / rel, dest / rel
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        elif dst.is_file():
            dst.unlink()


def status(clone: Path) -> set:
    """git status with ignored files: set-up should add only the clone's venv (.toolchains/)."""
    return set(git("status", "--porcelain", "--ignored", cwd=clone).splitlines())


@pytest.mark.skipif(os.environ.get("TRITON_XPU_TOOLCHAIN") != "current",
                    reason="the concurrent set-up test runs once, in the current toolchain's suite")
def test_two_runs_at_once_in_a_fresh_clone_wait_for_each_other():
    top = Path(tempfile.mkdtemp(prefix="concurrent-setup-"))
    try:
        clone = top / "clone"
        fresh_clone(clone)
        before = status(clone)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_XPU_VENV", "PYTEST_"))}

        def start(name):
            out = (top / f"{name}.log").open("w")
            return subprocess.Popen([str(clone / "run"), "--toolchain", "current", "true"], cwd=clone, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT), out

        runs = [start("a"), start("b")]  # at once
        for proc, out in runs:
            proc.wait(timeout=1800)
            out.close()
        logs = [(top / f"{name}.log").read_text() for name in ("a", "b")]
        report = "\n".join(f"--- ./run (pid {proc.pid}) exited {proc.returncode}:\n{log}"
                           for (proc, _), log in zip(runs, logs))
        assert [proc.returncode for proc, _ in runs] == [0, 0], report
        # One set up, the other waited for it (naming its pid) and then found nothing to do.
        waited = [i for i, log in enumerate(logs) if WAITED.format(pid=runs[1 - i][0].pid) in log]
        assert len(waited) == 1, f"exactly one run should have waited for the other:\n{report}"
        assert BUILT in logs[1 - waited[0]] and BUILT not in logs[waited[0]], report
        # Nothing written into the source tree (no build/, no *.egg-info): git sees only the venv as new.
        assert status(clone) - before == {"!! .toolchains/"}

        # What `pip install .` by hand leaves in the tree, and the caches tests leave, change nothing.
        (clone / "build" / "bdist.linux-x86_64").mkdir(parents=True)
        (clone / "python" / "triton_xpu.egg-info").mkdir()
        (clone / "python" / "triton_xpu.egg-info" / "PKG-INFO").write_text("Name: triton-xpu\n")
        (clone / ".pytest_cache").mkdir()
        again = subprocess.run([str(clone / "run"), "--toolchain", "current", "true"], cwd=clone, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr
        assert again.stderr.startswith("[setup] ready: ") and again.stderr.count("\n") == 1, again.stderr
    finally:
        shutil.rmtree(top, ignore_errors=True)

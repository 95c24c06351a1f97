"""scripts/toolchain.sh refuses bad set-ups with one line saying what to do (nothing is built or mounted).

These run wherever the suite runs (inside a toolchain environment too): each case stops before any
download.  An unreachable package archive is checked by hand (it needs mmdebstrap on the host).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "toolchain.sh"


def toolchain(*args, env=None, prefix=()):
    return subprocess.run([*prefix, "bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})))


def test_an_unknown_toolchain_lists_the_known_ones():
    proc = toolchain("ensure", "nosuch")
    assert proc.returncode == 1
    assert proc.stderr == ("toolchain: unknown toolchain 'nosuch'; known: current legacy, and host (this machine's "
                           "own packages)\n")


def test_list_names_each_toolchain_and_its_stack():
    proc = toolchain("list")
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [
        "current  Debian testing: NEO 26.x, IGC 2.x, Level Zero loader 1.3x",
        "legacy   Debian 12: NEO 22.43, IGC 1.0.12504, Level Zero loader 1.8",
    ]


def readable_copy_of_the_script() -> Path:
    """scripts/toolchain.sh and its .conf files in a folder any user can read.  The clone itself may sit where
    user 65534 cannot read it (a `mktemp -d` folder, /root, pytest's tmp_path): what is tested is the script's
    answer to a user without root, not the clone's permissions."""
    top = Path(tempfile.mkdtemp(prefix="toolchain-script-"))
    top.chmod(0o755)
    shutil.copytree(REPO / "scripts", top / "scripts")
    for path in (top / "scripts").rglob("*"):
        path.chmod(0o755)
    return top


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_without_root_it_says_so():
    copy = readable_copy_of_the_script()
    try:
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash",
                               str(copy / "scripts" / "toolchain.sh"), "ensure", "current"],
                              capture_output=True, text=True, timeout=120, cwd=copy,
                              env=dict(os.environ, TRITON_XPU_TOOLCHAIN_DIR=str(copy / "store")))
    finally:
        shutil.rmtree(copy)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "toolchain: building and entering toolchain environments needs root (chroot and mounts): run as root, "
        "e.g. sudo ./run ...; or use --toolchain host")


def test_too_little_disk_is_found_before_building(tmp_path):
    # The store's free space against what a toolchain needs (raised here past any disk).
    proc = toolchain("ensure", "legacy", env={"TRITON_XPU_TOOLCHAIN_DIR": str(tmp_path),
                                              "TRITON_XPU_TOOLCHAIN_NEEDED_MB": str(10 ** 9)})
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("toolchain: only ") and last.endswith(
        f" MB free in {tmp_path}, a toolchain needs about {10 ** 9} MB: free disk space or set "
        "TRITON_XPU_TOOLCHAIN_DIR to a larger disk")
    assert list(tmp_path.iterdir()) == []  # nothing started


def test_a_python_triton_xpu_has_no_wheels_for_is_refused(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nprintf '/usr/bin/python3.14\\n3.14\\n/usr/bin/python3.14\\n'\n")
    fake.chmod(0o755)
    proc = toolchain("exec", "current", "true", env={"PYTHON": str(fake)})
    assert proc.returncode == 1
    assert proc.stderr == ("toolchain: Python 3.14 (/usr/bin/python3.14) cannot run triton-xpu 3.3.0b1 (wheels for "
                           "3.9-3.12 only): set PYTHON to such an interpreter\n")

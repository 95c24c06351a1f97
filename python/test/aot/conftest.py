"""Fixtures of the ahead-of-time tests: the `triton-xpu` outputs (compiled once per test run) and the C compiler.

Two suites test the AOT command, on purpose: here (pytest), what needs Python to check -- C loaders built and
launched, parallel jobs, refused input, binaries compared with the loader's reading; test/aot/ (lit), what its
output says, by FileCheck on a file or a listing, one behaviour per file.  Both compile examples/kernels.py, the
project's one kernel collection.
"""

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from aot_helpers import ADD_SIGNATURE, DOT_SIGNATURE, EXAMPLES, run_cli


def _compile(out_dir, *args):
    proc = run_cli("compile", *args, "--out-dir", out_dir)
    assert proc.returncode == 0, proc.stderr
    (out_dir / "compile.stdout").write_text(proc.stdout)
    (out_dir / "compile.stderr").write_text(proc.stderr)


def _shared_root(tmp_path_factory) -> Path:
    """A folder of this test run that every pytest-xdist worker sees (the workers' common parent)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The session's compiles, in two command lines of two jobs each (so compiles run in parallel), made once
    per test run (the first xdist worker to get here builds, the others wait and reuse):

    * ``add``: add_kernel for pvc alone (``pvc/``, 4 warps) and for pvc + acm-g10 (``fat/``, 1 warp), with C;
    * ``dot``: a 16x16 dot for pvc + acm-g10 (``fat/``), whose targets launch differently.

    ``fat/`` also has each target's SPIR-V (``--emit-spv``).  ``pvc_ir/`` is ``pvc/``'s add with ``--keep-ir``:
    the only build whose zebins keep their SPIR-V.
    """
    root = _shared_root(tmp_path_factory) / "aot-built"
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            for sub in ("pvc", "fat", "pvc_ir"):
                shutil.rmtree(root / sub, ignore_errors=True)
                (root / sub).mkdir()
            _compile(root / "pvc", EXAMPLES, "--kernel", "add_kernel", "--out-name", "add", "--signature",
                     ADD_SIGNATURE, "--target", "pvc", "--emit-c", "-j", "2")
            _compile(root / "fat", EXAMPLES, "--kernel", "add_kernel", "--out-name", "add", "--signature",
                     ADD_SIGNATURE.replace(",1024", ""), "--constexpr", "BLOCK=128", "--kernel", "dot_kernel",
                     "--out-name", "dot_kernel", "--signature", DOT_SIGNATURE, "--target", "pvc,acm-g10",
                     "--num-warps", "1", "--emit-c", "--emit-spv", "-j", "2")
            _compile(root / "pvc_ir", EXAMPLES, "--kernel", "add_kernel", "--out-name", "add", "--signature",
                     ADD_SIGNATURE, "--target", "pvc", "--emit-c", "--keep-ir", "-j", "1")
            (root / "done").write_text("")
    return {"root": root, "pvc": root / "pvc", "fat": root / "fat", "pvc_ir": root / "pvc_ir"}


@pytest.fixture(scope="session")
def cc():
    exe = shutil.which("cc") or shutil.which("gcc")
    if exe is None:
        pytest.skip("no C compiler (apt-get install build-essential)")
    if not Path("/usr/include/level_zero/ze_api.h").is_file():
        pytest.skip("no Level Zero headers (apt-get install libze-dev)")
    return exe

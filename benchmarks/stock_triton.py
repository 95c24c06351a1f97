"""Stock triton-xpu, for baselines measured in the same run: PyPI's ``triton-xpu==3.3.0b1`` (Intel's release, none of
this project's changes) in a venv of its own, run on the same (real or emulated) device as this project.

Stock's driver launches through SYCL and asks PyTorch for the device, its queue and its capabilities, and its launcher
and runtime helpers are C++ compiled with the machine's C++ compiler at first use (kept in Triton's cache).  Here
PyTorch is the stand-in ``python/test/support/standin_torch_xpu`` (a test double: ``torch.xpu`` over a dpctl queue),
and the SYCL runtime (dpctl, intel-sycl-rt), NumPy, the redis client and the corpus's kernel packages (Liger,
FlagGems, flash-linear-attention: fleet.py's ``--corpus``, imported under that stand-in, which is the corpus's own
CPU-only one plus ``torch.xpu``) are the running environment's: the venv is ``python -m venv`` plus
``pip install --no-deps triton-xpu==3.3.0b1``, and a ``.pth`` file that puts this environment's site-packages after
its own (its ``triton`` comes first).  It is made once, by :func:`python`, under this environment's ``build/``
folder.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, Optional

REPO = Path(__file__).resolve().parents[1]
VERSION = "3.3.0b1"
FOLDER = Path(sys.prefix) / "build" / f"stock-triton-xpu-{VERSION}"
STANDIN_TORCH_XPU = REPO / "python" / "test" / "support" / "standin_torch_xpu"
# The SYCL name of each emulated target's architecture, which the stand-in torch reports (real torch reads it from
# the device); stock's compiler knows pvc, bmg, dg2 (acm-g10), lnl and mtl by it.
SYCL_ARCHITECTURE = {"pvc": "intel_gpu_pvc", "acm-g10": "intel_gpu_dg2_g10", "bmg": "intel_gpu_bmg_g21"}


class StockUnavailable(Exception):
    """Stock triton-xpu cannot run here; the message says why and what would make it run."""


def _stamp() -> Path:
    return FOLDER / "ready"


def python() -> Path:
    """The stock venv's interpreter, made first if needed (a few seconds when pip has the wheel cached).  Several
    processes asking at once wait for one set-up.  StockUnavailable when pip cannot install it."""
    exe = FOLDER / "bin" / "python"
    if _stamp().exists():
        return exe
    FOLDER.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{FOLDER}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stamp().exists():
            return exe
        shutil.rmtree(FOLDER, ignore_errors=True)
        print(f"setting up stock triton-xpu {VERSION} in {FOLDER}", file=sys.stderr, flush=True)
        venv.create(FOLDER, with_pip=False)
        proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(exe), "install", "-q", "--no-deps",
                               f"triton-xpu=={VERSION}"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise StockUnavailable(f"pip could not install triton-xpu=={VERSION} into {FOLDER} (exit "
                                   f"{proc.returncode}): {proc.stderr.strip()[-1500:]}")
        purelib = subprocess.run([str(exe), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        # After its own site-packages: the SYCL runtime, NumPy and redis of this environment, never its triton.
        Path(purelib, "running-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
        _stamp().write_text(VERSION + "\n")
    return exe


@functools.lru_cache(maxsize=None)
def problem() -> Optional[str]:
    """Why stock triton-xpu cannot run on this machine's Level Zero GPU, None when it can."""
    from bench_common import sycl_gpu_problem
    if not any(shutil.which(c) for c in ("icpx", "clang++", "g++")):
        return "no C++ compiler (icpx, clang++ or g++): stock triton-xpu builds its launchers with one at first use"
    return sycl_gpu_problem()  # stock launches through SYCL, on a queue of the Level Zero GPU


def environment(target: str) -> Dict[str, str]:
    """What a stock process needs on top of this one's environment, on an emulated ``target`` or a real GPU: the
    stand-in torch, the device's SYCL architecture, and NEO's settings for the emulated device (this project's
    driver sets them itself; stock's cannot)."""
    from triton.backends.intel import targets
    from triton.backends.intel.runtime import emulation
    env = {"PYTHONPATH": str(STANDIN_TORCH_XPU), "STANDIN_TORCH_XPU_ARCHITECTURE": SYCL_ARCHITECTURE[target]}
    if os.environ.get(emulation.EMULATE_ENV):
        env.update(emulation.environment(targets.lookup(target)))
    return env

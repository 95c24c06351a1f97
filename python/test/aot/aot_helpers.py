"""Helpers of the ahead-of-time tests: where things are, the `triton-xpu` command line, and the environment of an
emulated device for a child process.  (A module of its own: test modules import it; `conftest` is ambiguous
among the suite's several conftest.py files.)"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
EXAMPLES = REPO / "examples" / "kernels.py"  # what `triton-xpu compile` compiles here: the one kernel collection
ADD_SIGNATURE = "*fp32,*fp32,*fp32,i32,1024"
DOT_SIGNATURE = "*fp16,*fp16,*fp32,16"


def run_cli(*args, env=None, cwd=None, timeout=600):
    """`triton-xpu ARGS` (as `python -m triton.backends.intel.aot.cli`, until the console script is installed)."""
    return subprocess.run([sys.executable, "-m", "triton.backends.intel.aot.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


def neo_env(target: str) -> dict:
    """The environment of a child process that should see the emulated ``target`` device (the driver's own
    set-up, emulation.environment; this process's environment is left alone)."""
    from triton.backends.intel import targets
    from triton.backends.intel.runtime import emulation
    return dict(os.environ, **emulation.environment(targets.lookup(target)))

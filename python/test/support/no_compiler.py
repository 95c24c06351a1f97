"""Code a test puts before a child process's own: anything that would start the compiler (ocloc, libocloc's
worker, any process) fails loudly -- the proof that the child loaded its kernels from a cache or a store."""

CODE = """
import subprocess, os
from triton.backends.intel.native import ocloc_runner
def unavailable(*args, **kwargs):
    raise AssertionError(f"the compiler was started: {args[:2]!r}")
subprocess.Popen = unavailable
os.posix_spawn = os.posix_spawnp = os.fork = unavailable
ocloc_runner._Libocloc._start = unavailable
"""

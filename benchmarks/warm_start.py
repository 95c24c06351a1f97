"""The first ``kernel[grid]`` call of a process whose kernels are all in Triton's cache, in fresh processes.

    TRITON_XPU_EMULATE=pvc python benchmarks/warm_start.py [--rounds 7] [--json]

A first process compiles the vector add into a private Triton cache.  Then, in each round, two fresh processes
make the same first call: one with everything cached (``warm``), one whose compiler answers (ocloc version,
``ocloc ids``, capability probes) were removed from the cache first (``asking``: what every process paid before
they were kept on disk).  Each reports, in ms, the first call and its parts, timed by wrapping the functions
Triton calls:

* ``backend``: constructing ``XPUBackend`` (Triton does it once per device and process);
* ``load``: ``driver.utils.load_binary`` (reading the zebin's checksum, module and kernel creation);
* ``launcher``: ``driver.launcher_cls`` (the launcher for the kernel's signature);
* ``triton_key``: Triton's hash of its own files (libtriton.so included), once per process: Triton's own cost,
  the same with any backend;
* ``frontend``: the rest of the first call -- Triton's own binding, cache lookup and the launch itself;
* ``raw``: in the same process afterwards, ``zeModuleCreate`` + ``zeKernelCreate`` of the same zebin and one
  raw append, the floor any loader pays.

Medians over the rounds.  Goals (issue 23): ``backend`` <= 5 ms; ``backend + load + launcher`` <= 3 ms above
``raw``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from bench_common import device_main, fresh_process_json, interleaved, ratio_to_baseline, timed

PARTS = ("backend", "load", "launcher")


def child() -> Dict[str, float]:
    """One process's first call, split into parts (ms)."""
    import kernels
    import triton.compiler.compiler as triton_compiler
    from triton.backends import backends
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero
    spent: Dict[str, float] = {}
    # Triton loads the backend's compiler.py by path: wrap the class it registered, not an imported copy.
    timed(backends["intel"].compiler, "__init__", spent, "backend")
    timed(triton_compiler, "triton_key", spent, "triton_key")
    x = driver.active.alloc(4096, "device", "float32")  # the driver is up before the clock starts
    timed(driver.active.utils, "load_binary", spent, "load")
    timed(driver.active, "launcher_cls", spent, "launcher")
    start = time.perf_counter()
    k = kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
    first = (time.perf_counter() - start) * 1e3
    driver.active.synchronize()
    row = {"first_call": first, **{p: spent.get(p, 0.0) for p in PARTS}, "triton_key": spent.get("triton_key", 0.0)}
    row["frontend"] = first - sum(row[p] for p in PARTS) - row["triton_key"]
    group = k.metadata.num_warps * k.metadata.threads_per_warp
    row["raw"] = _raw_load_and_append(k.asm["zebin"], group, x, level_zero, driver)
    return row


def _raw_load_and_append(binary: bytes, group: int, x, level_zero, driver) -> float:
    ze = level_zero.runtime().ze
    device = driver.active.get_current_device()
    start = time.perf_counter()
    k = ze.load_native(device, binary, "add_kernel")
    arg = struct.pack("<Q", x.data_ptr())
    ze.raw_launch_loop(k["kernel"], device, 1, 1, 1, [(8, arg), (8, arg), (8, arg), (4, struct.pack("<i", 1024))], 1,
                       group_size=(group, 1, 1))
    elapsed = (time.perf_counter() - start) * 1e3
    driver.active.synchronize()
    ze.unload(k["module"], k["kernel"])
    return elapsed


def _run_child(cache: str) -> Dict[str, float]:
    return fresh_process_json(__file__, [], dict(os.environ, TRITON_CACHE_DIR=cache), "the measuring process", 600)


def _without_answers(cache: str) -> str:
    """A copy of the cache without the compiler's answers (compiler_identity's answer.json files)."""
    copy = tempfile.mkdtemp(prefix="bench-cache-asking-")
    shutil.rmtree(copy)
    shutil.copytree(cache, copy)
    for answer in Path(copy).rglob("answer.json"):
        answer.unlink()
    return copy


def _run_child_asking(cache: str) -> Dict[str, float]:
    """``_run_child`` on a copy of ``cache`` without the compiler's answers."""
    asking = _without_answers(cache)
    try:
        return _run_child(asking)
    finally:
        shutil.rmtree(asking, ignore_errors=True)


def measure(rounds: int) -> List[Dict[str, Any]]:
    cache = tempfile.mkdtemp(prefix="bench-cache-warm-")
    _run_child(cache)  # compiles the kernel and asks the compiler once
    samples = interleaved(rounds, {"warm": lambda: _run_child(cache), "asking": lambda: _run_child_asking(cache)})
    shutil.rmtree(cache, ignore_errors=True)
    rows = []
    for case, runs in samples.items():
        med: Callable[[str], float] = lambda key: statistics.median(r[key] for r in runs)
        row = {"case": case, **{f"{k}_ms": round(med(k), 2) for k in ("first_call", "triton_key", "backend", "load",
                                                                      "launcher", "frontend", "raw")}}
        row["ours_above_raw_ms"] = round(med("backend") + med("load") + med("launcher") - med("raw"), 2)
        rows.append(row)
    ratio_to_baseline(rows, rows[1], "asking", ["backend_ms"], 3)
    return rows


def main(argv: List[str] | None = None) -> int:
    return device_main(__doc__, argv, lambda args: measure(args.rounds), child=child, rounds=7)


if __name__ == "__main__":
    sys.exit(main())

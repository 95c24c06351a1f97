"""Memory of several processes compiling at once, as PyTorch's pool of compile workers does.

    python benchmarks/compile_memory.py [--processes 8] [--kernels add,softmax,...] [--idle 2] [--json]

``--processes`` fresh processes, each with its own empty Triton cache, compile the main job's kernels for pvc
at the same time, once with libocloc in its resident worker process (``lib``, the default way) and once with
the ocloc executable per compile (``subprocess``), in the same run.  The resident set (RSS) of the processes
and every process they started is sampled every 50 ms from /proc:

* ``peak_mb``: the largest sum while they compile;
* ``after_compile_mb``: right after the last of them finished (libocloc's workers still resident);
* ``after_idle_mb``: ``--idle`` + 1.5 s later, the processes still alive and idle
  (``TRITON_XPU_OCLOC_IDLE_TIMEOUT=--idle``: the workers have left).

``vs_subprocess`` is each figure over the same figure of the ``subprocess`` run.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from bench_common import command_line, print_rows, ratio_to_baseline

EXAMPLES = str(Path(__file__).resolve().parents[1] / "examples")
CHILD = """
import sys
sys.path.insert(0, {examples!r})
import kernels
for name in {kernels!r}:
    kernels.SPECS[name].compile("pvc")
print("done", flush=True)
sys.stdin.read()  # stay alive, idle, until the benchmark lets go
"""


def _children_of() -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(roots: List[int]) -> float:
    """RSS of ``roots`` and all their descendants, in MB."""
    tree, seen, todo = _children_of(), set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(tree.get(pid, ()))
    return sum(_rss_kb(p) for p in seen) / 1024


def measure(mode: str, processes: int, kernel_names: List[str], idle: float) -> Dict[str, object]:
    code = CHILD.format(examples=EXAMPLES, kernels=kernel_names)
    procs = []
    start = time.monotonic()
    for _ in range(processes):
        env = dict(os.environ, TRITON_XPU_OCLOC_MODE=mode, TRITON_XPU_OCLOC_IDLE_TIMEOUT=str(idle),
                   TRITON_CACHE_DIR=tempfile.mkdtemp(prefix="bench-memory-"), TRITON_XPU_GRF_PARALLEL="0")
        procs.append(subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, env=env))
    pids = [p.pid for p in procs]
    peak, pending = 0.0, {p.stdout.fileno(): p for p in procs}
    while pending:
        peak = max(peak, tree_rss_mb(pids))
        ready, _, _ = select.select(list(pending), [], [], 0.05)
        for fd in ready:
            line = pending[fd].stdout.readline()
            if line.strip() != "done":
                raise RuntimeError(f"a compiling process failed (exit {pending[fd].wait()})")
            del pending[fd]
    wall = time.monotonic() - start
    after_compile = tree_rss_mb(pids)
    peak = max(peak, after_compile)
    time.sleep(idle + 1.5)
    after_idle = tree_rss_mb(pids)
    for p in procs:
        p.stdin.close()
        p.wait()
    return {"mode": mode, "processes": processes, "wall_s": round(wall, 1), "peak_mb": round(peak),
            "after_compile_mb": round(after_compile), "after_idle_mb": round(after_idle)}


def main(argv: List[str] | None = None) -> int:
    args = command_line(__doc__, argv, processes=8, kernels="add,softmax,layernorm,matmul,attention,sort", idle=2.0)
    names = args.kernels.split(",")
    rows = [measure(mode, args.processes, names, args.idle) for mode in ("lib", "subprocess")]
    ratio_to_baseline(rows, rows[1], "subprocess", ("peak_mb", "after_compile_mb", "after_idle_mb"), 2)
    print_rows(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A fleet "node": a fresh Python process with its own empty Triton cache, on an emulated device, that launches
kernels from examples/kernels.py and prints what it did as JSON (as python/test/runtime's tests start theirs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from support import no_compiler

REPO = Path(__file__).resolve().parents[3]

PRELUDE = textwrap.dedent("""
    import json, sys, time, warnings
    sys.path.insert(0, {examples!r})
    warnings.simplefilter("default")
""").format(examples=str(REPO / "examples"))

NO_COMPILER = no_compiler.CODE  # the proof that a node loaded its kernels from the store

# Launch add (two specialisations: BLOCK 1024 and 512) and report, per launch, whether it was compiled or read
# from the cache (metadata.stage_ms: {"cached": ms} on a hit), the target it was compiled for, and the time from
# the start of the process's first launch to all kernels loaded.
LAUNCH = """
import kernels
import triton
from triton.runtime.driver import driver
start = time.perf_counter()
x = driver.active.alloc(4096 * 4, "shared", "float32")
out = []
for block in BLOCKS:
    k = kernels.add_kernel[(1, )](x, x, x, 4096, BLOCK=block)
    out.append({"block": block, "stage_ms": k.metadata.stage_ms, "target": k.metadata.target_arch,
                "module": k.module != 0, "hash": k.hash})
driver.active.synchronize()
props = driver.active.get_device_properties()
print(json.dumps({"kernels": out, "ms": (time.perf_counter() - start) * 1e3, "device_id": props["device_id"],
                  "device": driver.active.get_current_target().arch["arch"]}))
"""


@dataclass
class Node:
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # the whole process, start to exit

    @property
    def out(self) -> dict:
        assert self.returncode == 0, self.stderr[-3000:]
        return json.loads(self.stdout.strip().splitlines()[-1])

    def warnings(self, category: str) -> List[str]:
        """The messages of the warnings of ``category`` this node printed (Python's one-line format)."""
        marker = f": {category}: "
        return [line.split(marker, 1)[1] for line in self.stderr.splitlines() if marker in line]

    def compiled(self) -> List[bool]:
        """Per launch: True if this node compiled the kernel, False if it came from a cache."""
        return [set(k["stage_ms"]) != {"cached"} for k in self.out["kernels"]]


def run_node(env: Dict[str, str], cache_dir: Path, blocks=(1024, ), emulate: str = "pvc",
             no_compiler: bool = False, code: Optional[str] = None, timeout: float = 300) -> Node:
    """Run one node with an empty (or the given) Triton cache folder and ``env`` on top of this environment."""
    full = dict(os.environ, **env)
    full["TRITON_CACHE_DIR"] = str(cache_dir)
    full["TRITON_XPU_EMULATE"] = emulate
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    body = (NO_COMPILER if no_compiler else "") + f"BLOCKS = {list(blocks)!r}\n" + (code or LAUNCH)
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="fleet_node_", delete=False) as script:
        script.write(PRELUDE + body)  # a file, not -c: @triton.jit needs the kernel's source
    try:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, script.name], capture_output=True, text=True, env=full,
                              timeout=timeout, cwd=str(cache_dir.parent))
        return Node(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)
    finally:
        os.unlink(script.name)

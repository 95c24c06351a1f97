"""Native load vs SPIR-V compiled at load, against a cold and a warm NEO persistent compiler cache.

    TRITON_XPU_EMULATE=pvc python benchmarks/load_neo_cache.py [--kernels add,softmax,matmul] [--rounds 3] [--json]

NEO 26 keeps what it compiled from SPIR-V in a persistent cache (``NEO_CACHE_PERSISTENT``, on by default on
Linux; folder ``NEO_CACHE_DIR``, default ``~/.cache/neo_compiler_cache``): on a user's second run of the same
kernel, on the same machine and driver, stock triton-xpu's SPIR-V load is answered from it.  Each figure is
one first load in a fresh process (NEO reads these settings when it loads), medians of interleaved rounds:

* ``native_ms``: this project's path, ``zeModuleCreate(NATIVE)`` + ``zeKernelCreate`` of the zebin;
* ``spirv_cold_ms``: stock's path on a first run, a new driver or a fresh container: ``zeModuleCreate(SPIR-V)``
  with an empty NEO cache, plus its 256-GRF retry when the kernel spills more than 1000 bytes;
* ``spirv_warm_ms``: the same with NEO's cache filled by an earlier process (a user's second run).

``cold_ratio`` and ``warm_ratio`` are the SPIR-V figures over ``native_ms``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from bench_common import (  # noqa: E402  (also puts examples/ on the path)
    device_main, fresh_process_json, interleaved, measure_each)
from load_native_vs_jit import jit_at_load_ms, kernel_specs


def child(kind: str, path: str, name: str) -> Dict[str, Any]:
    """One first load in this fresh process: ``kind`` native (a zebin) or spirv."""
    from triton.backends.intel.runtime import level_zero
    ze = level_zero.runtime().ze
    data = Path(path).read_bytes()
    if kind == "native":
        start = time.perf_counter()
        out = ze.load_native(0, data, name)
        ms = (time.perf_counter() - start) * 1e3
        ze.unload(out["module"], out["kernel"])
        return {"ms": ms}
    start = time.perf_counter()
    jit = jit_at_load_ms(ze, 0, data, name)
    return {"ms": (time.perf_counter() - start) * 1e3, "retried": jit["retried"]}


def _load_in_fresh_process(kind: str, path: str, name: str, neo_cache: str = "") -> Dict[str, Any]:
    env = dict(os.environ, NEO_CACHE_PERSISTENT="1" if neo_cache else "0")
    if neo_cache:
        env["NEO_CACHE_DIR"] = neo_cache
    return fresh_process_json(__file__, [kind, path, name], env, f"loading {name} ({kind})")


def measure(spec, device: str, rounds: int, work: Path) -> Dict[str, Any]:
    compiled = spec.compile(device)
    name = compiled.metadata.name
    zebin, spv = work / f"{spec.name}.zebin", work / f"{spec.name}.spv"
    zebin.write_bytes(compiled.asm["zebin"])
    spv.write_bytes(compiled.asm["spv"])
    neo_cache = tempfile.mkdtemp(prefix="bench-neo-cache-", dir=work)
    _load_in_fresh_process("spirv", str(spv), name, neo_cache)  # a user's first run fills NEO's cache
    runs = interleaved(rounds, {"native": lambda: _load_in_fresh_process("native", str(zebin), name),
                                "cold": lambda: _load_in_fresh_process("spirv", str(spv), name),
                                "warm": lambda: _load_in_fresh_process("spirv", str(spv), name, neo_cache)})
    med = {case: statistics.median(r["ms"] for r in results) for case, results in runs.items()}
    return {"kernel": spec.name, "device": device, "grf_mode": compiled.metadata.grf_mode,
            "jit_retried_256": runs["cold"][-1]["retried"], "native_ms": round(med["native"], 3),
            "spirv_cold_ms": round(med["cold"], 2), "spirv_warm_ms": round(med["warm"], 3),
            "cold_ratio": round(med["cold"] / med["native"], 1), "warm_ratio": round(med["warm"] / med["native"], 2)}


def main(argv: List[str] | None = None) -> int:
    def measure_all(args) -> List[Dict[str, Any]]:
        from triton.runtime.driver import driver
        from triton.backends.intel.runtime import level_zero
        device = level_zero.device(driver.active.get_current_device()).target.name
        specs = kernel_specs(args.kernels.split(","))
        work = Path(tempfile.mkdtemp(prefix="bench-load-neo-cache-"))
        try:
            return measure_each(specs, lambda name: measure(specs[name], device, args.rounds, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    return device_main(__doc__, argv, measure_all, child=child, kernels="add,softmax,layernorm,matmul,attention",
                       rounds=3)


if __name__ == "__main__":
    sys.exit(main())

"""Parallel GRF attempts: the zebin stage's wall time with the larger mode started early, against the
sequential policy, in the same run.

    python benchmarks/grf_parallel.py [--targets pvc,acm-g10] [--kernels add,matmul,...] [--repeat 3] [--json]

Per kernel and target: the forecast (``metadata.register_demand`` against 3/4 of the default register file)
and whether the default mode really spilled; the zebin stage's wall time sequentially
(``TRITON_XPU_GRF_PARALLEL=0``) and with the forecast's early attempt (``=1``; ``auto`` would also ask for a
free core, and this benchmark is the load), interleaved, median of --repeat (three times as many for
compiles under a second); their ratio; ``bound``, the best
any parallel schedule can do (the longest attempt over their sum); and ``wrong_forecast``, the ratio when the
early attempt is started although the kernel does not spill (``=always``; cancelled), for kernels that do not.
Goals: at most 0.6x for spilling kernels, at most 1.05x for the others.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

from bench_common import measure_kernels_on_targets, print_rows  # noqa: E402  (also puts examples/ on the path)

DEFAULT_KERNELS = "add,softmax,layernorm,sort,matmul,attention"


def _stage(backend, spirv: bytes, md, options, parallel: str) -> Tuple[float, Dict[str, Any]]:
    """One zebin stage, as Triton runs it after the SPIR-V stage: (wall ms, the metadata it filled)."""
    from triton.backends.intel import native
    from triton.backends.intel.native import spill_forecast
    os.environ[spill_forecast.PARALLEL_ENV] = parallel
    meta = {"name": md.name, "hash": md.hash, "register_demand": md.register_demand}
    start = time.perf_counter()
    native.make_zebin(spirv, meta, options, backend.target_info)
    return (time.perf_counter() - start) * 1e3, meta


def measure(name: str, arch: str, repeat: int) -> Dict[str, Any]:
    import kernels
    from triton.backends.compiler import GPUTarget
    from triton.compiler.compiler import make_backend
    from triton.backends.intel import targets
    from triton.backends.intel.native import spill_forecast
    spec = kernels.SPECS[name]
    os.environ[spill_forecast.PARALLEL_ENV] = "0"
    md = spec.compile(arch).metadata
    spirv = spec.compile(arch).asm["spv"]
    backend = make_backend(GPUTarget("xpu", arch, 32))
    options = backend.parse_options(dict(spec.options))
    spills = md.grf_attempts[0]["spill_bytes"] != 0
    sequential: List[float] = []
    parallel: List[float] = []
    wrong: List[float] = []

    def one_round() -> Tuple[float, Dict[str, Any]]:  # interleaved, so each sees the same machine load
        ms, meta = _stage(backend, spirv, md, options, "0")
        sequential.append(ms)
        parallel.append(_stage(backend, spirv, md, options, "1")[0])
        if not spills:
            wrong.append(_stage(backend, spirv, md, options, "always")[0])
        return ms, meta

    first, meta = one_round()
    # A compile under a second varies by tens of ms from run to run: three times as many rounds for those.
    for _ in range((repeat if first >= 1000 else 3 * repeat) - 1):
        _, meta = one_round()
    attempts = [a["ms"] for a in meta["grf_attempts"]]
    seq, par = statistics.median(sequential), statistics.median(parallel)
    wrong_ratio: Optional[float] = round(statistics.median(wrong) / seq, 3) if wrong else None
    return {
        "kernel": name, "target": arch, "register_demand": md.register_demand,
        "forecast": "spills" if spill_forecast.likely_to_spill(md.register_demand, targets.lookup(arch)) else "-",
        "spilled": md.grf_attempts[0]["spill_bytes"], "attempts": len(attempts),
        "sequential_ms": round(seq, 1), "parallel_ms": round(par, 1), "ratio": round(par / seq, 3),
        "bound": round(max(attempts) / sum(attempts), 3), "wrong_forecast": wrong_ratio,
    }


def summary(rows: List[Dict[str, Any]]) -> str:
    spilling = [r["ratio"] for r in rows if r["attempts"] > 1]
    others = [r["ratio"] for r in rows if r["attempts"] == 1]
    parts = []
    if spilling:
        parts.append(f"spilling kernels: parallel / sequential {statistics.median(spilling):.2f} median, "
                     f"{max(spilling):.2f} max (goal <= 0.6)")
    if others:
        parts.append(f"the others: {max(others):.2f} max (goal <= 1.05)")
    return "; ".join(parts)


def main(argv: List[str] | None = None) -> int:
    args, rows = measure_kernels_on_targets(__doc__, DEFAULT_KERNELS, measure, argv)
    print_rows(rows, args.json)
    if not args.json:
        print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

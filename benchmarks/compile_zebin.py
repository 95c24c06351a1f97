"""What the zebin stage costs, against a raw ocloc subprocess compile of the same SPIR-V in the same run.

    python benchmarks/compile_zebin.py [--targets pvc,acm-g10] [--kernels add,softmax,...] [--repeat 3] [--json]

Per kernel and target: the front end (ttir..spv) ms, the zebin stage ms (every GRF attempt included, best of
--repeat), the raw `ocloc compile` subprocess ms for the same SPIR-V and the same flags of every attempt
(best of --repeat), and their ratio.  Goal: the stage costs no more than raw IGC time + 5%, and in process
(libocloc) it beats the subprocess for small kernels.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from bench_common import (  # noqa: E402  (also puts examples/ on the path)
    format_table, measure_kernels_on_targets, print_rows)

DEFAULT_KERNELS = "add,softmax,layernorm,sort,matmul,attention"
# The text table's columns (the JSON has every field).
TABLE = ("kernel", "target", "attempts", "grf_mode", "front_end_ms", "zebin_stage_ms", "raw_ocloc_ms", "ratio")


def raw_ocloc_ms(ocloc: str, spirv: bytes, device: str, flags: str) -> float:
    """One `ocloc compile` subprocess, as a user would run it by hand."""
    with tempfile.TemporaryDirectory(prefix="bench-ocloc-") as tmp:
        src = Path(tmp) / "kernel.spv"
        src.write_bytes(spirv)
        cmd = [ocloc, "compile", "-q", "-file", str(src), "-spirv_input", "-device", device,
               "-internal_options", "-cl-intel-allow-zebin", "-output", "kernel", "-output_no_suffix",
               "-out_dir", tmp]
        if flags:
            cmd += ["-options", flags]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return (time.perf_counter() - start) * 1e3


def measure(name: str, arch: str, repeat: int) -> Dict[str, Any]:
    import kernels
    from triton.backends.compiler import GPUTarget
    from triton.compiler.compiler import make_backend
    from triton.backends.intel import native
    from triton.backends.intel.tools import find_tool

    spec = kernels.SPECS[name]
    compiled = spec.compile(arch)
    md = compiled.metadata
    spirv = compiled.asm["spv"]
    backend = make_backend(GPUTarget("xpu", arch, 32))
    options = backend.parse_options(dict(spec.options))
    ocloc = find_tool("ocloc")
    stage_ms, raw = [], []
    # The GRF attempts one after the other, as the raw ocloc runs (grf_parallel.py measures them side by side).
    os.environ["TRITON_XPU_GRF_PARALLEL"] = "0"
    for _ in range(repeat):  # interleaved, so both see the same machine load
        meta = {"name": md.name, "hash": md.hash}
        start = time.perf_counter()
        native.make_zebin(spirv, meta, options, backend.target_info)
        stage_ms.append((time.perf_counter() - start) * 1e3)
        raw.append(sum(raw_ocloc_ms(ocloc, spirv, arch, a["flags"]) for a in md.grf_attempts))
    front = sum(md.stage_ms[s] for s in ("ttir", "ttgir", "llir", "spv"))
    return {
        "kernel": name, "target": arch, "attempts": len(md.grf_attempts), "grf_mode": md.grf_mode,
        "attempt_ms": {a["grf_mode"]: round(a["ms"], 1) for a in md.grf_attempts},
        "front_end_ms": round(front, 1), "zebin_stage_ms": round(min(stage_ms), 1),
        "raw_ocloc_ms": round(min(raw), 1), "ratio": round(min(stage_ms) / min(raw), 3),
    }


def main(argv: List[str] | None = None) -> int:
    args, rows = measure_kernels_on_targets(__doc__, DEFAULT_KERNELS, measure, argv)
    from triton.backends.intel.native import ocloc
    if args.json:
        print_rows(rows, as_json=True)
        return 0
    print(f"zebin stage via {ocloc.ocloc_mode()} mode, ocloc {ocloc.ocloc_version()}; best of {args.repeat}")
    print(format_table([{c: r[c] for c in TABLE} for r in rows]))
    ratios = sorted(r["ratio"] for r in rows)
    print(f"stage / raw ocloc: median {ratios[len(ratios) // 2]:.2f}, max {ratios[-1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

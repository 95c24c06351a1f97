"""The README's main job: compile the example kernels to native Intel GPU binaries and show what each stage did.

    python examples/main.py [--targets pvc,acm-g10] [--kernels add,matmul] [--json]

Runs with no GPU: every target is named.  Exit status 0 only when every
kernel compiled for every target.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kernels  # noqa: E402

FRONT_END = ("ttir", "ttgir", "llir", "spv")


def compile_one(spec: kernels.KernelSpec, arch: str) -> Dict[str, Any]:
    from triton.backends.intel import spirv
    start = time.perf_counter()
    compiled = spec.compile(arch)
    wall_ms = (time.perf_counter() - start) * 1e3
    md = compiled.metadata
    summary = spirv.summarize(compiled.asm["spv"])
    return {
        "kernel": spec.name,
        "target": arch,
        "entry": md.name,
        "num_warps": md.num_warps,
        "sub_group": md.threads_per_warp,
        "shared": md.shared,
        "spv_bytes": len(compiled.asm["spv"]),
        "zebin_bytes": len(compiled.asm["zebin"]),
        "capabilities": summary.capability_names,
        "grf_mode": md.grf_mode,
        "spill_bytes": md.spill_bytes,
        "grf_attempts": md.grf_attempts,
        # Stage times are absent on a cache hit: nothing ran.
        "stage_ms": dict(getattr(md, "stage_ms", None) or {}),
        "wall_ms": round(wall_ms, 1),
    }


def _bytes(n) -> str:
    return "?" if n is None else str(n)


def grf_decision(attempts: List[Dict[str, Any]]) -> str:
    """Each attempt as GRF:spill bytes, e.g. "128:333 -> 256:165"; "?" where the binary does not say."""
    return " -> ".join(f"{a['grf_mode']}:{_bytes(a['spill_bytes'])}" for a in attempts)


def format_table(rows: List[Dict[str, Any]]) -> str:
    head = ["kernel", "target", "warps", "sub-group", "SLM B", "SPIR-V B", "zebin B", "GRF", "spill B",
            "GRF:spill per attempt", "front-end ms", "zebin ms"]
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append([r["kernel"], r["target"], "FAILED: " + r["error"]])
            continue
        ms = r["stage_ms"]
        front = f"{sum(ms[s] for s in FRONT_END):.0f}" if all(s in ms for s in FRONT_END) else "cached"
        zebin_ms = f"{ms['zebin']:.0f}" if "zebin" in ms else "cached"
        lines.append([r["kernel"], r["target"], str(r["num_warps"]), str(r["sub_group"]), str(r["shared"]),
                      str(r["spv_bytes"]), str(r["zebin_bytes"]), r["grf_mode"], _bytes(r["spill_bytes"]),
                      grf_decision(r["grf_attempts"]), front, zebin_ms])
    widths = [max(len(line[i]) for line in lines if len(line) == len(head)) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        if len(line) == 3 and line[2].startswith("FAILED"):
            out.append("  ".join([line[0].ljust(widths[0]), line[1].ljust(widths[1]), line[2]]))
        else:
            out.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="pvc,acm-g10", help="comma-separated Intel target names")
    parser.add_argument("--kernels", default=",".join(kernels.SPECS), help="comma-separated example kernels")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args(argv)
    names = [k for k in args.kernels.split(",") if k]
    unknown = [k for k in names if k not in kernels.SPECS]
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}; known: {', '.join(kernels.SPECS)}")
    targets = [t for t in args.targets.split(",") if t]
    from triton.backends.intel import targets as target_table
    from triton.backends.intel.errors import IntelBackendError
    try:
        for t in targets:
            target_table.lookup(t)
    except IntelBackendError as e:
        parser.error(str(e))

    rows = []
    total = len(names) * len(targets)
    for i, (arch, name) in enumerate(((a, n) for a in targets for n in names), 1):
        print(f"[{i}/{total}] {name} for {arch}", file=sys.stderr, flush=True)
        try:
            rows.append(compile_one(kernels.SPECS[name], arch))
        except Exception as e:  # one broken kernel must not hide the others' results
            rows.append({"kernel": name, "target": arch, "error": f"{type(e).__name__}: {str(e).splitlines()[0]}"})
    print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    failed = [r for r in rows if "error" in r]
    if failed:
        print(f"{len(failed)} of {total} compilations failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

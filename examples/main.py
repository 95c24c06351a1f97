"""The README's main job: compile Triton kernels to native Intel GPU binaries, then load and launch them.

    python examples/main.py [--targets pvc,acm-g10] [--kernels add,matmul,...] [--json]

1. Compiles every kernel for every named target (no GPU needed): the zebin stage picks the GRF mode.
2. Loads each binary natively and launches it on a device of its target: the Intel GPU if one is present,
   else the emulated device of that target (Intel's real driver in AUB mode, where kernels do not
   execute), each target in its own process; and measures, on the same device, what the same kernel
   would cost compiled from SPIR-V at load time, as stock triton-xpu does.
Prints one row per kernel and target.  Exit status 0 only when every kernel compiled and loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "benchmarks"))

import kernels  # noqa: E402

# The SPIR-V-at-load baseline must really compile: NEO 26.x would answer repeats from its persistent cache.
os.environ.setdefault("NEO_CACHE_PERSISTENT", "0")

DEFAULT_KERNELS = "add,softmax,layernorm,matmul,matmul_128,attention,sort"
FRONT_END = ("ttir", "ttgir", "llir", "spv")


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- phase 1: compile ---------------------------------------------------------------------------------------


def compile_one(spec: kernels.KernelSpec, arch: str) -> Dict[str, Any]:
    compiled = spec.compile(arch)
    md = compiled.metadata
    ms = dict(getattr(md, "stage_ms", None) or {})  # {"cached": ms} on a cache hit: nothing ran
    return {
        "kernel": spec.name, "target": arch, "entry": md.name, "num_warps": md.num_warps,
        "sub_group": md.threads_per_warp, "shared": md.shared, "spv_bytes": len(compiled.asm["spv"]),
        "zebin_bytes": len(compiled.asm["zebin"]), "grf_mode": md.grf_mode, "spill_bytes": md.spill_bytes,
        "grf_attempts": md.grf_attempts, "stage_ms": ms,
        "front_end_ms": round(sum(ms[s] for s in FRONT_END), 1) if all(s in ms for s in FRONT_END) else None,
        "zebin_ms": ms.get("zebin"),
    }


# --- phase 2: load and launch on a device of the target ----------------------------------------------------


def load_worker(names: List[str]) -> int:
    """In a process whose driver is a device of one target: load, launch, and time the SPIR-V path."""
    from load_native_vs_jit import jit_at_load_ms
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero

    dev = level_zero.device(driver.active.get_current_device())
    ze = level_zero.runtime().ze
    for name in names:
        spec = kernels.SPECS[name]
        row: Dict[str, Any] = {"kernel": name, "device": ("emulated " if dev.emulated else "") + dev.target.name}
        try:
            compiled = spec.compile(dev.target.name)  # a cache hit: phase 1 compiled it
            start = time.perf_counter()
            compiled._init_handles()  # load_binary: the native module and kernel
            row["load_ms"] = round((time.perf_counter() - start) * 1e3, 3)

            def alloc(nbytes, dtype):
                buf = driver.active.alloc(nbytes, "shared", dtype)
                buf.numpy()[:] = 0
                return buf

            grid, args = spec.launch(alloc)
            compiled[grid](*args)
            driver.active.synchronize()
            row["launched"] = True
            jit = jit_at_load_ms(ze, dev.index, compiled.asm["spv"], compiled.metadata.name)
            row["jit_at_load_ms"] = round(jit["ms"], 1)
            row["jit_retried_256"] = jit["retried"]
        except Exception as e:  # report it in the row; the other kernels still load
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
        print(json.dumps(row), flush=True)
    return 0


def device_plan(targets: List[str]) -> Dict[str, Dict[str, str]]:
    """For each target: the environment of the process that loads its binaries, and how to describe it."""
    from triton.backends.intel.runtime import emulation, level_zero
    from triton.backends.intel import targets as target_table
    real = None
    if level_zero.intel_render_nodes() and emulation.requested() is None:
        real = level_zero.device(0).target.name
    plan = {}
    for t in targets:
        if t == real:
            plan[t] = {"env": "", "where": f"Intel GPU ({t})"}
        elif t in target_table.emulated():
            plan[t] = {"env": t, "where": f"emulated {t} (Intel's driver in AUB mode; kernels do not execute)"}
        else:
            plan[t] = {"env": None, "where": "no device"}
    return plan


def load_rows(target: str, names: List[str], emulate: str) -> Dict[str, Dict[str, Any]]:
    env = dict(os.environ)
    env.pop("TRITON_XPU_EMULATE", None)
    if emulate:
        env["TRITON_XPU_EMULATE"] = emulate
    proc = subprocess.Popen([sys.executable, __file__, "--load-worker", "--kernels", ",".join(names)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows = {}
    for line in proc.stdout:
        row = json.loads(line)
        rows[row["kernel"]] = row
        progress(f"  loaded {row['kernel']} on {row['device']}" + (f": {row['error']}" if "error" in row else ""))
    stderr = proc.stderr.read()
    if proc.wait() != 0:  # the worker died: every kernel it did not report failed
        reason = (stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        for name in names:
            rows.setdefault(name, {"kernel": name, "error": f"loader process failed: {reason}"})
    return rows


# --- output -------------------------------------------------------------------------------------------------


def _num(value, fmt="{:.0f}") -> str:
    return "-" if value is None else fmt.format(value)


def grf_decision(attempts: List[Dict[str, Any]]) -> str:
    """Each attempt as GRF:spill bytes, the kept one starred, and the policy's reason where it compared two:
    e.g. "128:333 -> 256:165* (-50%)", "(..., in parallel)" when the second compile ran beside the first;
    "?" where the binary does not say."""
    text = " -> ".join(f"{a['grf_mode']}:{'?' if a['spill_bytes'] is None else a['spill_bytes']}"
                       f"{'*' if a.get('kept') and len(attempts) > 1 else ''}" for a in attempts)
    gain = re.search(r"\(([+-][0-9.]+%)\)", attempts[-1].get("reason", "")) if len(attempts) > 1 else None
    if gain:
        reason = attempts[-1].get("reason", "")
        why = "" if attempts[-1].get("kept") else (", more spills" if "no fewer spills" in reason else ", too little")
        early = ", in parallel" if any(a.get("early") for a in attempts) else ""
        text += f" ({gain.group(1)}{why}{early})"
    return text


HEADER = ["kernel", "target", "GRF", "GRF:spill per attempt", "zebin B", "front-end ms", "zebin ms", "load ms",
          "JIT-at-load ms", "JIT/load"]


def table_row(r: Dict[str, Any]) -> List[str]:
    if "error" in r:
        return [r["kernel"], r["target"], "FAILED: " + r["error"]]
    ratio = r["jit_at_load_ms"] / r["load_ms"] if r.get("load_ms") and r.get("jit_at_load_ms") else None
    return [r["kernel"], r["target"], r["grf_mode"], grf_decision(r["grf_attempts"]), str(r["zebin_bytes"]),
            _num(r["front_end_ms"]) if r["front_end_ms"] is not None else "cached",
            _num(r["zebin_ms"]) if r["zebin_ms"] is not None else "cached", _num(r.get("load_ms"), "{:.2f}"),
            _num(r.get("jit_at_load_ms")), _num(ratio, "{:.0f}x")]


def format_table(rows: List[Dict[str, Any]]) -> str:
    lines = [HEADER] + [table_row(r) for r in rows]
    widths = [max(len(line[i]) for line in lines if len(line) == len(HEADER)) for i in range(len(HEADER))]
    out = []
    for n, line in enumerate(lines):
        if len(line) != len(HEADER):
            out.append("  ".join([line[0].ljust(widths[0]), line[1].ljust(widths[1]), line[2]]))
        else:
            out.append("  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="pvc,acm-g10", help="comma-separated Intel target names")
    parser.add_argument("--kernels", default=DEFAULT_KERNELS, help=f"comma-separated, from: {', '.join(kernels.SPECS)}")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    parser.add_argument("--load-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [k for k in args.kernels.split(",") if k]
    unknown = [k for k in names if k not in kernels.SPECS]
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}; known: {', '.join(kernels.SPECS)}")
    if args.load_worker:
        return load_worker(names)
    targets = [t for t in args.targets.split(",") if t]
    from triton.backends.intel import targets as target_table
    from triton.backends.intel.errors import IntelBackendError
    try:
        targets = [target_table.lookup(t).name for t in targets]
    except IntelBackendError as e:
        parser.error(str(e))

    rows: Dict[tuple, Dict[str, Any]] = {}
    total = len(names) * len(targets)
    for i, (arch, name) in enumerate(((a, n) for a in targets for n in names), 1):
        progress(f"[{i}/{total}] compile {name} for {arch}")
        try:
            rows[(name, arch)] = compile_one(kernels.SPECS[name], arch)
        except Exception as e:  # one broken kernel must not hide the others' results
            rows[(name, arch)] = {"kernel": name, "target": arch,
                                  "error": f"compile: {type(e).__name__}: {str(e).splitlines()[0]}"}

    plan = device_plan(targets)
    for arch in targets:
        progress(f"loading the {arch} binaries on: {plan[arch]['where']}")
        compiled = [n for n in names if "error" not in rows[(n, arch)]]
        if plan[arch]["env"] is None:
            loaded = {n: {"error": f"load: no {arch} device (real or emulated)"} for n in compiled}
        else:
            loaded = load_rows(arch, compiled, plan[arch]["env"])
        for n in compiled:
            result = loaded.get(n, {"error": "load: not reported"})
            row = rows[(n, arch)]
            if "error" in result:
                row["error"] = result["error"] if result["error"].startswith("load") else f"load: {result['error']}"
            else:
                row.update({k: v for k, v in result.items() if k != "kernel"})

    ordered = [rows[(n, a)] for a in targets for n in names]
    if args.json:
        print(json.dumps(ordered, indent=1))
    else:
        for arch in targets:
            print(f"{arch}: loaded on {plan[arch]['where']}")
        print(format_table(ordered))
    failed = [r for r in ordered if "error" in r]
    if failed:
        progress(f"{len(failed)} of {total} kernels failed to compile or load")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Runs every benchmark of the project and the main job, and writes a REPORT.md with tables and PNG plots.

    ./run --toolchain current python benchmarks/report.py     # -> benchmarks/current/REPORT.md
    ./run --toolchain legacy python benchmarks/report.py      # -> benchmarks/legacy/REPORT.md
    python benchmarks/report.py [--out DIR] [--quick]

The device benchmarks run on the Intel GPU if one is present, else on the emulated pvc device.  Each
benchmark measures its baseline in the same run (these machines are noisy); the report states the machine,
the toolchain with its driver, IGC and loader versions, and the date.  --quick runs a small subset with one
repetition (for tests).  The default folder is benchmarks/<toolchain> (TRITON_XPU_TOOLCHAIN, set by ./run).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

HERE = Path(__file__).resolve().parent


def run_benchmark(script: str, args: List[str], device: bool) -> Any:
    env = dict(os.environ)
    if device:
        from triton.backends.intel.runtime import level_zero
        if not level_zero.intel_render_nodes():
            env.setdefault("TRITON_XPU_EMULATE", "pvc")
    print(f"running {script} {' '.join(args)}", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(HERE / script), *args, "--json"], capture_output=True, text=True,
                          env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def toolchain() -> str:
    """The toolchain this runs in and its Intel stack's package versions, e.g.
    ``current: NEO 26.27.39122.14, IGC 2.40.14, Level Zero loader 1.32.0``."""
    def version(*packages: str) -> str:
        for package in packages:
            proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
            if proc.returncode == 0 and proc.stdout:
                return proc.stdout.rsplit("-", 1)[0]
        return "?"
    name = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")
    return (f"{name}: NEO {version('intel-opencl-icd')}, IGC {version('libigc2', 'libigc1')}, "
            f"Level Zero loader {version('libze1')}")


def run_main_job(quick: bool) -> List[Dict[str, Any]]:
    """The main job's rows (examples/main.py --json): every kernel compiled for pvc and acm-g10 and loaded."""
    args = ["--targets", "pvc", "--kernels", "add,softmax"] if quick else []
    print(f"running examples/main.py {' '.join(args)}", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(HERE.parent / "examples" / "main.py"), *args, "--json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"examples/main.py failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def main_job_table(rows: List[Dict[str, Any]]) -> str:
    sys.path.insert(0, str(HERE.parent / "examples"))
    import main as main_job
    return main_job.format_table(rows)


def machine() -> str:
    from triton.backends.intel.native import ocloc
    from triton.backends.intel.runtime import level_zero
    try:
        debian = Path("/etc/debian_version").read_text().strip()
    except OSError:
        debian = "?"
    device = "Intel GPU" if level_zero.intel_render_nodes() else "emulated pvc (NEO in AUB mode, kernels not executed)"
    return (f"{platform.machine()}, {os.cpu_count()} cores, Debian {debian}, Python {platform.python_version()}, "
            f"{ocloc.ocloc_version()}; device: {device}")


def md_table(rows: List[Dict[str, Any]], cols: List[str]) -> str:
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    return "\n".join(lines)


def plot_load(rows: List[Dict[str, Any]], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [r["kernel"] for r in rows]
    x = range(len(names))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar([i - 0.2 for i in x], [r["native_load_ms"] for r in rows], 0.4, label="native load (this driver)")
    ax.bar([i + 0.2 for i in x], [r["jit_at_load_ms"] for r in rows], 0.4, label="SPIR-V JIT at load (stock)")
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_xticks(list(x), names, rotation=20)
    ax.set_title(f"Kernel load time on {rows[0]['device']}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_attempts(rows: List[Dict[str, Any]], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{r['kernel']}\n{r['target']}" for r in rows]
    modes = sorted({m for r in rows for m in r["attempt_ms"]}, key=lambda m: (not m.isdigit(), int(m) if m.isdigit() else 0))
    fig, ax = plt.subplots(figsize=(10, 4))
    bottom = [0.0] * len(rows)
    for mode in modes:
        values = [r["attempt_ms"].get(mode, 0.0) for r in rows]
        ax.bar(labels, values, bottom=bottom, label=f"{mode} GRF attempt")
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("ms")
    ax.set_yscale("log")
    ax.set_title("Zebin-stage compile cost per GRF attempt")
    ax.tick_params(axis="x", labelsize=7)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_launch(row: Dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = ["raw_us", "launcher_us", "compiled_us", "jit_us"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(["raw Level Zero", "backend launcher", "CompiledKernel", "JIT kernel[grid]"], [row[k] for k in keys])
    ax.axhline(row["goal_us"], color="red", linestyle="--", label=f"goal 1.2 x raw + 5 µs = {row['goal_us']}")
    ax.set_ylabel("µs per launch")
    ax.set_title(f"Launch overhead on {row['device']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sycl_launch_section(args: List[str]) -> str:
    """The SYCL launch table, or why it was not measured (no SYCL runtime in this toolchain)."""
    from bench_common import sycl_gpu_problem
    problem = sycl_gpu_problem()
    if problem:
        return f"Not measured: {problem}."
    row = run_benchmark("sycl_launch.py", args, device=True)
    return md_table([row], list(row))


def fleet_section(args: List[str]) -> str:
    """The fleet benchmark's tables, or why it was not measured (stock triton-xpu, its baseline, cannot run here)."""
    env = dict(os.environ)
    from triton.backends.intel.runtime import level_zero
    if not level_zero.intel_render_nodes():
        env.setdefault("TRITON_XPU_EMULATE", "pvc")
    print(f"running fleet.py {' '.join(args)}", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(HERE / "fleet.py"), *args, "--json"], capture_output=True, text=True,
                          env=env)
    if proc.returncode == 2:  # "fleet: not measured: WHY"
        return f"Not measured: {(proc.stderr.strip().splitlines() or ['?'])[-1].split('not measured: ', 1)[-1]}"
    if proc.returncode != 0:
        raise RuntimeError(f"fleet.py failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    setup = result["setup"]
    return (f"{setup['nodes']} nodes on {setup['target']}, kernels {setup['kernels']}, corpus kernels "
            f"{setup.get('corpus') or 'none'}. "
            f"Baseline: {setup['baseline']}.\n\n"
            f"{md_table(result['nodes'], list(result['nodes'][0]))}\n\n"
            f"{md_table(result['fleet'], list(result['fleet'][0]))}\n\n"
            f"{md_table(result['store'], list(result['store'][0]))}")


def grf_parallel_summary(rows: List[Dict[str, Any]]) -> str:
    sys.path.insert(0, str(HERE))
    import grf_parallel
    return grf_parallel.summary(rows)


# Figures report.py does not measure itself (e.g. compile_memory.py's) sit under this heading at the end of a
# report; writing the report again keeps them, so they live in the report and nowhere else.
SEPARATE = "\n## Measured separately\n"


def measured_separately(old_report: Path) -> str:
    """The "Measured separately" section of an existing report, from its heading to the end; "" if none."""
    try:
        text = old_report.read_text()
    except FileNotFoundError:
        return ""
    at = text.find(SEPARATE)
    return text[at:] if at >= 0 else ""


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE / os.environ.get("TRITON_XPU_TOOLCHAIN", "host")),
                        help="folder for REPORT.md and the PNG plots (default benchmarks/<toolchain>)")
    parser.add_argument("--quick", action="store_true", help="a small subset, one repetition")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rep = ["--repeat", "1"] if args.quick else ["--repeat", "3"]
    compile_rows = run_benchmark("compile_zebin.py", rep + (["--kernels", "add,layernorm", "--targets", "pvc"]
                                                            if args.quick else []), device=False)
    parallel_rows = run_benchmark("grf_parallel.py", rep + (["--kernels", "add,matmul", "--targets", "pvc"]
                                                            if args.quick else []), device=False)
    load_rows = run_benchmark("load_native_vs_jit.py", rep + (["--kernels", "add,softmax"] if args.quick else []),
                              device=True)
    launch_row = run_benchmark("launch_overhead.py", ["--iterations", "100" if args.quick else "2000"], device=True)
    warm_rows = run_benchmark("warm_start.py", ["--rounds", "1" if args.quick else "7"], device=True)
    cold_backend_rows = run_benchmark("cold_backend.py", ["--rounds", "1" if args.quick else "7"], device=True)
    neo_cache_rows = run_benchmark("load_neo_cache.py", ["--rounds", "1", "--kernels", "add"] if args.quick else [],
                                   device=True)
    compiler_rows = run_benchmark("native_compilers.py",
                                  rep + (["--kernels", "add"] if args.quick else []),
                                   device=True)
    sycl_section = sycl_launch_section(["--iterations", "100" if args.quick else "2000"])
    fleet = fleet_section(["--nodes", "1", "--kernels", "add", "--corpus", ""] if args.quick else [])
    main_rows = run_main_job(args.quick)

    plot_load(load_rows, out / "load_native_vs_jit.png")
    plot_attempts(compile_rows, out / "grf_attempts.png")
    plot_launch(launch_row, out / "launch_overhead.png")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = f"""# Benchmark report

Generated by `python benchmarks/report.py` on {now}.
Toolchain {toolchain()}.
Machine: {machine()}.
Every ratio is against a baseline measured in the same run.

## The main job (`examples/main.py`)

Each kernel compiled for pvc and acm-g10, loaded and launched on a device of its target (emulated here);
GRF mode chosen and every attempt's spill bytes; SPIR-V-at-load measured on the same device.

```
{main_job_table(main_rows)}
```

## Compile: the zebin stage vs a raw ocloc subprocess (`compile_zebin.py`)

{md_table(compile_rows, ["kernel", "target", "attempts", "grf_mode", "front_end_ms", "zebin_stage_ms",
                         "raw_ocloc_ms", "ratio"])}

![compile cost per GRF attempt](grf_attempts.png)

## Compile: parallel GRF attempts vs sequential (`grf_parallel.py`)

The zebin stage's wall time with the larger GRF mode started beside the default one when the kernel is
forecast to spill, against the sequential policy (median of interleaved runs); `bound`: the longest attempt
over their sum, the best any parallel schedule can do; `wrong_forecast`: the ratio for a kernel that does not
spill when the early attempt is started anyway and cancelled. Goals: at most 0.6x for spilling kernels, at
most 1.05x for the others.

{md_table(parallel_rows, list(parallel_rows[0]))}

{grf_parallel_summary(parallel_rows)}

## Load: native binary vs SPIR-V compiled at load (`load_native_vs_jit.py`)

`native_load_ms`: the first load of a binary from Triton's cache in a process (the check of the entry the
front end read, then `load_binary`); `load_vs_create`: its multiple of module creation alone (goal: at most 3);
`full_check_load_ms`: the load of a binary from anywhere else, which gets the full check.

{md_table(load_rows, ["kernel", "device", "grf_mode", "native_load_ms", "module_create_ms", "load_vs_create",
                      "full_check_load_ms", "jit_at_load_ms", "jit_retried_256", "ratio"])}

![load time, log scale](load_native_vs_jit.png)

## Load against a cold and a warm NEO compiler cache (`load_neo_cache.py`)

One first load per fresh process, medians of interleaved rounds: the native binary, and stock's SPIR-V load
(with its 256-GRF retry) with NEO's persistent compiler cache empty (a first run, a new driver, a fresh
container) and filled by an earlier process (a user's second run on the same machine and driver).

{md_table(neo_cache_rows, list(neo_cache_rows[0]))}

## Launch overhead vs a raw Level Zero loop (`launch_overhead.py`, µs per launch)

{md_table([launch_row], list(launch_row))}

![launch overhead](launch_overhead.png)

## Warm start: the first call of a process with everything cached (`warm_start.py`, ms)

Fresh processes, medians of interleaved rounds. `warm`: the kernel and the compiler's answers (ocloc version,
`ocloc ids`, capability probes) in Triton's cache; `asking`: the same cache without the answers, as every
process was before they were kept. `triton_key`: Triton's own hash of its files (libtriton.so included), once
per process, whatever the backend; `backend`: constructing the backend (Triton does it three times in a first
call); `load`, `launcher`: the driver's parts; `raw`: module and kernel creation plus one append of the same
zebin, in the same process. Goals: `backend` at most 5 ms; `ours_above_raw` (backend + load + launcher - raw)
at most 3 ms.

{md_table(warm_rows, list(warm_rows[0]))}

## Cold node: constructing the backend with an empty Triton cache (`cold_backend.py`, ms)

Fresh processes, empty Triton and NEO caches, medians of interleaved rounds. `known`: the installed compiler is
a row of native/known_compilers.py, so the capability answers need no process; `probing`: the same with no row
(an unknown compiler, and every cold process before the table): the probes run on ocloc; `cached` (baseline):
no row, the answers in Triton's cache (a warm node, or a remote cache holding them, less its lookup). Goals: at
most 60 ms without a remote store, at most 20 ms with it warm.

{md_table(cold_backend_rows, list(cold_backend_rows[0]))}

## Launch on a SYCL queue vs a raw SYCL submit (`sycl_launch.py`, µs per launch)

{sycl_section}

## Native compilers: ocloc vs the Level Zero driver (`native_compilers.py`)

{md_table(compiler_rows, list(compiler_rows[0]))}

## Fleet bring-up: nodes loading from a warm shared store vs stock triton-xpu (`fleet.py`, ms)

Each node a fresh process with an empty Triton cache and NEO's persistent cache off; one redis-server holds both
stores. `kernels`: from the first kernel's compile call to all kernels loaded (of which `load`: the driver's
`load_binary`, where stock's SPIR-V is compiled; `backend`: constructing the backend; `triton_key`: Triton's hash of
its own files, any backend); `process`: the whole process; `ratio`: stock's over ours; `compiled`/`built`: kernels
compiled and C++ launchers built, ours/stock. The first node of each compiles and fills its store, once for the fleet.

{fleet}
"""
    report = report.rstrip("\n") + "\n" + measured_separately(out / "REPORT.md")
    (out / "REPORT.md").write_text(report)
    print(f"wrote {out / 'REPORT.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the benchmark scripts share: the command line and the main of a device benchmark, a private Triton cache,
the device check, the measuring child process, interleaved rounds, ratios against a baseline measured in the same
run, and the printed result (text table or JSON)."""

from __future__ import annotations

import argparse
import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

# NEO 26.x keeps compiled SPIR-V in a persistent cache ($HOME/.cache/neo_compiler_cache): a repeated
# JIT-at-load baseline would cost ~0 ms.  Off before the driver loads, so every baseline compiles.
os.environ.setdefault("NEO_CACHE_PERSISTENT", "0")

Row = Dict[str, Any]  # one row of a benchmark's result: column -> figure
T = TypeVar("T")


class Tables(dict):
    """A benchmark's result as several named tables (name -> rows, or one row), printed one after the other; as JSON,
    one object."""


def command_line(description: str, argv: Optional[Sequence[str]], child: bool = False,
                 **options: Any) -> argparse.Namespace:
    """A benchmark's command line: ``--NAME`` for each of ``options`` (NAME=default, the value of the default's
    type), then ``--json``; with ``child``, also the hidden ``--child [ARG ...]`` (see :func:`device_main`)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in options.items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    parser.add_argument("--json", action="store_true")
    if child:
        parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


class NotMeasured(Exception):
    """Raised by a benchmark that cannot measure on this machine: :func:`device_main` prints the message and
    exits with 2."""


def device_main(description: str, argv: Optional[Sequence[str]],
                measure: Callable[[argparse.Namespace], Union[Row, List[Row], Tables]],
                child: Optional[Callable[..., Any]] = None, **options: Any) -> int:
    """The main of a benchmark that measures on the Level Zero device.  The command line is
    :func:`command_line`'s; ``measure(args)`` runs in a fresh Triton cache (unless the caller chose one) when a
    device is there (else exit 2, saying how to get one), and its one row (a dict), rows or :class:`Tables` are
    printed, as text or JSON.  With ``child``, ``--child ARGS`` (how :func:`fresh_process_json` starts the script
    again) prints the JSON of ``child(*ARGS)`` instead."""
    args = command_line(description, argv, child=child is not None, **options)
    if child is not None and args.child is not None:
        print(json.dumps(child(*args.child)))
        return 0
    private_cache()
    if not have_device():
        return 2
    try:
        result = measure(args)
    except NotMeasured as why:
        print(why, file=sys.stderr)
        return 2
    if isinstance(result, Tables):
        print_tables(result, args.json)
    elif isinstance(result, dict):
        print_row(result, args.json)
    else:
        print_rows(result, args.json)
    return 0


def measure_each(items: Iterable[T], measure: Callable[[T], Row], label: Callable[[T], str] = str) -> List[Row]:
    """``measure(item)`` for each item in turn, saying on stderr which (``measuring <label>``): the rows."""
    rows = []
    for item in items:
        print(f"measuring {label(item)}", file=sys.stderr, flush=True)
        rows.append(measure(item))
    return rows


def fresh_process_json(script: str, args: Sequence[str], env: Dict[str, str], what: str, timeout: float = 900,
                       python: str = sys.executable) -> Any:
    """``script --child ARGS`` in a fresh Python process (``python``, by default this one's interpreter) with ``env``
    (the driver reads its settings when it loads): the JSON of the last line it prints.  RuntimeError naming
    ``what`` failed, with its stderr."""
    proc = subprocess.run([str(python), script, "--child", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def private_cache() -> None:
    """Compile into a fresh Triton cache unless the caller chose one: benchmarks measure cold compiles.  The
    cache is removed when the process exits (each run would otherwise leave one under /tmp)."""
    if "TRITON_CACHE_DIR" in os.environ:
        return
    cache = tempfile.mkdtemp(prefix="bench-cache-")
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    os.environ["TRITON_CACHE_DIR"] = cache


def measure_kernels_on_targets(description: str, default_kernels: str,
                               measure: Callable[[str, str, int], Row],
                               argv: Optional[Sequence[str]]) -> Tuple[argparse.Namespace, List[Row]]:
    """The command line of the compile benchmarks (--targets, --kernels, --repeat, --json) and their rows:
    ``measure(kernel, target, repeat)`` for every pair, compiled into a fresh Triton cache."""
    args = command_line(description, argv, targets="pvc,acm-g10", kernels=default_kernels, repeat=3)
    private_cache()
    pairs = [(name, arch) for arch in args.targets.split(",") for name in args.kernels.split(",")]
    return args, measure_each(pairs, lambda pair: measure(*pair, args.repeat), lambda pair: f"{pair[0]} for {pair[1]}")


def timed(owner: Any, name: str, spent: Dict[str, float], part: str) -> None:
    """Wrap ``owner.name`` so that the time spent in it (ms) adds up in ``spent[part]``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[part] = spent.get(part, 0.0) + (time.perf_counter() - start) * 1e3

    setattr(owner, name, wrapper)


def interleaved(rounds: int, cases: Dict[str, Callable[[], T]]) -> Dict[str, List[T]]:
    """``rounds`` rounds of every case in turn, so that the machine's noise hits them all alike: each case's
    results, in order."""
    results: Dict[str, List[T]] = {case: [] for case in cases}
    for _ in range(rounds):
        for case, run in cases.items():
            results[case].append(run())
    return results


def ratio_to_baseline(rows: List[Row], baseline: Row, name: str, keys: Sequence[str], digits: int) -> None:
    """Adds to every row, for each of ``keys`` (figures named with their unit: ``peak_mb``), the column
    ``<key without its unit>_vs_<name>``: the row's figure over the baseline row's (measured in the same run),
    rounded to ``digits``; 1.0 in the baseline row itself, None where the baseline's figure is 0."""
    for key in keys:
        column = f"{key.rsplit('_', 1)[0]}_vs_{name}"
        for row in rows:
            row[column] = (1.0 if row is baseline else
                           round(row[key] / baseline[key], digits) if baseline[key] else None)


def have_device() -> bool:
    """Whether a Level Zero device (real or emulated) is there; says how to get one if not."""
    from triton.backends.intel.runtime import level_zero
    if level_zero.available():
        return True
    print("no Intel GPU: run with TRITON_XPU_EMULATE=pvc", file=sys.stderr)
    return False


# Opens a SYCL queue on the Level Zero GPU as a PyTorch process would, the driver's emulated device set up first.
_SYCL_GPU_PROBE = ("from triton.backends.intel.runtime import level_zero\nlevel_zero.runtime()\n"
                   "import dpctl\ndpctl.SyclQueue('level_zero:gpu')\nprint('SYCL_GPU_OK')\n")


@functools.lru_cache(maxsize=None)
def sycl_gpu_problem() -> Optional[str]:
    """Why a SYCL queue cannot be opened on the (real or emulated) Level Zero GPU here, None when it can.  Probed
    in a child: with Debian 12's Level Zero loader 1.8 and NEO 22.43 the SYCL runtime's Level Zero adapter
    segfaults (measured with dpctl 0.22.1 / intel-sycl-rt 2026.2), which would take the caller with it."""
    import importlib.util
    import signal
    if importlib.util.find_spec("dpctl") is None:
        return "no SYCL runtime (dpctl) is installed: pip install -r requirements-numeric.txt"
    env = dict(os.environ)
    env.setdefault("TRITON_XPU_EMULATE", "pvc")
    env.pop("ONEAPI_DEVICE_SELECTOR", None)
    proc = subprocess.run([sys.executable, "-c", _SYCL_GPU_PROBE], capture_output=True, text=True, env=env,
                          timeout=300)
    if proc.returncode == 0 and "SYCL_GPU_OK" in proc.stdout:
        return None
    how = (f"died of {signal.Signals(-proc.returncode).name}" if proc.returncode < 0 else
           f"failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return (f"the SYCL runtime cannot open the Level Zero GPU with this Level Zero loader and driver: opening "
            f"dpctl.SyclQueue('level_zero:gpu') {how}")


def format_table(rows: List[Dict[str, Any]], left: int = 2) -> str:
    """Rows of dicts as an aligned text table; the first ``left`` columns left-aligned."""
    cols = list(rows[0])
    cells = [cols] + [[str(r[c]) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    lines = ["  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_row(row: Dict[str, Any], as_json: bool) -> None:
    """A one-row benchmark's result: JSON for report.py and tests, else one "name: value" line per field."""
    if as_json:
        print(json.dumps(row, indent=1))
        return
    width = max(map(len, row))
    for k, v in row.items():
        print(f"{k:>{width}}: {v}")


def print_rows(rows: List[Dict[str, Any]], as_json: bool) -> None:
    """The benchmark's result: JSON for report.py and tests, else the text table."""
    print(json.dumps(rows, indent=1) if as_json else format_table(rows))


def print_tables(tables: Tables, as_json: bool) -> None:
    """Several named tables: one JSON object, else each table (or one-row table) under its name."""
    if as_json:
        print(json.dumps(tables, indent=1))
        return
    for name, table in tables.items():
        print(f"\n{name}:")
        if isinstance(table, dict):
            print_row(table, False)
        else:
            print(format_table(table))

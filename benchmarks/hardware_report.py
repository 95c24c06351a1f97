"""One JSON file describing a machine's Intel GPU run: the report docs/runbook.md asks a tester to send back.

    python benchmarks/hardware_report.py [--output hardware-report.json] [--junit FILE ...]
                                         [--kernels add,matmul,...] [--runs 50] [--batch 10] [--repeat 3]

What it holds (``schema_version`` names the layout; a reader checks it before anything else):

* ``devices``: every Level Zero device as the project's driver sees it (``triton-xpu devices --json``, plus
  the IP version), and whether it is emulated;
* ``versions``: the Intel stack -- the Debian packages the pytest header names (exact versions, where dpkg
  knows them), ocloc's and IGC's version as the compiler reports it, the identity of the installed compiler
  files (``compiler_identity``), the Level Zero loader library and the driver's own version;
* ``tests``: a summary of each pytest JUnit XML file given with ``--junit`` (counts and the failures' names);
* ``compile``: the zebin stage against a raw ``ocloc compile`` of the same SPIR-V (``compile_zebin.py``'s
  measurement), for the main job's kernels on the device's target;
* ``load``: the native first load against stock's SPIR-V compile at load (``load_native_vs_jit.py``'s);
* ``grf``: for every main-job kernel that spills in the default GRF mode, the binary compiled explicitly at
  128 and at 256 GRF (``grf_mode="128"``/``"256"``): spill bytes, scratch, GRF count, and the kernel's run
  time at each, launched ``--runs`` times in batches of ``--batch`` on the device, wall clock between
  synchronisations (median, quartiles, min, max, per launch), interleaved so both see the same machine; the
  ratio of the two medians (``time_256_vs_128``), the faster mode where the quartiles do not overlap
  (``faster_measured``), and whether the minimum-gain rule (``grf_min_gain``) chose it (``policy_agrees``).

On an emulated device (``TRITON_XPU_EMULATE``: Intel's driver in AUB mode) kernels do not execute: every run
time is ``null`` with ``run_time_reason`` saying so, never a number; everything else is filled.  A step that
fails is recorded in ``errors`` and the other steps still run.  Exit status 0 when the report was written.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import glob
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench_common import private_cache  # noqa: E402  (also puts examples/ on the path)

SCHEMA = "triton-xpu-hardware-report"
SCHEMA_VERSION = 1
REPO = Path(__file__).resolve().parents[1]
EMULATED_REASON = ("emulated device ({env}={target}: Intel's driver in AUB mode): kernels do not execute, "
                   "so no run time is measured")


def _error(errors: List[Dict[str, str]], step: str, e: BaseException) -> None:
    first = (str(e).strip().splitlines() or [""])[0]
    errors.append({"step": step, "error": f"{type(e).__name__}: {first}"})
    print(f"hardware_report: {step} failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


# --- the machine and its Intel stack ------------------------------------------------------------------------


def debian_packages() -> Optional[Dict[str, str]]:
    """{package: exact version} of the Intel stack by dpkg, the packages the pytest header names; None on a host
    without dpkg."""
    sys.path.insert(0, str(REPO / "python" / "test"))  # the test support package
    from support import intel_stack
    return intel_stack.versions()


def level_zero_loader() -> Dict[str, Any]:
    """The Level Zero loader library the process loaded (its real file names its version: libze_loader.so.1.32.0)."""
    loaded = []
    try:
        with open("/proc/self/maps") as f:
            loaded = sorted({line.split()[-1] for line in f if "libze_loader" in line})
    except OSError:
        pass
    if not loaded:  # not loaded in this process: where the dynamic loader would find it
        from triton.backends.intel.native import compiler_identity
        for directory in compiler_identity._library_dirs():
            loaded += glob.glob(os.path.join(directory, "libze_loader.so.1"))
    files = [os.path.realpath(p) for p in loaded]
    versions = sorted({Path(p).name.split(".so.", 1)[1] for p in files if ".so." in Path(p).name})
    return {"files": files, "version": versions[0] if len(versions) == 1 else (versions or None)}


def versions(devices: List[Dict[str, Any]], errors) -> Dict[str, Any]:
    out: Dict[str, Any] = {"debian_packages": debian_packages()}
    try:
        from triton.backends.intel.native import ocloc
        out["ocloc"] = ocloc.ocloc_version()
        out["ocloc_mode"] = ocloc.ocloc_mode()
    except Exception as e:  # noqa: BLE001
        out["ocloc"] = None
        _error(errors, "ocloc version", e)
    from triton.backends.intel.native import compiler_identity
    out["compiler_identity"] = compiler_identity.identity()
    out["compiler_files"] = sorted({os.path.realpath(p) for p in compiler_identity.compiler_files()
                                    if os.path.exists(p)})
    out["level_zero_loader"] = level_zero_loader()
    out["driver"] = sorted({str(d.get("driver_version")) for d in devices}) or None
    import triton
    out["triton"] = triton.__version__
    out["python"] = platform.python_version()
    try:
        git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30)
        out["project_commit"] = git.stdout.strip() or None
        if not out["project_commit"]:  # e.g. a worktree whose main repository is not visible in a toolchain
            out["project_commit_reason"] = (git.stderr.strip().splitlines() or ["git rev-parse printed nothing"])[0]
    except (OSError, subprocess.TimeoutExpired) as e:
        out["project_commit"], out["project_commit_reason"] = None, f"git: {e}"
    return out


def devices_report() -> Dict[str, Any]:
    """``triton-xpu devices --json`` (the same code), each device with its IP version added."""
    from triton.backends.intel.aot import cli
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.cmd_devices(argparse.Namespace(json=True))
    report = json.loads(out.getvalue())
    if report["devices"]:
        from triton.backends.intel.runtime import level_zero
        for row in report["devices"]:
            ip = level_zero.device(row["index"]).properties.get("ip_version")
            row["ip_version"] = f"0x{ip:08x}" if ip else None
    return report


def host() -> Dict[str, Any]:
    from triton.backends.intel.runtime import level_zero
    nodes = level_zero.intel_render_nodes()
    return {"machine": platform.machine(), "kernel": platform.release(), "os": _os_release(),
            "cpus": os.cpu_count(), "intel_render_nodes": nodes,
            "render_nodes_accessible": {n: os.access(os.path.join("/dev/dri", os.path.basename(n)), os.R_OK | os.W_OK)
                                        for n in nodes},
            "toolchain": os.environ.get("TRITON_XPU_TOOLCHAIN"), "emulate": os.environ.get("TRITON_XPU_EMULATE")}


def _os_release() -> Optional[str]:
    try:
        with open("/etc/os-release") as f:
            fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        return fields.get("PRETTY_NAME", "").strip('"') or None
    except OSError:
        return None


# --- test results -------------------------------------------------------------------------------------------


def junit_summary(path: str) -> Dict[str, Any]:
    """Counts of a pytest JUnit XML file and the names of what failed (xfail counts as skipped, as pytest writes it)."""
    root = ET.parse(path).getroot()
    counts = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures, hosts = [], set()
    for suite in root.iter("testsuite"):
        if suite.get("hostname"):
            hosts.add(suite.get("hostname"))
    for case in root.iter("testcase"):
        counts["tests"] += 1
        name = "::".join(x for x in (case.get("classname"), case.get("name")) if x)
        kinds = {child.tag for child in case}
        if "failure" in kinds or "error" in kinds:
            kind = "failed" if "failure" in kinds else "errors"
            counts[kind] += 1
            node = case.find("failure") if "failure" in kinds else case.find("error")
            failures.append({"test": name, "kind": "failure" if kind == "failed" else "error",
                             "message": (node.get("message") or "")[:500]})
        elif "skipped" in kinds:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return {"file": os.path.abspath(path), **counts, "failures": failures, "hostnames": sorted(hosts)}


# --- compile, load and the GRF data -------------------------------------------------------------------------


def _spec(name: str, grf_mode: Optional[str] = None):
    import kernels
    spec = kernels.SPECS[name]
    if grf_mode is None:
        return spec
    return dataclasses.replace(spec, options={**spec.options, "grf_mode": grf_mode})


def _percentile(sorted_values: List[float], q: float) -> float:
    pos = (len(sorted_values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def run_time_summary(samples_us: List[float], batch: int) -> Dict[str, Any]:
    s = sorted(samples_us)
    med = statistics.median(s)
    return {"median_us": round(med, 3), "p25_us": round(_percentile(s, 0.25), 3),
            "p75_us": round(_percentile(s, 0.75), 3),
            "min_us": round(s[0], 3), "max_us": round(s[-1], 3),
            "iqr_vs_median": round((_percentile(s, 0.75) - _percentile(s, 0.25)) / med, 4) if med else None,
            "samples": len(s), "launches_per_sample": batch}


def time_kernels(compiled: Dict[str, Any], spec, runs: int, batch: int) -> Dict[str, List[float]]:
    """µs per launch of each compiled kernel (same arguments), ``runs`` samples of ``batch`` launches each,
    the modes interleaved sample by sample; wall clock between device synchronisations."""
    import numpy as np
    from triton.runtime.driver import driver
    rng = np.random.default_rng(0)

    def alloc(nbytes, dtype):
        # Shared memory, as the main job launches with, filled with values in [-1, 1) (zeros for integers: the
        # same data at both GRF sizes, no NaNs or denormals); the warm-up launch moves it to the device.
        buf = driver.active.alloc(nbytes, "shared", dtype)
        view = buf.numpy()
        if dtype == "bfloat16":
            view[:] = (rng.uniform(-1, 1, view.size).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        elif np.issubdtype(view.dtype, np.floating):
            view[:] = rng.uniform(-1, 1, view.size).astype(view.dtype)
        else:
            view[:] = 0
        return buf

    grid, args = spec.launch(alloc)
    samples: Dict[str, List[float]] = {mode: [] for mode in compiled}
    for kernel in compiled.values():  # load, and a warm-up launch outside the samples
        kernel[grid](*args)
    driver.active.synchronize()
    for i in range(runs):
        order = list(compiled.items())
        if i % 2:
            order.reverse()
        for mode, kernel in order:
            driver.active.synchronize()
            start = time.perf_counter()
            for _ in range(batch):
                kernel[grid](*args)
            driver.active.synchronize()
            samples[mode].append((time.perf_counter() - start) * 1e6 / batch)
    return samples


def faster(t128: Optional[Dict[str, Any]], t256: Optional[Dict[str, Any]]) -> Optional[str]:
    """The faster GRF mode by run time: one only when its samples' quartiles lie wholly below the other's (noise
    is no answer); None without both run times."""
    if not (t128 and t256):
        return None
    if t256["p75_us"] < t128["p25_us"]:
        return "256"
    if t128["p75_us"] < t256["p25_us"]:
        return "128"
    return "neither: the quartiles overlap"


def _attempt(a: Dict[str, Any]) -> Dict[str, Any]:
    return {k: a.get(k) for k in ("grf_mode", "spill_bytes", "spill_source", "scratch_bytes", "n_regs", "kept",
                                  "reason", "ms")}


def grf_kernel(name: str, dev, runs: int, batch: int) -> Optional[Dict[str, Any]]:
    """The GRF data for one main-job kernel on the device's target, or None when it does not spill by default."""
    target = dev.target.name
    default = _spec(name).compile(target)
    md = default.metadata
    first = md.grf_attempts[0] if md.grf_attempts else {}
    if not first.get("spill_bytes"):
        return None
    row: Dict[str, Any] = {
        "kernel": name, "target": target, "num_warps": md.num_warps,
        "policy": {"grf_mode": md.grf_mode, "spill_bytes": md.spill_bytes,
                   "attempts": [_attempt(a) for a in md.grf_attempts]},
        "modes": {},
    }
    compiled = {}
    for mode in ("128", "256"):
        entry: Dict[str, Any] = {"grf_mode": mode}
        try:
            k = _spec(name, mode).compile(target)
            m = k.metadata
            entry.update({"spill_bytes": m.spill_bytes, "spill_source": m.spill_source,
                          "scratch_bytes": m.scratch_bytes, "n_regs": m.n_regs, "build_flags": m.build_flags,
                          "zebin_bytes": len(k.asm["zebin"]), "zebin_ms": (m.stage_ms or {}).get("zebin")})
            compiled[mode] = k
        except Exception as e:  # noqa: BLE001  (e.g. the kernel cannot launch with 256 GRF on this target)
            entry["compile_error"] = f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
        entry["run_time"] = None
        row["modes"][mode] = entry
    s128, s256 = (row["modes"][m].get("spill_bytes") for m in ("128", "256"))
    row["spill_cut"] = round((s128 - s256) / s128, 4) if s128 and s256 is not None else None
    row["run_time_reason"] = None
    if dev.emulated:
        row["run_time_reason"] = EMULATED_REASON.format(env="TRITON_XPU_EMULATE", target=target)
    elif not compiled:
        row["run_time_reason"] = "neither mode compiled"
    else:
        try:
            samples = time_kernels(compiled, _spec(name), runs, batch)
            for mode, values in samples.items():
                row["modes"][mode]["run_time"] = run_time_summary(values, batch)
        except Exception as e:  # noqa: BLE001
            row["run_time_reason"] = f"launch failed: {type(e).__name__}: {str(e).strip().splitlines()[0]}"
    t128, t256 = (row["modes"][m]["run_time"] for m in ("128", "256"))
    row["time_256_vs_128"] = round(t256["median_us"] / t128["median_us"], 4) if t128 and t256 else None
    row["faster_measured"] = faster(t128, t256)
    row["policy_agrees"] = (row["faster_measured"] == md.grf_mode) if row["faster_measured"] in ("128", "256") else None
    return row


def compile_rows(names: List[str], target: str, repeat: int, errors) -> List[Dict[str, Any]]:
    import compile_zebin
    rows = []
    saved = os.environ.get("TRITON_XPU_GRF_PARALLEL")
    try:
        for name in names:
            print(f"hardware_report: compile {name} for {target}", file=sys.stderr, flush=True)
            try:
                rows.append(compile_zebin.measure(name, target, repeat))
            except Exception as e:  # noqa: BLE001
                _error(errors, f"compile {name}", e)
    finally:  # compile_zebin measures the sequential policy; the rest of the report uses the default
        if saved is None:
            os.environ.pop("TRITON_XPU_GRF_PARALLEL", None)
        else:
            os.environ["TRITON_XPU_GRF_PARALLEL"] = saved
    return rows


def load_rows(names: List[str], repeat: int, errors) -> List[Dict[str, Any]]:
    import load_native_vs_jit
    rows = []
    for spec in load_native_vs_jit.kernel_specs(names).values():
        print(f"hardware_report: load {spec.name}", file=sys.stderr, flush=True)
        try:
            rows.append(load_native_vs_jit.measure(spec, repeat))
        except Exception as e:  # noqa: BLE001
            _error(errors, f"load {spec.name}", e)
    return rows


def grf_policy() -> Dict[str, Any]:
    from triton.backends.intel import options
    opts = options.XPUOptions() if hasattr(options, "XPUOptions") else None
    return {"grf_min_gain": getattr(opts, "grf_min_gain", None),
            "grf_spill_threshold": getattr(opts, "grf_spill_threshold", None),
            "rule": "keep the larger GRF mode only if it cuts spill bytes by at least grf_min_gain"}


# --- the report ---------------------------------------------------------------------------------------------


def build_report(args) -> Dict[str, Any]:
    import kernels
    names = [k for k in args.kernels.split(",") if k]
    unknown = [k for k in names if k not in kernels.SPECS]
    if unknown:
        raise SystemExit(f"unknown kernel(s) {', '.join(unknown)}; known: {', '.join(kernels.SPECS)}")
    errors: List[Dict[str, str]] = []
    report: Dict[str, Any] = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION,
                              "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                              "command": sys.argv[1:], "host": host()}
    try:
        report["devices"] = devices_report()
    except Exception as e:  # noqa: BLE001
        report["devices"] = {"devices": [], "reason": f"{type(e).__name__}: {e}"}
    report["versions"] = versions(report["devices"]["devices"], errors)
    report["tests"] = {"junit": [], "totals": None}
    for path in args.junit:
        try:
            report["tests"]["junit"].append(junit_summary(path))
        except Exception as e:  # noqa: BLE001
            _error(errors, f"junit {path}", e)
    if report["tests"]["junit"]:
        keys = ("tests", "passed", "failed", "errors", "skipped")
        report["tests"]["totals"] = {k: sum(j[k] for j in report["tests"]["junit"]) for k in keys}
    else:
        report["tests"]["reason"] = "no --junit files given"
    report["kernels"] = names
    report["compile"], report["load"] = [], []
    report["grf"] = {"policy": grf_policy(), "timing": {"runs": args.runs, "launches_per_sample": args.batch,
                                                         "clock": "wall clock between device synchronisations, "
                                                                  "µs per launch, modes interleaved"},
                     "kernels": [], "not_spilling": []}
    if not report["devices"]["devices"]:
        report["grf"]["reason"] = report["compile_reason"] = report["load_reason"] = (
            f"no Level Zero device: {report['devices'].get('reason')}")
        report["errors"] = errors
        return report
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero
    dev = level_zero.device(driver.active.get_current_device())
    report["device_used"] = {"index": dev.index, "name": dev.name, "target": dev.target.name, "emulated": dev.emulated}
    report["compile"] = compile_rows(names, dev.target.name, args.repeat, errors)
    report["load"] = load_rows(names, args.repeat, errors)
    for name in names:
        print(f"hardware_report: GRF data for {name}", file=sys.stderr, flush=True)
        try:
            row = grf_kernel(name, dev, args.runs, args.batch)
        except Exception as e:  # noqa: BLE001
            _error(errors, f"grf {name}", e)
            continue
        if row is None:
            report["grf"]["not_spilling"].append(name)
        else:
            report["grf"]["kernels"].append(row)
    report["errors"] = errors
    return report


def main(argv: Optional[List[str]] = None) -> int:
    from main import DEFAULT_KERNELS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", "-o", default="hardware-report.json", help="the JSON file to write")
    parser.add_argument("--junit", nargs="*", default=[], metavar="FILE",
                        help="pytest JUnit XML files (python -m pytest --junitxml FILE) to summarise")
    parser.add_argument("--kernels", default=DEFAULT_KERNELS, help="main-job kernels (examples/kernels.py SPECS)")
    parser.add_argument("--runs", type=int, default=50, help="timed samples per GRF mode")
    parser.add_argument("--batch", type=int, default=10, help="launches per timed sample")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the compile and load measurements")
    args = parser.parse_args(argv)
    private_cache()
    report = build_report(args)
    Path(args.output).write_text(json.dumps(report, indent=1) + "\n")
    print(f"hardware_report: wrote {args.output} ({len(report['errors'])} step(s) failed)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmarks run and report every column (their figures are read by people, not asserted here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "benchmarks"


def test_compile_zebin_benchmark_reports_stage_and_raw_ocloc(fresh_cache):
    proc = subprocess.run([sys.executable, str(BENCH / "compile_zebin.py"), "--kernels", "add", "--targets", "pvc",
                           "--repeat", "1", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (row, ) = json.loads(proc.stdout)
    assert (row["kernel"], row["target"], row["attempts"], row["grf_mode"]) == ("add", "pvc", 1, "128")
    assert row["zebin_stage_ms"] > 0 and row["raw_ocloc_ms"] > 0 and row["front_end_ms"] > 0
    assert abs(row["ratio"] - row["zebin_stage_ms"] / row["raw_ocloc_ms"]) < 0.01


def test_grf_parallel_benchmark_compares_with_the_sequential_policy(fresh_cache):
    proc = subprocess.run([sys.executable, str(BENCH / "grf_parallel.py"), "--kernels", "add", "--targets", "pvc",
                           "--repeat", "1", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (row, ) = json.loads(proc.stdout)
    assert (row["kernel"], row["target"], row["forecast"], row["spilled"], row["attempts"]) == ("add", "pvc", "-",
                                                                                               0, 1)
    assert row["sequential_ms"] > 0 and row["parallel_ms"] > 0 and row["bound"] == 1.0
    assert abs(row["ratio"] - row["parallel_ms"] / row["sequential_ms"]) < 0.01
    assert row["wrong_forecast"] > 0  # measured: add does not spill


def test_compile_memory_benchmark_measures_both_ways_of_running_ocloc():
    proc = subprocess.run([sys.executable, str(BENCH / "compile_memory.py"), "--processes", "1", "--kernels", "add",
                           "--idle", "0.5", "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lib, sub = json.loads(proc.stdout)
    assert (lib["mode"], sub["mode"], lib["processes"]) == ("lib", "subprocess", 1)
    for row in (lib, sub):
        assert row["peak_mb"] >= row["after_compile_mb"] > 0 and row["after_idle_mb"] > 0
    # The figures are for people; the ratio columns are computed from them.
    assert lib["after_idle_vs_subprocess"] == round(lib["after_idle_mb"] / sub["after_idle_mb"], 2)


def test_a_benchmark_removes_the_private_cache_it_made(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_CACHE_DIR"}
    env["TMPDIR"] = str(tmp_path)
    code = ("import os, bench_common; bench_common.private_cache(); d = os.environ['TRITON_CACHE_DIR']; "
            "open(os.path.join(d, 'entry'), 'w').close(); print(d)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=BENCH)
    assert proc.returncode == 0, proc.stderr
    made = Path(proc.stdout.strip())
    assert made.parent == tmp_path and made.name.startswith("bench-cache-")
    assert not made.exists(), "a benchmark's private Triton cache outlived its process"

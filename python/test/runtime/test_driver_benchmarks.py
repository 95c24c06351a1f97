"""The driver benchmarks run on the emulated device and report every column (figures are for people)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triton.backends.intel.runtime import level_zero

BENCH = Path(__file__).resolve().parents[3] / "benchmarks"


def bench(script, *args):
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc")
    proc = subprocess.run([sys.executable, str(BENCH / script), *args, "--json"], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_native_load_vs_jit_at_load(fresh_cache):
    (row, ) = bench("load_native_vs_jit.py", "--kernels", "add", "--repeat", "1")
    assert (row["kernel"], row["device"], row["grf_mode"], row["jit_retried_256"]) == ("add", "pvc", "128", False)
    assert row["native_load_ms"] > 0 and row["jit_at_load_ms"] > 0
    assert abs(row["ratio"] - row["jit_at_load_ms"] / row["native_load_ms"]) <= 0.1 * row["ratio"] + 0.1


def test_sycl_launch(fresh_cache):
    from bench_common import sycl_gpu_problem
    proc = subprocess.run([sys.executable, str(BENCH / "sycl_launch.py"), "--iterations", "50", "--json"],
                          capture_output=True, text=True, env=dict(os.environ, TRITON_XPU_EMULATE="pvc"), timeout=600)
    problem = sycl_gpu_problem()
    if problem and os.environ.get("TRITON_XPU_TOOLCHAIN") != "current":  # legacy: SYCL cannot open the GPU
        assert proc.returncode == 2 and f"sycl_launch: not measured: {problem}" in proc.stderr, proc.stderr[-3000:]
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads(proc.stdout)
    assert set(row) == {"device", "raw_sycl_us", "sycl_launcher_us", "level_zero_launcher_us", "sycl_vs_raw",
                        "goal_us", "sycl_vs_level_zero"}
    assert row["raw_sycl_us"] > 0 and row["sycl_launcher_us"] > 0


def test_per_call(fresh_cache):
    from bench_common import sycl_gpu_problem
    proc = subprocess.run([sys.executable, str(BENCH / "per_call.py"), "--iterations", "20", "--rounds", "1",
                           "--kernels", "add", "--json"], capture_output=True, text=True,
                          env=dict(os.environ, TRITON_XPU_EMULATE="pvc"), timeout=900)
    problem = sycl_gpu_problem()
    if problem and os.environ.get("TRITON_XPU_TOOLCHAIN") != "current":  # legacy: SYCL cannot open the GPU
        assert proc.returncode == 2 and f"per_call: not measured: {problem}" in proc.stderr, proc.stderr[-3000:]
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row, ) = json.loads(proc.stdout)["per_call"]
    for path in ("ze_raw", "ze_jit", "ze_jit_python", "ze_launcher", "ze_autotuner", "sycl_raw", "sycl_launcher",
                 "sycl_jit", "stock"):
        assert row[f"{path}_us"] > 0, path
    assert row["ze_goal"] == 6.0 and row["sycl_goal"] == 2.0 and row["stock_goal"] == 3.0
    assert row["ze_jit_vs_raw"] == pytest.approx(row["ze_jit_us"] / row["ze_raw_us"], rel=0.05)


def test_launch_overhead(fresh_cache):
    row = bench("launch_overhead.py", "--iterations", "50")
    assert row["device"] == "pvc"
    for key in ("raw_us", "launcher_us", "compiled_us", "jit_us"):
        assert row[key] > 0
    assert abs(row["goal_us"] - (1.2 * row["raw_us"] + 5)) < 0.02  # both rounded to 0.01 from the same raw


@pytest.mark.skipif(bool(level_zero.intel_render_nodes()), reason="an Intel GPU is present")
def test_warm_start(fresh_cache):
    warm, asking = bench("warm_start.py", "--rounds", "1")
    assert (warm["case"], asking["case"]) == ("warm", "asking")
    for row in (warm, asking):
        assert row["first_call_ms"] > 0 and row["load_ms"] > 0 and row["raw_ms"] > 0 and row["triton_key_ms"] >= 0
        parts = row["triton_key_ms"] + row["backend_ms"] + row["load_ms"] + row["launcher_ms"] + row["frontend_ms"]
        assert abs(parts - row["first_call_ms"]) < 0.1
    assert warm["backend_vs_asking"] == round(warm["backend_ms"] / asking["backend_ms"], 3)


def test_cold_backend(fresh_cache):
    rows = bench("cold_backend.py", "--rounds", "1")
    assert [row["case"] for row in rows] == ["known", "probing", "cached"]
    known, probing, cached = rows
    assert (known["answers_from"], probing["answers_from"], cached["answers_from"]) == (
        "known_compilers row", "ocloc probes", "Triton's cache")
    assert (known["goal_ms"], probing["goal_ms"], cached["goal_ms"]) == (60.0, None, 20.0)
    for row in rows:
        assert row["backend_ms"] > 0 and row["hash_ms"] >= 0
        assert row["backend_vs_cached"] == round(row["backend_ms"] / cached["backend_ms"], 2)
    assert known["meets_goal"] == (known["backend_ms"] <= 60.0) and probing["meets_goal"] is None


def test_load_against_a_cold_and_a_warm_neo_cache(fresh_cache):
    (row, ) = bench("load_neo_cache.py", "--kernels", "add", "--rounds", "1")
    assert (row["kernel"], row["device"], row["grf_mode"], row["jit_retried_256"]) == ("add", "pvc", "128", False)
    assert row["native_ms"] > 0 and row["spirv_cold_ms"] > 0 and row["spirv_warm_ms"] > 0
    # The ratios come from the unrounded medians; the columns are rounded.
    for ratio, ms in (("warm_ratio", "spirv_warm_ms"), ("cold_ratio", "spirv_cold_ms")):
        assert abs(row[ratio] - row[ms] / row["native_ms"]) <= 0.02 * row[ratio] + 0.1, (ratio, row)


def test_benchmarks_say_what_to_do_without_a_device(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_XPU_EMULATE"}
    proc = subprocess.run([sys.executable, str(BENCH / "launch_overhead.py")], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "no Intel GPU: run with TRITON_XPU_EMULATE=pvc" in proc.stderr


def test_native_compilers_benchmark_compiles_and_loads_through_both(fresh_cache):
    (row, ) = bench("native_compilers.py", "--kernels", "add", "--repeat", "1")
    assert (row["kernel"], row["device"]) == ("add", "pvc")
    assert row["ocloc_loads"] is True and row["driver_loads"] is True
    assert row["ocloc_grf"] == row["driver_grf"] == "128"
    assert row["ocloc_ms"] > 0 and row["driver_ms"] > 0


def test_report_runs_every_benchmark_and_writes_tables_and_plots(tmp_path, fresh_cache):
    # An earlier report with figures report.py does not measure: writing the report again keeps them.
    separately = "\n## Measured separately\n\nfigures of a benchmark report.py does not run\n"
    (tmp_path / "REPORT.md").write_text("# an earlier report\n" + separately)
    proc = subprocess.run([sys.executable, str(BENCH / "report.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=dict(os.environ, TRITON_XPU_EMULATE="pvc"), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (tmp_path / "REPORT.md").read_text()
    for section in ("## Compile: the zebin stage vs a raw ocloc subprocess", "## Load: native binary vs SPIR-V",
                    "## Launch overhead vs a raw Level Zero loop", "## Native compilers",
                    "## Warm start: the first call of a process with everything cached",
                    "## Cold node: constructing the backend with an empty Triton cache",
                    "## Load against a cold and a warm NEO compiler cache",
                    "## The main job (`examples/main.py`)",
                    "## Fleet bring-up: nodes loading from a warm shared store vs stock triton-xpu"):
        assert section in report
    assert "Machine: " in report and "| add | pvc |" in report
    assert report.endswith(separately) and "an earlier report" not in report
    # Labelled with the toolchain and its Intel stack's versions.
    toolchain = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")
    assert f"Toolchain {toolchain}: NEO " in report and ", IGC " in report
    assert "\nadd      pvc " in report  # the main job's table
    # The SYCL launch where a SYCL runtime is installed, else why not.
    from bench_common import sycl_gpu_problem
    sycl = report.split("## Launch on a SYCL queue vs a raw SYCL submit", 1)[1].split("##", 1)[0]
    if toolchain == "current" or not sycl_gpu_problem():
        assert "| raw_sycl_us | sycl_launcher_us |" in sycl and "| pvc |" in sycl
    else:
        assert f"Not measured: {sycl_gpu_problem()}." in sycl
    # The fleet against stock triton-xpu where stock runs, else why not.
    import stock_triton
    fleet = report.split("## Fleet bring-up", 1)[1].split("##", 1)[0]
    if toolchain == "current" or not stock_triton.problem():
        assert "| node | ours_kernels_ms | stock_kernels_ms | kernels_ratio |" in fleet
        assert "| first (compiles) |" in fleet and "| ours | pvc | named target | 1 |" in fleet
    else:
        assert f"Not measured: the baseline, stock triton-xpu 3.3.0b1, cannot run here: {stock_triton.problem()}" \
            in fleet
    for png in ("load_native_vs_jit.png", "grf_attempts.png", "launch_overhead.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png})" in report

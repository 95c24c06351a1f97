"""benchmarks/hardware_report.py on the emulated pvc: the report's shape, never a made-up run time, and spill
figures that are the compiled kernels' own metadata (the figures themselves are read by people)."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BENCH = REPO / "benchmarks"

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4" hostname="box">
<testcase classname="python.test.a" name="test_ok" time="0.1"/>
<testcase classname="python.test.a" name="test_ok2" time="0.1"/>
<testcase classname="python.test.a" name="test_bad" time="0.1"><failure message="assert 1 == 2">x</failure></testcase>
<testcase classname="python.test.b" name="test_skip" time="0.0"><skipped message="no GPU"/></testcase>
</testsuite></testsuites>
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hardware-report")
    junit = tmp / "junit.xml"
    junit.write_text(JUNIT)
    out = tmp / "report.json"
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc", TRITON_CACHE_DIR=str(tmp / "triton-cache"))
    proc = subprocess.run([sys.executable, str(BENCH / "hardware_report.py"), "--kernels", "add,matmul", "--repeat",
                           "1", "--runs", "3", "--batch", "2", "--junit", str(junit), "--output", str(out)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    if not r["devices"]["devices"] and "cannot emulate" in (r["devices"]["reason"] or ""):
        pytest.skip(f"this toolchain's driver cannot emulate pvc: {r['devices']['reason']}")
    return r, env


def test_the_report_names_its_schema_device_and_stack(report):
    r, _ = report
    assert (r["schema"], r["schema_version"]) == ("triton-xpu-hardware-report", 1)
    for key in ("created", "host", "devices", "versions", "tests", "kernels", "compile", "load", "grf", "errors"):
        assert key in r, key
    assert r["errors"] == [], r["errors"]
    (dev, ) = r["devices"]["devices"]
    assert (dev["target"], dev["emulated"]) == ("pvc", True)
    for key in ("name", "device_id", "ip_version", "driver_version"):
        assert key in dev, key
    v = r["versions"]
    assert v["ocloc"] and v["compiler_identity"] and v["driver"]
    assert v["level_zero_loader"]["files"], v["level_zero_loader"]
    if v["debian_packages"] is not None:  # the toolchains are Debian: the pytest header's packages
        assert any(p.startswith(("intel-opencl-icd", "libze-intel-gpu1")) for p in v["debian_packages"])


def test_junit_files_are_summarised(report):
    r, _ = report
    (j, ) = r["tests"]["junit"]
    assert {k: j[k] for k in ("tests", "passed", "failed", "errors", "skipped")} == {
        "tests": 4, "passed": 2, "failed": 1, "errors": 0, "skipped": 1}
    assert [f["test"] for f in j["failures"]] == ["python.test.a::test_bad"]
    assert r["tests"]["totals"]["failed"] == 1


def test_compile_and_load_figures_cover_every_kernel(report):
    r, _ = report
    assert [row["kernel"] for row in r["compile"]] == ["add", "matmul"]
    assert all(row["target"] == "pvc" and row["zebin_stage_ms"] > 0 and row["raw_ocloc_ms"] > 0 for row in r["compile"])
    assert [row["kernel"] for row in r["load"]] == ["add", "matmul"]
    assert all(row["native_load_ms"] > 0 and row["jit_at_load_ms"] > 0 for row in r["load"])


def test_grf_data_has_no_run_time_on_the_emulated_device(report):
    r, _ = report
    assert r["grf"]["not_spilling"] == ["add"]
    (row, ) = r["grf"]["kernels"]
    assert (row["kernel"], row["target"]) == ("matmul", "pvc")
    assert "kernels do not execute" in row["run_time_reason"]
    for mode in ("128", "256"):
        assert row["modes"][mode]["run_time"] is None
        assert row["modes"][mode]["spill_bytes"] is not None
    assert row["time_256_vs_128"] is None and row["faster_measured"] is None and row["policy_agrees"] is None
    assert r["grf"]["policy"]["grf_min_gain"] == pytest.approx(0.1)


def test_spill_figures_are_the_kernels_metadata(report, monkeypatch):
    r, env = report
    monkeypatch.setenv("TRITON_CACHE_DIR", env["TRITON_CACHE_DIR"])  # the report's compiles: cache hits
    import kernels
    (row, ) = r["grf"]["kernels"]
    spec = kernels.SPECS["matmul"]
    default = spec.compile("pvc").metadata
    assert row["policy"]["grf_mode"] == default.grf_mode
    assert row["policy"]["attempts"][0]["spill_bytes"] == default.grf_attempts[0]["spill_bytes"] > 0
    for mode in ("128", "256"):
        md = dataclasses.replace(spec, options={**spec.options, "grf_mode": mode}).compile("pvc").metadata
        assert md.grf_mode == mode
        got = row["modes"][mode]
        assert (got["spill_bytes"], got["scratch_bytes"], got["n_regs"]) == (md.spill_bytes, md.scratch_bytes,
                                                                             md.n_regs)
    s128, s256 = row["modes"]["128"]["spill_bytes"], row["modes"]["256"]["spill_bytes"]
    assert row["spill_cut"] == round((s128 - s256) / s128, 4)


TIMING = """
import json, sys
sys.path.insert(0, sys.argv[1])
import hardware_report, kernels
spec = kernels.SPECS["matmul"]
compiled = {m: hardware_report._spec("matmul", m).compile("pvc") for m in ("128", "256")}
samples = hardware_report.time_kernels(compiled, spec, runs=3, batch=2)
print(json.dumps({m: hardware_report.run_time_summary(v, 2) for m, v in samples.items()}))
"""


def test_the_timing_loop_launches_both_modes(report):
    # The loop a real GPU's run times come from, exercised on the emulated pvc (the launches and
    # synchronisations run; the kernels do not, so these numbers mean nothing and the report never shows them).
    _, env = report
    proc = subprocess.run([sys.executable, "-c", TIMING, str(BENCH)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    for mode in ("128", "256"):
        t = summary[mode]
        assert (t["samples"], t["launches_per_sample"]) == (3, 2)
        assert 0 < t["min_us"] <= t["p25_us"] <= t["median_us"] <= t["p75_us"] <= t["max_us"]


def test_a_mode_is_faster_only_beyond_the_spread():
    saved_env = dict(os.environ)
    try:  # bench_common sets NEO_CACHE_PERSISTENT: not for the other tests
        import hardware_report
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    t = lambda samples: hardware_report.run_time_summary(samples, 1)  # noqa: E731
    assert t([1, 2, 3, 4, 5])["median_us"] == 3 and t([1, 2, 3, 4, 5])["p25_us"] == 2
    assert hardware_report.faster(t([10, 11, 12]), t([5, 6, 7])) == "256"
    assert hardware_report.faster(t([5, 6, 7]), t([10, 11, 12])) == "128"
    assert hardware_report.faster(t([5, 8, 11]), t([6, 9, 12])).startswith("neither")
    assert hardware_report.faster(None, t([5, 6, 7])) is None

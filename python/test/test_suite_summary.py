"""The run's summary (suite_summary.py, skip_reasons.py, scripts/run_summary.py): run on a small suite the way
./run test runs pytest (``-n 2``, xdist), a skip or xfail reason not declared for the toolchain fails the run,
naming the test, and the corpus's counts and the reasons reach the JSON and the tables."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skip_reasons

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parents[1] / "scripts" / "run_summary.py"
DECLARED_SKIP = "set UPSTREAM_DIR to an intel-xpu-backend-for-triton checkout containing BASE; e.g. ..."

CONFTEST = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
import suite_summary

def pytest_configure(config):
    suite_summary.register(config)
"""

DECLARED_TESTS = f"""
import pytest

def test_declared_skip():
    pytest.skip({DECLARED_SKIP!r})

def test_corpus_case(record_property):
    record_property("corpus", {{"entry": "pkg/k", "target": "pvc", "stage": "zebin"}})

def test_corpus_refusal(record_property):
    record_property("corpus", {{"entry": "pkg/bad", "target": "pvc", "stage": "zebin"}})
    pytest.xfail("refused by the validator and NEO: calls another vendor's builtin")
"""

PLANTED_TESTS = """
import pytest

def test_undeclared():
    pytest.skip("a reason nobody declared")

def test_legacy_reason_on_current():
    pytest.skip("NEO in the legacy toolchain printed no PrintKernelDispatchParameters report (planted)")

@pytest.mark.xfail(reason="not strict")
def test_xpass():
    pass
"""


def run_suite(tmp_path, tests, toolchain="current"):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_small.py").write_text(tests)
    out = tmp_path / "summary"
    env = dict(os.environ, TRITON_XPU_TOOLCHAIN=toolchain, TRITON_XPU_TEST_SUMMARY_DIR=str(out))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", str(suite)],
                          cwd=suite, capture_output=True, text=True, env=env, timeout=300)
    summary = out / f"{toolchain}.json"
    return proc, json.loads(summary.read_text()) if summary.exists() else None


def test_declared_reasons_pass_and_the_corpus_counts_reach_the_controller(tmp_path):
    proc, summary = run_suite(tmp_path, DECLARED_TESTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary["problems"] == []
    assert {(r["outcome"], r["reason"], r["count"]) for r in summary["reasons"]} == {
        ("skipped", "UPSTREAM_DIR not set (opt-in upstream series check)", 1),
        ("xfailed", "corpus: the validator and NEO both refuse it", 1)}
    assert summary["corpus"]["targets"] == {"pvc": {"cases": 2, "loaded": 1, "refused (declared)": 1}}
    assert re.search(r"^current +pvc +2 +1 +1 +0 +0 +0$", proc.stdout, re.M), proc.stdout  # the table's row


def test_an_undeclared_reason_fails_the_run_under_xdist_naming_the_test(tmp_path):
    proc, summary = run_suite(tmp_path, PLANTED_TESTS)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "UNDECLARED SKIP OR XFAIL REASONS (the run fails)" in proc.stdout
    problems = {p["test"].split("::")[-1]: p for p in summary["problems"]}
    assert set(problems) == {"test_undeclared", "test_legacy_reason_on_current", "test_xpass"}
    assert problems["test_undeclared"]["reason"] == "a reason nobody declared"
    assert "not declared in python/test/skip_reasons.py" in problems["test_undeclared"]["problem"]
    assert "only for legacy, not for the current toolchain" in problems["test_legacy_reason_on_current"]["problem"]
    assert "test_small.py::test_undeclared skipped with reason 'a reason nobody declared'" in proc.stdout


def test_the_legacy_reason_passes_on_legacy(tmp_path):
    legacy_only = ("def test_legacy_reason():\n    pytest.skip('SYCL on the Level Zero GPU in the legacy toolchain: "
                   "the SYCL runtime cannot open the Level Zero GPU with this Level Zero loader and driver: x')\n")
    proc, summary = run_suite(tmp_path, "import pytest\n" + legacy_only, toolchain="legacy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary["reasons"][0]["reason"] == "SYCL cannot open the GPU on Debian 12's stack"


def test_the_tables_fail_for_a_toolchain_without_a_summary_or_with_problems(tmp_path):
    (tmp_path / "current.json").write_text(json.dumps({
        "toolchain": "current", "reasons": [{"outcome": "skipped", "reason": "r", "count": 2, "tests": []}],
        "problems": [], "corpus": None}))
    ok = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "current"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "current   skipped      2  r" in ok.stdout
    missing = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "current", "legacy"], capture_output=True,
                             text=True)
    assert missing.returncode == 1
    assert "legacy: no test summary" in missing.stdout


@pytest.mark.parametrize("declared", skip_reasons.DECLARED, ids=lambda d: d.label)
def test_each_declared_reason_names_known_toolchains_and_why(declared):
    assert set(declared.toolchains) <= set(skip_reasons.ALL) and declared.toolchains
    assert declared.outcome in ("skipped", "xfailed") and declared.why

"""upstream/check's verdicts on small synthetic series, against a test double of the upstream checkout (conftest):
a clean patch passes; a patch that does not apply, a badly formatted file, a patch naming no tests fail, and
the output names the patch, the tool and the file.  The formatters are real (upstream's versions from PyPI,
made once into .toolchains/upstream-lint/venv; a run without PyPI fails saying so).
"""
import os
import subprocess

import upstream_series as series
from upstream_double import run_check

TEST_FILE = "python/test/unit/intel/test_double.py"
GOOD_TEST = "def test_double():\n    assert 1 + 1 == 2\n"
BACKEND_FILE = "third_party/intel/backend/threshold.py"


check = run_check  # upstream/check on the double's series


def test_a_clean_patch_with_a_passing_test_passes(upstream_double):
    upstream_double.add_patch("[XPU] Add a test", {TEST_FILE: GOOD_TEST}, f"Tests: {TEST_FILE}")
    status, out = check(upstream_double)
    assert status == 0, out
    assert "1 passed" in out


def test_a_patch_that_does_not_apply_fails_naming_it(upstream_double):
    upstream_double.add_patch("[XPU] Add a test", {TEST_FILE: GOOD_TEST}, f"Tests: {TEST_FILE}")
    elsewhere = upstream_double.commit_elsewhere({BACKEND_FILE: "SPILL_THRESHOLD = 0\n"})
    changed = {BACKEND_FILE: "SPILL_THRESHOLD = 8\n"}
    name = upstream_double.add_patch("[XPU] Change the threshold", changed, f"Tests: {TEST_FILE}", parent=elsewhere)
    status, out = check(upstream_double)
    assert status != 0
    assert f"patch {name} does not apply alone on {upstream_double.base}" in out


def test_a_badly_formatted_python_file_fails_naming_yapf_and_the_file(upstream_double):
    ugly = "def  test_double( ):\n    assert 1+1 == 2\n"
    upstream_double.add_patch("[XPU] Add a test", {TEST_FILE: ugly}, f"Tests: {TEST_FILE}")
    status, out = check(upstream_double)
    assert status != 0
    assert f"FAILED: yapf ({TEST_FILE})" in out
    assert f"+++ {TEST_FILE}" in out   # the diff yapf would apply is shown


def test_a_patch_naming_no_tests_fails_naming_it(upstream_double):
    name = upstream_double.add_patch("[XPU] Add a test", {TEST_FILE: GOOD_TEST})
    status, out = check(upstream_double)
    assert status != 0
    assert f"FAILED: {name} names no tests" in out


def test_without_pypi_the_formatter_venv_fails_saying_so(tmp_path):
    # A fresh venv folder and an index nobody answers at: the check cannot get upstream's formatters.
    # (PIP_CONFIG_FILE=/dev/null: no pip.conf adds another index or local wheels.)
    env = dict(os.environ, UPSTREAM_LINT_DIR=str(tmp_path / "lint"), PIP_CONFIG_FILE=os.devnull,
               PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_RETRIES="0", PIP_TIMEOUT="2")
    proc = subprocess.run([str(series.SERIES_DIR / "lint-venv")], capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode != 0
    assert "cannot install upstream's formatters from PyPI" in proc.stderr
    assert "is PyPI reachable?" in proc.stderr


def test_export_writes_the_checkouts_commits_as_a_series_the_check_accepts(upstream_double):
    """upstream/export is how an edited series returns here: its output is what upstream/check applies."""
    from upstream_double import git, write
    repo = upstream_double.repo
    git(repo, "checkout", "-q", "-b", "series", upstream_double.base)
    write(repo, {TEST_FILE: GOOD_TEST})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"[XPU] Add a test\n\n## Problem\nA test.\n\nTests: {TEST_FILE}\n")
    (upstream_double.series_dir / "series").write_text("# a comment that stays\n")
    proc = subprocess.run([str(series.SERIES_DIR / "export"), "--series-dir", str(upstream_double.series_dir),
                           str(repo)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listed = (upstream_double.series_dir / "series").read_text().splitlines()
    assert listed == ["# a comment that stays", "0001-XPU-Add-a-test.patch"]
    patch = (upstream_double.series_dir / "patches" / listed[1]).read_text()
    assert patch.startswith("From 0000000000000000000000000000000000000000 ")  # no commit id: stable files
    git(repo, "checkout", "-q", "--detach", upstream_double.base)
    status, out = check(upstream_double)
    assert status == 0, out


def test_export_refuses_a_checkout_not_on_base(upstream_double):
    from upstream_double import git
    git(upstream_double.repo, "checkout", "-q", "--orphan", "elsewhere")
    git(upstream_double.repo, "commit", "-q", "-m", "unrelated")
    proc = subprocess.run([str(series.SERIES_DIR / "export"), "--series-dir", str(upstream_double.series_dir),
                           str(upstream_double.repo)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "does not descend from BASE" in proc.stderr

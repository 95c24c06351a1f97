"""The whole upstream series checked as upstream's CI would, as far as this machine can: upstream/check applies
every patch to BASE of an upstream checkout, runs upstream's formatters and linters at its versions, compiles
the backend's C, and runs every GPU-free test.  Needs an upstream checkout: UPSTREAM_DIR.
"""
import os
import subprocess

import pytest

import upstream_series as series

SKIP_REASON = ("set UPSTREAM_DIR to an intel-xpu-backend-for-triton checkout containing BASE; e.g. git clone "
               "https://github.com/intel/intel-xpu-backend-for-triton /tmp/upstream && UPSTREAM_DIR=/tmp/upstream "
               "./run test")


@pytest.mark.skipif(not os.environ.get("UPSTREAM_DIR"), reason=SKIP_REASON)
def test_the_series_applies_lints_clean_and_passes_its_tests_on_base():
    proc = subprocess.run([str(series.SERIES_DIR / "check"), os.environ["UPSTREAM_DIR"]], capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(not os.environ.get("UPSTREAM_DIR"), reason=SKIP_REASON)
def test_upstream_dir_reaches_the_suite_and_holds_base():
    # ./run test keeps the environment and scripts/toolchain.sh mounts UPSTREAM_DIR at its own path.
    upstream = os.environ["UPSTREAM_DIR"]
    proc = subprocess.run(["git", "-C", upstream, "cat-file", "-e", f"{series.base()}^{{commit}}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{upstream} is not visible here or does not contain BASE: {proc.stderr}"

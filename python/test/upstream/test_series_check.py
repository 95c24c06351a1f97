"""The whole upstream series checked as upstream's reviewers and CI would, as far as this machine can:
upstream/check applies each pull request alone to BASE of an upstream checkout (size, knob defaults, upstream's
formatters and linters at its versions, the backend's C, its own tests), then merges them in order and runs
every GPU-free test on the stack.  Needs an upstream checkout: UPSTREAM_DIR (.ci/run sets it to this
workplace's clone when there is one).
"""
import os
import shutil
import subprocess

import pytest

import upstream_series as series

SKIP_REASON = ("set UPSTREAM_DIR to an intel-xpu-backend-for-triton checkout containing BASE; e.g. git clone "
               "https://github.com/intel/intel-xpu-backend-for-triton /tmp/upstream && UPSTREAM_DIR=/tmp/upstream "
               "./run test")


def ocloc_takes_an_output_path(tmp_path) -> bool:
    """Upstream's make_zebin runs `ocloc compile ... -o FILE`; NEO 22.43's ocloc (the legacy toolchain) has no -o."""
    if shutil.which("ocloc") is None:
        return False
    (tmp_path / "k.cl").write_text("__kernel void k() {}\n")
    proc = subprocess.run(["ocloc", "compile", "-q", "-file", str(tmp_path / "k.cl"), "-device", "pvc", "-spv_only",
                           "-o", str(tmp_path / "k.spv")], capture_output=True, text=True, timeout=120)
    return proc.returncode == 0


@pytest.mark.skipif(not os.environ.get("UPSTREAM_DIR"), reason=SKIP_REASON)
def test_the_series_applies_lints_clean_and_passes_its_tests_on_base(tmp_path):
    if not ocloc_takes_an_output_path(tmp_path):
        pytest.skip("this toolchain's ocloc has no -o (NEO 22.43), which upstream's own make_zebin needs: upstream "
                    "does not run on this stack, so its tests would test nothing upstream promises; the check runs "
                    "on `current`")
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

"""upstream/pytest-upstream on the test double of an upstream checkout (conftest): the tests see the checkout's
triton (not the venv's 3.3) with the checkout's backend as triton.backends.intel and the stand-in libtriton,
even under a python/conftest.py that moves python/ to the end of sys.path as upstream's does.
"""
import subprocess

import upstream_series as series
from upstream_double import git, write

# Upstream's python/conftest.py moves python/ last on sys.path, so an unbuilt tree does not shadow an installed
# triton; the assembled tree must still give the checkout's triton first.
MOVE_PYTHON_LAST = """import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p != here] + [here]
"""

PROBE = '''import os
import triton
import triton.backends.intel as intel
from triton._C.libtriton import getenv, getenv_bool


def test_the_checkouts_triton_and_backend():
    assert triton.DOUBLE == "upstream double"
    assert intel.DOUBLE_BACKEND is True


def test_the_standin_reads_the_environment_like_upstreams_core(monkeypatch):
    monkeypatch.setenv("DOUBLE_KNOB", "On")
    assert getenv("DOUBLE_KNOB") == "On"
    assert getenv_bool("DOUBLE_KNOB", False) is True
    monkeypatch.setenv("DOUBLE_KNOB", "2")
    assert getenv_bool("DOUBLE_KNOB", True) is False
    monkeypatch.delenv("DOUBLE_KNOB")
    assert getenv("DOUBLE_KNOB", "x") == "x" and getenv_bool("DOUBLE_KNOB", None) is None
'''


def test_tests_run_against_the_checkouts_triton_with_the_standin(upstream_double):
    write(upstream_double.repo, {
        "python/conftest.py": MOVE_PYTHON_LAST,
        "python/triton/__init__.py": 'DOUBLE = "upstream double"\n',
        "third_party/intel/backend/__init__.py": "DOUBLE_BACKEND = True\n",
        "python/test/unit/intel/test_probe.py": PROBE,
    })
    git(upstream_double.repo, "add", "-A")
    proc = subprocess.run([str(series.SERIES_DIR / "pytest-upstream"), str(upstream_double.repo),
                           "python/test/unit/intel/test_probe.py", "-q"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout

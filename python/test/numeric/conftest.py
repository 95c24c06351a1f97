"""The numeric suite's executor (numeric_executors.py) and its report of measured errors.

``executor``: the GPU executor where a real Intel GPU is present (never skipped there: a failure to set it up is a
test failure), else the CPU OpenCL executor (a failure where it cannot load; skipped only on Python < 3.10, where
pyopencl cannot be installed).
Every numeric test records its kind, measured max error and tolerance; the run ends with a table of them
(python/test/conftest.py prints it: under xdist only the root conftest is loaded by the controller).
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import numeric_executors  # noqa: E402


def _cpu_unavailable(e):
    # Skipped only where requirements-numeric.txt cannot install pyopencl; elsewhere a runtime that does not load
    # is a broken installation, which must fail, not silently drop the suite.
    if sys.version_info < (3, 10):
        pytest.skip(f"CPU OpenCL executor unavailable on Python {sys.version_info[0]}.{sys.version_info[1]}: "
                    f"pyopencl (requirements-numeric.txt) needs Python >= 3.10 ({e})")
    pytest.fail(f"CPU OpenCL executor unavailable: {e}.  requirements-numeric.txt installs it for this Python: "
                "rerun scripts/setup.sh (./run does) or pip install -r requirements-numeric.txt", pytrace=False)


@pytest.fixture(scope="session")
def executor():
    kind = numeric_executors.select_executor_kind()
    if kind == "gpu":
        return numeric_executors.GpuExecutor()
    try:
        return numeric_executors.CpuOpenCLExecutor()
    except numeric_executors.CpuUnavailable as e:
        _cpu_unavailable(e)


@pytest.fixture(scope="session")
def cpu():
    """The CPU OpenCL executor itself, for tests of what runs (or cannot run) there, whatever device is present."""
    try:
        return numeric_executors.CpuOpenCLExecutor()
    except numeric_executors.CpuUnavailable as e:
        _cpu_unavailable(e)


@pytest.fixture
def record(request, executor):
    """record(value, tolerance, what, abs_error=value): asserts value <= tolerance (an absolute error, or error /
    bound for elementwise bounds) and keeps it, with the max absolute error, for the summary table."""

    def check(max_error, tolerance, what="", abs_error=None):
        max_error, tolerance = float(max_error), float(tolerance)
        abs_error = max_error if abs_error is None else float(abs_error)
        request.node.user_properties.append(("numeric", (executor.name, what, max_error, tolerance, abs_error)))
        assert max_error <= tolerance, f"{what}: max error {max_error:.3g} > tolerance {tolerance:.3g}"

    return check

"""The numeric suite's executor (numeric_executors.py) and its report of measured errors.

``executor``: the GPU executor where a real Intel GPU is present, else the SYCL executor on Intel's CPU device; never
skipped: the requirements install the CPU runtime on every toolchain, so a failure to start it fails the tests.
Every numeric test records its kind, measured max error and tolerance; the run ends with a table of them
(python/test/conftest.py prints it: under xdist only the root conftest is loaded by the controller).
"""

import pytest

import numeric_executors  # this folder is on sys.path: pytest puts each conftest's folder there


@pytest.fixture(scope="session")
def executor():
    kind = numeric_executors.select_executor_kind()
    return numeric_executors.make_executor(kind)


@pytest.fixture(scope="session")
def cpu():
    """The SYCL CPU executor itself, for tests of what runs (or cannot run) there, whatever device is present."""
    return numeric_executors.SyclCpuExecutor()


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

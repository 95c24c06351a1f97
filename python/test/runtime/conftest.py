"""The runtime tests' shared fixture: ``sycl_gpu``, for tests that open a SYCL queue on the emulated GPU (PyTorch's
path).  Skipped, with the reason probed, where the SYCL runtime's Level Zero adapter cannot open the GPU with the
toolchain's loader and driver (Debian 12's loader 1.8 and NEO 22.43: it segfaults); never on `current`, where such
a failure fails the tests."""

import os

import pytest

from bench_common import sycl_gpu_problem

TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")


@pytest.fixture(scope="session")
def sycl_gpu():
    problem = sycl_gpu_problem()
    if problem and TOOLCHAIN != "current":
        pytest.skip(f"SYCL on the Level Zero GPU in the {TOOLCHAIN} toolchain: {problem}")

"""Triton's driver for Intel GPUs.

The native-only Level Zero runtime is not built yet, so this driver never
reports itself active: ``import triton`` works, and kernels compile for named
targets (``GPUTarget("xpu", "pvc", 32)``) with no device.
"""

from __future__ import annotations

from triton.backends.compiler import GPUTarget
from triton.backends.driver import DriverBase


class XPUDriver(DriverBase):

    @classmethod
    def is_active(cls) -> bool:
        return False

    def get_current_target(self) -> GPUTarget:
        raise RuntimeError("no Intel GPU driver is active; compile for a named target instead, "
                           "e.g. triton.compile(src, target=GPUTarget('xpu', 'pvc', 32))")

    def get_active_torch_device(self):
        raise RuntimeError("no Intel GPU driver is active")

    def get_benchmarker(self):
        raise RuntimeError("no Intel GPU driver is active")

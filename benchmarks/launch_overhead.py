"""Host cost of launching a kernel through Triton vs a raw Level Zero launch loop, in the same run.

    TRITON_XPU_EMULATE=pvc python benchmarks/launch_overhead.py [--iterations 2000] [--json]

µs per launch of the vector-add kernel, best of 5 batches:
* raw: a C++ loop of zeKernelSetArgumentValue + zeCommandListAppendLaunchKernel (the floor);
* launcher: this backend's launcher (``compiled.run(...)``, what Triton calls with the grid and arguments);
* compiled: ``compiled[grid](x, y, z, n)`` on a CompiledKernel (adds the Triton front end's runner);
* jit: ``add_kernel[grid](x, y, z, n, BLOCK=1024)`` (adds the argument binding and the kernel lookup: the native
  dispatcher for a repeated call, runtime/fast_launch.py; per_call.py compares it with Triton's own path).
Goal: the backend's launcher within 1.2x + 5 µs of raw.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from typing import List

from bench_common import Row, device_main  # noqa: E402  (also puts examples/ on the path)


def per_launch_us(fn, iterations: int, batches: int = 5, sync=None) -> float:
    """Best of ``batches`` of ``iterations`` calls of ``fn``, in µs per call; ``sync`` (default: the driver's
    synchronize) waits between batches."""
    from triton.runtime.driver import driver
    sync = sync or driver.active.synchronize
    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        best = min(best, (time.perf_counter() - start) / iterations * 1e6)
        sync()
    return best


def measure(args: argparse.Namespace) -> Row:
    import kernels
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero
    n = 1 << 20
    x, y, z = (driver.active.alloc(4 * n, "device", "float32") for _ in range(3))
    grid = (n // 1024, )
    jit = lambda: kernels.add_kernel[grid](x, y, z, n, BLOCK=1024)
    compiled = jit()
    driver.active.synchronize()
    launch = compiled[(grid[0], 1, 1)]  # CompiledKernel takes a full 3-D grid
    ptr = lambda b: struct.pack("<Q", b.data_ptr())
    raw_args = [(8, ptr(x)), (8, ptr(y)), (8, ptr(z)), (4, struct.pack("<i", n))]
    ze = level_zero.runtime().ze
    raw_ns = []
    for _ in range(5):
        raw_ns.append(ze.raw_launch_loop(compiled.function, driver.active.get_current_device(), grid[0], 1, 1,
                                         raw_args, args.iterations))
        driver.active.synchronize()
    raw = min(raw_ns) / 1e3
    row = {
        "device": level_zero.device(driver.active.get_current_device()).target.name,
        "raw_us": round(raw, 2),
        "launcher_us": round(per_launch_us(lambda: compiled.run(grid[0], 1, 1, 0, compiled.function, None, None, None,
                                                                None, x, y, z, n), args.iterations), 2),
        "compiled_us": round(per_launch_us(lambda: launch(x, y, z, n), args.iterations), 2),
        "jit_us": round(per_launch_us(jit, args.iterations), 2),
    }
    row["launcher_vs_raw"] = round(row["launcher_us"] / raw, 2)
    row["goal_us"] = round(1.2 * raw + 5, 2)
    return row


def main(argv: List[str] | None = None) -> int:
    return device_main(__doc__, argv, measure, iterations=2000)


if __name__ == "__main__":
    sys.exit(main())

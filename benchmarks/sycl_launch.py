"""Host cost of launching on a SYCL queue (PyTorch's way) vs a raw SYCL submit and vs the plain Level Zero
launcher, in the same run.

    TRITON_XPU_EMULATE=pvc python benchmarks/sycl_launch.py [--iterations 2000] [--json]

µs per launch of the vector-add kernel, the best of 9 batches of each, raw and launcher batches interleaved,
on an in-order dpctl queue with USM memory:
* raw_sycl: a C++ loop of ``queue.submit(set_arg..., parallel_for)`` with the same SYCL kernel (the floor);
* sycl_launcher: this backend's launcher given the queue as Triton's stream (``compiled.run(..., stream,
  ...)``): argument conversion, the pointer checks against the queue's context, the submit;
* level_zero_launcher: the same kernel through the driver's own Level Zero command list (stream 0).
Goal: the SYCL launcher within 1.5x the raw submit.  Needs a SYCL runtime that opens the Level Zero GPU (dpctl on
the `current` toolchain; on `legacy` its Level Zero adapter crashes, and the benchmark says so).
"""

from __future__ import annotations

import argparse
import struct
import sys
from typing import List

from bench_common import (  # noqa: E402  (also puts examples/ on the path)
    NotMeasured, Row, device_main, sycl_gpu_problem)
from launch_overhead import per_launch_us


def measure(args: argparse.Namespace) -> Row:
    import kernels
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero, sycl
    problem = sycl_gpu_problem()
    if problem:
        raise NotMeasured(f"sycl_launch: not measured: {problem}")
    level_zero.runtime()  # the emulated device is set up before the SYCL runtime starts Level Zero
    import dpctl
    import dpctl.memory as dpm
    queue = dpctl.SyclQueue("level_zero:gpu", property="in_order")
    address, _holder = sycl.hold(queue)
    n = 1 << 20
    usm = [dpm.MemoryUSMDevice(4 * n, queue=queue) for _ in range(3)]
    qx, qy, qz = (m._pointer for m in usm)
    x, y, z = (driver.active.alloc(4 * n, "device", "float32") for _ in range(3))
    grid = n // 1024
    compiled = kernels.add_kernel[(grid, )](x, y, z, n, BLOCK=1024)
    driver.active.synchronize()

    # The launcher and the kernel handle as Triton's runner holds them (CompiledKernel's attribute lookups,
    # about 5 µs, are the front end's, the same for both paths).
    launcher, function = compiled.run, compiled.function

    def run(stream, a, b, c):
        return lambda: launcher(grid, 1, 1, stream, function, None, None, None, None, a, b, c, n)

    run(address, qx, qy, qz)()  # creates the module in the queue's context
    sycl.module().wait(address)
    kernel = sycl.kernel_in(sycl.queue(address), compiled.function).sycl_kernel
    group = (compiled.metadata.num_warps * compiled.metadata.threads_per_warp, 1, 1)
    raw_args = [struct.pack("<Q", p) for p in (qx, qy, qz)] + [struct.pack("<i", n)]
    wait = lambda: sycl.module().wait(address)
    sycl_launch = run(address, qx, qy, qz)
    raw_us, sycl_us = [], []
    for _ in range(9):  # interleaved batches, the best of each: this machine's noise hits both alike
        raw_us.append(sycl.module().raw_submit_loop(address, kernel, raw_args, (grid, 1, 1), group,
                                                    compiled.metadata.shared or 0, args.iterations) / 1e3)
        wait()
        sycl_us.append(per_launch_us(sycl_launch, args.iterations, batches=1, sync=wait))
    raw, sycl_us = min(raw_us), min(sycl_us)

    row = {
        "device": level_zero.device(driver.active.get_current_device()).target.name,
        "raw_sycl_us": round(raw, 2),
        "sycl_launcher_us": round(sycl_us, 2),
        "level_zero_launcher_us": round(per_launch_us(run(0, x, y, z), args.iterations), 2),
    }
    row["sycl_vs_raw"] = round(sycl_us / raw, 2)
    row["goal_us"] = round(1.5 * raw, 2)
    row["sycl_vs_level_zero"] = round(sycl_us / row["level_zero_launcher_us"], 2)
    return row


def main(argv: List[str] | None = None) -> int:
    return device_main(__doc__, argv, measure, iterations=2000)


if __name__ == "__main__":
    sys.exit(main())

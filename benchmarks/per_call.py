"""Per call: ``kernel[grid](...)`` against a raw submit on both of the driver's paths, and against stock triton-xpu,
in the same run (issue 33).

    TRITON_XPU_EMULATE=pvc python benchmarks/per_call.py [--iterations 2000] [--rounds 7] [--json]

µs per call, the median of ``--rounds`` interleaved rounds, each the mean of ``--iterations`` calls, of two kernels:
``add`` (examples' vector add, 4 arguments and a constexpr) and ``matmul`` (12 arguments and 3 constexprs, two of
the strides 1), with the kernel already compiled.  On the device's own Level Zero command list (``ze``) and on a
caller's in-order SYCL queue of the same device (``sycl``, dpctl, USM memory: PyTorch's way):

* ``raw``: a C++ loop of zeKernelSetArgumentValue + zeCommandListAppendLaunchKernel (ze), of queue.submit(set_arg...,
  parallel_for) (sycl), with the same kernel and arguments: the floor;
* ``jit``: ``kernel[grid](*args, **constexprs)``, through the native dispatcher (runtime/fast_launch.py);
* ``jit_python``: the same through Triton 3.3's own ``JITFunction.run`` (``TRITON_XPU_FAST_LAUNCH=0``'s path);
* ``launcher``: ``compiled.run(gx, gy, gz, stream, function, ...)``, the call Inductor's generated code makes;
* ``autotuner``: ``kernel.run(*args, grid=grid, warmup=False, ...)``, the call the autotuner's benchmark loop makes;
* ``stock``: stock triton-xpu 3.3.0b1 (PyPI's, unpatched: benchmarks/stock_triton.py) running the same kernel with
  ``kernel[grid](...)`` on its SYCL queue (the stand-in torch's, over dpctl, a test double), in its own process.

Goals: ``jit`` at most 6x ``raw`` (add) and 8x (matmul) on ze, 2x and 2.5x on sycl, and stock's sycl ``jit`` at
least 3x ours.  The NVIDIA anchor (H100, Triton 3.6, vector add: 15.7 µs per ``kernel[grid]`` call) is quoted from
the issue, not measured here.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
from typing import Any, Callable, Dict, List, Tuple

from bench_common import NotMeasured, Tables, device_main, fresh_process_json, sycl_gpu_problem
from launch_overhead import per_launch_us

NVIDIA_ANCHOR_US = {"add": 15.7}
GOALS = {"add": {"ze": 6.0, "sycl": 2.0}, "matmul": {"ze": 8.0, "sycl": 2.5}}
STOCK_GOAL = 3.0


def calls(name: str, alloc: Callable[[int, str], Any]) -> Tuple[Any, Tuple, List, Dict[str, Any]]:
    """(kernel, grid, arguments, constexprs) of case ``name``, its buffers from ``alloc(nbytes, dtype)``."""
    import kernels
    if name == "add":
        n = 1 << 20
        return kernels.add_kernel, (n // 1024, ), [alloc(4 * n, "float32") for _ in range(3)] + [n], {"BLOCK": 1024}
    m = 256
    buffers = [alloc(2 * m * m, "float16") for _ in range(3)]
    return (kernels.matmul_kernel, (m // 64, m // 64), buffers + [m, m, m, m, 1, m, 1, m, 1],
            {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32})


def mean_us(fn: Callable[[], Any], iterations: int, sync: Callable[[], Any]) -> float:
    """µs per call of ``fn``, over one batch of ``iterations`` calls, then ``sync()``."""
    return per_launch_us(fn, iterations, batches=1, sync=sync)


class Usm:
    """A USM allocation as Triton's specialisation and the launcher read it: ``dtype`` and ``data_ptr()``."""

    def __init__(self, memory: Any, dtype: str):
        self.memory, self.dtype = memory, dtype

    def data_ptr(self) -> int:
        return self.memory._pointer


def _raw_args(compiled: Any, args: List) -> List[Tuple[int, Any]]:
    """(size, bytes) of each runtime argument the compiled kernel takes, in order (pointers 8 bytes, ints 4 or 8)."""
    out = []
    for ty, value in zip(compiled.src.signature.values(), args):
        if ty == "constexpr":
            continue
        if ty.startswith("*"):
            out.append((8, struct.pack("<Q", value.data_ptr())))
        else:
            out.append((8, struct.pack("<q", value)) if ty in ("i64", "u64") else (4, struct.pack("<i", value)))
    return out


def _ours(name: str, iterations: int, rounds: int) -> Dict[str, List[float]]:
    import dpctl
    import dpctl.memory as dpm
    from triton.runtime.driver import driver
    from triton.runtime.jit import KernelInterface
    from triton.backends.intel.runtime import level_zero, sycl
    device = driver.active.get_current_device()
    kernel, grid, args, constexprs = calls(name, lambda nbytes, dtype: driver.active.alloc(nbytes, "device", dtype))
    compiled = kernel[grid](*args, **constexprs)
    driver.active.synchronize()
    grid3 = tuple(grid) + (1, ) * (3 - len(grid))
    queue = dpctl.SyclQueue("level_zero:gpu", property="in_order")
    address, _holder = sycl.hold(queue)
    _, _, usm_args, _ = calls(name, lambda nbytes, dtype: Usm(dpm.MemoryUSMDevice(nbytes, queue=queue), dtype))
    everything = list(args) + list(constexprs.values())  # every parameter, as JITFunction.run passes them
    ze_raw = _raw_args(compiled, args)
    sync_ze = driver.active.synchronize
    sync_sycl = lambda: sycl.module().wait(address)
    python_path = KernelInterface.__getitem__(kernel, grid)
    launcher, function, packed = compiled.run, compiled.function, compiled.packed_metadata

    def on_queue(fn):
        def call():
            with driver.active.stream(queue):
                return fn()
        return call

    with driver.active.stream(queue):
        kernel[grid](*usm_args, **constexprs)  # creates the module in the queue's context
        sync_sycl()
    sycl_kernel = sycl.kernel_in(sycl.queue(address), compiled.function).sycl_kernel
    sycl_raw = [value for _, value in _raw_args(compiled, usm_args)]
    group = (compiled.metadata.num_warps * compiled.metadata.threads_per_warp, 1, 1)
    ze = level_zero.runtime().ze

    cases: Dict[str, Callable[[], float]] = {
        "ze_raw": lambda: ze.raw_launch_loop(function, device, *grid3, ze_raw, iterations) / 1e3,
        "ze_jit": lambda: mean_us(lambda: kernel[grid](*args, **constexprs), iterations, sync_ze),
        "ze_jit_python": lambda: mean_us(lambda: python_path(*args, **constexprs), iterations, sync_ze),
        "ze_launcher": lambda: mean_us(lambda: launcher(*grid3, 0, function, packed, None, None, None, *everything),
                                       iterations, sync_ze),
        "ze_autotuner": lambda: mean_us(lambda: kernel.run(*args, grid=grid, warmup=False, **constexprs), iterations,
                                        sync_ze),
        "sycl_raw": lambda: sycl.module().raw_submit_loop(address, sycl_kernel, sycl_raw, grid3, group,
                                                          compiled.metadata.shared or 0, iterations) / 1e3,
        "sycl_launcher": lambda: mean_us(lambda: launcher(*grid3, address, function, packed, None, None, None,
                                                          *usm_args, *constexprs.values()), iterations, sync_sycl),
    }
    results = {case: [] for case in list(cases) + ["sycl_jit"]}
    for _ in range(rounds):  # interleaved: the machine's noise hits every case alike
        for case, run in cases.items():
            results[case].append(run())
            sync_ze()
            sync_sycl()
        with driver.active.stream(queue):
            results["sycl_jit"].append(mean_us(lambda: kernel[grid](*usm_args, **constexprs), iterations, sync_sycl))
    stats = kernel._fast_launch.stats()
    if stats["declined"]:
        raise RuntimeError(f"{name}: the native dispatcher handed {stats['declined']} calls to run: not its path")
    return results


def stock_child(name: str, iterations: str, rounds: str) -> Dict[str, List[float]]:
    """In stock's process: its ``kernel[grid](...)`` on its SYCL queue (the stand-in torch's), µs per call."""
    import dpctl.memory as dpm
    import torch
    import triton
    queue = torch.xpu.current_stream().queue
    kernel, grid, args, constexprs = calls(name, lambda nbytes, dtype: Usm(dpm.MemoryUSMDevice(nbytes, queue=queue),
                                                                           dtype))
    kernel[grid](*args, **constexprs)
    queue.wait()
    times = [mean_us(lambda: kernel[grid](*args, **constexprs), int(iterations), queue.wait)
             for _ in range(int(rounds))]
    return {"stock": times, "version": [triton.__version__]}


def _stock(name: str, iterations: int, rounds: int, target: str) -> List[float]:
    import os
    import stock_triton
    why = stock_triton.problem()
    if why:
        raise NotMeasured(f"per_call: not measured: the baseline, stock triton-xpu, cannot run here: {why}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_", "PYTHONPATH"))}
    env.update(stock_triton.environment(target))
    result = fresh_process_json(__file__, [name, str(iterations), str(rounds)], env, f"stock {name}",
                                python=str(stock_triton.python()))
    return result["stock"]


def row(name: str, ours: Dict[str, List[float]], stock: List[float]) -> Dict[str, Any]:
    med = {case: statistics.median(values) for case, values in ours.items()}
    med["stock"] = statistics.median(stock)
    out: Dict[str, Any] = {"kernel": name}
    out.update({f"{case}_us": round(value, 2) for case, value in med.items()})
    out["ze_jit_vs_raw"] = round(med["ze_jit"] / med["ze_raw"], 2)
    out["ze_goal"] = GOALS[name]["ze"]
    out["sycl_jit_vs_raw"] = round(med["sycl_jit"] / med["sycl_raw"], 2)
    out["sycl_goal"] = GOALS[name]["sycl"]
    out["stock_vs_sycl_jit"] = round(med["stock"] / med["sycl_jit"], 2)
    out["stock_goal"] = STOCK_GOAL
    out["jit_python_vs_jit"] = round(med["ze_jit_python"] / med["ze_jit"], 2)
    out["nvidia_h100_quoted_us"] = NVIDIA_ANCHOR_US.get(name)
    return out


def measure(args: argparse.Namespace) -> Tables:
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero
    problem = sycl_gpu_problem()
    if problem:
        raise NotMeasured(f"per_call: not measured: {problem}")
    level_zero.runtime()  # the emulated device's settings before the SYCL runtime enumerates devices
    target = level_zero.device(driver.active.get_current_device()).target.name
    rows = []
    for name in args.kernels.split(","):
        print(f"per_call: {name}", file=sys.stderr, flush=True)
        rows.append(row(name, _ours(name, args.iterations, args.rounds),
                        _stock(name, args.iterations, args.rounds, target)))
    return Tables({"setup": {"target": target, "iterations": args.iterations, "rounds": args.rounds,
                             "nvidia_anchor": "H100, Triton 3.6, vector add: 15.7 µs (quoted from issue 33)"},
                   "per_call": rows})


def main(argv: List[str] | None = None) -> int:
    return device_main(__doc__, argv, measure, child=stock_child, iterations=2000, rounds=7, kernels="add,matmul")


if __name__ == "__main__":
    sys.exit(main())

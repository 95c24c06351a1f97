"""Loading the native binary vs compiling the same kernel's SPIR-V at load time, on the Level Zero device.

    TRITON_XPU_EMULATE=pvc python benchmarks/load_native_vs_jit.py [--kernels ...] [--repeat 3] [--json]

Per kernel, best of --repeat, all measured in the same run on the same device:

* ``native_load_ms``: the first load of a binary from Triton's cache in a process -- the check of the entry
  the front end read (its length, CRC-32 and launch digest) plus ``load_binary`` (the binary's CRC-32, then
  ZE_MODULE_FORMAT_NATIVE module and kernel creation);
* ``module_create_ms``: the driver's module and kernel creation alone; ``load_vs_create`` is the ratio of the
  two (the goal: at most 3);
* ``full_check_load_ms``: ``load_binary`` of a binary from anywhere else, which gets the full check;
* ``jit_at_load_ms``: the SPIR-V path stock triton-xpu takes (ZE_MODULE_FORMAT_IL_SPIRV at load, plus its
  runtime retry with -cl-intel-256-GRF-per-thread when the kernel spills more than 1000 bytes), and
  ``ratio``, its multiple of ``native_load_ms``.

The loads are measured apart from the SPIR-V compiles (IGC's run evicts every CPU cache), in turn, as a
process loads its kernels one after another; each is a first load of its binary.  Runs on a real Intel GPU or
the emulated device.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any, Dict, List

from bench_common import device_main, measure_each  # noqa: E402  (also puts examples/ on the path)

# The spill size above which stock triton-xpu's driver rebuilds a kernel with 256 GRF at load time.
JIT_SPILL_RETRY_BYTES = 1000
LARGE_GRF = "-cl-intel-256-GRF-per-thread"


def kernel_specs(names: List[str]):
    import kernels
    specs = {n: kernels.SPECS[n] for n in names if n in kernels.SPECS}
    if "matmul_256" in names:
        # 256x256x32 fp16 tiles over 32 sub-groups: spills heavily at 128 GRF.
        base = kernels.SPECS["matmul"]
        specs["matmul_256"] = dataclasses.replace(base, name="matmul_256",
                                                  constexprs={"BLOCK_M": 256, "BLOCK_N": 256, "BLOCK_K": 32},
                                                  options={"num_warps": 32})
    return specs


def jit_at_load_ms(ze, index: int, spirv: bytes, name: str) -> Dict[str, Any]:
    """What the SPIR-V path costs at load: compile, and compile again in 256 GRF if it spills > 1000 bytes."""
    first = ze.compile_spirv(index, spirv, "")
    spill = first["kernels"][name]["spill_mem_size"]
    total = first["ms"]
    retried = spill > JIT_SPILL_RETRY_BYTES
    if retried:
        total += ze.compile_spirv(index, spirv, LARGE_GRF)["ms"]
    return {"ms": total, "spill": spill, "retried": retried}


def measure(spec, repeat: int) -> Dict[str, Any]:
    from triton.runtime.driver import driver
    from triton.runtime.cache import get_cache_manager
    from triton.backends.intel import cache_entry
    from triton.backends.intel.runtime import level_zero
    from triton.backends.intel.binary import digest
    dev = level_zero.device(driver.active.get_current_device())
    ze = level_zero.runtime().ze
    compiled = spec.compile(dev.target.name)
    name = compiled.metadata.name
    native = level_zero.native_binary_for(compiled.asm["zebin"], dev.target)
    utils = driver.active.utils
    group = get_cache_manager(compiled.hash).get_group(f"{name}.json")
    native_ms, full_ms, create_ms, jit = [], [], [], []

    def first_load(accept: bool) -> float:
        level_zero._checked.clear()  # as in a new process: nothing checked or trusted yet
        digest.forget_all()
        start = time.perf_counter()
        # The check of a cache hit runs on the kernel the front end read from the entry.
        if accept and cache_entry.cached_kernel(lambda: compiled, group) is None:
            raise RuntimeError(f"the cache entry of {name} was refused")
        module, function, _, _ = utils.load_binary(name, compiled.asm["zebin"], compiled.metadata.shared, "",
                                                   dev.index)
        ms = (time.perf_counter() - start) * 1e3
        utils.unload_binary(module, function)
        return ms

    def create_only() -> float:
        start = time.perf_counter()
        out = ze.load_native(dev.index, native, name)
        ms = (time.perf_counter() - start) * 1e3
        ze.unload(out["module"], out["kernel"])
        return ms

    loads = [(native_ms, lambda: first_load(accept=True)), (full_ms, lambda: first_load(accept=False)),
             (create_ms, create_only)]
    for _ in range(repeat):
        jit.append(jit_at_load_ms(ze, dev.index, compiled.asm["spv"], name))
    # The loads apart from the compiles (IGC's run evicts every cache), in turn, so each sees the same machine:
    # a process loading its kernels one after another.  Every load is a first load of the binary.
    for i in range(3 * repeat):
        for times, load in loads[i % 3:] + loads[:i % 3]:
            times.append(load())
    best_jit = min(jit, key=lambda j: j["ms"])
    return {"kernel": spec.name, "device": dev.target.name, "grf_mode": compiled.metadata.grf_mode,
            "native_load_ms": round(min(native_ms), 3), "module_create_ms": round(min(create_ms), 3),
            "load_vs_create": round(min(native_ms) / min(create_ms), 2), "full_check_load_ms": round(min(full_ms), 3),
            "jit_at_load_ms": round(best_jit["ms"], 1),
            "jit_retried_256": best_jit["retried"], "ratio": round(best_jit["ms"] / min(native_ms), 1)}


def main(argv: List[str] | None = None) -> int:
    def measure_all(args) -> List[Dict[str, Any]]:
        specs = kernel_specs(args.kernels.split(","))
        return measure_each(specs, lambda name: measure(specs[name], args.repeat))

    return device_main(__doc__, argv, measure_all, kernels="add,softmax,layernorm,matmul,attention,matmul_256",
                       repeat=3)


if __name__ == "__main__":
    sys.exit(main())

"""The two native compilers side by side: ocloc and the Level Zero driver's own compiler.

    TRITON_XPU_EMULATE=pvc python benchmarks/native_compilers.py [--kernels ...] [--repeat 3] [--json]

Per kernel, for the device's target: the zebin stage's ms with each native compiler (every GRF attempt included,
interleaved, best of --repeat), the GRF mode each chose, and whether the device loads each binary natively.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Dict, List

from bench_common import device_main, measure_each  # noqa: E402  (also puts examples/ on the path)

COMPILERS = ("ocloc", "driver")


def measure(name: str, repeat: int) -> Dict[str, Any]:
    import kernels
    from triton.backends.compiler import GPUTarget
    from triton.compiler.compiler import make_backend
    from triton.runtime.driver import driver
    from triton.backends.intel import native
    from triton.backends.intel.runtime import level_zero

    dev = level_zero.device(driver.active.get_current_device())
    spec = kernels.SPECS[name]
    compiled = spec.compile(dev.target.name)
    spirv, md = compiled.asm["spv"], compiled.metadata
    backend = make_backend(GPUTarget("xpu", dev.target.name, 32))
    row: Dict[str, Any] = {"kernel": name, "device": dev.target.name}
    times: Dict[str, List[float]] = {g: [] for g in COMPILERS}
    binaries: Dict[str, bytes] = {}
    meta: Dict[str, Dict[str, Any]] = {}
    for _ in range(repeat):  # interleaved, so both see the same machine load
        for compiler in COMPILERS:
            options = backend.parse_options(dict(spec.options, native_compiler=compiler))
            meta[compiler] = {"name": md.name, "hash": md.hash}
            start = time.perf_counter()
            binaries[compiler] = native.make_zebin(spirv, meta[compiler], options, backend.target_info)
            times[compiler].append((time.perf_counter() - start) * 1e3)
    ze = level_zero.runtime().ze
    for compiler in COMPILERS:
        out = ze.load_native(dev.index, level_zero.native_binary_for(binaries[compiler], dev.target), md.name)
        ze.unload(out["module"], out["kernel"])
        row[f"{compiler}_ms"] = round(min(times[compiler]), 1)
        row[f"{compiler}_grf"] = meta[compiler]["grf_mode"]
        row[f"{compiler}_loads"] = True  # load_native raised otherwise
    row["driver_vs_ocloc"] = round(row["driver_ms"] / row["ocloc_ms"], 2)
    return row


def main(argv: List[str] | None = None) -> int:
    def measure_all(args) -> List[Dict[str, Any]]:
        return measure_each(args.kernels.split(","), lambda name: measure(name, args.repeat))

    return device_main(__doc__, argv, measure_all, kernels="add,softmax,layernorm,sort,matmul", repeat=3)


if __name__ == "__main__":
    sys.exit(main())

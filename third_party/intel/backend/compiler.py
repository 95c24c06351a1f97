"""Triton's compiler backend for Intel GPUs.

Triton loads this file by path, outside any package, so it imports its
siblings absolutely (``triton.backends.intel.<module>``) and defines no
dataclass itself (dataclasses need their module in ``sys.modules``).  Stages: ttir -> ttgir -> llir -> spv
(``pipelines``) -> zebin (``native``, the device's native binary: what the driver loads).
"""

import dataclasses
import functools
import time
from dataclasses import fields
from types import ModuleType
from typing import Any, Callable, Dict

from triton.backends.compiler import BaseBackend, GPUTarget
from triton._C.libtriton import intel

from triton.backends.intel import cache_entry, knobs, native, pipelines, targets
from triton.backends.intel.native import capabilities, compilers
from triton.backends.intel.options import XPUOptions


def min_dot_size(target: targets.TargetInfo):
    """Smallest (M, N, K) a DPAS instruction handles for the given operand types."""
    # M: repeat count (8; 1, 2 and 4 are not used by the backend); N: execution size, the smallest
    # sub-group size; K: systolic depth 8 x operations per channel (32 bits / operand width, <= 8).
    exec_size = min(target.sub_group_sizes)

    def sizes(lhs_type, rhs_type):
        width = max(lhs_type.scalar.primitive_bitwidth, rhs_type.scalar.primitive_bitwidth)
        return (8, exec_size, 8 * min(8, 32 // width))

    return sizes


def _timed(name: str, stage: Callable) -> Callable:
    """Wrap a stage so its wall time lands in ``metadata["stage_ms"][name]``."""

    def run(src, metadata):
        start = time.perf_counter()
        out = stage(src, metadata)
        metadata.setdefault("stage_ms", {})[name] = round((time.perf_counter() - start) * 1e3, 3)
        return out

    return run


class XPUBackend(BaseBackend):

    @staticmethod
    def supports_target(target: GPUTarget) -> bool:
        return target.backend == "xpu"

    def __init__(self, target: GPUTarget) -> None:
        super().__init__(target)
        info = targets.resolve(target.arch)
        if info.has_subgroup_2d_block_io and not capabilities.has_2d_block_write(info.name):
            # This IGC cannot link the 2D block IO Triton would emit (see capabilities.py).
            info = dataclasses.replace(info, has_subgroup_2d_block_io=False)
        if (info.has_subgroup_matrix_multiply_accumulate_tensor_float32
                and not capabilities.has_tf32_dpas(info.name)):
            # This IGC cannot link tf32 DPAS: fp32 dots are computed in IEEE precision instead.
            info = dataclasses.replace(info, has_subgroup_matrix_multiply_accumulate_tensor_float32=False)
        self.target_info = info
        # Kept in the shape of triton-xpu's backend for code that reads it.
        self.properties = self.target_info.properties()
        self.binary_ext = "zebin"
        # Artifacts the front end reads as bytes: the native binary and the SPIR-V it was compiled from.
        self.binary_extensions = {"zebin", "spv"}
        # Checks a cache entry as the front end reads it (see FRONTEND_PATCHES in setup.py).
        self.cached_kernel = cache_entry.cached_kernel

    def parse_options(self, opts: Dict[str, Any]) -> XPUOptions:
        known = {f.name for f in fields(XPUOptions)}
        args = {k: v for k, v in opts.items() if k in known}
        if not self.target_info.has_subgroup_matrix_multiply_accumulate_tensor_float32:
            # Without tf32 DPAS (the device or the installed IGC lacks it) fp32 dots run in IEEE precision;
            # asking for tf32 is Triton's error naming the allowed precisions, not a link failure.
            args.setdefault("default_dot_input_precision", "ieee")
            args.setdefault("allowed_dot_input_precisions", ("ieee", ))
        options = XPUOptions(**args)
        # "auto" becomes the native compiler it means for this target, and the key gets that compiler's version.
        name = compilers.resolve(options.native_compiler, self.target_info.name)
        object.__setattr__(options, "native_compiler", name)
        object.__setattr__(options, "native_compiler_version",
                           compilers.get_compiler(name, self.target_info.name).version())
        return options

    def pack_metadata(self, metadata):
        return metadata

    def jit_compiled(self, src, target: GPUTarget, options: XPUOptions, kernel,
                     launch_keywords: Dict[str, Any]) -> None:
        """The JIT's note of each kernel it compiled or found in Triton's cache (a front-end change, FRONTEND_PATCHES
        in setup.py): with TRITON_XPU_RECORD_KERNELS set, recorded for `triton-xpu fill` (aot/record.py)."""
        if knobs.raw(knobs.RECORD_KERNELS):  # unset: nothing imported, nothing done
            from triton.backends.intel.aot import record
            record.note(self, src, options, kernel, launch_keywords)

    def get_codegen_implementation(self, options) -> Dict[str, Any]:
        from triton.language.extra.intel import convert_custom_float8
        return {
            "convert_custom_types": convert_custom_float8,
            "min_dot_size": min_dot_size(self.target_info),
        }

    def get_module_map(self) -> Dict[str, ModuleType]:
        from triton.language.extra.intel import libdevice
        return {"triton.language.extra.libdevice": libdevice}

    def load_dialects(self, ctx) -> None:
        intel.load_dialects(ctx)

    def add_stages(self, stages: Dict[str, Any], options: XPUOptions) -> None:
        target = self.target_info
        libdevice = [path for _, path in options.extern_libs]
        stages["ttir"] = _timed("ttir", lambda src, metadata: pipelines.make_ttir(src, metadata, options))
        stages["ttgir"] = _timed("ttgir", lambda src, metadata: pipelines.make_ttgir(src, metadata, options, target))
        stages["llir"] = _timed("llir", lambda src, metadata: pipelines.make_llir(src, metadata, options, libdevice))
        stages["spv"] = _timed("spv", lambda src, metadata: pipelines.make_spv(src, metadata, options, target))
        stages["zebin"] = _timed("zebin", lambda src, metadata: native.make_zebin(src, metadata, options, target))

    @functools.lru_cache()
    def hash(self) -> str:
        # The target as this IGC can serve it (capabilities included).  The native compiler and its version are in
        # the options (native_compiler, native_compiler_version), so hashing starts no Level Zero driver.
        return f"intel-{self.target_info}"


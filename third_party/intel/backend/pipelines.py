"""The MLIR/LLVM pass pipelines of the Intel backend: TTIR -> TTGIR -> LLVM IR -> SPIR-V.

Each function takes the previous stage's module and returns the next one,
filling ``metadata`` as it learns things.  They run libtriton's passes (the
Intel ones from ``libtriton.intel``); none of them needs a GPU.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

from triton._C.libtriton import ir, passes, llvm, intel

from triton.backends.intel.targets import TargetInfo

# The SPIR-V module's target triple family; the device is chosen by the native stage.
SPIRV_ARCH = "spir64"


def _pass_manager(mod) -> Any:
    pm = ir.pass_manager(mod.context)
    pm.enable_debug()  # honours MLIR_ENABLE_DUMP and friends, as in every Triton backend
    return pm


def _enable_remarks(mod) -> None:
    if os.environ.get("MLIR_ENABLE_REMARK", "0") == "1":
        ir.source_mgr_diag(llvm.source_mgr(), mod.context)
        mod.context.printOpOnDiagnostic(True)


def _block_pointer_raising() -> Tuple[bool, bool]:
    """(enabled, ignore_masks) from TRITON_INTEL_RAISE_BLOCK_POINTER ("1" or "ignore-masks")."""
    flags = os.getenv("TRITON_INTEL_RAISE_BLOCK_POINTER", "0").split(":")
    ignore_masks = "ignore-masks" in flags
    return ("1" in flags or ignore_masks), ignore_masks


def make_ttir(mod, metadata: Dict[str, Any], opt) -> Any:
    """Target-independent clean-up of the Triton IR."""
    pm = _pass_manager(mod)
    passes.common.add_inliner(pm)
    passes.ttir.add_combine(pm)
    intel.passes.ttir.add_remove_masks(pm)
    raise_block_ptr, ignore_masks = _block_pointer_raising()
    if raise_block_ptr:
        intel.passes.ttir.add_raise_block_pointer(pm, ignore_masks)
    passes.common.add_canonicalizer(pm)
    passes.ttir.add_reorder_broadcast(pm)
    passes.common.add_cse(pm)
    passes.common.add_licm(pm)
    passes.common.add_symbol_dce(pm)
    passes.ttir.add_loop_unroll(pm)
    pm.run(mod)
    return mod


def _annotate_module(mod, opt, target: TargetInfo) -> None:
    """Record the device's capabilities on the module; later Intel passes read them from there."""
    pm = _pass_manager(mod)
    intel.passes.ttgpuir.add_triton_annotate_module(pm, min(target.sub_group_sizes),
                                                    target.has_subgroup_2d_block_io,
                                                    target.has_subgroup_matrix_multiply_accumulate,
                                                    target.has_bfloat16_conversions, opt.threads_per_warp,
                                                    SPIRV_ARCH)
    pm.run(mod)


def make_ttgir(mod, metadata: Dict[str, Any], opt, target: TargetInfo) -> Any:
    """Distribute the kernel over sub-groups and lanes, and optimise layouts for the device."""
    _enable_remarks(mod)
    _annotate_module(mod, opt, target)
    # The annotation may pick another sub-group size than asked (e.g. 16 for DPAS on PVC).
    opt.threads_per_warp = intel.get_threads_per_warp(mod)

    pm = _pass_manager(mod)
    passes.ttir.add_convert_to_ttgpuir(pm, "xpu", opt.num_warps, opt.threads_per_warp, opt.num_ctas)
    intel.passes.ttgpuir.add_coalesce(pm)
    intel.passes.ttgpuir.add_remove_layout_conversions(pm)
    intel.passes.ttgpuir.add_accelerate_matmul(pm)
    intel.passes.ttgpuir.add_remove_layout_conversions(pm)
    intel.passes.ttgpuir.add_materialize_block_pointer(pm)
    intel.passes.ttgpuir.add_pipeline(pm, opt.num_stages, False)
    # Triton's common TTGIR optimisations.
    passes.ttgpuir.add_fuse_nested_loops(pm)
    passes.ttgpuir.add_optimize_thread_locality(pm)
    passes.ttgpuir.add_optimize_dot_operands(pm, True)
    passes.common.add_cse(pm)
    passes.ttgpuir.add_prefetch(pm)
    passes.ttgpuir.add_optimize_dot_operands(pm, True)
    if os.getenv("TRITON_INTEL_OPTIMIZE_REDUCTION_LOCALITY", "0") == "1":
        intel.passes.ttgpuir.add_optimize_reduction_locality(pm)
    intel.passes.ttgpuir.add_remove_layout_conversions(pm)
    intel.passes.ttgpuir.add_reduce_data_duplication(pm)
    passes.ttgpuir.add_reorder_instructions(pm)
    passes.common.add_cse(pm)
    passes.common.add_symbol_dce(pm)
    passes.common.add_canonicalizer(pm)
    # Devices compute bf16 arithmetic in f32.
    intel.passes.arith.add_arith_emulate_unsupported_floats(pm, ["bf16"], "f32")
    pm.run(mod)
    metadata["cluster_dims"] = tuple(opt.cluster_dims)
    # Whether the kernel will probably spill: the zebin stage may then compile two GRF modes at once.
    metadata["register_demand"] = register_demand(str(mod), opt.num_warps)
    return mod


def make_llir(src, metadata: Dict[str, Any], opt, libdevice_paths: List[str]) -> str:
    """Lower TTGIR to LLVM IR for the SPIR-V target, linked with libdevice and optimised at O3."""
    warp_groups = src.get_int_attr("ttg.num-warp-groups-per-cta")
    if warp_groups is not None:
        metadata["num_warps"] *= warp_groups
    metadata["threads_per_warp"] = intel.get_threads_per_warp(src)
    _enable_remarks(src)

    pm = _pass_manager(src)
    intel.passes.ttgpuir.add_decompose_unsupported_conversions(pm)
    passes.convert.add_scf_to_cf(pm)
    passes.convert.add_index_to_llvmir(pm)
    passes.ttgpuir.add_allocate_shared_memory(pm)
    intel.passes.ttgpuir.add_to_llvmir(pm, False, opt.one_matrix_per_load_for_bt)
    intel.passes.ttgpuir.add_rewrite_stack_ptr(pm)
    intel.set_fast_math(src)
    passes.convert.add_arith_to_llvmir(pm)
    passes.common.add_canonicalizer(pm)
    passes.common.add_cse(pm)
    passes.common.add_symbol_dce(pm)
    if os.environ.get("TRITON_DISABLE_LINE_INFO", "0") == "0":
        passes.llvmir.add_di_scope(pm)
    pm.run(src)

    llvm.init_targets()
    context = llvm.context()
    llvm_mod = llvm.to_module(src, context)
    intel.set_spv_target_triple(llvm_mod)
    if libdevice_paths:
        llvm.link_extern_libs(llvm_mod, libdevice_paths)
    intel.optimize_module(llvm_mod, llvm.OPTIMIZE_O3)
    intel.post_process_llir(llvm_mod)
    metadata["shared"] = src.get_int_attr("ttg.shared")
    text = str(llvm_mod)
    # Free the LLVM module before its context.
    del llvm_mod
    del context
    return text


def make_spv(src: str, metadata: Dict[str, Any], opt, target: TargetInfo) -> bytes:
    """Translate LLVM IR to a SPIR-V module; the kernel's name comes back with it."""
    spirv, name = intel.translate_to_spirv(src)
    metadata["name"] = name
    metadata["target_arch"] = target.name
    return spirv


# --------------------------------------------------------------------------------------------
# The TTGIR's register demand (metadata.register_demand), which the zebin stage's spill forecast reads
# (native/spill_forecast.py says how it was measured and what it decides).

_ELEMENT_BYTES = {"i1": 1, "i8": 1, "f8E4M3FN": 1, "f8E5M2": 1, "f8E4M3FNUZ": 1, "f8E5M2FNUZ": 1, "i16": 2,
                  "f16": 2, "bf16": 2, "i32": 4, "f32": 4, "i64": 8, "f64": 8}
_POINTER_BYTES = 8
# A ranked tensor type: its shape and its element type (a scalar or a pointer to one).
_TENSOR = re.compile(r"tensor<((?:\d+x)+)(!tt\.ptr<(\w+)>|\w+)")


def _element_bytes(name: str) -> int:
    return _ELEMENT_BYTES.get(name, 4)


def _tensor_bytes(shape: str, element: str, pointee: Optional[str], loaded: bool) -> int:
    count = 1
    for dim in shape.rstrip("x").split("x"):
        count *= int(dim)
    if pointee is None:
        return count * _element_bytes(element)
    return count * (_element_bytes(pointee) if loaded else _POINTER_BYTES)


def _types_of(line: str) -> str:
    """The type part of an op's line: after its last " : ", without its location."""
    return line.split(" loc(")[0].rsplit(" : ", 1)[-1]


def register_demand(ttgir: str, num_warps: int) -> int:
    """Bytes per hardware thread the kernel's dots or loads need in registers (see the module docstring)."""
    dots = loads = 0
    for line in ttgir.splitlines():
        if " tt.dot " in line:
            dots += sum(_tensor_bytes(m[1], m[2], m[3], False) for m in _TENSOR.finditer(_types_of(line)))
        elif " tt.load " in line:
            first = _TENSOR.search(_types_of(line))  # the pointer operand's type, or a block pointer's tensor
            if first:
                loads += _tensor_bytes(first[1], first[2], first[3], True)
    return max(dots, loads) // max(1, num_warps)

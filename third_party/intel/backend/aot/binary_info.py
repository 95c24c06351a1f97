"""What a zebin or an ocloc fat binary holds, per target and kernel, as ``triton-xpu info`` shows it (like
``cuobjdump --dump-resource-usage``): each device binary read and checked as the loader does."""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional

from triton.backends.intel import targets
from triton.backends.intel.binary import fatbin, validate, zebin
from triton.backends.intel.binary.zebin import KernelInfo
from triton.backends.intel.errors import ZebinFormatError


def device_binaries(path: str, data: bytes, force: bool = False) -> List[Dict[str, Any]]:
    """[{device, member, data, parsed}] of a zebin or an ocloc fat binary, each read and checked as the loader
    does; ZebinFormatError naming the file and the fault for anything the loader refuses.  With ``force``, a
    binary that reads but fails the loader's checks is shown anyway, after a warning naming the fault."""
    try:
        if fatbin.is_fat_binary(data):
            entries = [{"device": device, "member": member, "data": body}
                       for device, member, body in fatbin.device_members(data)]
            if not entries:
                raise ZebinFormatError("fat binary without device binaries")
        else:
            entries = [{"device": None, "member": None, "data": data}]
        for entry in entries:
            where = f"{path} ({entry['device']})" if entry["device"] else path
            parsed = zebin.read(entry["data"])
            try:
                entry["parsed"] = validate.check(parsed)
            except ZebinFormatError as e:
                if not force:
                    raise
                warnings.warn(f"{where}: the driver would refuse it: {e}")
                entry["parsed"] = parsed
        return entries
    except ZebinFormatError as e:
        raise ZebinFormatError(f"{path}: {e}") from None


def _device_of_ip(parsed) -> Optional[str]:
    """The target the zebin's product-config note (IGC 2) names, where the table has it: a product family may hold
    several (Battlemage G21 and G31 are both ``bmg``)."""
    ip = parsed.product_config_version
    name = targets.device_of_ip(ip) if ip else None
    return name if name in targets.TARGETS else None


def device_label(parsed, device: Optional[str]) -> str:
    device = device or _device_of_ip(parsed)
    if device:
        return device
    family = parsed.product_family_name
    matches = [t.name for t in targets.TARGETS.values() if family and t.product_family == family]
    if len(matches) == 1:
        return matches[0]
    if matches:
        return f"{family} ({'/'.join(matches)})"
    return family or f"product family {parsed.product_family}"


def _family_text(parsed, device: Optional[str]) -> str:
    try:
        return targets.lookup(device or _device_of_ip(parsed) or parsed.product_family_name or "").family
    except Exception:
        for t in targets.TARGETS.values():
            if t.product_family == parsed.product_family_name:
                return t.family
        return "unknown family"


def _arguments(kernel) -> List[Dict[str, Any]]:
    """A kernel's explicit arguments, one entry per index (pointers have stateful and stateless entries)."""
    info = {a.get("index"): a for a in kernel.arg_info}
    by_index: Dict[int, List[Any]] = {}
    for a in kernel.explicit_arguments:
        by_index.setdefault(a.arg_index, []).append(a)
    out = []
    for index in sorted(i for i in by_index if i is not None):
        entries = by_index[index]
        first = entries[0]
        misc = info.get(index, {})
        type_name = str(misc.get("type_name", "")).rpartition(";")[0] or str(misc.get("type_name", "")) or None
        quals = str(misc.get("type_qualifiers", "") or "")
        if type_name and "const" in quals.split() and first.kind == "arg_bypointer":
            type_name = f"const {type_name}"
        local = first.addrspace == "local"
        declared = str(misc.get("type_name", "")).rpartition(";")[2]
        modes = sorted({e.addrmode for e in entries if e.addrmode})
        out.append({
            "index": index,
            "kind": "shared memory" if local else ("pointer" if first.kind == "arg_bypointer" else "value"),
            "addrspace": first.addrspace,
            "access": first.access_type,
            "addrmode": "+".join(modes) or None,  # stateless (a 64-bit address), stateful (a surface), slm
            "size": int(declared) if declared.isdigit() else max(e.size for e in entries),
            "type": type_name,
        })
    return out


def kernel_summary(k: KernelInfo) -> Dict[str, Any]:
    """What a kernel of a binary uses: the one serialisation of KernelInfo (``info --json`` and ``NAME.json``)."""
    return {
        "name": k.name,
        "simd_width": k.simd_width,
        # The sub-group size the kernel was compiled for and must be launched with (.ze_info's
        # intel_reqd_sub_group_size, or execution_env.required_sub_group_size); None if it requires none.  A
        # SYCL launcher sizes work-groups from it: PyTorch's launchKernel takes num_warps x the kernel's
        # compile_sub_group_size (zeKernelGetProperties' requiredSubgroupSize, which NEO 26 reads from here;
        # NEO 22.43 reports 0 there, and PyTorch then assumes 32).
        "required_sub_group_size": k.required_subgroup_size,
        "grf_count": k.grf_count,
        "spill_bytes": k.spill_bytes,
        "spill_source": k.spill_source,
        "scratch_bytes": k.scratch_bytes,
        "private_bytes": k.private_bytes,
        "slm_bytes": k.slm_bytes,
        "barrier_count": k.barrier_count,
        "has_dpas": k.has_dpas,
        "code_bytes": k.text_bytes,
        "arguments": _arguments(k),
    }


def inspect_binary(path: str, data: bytes, force: bool = False) -> Dict[str, Any]:
    """Every target and kernel of the zebin or fat binary ``data`` (read from ``path``)."""
    fat = fatbin.is_fat_binary(data)
    result = {"file": path, "format": "fat" if fat else "zebin", "bytes": len(data), "targets": []}
    for entry in device_binaries(path, data, force):
        parsed = entry["parsed"]
        kernels = [kernel_summary(k) for k in parsed.kernels]
        result["targets"].append({
            "device": device_label(parsed, entry["device"]),
            "family": _family_text(parsed, entry["device"]),
            "member": entry["member"],
            "product_family": parsed.product_family_name,
            "zebin_bytes": len(entry["data"]),
            "zeinfo_version": parsed.zeinfo_version,
            # The SPIR-V the zebin embeds (.spv, kept only with keep_ir): with it NEO silently recompiles the
            # binary on a device it was not compiled for; without it every loader refuses such a load.
            "ir_bytes": len(parsed.spirv) if parsed.spirv is not None else None,
            "kernels": kernels,
        })
    return result

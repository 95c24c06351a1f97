"""What the installed native compiler (IGC, through ocloc) can do for a target, probed once and cached.

The target table says what the hardware has; an older IGC may still lack the builtins Triton's Intel passes
call for it.  IGC 1.0.12504 (Debian 12) has no 2D block *write* builtins for pvc: a kernel storing through
a block pointer compiles, but its zebin calls an undefined function and the driver refuses to create the
kernel.  It also lacks the tf32 DPAS builtin an fp32 ``tl.dot`` calls on pvc.  Where a probe finds a builtin
missing, the backend compiles as for a device without the feature: without 2D block IO, or with fp32 dots
in IEEE precision (no tf32).
"""

from __future__ import annotations

import functools
import hashlib
from typing import List, Optional

from triton.backends.intel.native import compiler_identity, ocloc
from triton.backends.intel.binary import zebin
from triton.backends.intel.errors import ZebinFormatError

# One 2D block write, declared overloadable so it gets the mangled name Triton's lowering calls.
BLOCK_WRITE_PROBE = """
__attribute__((overloadable)) void intel_sub_group_2d_block_write_16b_8r16x1c(
    __global void* base, int width, int height, int pitch, int2 coord, ushort* val);
__attribute__((intel_reqd_sub_group_size(16)))
__kernel void probe(__global ushort* p) {
  ushort v = 1;
  intel_sub_group_2d_block_write_16b_8r16x1c(p, 64, 8, 64, (int2)(0, 0), &v);
}
"""

# One tf32 DPAS, the builtin Triton's lowering calls for an fp32 dot in tf32 (IGC 1.0.12504 lacks it).
TF32_DPAS_PROBE = """
__attribute__((overloadable)) float8 intel_sub_group_tf32_tf32_matrix_mad_k8(float4 a, float8 b, float8 acc);
__attribute__((intel_reqd_sub_group_size(16)))
__kernel void probe(__global float* p) {
  int i = get_global_id(0);
  float4 a = vload4(i, p);
  float8 b = vload8(i, p);
  vstore8(intel_sub_group_tf32_tf32_matrix_mad_k8(a, b, b), i, p);
}
"""


def missing_builtins(device: str, source: str) -> Optional[List[str]]:
    """The functions the installed IGC leaves undefined compiling OpenCL C ``source`` for ``device`` (besides
    those the driver resolves), or None when the probe itself fails.  Runs ocloc as compiles do."""
    _, result = ocloc.short_job(["compile", "-q", "-file", "probe.cl", "-device", device, "-internal_options",
                                 "-cl-intel-allow-zebin", "-output", ocloc.OUTPUT_NAME, "-output_no_suffix"],
                                {"probe.cl": source.encode() + b"\0"})  # libocloc reads text up to a NUL
    binary = ocloc.binary_output(result.outputs)
    if result.died or result.code != 0 or binary is None:
        return None
    try:
        return zebin.read(binary).undefined_symbols
    except ZebinFormatError:
        return None


def _links(device: str, name: str, source: str) -> bool:
    """Whether the installed IGC links ``source`` for ``device`` (True when there is no working ocloc for the
    device to ask, or the probe fails: then the target table stands).  Asked once per installed compiler
    (compiler_identity): a later process reads the answer from Triton's cache and starts no ocloc."""
    def probe() -> Optional[bool]:
        if ocloc.device_support(device) is not None:
            return None  # nothing to probe with; choosing the native compiler reports why
        missing = missing_builtins(device, source)
        return None if missing is None else not missing

    linked = compiler_identity.remembered(f"{name} {device} {hashlib.sha256(source.encode()).hexdigest()[:16]}",
                                          probe, keep=lambda answer: answer is not None)
    return True if linked is None else bool(linked)


@functools.lru_cache(maxsize=None)
def has_2d_block_write(device: str) -> bool:
    """Whether the installed IGC resolves the 2D block write builtins for ``device`` (True if unknown)."""
    return _links(device, "has_2d_block_write", BLOCK_WRITE_PROBE)


@functools.lru_cache(maxsize=None)
def has_tf32_dpas(device: str) -> bool:
    """Whether the installed IGC resolves the tf32 DPAS builtin for ``device`` (True if unknown)."""
    return _links(device, "has_tf32_dpas", TF32_DPAS_PROBE)

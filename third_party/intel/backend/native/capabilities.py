"""What the installed native compiler (IGC, through ocloc) can do for a target: known for released compilers
(``known_compilers``), else probed once and cached.

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
from typing import Dict, List, Optional

from triton.backends.intel import targets
from triton.backends.intel.native import compiler_identity, known_compilers, ocloc
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


def question(name: str, device: str, source: str) -> str:
    """How a probe's answer is asked for (the cache and known_compilers' rows): its name, the device and a digest
    of its source, so that a changed probe is asked again."""
    return f"{name} {device} {hashlib.sha256(source.encode()).hexdigest()[:16]}"


def probe(device: str, source: str) -> Optional[bool]:
    """Whether the installed IGC links ``source`` for ``device``, asked of ocloc itself; None when there is no
    working ocloc for the device to ask, or the probe fails."""
    if ocloc.device_support(device) is not None:
        return None  # nothing to probe with; choosing the native compiler reports why
    missing = missing_builtins(device, source)
    return None if missing is None else not missing


def _links(device: str, name: str, source: str) -> bool:
    """Whether the installed IGC links ``source`` for ``device`` (True when there is no working ocloc for the
    device to ask, or the probe fails: then the target table stands).  A released compiler's answer is known
    without a process (known_compilers); any other is asked once per installed compiler (compiler_identity): a
    later process reads the answer from Triton's cache and starts no ocloc."""
    asked = question(name, device, source)
    known = known_compilers.answer(asked)
    if known is not None:
        return known
    linked = compiler_identity.remembered(asked, lambda: probe(device, source), keep=lambda answer: answer is not None)
    return True if linked is None else bool(linked)


# Each probe by the name its answer is asked under: its source, and the target flag that makes the backend ask it.
PROBES = {
    "has_2d_block_write": (BLOCK_WRITE_PROBE, "has_subgroup_2d_block_io"),
    "has_tf32_dpas": (TF32_DPAS_PROBE, "has_subgroup_matrix_multiply_accumulate_tensor_float32"),
}


def measured_answers() -> Dict[str, bool]:
    """Every answer the installed compiler gives, asked of ocloc itself (no known row, no cache): each probe for
    each target whose flag makes the backend ask it, where the installed ocloc can probe it.  What a row of
    known_compilers holds; minutes of probes, for the tool that writes rows and the test that re-derives them."""
    answers: Dict[str, bool] = {}
    for name, (source, flag) in PROBES.items():
        for info in targets.TARGETS.values():
            if getattr(info, flag):
                linked = probe(info.name, source)
                if linked is not None:
                    answers[question(name, info.name, source)] = linked
    return answers


@functools.lru_cache(maxsize=None)
def has_2d_block_write(device: str) -> bool:
    """Whether the installed IGC resolves the 2D block write builtins for ``device`` (True if unknown)."""
    return _links(device, "has_2d_block_write", BLOCK_WRITE_PROBE)


@functools.lru_cache(maxsize=None)
def has_tf32_dpas(device: str) -> bool:
    """Whether the installed IGC resolves the tf32 DPAS builtin for ``device`` (True if unknown)."""
    return _links(device, "has_tf32_dpas", TF32_DPAS_PROBE)

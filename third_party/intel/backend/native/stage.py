"""The zebin stage: SPIR-V in, the device's native binary out, its GRF mode chosen by the one policy.

Runs after ``pipelines.make_spv``, on no GPU (with ``native_compiler`` ocloc).  It picks the native compiler
the options name, lets the spill forecast decide whether the larger register file's compile starts early,
runs the GRF policy, and fills the metadata the driver and users read (``grf_mode``, ``spill_bytes``,
``grf_attempts``, ...) before sealing the cache entry.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from triton.backends.intel import cache_entry
from triton.backends.intel.errors import CompilationError
from triton.backends.intel.native import compilers, grf_policy, spill_forecast
from triton.backends.intel.options import XPUOptions
from triton.backends.intel.targets import TargetInfo


def make_zebin(spirv: bytes, metadata: Dict[str, Any], options: XPUOptions, target: TargetInfo) -> bytes:
    """Compile ``spirv`` to a zebin for ``target`` under the GRF policy; record the outcome in ``metadata``."""
    compiler = compilers.get_compiler(options.native_compiler, target.name, options.keep_ir)
    # metadata.register_demand: measured on the TTGIR by pipelines.make_ttgir.
    early = spill_forecast.start_larger_mode_early(metadata.get("register_demand"), target)
    try:
        selection = grf_policy.select_binary(spirv, metadata["name"], target, options.num_warps, options.grf_mode,
                                             options.grf_spill_threshold, compiler, options.grf_min_gain,
                                             speculate=early)
    except CompilationError as e:
        # Triton's cache already holds this kernel's SPIR-V: point the repro command at it.
        spv = _cached_spirv_path(metadata)
        raise CompilationError(f"{metadata['name']} for {target.name}: {str(e).splitlines()[0]}", e.log,
                               e.repro.replace(" kernel.spv", f" {spv}") if spv else e.repro) from None
    kept = selection.attempt
    metadata.update(
        grf_mode_requested=options.grf_mode,
        grf_mode=kept.grf_mode,
        build_flags=kept.flags,
        n_regs=kept.n_regs,
        spill_bytes=kept.spill_bytes,
        spill_source=kept.spill_source,
        scratch_bytes=kept.scratch_bytes,
        grf_attempts=[a.as_dict() for a in selection.attempts],
        grf_early_attempt=selection.early.as_dict() if selection.early else None,
        native_compiler=compiler.name,
        native_compiler_version=options.native_compiler_version or compiler.version(),
    )
    cache_entry.seal(metadata, selection.binary, selection.zebin)
    return selection.binary


def _cached_spirv_path(metadata: Dict[str, Any]) -> Optional[str]:
    from triton.runtime.cache import get_cache_manager
    try:
        return get_cache_manager(metadata["hash"]).get_file(f"{metadata['name']}.spv")
    except Exception:  # the repro is a convenience; never mask the compile error
        return None

"""The Intel backend's compile options (``triton.compile(..., options=...)`` and kernel launch keywords)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Tuple

from triton.backends.intel import knobs

_LIBDEVICE = "libsycl-spir64-unknown-unknown.bc"
GRF_MODES = ("default", "auto", "128", "256", "512")
# triton-xpu's spellings.
GRF_MODE_ALIASES = {"small": "128", "large": "256", "": "default", "none": "default"}
DEFAULT_MIN_GAIN = 0.1


def parse_grf_mode(mode: Any) -> str:
    """The canonical spelling of a grf_mode option; ValueError for anything else."""
    text = str(mode).strip().lower() if mode is not None else "default"
    text = GRF_MODE_ALIASES.get(text, text)
    if text not in GRF_MODES:
        raise ValueError(f"invalid grf_mode {mode!r}: expected one of {', '.join(GRF_MODES)} "
                         f"(or triton-xpu's 'small'/'large')")
    return text


def _is_fraction(value: float) -> bool:
    return 0.0 <= value <= 1.0


def _default_libdevice() -> str:
    return os.getenv("TRITON_LIBDEVICE_PATH", str(Path(__file__).resolve().parent / "lib" / _LIBDEVICE))


@dataclass
class XPUOptions:
    num_warps: int = 4
    num_ctas: int = 1
    num_stages: int = 2
    cluster_dims: tuple = (1, 1, 1)
    threads_per_warp: int = 32
    optimize_epilogue: bool = False
    enable_fp_fusion: bool = True
    launch_cooperative_grid: bool = False
    supported_fp8_dtypes: Tuple[str, ...] = ("fp8e5", "fp8e4nv", "fp8e4b15")
    deprecated_fp8_dtypes: Tuple[str, ...] = ()
    default_dot_input_precision: str = "tf32"
    allowed_dot_input_precisions: Tuple[str, ...] = ("tf32", "tf32x3", "ieee")
    allow_fp8e4nv: bool = True
    allow_fp8e4b15: bool = True
    max_num_imprecise_acc_default: int = 0
    extern_libs: dict = None
    debug: bool = False
    backend_name: str = "intel"
    sanitize_overflow: bool = False
    one_matrix_per_load_for_bt: bool = False
    # Register file: "default" lets the GRF policy choose (retry with a larger file when the kernel
    # spills); "128", "256", "512" or "auto" (IGC decides per kernel) are obeyed as given.
    grf_mode: str = "default"
    # Spill bytes above which the policy retries with a larger register file;
    # default TRITON_XPU_GRF_SPILL_THRESHOLD, else 0.
    grf_spill_threshold: Optional[int] = None
    # The cut in spill bytes (a fraction) a larger register file must bring to be kept over the default one;
    # default TRITON_XPU_GRF_MIN_GAIN, else 0.1.
    grf_min_gain: Optional[float] = None
    # What turns SPIR-V into a native binary: "ocloc", "driver" (the Level Zero driver's compiler, on a device
    # of the target) or "auto"; default TRITON_XPU_NATIVE_COMPILER, else "auto".
    native_compiler: Optional[str] = None
    # Filled by XPUBackend.parse_options: the chosen native compiler's version (ocloc and IGC, or the driver), so that
    # the cache key names the compiler that made the binary and an upgrade never reuses a stale one.
    native_compiler_version: str = ""
    # PyTorch's Inductor passes it (upstream: False ships SPIR-V for the driver to compile at load).  Here the
    # binary is always native; the value given is recorded in the metadata.
    generate_native_code: bool = True
    # Whether the zebin keeps the SPIR-V it was compiled from (its .spv section).  Default False, from
    # TRITON_XPU_KEEP_IR: without IR a binary loaded on a device it was not compiled for is refused by every
    # loader, where with it NEO silently recompiles the SPIR-V (a JIT at load, the cost native code avoids).
    # Part of the cache key, like every option.
    keep_ir: Optional[bool] = None

    def __post_init__(self):
        libs = dict(self.extern_libs or {})
        libs.setdefault("libdevice", _default_libdevice())
        if not libs["libdevice"]:
            libs["libdevice"] = _default_libdevice()
        object.__setattr__(self, "extern_libs", tuple(libs.items()))
        object.__setattr__(self, "grf_mode", parse_grf_mode(self.grf_mode))
        if self.grf_spill_threshold is None:
            object.__setattr__(self, "grf_spill_threshold", knobs.number(
                knobs.GRF_SPILL_THRESHOLD, 0, "an integer (bytes of spill tolerated before a GRF retry)", int))
        if self.grf_min_gain is None:
            object.__setattr__(self, "grf_min_gain", knobs.number(
                knobs.GRF_MIN_GAIN, DEFAULT_MIN_GAIN, "a fraction between 0 and 1 (the cut in spill bytes a larger "
                "register file must bring to be kept, e.g. 0.1)", valid=_is_fraction))
        elif not _is_fraction(float(self.grf_min_gain)):
            raise ValueError(f"grf_min_gain must be a fraction between 0 and 1, got {self.grf_min_gain!r}")
        if self.keep_ir is None:
            object.__setattr__(self, "keep_ir", knobs.flag(knobs.KEEP_IR, False, "whether zebins keep the SPIR-V "
                                                           "they were compiled from, for the driver's fallback"))
        object.__setattr__(self, "keep_ir", bool(self.keep_ir))
        if self.native_compiler is None:
            object.__setattr__(self, "native_compiler", knobs.raw(knobs.NATIVE_COMPILER) or "auto")
        if self.num_warps <= 0 or (self.num_warps & (self.num_warps - 1)) != 0:
            raise ValueError(f"num_warps must be a power of 2, got {self.num_warps}")

    def hash(self) -> str:
        key = "_".join(f"{name}-{value}" for name, value in self.__dict__.items())
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

"""The Intel backend's compile options (``triton.compile(..., options=...)`` and kernel launch keywords)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

_LIBDEVICE = "libsycl-spir64-unknown-unknown.bc"


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

    def __post_init__(self):
        libs = dict(self.extern_libs or {})
        libs.setdefault("libdevice", _default_libdevice())
        if not libs["libdevice"]:
            libs["libdevice"] = _default_libdevice()
        object.__setattr__(self, "extern_libs", tuple(libs.items()))
        if self.num_warps <= 0 or (self.num_warps & (self.num_warps - 1)) != 0:
            raise ValueError(f"num_warps must be a power of 2, got {self.num_warps}")

    def hash(self) -> str:
        key = "_".join(f"{name}-{value}" for name, value in self.__dict__.items())
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

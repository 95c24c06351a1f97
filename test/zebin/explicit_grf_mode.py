# An explicit grf_mode is obeyed as given and never retried, even where the kernel spills.
# RUN: %python %s 128 | FileCheck %s --check-prefix=SMALL
# RUN: %python %s 256 | FileCheck %s --check-prefix=LARGE

# SMALL: attempts 1
# SMALL-NEXT: chosen: grf 128 flags '-cl-intel-128-GRF-per-thread' spill {{[1-9][0-9]*}}
# LARGE: attempts 1
# LARGE-NEXT: chosen: grf 256 flags '-cl-intel-256-GRF-per-thread' spill {{[0-9]+}}

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import kernels  # noqa: E402

spec = dataclasses.replace(kernels.SPECS["layernorm"], constexprs={"BLOCK": 8192},
                           options={"num_warps": 8, "grf_mode": sys.argv[1]})
md = spec.compile("pvc").metadata
print(f"attempts {len(md.grf_attempts)}")
print(f"chosen: grf {md.grf_mode} flags {md.build_flags!r} spill {md.spill_bytes}")

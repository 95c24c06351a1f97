# The GRF policy on pvc: a layernorm row of 8192 floats over 8 sub-groups spills at the default 128 registers
# (IGC 1 and 2), so the zebin stage compiles again with 256, which spills less, and keeps that binary; a vector add does not spill and compiles once.
# RUN: %python %s layernorm | FileCheck %s --check-prefix=SPILL
# RUN: %python %s add | FileCheck %s --check-prefix=NOSPILL

# SPILL: attempt 1: grf 128 flags '' spill {{[1-9][0-9]*}}
# SPILL-NEXT: attempt 2: grf 256 flags '-cl-intel-256-GRF-per-thread' spill {{[0-9]+}}
# SPILL-NEXT: attempt 2 spills less: True
# SPILL-NEXT: chosen: grf 256 flags '-cl-intel-256-GRF-per-thread'
# SPILL-NEXT: zebin: layernorm_kernel grf_count 256 for pvc

# NOSPILL: attempt 1: grf 128 flags '' spill 0
# NOSPILL-NOT: attempt 2
# NOSPILL: chosen: grf 128 flags ''
# NOSPILL-NEXT: zebin: add_kernel grf_count 128 for pvc

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import kernels  # noqa: E402
from triton.backends.intel.binary import zebin  # noqa: E402

spec = kernels.SPECS[sys.argv[1]]
if spec.name == "layernorm":
    spec = dataclasses.replace(spec, constexprs={"BLOCK": 8192}, options={"num_warps": 8})
compiled = spec.compile("pvc")
md = compiled.metadata
for i, a in enumerate(md.grf_attempts, 1):
    print(f"attempt {i}: grf {a['grf_mode']} flags {a['flags']!r} spill {a['spill_bytes']}")
    if i > 1:
        print(f"attempt {i} spills less: {a['spill_bytes'] < md.grf_attempts[0]['spill_bytes']}")
print(f"chosen: grf {md.grf_mode} flags {md.build_flags!r}")
info = zebin.read(compiled.asm["zebin"])
k = info.kernel(md.name)
print(f"zebin: {k.name} grf_count {k.grf_count} for {info.product_family_name}")

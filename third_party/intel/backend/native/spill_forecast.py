"""Whether a kernel will probably spill in the device's default register file, before IGC compiles it.

The GRF policy compiles a spilling kernel twice (default and larger register file).  When this forecast says
"likely to spill" and a core is free, the larger mode's compile starts beside the default one instead of after
it (``grf_policy.select_binary(speculate=True)``, asked by ``native.make_zebin``); the forecast only decides
*when* that compile starts, never which binary is kept.

The estimate, ``metadata.register_demand``, is measured on the TTGIR by ``pipelines.make_ttgir`` (the zebin
stage sees only SPIR-V), where every tensor is already spread over the kernel's sub-groups (one sub-group runs on one hardware thread): the bytes per hardware thread of

* every ``tt.dot``'s operands and accumulator (what DPAS needs in registers at once), or
* every ``tt.load``'s result, added up (what a kernel without dots keeps in registers, e.g. layernorm's row,
  weights and biases),

whichever is larger.  A kernel is likely to spill when that reaches three quarters of its register file at
the default GRF size (``default_grf x grf_bytes``: 8 KiB per thread on pvc, 4 KiB on acm-g10); the other
quarter holds addresses, indices and temporaries.

Measured with IGC 2.40 on 19 kernels (``examples/kernels.py`` and variants of their block sizes and warps:
matmuls from 32x32 to 256x128 with 4 to 32 warps, attention, layernorm and softmax rows of 1024 to 8192) on
pvc and acm-g10, the rule told spilling from non-spilling kernels correctly in all 38 cases, the closest being
a 32x32 attention on pvc (6656 B against the 6144 B line; it spills).  It is a heuristic: a wrong "yes" costs
a compile on an otherwise idle core, a wrong "no" the sequential time.  ``benchmarks/compile_zebin.py``
prints the forecast beside the outcome.

``TRITON_XPU_GRF_PARALLEL`` (default ``auto``) chooses when to start the larger mode early: ``auto`` when the
forecast says so and a core is free (fewer runnable processes than usable cores, this one included, in one
of a few readings a millisecond apart; a load average would lag by a minute and count the compiler's own
earlier attempts), ``1`` whenever the forecast says so, ``always`` for every kernel that has a larger mode
(a measuring aid), ``0`` never.
"""

from __future__ import annotations

import os
import time
from typing import Optional

from triton.backends.intel import knobs
from triton.backends.intel.targets import TargetInfo

PARALLEL_ENV = knobs.GRF_PARALLEL
PARALLEL_CHOICES = ("auto", "1", "always", "0")
# Fraction of the default register file at which a kernel is forecast to spill (see the module docstring).
SPILL_FRACTION = 0.75

def register_file_bytes(target: TargetInfo) -> int:
    """Bytes of registers per hardware thread at the target's default GRF size."""
    return target.default_grf * target.grf_bytes


def likely_to_spill(demand: Optional[int], target: TargetInfo) -> bool:
    """The forecast: ``demand`` (metadata.register_demand) reaches SPILL_FRACTION of the register file."""
    return demand is not None and demand >= SPILL_FRACTION * register_file_bytes(target)


def parallel_choice() -> str:
    """``TRITON_XPU_GRF_PARALLEL``, validated."""
    return knobs.choice(PARALLEL_ENV, PARALLEL_CHOICES)


def _runnable() -> int:
    with open("/proc/loadavg") as f:
        return int(f.read().split()[3].split("/")[0])


def free_core(samples: int = 5) -> bool:
    """Whether another compile can run now without taking a core from other work: fewer runnable processes
    than usable cores (/proc/loadavg's fourth field, which counts this one), the least of a few readings a
    millisecond apart, so that a short-lived process does not count."""
    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        return False
    try:
        running = _runnable()
        for _ in range(samples - 1):
            if running < cores:
                break
            time.sleep(0.001)
            running = min(running, _runnable())
    except (OSError, ValueError, IndexError):
        return True
    return running < cores


def start_larger_mode_early(demand: Optional[int], target: TargetInfo) -> bool:
    """Whether the GRF policy should start the larger mode's compile beside the default one."""
    choice = parallel_choice()
    if choice == "0":
        return False
    if choice == "always":
        return True
    return likely_to_spill(demand, target) and (choice == "1" or free_core())

"""Whether a kernel will probably spill in the device's default register file, before IGC compiles it.

The GRF policy compiles a spilling kernel twice (default and larger register file).  When this forecast says
"likely to spill" and a core is free, the larger mode's compile starts beside the default one instead of after
it (``grf_policy.select_binary(speculate=True)``); the forecast only decides *when* that compile starts, never
which binary is kept.

The estimate, ``metadata.register_demand``, is read from the TTGIR, where every tensor is already spread over
the kernel's sub-groups (one sub-group runs on one hardware thread): the bytes per hardware thread of

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
import re
import time
from typing import Optional

from triton.backends.intel.targets import TargetInfo

PARALLEL_ENV = "TRITON_XPU_GRF_PARALLEL"
PARALLEL_CHOICES = ("auto", "1", "always", "0")
# Fraction of the default register file at which a kernel is forecast to spill (see the module docstring).
SPILL_FRACTION = 0.75

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


def register_file_bytes(target: TargetInfo) -> int:
    """Bytes of registers per hardware thread at the target's default GRF size."""
    return target.default_grf * target.grf_bytes


def likely_to_spill(demand: Optional[int], target: TargetInfo) -> bool:
    """The forecast: ``demand`` (metadata.register_demand) reaches SPILL_FRACTION of the register file."""
    return demand is not None and demand >= SPILL_FRACTION * register_file_bytes(target)


def parallel_choice() -> str:
    """``TRITON_XPU_GRF_PARALLEL``, validated."""
    value = os.environ.get(PARALLEL_ENV, "auto").strip().lower() or "auto"
    if value not in PARALLEL_CHOICES:
        raise ValueError(f"{PARALLEL_ENV}={value!r}: expected one of {', '.join(PARALLEL_CHOICES)}")
    return value


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

"""Binaries this process may load without checking them again.

The full check of a zebin (:func:`.validate.loadable`) costs several times what the driver needs to create
the module.  A binary this project's compile stage produced was checked when it was made, so a load may skip
the check when the bytes it is handed are exactly those bytes.  The compile stage trusts each binary it
checked (:func:`trust`), and the cache check trusts a cached binary whose length, CRC-32 and launch metadata
match what its compile recorded (``cache_entry``).  Any other binary gets the full check.

Binaries are recognised by length and CRC-32 (:func:`key`): three times cheaper than SHA-256 on a 200 KB zebin
(0.06 against 0.19 ms here) and exact for damage -- a CRC-32 changes with every flipped bit and every corrupted
run of up to 32 bits, and other damage or another binary of the same length matches with odds of 2^-32.  This
guards against damage (a truncated file, a flipped bit), not against someone who can write Triton's cache:
such a person can also replace the code that runs.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional, Tuple

_MAX = 4096


@dataclass(frozen=True)
class Trusted:
    """What a load needs to know of a trusted binary's kernel, as its compile recorded it."""

    kernel: str
    product_family: Optional[str]  # the zebin's product-family name (pvc, dg2, ...)
    grf_count: Optional[int]
    spill_bytes: Optional[int]
    requires: Tuple[str, ...] = ()  # what the driver must support (binary.validate.driver_requirements)
    ip_version: Optional[str] = None  # the zebin's product-config note (IGC 2), None when it has none or is unknown


_trusted: "OrderedDict[Tuple[int, int], Trusted]" = OrderedDict()


# The keys of the last few bytes objects keyed: the cache check and the load that follows it are handed the
# very same object (CompiledKernel.kernel is its asm["zebin"]), which is immutable, so its key is computed once.
_RECENT_MAX = 32
_recent: "OrderedDict[int, Tuple[bytes, Tuple[int, int]]]" = OrderedDict()


def key(data: bytes) -> Tuple[int, int]:
    """(length, CRC-32) of ``data``: how a load recognises bytes it has seen."""
    hit = _recent.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    k = (len(data), zlib.crc32(data))
    if type(data) is bytes:
        _recent[id(data)] = (data, k)
        if len(_recent) > _RECENT_MAX:
            _recent.popitem(last=False)
    return k


def trust(data: bytes, facts: Trusted) -> None:
    """Trust ``data``, a binary this process checked, or verified against what its compile recorded."""
    k = key(data)
    _trusted[k] = facts
    _trusted.move_to_end(k)
    if len(_trusted) > _MAX:
        _trusted.popitem(last=False)


def trusted(data_key: Tuple[int, int]) -> Optional[Trusted]:
    """The facts of the binary with this :func:`key` if this process trusts it, else None."""
    return _trusted.get(data_key)


def forget_all() -> None:
    """Trust nothing and remember no key (benchmarks measure first loads with it)."""
    _trusted.clear()
    _recent.clear()

"""Binaries this process may load without checking them again, recognised by their SHA-256.

The full check of a zebin (:func:`.validate.loadable`) costs several times what the driver needs to create
the module.  A binary this project's compile stage produced was checked when it was made, so a load may skip
the check when the bytes it is handed are exactly those bytes -- the same SHA-256.  The compile stage trusts
each binary it checked (:func:`trust`), and the cache check trusts a cached binary whose bytes and launch
metadata match the digests its compile recorded.  Any other binary, or one with a single bit changed, has
another digest and gets the full check.

The digests guard against damage (a truncated file, a flipped bit), not against someone who can write
Triton's cache: such a person can also replace the code that runs.
"""

from __future__ import annotations

import hashlib
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


_trusted: "OrderedDict[str, Trusted]" = OrderedDict()


def of(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def trust(digest: str, facts: Trusted) -> None:
    _trusted[digest] = facts
    _trusted.move_to_end(digest)
    if len(_trusted) > _MAX:
        _trusted.popitem(last=False)


def trusted(digest: str) -> Optional[Trusted]:
    """The facts of a binary with this digest if this process trusts it, else None."""
    return _trusted.get(digest)


def forget_all() -> None:
    """Trust nothing (benchmarks measure the first, full check with it)."""
    _trusted.clear()

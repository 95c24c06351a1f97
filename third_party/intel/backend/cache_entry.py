"""This backend's entries in Triton's cache: the digests a compile records, checked before an entry is used.

The zebin stage records in the kernel's metadata the SHA-256 of its zebin (``zebin_sha256``) and a digest of
what loading and launching it read from the metadata (``launch_digest``: name, target, warps, sub-group size,
shared memory, registers, spills and the zebin's digest).  On a cache hit the front end asks
:func:`accept` first (one of the fork's front-end changes, ``FRONTEND_PATCHES`` in setup.py): an entry whose
zebin is missing or damaged, whose metadata does not parse, or whose launch fields were changed is refused
with one warning line, and the kernel is compiled again, which rewrites the entry.  An accepted zebin is
trusted by this process (binary.digest), so loading it skips the full check.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from typing import Any, Dict, Mapping, Optional

from triton.backends.intel import targets
from triton.backends.intel.binary import digest, validate
from triton.backends.intel.binary.zebin import Zebin
from triton.backends.intel.errors import TargetError

LAUNCH_FIELDS = ("name", "target_arch", "num_warps", "threads_per_warp", "shared", "n_regs", "spill_bytes",
                 "driver_requirements", "zebin_sha256")


class DamagedCacheEntry(UserWarning):
    """A cache entry of this backend failed its check and is being recompiled."""


def launch_digest(metadata: Mapping[str, Any]) -> str:
    # The fields are ints, strings or None, whose repr survives the JSON round trip unchanged.
    return hashlib.sha256(repr(tuple(metadata.get(f) for f in LAUNCH_FIELDS)).encode()).hexdigest()


def seal(metadata: Dict[str, Any], binary: bytes, parsed: Zebin) -> None:
    """Record the digests of a freshly compiled, checked zebin in its metadata, and trust it."""
    metadata["driver_requirements"] = sorted(validate.driver_requirements(parsed))
    metadata["zebin_sha256"] = digest.of(binary)
    metadata["launch_digest"] = launch_digest(metadata)
    _trust(metadata, parsed.product_family_name)


def accept(group: Mapping[str, str]) -> bool:
    """Whether a cache entry (Triton's metadata group: file name -> path) is whole; False, after one warning,
    when it must be compiled again."""
    problem, metadata = _problem(group)
    if problem is None:
        return True
    name = metadata.get("name") if metadata else None
    where = os.path.dirname(next(iter(group.values()), "")) or "Triton's cache"
    warnings.warn(f"damaged cache entry of kernel {name or '?'} in {where}: {problem}; compiling it again",
                  DamagedCacheEntry, stacklevel=3)
    return False


def _problem(group: Mapping[str, str]):
    json_name = next((n for n in group if n.endswith(".json")), None)
    if json_name is None:
        return "no metadata file", None
    try:
        with open(group[json_name], "rb") as f:
            metadata = json.loads(f.read())
    except OSError as e:
        return f"cannot read {json_name} ({e.strerror or e})", None
    except ValueError as e:
        return f"{json_name} is not valid JSON ({e})", None
    if not isinstance(metadata, dict):
        return f"{json_name} is not a JSON object", None
    zebin_name = f"{metadata.get('name')}.zebin"
    if zebin_name not in group:
        return f"no {zebin_name} in the entry", metadata
    try:
        with open(group[zebin_name], "rb") as f:
            data = f.read()
    except OSError as e:
        return f"cannot read {zebin_name} ({e.strerror or e})", metadata
    sha = digest.of(data)
    if metadata.get("zebin_sha256") != sha:
        return f"{zebin_name} does not match the digest its compile recorded", metadata
    if metadata.get("launch_digest") != launch_digest(metadata):
        return f"the launch fields of {json_name} ({', '.join(LAUNCH_FIELDS[:-1])}) were changed", metadata
    try:
        family = targets.lookup(str(metadata.get("target_arch"))).product_family
    except TargetError:
        family = None  # a device the target table does not know: its load gets the full check
    if family is not None:
        _trust(metadata, family)
    return None, metadata


def _trust(metadata: Mapping[str, Any], product_family: Optional[str]) -> None:
    digest.trust(metadata["zebin_sha256"], digest.Trusted(metadata["name"], product_family, metadata.get("n_regs"),
                                                          metadata.get("spill_bytes"),
                                                          tuple(metadata.get("driver_requirements") or ())))

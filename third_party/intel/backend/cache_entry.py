"""This backend's entries in Triton's cache: the digests a compile records, checked before an entry is used.

The zebin stage records in the kernel's metadata the length and CRC-32 of its zebin (``zebin_bytes``,
``zebin_crc32``: every flipped bit and corrupted run of up to 32 bits changes them; see binary.digest) and a
SHA-256 of what loading and launching it read from the metadata (``launch_digest``: name, target, warps,
sub-group size, shared memory, registers, spills, driver requirements and the zebin's length and CRC).

On a cache hit the front end lets :func:`cached_kernel` read the entry (one of the fork's front-end changes,
``FRONTEND_PATCHES`` in setup.py): an entry that cannot be read, whose zebin is missing or damaged, or whose
launch fields were changed is refused with one warning line, and the kernel is compiled again, which rewrites
the entry.  The check runs on what the front end read, so it costs no file access of its own; an accepted
zebin is trusted by this process (binary.digest), so loading it skips the full check.  An accepted entry's
``metadata.stage_ms`` is ``{"cached": ms}``, the time this process spent reading and checking it.  A damaged group file
(the entry's index) is the front end's own case: another front-end change makes it a miss with one warning.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from typing import Any, Callable, Dict, Mapping, Optional

from triton.backends.intel import targets
from triton.backends.intel.binary import digest, validate
from triton.backends.intel.binary.zebin import Zebin
from triton.backends.intel.errors import TargetError

LAUNCH_FIELDS = ("name", "target_arch", "num_warps", "threads_per_warp", "shared", "n_regs", "spill_bytes",
                 "driver_requirements", "zebin_bytes", "zebin_crc32")


class DamagedCacheEntry(UserWarning):
    """A cache entry of this backend failed its check and is being recompiled."""


def _getter(metadata) -> Callable[[str], Any]:
    """Field lookup in a metadata dict, or in the front end's KernelMetadata tuple (None when absent)."""
    return metadata.get if isinstance(metadata, Mapping) else (lambda f: getattr(metadata, f, None))


def launch_digest(metadata) -> str:
    """SHA-256 of the launch fields of ``metadata`` (a dict, or the front end's KernelMetadata tuple)."""
    get = _getter(metadata)
    # The fields are ints, strings, lists or None, whose repr survives the JSON round trip unchanged.
    return hashlib.sha256(repr(tuple(get(f) for f in LAUNCH_FIELDS)).encode()).hexdigest()


def _trust(metadata, binary: bytes, product_family: Optional[str], ip_version: Optional[str] = None) -> None:
    get = _getter(metadata)
    digest.trust(binary, digest.Trusted(get("name"), product_family, get("n_regs"), get("spill_bytes"),
                                        tuple(get("driver_requirements") or ()), ip_version))


def seal(metadata: Dict[str, Any], binary: bytes, parsed: Zebin) -> None:
    """Record the digests of a freshly compiled, checked zebin in its metadata, and trust it."""
    metadata["driver_requirements"] = sorted(validate.driver_requirements(parsed))
    metadata["zebin_bytes"], metadata["zebin_crc32"] = digest.key(binary)
    metadata["launch_digest"] = launch_digest(metadata)
    _trust(metadata, binary, parsed.product_family_name, parsed.product_config_version)


def cached_kernel(make: Callable[[], Any], group: Mapping[str, str]) -> Optional[Any]:
    """The front end's hook on a cache hit: ``make()`` reads the entry (Triton's metadata group: file name ->
    path) into a CompiledKernel; return it if it is whole, else None after one warning line, and the front end
    compiles the kernel again."""
    json_name = next((n for n in group if n.endswith(".json")), "?.json")
    name = json_name[:-len(".json")]
    if f"{name}.zebin" not in group:
        _warn(name, group, f"no {name}.zebin in the entry")
        return None
    start = time.perf_counter()
    try:
        kernel = make()
    except Exception as e:  # a damaged entry: unreadable JSON, a missing file, a field of the wrong type
        first = str(e).splitlines()[0] if str(e) else repr(e)
        what = f"{json_name} is not valid JSON ({first})" if isinstance(e, ValueError) else \
            f"it cannot be read ({type(e).__name__}: {first})"
        _warn(name, group, what)
        return None
    problem = _problem(kernel.metadata, kernel.asm["zebin"])  # present: checked above, and make() reads it
    if problem is not None:
        _warn(name, group, problem)
        return None
    # What this process spent, not the first compile's stage times read back from the entry.
    kernel.metadata = kernel.metadata._replace(stage_ms={"cached": round((time.perf_counter() - start) * 1e3, 3)})
    return kernel


def _warn(name: str, group: Mapping[str, str], problem: str) -> None:
    where = os.path.dirname(next(iter(group.values()), "")) or "Triton's cache"
    warnings.warn(f"damaged cache entry of kernel {name} in {where}: {problem}; compiling it again",
                  DamagedCacheEntry, stacklevel=4)


def _problem(metadata, data: bytes) -> Optional[str]:
    """What is wrong with a cache entry read into the front end's KernelMetadata and zebin bytes, or None."""
    name = getattr(metadata, "name", None)
    if (getattr(metadata, "zebin_bytes", None), getattr(metadata, "zebin_crc32", None)) != digest.key(data):
        return f"{name}.zebin does not match the length and CRC-32 its compile recorded"
    if getattr(metadata, "launch_digest", None) != launch_digest(metadata):
        return f"the launch fields of {name}.json ({', '.join(LAUNCH_FIELDS[:-2])}) were changed"
    try:
        family = targets.lookup(str(getattr(metadata, "target_arch", None))).product_family
    except TargetError:
        family = None  # a device the target table does not know: its load gets the full check
    if family is not None:
        _trust(metadata, data, family)
    return None

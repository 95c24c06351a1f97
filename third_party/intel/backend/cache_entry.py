"""This backend's entries in Triton's cache: the digests a compile records, checked before an entry is used.

The zebin stage records in the kernel's metadata the length and CRC-32 of its zebin (``zebin_bytes``,
``zebin_crc32``: every flipped bit and corrupted run of up to 32 bits changes them; see binary.digest) and a
SHA-256 of what loading and launching it read from the metadata (``launch_digest``: name, target, warps,
sub-group size, shared memory, registers, spills, driver requirements and the zebin's length and CRC).

On a cache hit the front end lets :func:`cached_kernel` read the entry (one of the fork's front-end changes,
``FRONTEND_PATCHES`` in setup.py): an entry that cannot be read, that belongs to another compile, whose zebin is
missing or damaged, or whose launch fields were changed is refused with one warning line, and the kernel is
compiled again, which rewrites the entry.  The check runs on what the front end read, so it costs no file access
of its own.  An accepted entry's ``metadata.stage_ms`` is ``{"cached": ms}``, the time this process spent reading
and checking it.  A damaged group file (the entry's index) is the front end's own case: another front-end change
makes it a miss with one warning.

An entry belongs to its key: Triton's compile() computes the kernel's ``hash``, records it in the metadata, and
keeps the entry's files in the folder named by it (``get_cache_manager(hash)`` -> ``_base32(hash)``).  An entry
whose recorded hash is not the one it was looked up by is another compile's -- a whole, valid entry of another
kernel or specialisation copied or planted under this key -- and is refused: its digests would all match.

Trust: an accepted zebin this process's own cache wrote is trusted by its length and CRC-32 (binary.digest), so
loading it skips the full check.  Files a remote cache wrote from what its store sent (:func:`from_store`; the
fleet cache records them) are untrusted input: their digests are whatever the store's writer chose, so their
zebin gets the full binary check here, before use -- a binary it refuses is one more refused entry, compiled
again -- and is trusted only with the facts that check read from the binary itself.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from typing import Any, Callable, Dict, Mapping, Optional, Set

from triton.backends.intel import targets
from triton.backends.intel.binary import digest, validate
from triton.backends.intel.binary.zebin import Zebin
from triton.backends.intel.errors import TargetError, ZebinFormatError

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


# The files of this process's Triton cache that a remote cache wrote from its store's answers (absolute paths).
_from_store: Set[str] = set()


def from_store(path: str) -> None:
    """Note that the cache file at ``path`` holds what a remote store sent: its entry is not trusted by CRC."""
    _from_store.add(os.path.abspath(path))


def made_here(path: str) -> None:
    """Note that this process wrote ``path`` from its own compile (after :func:`from_store` named it, say)."""
    _from_store.discard(os.path.abspath(path))


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
    # The zebin is present: checked above, and make() reads it.
    problem = _key_problem(kernel, group) or _problem(kernel.metadata, kernel.asm["zebin"],
                                                      remote=any(os.path.abspath(p) in _from_store
                                                                 for p in group.values()))
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


def _key_problem(kernel, group: Mapping[str, str]) -> Optional[str]:
    """Why the entry read into ``kernel`` is not the entry of the key it was looked up by, or None."""
    from triton.runtime.cache import _base32  # the folder Triton's cache keeps a key's files in
    name = getattr(kernel.metadata, "name", None)
    recorded, looked_up = getattr(kernel.metadata, "hash", None), getattr(kernel, "hash", None)
    try:
        folder = _base32(recorded)
    except (TypeError, ValueError):
        folder = None
    if folder is None or (looked_up is not None and recorded != looked_up):
        return (f"{name}.json is the entry of another compile (its hash {str(recorded)[:16]}... is not this key's "
                f"{str(looked_up)[:16]}...): an entry copied or planted under this key")
    strays = sorted(c for c, p in group.items() if os.path.basename(os.path.dirname(p)) != folder)
    if strays:
        return f"{', '.join(strays)} lie outside the folder of the key its metadata records ({folder})"
    return None


def _problem(metadata, data: bytes, remote: bool = False) -> Optional[str]:
    """What is wrong with a cache entry read into the front end's KernelMetadata and zebin bytes, or None.
    ``remote``: the entry came from a remote store, so its zebin gets the full check instead of CRC trust."""
    name = getattr(metadata, "name", None)
    if (getattr(metadata, "zebin_bytes", None), getattr(metadata, "zebin_crc32", None)) != digest.key(data):
        return f"{name}.zebin does not match the length and CRC-32 its compile recorded"
    if getattr(metadata, "launch_digest", None) != launch_digest(metadata):
        return f"the launch fields of {name}.json ({', '.join(LAUNCH_FIELDS[:-2])}) were changed"
    if remote:
        return _checked_in_full(name, data)
    try:
        family = targets.lookup(str(getattr(metadata, "target_arch", None))).product_family
    except TargetError:
        family = None  # a device the target table does not know: its load gets the full check
    if family is not None:
        _trust(metadata, data, family)
    return None


def _checked_in_full(name: Optional[str], data: bytes) -> Optional[str]:
    """The full binary check of a zebin from a remote store (what a load of an untrusted binary runs); trusted
    after it with what the binary itself says, never with the facts its metadata claims."""
    try:
        parsed = validate.loadable(data)
        info = parsed.kernel(str(name))
    except ZebinFormatError as e:
        return f"{name}.zebin fails the full binary check ({e})"
    except KeyError:
        return f"{name}.zebin holds no kernel {name}"
    digest.trust(data, digest.Trusted(str(name), parsed.product_family_name, info.grf_count, info.spill_bytes,
                                      tuple(sorted(validate.driver_requirements(parsed))),
                                      parsed.product_config_version))
    return None

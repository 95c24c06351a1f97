"""Signed entries: with a secret shared by the fleet, whoever lacks it cannot write an entry that others accept.

An entry is stored as an envelope::

    b"TXFC"  version (1 byte)  HMAC-SHA256 (32 bytes)  data

The HMAC covers the full Redis key (length-prefixed) and the data, so an entry signed for one key is refused
under another: a signed entry of another kernel copied over this one fails as surely as a forged one.  Every read
checks it (:func:`unseal`); what fails is refused and the kernel compiled locally, whose write replaces it.

Without a secret, entries are written raw and read raw; an envelope found then is unwrapped unchecked, as the
node trusts the store anyway (docs/fleet.md, "The security model").
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Optional

from triton.backends.intel import knobs

MAGIC = b"TXFC"  # triton-xpu fleet cache
VERSION = 1
_MAC_BYTES = hashlib.sha256().digest_size
HEADER_BYTES = len(MAGIC) + 1 + _MAC_BYTES
# Shorter keys are guessable or typos; `openssl rand -hex 32` makes a good one.
MIN_SECRET_BYTES = 16


class RefusedEntry(ValueError):
    """A stored entry whose envelope does not check out; ``str()`` says why, in a phrase."""


def read_secret() -> Optional[bytes]:
    """The fleet's secret from TRITON_XPU_CACHE_SECRET_FILE (preferred: it stays out of process listings and
    environment dumps) or TRITON_XPU_CACHE_SECRET; None when neither is set.  ValueError for both, an unreadable
    file or a secret too short to be one."""
    path, value = knobs.raw(knobs.CACHE_SECRET_FILE), knobs.raw(knobs.CACHE_SECRET)
    if path and value:
        raise ValueError(f"both {knobs.CACHE_SECRET_FILE} and {knobs.CACHE_SECRET} are set: set only one "
                         f"(the file is preferred)")
    if path:
        try:
            with open(path, "rb") as f:
                secret = f.read().strip()  # the newline `echo` or `openssl rand -hex 32 >` leaves
        except OSError as e:
            raise ValueError(f"{knobs.CACHE_SECRET_FILE}={path!r} cannot be read ({e.strerror or e}): point it at "
                             f"the fleet's secret file, readable by this user") from None
        where = f"the file {knobs.CACHE_SECRET_FILE}={path!r}"
    elif value:
        secret, where = value.encode(), knobs.CACHE_SECRET
    else:
        return None
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"{where} holds a secret of {len(secret)} bytes; use at least {MIN_SECRET_BYTES} random "
                         f"bytes, e.g. `openssl rand -hex 32`")
    return secret


def _mac(secret: bytes, key: str, data: bytes) -> bytes:
    name = key.encode()
    return hmac.new(secret, struct.pack(">I", len(name)) + name + data, hashlib.sha256).digest()


def seal(secret: bytes, key: str, data: bytes) -> bytes:
    """``data`` in an envelope signed for the Redis key ``key``."""
    return MAGIC + bytes([VERSION]) + _mac(secret, key, data) + data


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def unseal(secret: Optional[bytes], key: str, blob: bytes) -> bytes:
    """The data of an entry read from ``key``: checked against ``secret`` when there is one (RefusedEntry when it
    is not signed with it for this key), else as stored, an envelope unwrapped unchecked."""
    if not is_sealed(blob):
        if secret is not None:
            raise RefusedEntry("it is not signed")
        return blob
    if len(blob) < HEADER_BYTES:
        raise RefusedEntry(f"its envelope is truncated ({len(blob)} bytes)")
    if blob[len(MAGIC)] != VERSION:
        raise RefusedEntry(f"its envelope is version {blob[len(MAGIC)]}, not {VERSION} (written by another "
                           f"triton-xpu release)")
    mac, data = blob[len(MAGIC) + 1:HEADER_BYTES], blob[HEADER_BYTES:]
    if secret is not None and not hmac.compare_digest(mac, _mac(secret, key, data)):
        raise RefusedEntry("its signature does not match (signed with another secret, changed since, or copied "
                           "from another key)")
    return data


def fingerprint(secret: bytes) -> str:
    """A short name for a secret that gives nothing away, for messages: which key a node uses."""
    return hashlib.sha256(b"triton-xpu fleet key id\0" + secret).hexdigest()[:8]


"""The SHA-256 of libtriton (about 430 MB) without reading all of it in every process.

Triton's ``triton_key`` hashes libtriton in full once per process: about 0.6 s, most of a node's bring-up when
its kernels come from a warm cache.  This package's build records the digest beside the library
(``libtriton.so.sha256.json``) with the library's size and GNU build id (the linker's digest of what it linked).
While the library has that size and build id, the recorded digest is returned; otherwise -- no record, a damaged
one, another build -- the library is hashed in full, as Triton does.  The value is the same either way, so cache
keys do not change.

What the record trusts: pip checked the installed file against the wheel's own SHA-256 (its RECORD), and a
library that is rebuilt gets a new build id.  A byte patched in place, with the size and build id kept, is not
seen -- ``TRITON_XPU_HASH_LIBTRITON=1`` hashes in full regardless.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from typing import Optional

RECORD_SUFFIX = ".sha256.json"

_PT_NOTE = 4
_NT_GNU_BUILD_ID = 3
_HEADER_BYTES = 64
_PHDR_BYTES = 56
_MAX_PHDRS = 64  # a bound on what is read: shared libraries have about a dozen
_MAX_NOTE_BYTES = 4096


def sha256(path: str) -> str:
    """The hex SHA-256 of the file at ``path``: the recorded one when the record matches the file, else computed."""
    if os.environ.get("TRITON_XPU_HASH_LIBTRITON", "0") != "1":
        recorded = _recorded(path)
        if recorded is not None:
            return recorded
    return full_sha256(path)


def full_sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def record(path: str) -> str:
    """Hash ``path`` in full and write its record beside it (done once, when the package is built); the digest."""
    identity = build_id(path)
    if identity is None:
        raise ValueError(f"{path} has no GNU build id: its digest cannot be recorded (it would be hashed per process)")
    digest = full_sha256(path)
    with open(path + RECORD_SUFFIX, "w") as f:
        json.dump({"size": os.path.getsize(path), "build_id": identity, "sha256": digest}, f)
    return digest


def _recorded(path: str) -> Optional[str]:
    try:
        with open(path + RECORD_SUFFIX) as f:
            data = json.load(f)
        size, identity, digest = data["size"], data["build_id"], data["sha256"]
        matches = os.path.getsize(path) == size and build_id(path) == identity
    except (OSError, ValueError, LookupError, TypeError):
        return None
    if not (matches and isinstance(digest, str) and len(digest) == 64):
        return None
    return digest


def build_id(path: str) -> Optional[str]:
    """The GNU build id of the ELF64 little-endian file at ``path`` (hex), from its program headers' notes; None
    when the file cannot be read, is not such an ELF file or carries no build id.  Reads a few kilobytes."""
    try:
        with open(path, "rb") as f:
            header = f.read(_HEADER_BYTES)
            if len(header) < _HEADER_BYTES or header[:6] != b"\x7fELF\x02\x01":
                return None
            phoff, = struct.unpack_from("<Q", header, 32)
            phentsize, phnum = struct.unpack_from("<HH", header, 54)
            if phentsize != _PHDR_BYTES or phnum > _MAX_PHDRS:
                return None
            f.seek(phoff)
            phdrs = f.read(phentsize * phnum)
            for i in range(len(phdrs) // phentsize):
                p_type, _, p_offset = struct.unpack_from("<IIQ", phdrs, i * phentsize)
                p_filesz, = struct.unpack_from("<Q", phdrs, i * phentsize + 32)
                p_align, = struct.unpack_from("<Q", phdrs, i * phentsize + 48)
                if p_type != _PT_NOTE:
                    continue
                f.seek(p_offset)
                found = _build_id_note(f.read(min(p_filesz, _MAX_NOTE_BYTES)), 8 if p_align == 8 else 4)
                if found:
                    return found
    except (OSError, struct.error):
        return None
    return None


def _build_id_note(notes: bytes, align: int) -> Optional[str]:
    pos = 0
    while pos + 12 <= len(notes):
        namesz, descsz, kind = struct.unpack_from("<III", notes, pos)
        name_at = pos + 12
        desc_at = name_at + -(-namesz // align) * align
        end = desc_at + -(-descsz // align) * align
        if desc_at + descsz > len(notes):
            return None
        if kind == _NT_GNU_BUILD_ID and notes[name_at:name_at + namesz] == b"GNU\0" and descsz:
            return notes[desc_at:desc_at + descsz].hex()
        pos = end
    return None

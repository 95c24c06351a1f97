"""ocloc's fat binaries: ``ar`` archives with one zebin per device -- reading, writing, choosing a member.

Members are named ``<pointer size>.<IP version>`` (``64.12.60.7`` is pvc), plus ``pad_N`` members that align
the next member's data to 8 bytes and ``generic_ir`` (the SPIR-V).  The layout written is NEO's
``ArEncoder(padTo8Bytes=true)``, which is what ocloc writes; each header is ``name/`` padded to 16 bytes,
timestamp, owner, group, mode, size (decimal) and the terminator ```\\n``.
"""

from __future__ import annotations

import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from triton.backends.intel import targets
from triton.backends.intel.binary.elf import fail
from triton.backends.intel.errors import TargetError

MAGIC = b"!<arch>\n"
HEADER_SIZE = 60
_SIZE_FIELD = re.compile(rb"[0-9]{1,10} *")
_NAME_FIELD = re.compile(rb"[\x21-\x7e]+ *")


def is_fat_binary(data: bytes) -> bool:
    return bytes(data[:8]) == MAGIC


def members(data: bytes) -> List[Tuple[str, bytes]]:
    """All members of an ``ar`` archive as (name, bytes), in order, GNU long names resolved."""
    data = bytes(data)
    if not is_fat_binary(data):
        fail(f"not an ocloc fat binary: no ar magic (starts with {data[:8]!r})")
    out: List[Tuple[str, bytes]] = []
    long_names = b""
    pos = len(MAGIC)
    while pos < len(data):
        if pos + HEADER_SIZE > len(data):
            fail(f"truncated fat binary: member header at byte {pos} is cut off")
        header = data[pos:pos + HEADER_SIZE]
        if header[58:60] != b"`\n":
            fail(f"corrupt fat binary: bad member header at byte {pos}")
        if not _NAME_FIELD.fullmatch(header[:16]):
            fail(f"corrupt fat binary: member name {header[:16]!r} at byte {pos} is not printable ASCII")
        if not _SIZE_FIELD.fullmatch(header[48:58]):
            fail(f"corrupt fat binary: member size {header[48:58]!r} at byte {pos} is not a decimal number")
        raw_name = header[:16].decode("ascii").rstrip()
        size = int(header[48:58])
        start = pos + HEADER_SIZE
        if start + size > len(data):
            fail(f"truncated fat binary: member {raw_name!r} needs {size} bytes, {len(data) - start} left")
        body = data[start:start + size]
        pos = start + size + (size & 1)  # members are 2-byte aligned
        if raw_name == "//":
            long_names = body
            continue
        if raw_name in ("/", "/SYM64/"):
            continue  # symbol tables
        if raw_name.startswith("/") and raw_name[1:].isdigit():
            offset = int(raw_name[1:])
            end = long_names.find(b"/\n", offset)
            if offset >= len(long_names) or end < 0:
                fail(f"corrupt fat binary: long member name {raw_name} is outside the name table")
            raw_name = long_names[offset:end].decode("ascii", "replace")
        out.append((raw_name.rstrip("/"), body))
    return out


def device_binaries(data: bytes, ip_versions: Optional[Mapping[str, str]] = None) -> Dict[str, bytes]:
    """The device binaries of a fat binary, keyed by ocloc device name (``pvc``, ``acm-g10``).

    Members are named ``<pointer size>.<IP version>``; IP versions map to names with :data:`targets.DEVICES`
    (extend it with ``ip_versions``, e.g. from ``ocloc ids``); an unknown IP version stays the key.  Padding
    members and ``generic_ir`` (the SPIR-V) are left out.
    """
    table = targets.ip_version_names()
    table.update(ip_versions or {})
    return {device: body for device, _, body in device_members(data, table)}


def device_members(data: bytes, ip_versions: Optional[Mapping[str, str]] = None) -> List[Tuple[str, str, bytes]]:
    """(device name, member name, device binary) of each device member, in archive order; see
    :func:`device_binaries` for the naming."""
    table = ip_versions if ip_versions is not None else targets.ip_version_names()
    out = []
    for name, body in members(data):
        if name.startswith("pad_") or name == "generic_ir":
            continue
        m = re.match(r"^(?:32|64)\.(.+)$", name)
        key = m.group(1) if m else name
        out.append((table.get(key, key), name, body))
    return out


def member_for(data: bytes, target: targets.TargetInfo) -> Tuple[Optional[bytes], List[str]]:
    """(the member for ``target`` or None, every device name).  As NEO picks (unpackSingleDeviceBinary of an
    archive): the member of the target's own IP version first, then one NEO runs natively on it
    (targets.NATIVE_COMPATIBLE), then one of its product family (binaries of IGC 1.0 carry no IP version); a
    family member of another IP version is then refused by the loader with what to compile for."""
    devices = device_binaries(data)
    names = sorted(devices)
    if target.name in devices:
        return devices[target.name], names
    ips = {name: _ip_of(name) for name in devices}
    for name, member in devices.items():
        if ips[name] and target.ip_version and targets.loads_natively(ips[name], target.ip_version):
            return member, names
    for name, member in devices.items():
        if target.product_family and _family_of(name) == target.product_family:
            return member, names
    return None, names


def _ip_of(name: str) -> Optional[str]:
    device = targets.DEVICES.get(name)
    return device.ip_version if device else None


def _family_of(name: str) -> Optional[str]:
    try:
        return targets.lookup(name).product_family
    except TargetError:
        return name


def _header(name: str, size: int) -> bytes:
    header = f"{name + '/':<16}{'0':<12}{'0':<6}{'0':<6}{'644':<8}{size:<10}".encode("ascii") + b"`\n"
    assert len(header) == HEADER_SIZE
    return header


def write(entries: Sequence[Tuple[str, bytes]]) -> Tuple[bytes, List[Tuple[int, int]]]:
    """An ocloc-style fat binary of ``(member name, zebin)``; returns it and each member's (offset, size).

    Each member's data starts at an 8-byte aligned offset, ``pad_N`` members of spaces fill the gaps, odd
    sizes get one zero byte.
    """
    body = bytearray()
    places = []
    pad = 0
    for name, data in entries:
        if not name or len(name) > 15:
            raise ValueError(f"fat-binary member name {name!r} must have 1 to 15 characters")
        if (len(MAGIC) + len(body) + HEADER_SIZE) % 8:
            size = 8 - (len(MAGIC) + len(body) + 2 * HEADER_SIZE) % 8
            body += _header(f"pad_{pad}", size) + b" " * size
            pad += 1
        body += _header(name, len(data))
        places.append((len(MAGIC) + len(body), len(data)))
        body += data
        if len(data) & 1:
            body += b"\0"
    return MAGIC + bytes(body), places


def member_name(bits: int, ip_version: str) -> str:
    """The member name ocloc gives a device's zebin: ``64.12.60.7``."""
    return f"{bits}.{ip_version}"

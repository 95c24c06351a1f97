"""Editing zebins field by field, to make corrupt copies of real ones (the fuzzer, the validator's tests).

Offsets come from the record layouts of the backend's ``binary.elf``; nothing here parses on its own.  Test
support: never shipped (the backend itself never edits a binary).
"""

from __future__ import annotations

import struct
from typing import List, Tuple

from triton.backends.intel.binary import elf
from triton.backends.intel.binary.elf import ElfFile, Layout

_CODES = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}


def header_offset(image: ElfFile, index: int) -> int:
    """File offset of section ``index``'s header."""
    return image.header.e_shoff + elf.SHDR.size * index


def field_at(layout: Layout, record_offset: int, name: str) -> Tuple[int, int]:
    """(file offset, size) of field ``name`` of the ``layout`` record at ``record_offset``."""
    offset, size = layout.fields[name]
    return record_offset + offset, size


def put(data: bytes, offset: int, size: int, value: int) -> bytes:
    """``data`` with the little-endian ``size``-byte integer at ``offset`` set to ``value`` (wrapped)."""
    out = bytearray(data)
    struct.pack_into(_CODES[size], out, offset, value & ((1 << 8 * size) - 1))
    return bytes(out)


def get(data: bytes, offset: int, size: int) -> int:
    return struct.unpack_from(_CODES[size], data, offset)[0]


def set_field(data: bytes, layout: Layout, record_offset: int, name: str, value: int) -> bytes:
    offset, size = field_at(layout, record_offset, name)
    return put(data, offset, size, value)


def set_section_field(image: ElfFile, index: int, name: str, value: int) -> bytes:
    return set_field(image.data, elf.SHDR, header_offset(image, index), name, value)


def replace_section(image: ElfFile, name: str, content: bytes) -> bytes:
    """The file with section ``name``'s content replaced by ``content`` of any length: what follows it moves
    by the difference, and the section header table with it."""
    target = image.section(name)
    delta = len(content) - target.size
    data = image.data[:target.offset] + content + image.data[target.end:]
    shoff = image.header.e_shoff + (delta if image.header.e_shoff >= target.end else 0)
    data = set_field(data, elf.EHDR, 0, "e_shoff", shoff)
    for s in image.sections:
        at = shoff + elf.SHDR.size * s.index
        if s.index == target.index:
            data = set_field(data, elf.SHDR, at, "sh_size", len(content))
        elif s.index and s.offset >= target.end and (s.size or s.offset > target.offset):
            data = set_field(data, elf.SHDR, at, "sh_offset", s.offset + delta)
    return data


def symbol_offsets(image: ElfFile) -> List[int]:
    """File offsets of the entries of ``.symtab``."""
    symtab = image.section(".symtab")
    return [symtab.offset + elf.SYM.size * j for j in range(symtab.size // elf.SYM.size)] if symtab else []


def note_descriptor(image: ElfFile, section: str, ntype: int) -> int:
    """File offset of the descriptor of the first note of type ``ntype`` in ``section``; KeyError if none."""
    s = image.section(section)
    for note in image.notes(s):
        if note.type == ntype:
            return s.offset + note.offset + elf.NHDR.size + (len(note.owner) + 3 & ~3)
    raise KeyError(f"no note of type {ntype} in {section}")

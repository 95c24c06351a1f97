"""ELF64 little-endian, read strictly: the container format of zebin.

One parse (:func:`parse`) checks everything later readers and the Level Zero driver would otherwise trust --
header fields, the section table, string tables, symbol tables, relocations, note records -- and refuses
anything a compiler does not write with a :class:`ZebinFormatError` naming the field and its value.  Sections
may not overlap one another or the headers.  Record layouts are declared once (:class:`Layout`) and serve
both the parse and the tools that edit binaries field by field (the fuzzer).

Only what zebin uses is accepted: ELF64, little-endian, section types IGC writes.  pyelftools reads the
same files more leniently; the tests use it as an independent oracle.
"""

from __future__ import annotations

import struct
from collections import namedtuple
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Pattern, Sequence, Tuple

from triton.backends.intel.errors import ZebinFormatError


class Layout:
    """A fixed-size little-endian record: field names and ``struct`` codes, in order."""

    def __init__(self, name: str, fields: Sequence[Tuple[str, str]]):
        self.name = name
        self.names = tuple(f for f, _ in fields)
        self.struct = struct.Struct("<" + "".join(code for _, code in fields))
        self.size = self.struct.size
        self.record = namedtuple(name, self.names)
        self.fields: Dict[str, Tuple[int, int]] = {}  # name -> (offset, size)
        offset = 0
        for fname, code in fields:
            width = struct.calcsize("<" + code)
            self.fields[fname] = (offset, width)
            offset += width

    def unpack(self, data: bytes, offset: int = 0):
        return self.record._make(self.struct.unpack_from(data, offset))

    def iter(self, data: bytes):
        return map(self.record._make, self.struct.iter_unpack(data))


EHDR = Layout("Elf64_Ehdr", [("e_ident", "16s"), ("e_type", "H"), ("e_machine", "H"), ("e_version", "I"),
                             ("e_entry", "Q"), ("e_phoff", "Q"), ("e_shoff", "Q"), ("e_flags", "I"),
                             ("e_ehsize", "H"), ("e_phentsize", "H"), ("e_phnum", "H"), ("e_shentsize", "H"),
                             ("e_shnum", "H"), ("e_shstrndx", "H")])
SHDR = Layout("Elf64_Shdr", [("sh_name", "I"), ("sh_type", "I"), ("sh_flags", "Q"), ("sh_addr", "Q"),
                             ("sh_offset", "Q"), ("sh_size", "Q"), ("sh_link", "I"), ("sh_info", "I"),
                             ("sh_addralign", "Q"), ("sh_entsize", "Q")])
PHDR_SIZE = 56
SYM = Layout("Elf64_Sym", [("st_name", "I"), ("st_info", "B"), ("st_other", "B"), ("st_shndx", "H"),
                           ("st_value", "Q"), ("st_size", "Q")])
REL = Layout("Elf64_Rel", [("r_offset", "Q"), ("r_info", "Q")])
RELA = Layout("Elf64_Rela", [("r_offset", "Q"), ("r_info", "Q"), ("r_addend", "q")])
NHDR = Layout("Elf64_Nhdr", [("n_namesz", "I"), ("n_descsz", "I"), ("n_type", "I")])
# e_ident bytes
MAGIC = b"\x7fELF"
EI_CLASS, EI_DATA, EI_VERSION = 4, 5, 6
ELFCLASS64, ELFDATA2LSB, EV_CURRENT = 2, 1, 1

SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOTE, SHT_NOBITS, SHT_REL = 0, 1, 2, 3, 4, 7, 8, 9
SHN_UNDEF, SHN_LORESERVE, SHN_ABS, SHN_COMMON = 0, 0xFF00, 0xFFF1, 0xFFF2
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE = 0, 1, 2, 3, 4
MAX_SECTIONS = 4096
MAX_NOBITS = 1 << 30


def is_elf(data: bytes) -> bool:
    """Whether ``data`` starts with the ELF magic number."""
    return bytes(data[:4]) == MAGIC


def fail(message: str) -> None:
    raise ZebinFormatError(message)


@dataclass
class Section:
    index: int
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    addralign: int
    entsize: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class Symbol:
    index: int
    name: str
    bind: int
    type: int
    other: int
    shndx: int
    value: int
    size: int

    @property
    def defined(self) -> bool:
        return self.shndx != SHN_UNDEF


@dataclass(frozen=True)
class Relocation:
    index: int
    offset: int
    symbol: int
    type: int
    addend: int


@dataclass(frozen=True)
class Note:
    owner: bytes  # the name field, NUL included
    type: int
    desc: bytes
    offset: int  # of the record within its section


class ElfFile:
    """A strictly parsed ELF64 file: header, sections by index and name, symbol and relocation tables."""

    def __init__(self, data: bytes, header, sections: List[Section], symbols: Dict[int, List[Symbol]]):
        self.data = data
        self.header = header
        self.sections = sections
        self.by_name: Dict[str, Section] = {s.name: s for s in sections[1:]}
        self.symbols = symbols  # symbol table section index -> its symbols

    def section(self, name: str) -> Optional[Section]:
        return self.by_name.get(name)

    def content(self, section: Section) -> bytes:
        return b"" if section.type == SHT_NOBITS else self.data[section.offset:section.end]

    def symbol_table(self) -> List[Symbol]:
        """The symbols of ``.symtab`` (empty when there is none)."""
        symtab = self.by_name.get(".symtab")
        return self.symbols.get(symtab.index, []) if symtab is not None else []

    def relocations(self, section: Section) -> List[Relocation]:
        """The entries of a SHT_REL/SHT_RELA section (already bounds-checked by the parse)."""
        layout = RELA if section.type == SHT_RELA else REL
        return [Relocation(j, r.r_offset, r.r_info >> 32, r.r_info & 0xFFFFFFFF, getattr(r, "r_addend", 0))
                for j, r in enumerate(layout.iter(self.content(section)))]

    def notes(self, section: Section) -> Iterator[Note]:
        """The note records of a SHT_NOTE section, in order; ZebinFormatError when one runs past the section."""
        data = self.content(section)
        pos = 0
        while pos < len(data):
            if pos + NHDR.size > len(data):
                fail(f"corrupt {section.name}: {len(data) - pos} stray bytes after the last note")
            h = NHDR.unpack(data, pos)
            desc_start = pos + NHDR.size + _align4(h.n_namesz)
            end = desc_start + _align4(h.n_descsz)
            if end > len(data):
                fail(f"corrupt {section.name}: note of type {h.n_type} at byte {pos} runs past the section")
            yield Note(bytes(data[pos + NHDR.size:pos + NHDR.size + h.n_namesz]), h.n_type,
                       bytes(data[desc_start:desc_start + h.n_descsz]), pos)
            pos = end


def _align4(n: int) -> int:
    return n + 3 & ~3


def cstring(table: bytes, offset: int, what: str) -> str:
    """The NUL-terminated ASCII string at ``offset`` of a string table."""
    if offset >= len(table):
        fail(f"corrupt zebin: {what} name offset {offset} is outside its string table ({len(table)} bytes)")
    end = table.find(b"\0", offset)
    if end < 0:
        fail(f"corrupt zebin: {what} name at offset {offset} is not NUL-terminated in its string table")
    raw = table[offset:end]
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        fail(f"corrupt zebin: {what} name {raw[:40]!r} is not ASCII")
    return ""  # unreachable


def _string_table(data: bytes, section: Section, what: str) -> bytes:
    if section.type != SHT_STRTAB:
        fail(f"corrupt zebin: {what} is section {section.index} ({section.name or 'unnamed'}) of type "
             f"{section.type:#x}, not SHT_STRTAB")
    table = data[section.offset:section.end]
    if not table or table[0] != 0 or table[-1] != 0:
        fail(f"corrupt zebin: {what} ({section.name or f'section {section.index}'}) does not start and end "
             "with a NUL byte")
    return table


def parse_header(data: bytes):
    """The ELF64 header, checked; ZebinFormatError for anything but a well-formed ELF64 LE header."""
    size = len(data)
    if size < EHDR.size:
        fail(f"truncated zebin: {size} bytes, shorter than the {EHDR.size}-byte ELF64 header")
    if data[EI_CLASS] != ELFCLASS64:
        fail(f"unsupported zebin: ELF class {data[EI_CLASS]} (only 64-bit zebins, which ocloc emits, are loaded)")
    if data[EI_DATA] != ELFDATA2LSB:
        fail("not a zebin: big-endian ELF (zebin is little-endian)")
    if data[EI_VERSION] != EV_CURRENT:
        fail(f"corrupt zebin: ELF identification version {data[EI_VERSION]}, not 1 (EV_CURRENT)")
    h = EHDR.unpack(data)
    if h.e_version != EV_CURRENT:
        fail(f"corrupt zebin: ELF version {h.e_version}, not 1 (EV_CURRENT)")
    if h.e_ehsize != EHDR.size:
        fail(f"corrupt zebin: ELF header size {h.e_ehsize}, not {EHDR.size}")
    if h.e_phnum:
        if h.e_phentsize != PHDR_SIZE:
            fail(f"corrupt zebin: program header entry size {h.e_phentsize}, not {PHDR_SIZE}")
        if h.e_phoff < EHDR.size or h.e_phoff + PHDR_SIZE * h.e_phnum > size:
            fail(f"corrupt zebin: {h.e_phnum} program headers at byte {h.e_phoff} run past the end ({size} bytes)")
    if h.e_shentsize != SHDR.size:
        fail(f"corrupt zebin: section header entry size {h.e_shentsize}, not {SHDR.size}")
    if not 2 <= h.e_shnum <= MAX_SECTIONS:
        fail(f"corrupt zebin: {h.e_shnum} section headers (expected 2 to {MAX_SECTIONS})")
    end = h.e_shoff + SHDR.size * h.e_shnum
    if h.e_shoff < EHDR.size or end > size:
        fail(f"truncated zebin: {h.e_shnum} section headers at byte {h.e_shoff} end at byte {end}, the data has "
             f"{size}")
    if not 1 <= h.e_shstrndx < h.e_shnum:
        fail(f"corrupt zebin: section name table index {h.e_shstrndx} is not a section (1 to {h.e_shnum - 1})")
    return h


def parse(data: bytes, known_types: Dict[int, str], names: Optional[Dict[int, Pattern]] = None) -> ElfFile:
    """Parse ``data`` strictly.  ``known_types`` maps the section types the format allows to their names;
    any other type is refused, and so is a section whose name does not match its type's pattern in
    ``names``."""
    data = bytes(data)
    h = parse_header(data)
    sections = _sections(data, h, known_types)
    for s in sections[1:] if names else ():
        if not names[s.type].fullmatch(s.name):
            fail(f"corrupt zebin: section {s.index} {s.name!r} has type {known_types[s.type]}, which no section of "
                 "that name has")
    _check_layout(data, h, sections)
    symbols = {s.index: _symbols(data, s, sections) for s in sections if s.type == SHT_SYMTAB}
    for s in sections:
        if s.type in (SHT_REL, SHT_RELA):
            _check_relocations(s, sections, symbols)
    return ElfFile(data, h, sections, symbols)


def _sections(data: bytes, h, known_types: Dict[int, str]) -> List[Section]:
    raw = list(SHDR.iter(data[h.e_shoff:h.e_shoff + SHDR.size * h.e_shnum]))
    if raw[0].sh_name or raw[0].sh_type != SHT_NULL or raw[0].sh_size:
        fail("corrupt zebin: section 0 is not an unnamed, empty SHT_NULL section")
    sections: List[Section] = []
    for i, r in enumerate(raw):
        if r.sh_type not in known_types:
            fail(f"corrupt zebin: section {i} has unknown type {r.sh_type:#x}")
        if i and r.sh_type == SHT_NULL:
            fail(f"corrupt zebin: section {i} has type SHT_NULL")
        if r.sh_addralign & (r.sh_addralign - 1):
            fail(f"corrupt zebin: section {i} has alignment {r.sh_addralign}, not a power of two")
        if r.sh_type == SHT_NOBITS:
            if r.sh_size > MAX_NOBITS:
                fail(f"corrupt zebin: SHT_NOBITS section {i} claims {r.sh_size} bytes")
        elif r.sh_offset + r.sh_size > len(data):
            fail(f"truncated zebin: section {i} ends at byte {r.sh_offset + r.sh_size}, the data has {len(data)}")
        sections.append(Section(i, "", r.sh_type, r.sh_flags, r.sh_offset, r.sh_size, r.sh_link, r.sh_info,
                                r.sh_addralign, r.sh_entsize))
    names = _string_table(data, sections[h.e_shstrndx], "the section name table")
    seen = set()
    for s, r in zip(sections[1:], raw[1:]):
        s.name = cstring(names, r.sh_name, f"section {s.index}")
        if s.name in seen:
            fail(f"corrupt zebin: two sections named {s.name}")
        seen.add(s.name)
    return sections


def _check_layout(data: bytes, h, sections: List[Section]) -> None:
    """Sections with data lie apart from each other and from the headers, each at its alignment."""
    spans = [(0, EHDR.size, "the ELF header"),
             (h.e_shoff, h.e_shoff + SHDR.size * h.e_shnum, "the section header table")]
    if h.e_phnum:
        spans.append((h.e_phoff, h.e_phoff + PHDR_SIZE * h.e_phnum, "the program header table"))
    for s in sections[1:]:
        if s.type == SHT_NOBITS or s.size == 0:
            continue
        if s.addralign > 1 and s.offset % s.addralign:
            fail(f"corrupt zebin: section {s.name} at byte {s.offset} is not aligned to its {s.addralign} bytes")
        spans.append((s.offset, s.end, f"section {s.name}"))
    spans.sort()
    for (start_a, end_a, what_a), (start_b, _end_b, what_b) in zip(spans, spans[1:]):
        if start_b < end_a:
            fail(f"corrupt zebin: {what_b} (from byte {start_b}) overlaps {what_a} (bytes {start_a}..{end_a})")


def _symbols(data: bytes, s: Section, sections: List[Section]) -> List[Symbol]:
    if s.entsize != SYM.size or s.size % SYM.size:
        fail(f"corrupt zebin: {s.name} entry size {s.entsize} / size {s.size} (entries are {SYM.size} bytes)")
    if not 1 <= s.link < len(sections):
        fail(f"corrupt zebin: {s.name} links to section {s.link}, which does not exist")
    strtab = _string_table(data, sections[s.link], f"the string table of {s.name}")
    entries = list(SYM.iter(data[s.offset:s.end]))
    if s.info > len(entries):
        fail(f"corrupt zebin: {s.name} says its first global symbol is {s.info}, it has {len(entries)}")
    out = []
    for j, e in enumerate(entries):
        name = cstring(strtab, e.st_name, f"symbol {j} of {s.name}")
        bind, stype = e.st_info >> 4, e.st_info & 0xF
        label = name or "unnamed"
        if bind > STB_WEAK or stype > STT_FILE or e.st_other & ~3:
            fail(f"corrupt zebin: symbol {j} ({label}) has invalid binding/type/visibility "
                 f"({e.st_info:#x}, {e.st_other:#x})")
        if j == 0 and any(e):
            fail(f"corrupt zebin: symbol 0 of {s.name} is not the all-zero null symbol")
        if e.st_shndx not in (SHN_UNDEF, SHN_ABS, SHN_COMMON):
            if e.st_shndx >= min(len(sections), SHN_LORESERVE):
                fail(f"corrupt zebin: symbol {j} ({label}) is in section {e.st_shndx}, which does not exist")
            target = sections[e.st_shndx]
            if target.type == SHT_NULL or e.st_value + e.st_size > target.size:
                fail(f"corrupt zebin: symbol {j} ({label}) at {e.st_value}+{e.st_size} lies outside its section "
                     f"{target.name or e.st_shndx} ({target.size} bytes)")
        out.append(Symbol(j, name, bind, stype, e.st_other, e.st_shndx, e.st_value, e.st_size))
    return out


def _check_relocations(s: Section, sections: List[Section], symbols: Dict[int, List[Symbol]]) -> None:
    layout = RELA if s.type == SHT_RELA else REL
    if s.entsize != layout.size or s.size % layout.size:
        fail(f"corrupt zebin: {s.name} entry size {s.entsize} / size {s.size} (entries are {layout.size} bytes)")
    if s.link not in symbols:
        fail(f"corrupt zebin: {s.name} links to section {s.link}, which is not a symbol table")
    if not 1 <= s.info < len(sections) or sections[s.info].type in (SHT_NULL, SHT_NOBITS):
        fail(f"corrupt zebin: {s.name} applies to section {s.info}, which does not exist or has no data")


def relocation_targets(elf: ElfFile, widths: Dict[int, int]) -> Iterator[Tuple[Section, Relocation]]:
    """Every relocation, after checking its type (``widths``: type -> bytes patched), symbol and place."""
    for s in elf.sections:
        if s.type not in (SHT_REL, SHT_RELA):
            continue
        nsyms, target = len(elf.symbols[s.link]), elf.sections[s.info]
        for r in elf.relocations(s):
            width = widths.get(r.type)
            if width is None:
                fail(f"corrupt zebin: relocation {r.index} of {s.name} has unknown type {r.type}")
            if r.symbol >= nsyms:
                fail(f"corrupt zebin: relocation {r.index} of {s.name} names symbol {r.symbol}, the table has "
                     f"{nsyms}")
            if r.offset + width > target.size:
                fail(f"corrupt zebin: relocation {r.index} of {s.name} patches bytes {r.offset}..{r.offset + width} "
                     f"of {target.name} ({target.size} bytes)")
            yield s, r

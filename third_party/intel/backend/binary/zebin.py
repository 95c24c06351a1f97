"""Zebin, the ELF container of Intel GPU native code: reading it, on the strict ELF parse.

A zebin (IGC's ``ZEBinWriter/zebin/spec``) is an ELF64 file for machine 205 (EM_INTELGT) with

* ``.text.<kernel>``: the kernel's ISA,
* ``.symtab`` / ``.strtab``: a symbol per kernel,
* ``.ze_info``: YAML metadata the runtime needs (:mod:`.zeinfo`) -- per kernel ``execution_env``,
  ``payload_arguments`` and ``per_thread_memory_buffers`` (scratch by usage),
* ``.note.intelgt.compat``: ELF notes owned by ``IntelGT`` naming the target (product family, GFX core,
  target metadata, zebin version, ...),
* ``.spv``: the SPIR-V it was compiled from, plus optional debug sections.

:func:`read` parses once and strictly: what is not a well-formed zebin raises :class:`ZebinFormatError`
naming the field and the value.  Whether the driver may be handed it is :mod:`.validate`'s question.

Spill sizes are reported from the most specific source available and never guessed (see :func:`_spill`);
when nothing says, ``spill_bytes`` is ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from triton.backends.intel import targets
from triton.backends.intel.binary import elf, zeinfo

EM_INTELGT = 205

# Section types NEO's zebin decoder handles, and the names each may have (NEO zebin_elf.h, IGC spec/elf.md).
SHT_ZEBIN_SPIRV = 0xFF000009
SHT_ZEBIN_ZEINFO = 0xFF000011
SHT_ZEBIN_GTPIN_INFO = 0xFF000012
SHT_ZEBIN_VISA_ASM = 0xFF000013
SHT_ZEBIN_MISC = 0xFF000014
SECTION_TYPES = {elf.SHT_NULL: "SHT_NULL", elf.SHT_PROGBITS: "SHT_PROGBITS", elf.SHT_SYMTAB: "SHT_SYMTAB",
                 elf.SHT_STRTAB: "SHT_STRTAB", elf.SHT_RELA: "SHT_RELA", elf.SHT_NOTE: "SHT_NOTE",
                 elf.SHT_NOBITS: "SHT_NOBITS", elf.SHT_REL: "SHT_REL", SHT_ZEBIN_SPIRV: "SHT_ZEBIN_SPIRV",
                 SHT_ZEBIN_ZEINFO: "SHT_ZEBIN_ZEINFO", SHT_ZEBIN_GTPIN_INFO: "SHT_ZEBIN_GTPIN_INFO",
                 SHT_ZEBIN_VISA_ASM: "SHT_ZEBIN_VISA_ASM", SHT_ZEBIN_MISC: "SHT_ZEBIN_MISC"}
_SECTION_NAMES = {
    elf.SHT_PROGBITS: re.compile(r"\.text(\.[^\0]+)?|\.data\.[^\0]+|\.debug_[^\0]+"),
    elf.SHT_SYMTAB: re.compile(r"\.symtab"),
    elf.SHT_STRTAB: re.compile(r"\.strtab|\.shstrtab"),
    elf.SHT_RELA: re.compile(r"\.rela\.[^\0]+"),
    elf.SHT_REL: re.compile(r"\.rel\.[^\0]+"),
    elf.SHT_NOTE: re.compile(r"\.note\.[^\0]+"),
    elf.SHT_NOBITS: re.compile(r"\.bss\.[^\0]+"),
    SHT_ZEBIN_SPIRV: re.compile(r"\.spv"),
    SHT_ZEBIN_ZEINFO: re.compile(r"\.ze_info"),
    SHT_ZEBIN_GTPIN_INFO: re.compile(r"\.gtpin_info[^\0]*"),
    SHT_ZEBIN_VISA_ASM: re.compile(r"\.visaasm[^\0]*"),
    SHT_ZEBIN_MISC: re.compile(r"\.misc[^\0]*"),
}
# The ELF types NEO takes for a zebin: ET_REL (what IGC writes) and ET_ZEBIN_EXE.
ZEBIN_ETYPES = {1: "ET_REL", 0xFF12: "ET_ZEBIN_EXE"}
# Relocation types NEO's linker patches -> bytes patched (zebin_elf.h RELOC_TYPE_ZEBIN: 1 address, 2 its low
# 32 bits, 3 its high 32 bits, 4 the per-thread payload offset).  Linker::patchAddress and patchDataSegments end
# in UNRECOVERABLE_IF for any other type they reach; type 4 only in code (22.43 and 26.27).
RELOC_WIDTH = {1: 8, 2: 4, 3: 4, 4: 4}
_DATA_RELOC_TYPES = (1, 2, 3)
# Symbols NEO's linker resolves itself: in a relocation outside code it indexes a code segment that does not
# exist (Linker::resolveBuiltins).
_CODE_ONLY_SYMBOLS = frozenset(("__SubDeviceID", "__INTEL_PER_THREAD_OFF", "__INTEL_SURFACE_STATE_SIZE"))
# Legacy (patch-token) Intel GPU binaries are ELF with machine 0 and these OpenCL e_types.
_PATCH_TOKEN_ETYPES = {0xFF01: "ET_OPENCL_SOURCE", 0xFF02: "ET_OPENCL_OBJECTS", 0xFF03: "ET_OPENCL_LIBRARY",
                       0xFF04: "ET_OPENCL_EXECUTABLE", 0xFF05: "ET_OPENCL_DEBUG"}
_OTHER_MACHINES = {0: "EM_NONE", 3: "EM_386 (x86)", 40: "EM_ARM", 62: "EM_X86_64 (x86-64)", 183: "EM_AARCH64",
                   190: "EM_CUDA", 224: "EM_AMDGPU", 243: "EM_RISCV"}

# Note types of owner "IntelGT" in .note.intelgt.compat (NEO zebin_elf.h, IGC spec/elf.md).
NOTE_OWNER = b"IntelGT\0"
NT_PRODUCT_FAMILY = 1
NT_GFX_CORE = 2
NT_TARGET_METADATA = 3
NT_ZEBIN_VERSION = 4
NT_VISA_ABI_VERSION = 5
NT_PRODUCT_CONFIG = 6
NT_INDIRECT_ACCESS_DETECTION_VERSION = 7
NT_INDIRECT_ACCESS_BUFFER_VERSION = 8
_GENERATORS = {0: "unregistered", 1: "IGC", 2: "nGEN"}

# Undefined symbols the driver itself resolves when it links a module (NEO's Linker: the implicit-arguments
# offset under its current and its older name, the per-thread payload offset, the sub-device id; IGC's
# vISA RelocationInfo.h names the first two).  Every zebin of IGC 2 refers to the first.
DRIVER_RESOLVED_SYMBOLS = frozenset((
    "__INTEL_PATCH_CROSS_THREAD_OFFSET_OFF_R0",
    "INTEL_PATCH_CROSS_THREAD_OFFSET_OFF_R0",
    "__INTEL_PER_THREAD_OFF",
    "__SubDeviceID",
))

# zeinfo version from which execution_env.spill_size exists (spec/version.md: "1.39: Add
# private_size and spill_size to execution_env"); from then on its absence means 0.
_SPILL_SIZE_SINCE = (1, 39)
SPILL_SOURCES = ("spill_size", "build_log", "spill_fill_space", "no_scratch", "scratch")

# Spilled GRFs a compiler's log states for (kernel, its GRF count): the value, 0 for a complete log without a
# spill line, None when the log cannot say.  See triton.backends.intel.native.build_log.
LogSpills = Callable[[str, Optional[int]], Optional[int]]


@dataclass(frozen=True)
class TargetMetadata:
    """The packed NT_INTELGT_TARGET_METADATA word."""

    packed: int
    generator_specific_flags: int  # bits 7:0
    min_hw_revision: int  # bits 12:8
    validate_revision_id: bool  # bit 13
    disable_extended_validation: bool  # bit 14
    max_hw_revision: int  # bits 20:16
    generator_id: int  # bits 23:21

    @property
    def generator(self) -> str:
        return _GENERATORS.get(self.generator_id, f"generator {self.generator_id}")

    @classmethod
    def unpack(cls, word: int) -> "TargetMetadata":
        return cls(packed=word, generator_specific_flags=word & 0xFF, min_hw_revision=(word >> 8) & 0x1F,
                   validate_revision_id=bool(word >> 13 & 1), disable_extended_validation=bool(word >> 14 & 1),
                   max_hw_revision=(word >> 16) & 0x1F, generator_id=(word >> 21) & 0x7)


@dataclass(frozen=True)
class KernelArg:
    """One entry of a kernel's ``payload_arguments`` (explicit or implicit)."""

    kind: str  # arg_type: arg_bypointer, arg_byvalue, local_size, private_base_stateless, ...
    offset: int  # in the cross-thread payload
    size: int
    arg_index: Optional[int] = None  # the kernel argument it belongs to, for explicit arguments
    addrmode: Optional[str] = None  # stateless, stateful, bindless, slm
    addrspace: Optional[str] = None  # global, local, constant, image, sampler
    access_type: Optional[str] = None  # readonly, writeonly, readwrite
    raw: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def explicit(self) -> bool:
        """Whether this is a user argument rather than one the runtime fills in."""
        return self.kind in ("arg_bypointer", "arg_byvalue")


@dataclass
class KernelInfo:
    """What one kernel of a zebin needs and uses, from ``.ze_info`` (plus the build log for spills)."""

    name: str
    simd_width: int
    grf_count: Optional[int]
    spill_bytes: Optional[int]  # per hardware thread; None when no source says
    spill_source: Optional[str]  # one of SPILL_SOURCES, None with spill_bytes None
    scratch_bytes: int  # per hardware thread, all scratch buffers together
    scratch: Dict[str, int]  # scratch bytes by usage: single_space, private_space, spill_fill_space
    private_global_bytes: int  # private memory IGC placed in global memory (not scratch)
    slm_bytes: int
    barrier_count: int
    has_dpas: bool
    arguments: List[KernelArg]
    private_bytes: Optional[int] = None  # execution_env.private_size, where IGC writes it
    text_bytes: Optional[int] = None  # size of the kernel's ISA
    required_subgroup_size: Optional[int] = None
    arg_info: List[Dict[str, Any]] = field(default_factory=list)  # kernels_misc_info: names and types
    execution_env: Dict[str, Any] = field(default_factory=dict, repr=False)
    memory_buffers: List[Dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def explicit_arguments(self) -> List[KernelArg]:
        return [a for a in self.arguments if a.explicit]

    def scratch_slots(self) -> Dict[int, int]:
        """Scratch bytes per thread by slot: each slot is a separate per-thread space."""
        slots: Dict[int, int] = {}
        for buf in self.memory_buffers:
            if buf.get("type") == "scratch":
                slot = int(buf.get("slot", 0))
                slots[slot] = slots.get(slot, 0) + int(buf.get("size", 0))
        return slots


@dataclass
class Zebin:
    """A parsed zebin: its target, its kernels and the raw metadata they came from."""

    product_family: Optional[int]
    gfx_core: Optional[int]  # None when the note is absent or 0 (unset)
    target_metadata: Optional[TargetMetadata]
    zebin_version: Optional[str]  # NT_INTELGT_ZEBIN_VERSION note
    zeinfo_version: Optional[str]  # .ze_info "version"
    product_config: Optional[int]  # NT_INTELGT_PRODUCT_CONFIG (GMD id), newer IGC only
    kernels: List[KernelInfo]
    sections: List[str]
    elf_class: int  # always 64: the only class read
    notes: Dict[int, bytes] = field(default_factory=dict, repr=False)  # every IntelGT note, raw
    zeinfo: Dict[str, Any] = field(default_factory=dict, repr=False)
    spirv: Optional[bytes] = field(default=None, repr=False)  # the embedded .spv section
    elf: Optional[elf.ElfFile] = field(default=None, repr=False, compare=False)

    @property
    def product_family_name(self) -> Optional[str]:
        """``pvc``, ``dg2`` (all acm-g1x), ``tgllp``, ... or None if unknown."""
        return targets.family_name(self.product_family)

    @property
    def gfx_core_name(self) -> Optional[str]:
        return targets.gfx_core_name(self.gfx_core)

    @property
    def product_config_version(self) -> Optional[str]:
        """The GMD id of NT_INTELGT_PRODUCT_CONFIG as ``arch.release.revision``."""
        return targets.gmd_version(self.product_config) if self.product_config is not None else None

    @property
    def undefined_symbols(self) -> List[str]:
        """Names the symbol table uses but does not define, other than those the driver resolves: functions
        IGC left unresolved (a builtin the installed IGC lacks).  The driver refuses such a kernel."""
        return [s.name for s in self.elf.symbol_table()
                if not s.defined and s.name and s.name not in DRIVER_RESOLVED_SYMBOLS] if self.elf else []

    def text(self, kernel: str) -> bytes:
        """The ISA of ``kernel``."""
        section = self.elf.section(".text." + kernel) if self.elf else None
        if section is None:
            raise KeyError(f"no .text.{kernel} section in zebin")
        return self.elf.content(section)

    def kernel(self, name: str) -> KernelInfo:
        for k in self.kernels:
            if k.name == name:
                return k
        raise KeyError(f"no kernel {name!r} in zebin (kernels: {', '.join(k.name for k in self.kernels)})")


# --------------------------------------------------------------------------------------------
# Reading


def is_zebin(data: bytes) -> bool:
    """Whether ``data`` starts like a zebin: little-endian ELF for machine 205 (EM_INTELGT)."""
    return (len(data) >= 20 and elf.is_elf(data) and data[5] == 1
            and int.from_bytes(data[18:20], "little") == EM_INTELGT)


def identify(data: bytes) -> None:
    """Refuse, with what it is instead, anything that does not start like a zebin."""
    if not data:
        elf.fail("not a zebin: the input is empty")
    if not elf.is_elf(data):
        elf.fail(f"not a zebin: not an ELF file (starts with {bytes(data[:8])!r})")
    if len(data) < 20:
        elf.fail(f"not a zebin: truncated ELF header ({len(data)} bytes)")
    if data[5] != 1:
        elf.fail("not a zebin: big-endian ELF (zebin is little-endian)")
    e_type, e_machine = int.from_bytes(data[16:18], "little"), int.from_bytes(data[18:20], "little")
    if e_machine != EM_INTELGT:
        if e_machine == 0 and e_type in _PATCH_TOKEN_ETYPES:
            elf.fail(f"not a zebin: a legacy patch-token Intel GPU binary ({_PATCH_TOKEN_ETYPES[e_type]}); "
                     "ocloc emits zebin with -internal_options -cl-intel-allow-zebin")
        machine = _OTHER_MACHINES.get(e_machine, "unknown")
        elf.fail(f"not a zebin: ELF for machine {e_machine} ({machine}), not {EM_INTELGT} (EM_INTELGT)")
    if data[4] != elf.ELFCLASS64:
        elf.fail(f"unsupported zebin: ELF class {data[4]} (only 64-bit zebins, which ocloc emits, are loaded)")


def read(data: bytes, log_spills: Optional[LogSpills] = None) -> Zebin:
    """Parse a zebin strictly; ZebinFormatError names what is wrong with bytes that are not a well-formed one.

    ``log_spills`` reports what the compile's build log says of each kernel's spills, for zebins that do not
    carry spill sizes themselves (:func:`triton.backends.intel.native.build_log.spills`).
    """
    data = bytes(data)
    identify(data)
    image = elf.parse(data, SECTION_TYPES, _SECTION_NAMES)
    if image.header.e_type not in ZEBIN_ETYPES:
        elf.fail(f"corrupt zebin: ELF type {image.header.e_type:#x} is neither ET_REL nor ET_ZEBIN_EXE")
    _check_sections(image)
    notes = _notes(image)
    spv = image.section(".spv")
    spirv = image.content(spv) if spv is not None else None
    if spirv is not None and (len(spirv) < 20 or len(spirv) % 4 or spirv[:4] != b"\x03\x02\x23\x07"):
        elf.fail(f"corrupt zebin: .spv is not a SPIR-V module ({len(spirv)} bytes, starts with {spirv[:4]!r})")
    tree = zeinfo.parse(image.content(image.section(".ze_info")))
    version = re.fullmatch(r"(\d{1,4})\.(\d{1,4})", tree["version"])
    if version is None or version.group(1) != "1":
        elf.fail(f"unsupported zebin: .ze_info version {tree['version']!r} (this loader reads zeinfo 1.x)")
    if not tree["kernels"]:
        elf.fail("degenerate zebin: .ze_info lists no kernels")
    family = _u32(notes, NT_PRODUCT_FAMILY)
    name = targets.family_name(family)
    grf_bytes = targets.grf_bytes_of_family(name) if name else None
    misc = {m["name"]: list(m.get("args_info", ())) for m in tree.get("kernels_misc_info", ())}
    text_sizes = {s.name[len(".text."):]: s.size for s in image.sections if s.name.startswith(".text.")}
    kernels = [_kernel_info(entry, misc, text_sizes, tree["version"], log_spills, grf_bytes)
               for entry in tree["kernels"]]
    metadata = _u32(notes, NT_TARGET_METADATA)
    zebin_version = notes.get(NT_ZEBIN_VERSION)
    return Zebin(
        product_family=family,
        gfx_core=_u32(notes, NT_GFX_CORE) or None,
        target_metadata=TargetMetadata.unpack(metadata) if metadata is not None else None,
        zebin_version=zebin_version.rstrip(b"\0").decode("ascii") if zebin_version else None,
        zeinfo_version=tree["version"],
        product_config=_u32(notes, NT_PRODUCT_CONFIG),
        kernels=kernels,
        sections=[s.name for s in image.sections[1:]],
        elf_class=64,
        notes=notes,
        zeinfo=tree,
        spirv=spirv,
        elf=image,
    )


def without_ir(data: bytes) -> bytes:
    """``data``, a zebin, without the SPIR-V it embeds (the ``.spv`` section and any relocations of it): the
    other sections' bytes unchanged, their indices renumbered.  What ``ocloc -exclude_ir`` writes; for the
    compilers that have no such option (NEO 26's ``zeModuleCreate`` ignores ``-exclude-ir-from-zebin``).  A
    zebin without IR is returned as it is; ZebinFormatError if ``data`` is not a well-formed zebin or a symbol
    lives in ``.spv`` (no compiler writes one)."""
    data = bytes(data)
    image = read(data).elf
    spv = image.section(".spv")
    if spv is None:
        return data
    header = image.header
    if header.e_phnum:
        elf.fail(f"unsupported zebin: {header.e_phnum} program headers in an ELF file with a .spv section")
    dropped = {spv.index} | {s.index for s in image.sections
                             if s.type in (elf.SHT_REL, elf.SHT_RELA) and s.info == spv.index}
    for sym in image.symbol_table():
        if sym.shndx in dropped:
            elf.fail(f"corrupt zebin: symbol {sym.index} ({sym.name or 'unnamed'}) lies in {spv.name}")
    kept = [s for s in image.sections if s.index not in dropped]
    new_index = {s.index: i for i, s in enumerate(kept)}

    def renumber(index: int) -> int:
        return new_index.get(index, 0) if 0 < index < elf.SHN_LORESERVE else index

    out = bytearray(data[:header.e_ehsize])
    records = []
    for s in kept:
        raw = elf.SHDR.unpack(data, header.e_shoff + elf.SHDR.size * s.index)
        if s.index == 0:
            records.append(raw)
            continue
        align = max(int(s.addralign), 1)
        out += bytes(-len(out) % align)
        offset = len(out)
        if s.type != elf.SHT_NOBITS:
            body = bytearray(image.content(s))
            if s.type == elf.SHT_SYMTAB:
                for at in range(0, len(body) - elf.SYM.size + 1, elf.SYM.size):
                    sym = elf.SYM.unpack(body, at)
                    elf.SYM.struct.pack_into(body, at, *sym._replace(st_shndx=renumber(sym.st_shndx)))
            out += body
        link = renumber(raw.sh_link)
        info = renumber(raw.sh_info) if s.type in (elf.SHT_REL, elf.SHT_RELA) else raw.sh_info
        records.append(raw._replace(sh_offset=offset, sh_link=link, sh_info=info))
    out += bytes(-len(out) % 8)
    shoff = len(out)
    for raw in records:
        out += elf.SHDR.struct.pack(*raw)
    fixed = elf.EHDR.unpack(out)._replace(e_shoff=shoff, e_shnum=len(records),
                                          e_shstrndx=renumber(header.e_shstrndx))
    elf.EHDR.struct.pack_into(out, 0, *fixed)
    result = bytes(out)
    read(result)  # as strict as any other zebin
    return result


def _check_sections(image: elf.ElfFile) -> None:
    # Names are unique and each type has its names, so there is at most one .ze_info, .symtab and .spv.
    missing = [n for n in (".ze_info", ".symtab", ".note.intelgt.compat") if image.section(n) is None]
    if missing:
        elf.fail(f"degenerate zebin: no {' or '.join(missing)} section (sections: "
                 f"{', '.join(image.by_name) or 'none'}); IGC emitted no kernel code -- see the build log")
    symtab = image.section(".symtab")
    if symtab.link != image.header.e_shstrndx:
        # NEO reads symbol names from the section name table, not from the table sh_link names; IGC keeps both
        # in one .strtab.
        elf.fail(f"corrupt zebin: .symtab names its strings in section {symtab.link}, not in the section name table "
                 f"({image.header.e_shstrndx}) where the driver reads them")
    for s in image.sections:
        # IGC writes kernel code dword-aligned and sized in dwords (ZEBinaryBuilder::addKernelBinary aligns to
        # sizeof(DWORD); IGC 2 also starts every section at 8 bytes); instructions are 8 or 16 bytes.
        if s.name.startswith(".text") and (s.offset % 4 or s.size % 4):
            elf.fail(f"corrupt zebin: {s.name} at byte {s.offset}, {s.size} bytes, is not dword-aligned (kernel "
                     "code is)")
    symbols = image.symbol_table()
    exported = set()
    for sym in symbols:
        if sym.shndx in (elf.SHN_ABS, elf.SHN_COMMON) and (sym.bind != elf.STB_LOCAL or sym.type == elf.STT_FUNC):
            # The linker indexes the section table with st_shndx for global and function symbols.
            elf.fail(f"corrupt zebin: symbol {sym.index} ({sym.name or 'unnamed'}) is a global or function symbol in "
                     f"special section {sym.shndx:#x}")
        if sym.type != elf.STT_FUNC:
            continue
        home = image.sections[sym.shndx] if 0 < sym.shndx < len(image.sections) else None
        if home is None or not home.name.startswith(".text.") or home.type != elf.SHT_PROGBITS:
            # NEO takes the kernel name of a function from its section's name, past ".text."
            elf.fail(f"corrupt zebin: function symbol {sym.index} ({sym.name or 'unnamed'}) is not in a "
                     ".text.<kernel> section")
        if sym.bind == elf.STB_GLOBAL:
            exported.add(home.name)
    if len(exported) > 1:
        # NEO 22.43's linker: UNRECOVERABLE_IF when exported functions lie in more than one code section.
        elf.fail(f"corrupt zebin: global functions in {len(exported)} code sections ({', '.join(sorted(exported))}); "
                 "the driver takes them from one")
    for section, relocation in elf.relocation_targets(image, RELOC_WIDTH):
        if image.sections[section.info].name.startswith(".text"):
            continue
        name = symbols[relocation.symbol].name
        if relocation.type not in _DATA_RELOC_TYPES or name in _CODE_ONLY_SYMBOLS:
            elf.fail(f"corrupt zebin: relocation {relocation.index} of {section.name} (type {relocation.type}, symbol "
                     f"{name or relocation.symbol}) is one the driver patches only in code")


def _notes(image: elf.ElfFile) -> Dict[int, bytes]:
    """The IntelGT notes of .note.intelgt.compat, every one well-formed; ``{type: descriptor}``."""
    notes: Dict[int, bytes] = {}
    for note in list(image.notes(image.section(".note.intelgt.compat"))):  # a note past the section first
        if len(note.owner) < len(NOTE_OWNER) and NOTE_OWNER.startswith(note.owner):
            # NEO 22.43 and 26.27 both die of SIGSEGV on an owner name that is a shorter prefix of IntelGT's
            # (measured on the emulated pvc: the version or product-family note's n_namesz set from 8 to 2..7);
            # a short name of another owner ("Other\0") is skipped as usual.
            elf.fail(f"corrupt .note.intelgt.compat: note of type {note.type} at byte {note.offset} has an owner "
                     f"name of {len(note.owner)} bytes, a prefix of IntelGT's 8; the driver crashes on it")
        if note.owner != NOTE_OWNER:
            # NEO (decodeIntelGTNoteSection, 22.43 and 26.27) skips a note of another owner with a warning.
            continue
        desc, ntype = note.desc, note.type
        if ntype == NT_ZEBIN_VERSION:
            if not re.fullmatch(rb"\d{1,4}\.\d{1,4}\0+", desc) or not 4 <= len(desc) <= 16:
                elf.fail(f"corrupt .note.intelgt.compat: zebin version note {desc!r} is not 'major.minor'")
            if not desc.startswith(b"1."):
                elf.fail(f"unsupported zebin: zebin version {desc.rstrip(bytes(1))!r} (this loader reads 1.x)")
        elif NT_PRODUCT_FAMILY <= ntype <= NT_INDIRECT_ACCESS_BUFFER_VERSION:
            if len(desc) != 4:
                # NEO reads 4 bytes of these descriptors whatever their size (a read past a shorter one).
                elf.fail(f"corrupt .note.intelgt.compat: note of type {ntype} has a {len(desc)}-byte descriptor, "
                         "not 4")
        else:
            # NEO skips an IntelGT note of a type it does not know, with a warning.
            continue
        if ntype in notes:
            elf.fail(f"corrupt .note.intelgt.compat: two notes of type {ntype}")
        if ntype == NT_INDIRECT_ACCESS_BUFFER_VERSION and desc[0] > 2:
            # NEO 26.27's Linker::resolveImplicitArgs: UNRECOVERABLE_IF for a version other than 0, 1, 2.
            elf.fail(f"unsupported zebin: implicit-arguments buffer version {desc[0]} (the driver knows 0 to 2)")
        notes[ntype] = desc
    if NT_PRODUCT_FAMILY not in notes:
        elf.fail("corrupt .note.intelgt.compat: no product family note (NT_INTELGT_PRODUCT_FAMILY)")
    return notes


def _u32(notes: Dict[int, bytes], ntype: int) -> Optional[int]:
    desc = notes.get(ntype)
    return int.from_bytes(desc[:4], "little") if desc is not None and len(desc) >= 4 else None


def _version_tuple(version: Optional[str]) -> Optional[Tuple[int, int]]:
    m = re.match(r"^\s*(\d+)\.(\d+)", str(version)) if version is not None else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def _spill(env: Dict[str, Any], scratch: Dict[str, int], zeinfo_version: Optional[str],
           log_grfs: Optional[int], grf_bytes: Optional[int]) -> Tuple[Optional[int], Optional[str]]:
    """Spill bytes per hardware thread and their source (SPILL_SOURCES), most specific source first;
    (None, None) when nothing says.

    * ``spill_size`` (zeinfo 1.39+, IGC 2): vISA's spill space in bytes per thread; private memory is
      ``private_size``, apart.  Absent from 1.39 on means 0.
    * ``build_log``: IGC's "spilled around N" counts GRFs, so bytes = N x the device's GRF size (IGC 1 and 2
      alike; on IGC 2 this equals ``spill_size``).
    * ``spill_fill_space``: the scratch slot IGC keeps for spills when private memory has its own.
    * ``scratch``: scratch no source explains.  IGC prints no spill line for kernels with stack calls, and
      zeinfo before 1.39 does not separate private memory, so all such scratch counts as spill (an upper
      bound; Triton kernels rarely use private memory).
    """
    if "spill_size" in env:
        return int(env["spill_size"]), "spill_size"
    if log_grfs is not None and log_grfs > 0 and grf_bytes:
        return log_grfs * grf_bytes, "build_log"
    if "spill_fill_space" in scratch:
        return scratch["spill_fill_space"], "spill_fill_space"
    version = _version_tuple(zeinfo_version)
    if version is not None and version >= _SPILL_SIZE_SINCE:
        return 0, "spill_size"  # the spec's default: IGC writes spill_size only when non-zero
    if not scratch:
        return 0, "no_scratch"  # spills live in scratch; a kernel without scratch did not spill
    unexplained = sum(scratch.values())
    if unexplained > 0:
        return unexplained, "scratch"
    if log_grfs is not None:
        return 0, "build_log"  # a complete log without a spill line, and no scratch in use
    return None, None


def _kernel_info(entry: Dict[str, Any], misc: Dict[str, List[Dict[str, Any]]], text_sizes: Dict[str, int],
                 zeinfo_version: str, log_spills: Optional[LogSpills], grf_bytes: Optional[int]) -> KernelInfo:
    name, env = entry["name"], entry["execution_env"]
    buffers = entry.get("per_thread_memory_buffers", [])
    scratch: Dict[str, int] = {}
    private_global = 0
    for buf in buffers:
        if buf["type"] == "scratch":
            scratch[buf["usage"]] = scratch.get(buf["usage"], 0) + buf["size"]
        elif buf["type"] == "global":
            private_global += buf["size"]
    grf = env["grf_count"]
    log_grfs = log_spills(name, grf) if log_spills is not None else None
    spill, source = _spill(env, scratch, zeinfo_version, log_grfs, grf_bytes)
    args = [KernelArg(kind=a["arg_type"], offset=a["offset"], size=a["size"], arg_index=a.get("arg_index"),
                      addrmode=a.get("addrmode"), addrspace=a.get("addrspace"), access_type=a.get("access_type"),
                      raw=dict(a)) for a in entry.get("payload_arguments", [])]
    user = entry.get("user_attributes", {})
    return KernelInfo(
        name=name,
        simd_width=env["simd_size"],
        grf_count=grf,
        spill_bytes=spill,
        spill_source=source,
        scratch_bytes=sum(scratch.values()),
        scratch=scratch,
        private_global_bytes=private_global,
        slm_bytes=env.get("slm_size", 0),
        barrier_count=env.get("barrier_count", 0),
        has_dpas=env.get("has_dpas", False),  # optional, default false (spec/zeinfo.md)
        arguments=args,
        private_bytes=env.get("private_size"),
        text_bytes=text_sizes.get(name),
        required_subgroup_size=env.get("required_sub_group_size") or user.get("intel_reqd_sub_group_size"),
        arg_info=misc.get(name, []),
        execution_env=dict(env),
        memory_buffers=[dict(b) for b in buffers],
    )

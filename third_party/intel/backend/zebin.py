"""Reading zebin, the ELF container holding Intel GPU native code, and ocloc's fat binaries.

A zebin (IGC's ``ZEBinWriter/zebin/spec``) is an ELF file for machine 205
(EM_INTELGT) with

* ``.text.<kernel>``: the kernel's ISA (newer IGC may use one ``.text``),
* ``.symtab`` / ``.strtab``: a symbol per kernel,
* ``.ze_info``: YAML metadata the runtime needs -- per kernel ``execution_env``
  (``simd_size``, ``grf_count``, ``slm_size``, ``barrier_count``, ``has_dpas``,
  and from zeinfo 1.39 on ``private_size`` / ``spill_size``),
  ``payload_arguments`` and ``per_thread_memory_buffers`` (scratch by usage),
* ``.note.intelgt.compat``: ELF notes owned by ``IntelGT`` naming the target
  (product family, GFX core, target metadata, zebin version, ...),
* ``.spv``: the SPIR-V it was compiled from, plus optional debug sections.

Spill sizes are reported from the most specific source available and never
guessed: ``execution_env.spill_size`` where IGC writes it, else IGC's build-log
line ``kernel K compiled SIMDn allocated R regs and spilled around S``, else
scratch with usage ``spill_fill_space``.  Scratch with usage ``single_space``
or ``private_space`` also holds private memory, so it is reported as scratch,
never as spills.  When nothing says, ``spill_bytes`` is ``None``.

ocloc's fat binary (several ``-device`` targets) is an ``ar`` archive with one
zebin per device, named ``<pointer size>.<IP version>`` (``64.12.60.7`` is
pvc), plus ``pad_N`` alignment members and ``generic_ir`` (the SPIR-V).
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml
from elftools.elf.elffile import ELFFile

from triton.backends.intel.errors import ZebinFormatError

try:  # libyaml's parser is ~10x faster; the pure-Python one gives the same result
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader

EM_INTELGT = 205
SHT_ZEBIN_ZEINFO = 0xFF000011
SHT_NOBITS = 8

# Legacy (patch-token) Intel GPU binaries are ELF with machine 0 and these OpenCL e_types.
_PATCH_TOKEN_ETYPES = {0xFF01: "ET_OPENCL_SOURCE", 0xFF02: "ET_OPENCL_OBJECTS", 0xFF03: "ET_OPENCL_LIBRARY",
                       0xFF04: "ET_OPENCL_EXECUTABLE"}
_OTHER_MACHINES = {0: "EM_NONE", 3: "EM_386 (x86)", 40: "EM_ARM", 62: "EM_X86_64 (x86-64)", 183: "EM_AARCH64",
                   243: "EM_RISCV", 224: "EM_AMDGPU", 190: "EM_CUDA"}

# Note types of owner "IntelGT" in .note.intelgt.compat (NEO zebin_elf.h, IGC spec/elf.md).
NT_PRODUCT_FAMILY = 1
NT_GFX_CORE = 2
NT_TARGET_METADATA = 3
NT_ZEBIN_VERSION = 4
NT_VISA_ABI_VERSION = 5
NT_PRODUCT_CONFIG = 6
NT_INDIRECT_ACCESS_DETECTION_VERSION = 7
NT_INDIRECT_ACCESS_BUFFER_VERSION = 8

# PRODUCT_FAMILY of igfxfmid.h.  29..33 and 1210/1270/1271 measured with ocloc 22.43
# (tgllp, rkl, adl-s, adl-p, adl-n, dg1, acm-g1x, pvc); the others are from the header.
PRODUCT_FAMILIES: Dict[int, str] = {
    16: "bdw", 18: "skl", 19: "kbl", 20: "cfl", 22: "bxt", 23: "glk", 26: "icllp", 27: "lkf", 28: "jsl",
    29: "tgllp", 30: "rkl", 31: "adl-s", 32: "adl-p", 33: "adl-n",
    1210: "dg1", 1250: "xe-hp-sdv", 1270: "dg2", 1271: "pvc", 1272: "mtl", 1273: "arl", 1274: "bmg",
    1275: "lnl", 1300: "ptl",
}

# GFXCORE_FAMILY of igfxfmid.h.  IGC 1.0.12504 writes 0 (unset) in the note.
GFX_CORES: Dict[int, str] = {
    11: "gen8", 12: "gen9", 15: "gen11", 16: "gen11lp", 17: "gen12", 18: "gen12lp",
    0x0C05: "xe-hp", 0x0C07: "xe-hpg", 0x0C08: "xe-hpc", 0x0C09: "xe2", 0x1E00: "xe3",
}

# IP version (``ocloc ids <device>``, measured with ocloc 22.43) -> ocloc device name.  Fat-binary
# members are named by IP version; the first device of each IP is the canonical one.
IP_VERSIONS: Dict[str, str] = {
    "8.0.0": "bdw", "9.0.9": "skl", "9.1.9": "kbl", "9.2.9": "cfl", "9.3.0": "apl", "9.4.0": "glk",
    "9.5.0": "whl", "9.6.0": "aml", "9.7.0": "cml", "11.0.0": "icllp", "11.1.0": "lkf", "11.2.0": "ehl",
    "12.0.0": "tgllp", "12.1.0": "rkl", "12.2.0": "adl-s", "12.3.0": "adl-p", "12.4.0": "adl-n",
    "12.10.0": "dg1", "12.55.8": "acm-g10", "12.56.5": "acm-g11", "12.57.0": "acm-g12",
    "12.60.1": "pvc-sdv", "12.60.7": "pvc",
}

_GENERATORS = {0: "unregistered", 1: "IGC", 2: "nGEN"}

# zeinfo version from which execution_env.spill_size exists (spec/version.md: "1.39: Add
# private_size and spill_size to execution_env"); from then on its absence means 0.
_SPILL_SIZE_SINCE = (1, 39)

SPILL_SOURCES = ("spill_size", "build_log", "spill_fill_space", "no_scratch")


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
    text_bytes: Optional[int] = None  # size of the kernel's ISA, when it has its own .text section
    required_subgroup_size: Optional[int] = None
    arg_info: List[Dict[str, Any]] = field(default_factory=list)  # kernels_misc_info: names and types
    execution_env: Dict[str, Any] = field(default_factory=dict, repr=False)
    memory_buffers: List[Dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def explicit_arguments(self) -> List[KernelArg]:
        return [a for a in self.arguments if a.explicit]


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
    elf_class: int  # 32 or 64
    notes: Dict[int, bytes] = field(default_factory=dict, repr=False)  # every IntelGT note, raw
    zeinfo: Dict[str, Any] = field(default_factory=dict, repr=False)
    spirv: Optional[bytes] = field(default=None, repr=False)  # the embedded .spv section

    @property
    def product_family_name(self) -> Optional[str]:
        """``pvc``, ``dg2`` (all acm-g1x), ``tgllp``, ... or None if unknown."""
        return PRODUCT_FAMILIES.get(self.product_family) if self.product_family is not None else None

    @property
    def gfx_core_name(self) -> Optional[str]:
        return GFX_CORES.get(self.gfx_core) if self.gfx_core is not None else None

    @property
    def product_config_version(self) -> Optional[str]:
        """The GMD id of NT_INTELGT_PRODUCT_CONFIG as ``arch.release.revision``."""
        if self.product_config is None:
            return None
        gmd = self.product_config
        return f"{gmd >> 22 & 0x3FF}.{gmd >> 14 & 0xFF}.{gmd & 0x3F}"

    def kernel(self, name: str) -> KernelInfo:
        for k in self.kernels:
            if k.name == name:
                return k
        raise KeyError(f"no kernel {name!r} in zebin (kernels: {', '.join(k.name for k in self.kernels)})")


# --------------------------------------------------------------------------------------------
# Build log


_SPILL_LINE = re.compile(r"kernel\s+(?P<name>\S+)\s+compiled\s+SIMD(?P<simd>\d+)\s+allocated\s+(?P<regs>\d+)\s+regs"
                         r"\s+and\s+spilled\s+around\s+(?P<spill>\d+)")
_DEVICE_END = re.compile(r"^Build (?:succeeded|failed) for : (?P<device>\S+?)(?:\.|\s+with\b.*)?$", re.MULTILINE)


def _log_sections(log: str) -> List[Tuple[Optional[str], str]]:
    """Split an ocloc log into (device, text) sections; a single-device log is one (None, log) section."""
    sections: List[Tuple[Optional[str], str]] = []
    start = 0
    for m in _DEVICE_END.finditer(log):
        end = log.find("\n", m.end())
        end = len(log) if end < 0 else end + 1
        sections.append((m.group("device"), log[start:end]))
        start = end
    if not sections:
        return [(None, log)]
    if log[start:].strip():
        sections.append((None, log[start:]))
    return sections


def spill_from_build_log(log: str, device: Optional[str] = None) -> Dict[str, Tuple[int, int]]:
    """``{kernel: (registers, spill bytes)}`` from IGC's "allocated N regs and spilled around M" lines.

    IGC prints the line only for kernels that spill.  A fat-binary log holds one
    section per device (ending in ``Build succeeded for : <device>.``); pass
    ``device`` to read only that device's section, otherwise later lines win.
    """
    result: Dict[str, Tuple[int, int]] = {}
    for dev, text in _log_sections(log):
        if device is not None and dev is not None and dev != device:
            continue
        for m in _SPILL_LINE.finditer(text):
            result[m.group("name")] = (int(m.group("regs")), int(m.group("spill")))
    return result


def _build_log_spill(log: str, device: Optional[str], kernel: str, grf: Optional[int]) -> Optional[int]:
    """Spill bytes the log states for ``kernel``: its line's value, 0 for a complete log without a line,
    None when the log cannot say (empty, truncated, other device, contradicting sections or GRF size)."""
    if not log.strip():
        return None
    sections = _log_sections(log)
    if device is not None and any(dev is not None for dev, _ in sections):
        sections = [(dev, text) for dev, text in sections if dev == device]
    if not sections:
        return None
    values = set()
    for _, text in sections:
        lines = [m for m in _SPILL_LINE.finditer(text) if m.group("name") == kernel]
        if lines:
            m = lines[-1]
            if grf is not None and int(m.group("regs")) != grf:
                return None  # the log is of another build (different GRF mode)
            values.add(int(m.group("spill")))
        elif "Build succeeded" in text:
            values.add(0)  # IGC reports every spilling kernel; a finished build without a line did not spill
        else:
            return None
    return values.pop() if len(values) == 1 else None


# --------------------------------------------------------------------------------------------
# ELF


def is_zebin(data: bytes) -> bool:
    """Whether ``data`` starts like a zebin: little-endian ELF for machine 205 (EM_INTELGT)."""
    return (len(data) >= 20 and bytes(data[:4]) == b"\x7fELF" and data[5] == 1
            and struct.unpack_from("<H", data, 18)[0] == EM_INTELGT)


def _check_elf_header(data: bytes) -> int:
    """Validate what pyelftools would misreport; returns the ELF class (32 or 64)."""
    if not data:
        raise ZebinFormatError("not a zebin: the input is empty")
    if bytes(data[:4]) != b"\x7fELF":
        raise ZebinFormatError(f"not a zebin: not an ELF file (starts with {bytes(data[:8])!r})")
    if len(data) < 20:
        raise ZebinFormatError(f"not a zebin: truncated ELF header ({len(data)} bytes)")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2):
        raise ZebinFormatError(f"not a zebin: invalid ELF class {ei_class}")
    if ei_data != 1:
        raise ZebinFormatError("not a zebin: big-endian ELF (zebin is little-endian)")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_machine != EM_INTELGT:
        if e_machine == 0 and e_type in _PATCH_TOKEN_ETYPES:
            raise ZebinFormatError(
                f"not a zebin: a legacy patch-token Intel GPU binary ({_PATCH_TOKEN_ETYPES[e_type]}); "
                "ocloc emits zebin with -internal_options -cl-intel-allow-zebin")
        machine = _OTHER_MACHINES.get(e_machine, "unknown")
        raise ZebinFormatError(f"not a zebin: ELF for machine {e_machine} ({machine}), "
                               f"not {EM_INTELGT} (EM_INTELGT)")
    header = 64 if ei_class == 2 else 52
    if len(data) < header:
        raise ZebinFormatError(f"truncated zebin: {len(data)} bytes, shorter than the {header}-byte ELF header")
    if ei_class == 2:
        shoff, = struct.unpack_from("<Q", data, 40)
        shentsize, shnum = struct.unpack_from("<HH", data, 58)
    else:
        shoff, = struct.unpack_from("<I", data, 32)
        shentsize, shnum = struct.unpack_from("<HH", data, 46)
    if shnum == 0:
        raise ZebinFormatError("degenerate zebin: no section headers")
    if shoff + shentsize * shnum > len(data):
        raise ZebinFormatError(f"truncated zebin: section headers end at byte {shoff + shentsize * shnum}, "
                               f"the data has {len(data)}")
    return 64 if ei_class == 2 else 32


def _parse_notes(data: bytes) -> Dict[int, bytes]:
    """IntelGT notes of ``.note.intelgt.compat``: {type: descriptor}."""
    notes: Dict[int, bytes] = {}
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
        pos += 12
        name_end = pos + namesz
        desc_start = pos + (namesz + 3 & ~3)
        desc_end = desc_start + descsz
        if desc_end > len(data):
            raise ZebinFormatError(f"corrupt .note.intelgt.compat: note of type {ntype} runs past the section")
        if bytes(data[pos:name_end]).rstrip(b"\0") == b"IntelGT":
            notes[ntype] = bytes(data[desc_start:desc_end])
        pos = desc_start + (descsz + 3 & ~3)
    return notes


def _u32(notes: Dict[int, bytes], ntype: int) -> Optional[int]:
    desc = notes.get(ntype)
    return struct.unpack_from("<I", desc)[0] if desc is not None and len(desc) >= 4 else None


def _version_tuple(version: Optional[str]) -> Optional[Tuple[int, int]]:
    m = re.match(r"^\s*(\d+)\.(\d+)", str(version)) if version is not None else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def _spill(env: Dict[str, Any], scratch: Dict[str, int], has_scratch: bool, zeinfo_version: Optional[str],
           log_spill: Optional[int]) -> Tuple[Optional[int], Optional[str]]:
    """Spill bytes and their source, most specific source first; (None, None) when nothing says."""
    if "spill_size" in env:
        return int(env["spill_size"]), "spill_size"
    if log_spill is not None and log_spill > 0:
        return log_spill, "build_log"
    if "spill_fill_space" in scratch:
        return scratch["spill_fill_space"], "spill_fill_space"
    version = _version_tuple(zeinfo_version)
    if version is not None and version >= _SPILL_SIZE_SINCE:
        return 0, "spill_size"  # the spec's default: IGC writes spill_size only when non-zero
    if not has_scratch:
        return 0, "no_scratch"  # spills live in scratch; a kernel without scratch did not spill
    if log_spill is not None:
        return log_spill, "build_log"  # a complete log without a spill line for this kernel: 0
    return None, None


def _kernel_info(entry: Dict[str, Any], misc: Dict[str, List[Dict[str, Any]]], text_sizes: Dict[str, int],
                 zeinfo_version: Optional[str], build_log: str, device: Optional[str]) -> KernelInfo:
    name = entry.get("name")
    env = entry.get("execution_env")
    if not isinstance(name, str) or not isinstance(env, dict):
        raise ZebinFormatError(f"malformed .ze_info: kernel entry without name or execution_env: {entry!r:.200}")
    if "simd_size" not in env:
        raise ZebinFormatError(f"malformed .ze_info: kernel {name} has no execution_env.simd_size")
    buffers = entry.get("per_thread_memory_buffers") or []
    scratch: Dict[str, int] = {}
    private_global = 0
    for buf in buffers:
        size = int(buf.get("size", 0))
        if buf.get("type") == "scratch":
            usage = str(buf.get("usage", "unknown"))
            scratch[usage] = scratch.get(usage, 0) + size
        elif buf.get("type") == "global":
            private_global += size
    grf = env.get("grf_count")
    log_spill = _build_log_spill(build_log, device, name, grf)
    spill, source = _spill(env, scratch, bool(scratch), zeinfo_version, log_spill)
    args = [
        KernelArg(kind=str(a.get("arg_type")), offset=int(a.get("offset", 0)), size=int(a.get("size", 0)),
                  arg_index=a.get("arg_index"), addrmode=a.get("addrmode"), addrspace=a.get("addrspace"),
                  access_type=a.get("access_type"), raw=dict(a)) for a in entry.get("payload_arguments") or []
    ]
    user = entry.get("user_attributes") or {}
    return KernelInfo(
        name=name,
        simd_width=int(env["simd_size"]),
        grf_count=int(grf) if grf is not None else None,
        spill_bytes=spill,
        spill_source=source,
        scratch_bytes=sum(scratch.values()),
        scratch=scratch,
        private_global_bytes=private_global,
        slm_bytes=int(env.get("slm_size", 0)),
        barrier_count=int(env.get("barrier_count", 0)),
        has_dpas=bool(env.get("has_dpas", False)),  # optional, default false (spec/zeinfo.md)
        arguments=args,
        private_bytes=int(env["private_size"]) if "private_size" in env else None,
        text_bytes=text_sizes.get(name),
        required_subgroup_size=env.get("required_sub_group_size") or user.get("intel_reqd_sub_group_size"),
        arg_info=misc.get(name, []),
        execution_env=dict(env),
        memory_buffers=[dict(b) for b in buffers],
    )


def read_zebin(data: bytes, build_log: str = "", device: Optional[str] = None) -> Zebin:
    """Parse a zebin; raises ZebinFormatError naming what is wrong with bytes that are not a usable one.

    ``build_log`` is ocloc's log for the compile that produced it, used for spill
    sizes when the zebin itself does not carry them; for the log of a fat-binary
    compile, ``device`` selects that device's part of it.
    """
    data = bytes(data)
    elf_class = _check_elf_header(data)
    try:
        elf = ELFFile(io.BytesIO(data))
        sections = list(elf.iter_sections())
        names = [s.name for s in sections]
    except Exception as e:  # pyelftools raises assorted errors on corrupt input
        raise ZebinFormatError(f"corrupt zebin: {type(e).__name__}: {e}") from e
    for s in sections:
        if s["sh_type"] != "SHT_NOBITS" and s["sh_offset"] + s["sh_size"] > len(data):
            raise ZebinFormatError(f"truncated zebin: section {s.name or '#'} ends at byte "
                                   f"{s['sh_offset'] + s['sh_size']}, the data has {len(data)}")
    by_name = {s.name: s for s in sections}
    text_sizes = {n[len(".text."):]: s["sh_size"] for n, s in by_name.items() if n.startswith(".text.")}
    missing = []
    if not any(n == ".text" or n.startswith(".text.") for n in names):
        missing.append(".text*")
    if not any(s["sh_type"] == "SHT_SYMTAB" for s in sections):
        missing.append(".symtab")
    zeinfo_section = by_name.get(".ze_info")
    if zeinfo_section is None:
        missing.append(".ze_info")
    if missing:
        present = ", ".join(n for n in names if n) or "none"
        raise ZebinFormatError(f"degenerate zebin: no {', '.join(missing)} section (sections: {present}); "
                               "IGC emitted no kernel code -- see the build log")

    try:
        zeinfo = yaml.load(zeinfo_section.data().decode("utf-8"), Loader=_YamlLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ZebinFormatError(f"malformed .ze_info YAML: {e}") from e
    if not isinstance(zeinfo, dict) or not isinstance(zeinfo.get("kernels"), list) or not zeinfo["kernels"]:
        raise ZebinFormatError("degenerate zebin: .ze_info lists no kernels")

    notes_section = by_name.get(".note.intelgt.compat")
    notes = _parse_notes(notes_section.data()) if notes_section is not None else {}
    metadata = _u32(notes, NT_TARGET_METADATA)
    gfx_core = _u32(notes, NT_GFX_CORE)
    zebin_version = notes.get(NT_ZEBIN_VERSION)
    zeinfo_version = str(zeinfo["version"]) if "version" in zeinfo else None

    misc = {m.get("name"): list(m.get("args_info") or []) for m in zeinfo.get("kernels_misc_info") or []}
    kernels = [
        _kernel_info(entry, misc, text_sizes, zeinfo_version, build_log, device) for entry in zeinfo["kernels"]
    ]
    spv = by_name.get(".spv")
    return Zebin(
        product_family=_u32(notes, NT_PRODUCT_FAMILY),
        gfx_core=gfx_core or None,
        target_metadata=TargetMetadata.unpack(metadata) if metadata is not None else None,
        zebin_version=zebin_version.rstrip(b"\0").decode("ascii", "replace") if zebin_version else None,
        zeinfo_version=zeinfo_version,
        product_config=_u32(notes, NT_PRODUCT_CONFIG),
        kernels=kernels,
        sections=[n for n in names if n],
        elf_class=elf_class,
        notes=notes,
        zeinfo=zeinfo,
        spirv=spv.data() if spv is not None else None,
    )


# --------------------------------------------------------------------------------------------
# Fat binaries (ar archives)

AR_MAGIC = b"!<arch>\n"


def is_fat_binary(data: bytes) -> bool:
    return bytes(data[:8]) == AR_MAGIC


def read_ar_members(data: bytes) -> List[Tuple[str, bytes]]:
    """All members of an ``ar`` archive as (name, bytes), in order, GNU long names resolved."""
    data = bytes(data)
    if not is_fat_binary(data):
        raise ZebinFormatError(f"not an ocloc fat binary: no ar magic (starts with {data[:8]!r})")
    members: List[Tuple[str, bytes]] = []
    long_names = b""
    pos = len(AR_MAGIC)
    while pos < len(data):
        if pos + 60 > len(data):
            raise ZebinFormatError(f"truncated fat binary: member header at byte {pos} is cut off")
        header = data[pos:pos + 60]
        if header[58:60] != b"`\n":
            raise ZebinFormatError(f"corrupt fat binary: bad member header at byte {pos}")
        raw_name = header[:16].decode("ascii", "replace").rstrip()
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise ZebinFormatError(f"corrupt fat binary: bad member size at byte {pos}") from None
        start = pos + 60
        if start + size > len(data):
            raise ZebinFormatError(f"truncated fat binary: member {raw_name!r} needs {size} bytes, "
                                   f"{len(data) - start} left")
        body = data[start:start + size]
        pos = start + size + (size & 1)  # members are 2-byte aligned
        if raw_name == "//":
            long_names = body
            continue
        if raw_name == "/" or raw_name == "/SYM64/":
            continue  # symbol tables
        if raw_name.startswith("/") and raw_name[1:].isdigit():
            offset = int(raw_name[1:])
            end = long_names.find(b"/\n", offset)
            raw_name = long_names[offset:end if end >= 0 else None].decode("ascii", "replace")
        members.append((raw_name.rstrip("/"), body))
    return members


def read_fat_binary(data: bytes, ip_versions: Optional[Mapping[str, str]] = None) -> Dict[str, bytes]:
    """The device binaries of an ocloc fat binary, keyed by ocloc device name (``pvc``, ``acm-g10``).

    Members are named ``<pointer size>.<IP version>``; IP versions are mapped
    to names with :data:`IP_VERSIONS` (extend it with ``ip_versions``, e.g. from
    ``ocloc ids``); an unknown IP version stays the key.  Padding members and
    ``generic_ir`` (the SPIR-V) are left out -- see :func:`read_ar_members`.
    """
    table = dict(IP_VERSIONS)
    table.update(ip_versions or {})
    result: Dict[str, bytes] = {}
    for name, body in read_ar_members(data):
        if name.startswith("pad_") or name == "generic_ir":
            continue
        m = re.match(r"^(?:32|64)\.(.+)$", name)
        key = m.group(1) if m else name
        result[table.get(key, key)] = body
    return result

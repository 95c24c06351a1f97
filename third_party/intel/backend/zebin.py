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

:func:`validate_for_load` is the strict form of :func:`read_zebin` for binaries about to be handed to the
Level Zero driver: NEO aborts the process on some malformed zebins instead of refusing them, so everything
its decoder trusts is checked first (see the notes above that function).

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

from triton.backends.intel import targets
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
    # ocloc 26.27 (Debian testing)
    "12.70.4": "mtl", "12.74.4": "arl-h", "20.1.0": "bmg", "20.4.4": "lnl", "30.0.4": "ptl",
}

_GENERATORS = {0: "unregistered", 1: "IGC", 2: "nGEN"}

# zeinfo version from which execution_env.spill_size exists (spec/version.md: "1.39: Add
# private_size and spill_size to execution_env"); from then on its absence means 0.
_SPILL_SIZE_SINCE = (1, 39)

SPILL_SOURCES = ("spill_size", "build_log", "spill_fill_space", "no_scratch", "scratch")


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


# IGC up to 2.34: "kernel K  compiled SIMD16 allocated 128 regs and spilled around N";
# from 2.35: "in kernel 'K': compiled SIMD16 allocated 128 regs and spilled around N".  N is a count of GRFs,
# max(1, ceil(spill bytes / GRF bytes)) (IGC's CEncoder, CISABuilder.cpp), not bytes.
_SPILL_LINE = re.compile(r"kernel\s+'?(?P<name>[^\s':]+)'?:?\s+compiled\s+SIMD(?P<simd>\d+)\s+allocated\s+"
                         r"(?P<regs>\d+)\s+regs\s+and\s+spilled\s+around\s+(?P<spill>\d+)")
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
    """``{kernel: (registers, spilled GRFs)}`` from IGC's "allocated N regs and spilled around M" lines
    (M counts registers: multiply by the device's GRF size in bytes for spill bytes).

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
    """Spilled GRFs the log states for ``kernel``: its line's value, 0 for a complete log without a line,
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


def _grf_bytes(product_family: Optional[int]) -> Optional[int]:
    """Bytes per GRF of the zebin's product family (the target table), None when unknown."""
    name = PRODUCT_FAMILIES.get(product_family) if product_family is not None else None
    return targets.grf_bytes_of_family(name) if name else None


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
                 zeinfo_version: Optional[str], build_log: str, device: Optional[str],
                 grf_bytes: Optional[int]) -> KernelInfo:
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
    log_grfs = _build_log_spill(build_log, device, name, grf)
    spill, source = _spill(env, scratch, zeinfo_version, log_grfs, grf_bytes)
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
    try:
        notes = _parse_notes(notes_section.data()) if notes_section is not None else {}
        metadata = _u32(notes, NT_TARGET_METADATA)
        gfx_core = _u32(notes, NT_GFX_CORE)
        zebin_version = notes.get(NT_ZEBIN_VERSION)
        zeinfo_version = str(zeinfo["version"]) if "version" in zeinfo else None
        misc = {m.get("name"): list(m.get("args_info") or []) for m in zeinfo.get("kernels_misc_info") or []}
        grf_bytes = _grf_bytes(_u32(notes, NT_PRODUCT_FAMILY))
        kernels = [
            _kernel_info(entry, misc, text_sizes, zeinfo_version, build_log, device, grf_bytes)
            for entry in zeinfo["kernels"]
        ]
    except ZebinFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, struct.error) as e:
        # Well-formed YAML with values of the wrong shape (a corrupted or hand-edited zebin).
        raise ZebinFormatError(f"malformed .ze_info or notes: {type(e).__name__}: {e}") from e
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


# --------------------------------------------------------------------------------------------
# Validation before loading
#
# NEO (the Level Zero GPU driver) trusts much of what it decodes: on some malformed zebins it does not
# return an error but aborts the process (UNRECOVERABLE_IF, e.g. an explicit argument without arg_index,
# one arg_index used both as a pointer and as a value) or reads out of bounds (section, string and symbol
# indices).  validate_for_load() is the gate in front of zeModuleCreate: it accepts what IGC emits and
# refuses everything else, naming what is wrong.  It checks the ELF structure itself (no pyelftools, for
# speed), the .ze_info text against the subset of YAML IGC writes (so PyYAML and NEO's own YAML parser read
# the same thing), the .ze_info tree against the zeinfo schema (IGC ZEBinWriter/zebin/spec/zeinfo.md, keys
# up to zeinfo 1.6x), and what the pieces say about each other.

SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOTE, SHT_REL = 0, 1, 2, 3, 4, 7, 9
SHT_ZEBIN_SPIRV = 0xFF000009
SHT_ZEBIN_GTPIN_INFO = 0xFF000012
SHT_ZEBIN_VISA_ASM = 0xFF000013
SHT_ZEBIN_MISC = 0xFF000014

# Section types NEO's zebin decoder handles, and the names each may have.
_SECTION_NAMES = {
    SHT_PROGBITS: re.compile(r"\.text(\.[^\0]+)?|\.data\.[^\0]+|\.debug_[^\0]+"),
    SHT_SYMTAB: re.compile(r"\.symtab"),
    SHT_STRTAB: re.compile(r"\.strtab|\.shstrtab"),
    SHT_RELA: re.compile(r"\.rela\.[^\0]+"),
    SHT_REL: re.compile(r"\.rel\.[^\0]+"),
    SHT_NOTE: re.compile(r"\.note\.[^\0]+"),
    SHT_NOBITS: re.compile(r"\.bss\.[^\0]+"),
    SHT_ZEBIN_SPIRV: re.compile(r"\.spv"),
    SHT_ZEBIN_ZEINFO: re.compile(r"\.ze_info"),
    SHT_ZEBIN_GTPIN_INFO: re.compile(r"\.gtpin_info[^\0]*"),
    SHT_ZEBIN_VISA_ASM: re.compile(r"\.visaasm[^\0]*"),
    SHT_ZEBIN_MISC: re.compile(r"\.misc[^\0]*"),
}
_SECTION_TYPE_NAMES = {SHT_NULL: "SHT_NULL", SHT_PROGBITS: "SHT_PROGBITS", SHT_SYMTAB: "SHT_SYMTAB",
                       SHT_STRTAB: "SHT_STRTAB", SHT_RELA: "SHT_RELA", SHT_NOTE: "SHT_NOTE", SHT_NOBITS: "SHT_NOBITS",
                       SHT_REL: "SHT_REL", SHT_ZEBIN_SPIRV: "SHT_ZEBIN_SPIRV", SHT_ZEBIN_ZEINFO: "SHT_ZEBIN_ZEINFO",
                       SHT_ZEBIN_GTPIN_INFO: "SHT_ZEBIN_GTPIN_INFO", SHT_ZEBIN_VISA_ASM: "SHT_ZEBIN_VISA_ASM",
                       SHT_ZEBIN_MISC: "SHT_ZEBIN_MISC"}
# The ELF types NEO takes for a zebin: ET_REL (what IGC writes) and ET_ZEBIN_EXE.
_ZEBIN_ETYPES = {1: "ET_REL", 0xFF12: "ET_ZEBIN_EXE"}
_SHN_LORESERVE, _SHN_ABS, _SHN_COMMON = 0xFF00, 0xFFF1, 0xFFF2
# Relocation types (NEO zebin_elf.h RELOC_TYPE_ZEBIN; 5 = R_SYM_ADDR_16 from zeinfo 1.48) -> bytes patched.
_RELOC_WIDTH = {1: 8, 2: 4, 3: 4, 4: 4, 5: 2}
_MAX_SECTIONS = 4096
# GFXCORE_FAMILY of each PRODUCT_FAMILY (igfxfmid.h; NEO's hardware tables).
_GEN9 = (12,)
_GEN12LP = (18,)
_XE_HPG = (0x0C07,)
_XE2 = (0x0C09,)
_GFX_CORES_OF_FAMILY: Dict[int, Tuple[int, ...]] = {
    16: (11,), 18: _GEN9, 19: _GEN9, 20: _GEN9, 22: _GEN9, 23: _GEN9, 26: (15, 16), 27: (15, 16), 28: (15, 16),
    29: _GEN12LP, 30: _GEN12LP, 31: _GEN12LP, 32: _GEN12LP, 33: _GEN12LP, 1210: _GEN12LP, 1250: (0x0C05,),
    1270: _XE_HPG, 1271: (0x0C08,), 1272: _XE_HPG, 1273: _XE_HPG, 1274: _XE2, 1275: _XE2, 1300: (0x1E00,),
}
_MAX_NOBITS = 1 << 30

# Bounds of the values a kernel's metadata may take (generous for real kernels, far from overflow).
MAX_CROSS_THREAD_BYTES = 8192  # offset + size of every payload argument
MAX_EXPLICIT_ARGS = 1024  # arg_index < this
MAX_PER_THREAD_BYTES = 1 << 24  # per-thread memory buffers, private/spill sizes
MAX_SLM_BYTES = 1 << 20
MAX_GRF = 512
MAX_BTI = 255
MAX_SAMPLERS = 256
_I32_MAX = (1 << 31) - 1


def _fail(message: str) -> None:
    raise ZebinFormatError(message)


@dataclass
class _ElfSection:
    index: int
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int

    def data(self, blob: bytes) -> bytes:
        return blob[self.offset:self.offset + self.size] if self.type != SHT_NOBITS else b""


def _cstr(table: bytes, offset: int, what: str) -> str:
    if offset >= len(table):
        _fail(f"corrupt zebin: {what} name offset {offset} is outside its string table ({len(table)} bytes)")
    end = table.find(b"\0", offset)
    if end < 0:
        _fail(f"corrupt zebin: {what} name at offset {offset} is not NUL-terminated in its string table")
    raw = table[offset:end]
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        _fail(f"corrupt zebin: {what} name {raw[:40]!r} is not ASCII")
    return ""  # unreachable


def _check_string_table(section: _ElfSection, blob: bytes, what: str) -> bytes:
    if section.type != SHT_STRTAB:
        _fail(f"corrupt zebin: {what} is section {section.index} ({section.name or 'unnamed'}) of type "
              f"{_SECTION_TYPE_NAMES.get(section.type, hex(section.type))}, not SHT_STRTAB")
    table = section.data(blob)
    if not table or table[0] != 0 or table[-1] != 0:
        _fail(f"corrupt zebin: {what} ({section.name or f'section {section.index}'}) does not start and end "
              "with a NUL byte")
    return table


def _validate_elf(data: bytes) -> Tuple[List[_ElfSection], Dict[str, _ElfSection], Dict[int, List[Tuple]]]:
    """Strict ELF64 structure checks; returns the sections, them by name and every symbol table's entries."""
    size = len(data)
    if size < 64:
        _fail(f"truncated zebin: {size} bytes, shorter than the 64-byte ELF64 header")
    if data[4] != 2:
        _fail(f"unsupported zebin: ELF class {data[4]} (only 64-bit zebins, which ocloc emits, are loaded)")
    if data[6] != 1:
        _fail(f"corrupt zebin: ELF identification version {data[6]}, not 1 (EV_CURRENT)")
    (e_type, _machine, e_version, _entry, e_phoff, e_shoff, _flags, e_ehsize, e_phentsize, e_phnum, e_shentsize,
     e_shnum, e_shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    if e_type not in _ZEBIN_ETYPES:
        _fail(f"corrupt zebin: ELF type {e_type:#x} is neither ET_REL nor ET_ZEBIN_EXE")
    if e_version != 1:
        _fail(f"corrupt zebin: ELF version {e_version}, not 1 (EV_CURRENT)")
    if e_ehsize != 64:
        _fail(f"corrupt zebin: ELF header size {e_ehsize}, not 64")
    if e_phnum:
        if e_phentsize != 56:
            _fail(f"corrupt zebin: program header entry size {e_phentsize}, not 56")
        if e_phoff < 64 or e_phoff + 56 * e_phnum > size:
            _fail(f"corrupt zebin: {e_phnum} program headers at byte {e_phoff} run past the end ({size} bytes)")
    if e_shentsize != 64:
        _fail(f"corrupt zebin: section header entry size {e_shentsize}, not 64")
    if not 2 <= e_shnum <= _MAX_SECTIONS:
        _fail(f"corrupt zebin: {e_shnum} section headers (expected 2 to {_MAX_SECTIONS})")
    if e_shoff < 64 or e_shoff + 64 * e_shnum > size:
        _fail(f"truncated zebin: {e_shnum} section headers at byte {e_shoff} end at byte {e_shoff + 64 * e_shnum}, "
              f"the data has {size}")
    if not 1 <= e_shstrndx < e_shnum:
        _fail(f"corrupt zebin: section name table index {e_shstrndx} is not a section (1 to {e_shnum - 1})")
    raw = list(struct.iter_unpack("<IIQQQQIIQQ", data[e_shoff:e_shoff + 64 * e_shnum]))
    if raw[0][0] or raw[0][1] != SHT_NULL or raw[0][5]:
        _fail("corrupt zebin: section 0 is not an unnamed, empty SHT_NULL section")
    sections: List[_ElfSection] = []
    for i, (name, stype, flags, _addr, offset, ssize, link, info, _align, entsize) in enumerate(raw):
        if stype not in _SECTION_TYPE_NAMES:
            _fail(f"corrupt zebin: section {i} has unknown type {stype:#x}")
        if i and stype == SHT_NULL:
            _fail(f"corrupt zebin: section {i} has type SHT_NULL")
        if stype == SHT_NOBITS:
            if ssize > _MAX_NOBITS:
                _fail(f"corrupt zebin: SHT_NOBITS section {i} claims {ssize} bytes")
        elif offset + ssize > size:
            _fail(f"truncated zebin: section {i} ends at byte {offset + ssize}, the data has {size}")
        sections.append(_ElfSection(i, "", stype, flags, offset, ssize, link, info, entsize))
    names = _check_string_table(sections[e_shstrndx], data, "the section name table")
    by_name: Dict[str, _ElfSection] = {}
    for s, (name, *_rest) in zip(sections, raw):
        if s.index == 0:
            continue
        s.name = _cstr(names, name, f"section {s.index}")
        if not _SECTION_NAMES[s.type].fullmatch(s.name):
            _fail(f"corrupt zebin: section {s.index} {s.name!r} has type {_SECTION_TYPE_NAMES[s.type]}, which no "
                  "section of that name has")
        if s.name in by_name:
            _fail(f"corrupt zebin: two sections named {s.name}")
        by_name[s.name] = s
    # Names are unique and each type has its names, so there is at most one .ze_info, .symtab and .spv.
    missing = [n for n in (".ze_info", ".symtab") if n not in by_name]
    if missing:
        _fail(f"degenerate zebin: no {' or '.join(missing)} section (sections: {', '.join(by_name) or 'none'}); "
              "IGC emitted no kernel code -- see the build log")

    # Symbol tables: every name in the linked string table, every symbol inside its section.
    symbols: Dict[int, List[Tuple]] = {}
    for s in sections:
        if s.type != SHT_SYMTAB:
            continue
        if s.entsize != 24 or s.size % 24:
            _fail(f"corrupt zebin: {s.name} entry size {s.entsize} / size {s.size} (entries are 24 bytes)")
        if not 1 <= s.link < e_shnum:
            _fail(f"corrupt zebin: {s.name} links to section {s.link}, which does not exist")
        strtab = _check_string_table(sections[s.link], data, f"the string table of {s.name}")
        entries = list(struct.iter_unpack("<IBBHQQ", s.data(data)))
        if s.info > len(entries):
            _fail(f"corrupt zebin: {s.name} says its first global symbol is {s.info}, it has {len(entries)}")
        resolved = []
        for j, (st_name, st_info, st_other, st_shndx, st_value, st_size) in enumerate(entries):
            sym_name = _cstr(strtab, st_name, f"symbol {j} of {s.name}")
            bind, stype = st_info >> 4, st_info & 0xF
            if bind > 2 or stype > 4 or st_other & ~3:
                _fail(f"corrupt zebin: symbol {j} ({sym_name or 'unnamed'}) has invalid binding/type/visibility "
                      f"({st_info:#x}, {st_other:#x})")
            if j == 0 and (st_name or st_info or st_other or st_shndx or st_value or st_size):
                _fail(f"corrupt zebin: symbol 0 of {s.name} is not the all-zero null symbol")
            if st_shndx in (0, _SHN_ABS, _SHN_COMMON):
                pass
            elif st_shndx >= min(e_shnum, _SHN_LORESERVE):
                _fail(f"corrupt zebin: symbol {j} ({sym_name or 'unnamed'}) is in section {st_shndx}, which does "
                      "not exist")
            else:
                target = sections[st_shndx]
                if target.type == SHT_NULL or st_value + st_size > target.size:
                    _fail(f"corrupt zebin: symbol {j} ({sym_name or 'unnamed'}) at {st_value}+{st_size} lies outside "
                          f"its section {target.name or st_shndx} ({target.size} bytes)")
            if stype == 2 and (st_shndx == 0 or st_shndx >= e_shnum or not sections[st_shndx].name.startswith(".text.")
                               or sections[st_shndx].type != SHT_PROGBITS):
                # NEO takes the kernel name of a function from its section's name, past ".text."
                _fail(f"corrupt zebin: function symbol {j} ({sym_name or 'unnamed'}) is not in a .text.<kernel> "
                      "section")
            resolved.append((sym_name, stype, st_shndx, st_value, st_size))
        symbols[s.index] = resolved

    # Relocations: symbol indices and patched bytes within bounds.
    for s in sections:
        if s.type not in (SHT_REL, SHT_RELA):
            continue
        entsize = 24 if s.type == SHT_RELA else 16
        if s.entsize != entsize or s.size % entsize:
            _fail(f"corrupt zebin: {s.name} entry size {s.entsize} / size {s.size} (entries are {entsize} bytes)")
        if s.link not in symbols:
            _fail(f"corrupt zebin: {s.name} links to section {s.link}, which is not a symbol table")
        if not 1 <= s.info < e_shnum or sections[s.info].type in (SHT_NULL, SHT_NOBITS):
            _fail(f"corrupt zebin: {s.name} applies to section {s.info}, which does not exist or has no data")
        nsyms, target_size = len(symbols[s.link]), sections[s.info].size
        fmt = "<QQq" if s.type == SHT_RELA else "<QQ"
        for j, entry in enumerate(struct.iter_unpack(fmt, s.data(data))):
            r_offset, r_info = entry[0], entry[1]
            sym, rtype = r_info >> 32, r_info & 0xFFFFFFFF
            width = _RELOC_WIDTH.get(rtype)
            if width is None:
                _fail(f"corrupt zebin: relocation {j} of {s.name} has unknown type {rtype}")
            if sym >= nsyms:
                _fail(f"corrupt zebin: relocation {j} of {s.name} names symbol {sym}, the table has {nsyms}")
            if r_offset + width > target_size:
                _fail(f"corrupt zebin: relocation {j} of {s.name} patches bytes {r_offset}..{r_offset + width} of "
                      f"{sections[s.info].name} ({target_size} bytes)")
    return sections, by_name, symbols


def _validate_notes(section: _ElfSection, blob: bytes) -> Dict[int, bytes]:
    """The IntelGT notes of .note.intelgt.compat, every one well-formed; ``{type: descriptor}``."""
    data = section.data(blob)
    notes: Dict[int, bytes] = {}
    pos = 0
    while pos < len(data):
        if pos + 12 > len(data):
            _fail(f"corrupt .note.intelgt.compat: {len(data) - pos} stray bytes after the last note")
        namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
        name_start = pos + 12
        desc_start = name_start + (namesz + 3 & ~3)
        end = desc_start + (descsz + 3 & ~3)
        if end > len(data):
            _fail(f"corrupt .note.intelgt.compat: note of type {ntype} at byte {pos} runs past the section")
        if namesz != 8 or data[name_start:name_start + 8] != b"IntelGT\0":
            _fail(f"corrupt .note.intelgt.compat: note at byte {pos} is not owned by IntelGT "
                  f"({bytes(data[name_start:name_start + min(namesz, 16)])!r})")
        desc = bytes(data[desc_start:desc_start + descsz])
        if ntype == NT_ZEBIN_VERSION:
            if not re.fullmatch(rb"\d{1,4}\.\d{1,4}\0*", desc) or not 4 <= descsz <= 16:
                _fail(f"corrupt .note.intelgt.compat: zebin version note {desc!r} is not 'major.minor'")
        elif NT_PRODUCT_FAMILY <= ntype <= NT_INDIRECT_ACCESS_BUFFER_VERSION:
            if descsz != 4:
                _fail(f"corrupt .note.intelgt.compat: note of type {ntype} has a {descsz}-byte descriptor, not 4")
        else:
            _fail(f"corrupt .note.intelgt.compat: unknown IntelGT note type {ntype}")
        if ntype in notes:
            _fail(f"corrupt .note.intelgt.compat: two notes of type {ntype}")
        notes[ntype] = desc
        pos = end
    if NT_PRODUCT_FAMILY not in notes:
        _fail("corrupt .note.intelgt.compat: no product family note (NT_INTELGT_PRODUCT_FAMILY)")
    # What would make NEO judge the binary to be for another device and rebuild it from the embedded SPIR-V
    # (with IGC, which ends the process on corrupt SPIR-V) must be consistent: the device check of
    # native_binary_for compares the product family, so the rest has to agree with it.
    family = _u32(notes, NT_PRODUCT_FAMILY)
    core = _u32(notes, NT_GFX_CORE) or 0
    cores = _GFX_CORES_OF_FAMILY.get(family)
    if core and cores is not None and core not in cores:
        _fail(f"corrupt .note.intelgt.compat: GFX core {core:#x} ({GFX_CORES.get(core, 'unknown')}) is not the core of "
              f"product family {family} ({PRODUCT_FAMILIES.get(family)})")
    if NT_ZEBIN_VERSION in notes and not notes[NT_ZEBIN_VERSION].startswith(b"1."):
        _fail(f"unsupported zebin: zebin version {notes[NT_ZEBIN_VERSION].rstrip(bytes(1))!r} (this loader reads 1.x)")
    metadata = _u32(notes, NT_TARGET_METADATA)
    if metadata is not None:
        if metadata >> 24:
            _fail(f"corrupt .note.intelgt.compat: target metadata {metadata:#010x} sets reserved bits 31:24")
        if metadata & (1 << 13 | 1 << 15):
            # IGC leaves both 0.  Bit 13 makes NEO compare the device's stepping with bits 12:8 and 20:16
            # and rebuild from SPIR-V on a mismatch; bit 15 makes e_machine a GFX core.
            _fail(f"corrupt .note.intelgt.compat: target metadata {metadata:#010x} sets "
                  f"{'validateRevisionId (bit 13)' if metadata & 1 << 13 else 'bit 15 (e_machine is a GFX core)'}, "
                  "which no compiler writes")
    return notes


# .ze_info text: the YAML subset IGC writes -- block mappings and sequences of "key: value" lines, values
# plain, quoted or a flow sequence of integers; no comments, anchors, aliases, tags or multi-line scalars,
# all of which NEO's own YAML parser and PyYAML could read differently.
_PLAIN_CHARS = r"A-Za-z0-9_.$/+\-()<>=;~^"
_YAML_VALUE = (r"(?:\[ *-?[0-9]+(?: *, *-?[0-9]+)* *\]"  # [ 1, 2, 3 ]
               r"|'(?:[^'\n]|'')*'"  # 'single quoted'
               r'|"[^"\\\n]*"'  # "double quoted, no escapes"
               rf"|[{_PLAIN_CHARS}](?:[{_PLAIN_CHARS} ]*[{_PLAIN_CHARS}])?)")  # plain
_YAML_LINE = rf"(?:(?:  )*(?:- )?[A-Za-z_][A-Za-z0-9_]*:(?: +{_YAML_VALUE})? *|---|\.\.\.| *)"
_YAML_TEXT = re.compile(rf"(?:{_YAML_LINE}\n)*(?:{_YAML_LINE})?")
_YAML_LINE_RE = re.compile(_YAML_LINE)
_BAD_BYTE = re.compile(rb"[^\x20-\x7e\n]")
_INT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_VERSION_TEXT = re.compile(r"(\d{1,4})\.(\d{1,4})")
_FLOAT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NAME_TEXT = re.compile(r"[A-Za-z0-9_$.\-]{1,1024}")
_MISC_INFO_KEY = "kernels_misc_info"

_TAG_INT = "tag:yaml.org,2002:int"
_TAG_BOOL = "tag:yaml.org,2002:bool"
_TAG_STR = "tag:yaml.org,2002:str"
_TAG_FLOAT = "tag:yaml.org,2002:float"


class _Spec:
    """One .ze_info value's expected shape: kind int/bool/str/int3/num/map/list, range, allowed values."""

    __slots__ = ("kind", "lo", "hi", "values", "fields", "required", "item")

    def __init__(self, kind, lo=None, hi=None, values=None, fields=None, required=(), item=None):
        self.kind, self.lo, self.hi, self.values = kind, lo, hi, values
        self.fields, self.required, self.item = fields, frozenset(required), item


def _int(lo=0, hi=_I32_MAX, values=None):
    return _Spec("int", lo, hi, frozenset(values) if values is not None else None)


def _enum(*values):
    return _Spec("str", values=frozenset(values))


_BOOL = _Spec("bool")
_STR = _Spec("str")
_NUM = _Spec("num")


def _int3(lo=0, hi=_I32_MAX):
    return _Spec("int3", lo, hi)


def _map(fields, required=()):
    return _Spec("map", fields=fields, required=required)


def _list(fields, required=()):
    return _Spec("list", item=_map(fields, required))


# zeinfo.md <argument_type>, plus NEO's names for VME sampler arguments.
ARG_TYPES = frozenset((
    "packed_local_ids", "local_id", "local_size", "group_count", "work_dimensions", "global_size",
    "enqueued_local_size", "global_id_offset", "private_base_stateless", "buffer_address", "buffer_offset",
    "printf_buffer", "implicit_arg_buffer", "sync_buffer", "rt_global_buffer", "assert_buffer", "arg_byvalue",
    "arg_bypointer", "image_height", "image_width", "image_depth", "image_num_mip_levels",
    "image_channel_data_type", "image_channel_order", "image_srgb_channel_order", "image_array_size",
    "image_num_samples", "flat_image_baseoffset", "flat_image_height", "flat_image_width", "flat_image_pitch",
    "sampler_address", "sampler_normalized", "sampler_snap_wa", "inline_sampler", "const_base", "global_base",
    "buffer_size", "indirect_data_pointer", "scratch_pointer", "region_group_size", "region_group_dimension",
    "region_group_wg_count", "region_group_barrier_buffer", "vme_mb_block_type", "vme_subpixel_mode",
    "vme_sad_adjust_mode", "vme_search_path_type",
))
ADDR_MODES = ("stateless", "stateful", "bindless", "slm")
ADDR_SPACES = ("global", "local", "constant", "image", "sampler")
ACCESS_TYPES = ("readonly", "writeonly", "readwrite")
IMAGE_TYPES = ("image_buffer", "image_1d", "image_1d_array", "image_2d", "image_2d_array", "image_3d", "image_cube",
               "image_cube_array", "image_2d_depth", "image_2d_array_depth", "image_2d_msaa", "image_2d_msaa_depth",
               "image_2d_array_msaa", "image_2d_array_msaa_depth", "image_2d_media", "image_2d_media_block")
SAMPLER_TYPES = ("texture", "sample_8x8", "sample_8x8_2dconvolve", "sample_8x8_erode", "sample_8x8_dilate",
                 "sample_8x8_minmaxfilter", "sample_8x8_minmax", "sample_8x8_centroid", "sample_8x8_bool_centroid",
                 "sample_8x8_bool_sum", "vd", "ve", "vme")
MEMORY_BUFFER_TYPES = ("global", "scratch", "slm")
MEMORY_BUFFER_USAGES = ("private_space", "spill_fill_space", "single_space")
SIMD_SIZES = (1, 8, 16, 32)

_WALK_ORDER = _int3(0, 2)
_EXECUTION_ENV = _map({
    "barrier_count": _int(0, 32),
    "disable_mid_thread_preemption": _BOOL,
    "eu_thread_count": _int(0, 64),
    "grf_count": _int(1, MAX_GRF),
    "has_4gb_buffers": _BOOL,
    "has_device_enqueue": _BOOL,
    "has_dpas": _BOOL,
    "has_fence_for_image_access": _BOOL,
    "has_global_atomics": _BOOL,
    "has_multi_scratch_spaces": _BOOL,
    "has_no_stateless_write": _BOOL,
    "has_stack_calls": _BOOL,
    "has_printf_calls": _BOOL,
    "require_assert_buffer": _BOOL,
    "require_sync_buffer": _BOOL,
    "has_indirect_calls": _BOOL,
    "require_disable_eufusion": _BOOL,
    "indirect_stateless_count": _int(0, 1 << 16),
    "inline_data_payload_size": _int(0, 256),
    "offset_to_skip_per_thread_data_load": _int(0, 1 << 24),
    "offset_to_skip_set_ffid_gp": _int(0, 1 << 24),
    "required_sub_group_size": _int(values=(0,) + SIMD_SIZES),
    "required_work_group_size": _int3(0, 1 << 16),
    "simd_size": _int(values=SIMD_SIZES),
    "slm_size": _int(0, MAX_SLM_BYTES),
    "private_size": _int(0, MAX_PER_THREAD_BYTES),
    "spill_size": _int(0, MAX_PER_THREAD_BYTES),
    "subgroup_independent_forward_progress": _BOOL,
    "thread_scheduling_mode": _enum("age_based", "round_robin", "round_robin_stall"),
    "work_group_walk_order_dimensions": _WALK_ORDER,
    "has_sample": _BOOL,
    "has_rtcalls": _BOOL,
    "generate_local_id": _BOOL,
    "has_lsc_stores_with_non_default_l1_cache_controls": _BOOL,
    "require_iab": _BOOL,
}, required=("simd_size", "grf_count"))

_PAYLOAD_ARGUMENT = {
    "arg_type": _Spec("str", values=ARG_TYPES),
    "offset": _int(0, MAX_CROSS_THREAD_BYTES),
    "size": _int(0, MAX_CROSS_THREAD_BYTES),
    "arg_index": _int(0, MAX_EXPLICIT_ARGS - 1),
    "addrmode": _enum(*ADDR_MODES),
    "addrspace": _enum(*ADDR_SPACES),
    "access_type": _enum(*ACCESS_TYPES),
    "sampler_index": _int(0, MAX_SAMPLERS - 1),
    "source_offset": _int(0, MAX_CROSS_THREAD_BYTES),
    "slm_alignment": _int(values=(0, 1, 2, 4, 8, 16, 32, 64, 128)),
    "image_type": _enum(*IMAGE_TYPES),
    "image_transformable": _BOOL,
    "sampler_type": _enum(*SAMPLER_TYPES),
    "is_pipe": _BOOL,
    "is_ptr": _BOOL,
    "bti_value": _int(0, MAX_BTI),
}

_KERNEL_FIELDS = {
    "name": _STR,
    "user_attributes": _map({
        "intel_reqd_sub_group_size": _int(values=(0,) + SIMD_SIZES),
        "intel_reqd_workgroup_walk_order": _WALK_ORDER,
        "invalid_kernel": _STR,
        "reqd_work_group_size": _int3(0, 1 << 16),
        "vec_type_hint": _STR,
        "work_group_size_hint": _int3(0, 1 << 16),
        "intel_reqd_thread_group_dispatch_size": _int(0, 1 << 16),
    }),
    "execution_env": _EXECUTION_ENV,
    "payload_arguments": _list(_PAYLOAD_ARGUMENT, required=("arg_type", "offset", "size")),
    "per_thread_payload_arguments": _list({
        "arg_type": _enum("local_id", "packed_local_ids"),
        "offset": _int(0, MAX_CROSS_THREAD_BYTES),
        "size": _int(1, MAX_CROSS_THREAD_BYTES),
    }, required=("arg_type", "offset", "size")),
    "binding_table_indices": _list({"bti_value": _int(0, MAX_BTI), "arg_index": _int(0, MAX_EXPLICIT_ARGS - 1)},
                                   required=("bti_value", "arg_index")),
    "per_thread_memory_buffers": _list({
        "type": _enum(*MEMORY_BUFFER_TYPES),
        "usage": _enum(*MEMORY_BUFFER_USAGES),
        "size": _int(0, MAX_PER_THREAD_BYTES),
        "slot": _int(0, 1),
        "is_simt_thread": _BOOL,
    }, required=("type", "usage", "size")),
    "inline_samplers": _list({
        "sampler_index": _int(0, MAX_SAMPLERS - 1),
        "addrmode": _enum("none", "clamp_border", "clamp_edge", "repeat", "mirror"),
        "filtermode": _enum("nearest", "linear"),
        "normalized": _BOOL,
    }, required=("sampler_index", "addrmode", "filtermode")),
    "experimental_properties": _map({k: _int(-1, 1) for k in ("has_non_kernel_arg_load", "has_non_kernel_arg_store",
                                                              "has_non_kernel_arg_atomic")}),
    "debug_env": _map({"sip_surface_bti": _int(-1, MAX_BTI), "sip_surface_offset": _int(-1)}),
}

_ZEINFO = _map({
    "version": _STR,
    "kernels": _list(_KERNEL_FIELDS, required=("name", "execution_env")),
    "functions": _list({"name": _STR, "execution_env": _EXECUTION_ENV}, required=("name", "execution_env")),
    "global_host_access_table": _list({"device_name": _STR, "host_name": _STR}, required=("device_name", "host_name")),
    "kernels_misc_info": _list({
        "name": _STR,
        "args_info": _list({
            "index": _int(0, MAX_EXPLICIT_ARGS - 1),
            "name": _STR,
            "address_qualifier": _STR,
            "access_qualifier": _STR,
            "type_name": _STR,
            "type_qualifiers": _STR,
        }, required=("index", "address_qualifier", "access_qualifier", "type_name", "type_qualifiers")),
    }, required=("name",)),
    "kernels_cost_info": _list({
        "name": _STR,
        "kcm_args_sym": _list({"argNo": _int(0, MAX_EXPLICIT_ARGS - 1), "byteOffset": _int(), "sizeInBytes": _int(),
                               "isInDirect": _BOOL}, required=("argNo", "byteOffset", "sizeInBytes", "isInDirect")),
        "kcm_loop_count_exps": _list({"factor": _NUM, "argsym_index": _int(), "C": _NUM},
                                     required=("factor", "argsym_index", "C")),
        "kcm_loop_costs": _list({"cycle": _int(), "bytes_loaded": _int(), "bytes_stored": _int(),
                                 "num_loops": _int()}, required=("cycle", "bytes_loaded", "bytes_stored", "num_loops")),
    }, required=("name",)),
}, required=("version", "kernels"))
_ZEINFO.fields["kernels_cost_info"].item.fields["Kcm_loop_costs"] = _ZEINFO.fields["kernels_cost_info"].item.fields[
    "kcm_loop_costs"]  # spelled so in zeinfo.md


def _where(path: str) -> str:
    return path or "the top level"


def _build(node, spec: _Spec, path: str):
    """The Python value of ``node`` (what PyYAML's safe loader would construct), checked against ``spec``."""
    kind = spec.kind
    if kind == "map" or kind == "list":
        want = yaml.MappingNode if kind == "map" else yaml.SequenceNode
        if not isinstance(node, want) or node.flow_style:
            _fail(f"malformed .ze_info: {_where(path)} must be a {'mapping' if kind == 'map' else 'list'} in block "
                  f"style, got {_describe(node)}")
        if kind == "list":
            return [_build(item, spec.item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        out: Dict[str, Any] = {}
        fields = spec.fields
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or key_node.style or key_node.tag != _TAG_STR:
                _fail(f"malformed .ze_info: non-string key {_describe(key_node)} in {_where(path)}")
            sub = fields.get(key)
            if sub is None:
                _fail(f"unknown .ze_info key {key!r} in {_where(path)}")
            if key in out:
                _fail(f"malformed .ze_info: duplicate key {key!r} in {_where(path)}")
            out[key] = _build(value_node, sub, f"{path}.{key}" if path else key)
        missing = [k for k in spec.required if k not in out]
        if missing:
            _fail(f"malformed .ze_info: {_where(path)} has no {', '.join(sorted(missing))}")
        return out
    if kind == "int3":
        if not isinstance(node, yaml.SequenceNode) or len(node.value) != 3:
            _fail(f"malformed .ze_info: {path} must be a list of 3 integers, got {_describe(node)}")
        return [_build(item, _Spec("int", spec.lo, spec.hi), f"{path}[{i}]") for i, item in enumerate(node.value)]
    if not isinstance(node, yaml.ScalarNode):
        _fail(f"malformed .ze_info: {path} must be a scalar, got {_describe(node)}")
    text, tag = node.value, node.tag
    if kind == "int":
        if node.style or tag != _TAG_INT or not _INT_TEXT.fullmatch(text):
            _fail(f"malformed .ze_info: {path} must be a decimal integer, got {_describe(node)}")
        value = int(text)
        if spec.values is not None:
            if value not in spec.values:
                _fail(f"malformed .ze_info: {path} is {value}, not one of {', '.join(map(str, sorted(spec.values)))}")
        elif not spec.lo <= value <= spec.hi:
            _fail(f"malformed .ze_info: {path} is {value}, outside [{spec.lo}, {spec.hi}]")
        return value
    if kind == "bool":
        if node.style or text not in ("true", "false"):
            _fail(f"malformed .ze_info: {path} must be true or false, got {_describe(node)}")
        return text == "true"
    if kind == "num":
        if node.style or tag not in (_TAG_INT, _TAG_FLOAT) or not _FLOAT_TEXT.fullmatch(text):
            _fail(f"malformed .ze_info: {path} must be a number, got {_describe(node)}")
        return int(text) if tag == _TAG_INT else float(text)
    if tag != _TAG_STR:  # a plain scalar PyYAML reads as a number, bool or null
        _fail(f"malformed .ze_info: {path} must be a string, got {_describe(node)}")
    if spec.values is not None and (text not in spec.values or node.style):
        _fail(f"malformed .ze_info: {path} is {_describe(node)}, not one of {', '.join(sorted(spec.values))}")
    return text


def _describe(node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value) if node.style is None else f"{node.style}{node.value}{node.style}"
    if isinstance(node, yaml.SequenceNode):
        return f"a list of {len(node.value)}"
    return "a mapping"


def _parse_zeinfo_strict(raw: bytes) -> Dict[str, Any]:
    bad = _BAD_BYTE.search(raw)
    if bad:
        line = raw.count(b"\n", 0, bad.start()) + 1
        _fail(f"malformed .ze_info: byte {raw[bad.start()]:#04x} on line {line} (only printable ASCII and newlines)")
    text = raw.decode("ascii")
    # NEO finds kernels_misc_info by searching the text and parses only what precedes it as the rest of
    # .ze_info: it must be the last top-level key, and the string must appear nowhere else.
    at = text.find(_MISC_INFO_KEY)
    if at >= 0:
        if text.find(_MISC_INFO_KEY, at + 1) >= 0:
            _fail(f"malformed .ze_info: '{_MISC_INFO_KEY}' appears more than once")
        if (at and text[at - 1] != "\n") or not text.startswith(_MISC_INFO_KEY + ":", at):
            _fail(f"malformed .ze_info: '{_MISC_INFO_KEY}' appears other than as a top-level key")
        if re.search(r"^[A-Za-z_]", text[at + len(_MISC_INFO_KEY):], re.MULTILINE):
            _fail(f"malformed .ze_info: a top-level key follows {_MISC_INFO_KEY} (it must be the last one)")
    if not _YAML_TEXT.fullmatch(text):
        for number, line in enumerate(text.split("\n"), 1):
            if not _YAML_LINE_RE.fullmatch(line):
                _fail(f"malformed .ze_info: line {number} is not a 'key: value' line of the YAML subset IGC writes: "
                      f"{line[:120]!r}")
        _fail("malformed .ze_info: not the YAML subset IGC writes")  # pragma: no cover - a line fails above
    try:
        root = yaml.compose(text, Loader=_YamlLoader)
    except yaml.YAMLError as e:
        _fail(f"malformed .ze_info YAML: {' '.join(str(e).split())}")
    if root is None:
        _fail("degenerate zebin: .ze_info is empty")
    return _build(root, _ZEINFO, "")


def _pointer_kind(arg: Dict[str, Any]) -> str:
    space = arg.get("addrspace")
    return "image" if space == "image" else "sampler" if space == "sampler" else "pointer"


# Implicit arguments that belong to an explicit one, and the kind it must be.
_IMPLICIT_OF = {"buffer_address": "pointer", "buffer_offset": "pointer", "buffer_size": "pointer"}
_IMPLICIT_OF.update({t: "image" for t in ARG_TYPES if t.startswith(("image_", "flat_image_"))})
_IMPLICIT_OF.update({t: "sampler" for t in ARG_TYPES if t.startswith(("sampler_", "vme_"))})
# Allowed sizes of the other argument types (pointers 4 or 8 bytes, vectors of int32 partially programmed).
_VEC3 = frozenset((4, 8, 12))
_PTR = frozenset((4, 8))
_ARG_SIZES = {"local_size": _VEC3, "group_count": _VEC3, "global_size": _VEC3, "enqueued_local_size": _VEC3,
              "global_id_offset": _VEC3, "work_dimensions": frozenset((4,)), "buffer_offset": frozenset((4,)),
              "buffer_size": _PTR, "flat_image_baseoffset": frozenset((8,)),
              "region_group_size": _VEC3, "region_group_dimension": frozenset((4,)),
              "region_group_wg_count": frozenset((4,))}
for _t in ("private_base_stateless", "buffer_address", "printf_buffer", "implicit_arg_buffer", "sync_buffer",
           "rt_global_buffer", "assert_buffer", "const_base", "global_base", "indirect_data_pointer",
           "scratch_pointer", "region_group_barrier_buffer", "inline_sampler"):
    _ARG_SIZES[_t] = _PTR
for _t in _IMPLICIT_OF:
    _ARG_SIZES.setdefault(_t, frozenset((4,)))
# Keys only some argument types may carry.
_POINTER_ONLY_KEYS = ("addrspace", "access_type", "slm_alignment", "image_type", "image_transformable",
                      "sampler_type", "is_pipe")


def _check_kernel(kernel: Dict[str, Any], k: int, text: Optional[_ElfSection],
                  symbols: List[Tuple], misc: Optional[Dict[str, Any]]) -> None:
    name = kernel["name"]
    where = f"kernel {name}"
    if not _NAME_TEXT.fullmatch(name):
        _fail(f"malformed .ze_info: kernels[{k}].name {name!r} is not a kernel name")
    if text is None:
        _fail(f"corrupt zebin: no .text.{name} section for {where} of .ze_info")
    if text.type != SHT_PROGBITS or text.size == 0:
        _fail(f"corrupt zebin: .text.{name} of {where} is empty or has no data")
    if not any(s[0] == name and s[2] == text.index and s[1] in (0, 2) for s in symbols):
        _fail(f"corrupt zebin: no symbol {name} in .text.{name} for {where}")
    env = kernel["execution_env"]
    simd = env["simd_size"]
    for key in ("offset_to_skip_per_thread_data_load", "offset_to_skip_set_ffid_gp"):
        if env.get(key, 0) > text.size:
            _fail(f"malformed .ze_info: {where}: execution_env.{key} {env[key]} is past the end of its code "
                  f"({text.size} bytes)")

    kinds: Dict[int, str] = {}  # arg_index -> pointer / image / sampler / value
    stateful = set()
    for i, arg in enumerate(kernel.get("payload_arguments", ())):
        atype = arg["arg_type"]
        what = f"payload argument {i} of {where} ({atype})"
        offset, size = arg["offset"], arg["size"]
        if offset + size > MAX_CROSS_THREAD_BYTES:
            _fail(f"malformed .ze_info: {what} ends at byte {offset + size} of the cross-thread data, past "
                  f"{MAX_CROSS_THREAD_BYTES}")
        index = arg.get("arg_index")
        if atype in ("arg_bypointer", "arg_byvalue"):
            if index is None:
                _fail(f"malformed .ze_info: {what} has no arg_index")
            if atype == "arg_bypointer":
                mode, space = arg.get("addrmode"), arg.get("addrspace")
                for key in ("addrmode", "addrspace", "access_type"):  # NEO aborts without access_type
                    if key not in arg:
                        _fail(f"malformed .ze_info: {what} has no {key}")
                if (space == "local") != (mode == "slm"):
                    _fail(f"malformed .ze_info: {what} has addrspace {space} with addrmode {mode} (local memory is "
                          "exactly the slm addressing mode)")
                if space in ("image", "sampler") and mode not in ("stateful", "bindless"):
                    _fail(f"malformed .ze_info: {what}: an {space} argument cannot have addrmode {mode}")
                if mode in ("stateless", "bindless", "slm") and size not in _PTR:
                    _fail(f"malformed .ze_info: {what} is a {mode} pointer of {size} bytes (4 or 8)")
                if mode == "stateful":
                    if size not in (0, 4, 8):
                        _fail(f"malformed .ze_info: {what} is a stateful pointer of {size} bytes (0, 4 or 8)")
                    stateful.add(index)
                for key in ("is_ptr", "source_offset"):
                    if key in arg:
                        _fail(f"malformed .ze_info: {what} has {key}, which only by-value arguments have")
                kind = _pointer_kind(arg)
            else:
                if size == 0:
                    _fail(f"malformed .ze_info: {what} has size 0")
                for key in _POINTER_ONLY_KEYS + ("addrmode", "bti_value", "sampler_index"):
                    if key in arg:
                        _fail(f"malformed .ze_info: {what} has {key}, which by-value arguments do not have")
                kind = "value"
            previous = kinds.setdefault(index, kind)
            if previous != kind:
                _fail(f"malformed .ze_info: arg_index {index} of {where} is used both as {previous} and as {kind} "
                      f"(payload argument {i}, {atype})")
            continue
        sizes = _ARG_SIZES.get(atype)
        if sizes is not None and size not in sizes:
            _fail(f"malformed .ze_info: {what} has size {size}, not {' or '.join(map(str, sorted(sizes)))}")
        if atype in ("local_id", "packed_local_ids"):
            _fail(f"malformed .ze_info: {what} is a per-thread argument among payload_arguments")
        for key in _POINTER_ONLY_KEYS + ("is_ptr", "source_offset"):
            if key in arg:
                _fail(f"malformed .ze_info: {what} has {key}, which only explicit arguments have")
        if atype in _IMPLICIT_OF:
            if index is None:
                _fail(f"malformed .ze_info: {what} has no arg_index")
        elif index is not None:
            _fail(f"malformed .ze_info: {what} has an arg_index, which this argument type does not have")
        if "addrmode" in arg and atype not in ("const_base", "global_base", "inline_sampler"):
            _fail(f"malformed .ze_info: {what} has addrmode, which this argument type does not have")
        if "sampler_index" in arg and atype != "inline_sampler":
            _fail(f"malformed .ze_info: {what} has sampler_index, which only inline samplers have")
        if "bti_value" in arg and atype not in ("const_base", "global_base"):
            _fail(f"malformed .ze_info: {what} has bti_value, which only const_base and global_base have")
    # Implicit arguments of an explicit one: it must exist and be of the right kind (NEO aborts otherwise).
    for i, arg in enumerate(kernel.get("payload_arguments", ())):
        want = _IMPLICIT_OF.get(arg["arg_type"])
        if want is not None and kinds.get(arg["arg_index"]) != want:
            got = kinds.get(arg["arg_index"])
            _fail(f"malformed .ze_info: payload argument {i} of {where} ({arg['arg_type']}) belongs to argument "
                  f"{arg['arg_index']}, which is {f'a {got} argument' if got else 'no explicit argument'}, not "
                  f"{'an' if want == 'image' else 'a'} {want}")

    for i, arg in enumerate(kernel.get("per_thread_payload_arguments", ())):
        size = arg["size"]
        if arg["offset"]:
            _fail(f"malformed .ze_info: per-thread payload argument {i} of {where} ({arg['arg_type']}) is at offset "
                  f"{arg['offset']}, not 0")
        if arg["arg_type"] == "local_id":
            ok = any(size % unit == 0 and size // unit <= 3
                     for unit in {-(-2 * simd // 32) * 32, -(-2 * simd // 64) * 64})
        else:
            ok = simd == 1 and size in (2, 4, 6)
        if not ok:
            _fail(f"malformed .ze_info: per-thread payload argument {i} of {where} ({arg['arg_type']}) has size "
                  f"{size}, which is not 1 to 3 local ids of a SIMD{simd} kernel")
        if arg["offset"] + size > MAX_CROSS_THREAD_BYTES:
            _fail(f"malformed .ze_info: per-thread payload argument {i} of {where} ends past "
                  f"{MAX_CROSS_THREAD_BYTES} bytes")

    for i, bti in enumerate(kernel.get("binding_table_indices", ())):
        index = bti["arg_index"]
        if index not in stateful:
            _fail(f"malformed .ze_info: binding table entry {i} of {where} is for argument {index}, which is not a "
                  "stateful pointer or image argument")

    slots = set()
    for i, buf in enumerate(kernel.get("per_thread_memory_buffers", ())):
        btype = buf["type"]
        what = f"per-thread memory buffer {i} of {where} ({btype})"
        if btype == "global" and buf["usage"] != "private_space":
            _fail(f"malformed .ze_info: {what} has usage {buf['usage']}; global buffers hold private_space only")
        if "slot" in buf and btype != "scratch":
            _fail(f"malformed .ze_info: {what} has a slot, which only scratch buffers have")
        if "is_simt_thread" in buf and btype != "global":
            _fail(f"malformed .ze_info: {what} has is_simt_thread, which only global buffers have")
        key = (btype, buf.get("slot", 0))
        if key in slots:
            _fail(f"malformed .ze_info: {where} has two {btype} buffers"
                  + (f" in slot {key[1]}" if btype == "scratch" else ""))
        slots.add(key)

    if misc is not None:
        infos = misc.get("args_info", ())
        count = max(kinds) + 1 if kinds else 0
        seen = set()
        for i, info in enumerate(infos):
            index = info["index"]
            what = f"kernels_misc_info args_info {i} of {where} is for argument {index}"
            if index >= count:
                _fail(f"malformed .ze_info: {what}, but the kernel has {count} arguments")
            if index >= len(infos):  # NEO stores entry i at .at(index) of a table of len(args_info): throws
                _fail(f"malformed .ze_info: {what}, but there are {len(infos)} args_info entries")
            if index in seen:
                _fail(f"malformed .ze_info: {what}, which another entry is for too")
            seen.add(index)


def validate_for_load(data: bytes, build_log: str = "", device: Optional[str] = None) -> Zebin:
    """Parse a zebin the way :func:`read_zebin` does, after checking everything the driver's decoder trusts.

    Returns the same :class:`Zebin` as ``read_zebin``; raises :class:`ZebinFormatError` naming the first
    problem found.  Checked: the ELF header and section table (offsets and sizes within the data, known
    section types and names, string tables NUL-terminated, names and symbols within their tables and
    sections, relocations within their targets), the IntelGT notes, the ``.ze_info`` text (the YAML subset
    IGC writes) and tree (only the zeinfo spec's keys at each level, required keys present, values of the
    right type, range and enumeration), and the kernels' consistency: a ``.text.<kernel>`` section and a
    symbol for each kernel, an arg_index on every explicit argument and never one index as two kinds of
    argument, implicit arguments attached to an argument of the right kind, sizes and offsets within the
    cross-thread data, binding table entries for stateful arguments only, one scratch buffer per slot.
    The checks are the gate in front of zeModuleCreate: NEO 22.43 aborts the process on some of these.
    ``build_log`` and ``device`` are used as by :func:`read_zebin`.  Only 64-bit zebins are accepted.
    """
    data = bytes(data)
    if is_zebin(data) and data[4] != 2:
        _fail(f"unsupported zebin: ELF class {data[4]} (only 64-bit zebins, which ocloc emits, are loaded)")
    _check_elf_header(data)
    sections, by_name, symbols = _validate_elf(data)
    zeinfo_section, symtab = by_name[".ze_info"], by_name[".symtab"]
    notes_section = by_name.get(".note.intelgt.compat")
    if notes_section is None:
        _fail("corrupt zebin: no .note.intelgt.compat section (the target notes)")
    notes = _validate_notes(notes_section, data)
    spv = by_name.get(".spv")
    if spv is not None:
        head = spv.data(data)[:4]
        if spv.size < 20 or spv.size % 4 or head != b"\x03\x02\x23\x07":
            _fail(f"corrupt zebin: .spv is not a SPIR-V module ({spv.size} bytes, starts with {head!r})")

    zeinfo = _parse_zeinfo_strict(zeinfo_section.data(data))
    version = _VERSION_TEXT.fullmatch(zeinfo["version"])
    if version is None or version.group(1) != "1":
        _fail(f"unsupported zebin: .ze_info version {zeinfo['version']!r} (this loader reads zeinfo 1.x)")
    kernels = zeinfo["kernels"]
    if not kernels:
        _fail("degenerate zebin: .ze_info lists no kernels")
    names = [k["name"] for k in kernels]
    if len(set(names)) != len(names):
        _fail(f"malformed .ze_info: a kernel is listed twice ({', '.join(names)})")
    misc = {}
    for m in zeinfo.get("kernels_misc_info", ()):
        if m["name"] not in names:
            _fail(f"malformed .ze_info: kernels_misc_info names {m['name']!r}, which is not a kernel")
        if m["name"] in misc:
            _fail(f"malformed .ze_info: kernels_misc_info lists {m['name']} twice")
        misc[m["name"]] = m
    for k, kernel in enumerate(kernels):
        _check_kernel(kernel, k, by_name.get(".text." + kernel["name"]), symbols[symtab.index],
                      misc.get(kernel["name"]))

    # Everything checked: the same Zebin read_zebin builds.
    zeinfo_version = str(zeinfo["version"])
    misc_args = {m.get("name"): list(m.get("args_info") or []) for m in zeinfo.get("kernels_misc_info") or []}
    text_sizes = {s.name[len(".text."):]: s.size for s in sections if s.name.startswith(".text.")}
    grf_bytes = _grf_bytes(_u32(notes, NT_PRODUCT_FAMILY))
    kernel_infos = [_kernel_info(entry, misc_args, text_sizes, zeinfo_version, build_log, device, grf_bytes)
                    for entry in kernels]
    metadata = _u32(notes, NT_TARGET_METADATA)
    zebin_version = notes.get(NT_ZEBIN_VERSION)
    return Zebin(
        product_family=_u32(notes, NT_PRODUCT_FAMILY),
        gfx_core=_u32(notes, NT_GFX_CORE) or None,
        target_metadata=TargetMetadata.unpack(metadata) if metadata is not None else None,
        zebin_version=zebin_version.rstrip(b"\0").decode("ascii", "replace") if zebin_version else None,
        zeinfo_version=zeinfo_version,
        product_config=_u32(notes, NT_PRODUCT_CONFIG),
        kernels=kernel_infos,
        sections=[s.name for s in sections if s.name],
        elf_class=64,
        notes=notes,
        zeinfo=zeinfo,
        spirv=spv.data(data) if spv is not None else None,
    )


# Undefined symbols the driver itself resolves when it links a module (NEO's Linker: the implicit-arguments
# offset under its current and its older name, the per-thread payload offset, the sub-device id; IGC's
# vISA RelocationInfo.h names the first two).  Every zebin of IGC 2 refers to the first.
DRIVER_RESOLVED_SYMBOLS = frozenset((
    "__INTEL_PATCH_CROSS_THREAD_OFFSET_OFF_R0",
    "INTEL_PATCH_CROSS_THREAD_OFFSET_OFF_R0",
    "__INTEL_PER_THREAD_OFF",
    "__SubDeviceID",
))


def undefined_symbols(data: bytes) -> List[str]:
    """Names the zebin's symbol table uses but does not define, other than those the driver resolves:
    functions IGC left unresolved (a builtin the installed IGC lacks).  The driver refuses such a module
    when its kernel is created."""
    elf = ELFFile(io.BytesIO(bytes(data)))
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None:
        return []
    return [s.name for s in symtab.iter_symbols()
            if s["st_shndx"] == "SHN_UNDEF" and s.name and s.name not in DRIVER_RESOLVED_SYMBOLS]

"""binary.zebin.read: real ocloc output, hand-made zebins for the cases ocloc 22.43 cannot produce, and
everything that is not a well-formed zebin."""

import os
import random
import re
import shutil
import struct

import pytest

from triton.backends.intel.native import build_log
from triton.backends.intel.binary import fatbin, zebin
from triton.backends.intel.binary.fatbin import is_fat_binary
from triton.backends.intel.binary.zebin import is_zebin
from triton.backends.intel.native.build_log import spill_lines
from triton.backends.intel.errors import IntelBackendError, ZebinFormatError


def read_zebin(data, log="", device=None):
    return zebin.read(data, build_log.spills(log, device))


SPILL_SOURCES = ("spill_size", "build_log", "spill_fill_space", "scratch")  # sources a spilling kernel may have
VERSION = re.compile(r"^\d+\.\d+$")


# --------------------------------------------------------------------------------------------
# Hand-made zebins


def note(ntype, desc, owner=b"IntelGT\0"):
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(owner), len(desc), ntype) + pad(owner) + pad(desc)


def make_elf(sections, machine=205, etype=1):
    """A little-endian ELF64 with ``sections`` [(name, sh_type, data)] plus .strtab for section names."""
    names = b"\0"
    name_offsets = []
    for name, _, _ in sections:
        name_offsets.append(len(names))
        names += name.encode() + b"\0"
    strtab_name = len(names)
    names += b".strtab\0"
    all_sections = list(zip(name_offsets, sections)) + [(strtab_name, (".strtab", 3, names))]
    body, headers = b"", [b"\0" * 64]
    strtab_index = len(all_sections)
    for name_offset, (_, sh_type, data) in all_sections:
        offset = 64 + len(body)
        body += data
        link, entsize = (strtab_index, 24) if sh_type == 2 else (0, 0)  # .symtab names live in .strtab
        headers.append(struct.pack("<IIQQQQIIQQ", name_offset, sh_type, 0, 0, offset, len(data), link, 0, 1, entsize))
    shoff = 64 + len(body)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0, 1]) + b"\0" * 7
    header = ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(headers),
                                 len(headers) - 1)
    return header + body + b"".join(headers)


def make_zebin(zeinfo, notes=None, text=True, symtab=True):
    notes = notes if notes is not None else note(1, struct.pack("<I", 1271)) + note(4, b"1.20\0")
    sections = [(".text.k", 1, b"\0" * 64)] if text else []
    sections += [(".symtab", 2, b"\0" * 24)] if symtab else []
    sections += [(".ze_info", zebin.SHT_ZEBIN_ZEINFO, zeinfo.encode())] if zeinfo is not None else []
    sections += [(".note.intelgt.compat", 7, notes)]
    return make_elf(sections)


def zeinfo_with(env="", buffers="", version="1.20"):
    text = (f"version: '{version}'\nkernels:\n  - name: k\n"
            "    execution_env:\n      simd_size: 16\n      grf_count: 128\n")
    text += "".join(f"      {line}\n" for line in env.splitlines() if line)
    if buffers:
        text += "    per_thread_memory_buffers:\n" + "".join(f"      {line}\n" for line in buffers.splitlines() if line)
    return text


SINGLE_SPACE = "- type: scratch\n  usage: single_space\n  size: 8192"
SPILL_FILL = ("- type: scratch\n  usage: private_space\n  size: 4096\n"
              "- type: scratch\n  usage: spill_fill_space\n  size: 2048")
LOG_128 = "warning: kernel k  compiled SIMD16 allocated 128 regs and spilled around 300\n\nBuild succeeded.\n"


# --------------------------------------------------------------------------------------------
# Real zebins from ocloc


@pytest.fixture(scope="module")
def add_pvc(cl_zebin, opencl):
    return cl_zebin(opencl.ADD)


def test_target_notes(cl_zebin, opencl):
    zb = read_zebin(cl_zebin(opencl.ADD)[0])
    assert (zb.product_family, zb.product_family_name) == (1271, "pvc")
    assert zb.target_metadata is not None and zb.target_metadata.generator == "IGC"
    assert zb.target_metadata.min_hw_revision <= zb.target_metadata.max_hw_revision
    assert VERSION.match(zb.zebin_version) and VERSION.match(zb.zeinfo_version)
    assert zb.elf_class == 64
    assert zb.gfx_core is None or zb.gfx_core_name == "xe-hpc"
    assert zb.spirv is not None and zb.spirv[:4] == b"\x03\x02\x23\x07"
    assert read_zebin(cl_zebin(opencl.ADD, "acm-g10")[0]).product_family_name == "dg2"
    assert read_zebin(cl_zebin(opencl.ADD, "tgllp")[0]).product_family_name == "tgllp"


def test_vector_add_kernel(add_pvc):
    binary, log = add_pvc
    (kernel,) = read_zebin(binary, log).kernels
    assert kernel.name == "add"
    assert kernel.simd_width in (8, 16, 32) and kernel.grf_count == 128
    assert sorted({a.arg_index for a in kernel.explicit_arguments}) == [0, 1, 2]
    pointer = next(a for a in kernel.explicit_arguments if a.kind == "arg_bypointer" and a.size == 8)
    assert pointer.addrspace == "global" and pointer.access_type in ("readonly", "readwrite")
    assert [a["name"] for a in kernel.arg_info] == ["a", "b", "c"]
    assert kernel.scratch_bytes == 0 and kernel.slm_bytes == 0 and not kernel.has_dpas
    assert (kernel.spill_bytes, kernel.spill_source) in ((0, "no_scratch"), (0, "spill_size"))
    assert kernel.text_bytes and kernel.text_bytes > 0


def test_spilling_kernel(cl_zebin, opencl):
    binary, log = cl_zebin(opencl.SPILL)
    kernel = read_zebin(binary, log).kernel("spill")
    assert kernel.grf_count == 128
    assert kernel.spill_bytes > 0 and kernel.spill_source in SPILL_SOURCES
    if kernel.spill_source == "build_log":
        assert spill_lines(log)["spill"] == (128, kernel.spill_bytes // 64)  # GRFs of 64 bytes on pvc
    # Without the log the zebin alone may not say -- but it never says 0.
    alone = read_zebin(binary).kernel("spill")
    assert alone.spill_bytes is None or (alone.spill_bytes > 0 and alone.spill_source in SPILL_SOURCES)
    assert alone.spill_source is None or alone.spill_bytes is not None


def test_256_grf(cl_zebin, opencl):
    binary, log = cl_zebin(opencl.SPILL, options="-cl-intel-256-GRF-per-thread")
    kernel = read_zebin(binary, log).kernel("spill")
    assert kernel.grf_count == 256
    small = read_zebin(*cl_zebin(opencl.SPILL)).kernel("spill")
    assert kernel.spill_bytes is not None and kernel.spill_bytes < small.spill_bytes


def test_private_memory_is_scratch_not_spill(cl_zebin, opencl):
    binary, log = cl_zebin(opencl.PRIVATE)
    kernel = read_zebin(binary, log).kernel("private_array")
    assert kernel.scratch_bytes >= 1024 * 4 and set(kernel.scratch) <= {"single_space", "private_space"}
    if kernel.private_bytes is not None:  # zeinfo 1.39+ (IGC 2): private memory is told apart, no spill
        assert (kernel.spill_bytes, kernel.spill_source) == (0, "spill_size")
    else:  # IGC 1: nothing separates private memory from spills; the scratch is the (upper-bound) figure
        assert (kernel.spill_bytes, kernel.spill_source) == (kernel.scratch_bytes, "scratch")


def test_two_kernels_slm_and_barrier(cl_zebin, opencl):
    zb = read_zebin(*cl_zebin(opencl.TWO_KERNELS))
    assert [k.name for k in zb.kernels] == ["add", "reverse_slm"]
    slm = zb.kernel("reverse_slm")
    assert slm.slm_bytes == 4096 and slm.barrier_count >= 1
    assert zb.kernel("add").barrier_count == 0
    with pytest.raises(KeyError, match="reverse_slm"):
        zb.kernel("missing")


def test_triton_matmul(triton_spirv, spirv_zebin):
    binary, log = spirv_zebin(triton_spirv("matmul"))
    kernel = read_zebin(binary, log).kernel("matmul_kernel")
    assert kernel.has_dpas
    assert kernel.simd_width == 16 and kernel.required_subgroup_size == 16
    assert kernel.spill_source is None or kernel.spill_bytes is not None


def test_fat_binary(spirv_zebin, cl_spirv, opencl):
    binary, log = spirv_zebin(cl_spirv(opencl.ADD), "pvc,acm-g10")
    assert is_fat_binary(binary) and not is_zebin(binary)
    members = fatbin.device_binaries(binary)
    assert set(members) == {"pvc", "acm-g10"}
    assert all(is_zebin(m) for m in members.values())
    assert read_zebin(members["acm-g10"], log, "acm-g10").product_family_name == "dg2"
    names = [name for name, _ in fatbin.members(binary)]
    assert "generic_ir" in names
    assert set(fatbin.device_binaries(binary, ip_versions={"12.60.7": "my-pvc"})) == {"my-pvc", "acm-g10"}


def test_fat_binary_log_per_device(spirv_zebin, cl_spirv, opencl):
    binary, log = spirv_zebin(cl_spirv(opencl.SPILL), "pvc,acm-g10")
    members = fatbin.device_binaries(binary)
    for device in ("pvc", "acm-g10"):
        kernel = read_zebin(members[device], log, device).kernel("spill")
        expected = spill_lines(log, device=device).get("spill")
        if kernel.spill_source == "build_log":
            grf_bytes = 64 if device == "pvc" else 32
            assert (kernel.grf_count, kernel.spill_bytes) == (expected[0], expected[1] * grf_bytes)


# --------------------------------------------------------------------------------------------
# Spill sources, from hand-made zebins


# The hand-made zebins are for pvc: 64-byte GRFs.  IGC's "spilled around N" counts GRFs.
@pytest.mark.parametrize("env, buffers, log, expected", [
    ("spill_size: 512", SPILL_FILL, LOG_128, (512, "spill_size")),  # most specific wins
    ("", SPILL_FILL, LOG_128, (300 * 64, "build_log")),
    ("", SPILL_FILL, "", (2048, "spill_fill_space")),
    # Scratch no source explains counts as spill: IGC prints no spill line for kernels with stack calls.
    ("", SINGLE_SPACE, "", (8192, "scratch")),
    ("", SINGLE_SPACE, "Build succeeded.\n", (8192, "scratch")),
    ("", SINGLE_SPACE, LOG_128.replace("kernel k ", "kernel other "), (8192, "scratch")),  # another kernel spilled
    ("", SINGLE_SPACE, "Compilation from IR - skipping loading of FCL\n", (8192, "scratch")),  # an unfinished log
    ("", SINGLE_SPACE, LOG_128.replace("128 regs", "256 regs"), (8192, "scratch")),  # the log of another GRF mode
    ("", "", "", (0, "no_scratch")),
])
def test_spill_sources(env, buffers, log, expected):
    kernel = read_zebin(make_zebin(zeinfo_with(env, buffers)), log).kernel("k")
    assert (kernel.spill_bytes, kernel.spill_source) == expected


def test_spill_line_of_igc_2_35_and_later():
    log = "warning: in kernel 'k': compiled SIMD16 allocated 128 regs and spilled around 7\nBuild succeeded.\n"
    assert spill_lines(log) == {"k": (128, 7)}
    kernel = read_zebin(make_zebin(zeinfo_with("", SINGLE_SPACE)), log).kernel("k")
    assert (kernel.spill_bytes, kernel.spill_source) == (7 * 64, "build_log")


def test_spill_bytes_use_the_devices_grf_size():
    # acm-g10 (dg2) has 32-byte GRFs.
    notes = note(1, struct.pack("<I", 1270)) + note(4, b"1.20\0")
    kernel = read_zebin(make_zebin(zeinfo_with("", SINGLE_SPACE), notes=notes), LOG_128).kernel("k")
    assert (kernel.spill_bytes, kernel.spill_source) == (300 * 32, "build_log")


def test_spill_size_defaults_to_zero_from_zeinfo_1_39():
    kernel = read_zebin(make_zebin(zeinfo_with("private_size: 4096", SINGLE_SPACE, version="1.39"))).kernel("k")
    assert (kernel.spill_bytes, kernel.spill_source, kernel.private_bytes) == (0, "spill_size", 4096)
    before = read_zebin(make_zebin(zeinfo_with("", SINGLE_SPACE, version="1.38"))).kernel("k")
    assert (before.spill_bytes, before.spill_source) == (8192, "scratch")


def test_scratch_by_usage_and_global_private():
    buffers = SPILL_FILL + "\n- type: global\n  usage: private_space\n  size: 65536\n  is_simt_thread: true"
    kernel = read_zebin(make_zebin(zeinfo_with("has_dpas: true\nslm_size: 1024", buffers))).kernel("k")
    assert kernel.scratch == {"private_space": 4096, "spill_fill_space": 2048}
    assert kernel.scratch_bytes == 6144 and kernel.private_global_bytes == 65536
    assert kernel.has_dpas and kernel.slm_bytes == 1024


def test_newer_notes():
    notes = (note(1, struct.pack("<I", 1274)) + note(2, struct.pack("<I", 0x0C09)) +
             note(3, struct.pack("<I", 1 << 21 | 3 << 16 | 1 << 8)) + note(4, b"1.65\0") +
             note(6, struct.pack("<I", 20 << 22 | 1 << 14 | 4)))
    zb = read_zebin(make_zebin(zeinfo_with(), notes))
    assert (zb.product_family_name, zb.gfx_core_name, zb.zebin_version) == ("bmg", "xe2", "1.65")
    assert (zb.target_metadata.min_hw_revision, zb.target_metadata.max_hw_revision) == (1, 3)
    assert zb.product_config_version == "20.1.4"
    assert read_zebin(make_zebin(zeinfo_with(), note(1, struct.pack("<I", 4242)))).product_family_name is None
    # NEO skips notes of other owners and IntelGT notes of unknown types (warnings), and so does the reader.
    zb = read_zebin(make_zebin(zeinfo_with(), note(1, b"ignored", owner=b"Other\0") + note(99, b"?") + notes))
    assert zb.product_family_name == "bmg" and 99 not in zb.notes


def test_spill_lines():
    log = ("Compilation from IR - skipping loading of FCL\n\n"
           "warning: kernel k1  compiled SIMD32 allocated 128 regs and spilled around 636\n\n"
           "warning: kernel _attn_fwd compiled SIMD16 allocated 256 regs and spilled around 64\n"
           "Build succeeded for : pvc.\n"
           "warning: kernel k1  compiled SIMD8 allocated 128 regs and spilled around 45\n"
           "Build succeeded for : acm-g10.\n")
    assert spill_lines(log, device="pvc") == {"k1": (128, 636), "_attn_fwd": (256, 64)}
    assert spill_lines(log, device="acm-g10") == {"k1": (128, 45)}
    assert spill_lines(log)["k1"] == (128, 45)
    assert spill_lines("Build succeeded.\n") == {}
    # Sections that disagree and no device chosen: the log does not say, the scratch stands in.
    (kernel,) = read_zebin(make_zebin(zeinfo_with(buffers=SINGLE_SPACE).replace("name: k", "name: k1")), log).kernels
    assert (kernel.spill_bytes, kernel.spill_source) == (8192, "scratch")


# --------------------------------------------------------------------------------------------
# Not a usable zebin


@pytest.fixture(scope="module")
def native_elf():
    path = os.path.realpath(shutil.which("true") or "/bin/true")
    with open(path, "rb") as f:
        return f.read()


def test_errors_are_value_errors():
    assert issubclass(ZebinFormatError, ValueError) and issubclass(ZebinFormatError, IntelBackendError)


@pytest.mark.parametrize("data, message", [
    (b"", "the input is empty"),
    (b"hello, world", "not an ELF file"),
    (bytes(random.Random(7).getrandbits(8) for _ in range(4096)), "not an ELF file"),
    (b"\x7fELF\x02\x01", "truncated ELF header"),
    (make_elf([(".text.k", 1, b"\0" * 16)], machine=62), "machine 62 (EM_X86_64 (x86-64))"),
    (make_elf([(".text.k", 1, b"\0" * 16)], machine=0, etype=0xFF04), "legacy patch-token"),
    (make_zebin(None), "degenerate zebin: no .ze_info section"),
    (make_zebin(zeinfo_with(), text=False, symtab=False), "degenerate zebin: no .symtab section"),
    (make_zebin("version: '1.20'\nkernels: []\n"), "malformed .ze_info: line 2 is not a 'key: value' line"),
    (make_zebin("version: '1.20'\nkernels: [\n"), "malformed .ze_info: line 2 is not a 'key: value' line"),
    (make_zebin("version: '1.20'\nkernels:\n  - name: k\n"), "malformed .ze_info: kernels[0] has no execution_env"),
    (make_zebin("version: '1.20'\nkernels:\n"), "malformed .ze_info: kernels must be a list in block style"),
    (make_zebin(zeinfo_with(), notes=struct.pack("<III", 8, 400, 1) + b"IntelGT\0"), "corrupt .note.intelgt.compat"),
])
def test_not_a_zebin(data, message):
    with pytest.raises(ZebinFormatError, match=re.escape(message)):
        read_zebin(data)
    assert not is_zebin(data) or message.startswith(("degenerate", "malformed", "corrupt"))


def test_native_elf(native_elf):
    with pytest.raises(ZebinFormatError, match=r"not a zebin: ELF for machine \d+ .*not 205 \(EM_INTELGT\)"):
        read_zebin(native_elf)
    assert not is_zebin(native_elf)


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.99])
def test_truncated_zebin(add_pvc, fraction):
    binary = add_pvc[0]
    with pytest.raises(ZebinFormatError, match="truncated|corrupt|not a zebin"):
        read_zebin(binary[:int(len(binary) * fraction)])


def test_degenerate_zebin_from_ocloc(spirv_zebin, cl_spirv, opencl):
    # ocloc 22.43 given a truncated SPIR-V module exits 0 with a zebin holding no kernel.
    spirv = cl_spirv(opencl.ADD)
    binary, _ = spirv_zebin(spirv[:len(spirv) // 2 // 4 * 4], check=False)
    if binary is None:
        pytest.skip("this ocloc rejects the truncated module instead")
    with pytest.raises(ZebinFormatError, match=r"degenerate zebin: no \.ze_info or \.symtab section"):
        read_zebin(binary)


def test_not_a_fat_binary(add_pvc):
    with pytest.raises(ZebinFormatError, match="no ar magic"):
        fatbin.device_binaries(add_pvc[0])
    with pytest.raises(ZebinFormatError, match="truncated fat binary"):
        fatbin.device_binaries(b"!<arch>\n64.12.60.7/     0           0     0     644     4330      `\n" + b"\0" * 10)


def test_ze_info_values_of_the_wrong_shape_are_a_format_error(triton_spirv, spirv_zebin):
    # Found by the driver's fuzz test: a flipped byte turned an offset into "k32".
    binary, _ = spirv_zebin(triton_spirv("add"))
    text = binary.replace(b"offset:          0\n", b"offset:          k\n", 1)
    assert text != binary and len(text) == len(binary)
    with pytest.raises(ZebinFormatError, match=r"malformed .ze_info: kernels\[0\]\.payload_arguments\[\d+\]\.offset "
                                               "must be a decimal integer, got 'k'"):
        zebin.read(text)

"""binary.validate: the gate in front of the Level Zero driver.

NEO 22.43 aborts the process (or reads out of bounds) on some malformed zebins instead of refusing them.
Every zebin ocloc produces must pass the validator unchanged, and each class of corruption found to kill
the driver (tools/fuzz_zebin.py; the NEO abort location is noted on each case) must be refused with a
ZebinFormatError that says what is wrong.  The corruptions are made by editing real zebins: ``.ze_info`` is
YAML text inside the ELF, so it is edited as text and the ELF rebuilt around it, and ELF fields are
patched in place.  No device is needed.
"""

import struct
import sys
from pathlib import Path

import pytest

from triton.backends.intel.native import build_log
from triton.backends.intel.binary import elf as elf_format
from triton.backends.intel.binary import fatbin, validate, zebin, zeinfo
from triton.backends.intel.errors import ZebinFormatError
from support import zebin_fuzz
from support import zebin_edit as edit

# Representative cheap kernels on every target, plus a matmul (DPAS, 256 GRF) on pvc.
TRITON_CASES = [(name, arch) for arch in ("pvc", "acm-g10", "tgllp")
                for name in ("add", "softmax", "layernorm", "sort", "atomics")] + [("matmul", "pvc")]
OPENCL_CASES = [(src, device, "") for device in ("pvc", "acm-g10", "tgllp")
                for src in ("ADD", "SPILL", "PRIVATE", "TWO_KERNELS")]
OPENCL_CASES += [("SCRATCH_OVERFLOW", "pvc", "")]  # slow to compile: one target
OPENCL_CASES += [(src, "pvc", "-cl-intel-256-GRF-per-thread") for src in ("SPILL", "TWO_KERNELS")]


@pytest.fixture(scope="session")
def add_pvc(triton_zebin):
    return triton_zebin("add", "pvc")


# --------------------------------------------------------------------------------------------
# Real zebins pass


@pytest.mark.parametrize("name, arch", TRITON_CASES)
def test_triton_zebins_pass(triton_zebin, name, arch):
    data = triton_zebin(name, arch)
    assert validate.loadable(data) == zebin.read(data)


@pytest.mark.parametrize("source, device, options", OPENCL_CASES)
def test_opencl_zebins_pass(cl_zebin, opencl, source, device, options):
    data, log = cl_zebin(getattr(opencl, source), device=device, options=options)
    spills = build_log.spills(log, device)
    read = zebin.read(data, spills)
    largest = max(max(k.scratch_slots().values(), default=0) for k in read.kernels)
    if largest > validate.MAX_SCRATCH_SLOT:
        # IGC 1.0.12504 emits 512 KiB of scratch for SCRATCH_OVERFLOW (IGC 2 fits it into 256 KiB): more than
        # the driver programs (22.43 aborts submitting it on pvc).
        refuse(data, f"malformed .ze_info: kernel overflow: per-thread memory buffer 0 (scratch) has size {largest}; "
                     "the driver programs 1 to 262144 bytes per thread")
        return
    assert validate.loadable(data, spills) == read


def test_members_of_a_fat_binary_pass(spirv_zebin, cl_spirv, opencl):
    fat, _ = spirv_zebin(cl_spirv(opencl.TWO_KERNELS), device="pvc,acm-g10,tgllp")
    members = fatbin.device_binaries(fat)
    assert {"pvc", "acm-g10", "tgllp"} <= set(members)
    for member in members.values():
        assert validate.loadable(member) == zebin.read(member)


# --------------------------------------------------------------------------------------------
# Editing real zebins


class Elf:
    """A real zebin to make corrupt copies of (support.zebin_edit on binary.elf's parse)."""

    def __init__(self, data):
        self.data = bytes(data)
        self.image = elf_format.parse(self.data, zebin.SECTION_TYPES)
        self.shnum, self.shstrndx = self.image.header.e_shnum, self.image.header.e_shstrndx
        self.names = [s.name for s in self.image.sections]

    def index(self, name):
        return self.names.index(name)

    def field(self, i, name):
        return getattr(self.image.sections[i], name)

    def patch(self, offset, fmt, value):
        return edit.put(self.data, offset, {"B": 1, "H": 2, "I": 4, "Q": 8}[fmt], value)

    def set_field(self, i, name, value):
        return edit.set_section_field(self.image, i, f"sh_{name}", value)

    def symbols(self):
        """[(index, name, type, st_shndx, file offset of the entry)] of .symtab."""
        return [(s.index, s.name, s.type, s.shndx, at)
                for s, at in zip(self.image.symbol_table(), edit.symbol_offsets(self.image))]

    def zeinfo(self):
        return self.image.content(self.image.section(".ze_info")).decode()

    def with_zeinfo(self, text):
        """The zebin with .ze_info replaced (any length): later sections and the header table move."""
        return edit.replace_section(self.image, ".ze_info", text.encode())


def payload_arguments(text, kernel=0):
    """[(first line, end line, {key: (line number, value)})] of a kernel's payload_arguments in .ze_info lines."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("  - name:")]
    k_start = starts[kernel]
    k_end = starts[kernel + 1] if kernel + 1 < len(starts) else len(lines)
    begin = next(i for i in range(k_start, k_end) if lines[i] == "    payload_arguments:")
    items, i = [], begin + 1
    while i < k_end and lines[i].startswith("      "):
        if lines[i].startswith("      - "):
            items.append([i, i + 1, {}])
        items[-1][1] = i + 1
        key, _, value = lines[i][8:].partition(":")
        items[-1][2][key.strip()] = (i, value.strip())
        i += 1
    return lines, items


def find_arg(items, **want):
    """Index of the first payload argument whose keys have the given values."""
    for n, (_, _, keys) in enumerate(items):
        if all(keys.get(k, (None, None))[1] == str(v) for k, v in want.items()):
            return n
    raise AssertionError(f"no payload argument with {want}")


def edit_arg(elf, want, key, new_key=None, new_value=None, drop=False):
    """The zebin with key ``key`` of the payload argument matching ``want`` renamed, changed or dropped;
    returns (zebin, argument number)."""
    lines, items = payload_arguments(elf.zeinfo())
    n = find_arg(items, **want)
    line, value = items[n][2][key]
    if drop:
        if lines[line].startswith("      - "):  # the item's first key: the next one takes its dash
            lines[line + 1] = "      - " + lines[line + 1][8:]
        del lines[line]
    else:
        indent = lines[line][:8]
        lines[line] = f"{indent}{new_key or key}:{' ' * max(1, 16 - len(new_key or key))}" \
                      f"{value if new_value is None else new_value}"
    return elf.with_zeinfo("\n".join(lines)), n


def refuse(data, message):
    with pytest.raises(ZebinFormatError) as info:
        validate.loadable(data)
    assert str(info.value) == message
    return info.value


# --------------------------------------------------------------------------------------------
# .ze_info corruptions NEO 22.43 aborts on


def test_renamed_arg_index_key(add_pvc):
    # NEO: an explicit argument without arg_index -> "Abort was called at 220 line in file:
    # ./shared/source/kernel/kernel_arg_descriptor.h" (250 for a by-value argument).
    elf = Elf(add_pvc)
    text = elf.zeinfo()
    lines, items = payload_arguments(text)
    n = find_arg(items, arg_type="arg_bypointer", addrmode="stateless")
    line, _ = items[n][2]["arg_index"]
    # Same-length byte replacement inside the ELF: no section moves.
    at = elf.field(elf.index(".ze_info"), "offset") + sum(len(l) + 1 for l in lines[:line]) + 8
    assert add_pvc[at:at + 9] == b"arg_index"
    data = add_pvc[:at] + b"arg_indeM" + add_pvc[at + 9:]
    refuse(data, f"unknown .ze_info key 'arg_indeM' in kernels[0].payload_arguments[{n}]")


@pytest.mark.parametrize("arg_type", ["arg_bypointer", "arg_byvalue"])
def test_explicit_argument_without_arg_index(add_pvc, arg_type):
    # NEO: kernel_arg_descriptor.h:220 (pointer) / :250 (value), SIGABRT.
    data, n = edit_arg(Elf(add_pvc), {"arg_type": arg_type}, "arg_index", drop=True)
    refuse(data, f"malformed .ze_info: payload argument {n} of kernel add_kernel ({arg_type}) has no arg_index")


def test_arg_index_used_as_pointer_and_value(add_pvc):
    # NEO: kernel_arg_descriptor.h:250 (as<ArgDescValue> of a pointer argument), SIGABRT.
    elf = Elf(add_pvc)
    _, items = payload_arguments(elf.zeinfo())
    pointer = items[find_arg(items, arg_type="arg_bypointer")][2]["arg_index"][1]
    data, n = edit_arg(elf, {"arg_type": "arg_byvalue"}, "arg_index", new_value=pointer)
    refuse(data, f"malformed .ze_info: arg_index {pointer} of kernel add_kernel is used both as pointer and as value "
                 f"(payload argument {n}, arg_byvalue)")


@pytest.mark.parametrize("arg_type, kind", [("sampler_address", "a sampler"), ("image_height", "an image")])
def test_implicit_argument_of_the_wrong_kind(add_pvc, arg_type, kind):
    # NEO: sampler/image metadata of a pointer argument -> kernel_arg_descriptor.h:240 / :230, SIGABRT.
    elf = Elf(add_pvc)
    lines, items = payload_arguments(elf.zeinfo())
    n = find_arg(items, arg_type="arg_byvalue")
    first, end, keys = items[n]
    pointer = items[find_arg(items, arg_type="arg_bypointer")][2]["arg_index"][1]
    lines[first:end] = [f"      - arg_type:        {arg_type}", f"        offset:          {keys['offset'][1]}",
                        "        size:            4", f"        arg_index:       {pointer}"]
    refuse(elf.with_zeinfo("\n".join(lines)),
           f"malformed .ze_info: payload argument {n} of kernel add_kernel ({arg_type}) belongs to argument {pointer}, "
           f"which is a pointer argument, not {kind}")


def test_pointer_without_access_type(add_pvc):
    # NEO: "Abort was called at 857 line in file: ./shared/source/device_binary_format/zebin_decoder.cpp"
    # (the second entry of an argument without the access type the first one had).
    data, n = edit_arg(Elf(add_pvc), {"arg_type": "arg_bypointer", "addrmode": "stateless"}, "access_type",
                       drop=True)
    refuse(data, f"malformed .ze_info: payload argument {n} of kernel add_kernel (arg_bypointer) has no access_type")


@pytest.mark.parametrize("want, key, value", [
    ({"arg_type": "arg_byvalue"}, "offset", 65530),
    ({"arg_type": "arg_bypointer"}, "size", 65535),  # stateful (IGC 1) or stateless (IGC 2)
])
def test_cross_thread_offsets_and_sizes_out_of_range(add_pvc, want, key, value):
    # NEO keeps cross-thread offsets and the cross-thread data size in 16 bits (0xFFFF meaning "none"): an
    # argument reaching past 64 KiB -> "Abort was called at 266 line in file:
    # ./shared/source/kernel/kernel_arg_descriptor.h".
    data, n = edit_arg(Elf(add_pvc), want, key, new_value=value)
    refuse(data, f"malformed .ze_info: kernels[0].payload_arguments[{n}].{key} is {value}, outside "
                 f"[0, {zeinfo.MAX_CROSS_THREAD_BYTES}]")


def test_indices_that_make_the_driver_allocate_without_bound(add_pvc):
    # NEO: arg_index 2^31-1 resizes the argument table (std::length_error thrown out of zeModuleCreate),
    # bti_value 2^31-1 the binding table (same).
    elf = Elf(add_pvc)
    data, n = edit_arg(elf, {"arg_type": "arg_byvalue"}, "arg_index", new_value=2147483647)
    refuse(data, f"malformed .ze_info: kernels[0].payload_arguments[{n}].arg_index is 2147483647, outside "
                 f"[0, {zeinfo.MAX_EXPLICIT_ARGS - 1}]")
    text = elf.zeinfo()
    if "      - bti_value:" not in text:  # IGC 2: every argument stateless, no binding table; add one
        at = text.index("    payload_arguments:")
        text = text[:at] + "    binding_table_indices:\n      - bti_value:       0\n        arg_index:       0\n" + \
            text[at:]
    at = text.index("      - bti_value:")
    end = text.index("\n", at)
    data = elf.with_zeinfo(text[:at] + "      - bti_value:       2147483647" + text[end:])
    refuse(data, "malformed .ze_info: kernels[0].binding_table_indices[0].bti_value is 2147483647, outside [0, 254]")


def test_yaml_that_neo_parses_differently_or_aborts_on(add_pvc):
    elf = Elf(add_pvc)
    lines, items = payload_arguments(elf.zeinfo())
    # An empty key: "Abort was called at 326 line in file: ./shared/source/device_binary_format/yaml/
    # yaml_parser.cpp".
    line = items[2][0]
    original = lines[line]
    lines[line] = original.replace("arg_type:", ":" + " " * 8, 1)
    refuse(elf.with_zeinfo("\n".join(lines)),
           f"malformed .ze_info: line {line + 1} is not a 'key: value' line of the YAML subset IGC writes: "
           f"{lines[line]!r}")
    lines[line] = original
    # A NUL byte ends NEO's reading of a key: the by-value argument loses its arg_index
    # (kernel_arg_descriptor.h:250).
    n = find_arg(items, arg_type="arg_byvalue")
    line = items[n][2]["arg_index"][0]
    original = lines[line]
    lines[line] = original.replace("arg_index", "arg_i\0dex")
    refuse(elf.with_zeinfo("\n".join(lines)),
           f"malformed .ze_info: byte 0x00 on line {line + 1} (only printable ASCII and newlines)")
    # NEO finds kernels_misc_info by searching the text and decodes only what precedes it as the kernels:
    # the string before an arg_index cuts it off (kernel_arg_descriptor.h:250), while PyYAML reads it all.
    lines[line:line] = ["        foo:             kernels_misc_info"]
    lines[line + 1] = original
    refuse(elf.with_zeinfo("\n".join(lines)), "malformed .ze_info: 'kernels_misc_info' appears more than once")


# --------------------------------------------------------------------------------------------
# ELF corruptions NEO 22.43 reads out of bounds on (SIGSEGV)


def test_section_name_offsets(add_pvc):
    elf = Elf(add_pvc)  # NEO reads every section's name, section 0's too, without a bound
    names = elf.field(elf.shstrndx, "size")
    i = elf.index(".ze_info")
    refuse(elf.set_field(i, "name", 0x7FFFFFFF),
           f"corrupt zebin: section {i} name offset {0x7FFFFFFF} is outside its string table ({names} bytes)")
    refuse(elf.set_field(0, "name", 0xFF0000), "corrupt zebin: section 0 is not an unnamed, empty SHT_NULL section")
    refuse(elf.patch(62, "H", 223), f"corrupt zebin: section name table index 223 is not a section (1 to "
                                    f"{elf.shnum - 1})")


def test_section_types(add_pvc):
    elf = Elf(add_pvc)
    i = elf.index(".symtab")
    refuse(elf.set_field(i, "type", 8),
           f"corrupt zebin: section {i} '.symtab' has type SHT_NOBITS, which no section of that name has")
    refuse(elf.set_field(i, "type", 0xFF), f"corrupt zebin: section {i} has unknown type 0xff")


def test_symbols(add_pvc):
    elf = Elf(add_pvc)
    strtab = elf.field(elf.field(elf.index(".symtab"), "link"), "size")
    # A function symbol, the kernel's own where IGC (2) emits no other.
    functions = [s for s in elf.symbols() if s[2] == elf_format.STT_FUNC]
    j, name, _, _, at = next((s for s in functions if s[1] != "add_kernel"), functions[0])
    refuse(elf.patch(at, "I", 0x80000000),
           f"corrupt zebin: symbol {j} of .symtab name offset {0x80000000} is outside its string table "
           f"({strtab} bytes)")
    refuse(elf.patch(at + 6, "H", 0x2FF), f"corrupt zebin: symbol {j} ({name}) is in section {0x2FF}, which does not "
                                          "exist")
    # A function outside .text.<kernel>: NEO cuts ".text." off its section's name (std::out_of_range thrown
    # out of zeModuleCreate; a wild read for an index past the table).
    moved = bytearray(elf.patch(at + 6, "H", elf.index(".ze_info")))
    struct.pack_into("<Q", moved, at + 16, 0)  # st_size 0: the symbol stays inside .ze_info
    refuse(bytes(moved),
           f"corrupt zebin: function symbol {j} ({name}) is not in a .text.<kernel> section")
    refuse(elf.patch(elf.symbols()[0][4] + 4, "B", 2), "corrupt zebin: symbol 0 of .symtab is not the all-zero null "
                                                       "symbol")


def test_relocations(add_pvc):
    elf = Elf(add_pvc)
    rela = [n for n in elf.names if n.startswith(".rela.")]
    if not rela:
        pytest.skip("this zebin has no relocation sections")
    i = elf.index(rela[0])
    nsyms = elf.field(elf.index(".symtab"), "size") // 24
    refuse(elf.patch(elf.field(i, "offset") + 12, "I", 0x10000),
           f"corrupt zebin: relocation 0 of {rela[0]} names symbol {0x10000}, the table has {nsyms}")
    refuse(elf.set_field(i, "info", 17),
           f"corrupt zebin: {rela[0]} applies to section 17, which does not exist or has no data")


def test_notes(add_pvc):
    elf = Elf(add_pvc)
    i = elf.index(".note.intelgt.compat")
    start = elf.field(i, "offset")
    refuse(elf.patch(start, "I", 0xFFFFFFFF),
           "corrupt .note.intelgt.compat: note of type 1 at byte 0 runs past the section")
    # An owner name of 1 byte shifts the notes after it: NEO refuses the read past the section too.
    refuse(elf.patch(start, "I", 1), "corrupt .note.intelgt.compat: note of type 4 at byte 20 runs past the section")
    # An owner name of 5 to 7 bytes keeps the notes in place, but NEO (22.43 and 26.27) dies of SIGSEGV on such
    # a prefix of IntelGT's name (found by test_driver's mutated zebins once they carried no .spv section).
    section = elf.image.section(".note.intelgt.compat")
    at = next(n.offset for n in elf.image.notes(section) if n.type == zebin.NT_ZEBIN_VERSION)
    for size in (5, 6, 7):
        refuse(elf.patch(section.offset + at, "I", size), f"corrupt .note.intelgt.compat: note of type 4 at byte {at} "
               f"has an owner name of {size} bytes, a prefix of IntelGT's 8; the driver crashes on it")
    # A note of another owner NEO skips ("note will not be used"): here the product family's, which the loader needs.
    owner = start + 12
    assert elf.data[owner:owner + 8] == b"IntelGT\0"
    refuse(elf.patch(owner + 6, "B", ord("X")),
           "corrupt .note.intelgt.compat: no product family note (NT_INTELGT_PRODUCT_FAMILY)")


def note_desc(elf, ntype):
    """File offset of the descriptor of the IntelGT note of type ``ntype``."""
    try:
        return edit.note_descriptor(elf.image, ".note.intelgt.compat", ntype)
    except KeyError:
        pytest.skip(f"no note of type {ntype}")


def test_target_notes_that_make_neo_rebuild_from_spirv(add_pvc):
    # NEO takes a binary whose GFX core is not the device's, or whose target metadata asks it to check the
    # device's hardware revision (bit 13) against a range the device is outside of, for another device's
    # and rebuilds it from the embedded SPIR-V with IGC -- which ends the process (exit 1, no message) when
    # that SPIR-V is corrupt too.  IGC never sets bit 13.
    elf = Elf(add_pvc)
    refuse(elf.patch(note_desc(elf, zebin.NT_GFX_CORE), "I", 0x0C07),
           "corrupt .note.intelgt.compat: GFX core 0xc07 (xe-hpg) is not the core of product family 1271 (pvc)")
    at = note_desc(elf, zebin.NT_TARGET_METADATA)
    metadata, = struct.unpack_from("<I", add_pvc, at)
    metadata = metadata & ~(0x1F << 8 | 0x1F << 16) | 1 << 13 | 1 << 8 | 2 << 16  # revisions 1 to 2 only
    refuse(elf.patch(at, "I", metadata), f"corrupt .note.intelgt.compat: target metadata {metadata:#010x} sets "
                                         "validateRevisionId (bit 13), which no compiler writes")


# --------------------------------------------------------------------------------------------
# Robustness: whatever the bytes, a Zebin equal to read_zebin's or a ZebinFormatError


@pytest.mark.parametrize("mode", ["all-bits", "values"])
def test_mutants_are_refused_or_read_alike(add_pvc, mode):
    # Whatever the bytes: a ZebinFormatError naming the fault, or the Zebin the reader gives -- never another
    # exception.
    mutants = zebin_fuzz.MutantSet(mode, add_pvc)
    accepted = 0
    for i in mutants.indices(0, None, 400, seed=3):
        mutant = mutants[i].data
        try:
            info = validate.loadable(mutant)
        except ZebinFormatError:
            continue
        accepted += 1
        assert info == zebin.read(mutant)
    assert 0 < accepted < 400


def test_truncations_and_garbage_are_refused(add_pvc):
    for n in (0, 3, 16, 63, 64, 1000, len(add_pvc) // 2, len(add_pvc) - 1):
        with pytest.raises(ZebinFormatError):
            validate.loadable(add_pvc[:n])
    with pytest.raises(ZebinFormatError, match="unsupported zebin: ELF class 1"):
        validate.loadable(add_pvc[:4] + b"\x01" + add_pvc[5:])


# --------------------------------------------------------------------------------------------
# What NEO's lookup tables and asserts allow (the rules of binary.validate._check_driver_limits)


def with_env(elf, line):
    """The zebin with ``line`` added to the first kernel's execution_env."""
    text = elf.zeinfo()
    at = text.index("\n", text.index("    execution_env:")) + 1
    return elf.with_zeinfo(text[:at] + f"      {line}\n" + text[at:])


@pytest.mark.parametrize("count", [3, 5, 7, 9, 15, 17, 31])
def test_barrier_counts_the_encoder_cannot_program(add_pvc, count):
    # NEO: EncodeDispatchKernel::programBarrierEnable looks the count up in a LookupArray of 0, 1, 2, 4, 8, 16,
    # 24, 32 on Xe-HPC; lookUp() is UNRECOVERABLE_IF(!found): SIGABRT at the first launch.
    refuse(with_env(Elf(add_pvc), f"barrier_count:   {count}"),
           f"malformed .ze_info: kernel add_kernel: execution_env.barrier_count is {count}; the driver programs "
           "0, 1, 2, 4, 8, 16, 24 or 32 barriers (NEO aborts on any other count)")


def test_barrier_counts_per_gfx_core(triton_zebin):
    assert validate.loadable(with_env(Elf(triton_zebin("add", "pvc")), "barrier_count:   24"))
    # Xe-HPG's table has 0 and 1 only; Gen12LP's barrier is an enable bit any count sets.
    refuse(with_env(Elf(triton_zebin("add", "acm-g10")), "barrier_count:   2"),
           "malformed .ze_info: kernel add_kernel: execution_env.barrier_count is 2; the driver programs 0 or 1 "
           "barriers (NEO aborts on any other count)")
    assert validate.loadable(with_env(Elf(triton_zebin("add", "tgllp")), "barrier_count:   3"))


@pytest.mark.parametrize("sizes", ["[ 1, 0, 1 ]", "[ 64, 1, 0 ]", "[ 16, 0, 0 ]"])
def test_required_work_group_sizes_the_driver_aborts_on(add_pvc, sizes):
    # NEO: KernelImp::initialize, UNRECOVERABLE_IF(reqdSize[1] == 0) / [2] once the first is set.
    refuse(with_env(Elf(add_pvc), f"required_work_group_size: {sizes}"),
           f"malformed .ze_info: kernel add_kernel: execution_env.required_work_group_size is "
           f"{[int(v) for v in sizes.strip('[ ]').split(',')]}; with a first size, each size must be at least 1 (NEO "
           "aborts on a zero)")
    assert validate.loadable(with_env(Elf(add_pvc), "required_work_group_size: [ 128, 1, 1 ]"))


@pytest.mark.launches_broken_binaries
@pytest.mark.parametrize("sizes", ["[ 0, 1, 1 ]", "[ 0, 0, 0 ]", "[ 1024, 2, 1 ]"])
def test_required_work_group_sizes_the_driver_takes_or_refuses_itself_pass(add_pvc, sizes):
    # A first size of 0 means none; a group larger than the device's NEO refuses at zeKernelCreate
    # (ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION from setGroupSize, 22.43 and 26.27).
    data = with_env(Elf(add_pvc), f"required_work_group_size: {sizes}")
    assert validate.loadable(data)
    outcome, detail = loads_and_launches(data)
    assert (outcome, sizes) in (("launched", "[ 0, 1, 1 ]"), ("launched", "[ 0, 0, 0 ]"),
                                ("driver-refused", "[ 1024, 2, 1 ]")), detail


@pytest.mark.launches_broken_binaries
def test_a_kernel_listed_twice_passes(add_pvc):
    # NEO builds both entries from the one .text section and creates the first.
    elf = Elf(add_pvc)
    text = elf.zeinfo()
    end = text.index("kernels_misc_info:") if "kernels_misc_info:" in text else text.index("...")
    data = elf.with_zeinfo(text.replace("kernels:\n", "kernels:\n" + text[text.index("  - name:"):end], 1))
    assert validate.loadable(data)
    assert loads_and_launches(data) == ("launched", "")


def test_inline_samplers(add_pvc):
    # NEO: KernelImp::setInlineSamplers, UNRECOVERABLE_IF(sampler == nullptr) on pvc, which has no sampler.
    elf = Elf(add_pvc)
    text = elf.zeinfo()
    at = text.index("    execution_env:")
    block = ("    inline_samplers:\n      - sampler_index:   0\n        addrmode:        clamp_edge\n"
             "        filtermode:      nearest\n")
    refuse(elf.with_zeinfo(text[:at] + block + text[at:]),
           "malformed .ze_info: kernel add_kernel: inline_samplers (1): this loader takes no kernels with inline "
           "samplers (NEO aborts creating them on devices without samplers)")


def with_local_id_size(elf, size):
    text = elf.zeinfo()
    assert "arg_type:        local_id\n        offset:          0\n        size:            192" in text
    return elf.with_zeinfo(text.replace("local_id\n        offset:          0\n        size:            192",
                                        f"local_id\n        offset:          0\n        size:            {size}"))


@pytest.mark.parametrize("size", [64, 128])
def test_local_ids_in_fewer_than_three_channels_need_a_driver_that_takes_them(add_pvc, size):
    # NEO 22.43 writes 3 channels of local ids into the space of as many as the size says
    # (PerThreadDataHelper::sendPerThreadData): 1 or 2 channels overflow its heap (SIGABRT at launch).  26.27
    # takes 1 to 3, and IGC 2 declares one channel for SIMD32 kernels on Xe2.
    from triton.backends.intel import targets
    from triton.backends.intel.runtime import level_zero
    from triton.backends.intel.runtime.level_zero import NativeBinaryError
    data = with_local_id_size(Elf(add_pvc), size)
    assert validate.driver_requirements(validate.loadable(data)) == {"local_id_channels"}
    with pytest.raises(NativeBinaryError) as info:
        level_zero.native_kernel(data, targets.lookup("pvc"), "add_kernel", driver_build=24595)
    assert str(info.value) == (
        "not a loadable native binary: it takes local ids in fewer than 3 channels, which this Level Zero driver "
        "(NEO build 24595) crashes on; recompile it with this driver's ocloc or use NEO build 39122 or newer")
    assert level_zero.native_kernel(data, targets.lookup("pvc"), "add_kernel", driver_build=39122)[0] == data


@pytest.mark.parametrize("size", [63, 256, 320])
def test_local_ids_in_more_than_three_channels(add_pvc, size):
    # NEO's decoder refuses a channel count (size / channel bytes, rounded down) other than 1 to 3.
    refuse(with_local_id_size(Elf(add_pvc), size),
           f"malformed .ze_info: kernel add_kernel: per-thread payload argument 0 (local_id) has size {size}, not 1 to "
           "3 channels of 64 bytes (a SIMD32 kernel with 64-byte registers); the driver refuses it")


@pytest.mark.parametrize("size", [193, 255])
def test_local_ids_sizes_the_driver_rounds_down_pass(add_pvc, size):
    # NEO takes size // 64 = 3 channels and does not use the size otherwise (measured: loads and launches).
    data = with_local_id_size(Elf(add_pvc), size)
    assert validate.driver_requirements(validate.loadable(data)) == set()


def test_bindless_arguments_need_a_driver_that_takes_them(add_pvc):
    # NEO 22.43: KernelImp::patchBindlessSurfaceState dereferences the BindlessHeapsHelper, which exists only
    # in bindless mode (SIGSEGV when the argument is set); 26.27 takes them.  IGC 2 addresses OpenCL C buffers
    # bindless on Xe-HPG, so the format allows them and the load checks the driver present.
    from triton.backends.intel import targets
    from triton.backends.intel.runtime import level_zero
    from triton.backends.intel.runtime.level_zero import NativeBinaryError
    data, _ = edit_arg(Elf(add_pvc), {"arg_type": "arg_bypointer", "addrmode": "stateless"}, "addrmode",
                       new_value="bindless")
    assert validate.driver_requirements(validate.loadable(data)) == {"bindless"}
    pvc = targets.lookup("pvc")
    with pytest.raises(NativeBinaryError) as info:
        level_zero.native_kernel(data, pvc, "add_kernel", driver_build=24595)
    assert str(info.value) == (
        "not a loadable native binary: it addresses arguments bindless, which this Level Zero driver (NEO build 24595) "
        "crashes on; recompile it with this driver's ocloc or use NEO build 39122 or newer")
    assert level_zero.native_kernel(data, pvc, "add_kernel", driver_build=39122)[0] == data
    assert validate.driver_requirements(validate.loadable(add_pvc)) == set()


def test_misaligned_kernel_code(add_pvc):
    elf = Elf(add_pvc)
    i = elf.index(".text.add_kernel")
    size = elf.field(i, "size")
    refuse(elf.set_field(i, "size", size - 2),
           f"corrupt zebin: .text.add_kernel at byte 64, {size - 2} bytes, is not dword-aligned (kernel code is)")


@pytest.mark.launches_broken_binaries
def test_another_gpus_zebin_with_its_product_family_patched(triton_zebin):
    # A tgllp zebin whose product-family note says pvc: NEO's device check compares the family only, so it
    # would run Gen12LP code on Xe-HPC.  IGC 2 names the GFX core (Gen12LP); IGC 1 writes no core, but its
    # target metadata carries the device's hardware revision (tgllp 0; pvc 1 or 7).
    data = triton_zebin("add", "tgllp")
    elf = Elf(data)
    patched = elf.patch(edit.note_descriptor(elf.image, ".note.intelgt.compat", zebin.NT_PRODUCT_FAMILY), "I", 1271)
    with pytest.raises(ZebinFormatError) as info:
        validate.loadable(patched)
    assert str(info.value) in (
        "corrupt .note.intelgt.compat: GFX core 0x12 (gen12lp) is not the core of product family 1271 (pvc)",
        "corrupt .note.intelgt.compat: target metadata names hardware revisions 0..0, but the devices of product "
        "family 1271 (pvc) have revision 1 or 7: the product family note does not belong to this binary")


# --------------------------------------------------------------------------------------------
# Refuse only what the driver refuses or cannot survive (issue 22): binaries NEO loads and launches pass


def with_user_attribute(elf, line=None, drop=None):
    """The zebin with ``line`` added to (or the key ``drop`` removed from) the first kernel's user_attributes."""
    lines = elf.zeinfo().split("\n")
    at = lines.index("    user_attributes:")
    if drop is not None:
        lines = [x for x in lines if not x.startswith(f"      {drop}:")]
    if line is not None:
        lines.insert(at + 1, f"      {line}")
    return elf.with_zeinfo("\n".join(lines))


def with_payload_arg(elf, **keys):
    """The zebin with a payload argument of ``keys`` appended to the first kernel's payload_arguments."""
    lines = elf.zeinfo().split("\n")
    at = lines.index("    payload_arguments:") + 1
    while lines[at].startswith("      "):
        at += 1
    items = [f"{'      - ' if n == 0 else '        '}{k}: {v}" for n, (k, v) in enumerate(keys.items())]
    lines[at:at] = items
    return elf.with_zeinfo("\n".join(lines))


def with_arg_key(elf, want, key, value):
    """The zebin with ``key: value`` added to the first payload argument matching ``want``."""
    lines, items = payload_arguments(elf.zeinfo())
    n = find_arg(items, **want)
    lines.insert(items[n][0] + 1, f"        {key}: {value}")
    return elf.with_zeinfo("\n".join(lines))


def loads_and_launches(data, kernel="add_kernel", kinds=("ptr", "ptr", "ptr", "i32"), group=(128, 1, 1),
                       unchecked=False):
    """What NEO does with ``data`` on the emulated pvc, through the loader's checks (``unchecked``: without them):
    (outcome, detail) of the fuzzer's child (support.zebin_fuzz: module and kernel creation, a launch with
    ``kinds`` arguments, synchronisation)."""
    import json
    import tempfile
    folder = tempfile.mkdtemp(prefix="validate-load-")
    spec = Path(folder) / "bases.json"
    spec.write_text(json.dumps({"k": {"kernel": kernel, "kinds": list(kinds), "group": list(group), "shared": 0}}))
    child = zebin_fuzz.Child(str(spec), "pvc", 120)
    try:
        result, death = child.run(0, "k", bytes(data), raw=unchecked)
    finally:
        child.close()
    assert death is None, f"{death.how}: {death.output[-2000:]}"
    return result


@pytest.mark.launches_broken_binaries
def test_walk_order_of_a_kernel_that_does_not_require_one_passes(add_pvc):
    # IGC 2.40's Intel_Symbol_Table_Void_Program has work_group_walk_order_dimensions [0, 0, 0] and no
    # intel_reqd_workgroup_walk_order: NEO reads the order only for a kernel with that attribute (26.27) or never
    # (22.43), so any order is harmless there.
    elf = Elf(with_user_attribute(Elf(add_pvc), drop="intel_reqd_workgroup_walk_order"))
    for order in ("[ 0, 0, 0 ]", "[ 1, 0, 1 ]", "[ 2, 2, 2 ]"):
        data = with_env(elf, f"work_group_walk_order_dimensions: {order}")
        assert validate.loadable(data)
    assert loads_and_launches(with_env(elf, "work_group_walk_order_dimensions: [ 0, 0, 0 ]")) == ("launched", "")
    # The attribute's own value NEO only reports.
    assert validate.loadable(with_user_attribute(Elf(add_pvc), "intel_reqd_workgroup_walk_order: [ 1, 1, 1 ]",
                                                 drop="intel_reqd_workgroup_walk_order"))


@pytest.mark.parametrize("order", ["[ 0, 0, 0 ]", "[ 1, 0, 1 ]", "[ 16, 1, 1 ]"])
def test_walk_order_of_a_kernel_that_requires_one(add_pvc, order):
    # NEO 26.27 (flags.requiresWorkgroupWalkOrder from intel_reqd_workgroup_walk_order): at zeKernelSetGroupSize
    # the order indexes the group size ([16, 1, 1]: a read past it, measured: NEO hangs), picks the walker's walk
    # order and lays out the local ids it generates ([0, 0, 0]: wrong ids, a silently wrong launch).
    elf = Elf(with_user_attribute(Elf(add_pvc), "intel_reqd_workgroup_walk_order: [ 0, 1, 2 ]",
                                  drop="intel_reqd_workgroup_walk_order"))
    refuse(with_env(elf, f"work_group_walk_order_dimensions: {order}"),
           f"malformed .ze_info: kernel add_kernel: execution_env.work_group_walk_order_dimensions is "
           f"{[int(v) for v in order.strip('[ ]').split(',')]}, not an order of the dimensions 0, 1, 2, in a kernel "
           "that requires its walk order (the driver would generate wrong local ids)")
    assert validate.loadable(with_env(elf, "work_group_walk_order_dimensions: [ 1, 0, 2 ]"))


@pytest.mark.launches_broken_binaries
def test_is_ptr_on_an_implicit_argument_passes(add_pvc):
    # IGC 2.40 marks global_base with is_ptr (a libdevice tanh); NEO 22.43 ignores the key, 26.27 reads it on
    # global_base only (indirect access).  On another implicit argument it is ignored by both.
    data = with_payload_arg(Elf(add_pvc), arg_type="local_size", offset=32, size=12, is_ptr="true")
    assert validate.loadable(data)
    assert loads_and_launches(data) == ("launched", "")


@pytest.mark.parametrize("want, key, value", [
    ({"arg_type": "arg_bypointer"}, "is_ptr", "true"),
    ({"arg_type": "arg_bypointer"}, "source_offset", "0"),
    ({"arg_type": "arg_byvalue"}, "addrspace", "global"),
    ({"arg_type": "arg_byvalue"}, "access_type", "readwrite"),
    ({"arg_type": "arg_byvalue"}, "addrmode", "stateless"),
    ({"arg_type": "arg_byvalue"}, "bti_value", "3"),
    ({"arg_type": "arg_byvalue"}, "slm_alignment", "8"),
    ({"arg_type": "arg_byvalue"}, "image_transformable", "true"),
    ({"arg_type": "arg_byvalue"}, "is_pipe", "true"),
])
def test_keys_the_driver_ignores_on_explicit_arguments_pass(add_pvc, want, key, value):
    # NEO reads is_ptr and source_offset only for by-value arguments, and pointer keys only for pointers.
    data = with_arg_key(Elf(add_pvc), want, key, value)
    assert validate.loadable(data)


@pytest.mark.parametrize("keys", [
    {"addrspace": "global"}, {"access_type": "readonly"}, {"source_offset": "0"}, {"arg_index": "7"},
    {"addrmode": "stateless"}, {"bti_value": "2"},
])
def test_keys_the_driver_ignores_on_implicit_arguments_pass(add_pvc, keys):
    assert validate.loadable(with_payload_arg(Elf(add_pvc), arg_type="local_size", offset=32, size=12, **keys))


def test_buffer_offset_of_an_argument_the_kernel_does_not_list_passes(add_pvc):
    # NEO makes argument 9 a pointer (ArgDescriptor::as<ArgDescPointer>(true)), set like any other.
    n = len(payload_arguments(Elf(add_pvc).zeinfo())[1])
    assert validate.loadable(with_payload_arg(Elf(add_pvc), arg_type="buffer_offset", offset=32, size=4,
                                              arg_index=9))
    # An image's implicit argument without its image, or one of another kind, stays refused (NEO aborts).
    refuse(with_payload_arg(Elf(add_pvc), arg_type="image_height", offset=32, size=4, arg_index=9),
           f"malformed .ze_info: payload argument {n} of kernel add_kernel (image_height) belongs to argument 9, which "
           "is no explicit argument, not an image")
    refuse(with_payload_arg(Elf(add_pvc), arg_type="buffer_offset", offset=32, size=4, arg_index=3),
           f"malformed .ze_info: payload argument {n} of kernel add_kernel (buffer_offset) belongs to argument 3, which "
           "is a value argument, not a pointer")


@pytest.mark.launches_broken_binaries
@pytest.mark.parametrize("arg_type", ["arg_byvalue", "arg_bypointer"])
def test_sampler_index_outside_samplers_passes(add_pvc, arg_type):
    # NEO 22.43 sizes the sampler table from any payload argument's sampler_index, 26.27 ignores it: both load
    # and launch such a kernel.
    data = with_arg_key(Elf(add_pvc), {"arg_type": arg_type}, "sampler_index", "2")
    assert validate.loadable(data)
    assert loads_and_launches(data) == ("launched", "")


def test_two_args_info_entries_for_one_argument_pass(add_pvc):
    text = Elf(add_pvc).zeinfo()
    first = text.index("      - index:           1")
    assert validate.loadable(Elf(add_pvc).with_zeinfo(text[:first] + text[first:].replace(
        "      - index:           1", "      - index:           0", 1)))


def test_args_info_past_the_arguments(add_pvc):
    # NEO stores args_info entries at .at(index) when argument metadata is asked for: past the end it throws.
    text = Elf(add_pvc).zeinfo()
    refuse(Elf(add_pvc).with_zeinfo(text.replace("      - index:           3", "      - index:           4")),
           "malformed .ze_info: kernels_misc_info args_info 3 of kernel add_kernel is for argument 4, but the kernel "
           "has 4 arguments")


@pytest.mark.parametrize("size, ok", [(0, False), (2, False), (4, True), (16, True)])
def test_size_of_a_local_memory_argument(triton_zebin, size, ok):
    # Setting it, NEO reads and writes a 4-byte SLM offset at its offset; the size is otherwise unused.
    elf = Elf(triton_zebin("softmax", "pvc"))
    lines, items = payload_arguments(elf.zeinfo())
    n = find_arg(items, addrmode="slm")
    data, _ = edit_arg(elf, {"addrmode": "slm"}, "size", new_value=str(size))
    if ok:
        assert validate.loadable(data)
    else:
        refuse(data, f"malformed .ze_info: payload argument {n} of kernel softmax_kernel (arg_bypointer) is a "
                     f"local-memory pointer of {size} bytes (the driver writes a 4-byte offset there)")


# A kernel IGC 2.40 compiles with a call into libdevice: its zebin has a global_base with is_ptr and the extra kernel
# Intel_Symbol_Table_Void_Program with walk order [0, 0, 0] (Triton's fused attention and Liger's cross-entropy
# showed the same); IGC 1.0.12504 writes that kernel without a walk order, and no is_ptr.
TANH_SOURCE = '''
import triton
import triton.language as tl
from triton.language.extra import libdevice


@triton.jit
def tanh_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, libdevice.tanh(tl.load(x_ptr + offs, mask=mask)), mask=mask)
'''


@pytest.fixture(scope="module")
def tanh_zebin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tanh")
    (folder / "tanh_source.py").write_text(TANH_SOURCE)  # @triton.jit reads its source from a file
    sys.path.insert(0, str(folder))
    try:
        import tanh_source
        import kernels
        spec = kernels.KernelSpec("tanh", tanh_source.tanh_kernel, {"x_ptr": "*fp32", "out_ptr": "*fp32", "n": "i32"},
                                  {"BLOCK": 1024})
        # A compile failure fails the test: libdevice's tanh compiles on every toolchain, so a failure is a bug.
        return spec.compile("pvc").asm["zebin"]
    finally:
        sys.path.remove(str(folder))


def test_real_kernel_with_a_symbol_table_kernel_and_is_ptr_loads(tanh_zebin):
    parsed = validate.loadable(tanh_zebin)
    kernels = {k["name"]: k for k in parsed.zeinfo["kernels"]}
    assert "Intel_Symbol_Table_Void_Program" in kernels  # IGC 1.0.12504 writes it too, without a walk order
    order = kernels["Intel_Symbol_Table_Void_Program"]["execution_env"].get("work_group_walk_order_dimensions")
    assert order in (None, [0, 0, 0])
    if order is not None:  # IGC 2.40
        assert any(a.get("is_ptr") for a in kernels["tanh_kernel"].get("payload_arguments", ())
                   if a["arg_type"] == "global_base")
    assert loads_and_launches(tanh_zebin, "tanh_kernel", ("ptr", "ptr", "i32")) == ("launched", "")


@pytest.mark.launches_broken_binaries
def test_size_of_a_stateful_pointer_passes(add_pvc):
    # A stateful pointer's address is in its surface state: NEO uses neither its offset nor its size (22.43's
    # zebins address pointers stateful; 26.27's are stateless).
    elf = Elf(add_pvc)
    if "addrmode:        stateful" not in elf.zeinfo():
        pytest.skip("this compiler writes no stateful pointer")
    data, _ = edit_arg(elf, {"addrmode": "stateful"}, "size", new_value="2")
    assert validate.loadable(data)
    assert loads_and_launches(data) == ("launched", "")


def test_unknown_keys_in_kernels_misc_info_pass(add_pvc):
    # NEO skips keys of kernels_misc_info it does not know (a warning); elsewhere 26.27 refuses them.
    text = Elf(add_pvc).zeinfo()
    data = Elf(add_pvc).with_zeinfo(text.replace("        type_qualifiers: NONE\n",
                                                 "        type_qualifiers: NONE\n        tyqe_name: x\n", 1))
    assert validate.loadable(data)
    refuse(Elf(add_pvc).with_zeinfo(text.replace("      grf_count:", "      grf_countx: 1\n      grf_count:", 1)),
           "unknown .ze_info key 'grf_countx' in kernels[0].execution_env")


def test_args_info_without_its_names_passes(add_pvc):
    # NEO skips a missing args_info member with a warning ("missing. Ignoring"); only a missing index it refuses.
    text = Elf(add_pvc).zeinfo()
    assert validate.loadable(Elf(add_pvc).with_zeinfo(text.replace("        type_qualifiers: NONE\n", "", 1)))
    with pytest.raises(ZebinFormatError, match="has no index"):
        validate.loadable(Elf(add_pvc).with_zeinfo(text.replace("      - index:           1\n        address_qualifier",
                                                                "      - address_qualifier", 1)))


MISSING_FUNCTION_CL = """
void triton_xpu_missing(__global float* p);
__kernel void calls_missing(__global float* p) { triton_xpu_missing(p); }
"""


@pytest.mark.launches_broken_binaries
def test_a_call_nobody_defines_is_refused_as_the_driver_refuses_it(cl_zebin):
    # What FlagGems' generic kernels do with CUDA's libdevice (__nv_rsqrtf): IGC leaves the call undefined.  NEO
    # creates the module, partially linked, and refuses its kernels; the check says so before the driver sees it.
    binary, _ = cl_zebin(MISSING_FUNCTION_CL)
    refuse(binary, "unresolved symbols: triton_xpu_missing (used by calls_missing): defined nowhere in the binary "
                   "and not provided by the driver, which would create the module but refuse its kernels "
                   "(ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED). The compiler left them undefined: a function the "
                   "installed IGC lacks (another vendor's libdevice, a newer builtin)")
    # The driver itself, given the binary unchecked on the emulated pvc: module created, kernel refused.
    outcome, detail = loads_and_launches(binary, kernel="calls_missing", kinds=("ptr", ), unchecked=True)
    assert outcome == "driver-refused" and "zeKernelCreate failed: ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED" in detail, \
        detail


def test_symbols_the_driver_resolves_pass(triton_zebin):
    # Every zebin of IGC 2 relocates __INTEL_PATCH_CROSS_THREAD_OFFSET_OFF_R0, which NEO resolves itself.
    assert validate.loadable(triton_zebin("add", "pvc"))


def test_a_product_config_of_another_family(triton_zebin):
    # A pvc zebin whose product-config note names bmg's IP version (20.1.0 = 0x05004000): the notes contradict.
    data = triton_zebin("add", "pvc")
    elf = Elf(data)
    if zebin.NT_PRODUCT_CONFIG not in zebin.read(data).notes:
        pytest.skip("this IGC writes no product-config note")
    patched = elf.patch(edit.note_descriptor(elf.image, ".note.intelgt.compat", zebin.NT_PRODUCT_CONFIG), "I",
                        0x05004000)
    with pytest.raises(ZebinFormatError) as info:
        validate.loadable(patched)
    assert str(info.value) == ("corrupt .note.intelgt.compat: product config 20.1.0 is a device of product family 1274 "
                               "(bmg), not of 1271 (pvc)")


# --------------------------------------------------------------------------------------------
# Devices the target table does not list, or whose notes newer IGC writes differently, are real zebins:
# ocloc's output for them passes (ocloc 26.27 writes hardware revisions 0..0 for mtl and arl, and
# mtl-h, ptl-u and wcl have IP versions the table has no device for).

NEWER_DEVICES = ("mtl", "arl-h", "arl-s", "mtl-h", "ptl", "ptl-u", "wcl", "lnl", "bmg", "bmg-g31")


@pytest.mark.parametrize("device", NEWER_DEVICES)
def test_ocloc_output_for_newer_devices_passes(triton_zebin, tmp_path, device):
    import shutil
    import subprocess
    if shutil.which("ocloc") is None:
        pytest.skip("no ocloc on PATH")
    if subprocess.run(["ocloc", "ids", device], capture_output=True, text=True).returncode != 0:
        pytest.skip(f"this toolchain's ocloc does not know {device}")
    import kernels
    (tmp_path / "add.spv").write_bytes(kernels.SPECS["add"].compile("pvc").asm["spv"])
    subprocess.run(["ocloc", "compile", "-q", "-file", str(tmp_path / "add.spv"), "-spirv_input", "-device", device,
                    "-output", "add", "-out_dir", str(tmp_path)], check=True, capture_output=True)
    validate.loadable(next(tmp_path.glob("add*.bin")).read_bytes())

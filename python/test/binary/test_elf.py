"""binary.elf: the strict ELF64 parse, checked against pyelftools (an independent reader) on real zebins, and
the layout rules: sections apart from one another and from the headers."""

import io

import pytest
from elftools.elf.elffile import ELFFile

from triton.backends.intel.binary import elf, zebin
from triton.backends.intel.errors import ZebinFormatError
from support import zebin_edit as edit

CASES = [("add", "pvc"), ("softmax", "acm-g10"), ("matmul", "pvc"), ("layernorm", "tgllp")]


def parse(data):
    return elf.parse(data, zebin.SECTION_TYPES)


@pytest.mark.parametrize("name, arch", CASES)
def test_sections_symbols_and_relocations_match_pyelftools(triton_zebin, name, arch):
    data = triton_zebin(name, arch)
    ours = parse(data)
    theirs = ELFFile(io.BytesIO(data))
    assert [(s.name, s.offset, s.size, s.link, s.info) for s in ours.sections] == \
        [(s.name, s["sh_offset"], s["sh_size"], s["sh_link"], s["sh_info"]) for s in theirs.iter_sections()]
    assert [(s.name, s.value, s.size, s.shndx) for s in ours.symbol_table()] == \
        [(s.name, s["st_value"], s["st_size"], s["st_shndx"] if isinstance(s["st_shndx"], int) else 0)
         for s in theirs.get_section_by_name(".symtab").iter_symbols()]
    for section in ours.sections:
        if section.type in (elf.SHT_REL, elf.SHT_RELA):
            theirs_relocs = theirs.get_section_by_name(section.name).iter_relocations()
            assert [(r.offset, r.symbol, r.type) for r in ours.relocations(section)] == \
                [(r["r_offset"], r["r_info_sym"], r["r_info_type"]) for r in theirs_relocs]


def test_layouts_are_the_elf64_records():
    # Field offsets as the ELF specification (and pyelftools' structs) lay them out.
    assert (elf.EHDR.size, elf.SHDR.size, elf.SYM.size, elf.RELA.size, elf.REL.size, elf.NHDR.size) == \
        (64, 64, 24, 24, 16, 12)
    assert elf.EHDR.fields["e_shoff"] == (40, 8) and elf.EHDR.fields["e_shstrndx"] == (62, 2)
    assert elf.SHDR.fields["sh_offset"] == (24, 8) and elf.SHDR.fields["sh_entsize"] == (56, 8)
    assert elf.SYM.fields["st_shndx"] == (6, 2)


def refuse(data, message):
    with pytest.raises(ZebinFormatError) as info:
        parse(data)
    assert str(info.value) == message


def test_text_at_offset_0_overlaps_the_header(triton_zebin):
    image = parse(triton_zebin("add", "pvc"))
    text = image.section(".text.add_kernel")
    refuse(edit.set_section_field(image, text.index, "sh_offset", 0),
           "corrupt zebin: section .text.add_kernel (from byte 0) overlaps the ELF header (bytes 0..64)")


def test_text_running_into_the_next_section(triton_zebin):
    image = parse(triton_zebin("add", "pvc"))
    text = image.section(".text.add_kernel")
    after = min((s for s in image.sections if s.offset >= text.end and s.size), key=lambda s: s.offset)
    refuse(edit.set_section_field(image, text.index, "sh_size", text.size + 16),
           f"corrupt zebin: section {after.name} (from byte {after.offset}) overlaps section .text.add_kernel "
           f"(bytes {text.offset}..{text.end + 16})")


def test_a_section_off_its_declared_alignment(triton_zebin):
    image = parse(triton_zebin("add", "pvc"))
    text = image.section(".text.add_kernel")
    data = edit.set_section_field(image, text.index, "sh_addralign", 128)
    refuse(data, f"corrupt zebin: section .text.add_kernel at byte {text.offset} is not aligned to its 128 bytes")
    refuse(edit.set_section_field(image, text.index, "sh_addralign", 48),
           f"corrupt zebin: section {text.index} has alignment 48, not a power of two")

"""Native binaries without IR by default: the zebin stage leaves the SPIR-V section (.spv) out, so that a
loader given the binary on a device it was not compiled for fails instead of recompiling it silently; the
keep_ir option (TRITON_XPU_KEEP_IR) keeps it, and the choice is part of Triton's cache key."""

import io

import pytest

import kernels
import triton
from triton.backends.compiler import GPUTarget
from triton.backends.intel.native import ocloc
from triton.backends.intel.binary import fatbin, zebin
from triton.backends.intel.options import XPUOptions

SPIRV_MAGIC = b"\x03\x02\x23\x07"


def compile_add(target="pvc", **options):
    spec = kernels.SPECS["add"]
    return triton.compile(spec.source(), target=GPUTarget("xpu", target, 32), options={**spec.options, **options})


def test_a_compiled_zebin_carries_no_spirv_by_default(fresh_cache):
    compiled = compile_add()
    parsed = zebin.read(compiled.asm["zebin"])
    assert ".spv" not in parsed.sections and parsed.spirv is None
    assert compiled.metadata.keep_ir is False
    assert compiled.asm["spv"][:4] == SPIRV_MAGIC  # the SPIR-V stays an artifact of the compile


def test_keep_ir_keeps_the_spirv_the_zebin_was_compiled_from(fresh_cache):
    compiled = compile_add(keep_ir=True)
    assert zebin.read(compiled.asm["zebin"]).spirv == compiled.asm["spv"]
    assert compiled.metadata.keep_ir is True


def test_the_knob_sets_the_default(monkeypatch):
    monkeypatch.setenv("TRITON_XPU_KEEP_IR", "1")
    assert XPUOptions().keep_ir is True
    assert XPUOptions(keep_ir=False).keep_ir is False  # an explicit option wins
    monkeypatch.setenv("TRITON_XPU_KEEP_IR", "0")
    assert XPUOptions().keep_ir is False
    monkeypatch.delenv("TRITON_XPU_KEEP_IR")
    assert XPUOptions().keep_ir is False


def test_a_bad_knob_value_says_what_it_takes(monkeypatch):
    monkeypatch.setenv("TRITON_XPU_KEEP_IR", "maybe")
    with pytest.raises(ValueError) as err:
        XPUOptions()
    assert str(err.value) == ("TRITON_XPU_KEEP_IR='maybe' is not 1 or 0 (whether zebins keep the SPIR-V they were "
                              "compiled from, for the driver's fallback)")


def test_the_choice_is_part_of_the_cache_key(fresh_cache, monkeypatch):
    # A cached zebin without IR is never served to a compile that asked for IR, nor the reverse.
    without = compile_add()
    monkeypatch.setenv("TRITON_XPU_KEEP_IR", "1")
    kept = compile_add()
    assert kept.metadata.hash != without.metadata.hash
    assert zebin.read(kept.asm["zebin"]).spirv is not None
    monkeypatch.delenv("TRITON_XPU_KEEP_IR")
    again = compile_add()
    assert "cached" in again.metadata.stage_ms  # served from the cache: the entry without IR
    assert again.metadata.hash == without.metadata.hash and zebin.read(again.asm["zebin"]).spirv is None


def test_ocloc_leaves_the_spirv_out_when_asked(add_spirv):
    result = ocloc.compile_spirv(add_spirv, ["pvc"], exclude_ir=True)
    assert "-exclude_ir" in result.command.split()
    assert result.zebins[""].spirv is None
    assert ocloc.compile_spirv(add_spirv, ["pvc"]).zebins[""].spirv is not None  # ocloc's own default keeps it


def test_a_fat_binary_without_ir_has_no_spirv_anywhere(add_spirv):
    fat = ocloc.compile_spirv(add_spirv, ["pvc", "acm-g10"], exclude_ir=True).binary
    members = fatbin.device_binaries(fat)
    assert sorted(members) == ["acm-g10", "pvc"]
    assert all(zebin.read(m).spirv is None for m in members.values())


def test_cutting_the_spirv_out_of_a_zebin_keeps_everything_else(fresh_cache):
    elftools = pytest.importorskip("elftools.elf.elffile")
    with_ir = compile_add(keep_ir=True).asm["zebin"]
    cut = zebin.without_ir(with_ir)
    before, after = zebin.read(with_ir), zebin.read(cut)
    assert after.spirv is None and after.sections == [s for s in before.sections if s != ".spv"]
    assert after.text("add_kernel") == before.text("add_kernel") and after.zeinfo == before.zeinfo
    assert after.notes == before.notes
    assert [s.name for s in after.elf.symbol_table()] == [s.name for s in before.elf.symbol_table()]
    # An independent reader agrees: every symbol in the same section, every relocation section for the same one.
    def homes(data):
        reader = elftools.ELFFile(io.BytesIO(data))
        names = [s.name for s in reader.iter_sections()]
        symbols = [(sym.name, names[sym["st_shndx"]] if isinstance(sym["st_shndx"], int) else sym["st_shndx"])
                   for sym in reader.get_section_by_name(".symtab").iter_symbols()]
        targets = {s.name: names[s["sh_info"]] for s in reader.iter_sections()
                   if s["sh_type"] in ("SHT_REL", "SHT_RELA")}
        return symbols, targets

    assert homes(cut) == homes(with_ir)
    assert zebin.without_ir(cut) == cut  # nothing to cut


@pytest.fixture(scope="module")
def add_spirv():
    return kernels.SPECS["add"].compile("pvc").asm["spv"]

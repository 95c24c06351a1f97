"""The AOT compiler's pieces without compiling: signatures, binding, and the fat-binary layout."""

import pytest

from aot_helpers import EXAMPLES
from triton.backends.intel.aot import artifacts, c_loader, kernels, signature
from triton.backends.intel.binary import fatbin


def test_signature_in_the_form_of_tritons_aot_tool():
    entries = signature.parse_signature(" *fp32:16, *kbf16, i32:1 ,i64:16, 1024, 0.5, True, -3, 0x10")
    assert [(e.type, e.value, e.hint) for e in entries] == [
        ("*fp32", None, 16), ("*kbf16", None, None), ("i32", None, 1), ("i64", None, 16), (None, 1024, None),
        (None, 0.5, None), (None, True, None), (None, -3, None), (None, 16, None)]


@pytest.mark.parametrize("text, message", [
    ("", "empty signature"),
    ("*fp32,", "signature entry 1 is empty"),
    ("*f32", "neither a Triton type"),
    ("i32:2", "hint 2 is not supported"),
    ("i32:x", "the hint after ':' must be 1 or 16"),
    ("*fp32:1", "a pointer cannot be the constant 1"),
    ("1024:16", "'1024' is not a Triton type"),
])
def test_malformed_signatures_say_which_entry(text, message):
    with pytest.raises(signature.AotError, match=message.replace("(", r"\(").replace("*", r"\*")):
        signature.parse_signature(text)


def test_binding_constexprs_hints_and_the_constant_one():
    (spec, ) = kernels.prepare(str(EXAMPLES), ["add_kernel"], ["*fp32:16,*fp32,*fp32,i32:1"], ["BLOCK=256"])
    assert spec.signature == {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n_elements": "constexpr",
                              "BLOCK": "constexpr"}
    assert spec.constexprs == {"n_elements": 1, "BLOCK": 256} and spec.divisibility == {"x_ptr": 16}
    assert spec.runtime_args == [("x_ptr", "*fp32"), ("y_ptr", "*fp32"), ("out_ptr", "*fp32")]
    src = spec.source()
    assert src.attrs == {(0, ): [["tt.divisibility", 16]]} and src.constants == {(3, ): 1, (4, ): 256}


def test_several_kernels_pair_with_their_signatures_and_names():
    specs = kernels.prepare(str(EXAMPLES), ["add_kernel", "add_kernel"], ["*fp32,*fp32,*fp32,i32,1024",
                                                                         "*fp32,*fp32,*fp32,i32,64"], [],
                        ["add_1024", "add_64"])
    assert [(s.name, s.constexprs["BLOCK"]) for s in specs] == [("add_1024", 1024), ("add_64", 64)]
    with pytest.raises(signature.AotError, match="distinct --out-name"):
        kernels.prepare(str(EXAMPLES), ["add_kernel", "add_kernel"], ["*fp32,*fp32,*fp32,i32,1024"], [])
    with pytest.raises(signature.AotError, match="not a C identifier"):
        kernels.prepare(str(EXAMPLES), ["add_kernel"], ["*fp32,*fp32,*fp32,i32,1024"], [], ["add-1"])


def test_targets_resolve_aliases_and_drop_duplicates():
    assert kernels.resolve_targets(["pvc,dg2", "acm-g10", " PVC "]) == ["pvc", "acm-g10"]


def test_fat_binary_layout_is_ocloc_s():
    """Given ocloc's own members, the writer reproduces ocloc's fat binary byte for byte (NEO's ArEncoder with
    8-byte alignment), so NEO reads ours as it reads ocloc's."""
    import kernels
    from triton.backends.intel.native import ocloc
    fat = ocloc.compile_spirv(kernels.SPECS["add"].compile("pvc").asm["spv"], ["pvc", "acm-g10"]).binary
    members = [(name, body) for name, body in fatbin.members(fat) if not name.startswith("pad_")]
    assert [name for name, _ in members] == ["64.12.60.7", "64.12.55.8", "generic_ir"]
    ours, places = fatbin.write(members)
    assert ours == fat
    for (_, body), (offset, size) in zip(members, places):
        assert ours[offset:offset + size] == body and offset % 8 == 0
    assert [artifacts.member_name(t) for t in ("pvc", "acm-g10")] == \
        ["64.12.60.7", "64.12.55.8"]


def test_c_types_of_triton_arguments():
    assert [c_loader.c_type(t) for t in ("*fp16", "*ki8", "i1", "u8", "i32", "u64", "fp16", "bf16", "fp64")] == \
        ["void *", "void *", "bool", "uint8_t", "int32_t", "uint64_t", "float", "float", "double"]
    assert c_loader.c_type("fp8e5") is None


def test_c_templates_are_filled_by_whole_words_and_whole_slot_lines():
    template = ("// a note for the templates' maintainers\n"
                '#include "generated/part.inc"\n'
                'int NAME_x, load_NAME, NAMES, MY_NAME; /* NAME.h */\n')
    # NAME is replaced in the template, never in a part: a part holds the user's names, which may be NAME.
    assert c_loader._fill(template, "add", {"part": "int NAME;\n"}) == \
        "int NAME;\nint add_x, load_add, NAMES, MY_add; /* add.h */\n"
    with pytest.raises(AssertionError, match="slots"):
        c_loader._fill(template, "add", {})
    with pytest.raises(AssertionError, match="slots"):
        c_loader._fill(template, "add", {"part": "", "other": ""})


def test_a_missing_c_template_says_the_installation_is_incomplete(tmp_path, monkeypatch):
    monkeypatch.setattr(c_loader, "TEMPLATE_DIR", str(tmp_path))
    c_loader._template.cache_clear()
    try:
        with pytest.raises(c_loader.CTemplateError, match=r"loader\.h cannot be read .*incomplete"):
            c_loader.check_templates()
    finally:
        c_loader._template.cache_clear()

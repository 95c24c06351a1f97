"""binary.zeinfo: .ze_info text NEO's own YAML parser would abort or read out of bounds on is refused, though
PyYAML reads it (NEO shared/source/device_binary_format/yaml/yaml_parser.cpp, 22.43 and 26.27)."""

import pytest

from triton.backends.intel.binary import zeinfo
from triton.backends.intel.errors import ZebinFormatError

GOOD = ("---\nversion:         '1.20'\nkernels:\n  - name:            k\n    execution_env:\n"
        "      grf_count:       128\n      simd_size:       16\n...\n")


def test_what_igc_writes_is_read():
    tree = zeinfo.parse(GOOD.encode())
    assert tree == {"version": "1.20", "kernels": [{"name": "k", "execution_env": {"grf_count": 128,
                                                                                  "simd_size": 16}}]}


@pytest.mark.parametrize("text, message", [
    # tokenizeEndLine reads the byte after the text as the last line's end (26.27: SIGSEGV).
    (GOOD[:-1], "the text does not end with a newline"),
    # An indented first line: the root has no parent, NEO indexes nodes[-1].
    ("  version: '1.20'\nkernels:\n  - name: k\n", "the first line \"  version: '1.20'\" is indented"),
    # finalizeNode: UNRECOVERABLE_IF for a list item without a value on its first line.
    (GOOD.replace("  - name:            k\n", "  - name:\n"), "line 4 is a list item without a value: '  - name:'"),
    # Blank lines skew the estimate NEO sizes its node cache with.
    (GOOD.replace("kernels:\n", "\nkernels:\n"), "line 3 is blank"),
    (GOOD.replace("...\n", "---\n...\n"), "line 8 '---' (IGC writes '---' first and '...' last only)"),
])
def test_text_the_drivers_parser_aborts_on(text, message):
    with pytest.raises(ZebinFormatError) as info:
        zeinfo.parse(text.encode())
    assert str(info.value) == f"malformed .ze_info: {message}"


def test_many_list_items_without_children():
    # 26.27: 256 childless "- key: value" items overflow the node cache (UNRECOVERABLE_IF in addNode).
    items = "".join(f"      - index: {i}\n" for i in range(256))
    text = GOOD.replace("...\n", f"kernels_misc_info:\n  - name: k\n    args_info:\n{items}...\n")
    with pytest.raises(ZebinFormatError, match="256 list items without children"):
        zeinfo.parse(text.encode())

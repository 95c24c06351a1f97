"""binary.fatbin: ocloc's fat binaries read, written byte for byte as ocloc writes them, and a device's
member chosen; corrupt archives refused with what is wrong."""

import pytest

from triton.backends.intel import targets
from triton.backends.intel.binary import fatbin
from triton.backends.intel.errors import ZebinFormatError


@pytest.fixture(scope="module")
def fat(spirv_zebin, cl_spirv, opencl):
    return spirv_zebin(cl_spirv(opencl.ADD), "pvc,acm-g10")[0]


def test_written_as_ocloc_writes_it(fat):
    members = [(name, body) for name, body in fatbin.members(fat) if not name.startswith("pad_")]
    assert [name for name, _ in members] == ["64.12.60.7", "64.12.55.8", "generic_ir"]
    ours, places = fatbin.write(members)
    assert ours == fat
    assert all(offset % 8 == 0 and ours[offset:offset + size] == body
               for (_, body), (offset, size) in zip(members, places))


def test_member_for_a_target(fat):
    member, names = fatbin.member_for(fat, targets.lookup("acm-g10"))
    assert member == fatbin.device_binaries(fat)["acm-g10"] and names == ["acm-g10", "pvc"]
    # Another device of the same product family takes the family's member.
    assert fatbin.member_for(fat, targets.lookup("acm-g11"))[0] == member
    assert fatbin.member_for(fat, targets.lookup("tgllp")) == (None, ["acm-g10", "pvc"])


@pytest.mark.parametrize("edit, message", [
    (lambda d: d[:8] + b"\x01" + d[9:], "is not printable ASCII"),
    (lambda d: d[:56] + b"1_0 " + d[60:], "is not a decimal number"),
    (lambda d: d[:56] + b"+10 " + d[60:], "is not a decimal number"),
    (lambda d: d[:66], "truncated fat binary: member header at byte 8 is cut off"),
    (lambda d: d[:66] + b"x" + d[67:], "corrupt fat binary: bad member header at byte 8"),
])
def test_corrupt_archives(edit, message):
    data, _ = fatbin.write([("64.12.60.7", b"\x7fELF" + b"\0" * 60)])
    with pytest.raises(ZebinFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fatbin.members(edit(data))

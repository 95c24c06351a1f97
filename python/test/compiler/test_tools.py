"""A missing system tool is one clear message naming the tool and the package to install."""

import pytest

from triton.backends.intel import spirv, tools
from triton.backends.intel.errors import ToolNotFoundError


def test_tools_are_found_on_path():
    assert tools.find_tool("spirv-dis").endswith("spirv-dis")
    assert tools.find_tool("ocloc").endswith("ocloc")


@pytest.mark.parametrize("tool, package", [("ocloc", "intel-opencl-icd"), ("spirv-dis", "spirv-tools"),
                                           ("iga64", "libigc-tools")])
def test_missing_tool_names_the_debian_package(tool, package, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(tools.env_var(tool), raising=False)
    with pytest.raises(ToolNotFoundError) as err:
        tools.find_tool(tool)
    assert str(err.value).startswith(f"{tool} not found on PATH (needed for ")
    assert f"install it with `apt-get install {package}`, or set {tools.env_var(tool)} to its path" in str(err.value)


def test_bad_override_path_is_named(monkeypatch):
    monkeypatch.setenv("TRITON_SPIRV_DIS_PATH", "/nonexistent/spirv-dis")
    with pytest.raises(ToolNotFoundError, match="TRITON_SPIRV_DIS_PATH='/nonexistent/spirv-dis' is not an executable"):
        tools.find_tool("spirv-dis")


def test_disassembly_without_spirv_dis_is_the_tool_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFoundError, match="spirv-dis not found on PATH"):
        spirv.disassemble(bytes.fromhex("03022307") + bytes(16))

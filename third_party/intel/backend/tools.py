"""Where the system tools the backend calls live, and how to install them.

Each tool can be pointed to explicitly with ``TRITON_<TOOL>_PATH`` (Triton's
convention), else it is looked up on ``PATH``.  A missing tool is a
:class:`ToolNotFoundError` naming the Debian package that provides it.
"""

from __future__ import annotations

import os
import shutil

from triton.backends.intel.errors import ToolNotFoundError

# tool -> (Debian package, what the backend uses it for)
TOOLS = {
    "ocloc": ("intel-opencl-icd", "compiling SPIR-V to native Intel GPU binaries"),
    "spirv-dis": ("spirv-tools", "disassembling SPIR-V"),
    "iga64": ("libigc-tools", "disassembling Intel GPU ISA"),
}


def env_var(tool: str) -> str:
    return f"TRITON_{tool.upper().replace('-', '_')}_PATH"


def find_tool(tool: str) -> str:
    """Absolute path of ``tool``; raises ToolNotFoundError with the install hint."""
    override = os.environ.get(env_var(tool))
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise ToolNotFoundError(f"{env_var(tool)}={override!r} is not an executable file; "
                                f"unset it or point it to {tool}")
    found = shutil.which(tool)
    if found:
        return found
    package, purpose = TOOLS.get(tool, (None, "this backend"))
    hint = f"install it with `apt-get install {package}`" if package else "install it"
    raise ToolNotFoundError(f"{tool} not found on PATH (needed for {purpose}); {hint}, "
                            f"or set {env_var(tool)} to its path")

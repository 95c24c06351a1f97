"""Reading SPIR-V modules the spv stage produced: entry points, capabilities, sub-group size.

The summary comes from the binary itself (the SPIR-V word stream is simple),
so it works even where the installed ``spirv-dis`` predates an Intel
capability the module declares (Debian 12's spirv-tools 2023.1 does not know
``Bfloat16ConversionINTEL``).  ``disassemble`` calls ``spirv-dis`` for text.
"""

from __future__ import annotations

import struct
import subprocess
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from triton.backends.intel.errors import IntelBackendError
from triton.backends.intel.tools import find_tool

MAGIC = 0x07230203
_OP_ENTRY_POINT = 15
_OP_EXECUTION_MODE = 16
_OP_CAPABILITY = 17
_EXEC_MODE_SUBGROUP_SIZE = 35  # SubgroupSize (SPV_INTEL_subgroups / required sub-group size)

# Names of the capabilities the Intel pipeline emits, as SPIRV-Tools 2025.5 prints them (numbers from the
# SPIR-V grammar and the SPV_INTEL_* extensions); others are shown by number.
CAPABILITY_NAMES: Dict[int, str] = {
    4: "Addresses", 5: "Linkage", 6: "Kernel", 7: "Vector16", 8: "Float16Buffer", 9: "Float16", 10: "Float64",
    11: "Int64", 12: "Int64Atomics", 22: "Int16", 39: "Int8", 58: "SubgroupDispatch",
    63: "GroupNonUniformArithmetic", 65: "GroupNonUniformShuffle", 67: "GroupNonUniformClustered",
    5619: "VectorAnyINTEL", 5892: "KernelAttributesINTEL", 6115: "BFloat16ConversionINTEL",
}


class SpirvFormatError(IntelBackendError, ValueError):
    """Bytes that are not a well-formed SPIR-V module."""


@dataclass
class SpirvSummary:
    entry_points: List[str] = field(default_factory=list)
    capabilities: List[int] = field(default_factory=list)
    sub_group_size: Optional[int] = None  # OpExecutionMode SubgroupSize, where the module sets one

    @property
    def capability_names(self) -> List[str]:
        return [CAPABILITY_NAMES.get(c, str(c)) for c in self.capabilities]


def is_spirv(data: bytes) -> bool:
    return len(data) >= 4 and struct.unpack_from("<I", data)[0] == MAGIC


def instructions(spirv: bytes) -> Iterator[Tuple[int, int, Tuple[int, ...]]]:
    """(byte offset, opcode, operand words) of every instruction; raises SpirvFormatError on bad framing."""
    if not is_spirv(spirv):
        raise SpirvFormatError("not a SPIR-V module: bad magic number")
    if len(spirv) % 4 or len(spirv) < 20:
        raise SpirvFormatError(f"not a SPIR-V module: {len(spirv)} bytes is not a whole header plus words")
    words = struct.unpack(f"<{len(spirv) // 4}I", spirv)
    i = 5
    while i < len(words):
        count, opcode = words[i] >> 16, words[i] & 0xFFFF
        if count == 0 or i + count > len(words):
            raise SpirvFormatError(f"malformed SPIR-V: instruction at byte {4 * i} claims {count} words")
        yield 4 * i, opcode, words[i + 1:i + count]
        i += count


def _literal_string(operands: Tuple[int, ...]) -> str:
    raw = struct.pack(f"<{len(operands)}I", *operands)
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def summarize(spirv: bytes) -> SpirvSummary:
    summary = SpirvSummary()
    for _, opcode, ops in instructions(spirv):
        if opcode == _OP_CAPABILITY:
            summary.capabilities.append(ops[0])
        elif opcode == _OP_ENTRY_POINT:
            summary.entry_points.append(_literal_string(ops[2:]))
        elif opcode == _OP_EXECUTION_MODE and len(ops) >= 3 and ops[1] == _EXEC_MODE_SUBGROUP_SIZE:
            summary.sub_group_size = ops[2]
    return summary


def disassemble(spirv: bytes) -> str:
    """SPIR-V assembly text from ``spirv-dis``."""
    if not is_spirv(spirv):
        raise SpirvFormatError("not a SPIR-V module: bad magic number")
    dis = find_tool("spirv-dis")
    proc = subprocess.run([dis, "--raw-id", "-"], input=spirv, capture_output=True)
    if proc.returncode != 0:
        raise SpirvFormatError(f"spirv-dis failed (exit {proc.returncode}): "
                               f"{proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode()

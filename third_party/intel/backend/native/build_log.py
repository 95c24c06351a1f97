"""What IGC's build log (as ocloc or the driver prints it) says about spills.

IGC up to 2.34 prints "kernel K  compiled SIMD16 allocated 128 regs and spilled around N"; from 2.35
"in kernel 'K': compiled SIMD16 allocated 128 regs and spilled around N".  N is a count of GRFs,
max(1, ceil(spill bytes / GRF bytes)) (IGC's CEncoder, CISABuilder.cpp), not bytes.  IGC prints the line only
for kernels that spill.  A fat-binary log holds one section per device, each ending in
"Build succeeded for : <device>.".
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from triton.backends.intel.binary.zebin import LogSpills

_SPILL_LINE = re.compile(r"kernel\s+'?(?P<name>[^\s':]+)'?:?\s+compiled\s+SIMD(?P<simd>\d+)\s+allocated\s+"
                         r"(?P<regs>\d+)\s+regs\s+and\s+spilled\s+around\s+(?P<spill>\d+)")
_DEVICE_END = re.compile(r"^Build (?:succeeded|failed) for : (?P<device>\S+?)(?:\.|\s+with\b.*)?$", re.MULTILINE)


def _sections(log: str) -> List[Tuple[Optional[str], str]]:
    """Split an ocloc log into (device, text) sections; a single-device log is one (None, log) section."""
    sections: List[Tuple[Optional[str], str]] = []
    start = 0
    for m in _DEVICE_END.finditer(log):
        end = log.find("\n", m.end())
        end = len(log) if end < 0 else end + 1
        sections.append((m.group("device"), log[start:end]))
        start = end
    if not sections:
        return [(None, log)]
    if log[start:].strip():
        sections.append((None, log[start:]))
    return sections


def spill_lines(log: str, device: Optional[str] = None) -> Dict[str, Tuple[int, int]]:
    """``{kernel: (registers, spilled GRFs)}`` from the log's spill lines (multiply by the device's GRF size
    for bytes); with ``device``, only that device's section of a fat-binary log, otherwise later lines win."""
    result: Dict[str, Tuple[int, int]] = {}
    for dev, text in _sections(log):
        if device is not None and dev is not None and dev != device:
            continue
        for m in _SPILL_LINE.finditer(text):
            result[m.group("name")] = (int(m.group("regs")), int(m.group("spill")))
    return result


def spills(log: str, device: Optional[str] = None) -> LogSpills:
    """What the log says of a kernel's spills, for :func:`triton.backends.intel.binary.zebin.read`."""
    return lambda kernel, grf: _spilled_grfs(log, device, kernel, grf)


def _spilled_grfs(log: str, device: Optional[str], kernel: str, grf: Optional[int]) -> Optional[int]:
    """Spilled GRFs the log states for ``kernel``: its line's value, 0 for a complete log without a line,
    None when the log cannot say (empty, truncated, other device, contradicting sections or GRF size)."""
    if not log.strip():
        return None
    sections = _sections(log)
    if device is not None and any(dev is not None for dev, _ in sections):
        sections = [(dev, text) for dev, text in sections if dev == device]
    if not sections:
        return None
    values = set()
    for _, text in sections:
        lines = [m for m in _SPILL_LINE.finditer(text) if m.group("name") == kernel]
        if lines:
            m = lines[-1]
            if grf is not None and int(m.group("regs")) != grf:
                return None  # the log is of another build (different GRF mode)
            values.add(int(m.group("spill")))
        elif "Build succeeded" in text:
            values.add(0)  # IGC reports every spilling kernel; a finished build without a line did not spill
        else:
            return None
    return values.pop() if len(values) == 1 else None

"""The ISA of the kernels in a zebin, through IGA (``iga64`` of Debian's libigc-tools).

A kernel's code is its ``.text.<kernel>`` section.  IGC pads that section with zeros (instruction prefetch);
the padding is cut before disassembly, as IGA would print it as ``illegal`` instructions.  The IGA platform comes from the zebin's product family;
its spelling is one the installed ``iga64`` lists (``iga64 -h=p``: ``xehpc``/``12p72`` for pvc, ...).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from typing import List, Optional

from triton.backends.intel import targets
from triton.backends.intel.binary.zebin import Zebin
from triton.backends.intel.errors import IntelBackendError
from triton.backends.intel.tools import find_tool


class DisassemblyError(IntelBackendError):
    """The ISA could not be disassembled."""


@dataclass
class KernelCode:
    name: str
    code: bytes  # without the trailing zero padding
    padding: int  # bytes of zeros cut off


def kernel_code(parsed: Zebin) -> List[KernelCode]:
    """Each kernel's machine code in a read zebin, in ``.ze_info`` order."""
    out = []
    for kernel in parsed.kernels:
        try:
            code = parsed.text(kernel.name)
        except KeyError:
            raise DisassemblyError(f"no code for kernel {kernel.name}: no .text.{kernel.name} section") from None
        trimmed = len(code.rstrip(b"\0"))
        trimmed = min(len(code), (trimmed + 7) // 8 * 8)  # instructions are 8 (compacted) or 16 bytes
        out.append(KernelCode(kernel.name, bytes(code[:trimmed]), len(code) - trimmed))
    return out


@functools.lru_cache(maxsize=None)
def _iga_platforms(iga: str) -> frozenset:
    """Platform names the installed iga64 accepts, from ``iga64 -h=p`` ("  - 12p72 for xehpc")."""
    try:
        out = subprocess.run([iga, "-h=p"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    names = set()
    for m in re.finditer(r"^\s*-\s*(\S+)\s+for\s+(\S+)", out, re.MULTILINE):
        names.add(m.group(1).lower())
        names.update(n.lower() for n in m.group(2).split("/"))
    return frozenset(names)


def iga_platform(product_family: Optional[str], iga: str) -> str:
    """The ``-p`` value for a zebin of ``product_family``."""
    family = targets.family_named(product_family)
    candidates = family.iga_platforms if family else ()
    if not candidates:
        raise DisassemblyError(f"no IGA platform known for product family {product_family or 'unknown'}")
    known = _iga_platforms(iga)
    for name in candidates:
        if not known or name in known:
            return name
    raise DisassemblyError(f"{iga} supports none of {', '.join(candidates)} (platforms for {product_family}); "
                           f"a newer libigc-tools may")


def disassemble(code: bytes, platform: str, iga: Optional[str] = None) -> str:
    """IGA's text for ``code``; ToolNotFoundError (with the install hint) without iga64."""
    iga = iga or find_tool("iga64")
    with tempfile.TemporaryDirectory(prefix="triton-xpu-iga-") as tmp:
        path = os.path.join(tmp, "kernel.bin")
        with open(path, "wb") as f:
            f.write(code)
        proc = subprocess.run([iga, "-d", f"-p={platform}", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        detail = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()[0]
        raise DisassemblyError(f"iga64 -p={platform} could not disassemble the kernel: {detail}")
    return proc.stdout

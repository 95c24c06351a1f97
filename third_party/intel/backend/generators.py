"""Native-code generators: what turns a SPIR-V module into a device binary for one GRF setting.

The GRF policy and the zebin stage talk to this interface only, so a second
generator (the Level Zero driver's own compiler) can sit beside ocloc.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from triton.backends.intel import ocloc


@dataclass
class NativeBinary:
    binary: bytes  # a zebin for the requested device
    log: str  # the compiler's build log (IGC spill warnings included)
    command: str  # a one-line command that reproduces the compile
    ms: float  # wall time of the compile


class NativeGenerator(Protocol):
    name: str

    def version(self) -> str:
        """Identifies the compiler; part of the cache key so an upgrade never reuses a stale binary."""

    def compile(self, spirv: bytes, device: str, flags: str) -> NativeBinary:
        """Compile ``spirv`` for the ocloc-named ``device`` with IGC build ``flags``."""


class OclocGenerator:
    """ocloc / libocloc: knows devices by name, needs no GPU."""

    name = "ocloc"

    def version(self) -> str:
        return _ocloc_version()

    def compile(self, spirv: bytes, device: str, flags: str) -> NativeBinary:
        result = ocloc.compile_spirv(spirv, [device], options=flags)
        return NativeBinary(result.binary, result.log, result.command, result.ms)


@functools.lru_cache(maxsize=None)
def _ocloc_version() -> str:
    return ocloc.ocloc_version()


def get_generator(name: str) -> NativeGenerator:
    if name == "ocloc":
        return OclocGenerator()
    raise ValueError(f"unknown native compiler {name!r}; known: ocloc")

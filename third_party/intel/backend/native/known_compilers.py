"""Answers about released compilers, known without starting one: a cold process pays no capability probe.

A capability probe (``capabilities.py``) compiles OpenCL C with ocloc: ~250 ms each on the emulated pvc, two of
them in every process that constructs the backend for pvc with an empty Triton cache.  Their answers depend only
on the compiler's build, so for the builds this project's toolchains install they are written down here, each
row re-derived by the real probes in python/test/compiler/test_known_compilers.py on the toolchain that has it.

A row applies only to the very files it was derived from: every ocloc and IGC file the process would use
(``compiler_identity.compiler_files`` plus IGC's OpenCL C front end, which the probes compile with) must be
present with the row's GNU build ids -- the linker's digest of each binary, read from its first pages -- and no
other such file may be found.  Anything else (another IGC build, a second IGC beside it, a file without a build
id, an ocloc a knob names that is not the row's) matches no row, and the probes run as before.  A row answers only the questions it
lists (the probe's name, the target and a digest of the probe's source), so a changed probe asks again.

    ./run --toolchain current python tools/known_compiler_row.py    # the row for the installed compiler
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Optional, Tuple

from triton.backends.intel.native import compiler_identity
from triton._library_digest import build_id

# IGC's OpenCL C front end: the probes are OpenCL C, so its build counts too (kernel compiles take SPIR-V).
FRONT_END_LIBRARIES = ("libigdfcl.so.2", "libigdfcl.so.1")


@dataclass(frozen=True)
class KnownCompiler:
    """One released compiler build, as a toolchain installs it, and the probes' answers measured on it."""

    description: str  # what it is, for people: packages and versions
    toolchain: str  # this project's toolchain that installs it (scripts/toolchains/*.conf)
    files: Dict[str, str]  # each file (where the toolchain has it, for people) -> its GNU build id (hex)
    answers: Dict[str, bool] = field(default_factory=dict)  # capabilities' question -> answer


def _candidate_files() -> Tuple[str, ...]:
    front_ends = [os.path.join(d, name) for d in compiler_identity._library_dirs() for name in FRONT_END_LIBRARIES]
    return tuple(compiler_identity.compiler_files()) + tuple(front_ends)


def installed() -> Optional[FrozenSet[str]]:
    """The build ids of every ocloc and IGC file found here, or None when one of them has none.  Computed once
    per compiler identity (a package upgrade changes it)."""
    identity = compiler_identity.identity()
    if identity not in _installed:
        files = installed_files()
        _installed[identity] = frozenset(files.values()) if files else None
    return _installed[identity]


def installed_files() -> Optional[Dict[str, str]]:
    """{real path: build id} of every ocloc and IGC file found here (a file found under several names once), or
    None when one of them has no build id: nobody can tell which build it is."""
    found: Dict[str, str] = {}
    for path in _candidate_files():
        real = os.path.realpath(path)
        if real in found or not os.path.isfile(real):
            continue
        digest = build_id(real)
        if digest is None:
            return None
        found[real] = digest
    return found or None


_installed: Dict[str, Optional[FrozenSet[str]]] = {}


def row() -> Optional[KnownCompiler]:
    """The row of the installed compiler -- the one naming exactly the builds found here --, None when it is not
    one of :data:`KNOWN`."""
    builds = installed()
    return next((known for known in KNOWN if frozenset(known.files.values()) == builds), None) if builds else None


def answer(question: str) -> Optional[bool]:
    """The installed compiler's answer to a capability probe's ``question``, None when no row knows it."""
    known = row()
    return known.answers.get(question) if known else None


# Derived with tools/known_compiler_row.py; each row re-derived by the real probes in the tests of its toolchain.
KNOWN: Tuple[KnownCompiler, ...] = (
    KnownCompiler(
        description="Debian testing: intel-opencl-icd 26.27.39122.14-1 (ocloc 26.27), libigc2 2.40.14-1 (IGC 2.40.14)",
        toolchain="current",
        files={"/usr/lib/x86_64-linux-gnu/libigc.so.2.40.14+0": "3bd8eb1297e7ac389620f635a1b13f941b45e64a",
               "/usr/lib/x86_64-linux-gnu/libigdfcl.so.2.40.14+0": "731ee88060d509cf467fca54ebf4c01a227e6a15",
               "/usr/lib/x86_64-linux-gnu/libocloc.so": "4c332f9968beacf8be2a19a7654bd3987ce204f0",
               "/usr/bin/ocloc-26.27.1": "04d249cd49aba63a18fe466195101e960fc6e7a4"},
        answers={"has_2d_block_write bmg d24f008afba02b79": True,
                 "has_2d_block_write bmg-g31 d24f008afba02b79": True,
                 "has_2d_block_write lnl d24f008afba02b79": True,
                 "has_2d_block_write ptl d24f008afba02b79": True,
                 "has_2d_block_write pvc d24f008afba02b79": True,
                 "has_tf32_dpas bmg bd36c819035fa815": True,
                 "has_tf32_dpas bmg-g31 bd36c819035fa815": True,
                 "has_tf32_dpas lnl bd36c819035fa815": True,
                 "has_tf32_dpas ptl bd36c819035fa815": True,
                 "has_tf32_dpas pvc bd36c819035fa815": True}),
    # ocloc 22.43 knows none of bmg, bmg-g31, lnl, ptl: nothing to probe them with, so no answer for them.
    KnownCompiler(
        description="Debian 12: intel-opencl-icd 22.43.24595.41-1 (ocloc 22.43), libigc1 1.0.12504.6-1+deb12u1 "
        "(IGC 1.0.12504)",
        toolchain="legacy",
        files={"/usr/lib/x86_64-linux-gnu/libigc.so.1.0.1": "3d1eb51dd75cf846ee0c31cdb4c4f9cc80bbbce6",
               "/usr/lib/x86_64-linux-gnu/libigdfcl.so.1.0.1": "7ddf3d5ccce6d3f5e7d396a5074270e5cb18ee36",
               "/usr/lib/x86_64-linux-gnu/libocloc.so": "f896ac758e940b5cde83663b64199fff092cb60d",
               "/usr/bin/ocloc": "736a92e4020efaac740826f146a4e22ab280fe04"},
        answers={"has_2d_block_write pvc d24f008afba02b79": False,
                 "has_tf32_dpas pvc bd36c819035fa815": False}),
)

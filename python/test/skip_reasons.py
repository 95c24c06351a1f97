"""Every reason a test may be skipped or be an expected failure, with the toolchains where that is right and why.

A test that skips checks nothing.  So a skip or xfail whose reason is not declared here for the toolchain it ran on
fails the run (python/test/suite_summary.py; ``./run test`` ends with the counts per reason and toolchain).  Add a
reason only when the test truly cannot run there; where it could, install what it needs or let it fail.

Toolchains: ``current`` and ``legacy`` (scripts/toolchains/), ``host`` (a machine's own packages, e.g. one with an
Intel GPU).  ``pattern`` is a regular expression the whole reason must match.
"""

import re
from dataclasses import dataclass
from typing import Optional, Tuple

FILE = "python/test/skip_reasons.py"
ALL = ("current", "legacy", "host")


@dataclass(frozen=True)
class Declared:
    label: str  # what the summary tables show
    pattern: str
    toolchains: Tuple[str, ...]
    why: str
    outcome: str = "skipped"  # or "xfailed"

    def allows(self, toolchain: str) -> bool:
        return toolchain in self.toolchains

    def matches(self, outcome: str, reason: str) -> bool:
        return outcome == self.outcome and re.fullmatch(self.pattern, reason, re.DOTALL) is not None


DECLARED = (
    # --- what a toolchain's Intel stack cannot do ---------------------------------------------------------------
    Declared("ocloc 22.43 lacks a target (bmg, bmg-g31, newer devices)",
             r"(\S+: this toolchain's ocloc does not know it .*|the installed ocloc does not know bmg-g31 .*"
             r"|this toolchain's ocloc does not know \S+)",
             ("legacy", "host"), "NEO 22.43's ocloc predates Battlemage and newer devices; `current` compiles them"),
    Declared("NEO 22.43 prints no dispatch report",
             r"NEO in the legacy toolchain printed no PrintKernelDispatchParameters report .*", ("legacy", ),
             "measured: NEO 22.43's release build prints nothing for PrintKernelDispatchParameters; the argument "
             "checks (the loader's tracing layer) still run there, and on `current` a missing report fails"),
    Declared("SYCL cannot open the GPU on Debian 12's stack",
             r"SYCL on the Level Zero GPU in the legacy toolchain: the SYCL runtime cannot open the Level Zero GPU "
             r"with this Level Zero loader and driver: .*", ("legacy", ),
             "probed in a child (bench_common.sycl_gpu_problem): the SYCL runtime's Level Zero adapter segfaults "
             "with loader 1.8 and NEO 22.43 (measured), while its OpenCL CPU device, which the numeric suite uses, "
             "works there; `current` runs the SYCL, SYCL-interop and SYCL-path dispatch tests"),
    Declared("IGC 2 writes stateless pointers only",
             r"this compiler writes no stateful pointer", ("current", ),
             "IGC 2.40's zebins address every pointer statelessly; IGC 1.0 (legacy) writes stateful ones"),
    Declared("IGC 1.0 writes no product-config note",
             r"this IGC writes no product-config note", ("legacy", ),
             "the note is IGC 2's; the check runs on `current`"),
    Declared("this ocloc refuses a truncated SPIR-V module",
             r"this ocloc rejects the truncated module instead", ("current", ),
             "the test reads the kernel-less zebin ocloc may write for it; IGC 2.40 may instead die on malformed "
             "SPIR-V, and how differs between machines (notes: SIGABRT on some, SIGSEGV on others)"),
    Declared("G31 emulation is tested directly here",
             r"this toolchain's driver emulates G31 \(tested above\)", ("current", ),
             "the test of the error for a driver that cannot emulate G31 needs NEO 22.43; on `current` the G31 "
             "tests above run instead"),
    Declared("a known compiler's row is re-derived on its own toolchain",
             r"the compiler of this row is not installed here: .*", ALL,
             "each row of native/known_compilers.py is re-derived by the real probes where its ocloc and IGC are "
             "installed (its toolchain: current or legacy); the other toolchain's row, and both on a host with "
             "other builds, have nothing to probe them with"),
    Declared("a compiler build newer than the known-compilers table",
             r"this toolchain's compiler build has no row in native/known_compilers\.py .*", ALL,
             "the table holds the probe answers of the builds this project's toolchains installed when it was "
             "written; Debian testing uploads new builds, which are probed once per cache (slower, not wrong) "
             "until tools/known_compiler_row.py adds their row"),
    Declared("upstream's make_zebin needs ocloc -o",
             r"this toolchain's ocloc has no -o \(NEO 22\.43\).*", ("legacy", ),
             "upstream runs `ocloc ... -o`, which NEO 22.43's ocloc lacks: upstream does not run on that stack"),
    # --- opt-in checks ---------------------------------------------------------------------------------------
    Declared("UPSTREAM_DIR not set (opt-in upstream series check)",
             r"set UPSTREAM_DIR to an intel-xpu-backend-for-triton checkout containing BASE.*", ALL,
             "the check needs a clone of upstream's repository (minutes, network); .ci/run uses this workplace's clone "
             "when there is one"),
    Declared("the concurrent set-up test runs once, in current's suite",
             r"the concurrent set-up test runs once, in the current toolchain's suite", ("legacy", "host"),
             "it sets up a fresh clone (minutes) with `./run --toolchain current`, whichever suite starts it"),
    Declared("the concurrent suites test runs once, in current's suite",
             r"the concurrent suites test runs once, in the current toolchain's suite", ("legacy", "host"),
             "it runs two `./run --toolchain current test` (a minute or two), whichever suite starts it"),
    # --- a machine with a real Intel GPU, or the host's own packages -----------------------------------------
    Declared("a real Intel GPU is present",
             r"(an Intel GPU is present|launches deliberately broken binaries: never on a machine with a real Intel "
             r"GPU)", ("host", ), "emulation-only tests and broken binaries never run against a real device"),
    Declared("the host's compiler need not be a known one",
             r"the host's own compiler need not be one of the rows", ("host", ),
             "known_compilers.py names the builds this project's toolchains install; on a host the probes run "
             "once per installed compiler, as before"),
    Declared("the host lacks a tool the toolchains have",
             r"(ocloc is not installed .*|no ocloc on PATH|no C compiler .*|no Level Zero headers .*"
             r"|needs root and setpriv|no built wheel: scripts/setup\.sh in develop mode builds none"
             r"|this toolchain's driver cannot emulate pvc: .*"
             r"|redis-server is not installed .*)", ("host", ),
             "--toolchain host uses the machine's own packages, which may lack them; every toolchain has them"),
    # --- expected failures --------------------------------------------------------------------------------------
    Declared("corpus: Triton 3.3's front end cannot compile it",
             r"front end: .*", ALL,
             "declared per entry in python/test/corpus/table_*.py (frontend=); the case fails the day it compiles",
             outcome="xfailed"),
    Declared("corpus: the validator and NEO both refuse it",
             r"refused by the validator and NEO: .*", ALL,
             "declared per entry in python/test/corpus/table_*.py (refused=); the case fails the day either loads it",
             outcome="xfailed"),
    Declared("numeric: tf32 exists only as DPAS, which the CPU lacks",
             r"GPU-only: tf32 dots exist only as DPAS .*", ("current", "legacy"),
             "the CPU device has no DPAS builtins; on a machine with a GPU the test runs there",
             outcome="xfailed"),
)


def find(outcome: str, reason: str) -> Optional[Declared]:
    """The declared reason ``reason`` matches for this outcome, or None."""
    return next((d for d in DECLARED if d.matches(outcome, reason)), None)

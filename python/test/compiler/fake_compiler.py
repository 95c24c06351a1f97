"""TEST DOUBLE of a native compiler (``compilers.NativeCompiler``), for the GRF policy's rules.

Each IGC flag string maps to a canned outcome: spill bytes (an int, or None when the binary would not say),
``"oor"`` (Triton's OutOfResources: scratch beyond the device's limit), ``"error"`` (a CompilationError) or an
:class:`Outcome` for the rarer fields.  It records every compile, every started compile and every cancel;
``start`` runs the compile in a thread, as the ocloc native compiler does.  No IGC runs: the real compiler's
behaviour is covered by the integration tests in test_zebin_stage.py and test_grf_parallel.py.
"""

import threading
import types
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

from triton.runtime.errors import OutOfResources

from triton.backends.intel.native import compilers, grf_policy
from triton.backends.intel.errors import CompilationError

LARGE = grf_policy.GRF_FLAGS[256]


@dataclass
class Outcome:
    spill_bytes: Optional[int] = 0
    scratch_bytes: Optional[int] = None  # defaults to the spill bytes
    grf_count: Optional[int] = None  # defaults to 256 for the 256-GRF flag, else 128
    undefined: List[str] = field(default_factory=list)  # functions IGC left undefined


class FakeCompiler:
    """TEST DOUBLE: see the module docstring."""

    name = "fake"

    def __init__(self, outcomes: Dict[str, Union[int, None, str, Outcome]], can_start: bool = True):
        self.outcomes = outcomes
        self.compiled: List[str] = []
        self.started: List[str] = []
        self.cancelled: List[str] = []
        if not can_start:
            self.start = None  # as the driver's native compiler, which cannot start compiles

    def version(self) -> str:
        return "fake 1"

    def _binary(self, flags: str) -> compilers.NativeBinary:
        outcome = self.outcomes[flags]
        if outcome == "oor":
            raise OutOfResources(300000, 262144, "scratch space per thread")
        if outcome == "error":
            raise CompilationError(f"fake compile failed for {flags or 'the default mode'}", "log", "repro")
        if not isinstance(outcome, Outcome):
            outcome = Outcome(spill_bytes=outcome)
        grf = outcome.grf_count or (256 if flags == LARGE else 128)
        scratch = outcome.scratch_bytes if outcome.scratch_bytes is not None else (outcome.spill_bytes or 0)
        kernel = types.SimpleNamespace(grf_count=grf, spill_bytes=outcome.spill_bytes,
                                       spill_source="spill_size" if outcome.spill_bytes is not None else None,
                                       scratch_bytes=scratch)
        parsed = types.SimpleNamespace(undefined_symbols=outcome.undefined, kernel=lambda name: kernel)
        return compilers.NativeBinary(f"zebin {flags}".encode(), f"log {flags}", f"repro {flags}", 1.0, parsed)

    def compile(self, spirv: bytes, device: str, flags: str) -> compilers.NativeBinary:
        self.compiled.append(flags)
        return self._binary(flags)

    def start(self, spirv: bytes, device: str, flags: str) -> "_Pending":
        self.started.append(flags)
        return _Pending(self, flags)


class _Pending:
    """TEST DOUBLE of a started compile (compilers.PendingBinary)."""

    def __init__(self, fake: FakeCompiler, flags: str):
        self.fake, self.flags, self.outcome = fake, flags, {}
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.outcome["value"] = self.fake._binary(self.flags)
        except Exception as e:
            self.outcome["error"] = e

    def result(self) -> compilers.NativeBinary:
        self.thread.join()
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome["value"]

    def cancel(self) -> None:
        self.fake.cancelled.append(self.flags)
        self.thread.join()

"""The one GRF-mode (register file size) policy, applied at compile time on every path (JIT, cache, AOT).

* An explicit ``grf_mode`` ("128", "256", "512", "auto") is obeyed: one compile, never retried.
* ``"default"``: compile in the device's default mode first.  If the kernel spills more than the threshold
  and the target has a larger register file that keeps the kernel launchable, compile again with it, and
  keep the larger mode only if it cuts the spill bytes by at least the minimum gain (``grf_min_gain``, a
  fraction, default 0.1): it halves the hardware threads per EU, which a few percent fewer spills do not
  repay.  Each attempt records whether it was kept and why (``kept``, ``reason``).

Launchability: a large GRF mode halves the hardware threads per EU, and every sub-group of a work-group
must be resident on one Xe-core, so a mode with G registers is tried only when
``num_warps <= EUs per Xe-core x threads per EU at G`` (32 on pvc at 256 GRF).

A default-mode compile whose scratch exceeds the device's per-thread limit (Triton's OutOfResources) is
retried in the larger modes the same way; if none fits, the error stands, so the autotuner can prune it.

Parallel attempts (``speculate=True``, decided by the caller from ``spill_forecast``): the first larger mode's
compile starts beside the default one, on a native compiler that can start compiles (``StartsCompiles``).  The
policy then runs exactly as above; when it asks for that compile it takes the early one's result, and when it
does not (the default mode did not spill) the early compile is cancelled.  So the decisions, the binary and
the attempts are those of the sequential policy; only ``Attempt.early`` and the wall time differ.

Spill bytes come from the zebin reader.  Where no source says how much of a kernel's scratch is spill,
the decision uses the scratch size as an upper bound; the metadata still reports the spill as unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

from triton.runtime.errors import OutOfResources

from triton.backends.intel.binary.zebin import KernelInfo, Zebin
from triton.backends.intel.errors import CompilationError
from triton.backends.intel.native.compilers import NativeBinary, NativeCompiler, PendingBinary
from triton.backends.intel.options import DEFAULT_MIN_GAIN, GRF_MODES
from triton.backends.intel.targets import TargetInfo

GRF_FLAGS = {
    128: "-cl-intel-128-GRF-per-thread",
    256: "-cl-intel-256-GRF-per-thread",
    512: "-cl-intel-512-GRF-per-thread",
}
AUTO_FLAG = "-cl-intel-enable-auto-large-GRF-mode"


@dataclass
class Attempt:
    """One compile of the kernel: its flags and what came out."""

    grf_mode: str  # the register file the binary uses ("128", "256"), or "auto" when IGC chose per kernel
    flags: str
    spill_bytes: Optional[int]  # per hardware thread; None: the binary does not say
    spill_source: Optional[str]  # where spill_bytes came from (binary.zebin.SPILL_SOURCES)
    scratch_bytes: int
    n_regs: Optional[int]
    ms: float
    kept: bool = True  # whether this attempt's binary is the one the policy keeps
    reason: str = ""  # why the policy kept or dropped this binary, where it compared two
    early: bool = False  # compiled beside the default mode's attempt, started before it was known to be needed

    def cost(self) -> int:
        """What the policy minimises: spill bytes, or scratch as their upper bound when unknown."""
        return self.spill_bytes if self.spill_bytes is not None else self.scratch_bytes

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class Candidate:
    """An attempt with the binary it produced: what the policy weighs and, for the one it keeps, returns."""

    attempt: Attempt
    native: NativeBinary
    kernel: KernelInfo  # the kernel's entry in the binary


@dataclass
class EarlyAttempt:
    """What became of the compile started beside the default mode's (``speculate``)."""

    grf_mode: str
    used: bool  # the policy asked for it; otherwise it was cancelled

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class Selection:
    """The policy's outcome: the candidate it keeps and every attempt it made, in order."""

    kept: Candidate
    attempts: List[Attempt]
    early: Optional[EarlyAttempt] = None

    @property
    def attempt(self) -> Attempt:
        return self.kept.attempt

    @property
    def binary(self) -> bytes:
        return self.kept.native.binary

    @property
    def zebin(self) -> Zebin:  # the binary, read and checked
        return self.kept.native.zebin

    @property
    def kernel(self) -> KernelInfo:
        return self.kept.kernel

    @property
    def log(self) -> str:
        return self.kept.native.log

    @property
    def command(self) -> str:
        return self.kept.native.command


class _Attempts:
    """Runs the policy's attempts, taking the early compile's result when the policy asks for its flags."""

    def __init__(self, compiler: NativeCompiler, spirv: bytes, target: TargetInfo, kernel_name: str,
                 early: Optional[PendingBinary]):
        self.compiler, self.spirv, self.target, self.kernel_name = compiler, spirv, target, kernel_name
        self.early = early
        self.early_used = False

    def run(self, mode: str, flags: str) -> Candidate:
        if self.early is not None and not self.early_used and flags == self.early.flags:
            self.early_used = True
            candidate = self._read(self.early.result(), mode, flags)
            candidate.attempt.early = True
            return candidate
        return self._read(self.compiler.compile(self.spirv, self.target.name, flags), mode, flags)

    def _read(self, out: NativeBinary, mode: str, flags: str) -> Candidate:
        missing = out.zebin.undefined_symbols
        if missing:
            raise CompilationError(f"{self.kernel_name} calls functions the compiler ({self.compiler.name}) left "
                                   f"undefined: {', '.join(missing)}; the driver cannot load it.  The installed IGC "
                                   "lacks these builtins: install a newer intel-opencl-icd, or compile for a target "
                                   "without them", out.log, out.command)
        kernel = out.zebin.kernel(self.kernel_name)
        grf = kernel.grf_count
        shown = mode if mode == "auto" else (str(grf) if grf else mode)
        attempt = Attempt(grf_mode=shown, flags=flags, spill_bytes=kernel.spill_bytes,
                          spill_source=kernel.spill_source, scratch_bytes=kernel.scratch_bytes, n_regs=grf,
                          ms=round(out.ms, 3))
        return Candidate(attempt, out, kernel)

    def finish(self) -> Optional[EarlyAttempt]:
        """Cancel the early compile if the policy never asked for it; what became of it."""
        if self.early is None:
            return None
        if not self.early_used:
            self.early.cancel()
        mode = next((str(g) for g, f in GRF_FLAGS.items() if f == self.early.flags), self.early.flags)
        return EarlyAttempt(mode, self.early_used)


def _check_explicit(mode: str, target: TargetInfo, num_warps: int) -> None:
    if mode == "auto":
        return
    grf = int(mode)
    if grf not in target.grf_modes:
        raise ValueError(f"grf_mode {mode!r} is not available on {target.name} "
                         f"(its register file sizes: {', '.join(map(str, target.grf_modes))})")
    limit = target.max_warps_at(grf)
    if num_warps > limit:
        raise ValueError(f"grf_mode {mode!r} with num_warps={num_warps} cannot launch on {target.name}: at {grf} "
                         f"registers an Xe-core holds at most {limit} sub-groups; lower num_warps or use grf_mode "
                         f"'default'")


def _weigh(best: Attempt, candidate: Attempt, min_gain: float) -> bool:
    """Whether ``candidate`` (a larger register file) replaces ``best``; records the decision on both."""
    base, cost = best.cost(), candidate.cost()
    gain = (base - cost) / base if base else 0.0
    change = f"spills {base} -> {cost} B ({-gain:+.1%}) at {candidate.grf_mode} GRF"
    keep = cost < base and gain >= min_gain
    if keep:
        candidate.reason = f"kept: {change}, at least the {min_gain:.0%} minimum gain"
        best.kept, best.reason = False, f"replaced: {change}"
    else:
        why = "no fewer spills" if cost >= base else f"under the {min_gain:.0%} minimum gain (grf_min_gain)"
        candidate.kept, candidate.reason = False, f"dropped: {change}, {why}"
        best.reason = f"kept: the larger register file's {change}, {why}"
    return keep


def select_binary(spirv: bytes, kernel_name: str, target: TargetInfo, num_warps: int, grf_mode: str,
                  spill_threshold: int, compiler: NativeCompiler, min_gain: float = DEFAULT_MIN_GAIN,
                  speculate: bool = False) -> Selection:
    """Compile ``spirv`` under the GRF policy and return the binary to keep with every attempt made.

    ``grf_mode``, ``spill_threshold`` and ``min_gain`` are the parsed options (``XPUOptions``).  ``speculate``:
    start the first larger mode's compile beside the default one (see the module docstring); ignored for an
    explicit mode, a target without a larger mode and a native compiler that cannot start compiles."""
    if grf_mode not in GRF_MODES:
        raise ValueError(f"grf_mode {grf_mode!r} is not parsed: expected one of {', '.join(GRF_MODES)} "
                         "(options.parse_grf_mode)")
    if grf_mode != "default":
        _check_explicit(grf_mode, target, num_warps)
        flags = AUTO_FLAG if grf_mode == "auto" else GRF_FLAGS[int(grf_mode)]
        only = _Attempts(compiler, spirv, target, kernel_name, None).run(grf_mode, flags)
        return Selection(only, [only.attempt])

    # The device's default mode: no GRF flag, as the driver would build it.
    larger = [g for g in target.grf_modes if g > target.default_grf and num_warps <= target.max_warps_at(g)]
    early = None
    if speculate and larger and callable(getattr(compiler, "start", None)):
        early = compiler.start(spirv, target.name, GRF_FLAGS[larger[0]])
    attempts = _Attempts(compiler, spirv, target, kernel_name, early)
    try:
        selection = _default_mode(attempts, target, larger, spill_threshold, min_gain)
    finally:
        early_outcome = attempts.finish()
    selection.early = early_outcome
    return selection


def _default_mode(attempts: _Attempts, target: TargetInfo, larger: List[int], spill_threshold: int,
                  min_gain: float) -> Selection:
    try:
        best = attempts.run(str(target.default_grf), "")
    except OutOfResources:
        # Too much scratch per thread at the default size: fewer spills in a larger register file may fit.
        if not larger:
            raise
        return _first_that_fits(attempts, larger)
    made = [best.attempt]
    current_grf = best.attempt.n_regs or target.default_grf
    for grf in (g for g in larger if g > current_grf):
        if best.attempt.cost() <= spill_threshold:
            break
        candidate = attempts.run(str(grf), GRF_FLAGS[grf])
        made.append(candidate.attempt)
        if _weigh(best.attempt, candidate.attempt, min_gain):
            best = candidate
    return Selection(best, made)


def _first_that_fits(attempts: _Attempts, modes: List[int]) -> Selection:
    """After the default mode ran out of scratch: the first larger mode that fits, else the last error."""
    error: Optional[OutOfResources] = None
    for grf in modes:
        try:
            candidate = attempts.run(str(grf), GRF_FLAGS[grf])
        except OutOfResources as e:
            error = e
            continue
        return Selection(candidate, [candidate.attempt])
    raise error

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
compile starts beside the default one, on a generator that can start compiles (``StartsCompiles``).  The
policy then runs exactly as above; when it asks for that compile it takes the early one's result, and when it
does not (the default mode did not spill) the early compile is cancelled.  So the decisions, the binary and
the attempts are those of the sequential policy; only ``Attempt.early`` and the wall time differ.

Spill bytes come from the zebin reader.  Where no source says how much of a kernel's scratch is spill,
the decision uses the scratch size as an upper bound; the metadata still reports the spill as unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple

from triton.runtime.errors import OutOfResources

from triton.backends.intel.binary.zebin import KernelInfo, Zebin
from triton.backends.intel.errors import CompilationError
from triton.backends.intel.generators import NativeBinary, NativeGenerator, PendingBinary
from triton.backends.intel.targets import TargetInfo

GRF_FLAGS = {
    128: "-cl-intel-128-GRF-per-thread",
    256: "-cl-intel-256-GRF-per-thread",
    512: "-cl-intel-512-GRF-per-thread",
}
AUTO_FLAG = "-cl-intel-enable-auto-large-GRF-mode"
MODES = ("default", "auto", "128", "256", "512")
# triton-xpu's spellings.
ALIASES = {"small": "128", "large": "256", "": "default", "none": "default"}


def normalize_mode(mode: Any) -> str:
    """The canonical spelling of a grf_mode option; ValueError for anything else."""
    text = str(mode).strip().lower() if mode is not None else "default"
    text = ALIASES.get(text, text)
    if text not in MODES:
        raise ValueError(f"invalid grf_mode {mode!r}: expected one of {', '.join(MODES)} "
                         f"(or triton-xpu's 'small'/'large')")
    return text


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
class Selection:
    binary: bytes
    kernel: KernelInfo
    zebin: Zebin  # the binary, read and checked
    chosen: Attempt
    attempts: List[Attempt]
    log: str
    command: str
    early: Optional[Dict[str, Any]] = None  # the attempt started early: {"grf_mode", "used"}; None if none was


class _Compiler:
    """Compiles the kernel for the policy, taking the early attempt's result when the policy asks for it."""

    def __init__(self, generator: NativeGenerator, spirv: bytes, target: TargetInfo, kernel_name: str,
                 early: Optional[PendingBinary]):
        self.generator, self.spirv, self.target, self.kernel_name = generator, spirv, target, kernel_name
        self.early = early
        self.early_used = False

    def __call__(self, mode: str, flags: str) -> Tuple[Attempt, bytes, KernelInfo, Zebin, str, str]:
        if self.early is not None and not self.early_used and flags == self.early.flags:
            self.early_used = True
            outcome = _attempt(self.early.result(), self.target, self.kernel_name, self.generator.name, mode, flags)
            outcome[0].early = True
            return outcome
        out = self.generator.compile(self.spirv, self.target.name, flags)
        return _attempt(out, self.target, self.kernel_name, self.generator.name, mode, flags)

    def finish(self) -> Optional[Dict[str, Any]]:
        """Cancel the early attempt if the policy never asked for it; what became of it."""
        if self.early is None:
            return None
        if not self.early_used:
            self.early.cancel()
        mode = next((str(g) for g, f in GRF_FLAGS.items() if f == self.early.flags), self.early.flags)
        return {"grf_mode": mode, "used": self.early_used}


def _attempt(out: NativeBinary, target: TargetInfo, kernel_name: str, generator: str, mode: str,
             flags: str) -> Tuple[Attempt, bytes, KernelInfo, Zebin, str, str]:
    missing = out.zebin.undefined_symbols
    if missing:
        raise CompilationError(f"{kernel_name} calls functions the compiler ({generator}) left undefined: "
                               f"{', '.join(missing)}; the driver cannot load it.  The installed IGC lacks these "
                               "builtins: install a newer intel-opencl-icd, or compile for a target without them",
                               out.log, out.command)
    kernel = out.zebin.kernel(kernel_name)
    grf = kernel.grf_count
    shown = mode if mode == "auto" else (str(grf) if grf else mode)
    attempt = Attempt(grf_mode=shown, flags=flags, spill_bytes=kernel.spill_bytes, spill_source=kernel.spill_source,
                      scratch_bytes=kernel.scratch_bytes, n_regs=grf, ms=round(out.ms, 3))
    return attempt, out.binary, kernel, out.zebin, out.log, out.command


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


DEFAULT_MIN_GAIN = 0.1


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


def select_binary(spirv: bytes, kernel_name: str, target: TargetInfo, num_warps: int, requested: str,
                  spill_threshold: int, generator: NativeGenerator, min_gain: float = DEFAULT_MIN_GAIN,
                  speculate: bool = False) -> Selection:
    """Compile ``spirv`` under the GRF policy and return the binary to keep with every attempt made.

    ``speculate``: start the first larger mode's compile beside the default one (see the module docstring);
    ignored for an explicit mode, a target without a larger mode and a generator that cannot start compiles."""
    mode = normalize_mode(requested)
    if mode != "default":
        _check_explicit(mode, target, num_warps)
        flags = AUTO_FLAG if mode == "auto" else GRF_FLAGS[int(mode)]
        compile = _Compiler(generator, spirv, target, kernel_name, None)
        attempt, binary, kernel, parsed, log, command = compile(mode, flags)
        return Selection(binary, kernel, parsed, attempt, [attempt], log, command)

    # The device's default mode: no GRF flag, as the driver would build it.
    larger = [g for g in target.grf_modes if g > target.default_grf and num_warps <= target.max_warps_at(g)]
    early = None
    if speculate and larger and callable(getattr(generator, "start", None)):
        early = generator.start(spirv, target.name, GRF_FLAGS[larger[0]])
    compile = _Compiler(generator, spirv, target, kernel_name, early)
    try:
        selection = _default_mode(compile, target, larger, spill_threshold, min_gain)
    finally:
        early_outcome = compile.finish()
    selection.early = early_outcome
    return selection


def _default_mode(compile: _Compiler, target: TargetInfo, larger: List[int], spill_threshold: int,
                  min_gain: float) -> Selection:
    try:
        best = compile(str(target.default_grf), "")
    except OutOfResources:
        # Too much scratch per thread at the default size: fewer spills in a larger register file may fit.
        if not larger:
            raise
        return _first_that_fits(compile, larger)
    attempts = [best[0]]
    current_grf = best[0].n_regs or target.default_grf
    for grf in (g for g in larger if g > current_grf):
        if best[0].cost() <= spill_threshold:
            break
        candidate = compile(str(grf), GRF_FLAGS[grf])
        attempts.append(candidate[0])
        if _weigh(best[0], candidate[0], min_gain):
            best = candidate
    attempt, binary, kernel, parsed, log, command = best
    return Selection(binary, kernel, parsed, attempt, attempts, log, command)


def _first_that_fits(compile: _Compiler, modes: List[int]) -> Selection:
    """After the default mode ran out of scratch: the first larger mode that fits, else the last error."""
    error: Optional[OutOfResources] = None
    for grf in modes:
        try:
            attempt, binary, kernel, parsed, log, command = compile(str(grf), GRF_FLAGS[grf])
        except OutOfResources as e:
            error = e
            continue
        return Selection(binary, kernel, parsed, attempt, [attempt], log, command)
    raise error

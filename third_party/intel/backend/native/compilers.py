"""Native compilers: what turns a SPIR-V module into a device binary for one GRF setting.

The GRF policy and the zebin stage talk to this interface only.  Two native compilers:

* ``ocloc``: ocloc / libocloc; knows devices by name, needs no GPU.
* ``driver``: the Level Zero driver's own compiler (zeModuleCreate from SPIR-V, then
  zeModuleGetNativeBinary), at compile time; needs a device of the target, matches the installed driver's
  compiler exactly and works for devices the installed ocloc does not know.

``TRITON_XPU_NATIVE_COMPILER`` (or the ``native_compiler`` option) picks one; ``auto`` takes ocloc where it
knows the target, else the driver where a device of the target is present.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Protocol

from triton.backends.intel import targets

from triton.backends.intel.native import build_log, ocloc
from triton.backends.intel.binary import validate
from triton.backends.intel.binary.zebin import Zebin, without_ir
from triton.backends.intel.errors import CompilationError, IntelBackendError, TargetError, ZebinFormatError

NAMES = ("ocloc", "driver", "auto")
# The driver's compiler emits the older patch-token format unless asked for a zebin.
_ZEBIN_FLAG = "-cl-intel-allow-zebin"


@dataclass
class NativeBinary:
    binary: bytes  # a zebin for the requested device
    log: str  # the compiler's build log (IGC spill warnings included)
    command: str  # how to reproduce the compile
    ms: float  # wall time of the compile
    zebin: Zebin  # the binary, read and checked (binary.validate) once


class NativeCompiler(Protocol):
    name: str

    def version(self) -> str:
        """Identifies the compiler; part of the cache key so an upgrade never reuses a stale binary."""

    def compile(self, spirv: bytes, device: str, flags: str) -> NativeBinary:
        """Compile ``spirv`` for the ocloc-named ``device`` with IGC build ``flags``."""


class PendingBinary(Protocol):
    """A compile started beside others (``start``): its result when needed, or stopped when not."""

    flags: str

    def result(self) -> NativeBinary:
        """Wait for the compile; raises what ``compile`` would have raised."""

    def cancel(self) -> None:
        """Stop the compile and free its core; its result is never used."""


class StartsCompiles(Protocol):
    """A native compiler that can also start a compile that runs beside the caller's (the GRF policy's early
    larger-mode attempt).  The ``driver`` native compiler cannot: its compile runs inside this process, where
    nothing can stop one that turns out not to be needed."""

    def start(self, spirv: bytes, device: str, flags: str) -> PendingBinary:
        """Begin ``compile(spirv, device, flags)`` in the background."""


class OclocCompiler:
    """ocloc / libocloc: knows devices by name, needs no GPU.  Without ``keep_ir`` its zebins embed no SPIR-V
    (``ocloc -exclude_ir``)."""

    name = "ocloc"

    def __init__(self, keep_ir: bool = False):
        self.keep_ir = keep_ir

    def version(self) -> str:
        return _ocloc_version()

    def compile(self, spirv: bytes, device: str, flags: str, cancel: Optional[ocloc.Cancel] = None) -> NativeBinary:
        result = ocloc.compile_spirv(spirv, [device], options=flags, cancel=cancel, exclude_ir=not self.keep_ir)
        return NativeBinary(result.binary, result.log, result.command, result.ms, result.zebins[""])

    def start(self, spirv: bytes, device: str, flags: str) -> "BackgroundCompile":
        return BackgroundCompile(lambda cancel: self.compile(spirv, device, flags, cancel), flags)


class BackgroundCompile:
    """One ocloc compile in a thread, on libocloc's second worker or its own ocloc process (PendingBinary)."""

    def __init__(self, compile: Callable[[ocloc.Cancel], NativeBinary], flags: str):
        self.flags = flags
        self._cancel = ocloc.Cancel()
        self._outcome: Dict[str, Any] = {}

        def run() -> None:
            try:
                self._outcome["value"] = compile(self._cancel)
            except BaseException as e:  # handed to the thread that asks for the result
                self._outcome["error"] = e

        self._thread = threading.Thread(target=run, name="triton-xpu early GRF attempt", daemon=True)
        self._thread.start()

    def result(self) -> NativeBinary:
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["value"]

    def cancel(self) -> None:
        self._cancel.cancel()
        self._thread.join()  # the worker or process is dead by now; reap it before going on


@functools.lru_cache(maxsize=None)
def _ocloc_version() -> str:
    return ocloc.ocloc_version()


def ocloc_knows(device: str) -> bool:
    """Whether the ocloc the compiler runs (libocloc or the executable) can compile for ``device``."""
    return ocloc.device_support(device) is None


class DriverCompiler:
    """The Level Zero driver's compiler, on a device of the target (real or emulated), at compile time.  Without
    ``keep_ir`` the ``.spv`` section of its zebin is cut out (binary.zebin.without_ir): NEO 22.43's compiler
    honours ``-cl-intel-exclude-ir-from-zebin`` but NEO 26.27's keeps the IR whatever the build flags say."""

    name = "driver"

    def __init__(self, device_index: int, keep_ir: bool = False):
        self.device_index = device_index
        self.keep_ir = keep_ir

    def _device(self):
        from triton.backends.intel.runtime import level_zero
        return level_zero.device(self.device_index)

    def version(self) -> str:
        dev = self._device()
        props = dev.properties
        return (f"level-zero driver {props.get('driver_version_text') or props.get('driver_version')} "
                f"on {dev.name} ({dev.target.name})")

    def compile(self, spirv: bytes, device: str, flags: str) -> NativeBinary:
        from triton.backends.intel.runtime import level_zero
        dev = self._device()
        ze = level_zero.runtime().ze
        build_flags = " ".join(f for f in (_ZEBIN_FLAG, flags) if f)
        repro = (f"zeModuleCreate(ZE_MODULE_FORMAT_IL_SPIRV, pBuildFlags={build_flags!r}) on Level Zero device "
                 f"{dev.index} ({dev.name}) with the kernel's .spv from Triton's cache")
        try:
            out = _within_timeout(lambda: ze.compile_spirv(dev.index, spirv, build_flags), device, repro)
        except ze.ZeError as e:
            reason = ocloc.igc_reason(e.log)
            raise CompilationError(f"the Level Zero driver failed to compile the SPIR-V for {device} "
                                   f"({e.result_name})" + (f": {reason}" if reason else ""), e.log, repro) from None
        binary = out["binary"]
        try:
            if not self.keep_ir:
                binary = without_ir(binary)
            parsed = validate.loadable(binary, build_log.spills(out["build_log"]))
        except ZebinFormatError as e:
            raise CompilationError(f"the Level Zero driver's compiler produced an unusable binary for {device}: {e}",
                                   out["build_log"], repro) from None
        return NativeBinary(binary, out["build_log"], repro, out["ms"], parsed)


def _within_timeout(call: Callable[[], Any], device: str, repro: str) -> Any:
    """``call()`` -- the driver's compiler, inside this process, which nothing can stop -- in a thread, so the
    caller gets an answer within ``TRITON_XPU_OCLOC_TIMEOUT``: a hung compile stays behind in that thread
    (the C++ call releases the GIL), and the error says so."""
    outcome: Dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as e:  # handed to the caller's thread
            outcome["error"] = e

    timeout = ocloc.compile_timeout()
    worker = threading.Thread(target=run, name="triton-xpu driver compile", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CompilationError(f"the Level Zero driver did not finish compiling the SPIR-V for {device} within "
                               f"{timeout:g} s. Its compiler runs inside this process and cannot be stopped: it goes "
                               f"on in a background thread, so restart the process if it never ends; raise "
                               f"{ocloc.TIMEOUT_ENV} (seconds) if the kernel needs longer, or use native_compiler "
                               f"'ocloc', whose runs are stopped", "", repro)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def device_for(target: str) -> Optional[int]:
    """Index of a present Level Zero device of ``target``, without initialising Level Zero needlessly."""
    from triton.backends.intel.runtime import level_zero
    if not level_zero.available():
        return None
    for dev in level_zero.runtime().devices:
        if dev.target.name == target:
            return dev.index
    return None


def resolve(name: str, target: str) -> str:
    """The native compiler ``name`` ("ocloc", "driver", "auto") means for ``target``; IntelBackendError if none can."""
    if name not in NAMES:
        raise ValueError(f"unknown native compiler {name!r}; choose one of {', '.join(NAMES)} "
                         "(TRITON_XPU_NATIVE_COMPILER or the native_compiler option)")
    if name == "ocloc":
        return "ocloc"
    why_not_ocloc = ocloc.device_support(target) if name == "auto" else None
    if name == "auto" and why_not_ocloc is None:
        return "ocloc"
    if device_for(target) is not None:
        return "driver"
    if name == "driver":
        raise IntelBackendError(f"native_compiler 'driver' needs a Level Zero device of {target}, and none is "
                                f"present; use native_compiler 'ocloc', or run where a {target} device is (or "
                                f"TRITON_XPU_EMULATE={target})")
    if "does not know" in why_not_ocloc:
        why_not_ocloc += f"; install an ocloc that supports {target} (intel-opencl-icd{_toolchain_hint(target)})"
    emulate = f" (TRITON_XPU_EMULATE={target} provides an emulated one)" if target in targets.emulated() else ""
    raise IntelBackendError(f"no way to compile native code for {target}: {why_not_ocloc}. Without ocloc, "
                            f"native_compiler 'auto' uses the Level Zero driver's compiler, but no {target} device "
                            f"is present{emulate}")


def _toolchain_hint(target: str) -> str:
    """Where this project's toolchains have an ocloc that knows ``target``."""
    try:
        info = targets.lookup(target)
    except TargetError:
        return ""
    if info.toolchain == "current":
        return (f" 26.x, as in Debian testing: this repository's `./run --toolchain current` has it; Debian 12's "
                f"22.43 does not know {target}")
    return ""


def get_compiler(name: str, target: str = "", keep_ir: bool = False) -> NativeCompiler:
    """The native compiler for a resolved name ("ocloc" or "driver") and target; its zebins embed the SPIR-V only
    with ``keep_ir``."""
    if name == "ocloc":
        return OclocCompiler(keep_ir)
    if name == "driver":
        index = device_for(target)
        if index is None:
            resolve("driver", target)  # raises the explanation
        return DriverCompiler(index, keep_ir)
    raise ValueError(f"unknown native compiler {name!r}; choose one of ocloc, driver")

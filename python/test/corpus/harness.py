"""The corpus harness: real Triton kernels from published packages, compiled for named Intel targets by the real
Triton front end and this backend, and each binary checked differentially (the validator against NEO itself).

A corpus entry (:class:`Entry`) names a published module and its ``@triton.jit`` function, the argument types,
constexprs and ``num_warps`` the package's own Python wrapper passes for a typical small shape.  Nothing here
copies a kernel: the package, installed from PyPI (``requirements-corpus.txt``), is imported at compile time.

Process layout (why): the packages import torch at module level; the stand-in torch (a test double,
``python/test/support/standin_torch``) and the environment they need are only ever set up in the corpus's own
child processes, never in pytest's:

* a *compile process* (:class:`CompileProcess`): the stand-in torch on ``sys.path``; the emulated device active
  because Triton 3.3's ``@triton.autotune`` asks the active driver for a benchmarker when the module is imported;
  one Triton cache folder per compile, so the SPIR-V of a kernel whose zebin stage failed can be found;
* a *loader process* per target (:class:`Loader`): NEO emulating that target (its settings must be in the
  environment before the driver loads), handed every binary unchecked (``zeModuleCreate`` NATIVE +
  ``zeKernelCreate``), because NEO may abort the process on a binary the validator should have refused.
"""

from __future__ import annotations

import concurrent.futures as futures
import glob
import multiprocessing
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN_TORCH = os.path.join(os.path.dirname(HERE), "support", "standin_torch")  # a folder holding torch/
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

# Every target the corpus knows; a toolchain whose ocloc lacks one (legacy: bmg) skips it, visibly.
TARGETS = ("pvc", "acm-g10", "bmg", "tgllp")
# TRITON_XPU_CORPUS=full: also the entries marked full_only (many seconds each), for the report and by hand.
FULL = os.environ.get("TRITON_XPU_CORPUS", "").lower() == "full"
# The environment the packages need at import, set only in the compile process.
PACKAGE_ENV = {
    # FlagGems picks a vendor backend at import by probing vendor tools; its generic (NVIDIA-named) kernels are
    # the ones it runs everywhere else.  Its tuning database would be named after torch.cuda's device.
    "GEMS_VENDOR": "nvidia",
    "FLAGGEMS_DB_URL": "sqlite:///:memory:",
    # Triton 3.3's Autotuner.__init__ reads driver.active.get_benchmarker(): some driver must be active at import.
    "TRITON_XPU_EMULATE": "pvc",
}


@dataclass(frozen=True)
class Entry:
    """One kernel of the corpus, as its package's wrapper launches it for a typical small shape."""

    name: str  # unique in the corpus: "<package short name>/<kernel>"
    package: str  # PyPI name
    module: str  # the published module that defines it
    attr: str  # its name there (an Autotuner/Heuristics wrapper is unwrapped to the JITFunction)
    category: str
    types: Dict[str, str] = field(default_factory=dict)  # runtime arguments not matched by the defaults below
    constexprs: Dict[str, Any] = field(default_factory=dict)
    num_warps: Optional[int] = None  # None: the autotuner config's, else 4 (Triton's default)
    config: Optional[int] = None  # index into the package's own autotune configs: its kwargs and num_warps
    ptr: str = "*fp32"  # the type of arguments named like pointers (*_ptr, *_PTR, ptr_*)
    frontend: Optional[str] = None  # why Triton 3.3's front end is expected to fail on it
    refused: Optional[str] = None  # why neither the validator nor NEO is expected to load it, on every target
    full_only: bool = False  # compiled only in the full sweep (TRITON_XPU_CORPUS=full): it takes many seconds
    options: Dict[str, Any] = field(default_factory=dict)


def is_pointer_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith("_ptr") or lower.startswith("ptr_") or lower == "ptr"


# --- resolving an entry (in the compile process) ---------------------------------------------------------------


def resolve(entry: Entry) -> Tuple[Any, Dict[str, str], Dict[str, Any], Dict[str, Any]]:
    """(JITFunction, signature, constexprs, options) of ``entry``; imports its published module."""
    import importlib
    from triton.runtime.jit import JITFunction
    obj = getattr(importlib.import_module(entry.module), entry.attr)
    config = None
    while not isinstance(obj, JITFunction):
        if entry.config is not None and config is None and getattr(obj, "configs", None):
            config = obj.configs[entry.config]
        if not hasattr(obj, "fn"):
            raise TypeError(f"{entry.module}.{entry.attr} is a {type(obj).__name__}, not a @triton.jit function")
        obj = obj.fn
    if entry.config is not None and config is None:
        raise ValueError(f"{entry.name}: config={entry.config} but {entry.attr} has no autotune configs")
    constexprs = dict(config.kwargs) if config else {}
    constexprs.update(entry.constexprs)
    options = {"num_warps": entry.num_warps or (config.num_warps if config else 4)}
    if config and config.num_stages:
        options["num_stages"] = config.num_stages
    options.update(entry.options)
    signature: Dict[str, str] = {}
    unknown = set(entry.types) | set(entry.constexprs)
    for p in obj.params:
        unknown.discard(p.name)
        if p.is_constexpr or p.name in constexprs:
            if p.name not in constexprs:
                if not p.has_default:
                    raise ValueError(f"{entry.name}: no value for constexpr {p.name} (give it in constexprs)")
                constexprs[p.name] = p.default
            signature[p.name] = "constexpr"
        else:
            signature[p.name] = entry.types.get(p.name, entry.ptr if is_pointer_name(p.name) else "i32")
    if unknown:
        raise ValueError(f"{entry.name}: {entry.attr} has no parameter(s) {sorted(unknown)}; the package changed?")
    return obj, signature, constexprs, options


# --- compiling (in the compile process) ------------------------------------------------------------------------


@dataclass
class CompileResult:
    entry: str
    target: str
    stage: str  # "zebin" (a binary came out), "zebin-stage" (failed there), "front-end" (failed before SPIR-V)
    kernel: str = ""
    error: str = ""  # first lines of the failure
    binary: Optional[bytes] = None  # the zebin; for a zebin-stage failure, ocloc's raw output when there is one
    binary_from: str = ""  # "triton.compile" or "raw ocloc (<flags>)"
    raw_error: str = ""  # why ocloc gave no raw binary either
    signature: str = ""
    num_warps: int = 0
    grf_mode: Optional[str] = None
    spill_bytes: Optional[int] = None
    attempts: List[Dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def _first_lines(text: str, n: int = 6) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return "\n".join(lines[:n])


def _error_text(e: BaseException) -> str:
    """``Type: message`` with what matters first: Triton's front-end errors put the source excerpt first and the
    reason last ("at 12:8: <source> ... <reason>"), so their position and last lines are kept."""
    from triton.compiler.errors import CompilationError as FrontEndError
    lines = [line for line in str(e).splitlines() if line.strip()]
    if isinstance(e, FrontEndError) and len(lines) > 2:
        cause = f" (caused by {type(e.__cause__).__name__}: {e.__cause__})" if e.__cause__ else ""
        return f"{type(e).__name__}: {lines[0]} {lines[-1].strip()}{cause}"[:1500]
    return f"{type(e).__name__}: " + "\n".join(lines[:6])


def _options_of(repro: str) -> str:
    """The ``-options`` value of an ocloc repro command (the failing attempt's GRF flags)."""
    try:
        words = shlex.split(repro)
    except ValueError:
        return ""
    return words[words.index("-options") + 1] if "-options" in words[:-1] else ""


def compile_case(entry_name: str, target: str) -> CompileResult:
    """Compile one entry for one target; never raises (a failure is a result)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from corpus_tables import ENTRIES  # noqa: the compile process has this folder on sys.path
    entry = ENTRIES[entry_name]
    start = time.perf_counter()
    result = CompileResult(entry_name, target, "front-end")
    cache = tempfile.mkdtemp(prefix="corpus-cache-")
    os.environ["TRITON_CACHE_DIR"] = cache  # read by Triton at each compile: one folder per compile
    try:
        fn, signature, constexprs, options = resolve(entry)
        result.kernel = fn.__name__
        result.num_warps = options["num_warps"]
        result.signature = ",".join(t if t != "constexpr" else f"{k}={constexprs[k]}" for k, t in signature.items())
        kernel = triton.compile(ASTSource(fn, signature=signature, constexprs=constexprs),
                                target=GPUTarget("xpu", target, 32), options=options)
        md = kernel.metadata
        result.stage, result.binary, result.binary_from = "zebin", kernel.asm["zebin"], "triton.compile"
        result.grf_mode, result.spill_bytes = md.grf_mode, md.spill_bytes
        result.attempts = [{k: a.get(k) for k in ("grf_mode", "spill_bytes", "kept", "reason")}
                           for a in md.grf_attempts]
    except Exception as e:  # noqa: BLE001 - every failure is reported, with where it happened
        result.error = _error_text(e)
        spirv = sorted(glob.glob(os.path.join(cache, "**", "*.spv"), recursive=True))
        if spirv:  # the front end produced SPIR-V: the zebin stage failed
            result.stage = "zebin-stage"
            _raw_binary(result, open(spirv[0], "rb").read(), target, _options_of(getattr(e, "repro", "") or ""))
        elif not result.kernel:
            result.error = f"resolving the entry: {result.error}\n{traceback.format_exc(limit=-2)}"
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    result.seconds = time.perf_counter() - start
    return result


def _raw_binary(result: CompileResult, spirv: bytes, target: str, flags: str) -> None:
    """ocloc's own output for the SPIR-V the zebin stage refused or failed on, unchecked (check_limits=False):
    what the driver would have been handed without the validator."""
    from triton.backends.intel.native import ocloc
    try:
        out = ocloc.compile_spirv(spirv, [target], options=flags, check_limits=False, exclude_ir=True)
        result.binary, result.binary_from = out.binary, f"raw ocloc ({flags or 'default GRF'})"
    except Exception as e:  # noqa: BLE001
        result.raw_error = f"{type(e).__name__}: {_first_lines(e, 3)}"


def _enter_compile_process() -> None:
    sys.path[:0] = [STANDIN_TORCH, HERE]
    os.environ.update(PACKAGE_ENV)
    import warnings
    warnings.simplefilter("ignore")  # the packages warn about the missing GPU and the Triton version at import
    import torch
    assert getattr(torch, "STANDIN", False), f"expected the stand-in torch, imported {torch.__file__}"


def _spawn_pool(initializer, initargs=()) -> futures.ProcessPoolExecutor:
    return futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=initializer, initargs=initargs)


class CompileProcess:
    """A child process that compiles corpus entries (restarted if a compile kills it)."""

    def __init__(self) -> None:
        self._pool = _spawn_pool(_enter_compile_process)

    def compile(self, entry: str, target: str) -> CompileResult:
        try:
            return self._pool.submit(compile_case, entry, target).result()
        except futures.process.BrokenProcessPool as e:
            self._pool = _spawn_pool(_enter_compile_process)
            return CompileResult(entry, target, "front-end", error=f"the compile process died: {e}")

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


# --- the two verdicts -------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    accepted: bool
    message: str = ""


def validator_verdict(binary: bytes, kernel: str) -> Verdict:
    """What the project's loader checks before the driver sees ``binary`` (``binary.validate``, then that the
    kernel is in it, as ``runtime.level_zero.native_kernel`` does): may the driver be asked for ``kernel``?"""
    from triton.backends.intel.binary import validate
    from triton.backends.intel.errors import ZebinFormatError
    try:
        parsed = validate.loadable(binary)
    except ZebinFormatError as e:
        return Verdict(False, str(e))
    try:
        parsed.kernel(kernel)
    except KeyError as e:  # IGC 1.0 drops a kernel whose call it cannot resolve, and keeps the rest
        return Verdict(False, f"cannot load {kernel}: {e.args[0]}")
    return Verdict(True)


def _enter_loader_process(target: str) -> None:
    os.environ["TRITON_XPU_EMULATE"] = target
    os.environ.setdefault("NEO_CACHE_PERSISTENT", "0")
    import warnings
    warnings.simplefilter("ignore")
    from triton.backends.intel.runtime import level_zero
    level_zero.runtime()  # emulation activated before the driver loads


def load_unchecked(binary: bytes, kernel: str) -> Tuple[bool, str]:
    """(loaded, the driver's message and build log): zeModuleCreate NATIVE + zeKernelCreate, no validator."""
    from triton.backends.intel.runtime import level_zero
    ze = level_zero.runtime().ze
    try:
        out = ze.load_native(0, binary, kernel)
    except ze.ZeError as e:
        return False, str(e)
    ze.unload(out["module"], out["kernel"])
    return True, (out.get("build_log") or "").strip()


class Loader:
    """A child process holding NEO emulating one target; every binary of that target is loaded in it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._pool = _spawn_pool(_enter_loader_process, (target, ))

    def load(self, binary: bytes, kernel: str) -> Verdict:
        try:
            loaded, message = self._pool.submit(load_unchecked, binary, kernel).result(timeout=300)
            return Verdict(loaded, message)
        except futures.process.BrokenProcessPool:
            self._pool = _spawn_pool(_enter_loader_process, (self.target, ))
            return Verdict(False, f"the driver killed the process loading {kernel} (NEO aborted or crashed)")
        except Exception as e:  # noqa: BLE001 - the emulated device could not be set up: say so
            return Verdict(False, f"loader process for {self.target} failed: {type(e).__name__}: {e}")

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def ocloc_knows(target: str) -> bool:
    from triton.backends.intel.native import compilers
    return compilers.ocloc_knows(target)


def result_dict(r: CompileResult) -> Dict[str, Any]:
    d = asdict(r)
    d.pop("binary")
    return d

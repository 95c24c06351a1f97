"""Ahead-of-time compilation: Triton kernels to native Intel GPU binaries that deploy without Triton or Python.

``triton-xpu compile`` (see ``cli.py``) drives this module:

* :func:`prepare` reads the kernel's Python file and binds a signature in the form of Triton's AOT tool
  (``"*fp32:16,*fp32,*fp32,i32,1024"``: types, ``:16`` divisibility hints, ``:1`` for the constant 1 and
  constexpr values inline) plus ``--constexpr K=V`` values to the kernel's arguments;
* :func:`run_jobs` compiles every (kernel, target) pair with ``triton.compile`` -- so each target goes through
  the zebin stage and its GRF policy exactly as JIT compiles do -- in parallel worker processes;
* :func:`assemble` combines a kernel's per-target zebins: one target gives that zebin, several give an ocloc
  fat binary (an ``ar`` archive, members named ``64.<IP version>`` as ocloc names them, 8-byte aligned as
  NEO's own encoder aligns them).  Each member is the binary the GRF policy chose for its target; the SPIR-V
  differs per target (layouts, DPAS, sub-group size), so no single ocloc multi-device compile could produce
  them.  No ``generic_ir`` member: a device without a member must fail to load, not compile from IR;
* :func:`write_outputs` writes ``NAME.zebin``, ``NAME.json`` (per target: GRF mode, spills, attempts, flags,
  launch shape, shared memory) and, on request, the C loader (``c_loader.py``).
"""

from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import importlib.util
import inspect
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from triton.backends.intel import targets as targets_mod
from triton.backends.intel.binary import fatbin, ids, zebin
from triton.backends.intel.errors import IntelBackendError

# Triton's type names (triton.language.str_to_ty); pointers are "*T" or "*kT" (const).
SCALAR_TYPES = ("i1", "i8", "i16", "i32", "i64", "u1", "u8", "u16", "u32", "u64", "B", "fp16", "bf16", "fp32",
                "fp64", "fp8e4nv", "fp8e4b8", "fp8e5", "fp8e5b16", "fp8e4b15")
HINTS = (1, 16)  # what Triton's AOT tool accepts after ":"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AotError(IntelBackendError, ValueError):
    """Bad input to the ahead-of-time compiler (file, kernel name, signature, target, option): one line."""


# --------------------------------------------------------------------------------------------------------
# Signatures


@dataclass(frozen=True)
class SignatureEntry:
    """One comma-separated entry of a signature: a type with an optional hint, or a constexpr value."""

    text: str
    type: Optional[str] = None  # a Triton type ("*fp32", "i32"); None for a constexpr value
    value: Any = None  # the constexpr value when ``type`` is None
    hint: Optional[int] = None  # 16: divisibility; 1: the argument is the constant 1


def is_triton_type(text: str) -> bool:
    if text.startswith("*"):
        text = text[1:]
        if text.startswith("k") and text[1:] in SCALAR_TYPES:
            return True
    return text in SCALAR_TYPES


def parse_value(text: str) -> Any:
    """A constexpr value: an integer, a float, True/False; AotError otherwise."""
    text = text.strip()
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    for base in (10, 0):  # 1024, then 0x400 / 0o2000 / 0b...
        try:
            return int(text, base)
        except ValueError:
            pass
    try:
        return float(text)
    except ValueError:
        raise AotError(f"constexpr value {text!r} is not an integer, a float or True/False") from None


def parse_signature(text: str) -> List[SignatureEntry]:
    """Parse a signature in the form of Triton's AOT tool; AotError naming the bad entry."""
    if text is None or not text.strip():
        raise AotError("empty signature: give one entry per kernel argument, e.g. \"*fp32,*fp32,i32,1024\"")
    entries = []
    for position, raw in enumerate(text.split(",")):
        item = raw.strip()
        where = f"signature entry {position} ({item!r})" if item else f"signature entry {position}"
        if not item:
            raise AotError(f"malformed signature {text!r}: {where} is empty")
        base, sep, hint_text = item.partition(":")
        base = base.strip()
        hint = None
        if sep:
            try:
                hint = int(hint_text.strip())
            except ValueError:
                raise AotError(f"malformed signature {text!r}: {where}: the hint after ':' must be 1 or 16") from None
            if hint not in HINTS:
                raise AotError(f"malformed signature {text!r}: {where}: hint {hint} is not supported "
                               f"(1: the constant 1, 16: divisible by 16)")
        if is_triton_type(base):
            if hint == 1 and base.startswith("*"):
                raise AotError(f"malformed signature {text!r}: {where}: a pointer cannot be the constant 1")
            entries.append(SignatureEntry(item, type=base, hint=hint))
            continue
        if sep:
            raise AotError(f"malformed signature {text!r}: {where}: {base!r} is not a Triton type "
                           f"(e.g. *fp32, i32, fp16, *bf16)")
        try:
            value = parse_value(base)
        except AotError:
            raise AotError(f"malformed signature {text!r}: {where} is neither a Triton type (e.g. *fp32, i32, "
                           f"fp16) nor a constexpr value (an integer, a float, True/False)") from None
        entries.append(SignatureEntry(item, value=value))
    return entries


def parse_constexpr_option(text: str) -> Tuple[str, Any]:
    """``--constexpr K=V`` -> (K, value)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name or not value.strip():
        raise AotError(f"--constexpr {text!r}: expected NAME=VALUE, e.g. BLOCK=1024")
    if not _IDENTIFIER.match(name):
        raise AotError(f"--constexpr {text!r}: {name!r} is not an argument name")
    try:
        return name, parse_value(value)
    except AotError as e:
        raise AotError(f"--constexpr {text!r}: {e}") from None


# --------------------------------------------------------------------------------------------------------
# Kernels


_MODULES: Dict[str, Any] = {}


def load_module(path: str):
    """Execute the Python file at ``path`` once per process (as Triton's AOT tool does) and return it."""
    path = os.path.abspath(path)
    if path in _MODULES:
        return _MODULES[path]
    if not os.path.isfile(path):
        raise AotError(f"{path}: no such file")
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # the kernel file's own imports
    stem = os.path.splitext(os.path.basename(path))[0]
    module_name = f"triton_xpu_aot_{re.sub(r'[^0-9A-Za-z_]', '_', stem)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise AotError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    no_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # leave no __pycache__ beside it
    try:
        spec.loader.exec_module(module)
    except SystemExit as e:
        sys.modules.pop(module_name, None)
        raise AotError(f"cannot load {path}: it called exit({e.code})") from None
    except BaseException as e:  # the user's file: anything can go wrong in it
        sys.modules.pop(module_name, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        line = _user_frame_line(e, path)
        detail = str(e).splitlines()[0] if str(e) else ""
        raise AotError(f"cannot load {path}{line}: {type(e).__name__}" + (f": {detail}" if detail else "")) from None
    finally:
        sys.dont_write_bytecode = no_bytecode
    _MODULES[path] = module
    return module


def _user_frame_line(error: BaseException, path: str) -> str:
    if isinstance(error, SyntaxError) and error.lineno:
        return f":{error.lineno}"
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if os.path.abspath(frame.filename) == path:
            return f":{frame.lineno}"
    return ""


def _jit_functions(module) -> List[str]:
    from triton.runtime.jit import JITFunction
    return sorted(name for name, value in vars(module).items() if isinstance(_unwrap(value), JITFunction))


def _unwrap(obj):
    """The JITFunction inside @triton.autotune / @triton.heuristics wrappers."""
    from triton.runtime.jit import JITFunction
    seen = 0
    while not isinstance(obj, JITFunction) and hasattr(obj, "fn") and seen < 8:
        obj, seen = obj.fn, seen + 1
    return obj


def find_kernel(path: str, name: str):
    """The @triton.jit function called ``name`` in the file at ``path``."""
    from triton.runtime.jit import JITFunction
    module = load_module(path)
    kernels = _jit_functions(module)
    listed = ", ".join(kernels) if kernels else "none"
    if not hasattr(module, name):
        raise AotError(f"no kernel {name!r} in {path} (its @triton.jit kernels: {listed})")
    fn = _unwrap(getattr(module, name))
    if not isinstance(fn, JITFunction):
        raise AotError(f"{name!r} in {path} is not a @triton.jit kernel (its @triton.jit kernels: {listed})")
    return fn


@dataclass
class KernelSpec:
    """One kernel to compile, everything in plain data so that worker processes can receive it."""

    path: str
    kernel: str  # the @triton.jit function's name in the file
    name: str  # output name: file stem and C symbol
    signature: Dict[str, str]  # every argument, in order: its Triton type or "constexpr"
    constexprs: Dict[str, Any]
    divisibility: Dict[str, int] = field(default_factory=dict)  # arguments hinted ":16"

    @property
    def runtime_args(self) -> List[Tuple[str, str]]:
        """(name, Triton type) of the arguments the compiled kernel takes, in order."""
        return [(n, t) for n, t in self.signature.items() if t != "constexpr"]

    def source(self):
        from triton.compiler import ASTSource
        fn = find_kernel(self.path, self.kernel)
        index = {n: i for i, n in enumerate(fn.arg_names)}
        attrs = {(index[n], ): [["tt.divisibility", d]] for n, d in self.divisibility.items()}
        return ASTSource(fn, signature=dict(self.signature), constexprs=dict(self.constexprs), attrs=attrs)


def bind_signature(path: str, kernel: str, name: str, signature: str,
                   constexprs: Dict[str, Any]) -> Tuple[KernelSpec, List[str]]:
    """Bind a signature and ``--constexpr`` values to the arguments of ``kernel``.

    A signature with one entry per argument gives them all.  Otherwise ``constexprs`` (from ``--constexpr``)
    naming arguments of the kernel give those, and the signature lists the remaining arguments, in order.
    Returns the spec and the names of the ``constexprs`` used.
    """
    fn = find_kernel(path, kernel)
    arg_names = list(fn.arg_names)
    entries = parse_signature(signature)
    # A signature with an entry for every argument is complete: --constexpr values are for other kernels.
    given = {} if len(entries) == len(arg_names) else {k: v for k, v in constexprs.items() if k in arg_names}
    remaining = [a for a in arg_names if a not in given]
    if len(entries) != len(remaining):
        by_option = f"; --constexpr gives {', '.join(given)}" if given else ""
        raise AotError(f"signature {signature!r} has {len(entries)} entries, but {kernel} takes {len(arg_names)} "
                       f"arguments ({', '.join(arg_names)}){by_option}: list "
                       f"{', '.join(remaining) if remaining else 'nothing'}")
    is_constexpr = {p.name: p.is_constexpr for p in fn.params}
    sig: Dict[str, str] = {}
    values: Dict[str, Any] = {}
    divisibility: Dict[str, int] = {}
    entry_of = dict(zip(remaining, entries))
    for arg in arg_names:
        if arg in given:
            sig[arg], values[arg] = "constexpr", given[arg]
            continue
        entry = entry_of[arg]
        if entry.type is None:
            sig[arg], values[arg] = "constexpr", entry.value
        elif is_constexpr.get(arg):
            raise AotError(f"argument {arg} of {kernel} is tl.constexpr: give it a value (e.g. 1024), "
                           f"not the type {entry.type!r}")
        elif entry.hint == 1:
            # Triton's AOT tool: ":1" makes the argument the constant 1.
            sig[arg], values[arg] = "constexpr", 1
        else:
            sig[arg] = entry.type
            if entry.hint == 16:
                divisibility[arg] = 16
    return KernelSpec(os.path.abspath(path), kernel, name, sig, values, divisibility), list(given)


def prepare(path: str, kernels: Sequence[str], signatures: Sequence[str], constexprs: Sequence[str],
            out_names: Sequence[str] = ()) -> List[KernelSpec]:
    """Validate the command line's kernels and bind their signatures; AotError on any bad input.

    Kernels and signatures pair up in order (one signature may serve every kernel); ``--constexpr`` values
    apply to each kernel whose signature leaves that argument out, and each must apply to some kernel.
    """
    if not kernels:
        raise AotError("no kernel: give --kernel NAME")
    if not signatures:
        raise AotError("no signature: give --signature, e.g. \"*fp32,*fp32,*fp32,i32,1024\"")
    if len(signatures) not in (1, len(kernels)):
        raise AotError(f"{len(kernels)} kernels but {len(signatures)} signatures: give one --signature per "
                       f"--kernel, in the same order")
    if out_names and len(out_names) != len(kernels):
        raise AotError(f"{len(kernels)} kernels but {len(out_names)} output names: give one --out-name per "
                       f"--kernel, in the same order")
    values: Dict[str, Any] = {}
    for text in constexprs:
        key, value = parse_constexpr_option(text)
        values[key] = value
    specs = []
    used = set()
    for i, kernel in enumerate(kernels):
        name = out_names[i] if out_names else kernel
        if not _IDENTIFIER.match(name):
            raise AotError(f"output name {name!r} is not a C identifier (letters, digits, '_'); "
                           f"choose one with --out-name")
        sig = signatures[i] if len(signatures) > 1 else signatures[0]
        spec, taken = bind_signature(path, kernel, name, sig, values)
        used.update(taken)
        specs.append(spec)
    unused = [k for k in values if k not in used]
    if unused:
        names = ", ".join(sorted({a for s in specs for a in s.signature}))
        raise AotError(f"--constexpr {unused[0]}: no kernel takes it (a kernel's signature must leave the argument "
                       f"out; arguments: {names})")
    seen: Dict[str, int] = {}
    for spec in specs:
        if spec.name in seen:
            raise AotError(f"two kernels would both be written as {spec.name!r}: give each a distinct --out-name")
        seen[spec.name] = 1
    return specs


def resolve_targets(text: Sequence[str]) -> List[str]:
    """``pvc,acm-g10`` (repeatable) -> canonical target names, in order, without duplicates."""
    names: List[str] = []
    for chunk in text:
        for item in chunk.split(","):
            item = item.strip()
            if not item:
                continue
            name = targets_mod.lookup(item).name  # TargetError lists the known names
            if name not in names:
                names.append(name)
    if not names:
        raise AotError(f"no target: give --target, one or more of {', '.join(targets_mod.known_names())}")
    return names


@dataclass(frozen=True)
class Options:
    """Compile options given to every (kernel, target)."""

    num_warps: int = 4
    num_stages: int = 2
    threads_per_warp: int = 32
    grf_mode: str = "default"

    def __post_init__(self):
        if self.num_warps <= 0 or self.num_warps & (self.num_warps - 1):
            raise AotError(f"--num-warps {self.num_warps}: must be a power of two")
        if self.num_stages <= 0:
            raise AotError(f"--num-stages {self.num_stages}: must be positive")
        if self.threads_per_warp not in (8, 16, 32):
            raise AotError(f"--threads-per-warp {self.threads_per_warp}: must be 8, 16 or 32")
        from triton.backends.intel.grf_policy import normalize_mode
        try:
            object.__setattr__(self, "grf_mode", normalize_mode(self.grf_mode))
        except ValueError as e:
            raise AotError(f"--grf: {e}") from None

    def as_dict(self) -> Dict[str, Any]:
        return {"num_warps": self.num_warps, "num_stages": self.num_stages,
                "threads_per_warp": self.threads_per_warp, "grf_mode": self.grf_mode}


# --------------------------------------------------------------------------------------------------------
# Compiling


@dataclass
class Job:
    spec: KernelSpec
    target: str
    options: Options

    @property
    def label(self) -> str:
        return f"{self.spec.name} for {self.target}"


@dataclass
class JobResult:
    job: Job
    zebin: bytes = b""
    metadata: Dict[str, Any] = field(default_factory=dict)
    ms: float = 0.0
    error: Optional[str] = None  # what went wrong, the first line being the summary


_METADATA_FIELDS = ("name", "target_arch", "num_warps", "threads_per_warp", "num_stages", "shared", "grf_mode",
                    "grf_mode_requested", "build_flags", "n_regs", "spill_bytes", "scratch_bytes", "grf_attempts",
                    "native_compiler", "native_compiler_version", "hash", "stage_ms", "triton_version")


def _plain(value):
    """JSON-safe copy of metadata values (tuples, namedtuples, dataclasses)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return _plain(value._asdict())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def compile_job(job: Job) -> JobResult:
    """Compile one kernel for one target with triton.compile (front end, zebin stage, GRF policy).

    Runs in a worker process: every failure comes back as text, never as an exception to unpickle.
    """
    start = time.perf_counter()
    try:
        import triton
        from triton.backends.compiler import GPUTarget
        kernel = triton.compile(job.spec.source(), target=GPUTarget("xpu", job.target, 32),
                                options=job.options.as_dict())
        metadata = kernel.metadata._asdict()
        plain = {k: _plain(metadata.get(k)) for k in _METADATA_FIELDS if k in metadata}
        return JobResult(job, bytes(kernel.asm["zebin"]), plain, (time.perf_counter() - start) * 1e3)
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # a compile failure of any kind is reported, not raised, from a worker
        text = _front_end_error(e, job) or str(e).strip() or type(e).__name__
        if not isinstance(e, (IntelBackendError, ValueError)) and type(e).__name__ not in ("CompilationError",
                                                                               "OutOfResources"):
            text = f"{type(e).__name__}: {text}"
        return JobResult(job, ms=(time.perf_counter() - start) * 1e3, error=text)


def _front_end_error(error: BaseException, job: Job) -> Optional[str]:
    """Triton's front-end errors start "at 3:27:" (a line of the function): lead with FILE:LINE:COL and the
    error instead, the source excerpt after it."""
    try:
        from triton.compiler.errors import CompilationError as FrontEndError
    except ImportError:  # pragma: no cover - another Triton layout
        return None
    if not isinstance(error, FrontEndError):
        return None
    lines = [line for line in str(error.error_message or "").strip().splitlines() if line.strip()]
    summary = lines[-1] if lines else type(error).__name__
    where = ""
    node = error.node
    try:
        fn = find_kernel(job.spec.path, job.spec.kernel)
        if hasattr(node, "lineno") and error.src is not None and error.src == fn.src:
            # Triton's source of the function starts at "def", after its decorators.
            source, first = inspect.getsourcelines(fn.fn)
            def_index = next(i for i, text in enumerate(source) if re.match(r"\s*def\s", text))
            line = first + def_index + node.lineno - 1
            where = f"{os.path.basename(job.spec.path)}:{line}:{node.col_offset + 1}: "
    except Exception:  # the location is a convenience
        pass
    return f"{where}{summary}\n{error}"


def _pool_context():
    # Workers forked from the parent inherit the kernel's module and imported Triton (no re-import); the
    # parent has not compiled anything yet, so no compiler state or threads are copied.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


EventHandler = Callable[[str, Any], None]


def run_jobs(jobs: Sequence[Job], workers: int, on_event: Optional[EventHandler] = None,
             tick: float = 0.25) -> List[JobResult]:
    """Compile ``jobs`` on ``workers`` processes (1: in this process); results in the order of ``jobs``.

    ``on_event(kind, payload)``: ``("done", JobResult)`` as each job finishes, ``("tick", running jobs)``
    about every ``tick`` seconds while waiting.
    """
    notify = on_event or (lambda kind, payload: None)
    results: List[Optional[JobResult]] = [None] * len(jobs)
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        for i, job in enumerate(jobs):
            notify("start", job)
            results[i] = compile_job(job)
            notify("done", results[i])
        return results  # type: ignore[return-value]
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context())
    try:
        futures = {pool.submit(compile_job, job): i for i, job in enumerate(jobs)}
        pending = set(futures)
        while pending:
            done, pending = concurrent.futures.wait(pending, timeout=tick,
                                                    return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                i = futures[future]
                try:
                    results[i] = future.result()
                    results[i].job = jobs[i]  # the caller's object, not the copy that came back
                except concurrent.futures.process.BrokenProcessPool:
                    results[i] = JobResult(jobs[i], error="the compiler process died (crashed or was killed)")
                notify("done", results[i])
            if pending:
                # The pool hands a worker's next job over early: the first `workers` are the ones compiling.
                running = sorted(futures[f] for f in pending if f.running())[:workers]
                notify("tick", [jobs[i] for i in running])
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results  # type: ignore[return-value]


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------------------
# Fat binaries


def member_name(target: str) -> str:
    """ocloc's fat-binary member name for ``target``'s zebin: ``64.<IP version>`` (zebins are 64-bit)."""
    ip = {name: version for version, name in ids.IP_VERSIONS.items()}.get(target)
    # NEO also matches "<pointer size>.<product abbreviation>" when it does not know the IP version.
    return fatbin.member_name(64, ip or target)


# --------------------------------------------------------------------------------------------------------
# Results


@dataclass
class TargetBuild:
    """One target's binary inside a kernel's artifact."""

    target: str
    zebin: bytes
    metadata: Dict[str, Any]
    kernel: zebin.KernelInfo
    offset: int  # where the zebin starts in the artifact's binary
    member: Optional[str]  # fat-binary member name; None for a single zebin
    ms: float

    @property
    def group_size(self) -> int:
        return int(self.metadata["num_warps"]) * int(self.metadata["threads_per_warp"])

    @property
    def shared(self) -> int:
        return int(self.metadata.get("shared") or 0)


@dataclass
class Artifact:
    """A kernel compiled for every requested target: the binary to ship and what is known about it."""

    spec: KernelSpec
    options: Options
    binary: bytes
    builds: List[TargetBuild]

    @property
    def is_fat(self) -> bool:
        return len(self.builds) > 1

    @property
    def kernel_symbol(self) -> str:
        """The kernel's name inside the binary (Triton's, normally the function's name)."""
        return self.builds[0].kernel.name


def assemble(spec: KernelSpec, options: Options, results: Sequence[JobResult]) -> Artifact:
    """Combine one kernel's per-target results (all successful) into its binary."""
    parsed = []
    for result in results:
        info = zebin.read(result.zebin)
        parsed.append(info.kernel(result.metadata.get("name") or spec.kernel))
    if len(results) == 1:
        r = results[0]
        builds = [TargetBuild(r.job.target, r.zebin, r.metadata, parsed[0], 0, None, r.ms)]
        return Artifact(spec, options, r.zebin, builds)
    names = [member_name(r.job.target) for r in results]
    binary, places = fatbin.write(list(zip(names, (r.zebin for r in results))))
    builds = [
        TargetBuild(r.job.target, r.zebin, r.metadata, k, offset, name, r.ms)
        for r, k, name, (offset, _) in zip(results, parsed, names, places)
    ]
    return Artifact(spec, options, binary, builds)


def describe(artifact: Artifact, binary_file: str) -> Dict[str, Any]:
    """The ``NAME.json`` document."""
    from triton.backends.intel import c_loader
    spec = artifact.spec
    targets = []
    for b in artifact.builds:
        md = b.metadata
        k = b.kernel
        targets.append({
            "target": b.target,
            "family": targets_mod.lookup(b.target).family,
            "member": b.member,
            "offset": b.offset,  # where this target's zebin starts in the binary file
            "zebin_bytes": len(b.zebin),
            "zebin_sha256": hashlib.sha256(b.zebin).hexdigest(),
            "grf_mode": md.get("grf_mode"),
            "grf_mode_requested": md.get("grf_mode_requested"),
            "n_regs": md.get("n_regs"),
            "spill_bytes": md.get("spill_bytes"),
            "spill_source": k.spill_source,
            "scratch_bytes": md.get("scratch_bytes"),
            "grf_attempts": md.get("grf_attempts"),
            "build_flags": md.get("build_flags"),
            "num_warps": md.get("num_warps"),
            "threads_per_warp": md.get("threads_per_warp"),
            "group_size": [b.group_size, 1, 1],
            "shared": b.shared,
            "simd_width": k.simd_width,
            "slm_bytes": k.slm_bytes,
            "barrier_count": k.barrier_count,
            "has_dpas": k.has_dpas,
            "num_stages": md.get("num_stages"),
            "native_compiler": md.get("native_compiler"),
            "native_compiler_version": md.get("native_compiler_version"),
            "triton_hash": md.get("hash"),
            "stage_ms": md.get("stage_ms"),
            "compile_ms": round(b.ms, 1),
        })
    return {
        "name": spec.name,
        "kernel": artifact.kernel_symbol,
        "source": spec.path,
        "signature": dict(spec.signature),
        "constexprs": _plain(spec.constexprs),
        "divisible_by_16": sorted(spec.divisibility),
        "arguments": [{"name": n, "type": t, "c_type": c_loader.c_type(t)} for n, t in spec.runtime_args],
        "options": artifact.options.as_dict(),
        "binary": {
            "file": binary_file,
            "format": "fat" if artifact.is_fat else "zebin",
            "bytes": len(artifact.binary),
            "sha256": hashlib.sha256(artifact.binary).hexdigest(),
        },
        "targets": targets,
    }


def check_out_dir(out_dir: str) -> None:
    """Create ``out_dir`` and make sure a file can be written there: checked before compiling, so that a
    wrong ``--out-dir`` costs no compile time."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise AotError(f"--out-dir {out_dir}: it exists and is not a directory")
    try:
        os.makedirs(out_dir, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".triton-xpu-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise AotError(f"--out-dir {out_dir}: cannot write there ({e.strerror or e})") from None


def _write_all(files: List[Tuple[str, Any]]) -> None:
    """Write each (path, data): all to temporary files first, then each renamed into place, so a reader
    never sees half a file and a failed write leaves no temporary file.  AotError names the real path."""
    staged: List[Tuple[str, str]] = []
    path = ""
    try:
        for path, _ in files:  # what would make a rename fail once others are done
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        for path, data in files:
            tmp = f"{path}.tmp{os.getpid()}"
            staged.append((tmp, path))
            with open(tmp, "wb" if isinstance(data, (bytes, bytearray)) else "w") as f:
                f.write(data)
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as e:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise AotError(f"cannot write {path}: {e.strerror or e}") from None


def write_outputs(artifact: Artifact, out_dir: str, emit_c: bool) -> List[str]:
    """Write NAME.zebin, NAME.json and with ``emit_c`` NAME.h / NAME.c; returns the paths written.

    Everything is generated before anything is written: a kernel the C loader cannot express leaves no files.
    """
    name = artifact.spec.name
    files: List[Tuple[str, Any]] = [(f"{name}.zebin", artifact.binary),
                                    (f"{name}.json", json.dumps(describe(artifact, f"{name}.zebin"), indent=2) + "\n")]
    if emit_c:
        from triton.backends.intel import c_loader
        header, source = c_loader.generate(artifact)
        files += [(f"{name}.h", header), (f"{name}.c", source)]
    check_out_dir(out_dir)
    placed = [(os.path.join(out_dir, filename), data) for filename, data in files]
    _write_all(placed)
    return [path for path, _ in placed]

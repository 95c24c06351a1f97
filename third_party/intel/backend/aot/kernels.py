"""The kernels to compile: the user's Python file executed once, each ``@triton.jit`` kernel bound to its
signature (:class:`KernelSpec`, plain data that worker processes can receive), the targets and the options."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from triton.backends.intel import targets as targets_mod
from triton.backends.intel.options import parse_grf_mode
from triton.backends.intel.aot.signature import AotError, IDENTIFIER, parse_constexpr_option, parse_signature

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
        if not IDENTIFIER.match(name):
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
    keep_ir: Optional[bool] = None  # --keep-ir: True; None leaves it to TRITON_XPU_KEEP_IR (default: no IR)

    def __post_init__(self):
        if self.num_warps <= 0 or self.num_warps & (self.num_warps - 1):
            raise AotError(f"--num-warps {self.num_warps}: must be a power of two")
        if self.num_stages <= 0:
            raise AotError(f"--num-stages {self.num_stages}: must be positive")
        if self.threads_per_warp not in (8, 16, 32):
            raise AotError(f"--threads-per-warp {self.threads_per_warp}: must be 8, 16 or 32")
        try:
            object.__setattr__(self, "grf_mode", parse_grf_mode(self.grf_mode))
        except ValueError as e:
            raise AotError(f"--grf: {e}") from None

    def as_dict(self) -> Dict[str, Any]:
        options = {"num_warps": self.num_warps, "num_stages": self.num_stages,
                   "threads_per_warp": self.threads_per_warp, "grf_mode": self.grf_mode}
        if self.keep_ir is not None:
            options["keep_ir"] = self.keep_ir
        return options

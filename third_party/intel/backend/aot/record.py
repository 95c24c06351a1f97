"""Recording the kernels a run's JIT compiles (``TRITON_XPU_RECORD_KERNELS=FILE``), for ``triton-xpu fill`` (fill.py)
to compile the same Triton cache entries elsewhere: on a build machine without a GPU, for named targets.

Triton's cache key is made of Triton's and this backend's files, the kernel's ASTSource (its source and the
signature, constexprs and attrs the JIT specialised it with: divisibility by 16, ints equal to 1), the target as the
backend resolves it, the parsed options and the cache-invalidating environment.  Each line holds what rebuilds them:

* ``module``, ``qualname``: where the fill imports the kernel (a kernel in ``__main__`` or defined inside a function
  cannot be imported elsewhere: it is not recorded, with a warning); ``file`` for messages;
* ``signature``, ``constexprs``, ``attrs``: the ASTSource as the JIT built it, values encoded by :func:`encode` so
  that they come back identical (tuples stay tuples: their text is part of the key);
* ``options``: the options as the backend parsed them for the recorded ``target``; ``launch_options``: what the
  launch asked for plus what the environment filled in (the TRITON_XPU_* knobs, the libdevice path), which a JIT on
  a device of another target would parse into that target's options (a target without tf32 DPAS computes fp32 dots
  in IEEE precision, and "auto" picks each target's native compiler);
* ``env``: the cache-invalidating environment variables that were set;
* ``key``, ``target_key``, ``source_hash``, ``kernel_key``, ``triton_key``: the cache key and its parts as computed
  here (the target, the ASTSource, the kernel's own source with what it calls, Triton's files), so that the fill can
  check it computes the same entry and say why not.

The JIT asks once per kernel specialisation and process (its own in-memory cache answers later launches), hit or
miss in Triton's cache; a line is appended once per cache key, also across processes that share the file (each reads
the keys already there when it first records; processes that start together may still both append one, which the
fill reads once).  Recording never fails a run: what cannot be recorded is one warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import sys
import warnings
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from triton.backends.intel import knobs

FORMAT = 1
# Fields every line has, with their JSON types (checked by parse, so a damaged line is named by its number).
FIELDS = {
    "format": int, "module": str, "qualname": str, "target": str, "key": str, "target_key": str,
    "source_hash": str, "kernel_key": str, "triton_key": str, "signature": list, "constexprs": list, "attrs": list, "options": dict,
    "launch_options": dict, "env": dict
}


class KernelNotRecorded(UserWarning):
    """A kernel the JIT compiled could not be recorded (TRITON_XPU_RECORD_KERNELS)."""


class Unrecordable(ValueError):
    """Why a value or kernel cannot be written to a record so that another process rebuilds it identically."""


class RecordError(ValueError):
    """A line of a record file that cannot be read."""


# --------------------------------------------------------------------------------------------------------
# values: JSON that comes back as the same Python values (their text is part of Triton's cache key)


def encode(value: Any) -> Any:
    """``value`` as JSON that :func:`decode` turns back into an equal value of the same type."""
    if value is None or type(value) in (bool, int, float, str):  # exact types: an IntEnum's text is not its int's
        return value
    if type(value) is tuple:
        return {"tuple": [encode(v) for v in value]}
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is dict:
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    import triton.language as tl
    from triton.runtime.jit import JITFunction
    if type(value) is tl.dtype:
        return {"dtype": value.name}
    if isinstance(value, JITFunction):
        return {"jit": list(location(value))}
    raise Unrecordable(f"a value of type {type(value).__name__}")


def decode(value: Any, load_jit: Callable[[str, str], Any]) -> Any:
    """The value :func:`encode` wrote; ``load_jit(module, qualname)`` imports a @triton.jit function.  RecordError
    for JSON :func:`encode` does not write."""
    if isinstance(value, list):
        return [decode(v, load_jit) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise RecordError(f"{json.dumps(value)[:80]} is not an encoded value")
    (tag, body), = value.items()
    if tag == "tuple" and isinstance(body, list):
        return tuple(decode(v, load_jit) for v in body)
    if tag == "dict" and isinstance(body, list) and all(isinstance(p, list) and len(p) == 2 for p in body):
        return {decode(k, load_jit): decode(v, load_jit) for k, v in body}
    if tag == "dtype" and isinstance(body, str):
        import triton.language as tl
        if body not in tl.dtype.SINT_TYPES + tl.dtype.UINT_TYPES + tl.dtype.FP_TYPES + tl.dtype.OTHER_TYPES:  # asserted
            raise RecordError(f"{body!r} is not a Triton dtype")
        return tl.dtype(body)
    if tag == "jit" and isinstance(body, list) and len(body) == 2 and all(isinstance(p, str) for p in body):
        return load_jit(*body)
    raise RecordError(f"{json.dumps(value)[:80]} is not an encoded value")


def paths(pairs: Any, what: str, load_jit: Callable[[str, str], Any]) -> Dict[Tuple[int, ...], Any]:
    """``[[path, value], ...]`` (constexprs, attrs: keyed by argument paths) as the ASTSource's dict."""
    result = {}
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], list) and pair[0]
                and all(type(i) is int and i >= 0 for i in pair[0])):
            raise RecordError(f"{what}: {json.dumps(pair)[:80]} is not [argument path, value]")
        result[tuple(pair[0])] = decode(pair[1], load_jit)
    return result


# --------------------------------------------------------------------------------------------------------
# kernels: where another process imports them


def unwrap(obj: Any) -> Any:
    """The JITFunction inside @triton.autotune / @triton.heuristics wrappers (or ``obj`` itself)."""
    from triton.runtime.jit import JITFunction
    for _ in range(8):
        if isinstance(obj, JITFunction) or not hasattr(obj, "fn"):
            break
        obj = obj.fn
    return obj


def location(kernel: Any) -> Tuple[str, str]:
    """(module, qualified name) another process imports the @triton.jit ``kernel`` from; Unrecordable if none."""
    module, qualname = kernel.fn.__module__, kernel.fn.__qualname__
    if "<locals>" in qualname:
        raise Unrecordable(f"it is defined inside a function ({qualname}), which another process cannot import; "
                           f"define it at the top level of a module")
    if module == "__main__":
        raise Unrecordable("it is defined in __main__ (the script that was run), which another process cannot "
                           "import; define it in a module the script imports")
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if unwrap(found) is not kernel:
        raise Unrecordable(f"{module}.{qualname} is not this kernel (the name was rebound, or the module was loaded "
                           f"under another name), so another process would import something else")
    return module, qualname


# --------------------------------------------------------------------------------------------------------
# the record of one compiled kernel


def triton_key_digest() -> str:
    """SHA-256 of Triton's key of its own and the backends' files (the first part of every cache key)."""
    from triton.compiler.compiler import triton_key
    return hashlib.sha256(triton_key().encode()).hexdigest()


def launch_options(options: Any, launch_keywords: Dict[str, Any]) -> Dict[str, Any]:
    """The options a launch with ``launch_keywords`` asked for, plus those the environment filled in here (the
    fields defaulting to None: TRITON_XPU_* knobs, the libdevice path), so that parsing them for any target gives
    what a JIT on a device of that target would, without the fill machine's environment."""
    cls = type(options)
    fields = dataclasses.fields(cls)
    given = {f.name: launch_keywords[f.name] for f in fields if f.name in launch_keywords}
    unparsed = cls(**given)  # as the JIT's parse started, before the target's own choices
    filled = {f.name: getattr(unparsed, f.name) for f in fields if f.default is None and f.name not in given}
    return {**given, **filled}


def record_of(backend: Any, src: Any, options: Any, kernel: Any, launch_keywords: Dict[str, Any]) -> Dict[str, Any]:
    """The line recording one compiled kernel; Unrecordable says why there is none."""
    from triton._C.libtriton import get_cache_invalidating_env_vars
    module, qualname = location(src.fn)
    names = list(src.fn.arg_names)

    def encoded(value, what):
        try:
            return encode(value)
        except Unrecordable as e:
            raise Unrecordable(f"its {what} is {e}, which a record cannot hold (it holds ints, floats, bools, "
                               f"strings, None, tuples, lists, dicts, Triton dtypes and @triton.jit functions)"
                               ) from None

    def values(pairs, what):  # keyed by argument paths
        return [[list(path), encoded(value, f"{what} {names[path[0]]}")] for path, value in pairs.items()]

    return {
        "format": FORMAT, "module": module, "qualname": qualname, "file": inspect.getsourcefile(src.fn.fn),
        "target": backend.target_info.name, "key": kernel.hash, "target_key": backend.hash(),
        "source_hash": src.hash(), "kernel_key": src.fn.cache_key, "triton_key": triton_key_digest(),
        "signature": [[name, encode(ty)] for name, ty in src.signature.items()],
        "constexprs": values(src.constants, "constexpr argument"), "attrs": values(src.attrs, "argument"),
        "options": {k: encoded(v, f"option {k}") for k, v in options.__dict__.items()},
        "launch_options": {k: encoded(v, f"option {k}") for k, v in launch_options(options, launch_keywords).items()},
        "env": dict(get_cache_invalidating_env_vars())
    }


def parse(text: str) -> Dict[str, Any]:
    """One line of a record file, checked for the fields and JSON types the fill reads; RecordError if not."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise RecordError(f"not JSON ({e})") from None
    if not isinstance(data, dict):
        raise RecordError(f"not a JSON object but {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise RecordError(f"format {data.get('format')!r}, where this triton-xpu reads format {FORMAT}")
    for name, kind in FIELDS.items():
        if name not in data:
            raise RecordError(f"no {name!r}")
        if type(data[name]) is not kind:  # JSON's own types (true is not an int here)
            raise RecordError(f"{name!r} is {json.dumps(data[name])[:60]}, not a JSON {kind.__name__}")
    return data


# --------------------------------------------------------------------------------------------------------
# the file: a line per cache key


@dataclasses.dataclass
class _Recorder:
    path: Optional[str] = None
    keys: Set[str] = dataclasses.field(default_factory=set)  # cache keys in the file
    broken: bool = False  # the file cannot be appended to: warned once
    warned: Set[str] = dataclasses.field(default_factory=set)  # kernels warned about


_RECORDER = _Recorder()


def _keys_in(path: str) -> Set[str]:
    """The cache keys recorded in ``path`` already (damaged lines are the fill's to report)."""
    keys = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for text in f:
                try:
                    keys.add(json.loads(text)["key"])
                except (ValueError, TypeError, KeyError):
                    pass
    except FileNotFoundError:
        pass
    return keys


def _append(path: str, key: str, line: str) -> None:
    recorder = _RECORDER
    if recorder.path != path:
        recorder.path, recorder.broken = path, False
        recorder.keys = _keys_in(path)
    if recorder.broken or key in recorder.keys:
        return
    # One write of the whole line to a file opened for appending: lines of processes recording into one file at
    # the same time do not interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    recorder.keys.add(key)


def note(backend: Any, src: Any, options: Any, kernel: Any, launch_keywords: Dict[str, Any]) -> None:
    """Record a kernel the JIT compiled (XPUBackend.jit_compiled) in the TRITON_XPU_RECORD_KERNELS file."""
    path = knobs.raw(knobs.RECORD_KERNELS)
    name = getattr(getattr(src, "fn", None), "__name__", "?")
    try:
        line = json.dumps(record_of(backend, src, options, kernel, launch_keywords), separators=(",", ":"))
    except Unrecordable as e:
        _warn_once(f"kernel:{name}", f"{knobs.RECORD_KERNELS}: kernel {name} is not recorded: {e}")
        return
    except Exception as e:  # recording must never fail the run that is being recorded
        _warn_once(f"kernel:{name}", f"{knobs.RECORD_KERNELS}: kernel {name} is not recorded: "
                   f"{type(e).__name__}: {e}")
        return
    try:
        _append(path, kernel.hash, line)
    except OSError as e:
        _RECORDER.broken = True
        _warn_once(f"file:{path}", f"{knobs.RECORD_KERNELS}={path}: cannot append to it ({type(e).__name__}: "
                   f"{e.strerror or e}): this process records no kernels; give the path of a file that can be "
                   f"written (its folder must exist)")


def _warn_once(what: str, message: str) -> None:
    if what in _RECORDER.warned:
        return
    _RECORDER.warned.add(what)
    warnings.warn(message, KernelNotRecorded, stacklevel=4)


def read(path: str) -> Tuple[List[Tuple[int, Dict[str, Any]]], List[str]]:
    """The records of ``path`` as (line number, record), and a message per line that cannot be read
    (``FILE:LINE: why``).  Blank lines are skipped; OSError if the file cannot be read."""
    records, problems = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                records.append((number, parse(text.strip())))
            except RecordError as e:
                problems.append(f"{path}:{number}: {e}; record it again with {knobs.RECORD_KERNELS}")
    return records, problems

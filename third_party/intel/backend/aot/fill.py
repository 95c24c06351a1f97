"""``triton-xpu fill``: the Triton cache entries of recorded kernels (record.py, ``TRITON_XPU_RECORD_KERNELS``)
compiled for named targets, without a GPU, so that a node with a device of such a target finds each kernel its JIT
asks for in the cache (a shared folder, or whatever cache manager TRITON_CACHE_MANAGER names) instead of compiling it.

Each (record, target) pair is compiled by ``triton.compile`` on the ASTSource the record rebuilds, for the named
target (``GPUTarget("xpu", name, 32)``, whose hash is a device's of that target), with the options a JIT on that
target would parse
(``launch_options``) and the recorded cache-invalidating environment: the cache key is then the one that JIT
computes.  Before compiling, the kernel's source and Triton's files are checked against the record; for the target
the kernel was recorded on, the key must be the recorded one, else the pair fails saying which part differs.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from triton.backends.intel import targets
from triton.backends.intel.aot import record

COMPILED, PRESENT, FAILED = "compiled", "already present", "failed"


class FillFailure(Exception):
    """Why one (record, target) pair was not filled: the reason the report shows."""


@dataclass
class FillJob:
    """One recorded kernel specialisation to compile for one target (plain data, for worker processes)."""

    file: str  # the record file, for the label
    line: int
    data: Dict[str, Any]  # the record, as record.parse read it
    target: str

    @property
    def label(self) -> str:
        return f"{os.path.basename(self.file)}:{self.line} {self.data['module']}.{self.data['qualname']} " \
               f"for {self.target}"


@dataclass
class FillResult:
    job: FillJob
    status: str = FAILED
    reason: str = ""
    ms: float = 0.0
    key: str = ""  # the cache key the entry is stored under

    @property
    def error(self) -> Optional[str]:
        return self.reason if self.status == FAILED else None

    def describe(self) -> str:
        if self.status == FAILED:
            return f"{self.job.label}: failed: {self.reason}"
        return f"{self.job.label}: {self.status} ({self.ms / 1e3:.2f} s)"


def crashed(job: FillJob, why: str) -> FillResult:
    """The result of a job whose worker process died (aot.jobs.run_jobs)."""
    return FillResult(job, reason=why)


def plan(file: str, records: Sequence[Tuple[int, Dict[str, Any]]], names: Sequence[str]) -> List[FillJob]:
    """A job per distinct kernel specialisation and target, in the file's order.  Records that compile the same
    entry on a target (the same kernel, source, specialisation, launch options and environment, recorded on
    several targets or by several processes) make one job: the record made on that target when there is one,
    whose key the fill can check."""
    jobs: Dict[Tuple[str, str], FillJob] = {}
    for line, data in records:
        same = json.dumps([data["module"], data["qualname"], data["source_hash"], data["launch_options"],
                           data["env"]], sort_keys=True)
        for name in names:
            known = jobs.get((same, name))
            if known is None or (known.data["target"] != name and data["target"] == name):
                jobs[(same, name)] = FillJob(file, line, data, name)
    return sorted(jobs.values(), key=lambda job: (job.line, names.index(job.target)))


# --------------------------------------------------------------------------------------------------------
# one job, in a worker process


def load_kernel(module: str, qualname: str, file: Optional[str] = None) -> Any:
    """The @triton.jit function ``module.qualname``; FillFailure saying how to make it importable if not."""
    from triton.runtime.jit import JITFunction
    where = f" (recorded from {file})" if file else ""
    try:
        found: Any = importlib.import_module(module)
    except Exception as e:  # the user's module: anything can go wrong in it
        first = str(e).splitlines()[0] if str(e) else ""
        raise FillFailure(f"cannot import {module}{where}: {type(e).__name__}" + (f": {first}" if first else "") +
                          f"; make it importable here (PYTHONPATH) and fill again") from None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    kernel = record.unwrap(found)
    if not isinstance(kernel, JITFunction):
        what = "nothing" if found is None else f"a {type(found).__name__}"
        raise FillFailure(f"{module}.{qualname} is {what}, not a @triton.jit kernel{where}: is this the code the "
                          f"kernels were recorded from?")
    return kernel


def source_of(data: Dict[str, Any]) -> Any:
    """The ASTSource the record rebuilds (its kernel imported)."""
    from triton.compiler import ASTSource
    kernel = load_kernel(data["module"], data["qualname"], data.get("file"))
    try:
        signature = {name: record.decode(ty, load_kernel) for name, ty in data["signature"]}
        constexprs = record.paths(data["constexprs"], "constexprs", load_kernel)
        attrs = record.paths(data["attrs"], "attrs", load_kernel)
    except (record.RecordError, ValueError, TypeError) as e:
        raise FillFailure(f"the record cannot be read: {e}") from None
    return ASTSource(kernel, signature, constexprs, attrs)


@contextlib.contextmanager
def environment(recorded: Dict[str, str]) -> Iterator[None]:
    """This process's cache-invalidating environment variables (part of the key) set as recorded, meanwhile."""
    from triton._C.libtriton import get_cache_invalidating_env_vars
    names = set(get_cache_invalidating_env_vars()) | set(recorded)
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update(recorded)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _check_same_code(data: Dict[str, Any], src: Any) -> None:
    if record.triton_key_digest() != data["triton_key"]:
        raise FillFailure("this triton-xpu is not the one the kernel was recorded with (Triton's and the backend's "
                          "files differ, and they are part of every cache key): fill with the triton-xpu build the "
                          "fleet runs")
    if src.fn.cache_key != data["kernel_key"]:
        raise FillFailure(f"the kernel here ({data['module']}.{data['qualname']}) is not the one recorded: its source, "
                          f"a function it calls or a global it reads differs, so nodes running the recorded code "
                          f"would not use the entry; fill from the code the fleet runs, or record again")
    if src.hash() != data["source_hash"]:
        raise FillFailure("the record's signature, constexprs and attrs do not rebuild the source the JIT compiled "
                          "(was the line edited?): record it again")


def _why_other_key(data: Dict[str, Any], target: Any, options: Dict[str, Any]) -> str:
    """Which part of the cache key differs from the recording process's."""
    from triton.compiler.compiler import make_backend  # as triton.compile makes it (compiler.py imports this package)
    reasons = []
    backend = make_backend(target)
    if backend.hash() != data["target_key"]:
        reasons.append(f"the target as this IGC serves it is {backend.hash()}, recorded {data['target_key']}")
    with environment(data["env"]):
        parsed = backend.parse_options(options).__dict__
    for name, value in sorted(data["options"].items()):
        recorded = record.decode(value, lambda module, qualname: f"{module}.{qualname}")
        if name in parsed and parsed[name] != recorded:
            reasons.append(f"option {name} is {parsed[name]!r}, recorded {recorded!r}")
    from triton._C.libtriton import get_cache_invalidating_env_vars
    with environment(data["env"]):
        env = dict(get_cache_invalidating_env_vars())
    if env != data["env"]:
        reasons.append(f"the cache-invalidating environment is {env}, recorded {data['env']}")
    return "; ".join(reasons) or "a part this fill cannot name differs"


def fill_one(job: FillJob) -> FillResult:
    """Compile one recorded kernel for one target into Triton's cache (a worker's job: failures come back as text)."""
    start = time.perf_counter()
    data = job.data
    try:
        import triton
        src = source_of(data)
        _check_same_code(data, src)
        from triton.backends.compiler import GPUTarget
        target = GPUTarget("xpu", job.target, 32)
        try:
            options = {k: record.decode(v, load_kernel) for k, v in data["launch_options"].items()}
        except record.RecordError as e:
            raise FillFailure(f"the record cannot be read: {e}") from None
        with environment(data["env"]):
            kernel = triton.compile(src, target=target, options=options)
        # A hit in Triton's cache is what cache_entry.cached_kernel accepted: its stage times are its own check's.
        status = PRESENT if set(kernel.metadata.stage_ms or {}) == {"cached"} else COMPILED
        if job.target == data["target"] and kernel.hash != data["key"]:
            raise FillFailure(f"compiled, but under the key {kernel.hash[:16]}, where the recording process used "
                              f"{data['key'][:16]}, so nodes like it would not use the entry: "
                              f"{_why_other_key(data, target, options)}")
        return FillResult(job, status, ms=(time.perf_counter() - start) * 1e3, key=kernel.hash)
    except KeyboardInterrupt:
        raise
    except FillFailure as e:
        return FillResult(job, reason=str(e), ms=(time.perf_counter() - start) * 1e3)
    except BaseException as e:  # a compile failure of any kind is reported, not raised, from a worker
        lines = [line for line in str(e).strip().splitlines() if line.strip()]
        text = lines[-1] if type(e).__name__ == "CompilationError" and lines else (lines[0] if lines else "")
        return FillResult(job, reason=f"{type(e).__name__}: {text}" if text else type(e).__name__,
                          ms=(time.perf_counter() - start) * 1e3)

"""Compiling every (kernel, target) pair with ``triton.compile`` -- so each target goes through the zebin stage
and its GRF policy exactly as JIT compiles do -- in parallel worker processes."""

from __future__ import annotations

import concurrent.futures
import inspect
import multiprocessing
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from triton.backends.intel.aot.kernels import KernelSpec, Options, find_kernel
from triton.backends.intel.errors import IntelBackendError

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
    spv: bytes = b""  # the SPIR-V module the zebin was compiled from (what IGC got)
    metadata: Dict[str, Any] = field(default_factory=dict)
    ms: float = 0.0
    error: Optional[str] = None  # what went wrong, the first line being the summary


_METADATA_FIELDS = ("name", "target_arch", "num_warps", "threads_per_warp", "num_stages", "shared", "grf_mode",
                    "grf_mode_requested", "build_flags", "n_regs", "spill_bytes", "scratch_bytes", "grf_attempts",
                    "native_compiler", "native_compiler_version", "keep_ir", "hash", "stage_ms", "triton_version")


def plain(value):
    """JSON-safe copy of metadata values (tuples, namedtuples, dataclasses)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return plain(value._asdict())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
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
        fields = {k: plain(metadata.get(k)) for k in _METADATA_FIELDS if k in metadata}
        return JobResult(job, zebin=bytes(kernel.asm["zebin"]), spv=bytes(kernel.asm["spv"]), metadata=fields,
                         ms=(time.perf_counter() - start) * 1e3)
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


def run_jobs(jobs: Sequence[Any], workers: int, on_event: Optional[EventHandler] = None, tick: float = 0.25,
             work: Callable[[Any], Any] = compile_job,
             crashed: Callable[[Any, str], Any] = lambda job, why: JobResult(job, error=why)) -> List[Any]:
    """Run ``work`` (default: compile a :class:`Job`) on each of ``jobs`` on ``workers`` processes (1: in this
    process); results in the order of ``jobs``.  ``crashed(job, why)`` is the result of a job whose process died.

    ``on_event(kind, payload)``: ``("done", result)`` as each job finishes, ``("tick", running jobs)``
    about every ``tick`` seconds while waiting.
    """
    notify = on_event or (lambda kind, payload: None)
    results: List[Optional[Any]] = [None] * len(jobs)
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        for i, job in enumerate(jobs):
            notify("start", job)
            results[i] = work(job)
            notify("done", results[i])
        return results  # type: ignore[return-value]
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context())
    try:
        futures = {pool.submit(work, job): i for i, job in enumerate(jobs)}
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
                    results[i] = crashed(jobs[i], "the compiler process died (crashed or was killed)")
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

"""The progress of ``triton-xpu compile`` on stderr: a line per finished (kernel, target) job, and on a terminal a
live status line naming the jobs being compiled.  (A line per job is what logs and CI keep; a progress-bar
library would add a dependency to the wheel for this one display.)"""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    """Compile progress on stderr: a line per finished job; on a terminal also a live status line."""

    def __init__(self, total: int, workers: int, stream=None, quiet: bool = False):
        self.total = total
        self.workers = workers
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.done = 0
        self.start = time.perf_counter()
        self.live = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._status = False
        self.job_ms = 0.0

    def _clear(self):
        if self._status:
            self.stream.write("\r\x1b[K")
            self._status = False

    def event(self, kind: str, payload: Any) -> None:
        if kind == "done":
            self.done += 1
            self.job_ms += payload.ms
            if self.quiet:
                return
            self._clear()
            job = payload.job
            if payload.error:
                what = f"FAILED: {without_label(payload.error.splitlines()[0], job)}"
            else:
                md = payload.metadata
                spill = md.get("spill_bytes")
                what = (f"{payload.ms / 1e3:.2f} s, grf {md.get('grf_mode')}, "
                        f"spill {'unknown' if spill is None else f'{spill} B'}, "
                        f"work-groups of {md.get('num_warps')}x{md.get('threads_per_warp')}")
            width = len(str(self.total))
            self.stream.write(f"[{self.done:>{width}}/{self.total}] {job.spec.name} for {job.target}: {what}\n")
            self.stream.flush()
        elif kind in ("start", "tick") and self.live:
            jobs = [payload] if kind == "start" else payload
            running = ", ".join(f"{j.spec.name}@{j.target}" for j in jobs[:4])
            more = f" +{len(jobs) - 4}" if len(jobs) > 4 else ""
            self._clear()
            self.stream.write(f"[{self.done}/{self.total}] {time.perf_counter() - self.start:.1f} s, "
                              f"compiling {running}{more}")
            self._status = True
            self.stream.flush()

    def finish(self) -> None:
        self._clear()
        if not self.quiet and self.total > 1:
            wall = time.perf_counter() - self.start
            self.stream.write(f"compiled {self.total} kernel-target pairs in {wall:.2f} s on {self.workers} "
                              f"process{'es' if self.workers > 1 else ''} (sum of compile times "
                              f"{self.job_ms / 1e3:.2f} s)\n")
        self.stream.flush()


def without_label(text: str, job) -> str:
    """The compiler's message without its own "KERNEL for TARGET: " prefix (the CLI adds one)."""
    for label in (f"{job.spec.kernel} for {job.target}: ", f"{job.spec.name} for {job.target}: "):
        if text.startswith(label):
            return text[len(label):]
    return text

"""Running one ocloc command line: in libocloc's resident worker process, or as the ``ocloc`` executable.

``TRITON_XPU_OCLOC_MODE=lib|subprocess|auto`` picks the way (default ``auto``: libocloc when it loads, else
the executable; an explicit ``TRITON_OCLOC_PATH`` also selects the executable).  ``TRITON_LIBOCLOC_PATH``
names the library.  Every run has a timeout (``TRITON_XPU_OCLOC_TIMEOUT``).

A run given a :class:`Cancel` token runs beside the others -- on a second libocloc worker, or in its own
ocloc process -- and ``Cancel.cancel()`` stops it (the GRF policy's speculative attempt, dropped when it is
not needed).  Killing that worker or process is the only way to stop IGC; the next such run starts another.
"""

from __future__ import annotations

import atexit
import ctypes.util
import functools
import os
import pickle
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from triton.backends.intel import knobs
from triton.backends.intel.errors import ToolNotFoundError
from triton.backends.intel.tools import env_var, find_tool

MODE_ENV = knobs.OCLOC_MODE
LIB_ENV = knobs.LIBOCLOC_PATH
MODES = ("auto", "lib", "subprocess")
INSTALL_HINT = "install it with `apt-get install intel-opencl-icd`"


# --------------------------------------------------------------------------------------------
# Choosing the way to run ocloc


def ocloc_mode() -> str:
    """``TRITON_XPU_OCLOC_MODE``, validated."""
    return knobs.choice(MODE_ENV, MODES)


class OclocCrashed(Exception):
    """libocloc's worker process died during a call; ``returncode`` is negative for a signal."""

    def __init__(self, returncode: Optional[int]):
        super().__init__(returncode)
        self.returncode = returncode


class OclocTimedOut(Exception):
    """An ocloc call did not finish within the timeout; it was stopped."""


class OclocWorkerNotStarted(Exception):
    """libocloc's worker process could not be started (the reason, as the worker or the OS gave it)."""


class OclocCancelled(Exception):
    """A run was stopped by its Cancel token; nobody wants its result."""


class Cancel:
    """Stops one run from another thread: ``cancel()`` kills the worker or process running it, now or as soon
    as the run starts.  Thread-safe; a run that already finished is left alone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop: Optional[Callable[[], None]] = None
        self.cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._stop is not None:
                self._stop()
                self._stop = None

    def attach(self, stop: Callable[[], None]) -> None:
        """The run has begun and ``stop()`` ends it; raises OclocCancelled if it was cancelled already."""
        with self._lock:
            if self.cancelled:
                raise OclocCancelled()
            self._stop = stop

    def detach(self) -> None:
        """The run is over: a later cancel() must not touch the worker, which may be running another job."""
        with self._lock:
            self._stop = None


class _Libocloc:
    """libocloc, called in a resident worker process (``ocloc_worker.py``) started on first use.

    A crash or a hang inside libocloc ends the worker, never the caller: the call raises OclocCrashed or
    OclocTimedOut and the next call starts a new worker.  Calls are serialised (ocloc keeps process-global
    state).  The worker keeps IGC loaded, so a compile costs what it costs in process plus a pipe copy.
    """

    def __init__(self, path: str, start: bool = True):
        self.path = path
        self.lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None
        self._requests = self._replies = None
        self._idle_timer: Optional[threading.Timer] = None
        self._last_run = 0.0
        if start:
            with self.lock:
                self._start()  # OSError when the library cannot be loaded
                self._arm_idle_exit()
        atexit.register(self._stop)  # the worker would exit on its own; reaping it keeps exit quiet
        _instances.add(self)

    def _forget_after_fork(self) -> None:
        """In a forked child: the worker belongs to the parent; the child starts its own when it needs one."""
        self.lock = threading.Lock()
        self._idle_timer = None  # the parent's timer thread was not forked
        for conn in (self._requests, self._replies):
            if conn is not None:
                conn.close()  # the child's copies; the parent's stay open
        self._proc = self._requests = self._replies = None

    def _start(self) -> None:
        from multiprocessing.connection import Connection
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ocloc_worker.py")
        try:
            self._proc = _spawn([sys.executable, "-I", "-S", worker, self.path, str(req_r), str(rep_w)],
                                (req_r, rep_w))
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._requests, self._replies = Connection(req_w, readable=False), Connection(rep_r, writable=False)
        try:
            status, detail = self._receive(_start_timeout())
        except (OclocCrashed, OclocTimedOut) as e:
            raise OSError(f"libocloc's worker process did not start ({type(e).__name__})") from None
        if status != "ready":
            self._stop()
            raise OSError(detail)

    def _stop(self) -> Optional[int]:
        for conn in (self._requests, self._replies):
            if conn is not None:
                conn.close()
        self._requests = self._replies = None
        code = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            code = self._proc.wait()
            self._proc = None
        return code

    def _receive(self, timeout: float):
        try:
            ready = self._replies.poll(timeout)
        except (EOFError, OSError):
            ready = True
        if not ready:
            self._stop()
            raise OclocTimedOut()
        try:
            return pickle.loads(self._replies.recv_bytes())
        except (EOFError, OSError):
            raise OclocCrashed(self._stop()) from None

    def _arm_idle_exit(self) -> None:
        """After a run (the lock held): stop the worker once it has been idle for idle_timeout() seconds.  IGC
        keeps ~120-190 MB resident in it; a process that compiles now and then should not keep that."""
        self._last_run = time.monotonic()
        idle = idle_timeout()
        if idle is not None and self._idle_timer is None:  # else kept for good, or a timer re-checks the time
            self._wait_idle(idle)

    def _wait_idle(self, seconds: float) -> None:
        self._idle_timer = threading.Timer(seconds, self._exit_if_idle)
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _exit_if_idle(self) -> None:
        with self.lock:  # never while a run is going on: runs hold the lock
            self._idle_timer = None
            idle = idle_timeout()
            if self._proc is None or idle is None:
                return
            left = self._last_run + idle - time.monotonic()
            if left > 0:  # used again since the timer was set: wait out the rest
                self._wait_idle(left)
            else:
                self._stop()  # the next run starts a new worker

    def kill(self) -> None:
        """Kill the worker from any thread; the call waiting on it sees it die (OclocCrashed)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def run(self, args: Sequence[str], sources: Dict[str, bytes], timeout: Optional[float] = None,
            cancel: Optional[Cancel] = None) -> Tuple[int, Dict[str, bytes]]:
        """oclocInvoke(["ocloc", *args]) with in-memory ``sources``; returns (code, {output name: bytes})."""
        with self.lock:
            if cancel is not None:
                cancel.attach(self.kill)  # from here on, also a worker still starting
            try:
                if self._proc is not None and self._proc.poll() is not None:
                    self._stop()  # died while idle (killed from outside): start another
                if self._proc is None:
                    try:
                        self._start()
                    except OSError as e:
                        raise OclocWorkerNotStarted(str(e)) from None
                if cancel is not None and cancel.cancelled:  # cancelled before the worker existed
                    raise OclocCancelled()
                try:
                    self._requests.send_bytes(pickle.dumps((list(args), dict(sources))))
                except OSError:
                    raise OclocCrashed(self._stop()) from None
                code, outputs, printed = self._receive(timeout if timeout is not None else compile_timeout())
            finally:
                if cancel is not None:
                    cancel.detach()
                if self._proc is not None:
                    self._arm_idle_exit()
        # On failure libocloc printf()s "Command was: ..." to stdout; that echo is dropped (the repro command
        # says the same), anything else it printed is passed on.
        rest = "".join(line for line in printed.splitlines(keepends=True) if not line.startswith("Command was:"))
        if rest:
            os.write(1, rest.encode())
        return code, outputs


_spawner: Optional[ThreadPoolExecutor] = None
_spawner_lock = threading.Lock()
_instances: "weakref.WeakSet[_Libocloc]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    global _spawner, _spawner_lock
    _spawner, _spawner_lock = None, threading.Lock()  # the spawner thread was not forked
    for lib in list(_instances):
        lib._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _spawn(argv: List[str], pass_fds: Tuple[int, ...]) -> subprocess.Popen:
    """Start a worker process from one thread that lives as long as this process.  The worker asks to be
    killed when its parent dies (PR_SET_PDEATHSIG), and Linux sends that signal when the *thread* that
    started it ends: a worker started by a short-lived thread (a compile in a thread pool, the early GRF
    attempt) would die with that thread."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triton-xpu ocloc spawner")
    return _spawner.submit(subprocess.Popen, argv, pass_fds=pass_fds, stdin=subprocess.DEVNULL,
                           close_fds=True).result()


TIMEOUT_ENV = knobs.OCLOC_TIMEOUT
DEFAULT_TIMEOUT_S = 900.0  # IGC takes minutes for the largest Triton kernels on 2 cores (attention on acm-g10)


def compile_timeout() -> float:
    """Seconds one ocloc run may take (``TRITON_XPU_OCLOC_TIMEOUT``, default 900)."""
    return knobs.number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S, "a positive number of seconds", valid=lambda s: s > 0)


IDLE_ENV = knobs.OCLOC_IDLE_TIMEOUT
DEFAULT_IDLE_S = 30.0


def idle_timeout() -> Optional[float]:
    """Seconds a libocloc worker stays after its last run (``TRITON_XPU_OCLOC_IDLE_TIMEOUT``, default 30; 0
    keeps it for the life of the process)."""
    seconds = knobs.number(IDLE_ENV, DEFAULT_IDLE_S, "a number of seconds (0: keep the worker for the life of "
                           "the process)", valid=lambda s: s >= 0)
    return seconds or None


QUERY_TIMEOUT_S = 60.0  # a version query answers in milliseconds


def query_timeout() -> float:
    return min(compile_timeout(), QUERY_TIMEOUT_S)


def hang_error(shown: str, timeout: float) -> ToolNotFoundError:
    return ToolNotFoundError(f"{shown} did not answer within {timeout:g} s and was stopped: the installed ocloc "
                             f"hangs; reinstall intel-opencl-icd or raise {TIMEOUT_ENV}")


def _start_timeout() -> float:
    return min(compile_timeout(), 120.0)


@functools.lru_cache(maxsize=None)
def _load_libocloc(path: str) -> _Libocloc:
    return _Libocloc(path)


@functools.lru_cache(maxsize=None)
def _spare_libocloc(path: str) -> _Libocloc:
    """A second worker for the same library (which the main one loaded): runs that may be cancelled go there,
    beside the main one.  It starts with its first run, so that a cancel also stops its start."""
    return _Libocloc(path, start=False)


@functools.lru_cache(maxsize=None)
def _first_loadable(candidates: Tuple[str, ...]) -> Tuple[Optional[_Libocloc], List[str]]:
    """The first candidate libocloc that loads, and why the others did not (remembered: each try starts a
    worker process)."""
    errors = []
    for name in candidates:
        try:
            return _load_libocloc(name), errors
        except OSError as e:
            errors.append(f"{name}: {e}")
    return None, errors


def _libocloc_candidates() -> List[str]:
    override = os.environ.get(LIB_ENV)
    if override:
        return [override]
    found = ctypes.util.find_library("ocloc")
    return [name for name in ("libocloc.so", found, "libocloc.so.1") if name]


def load_libocloc() -> _Libocloc:
    """libocloc (in its worker process), or ToolNotFoundError saying why it could not be loaded."""
    lib, errors = _first_loadable(tuple(_libocloc_candidates()))
    if lib is not None:
        return lib
    raise ToolNotFoundError(f"libocloc could not be loaded ({'; '.join(errors)}); {INSTALL_HINT}, "
                            f"set {LIB_ENV} to its path, or set {MODE_ENV}=subprocess to run the ocloc executable")


def find_ocloc() -> str:
    """The ocloc executable (tools.find_tool), the error always carrying the install hint."""
    try:
        return find_tool("ocloc")
    except ToolNotFoundError as e:
        if "apt-get install" in str(e):
            raise
        raise ToolNotFoundError(f"{e}; ocloc comes with intel-opencl-icd (`apt-get install intel-opencl-icd`)") \
            from None


def choose_runner(spare: bool = False) -> Tuple[str, Optional[_Libocloc], str]:
    """(way, lib, exe) for the current environment: ("libocloc", lib, "ocloc") or ("subprocess", None, the
    executable's path); ToolNotFoundError when the chosen way has no ocloc.  ``spare``: libocloc's second
    worker, for runs beside the main one."""
    mode = ocloc_mode()
    lib = None
    if mode == "lib":
        lib = load_libocloc()
    elif mode == "auto" and not os.environ.get(env_var("ocloc")):  # unless the user picked an executable
        try:
            lib = load_libocloc()
        except ToolNotFoundError:
            pass
    if lib is None:
        return "subprocess", None, find_ocloc()
    return "libocloc", _spare_libocloc(lib.path) if spare else lib, "ocloc"


# --------------------------------------------------------------------------------------------
# Running one command line


@dataclass
class Run:
    code: int  # oclocInvoke's result, or the process's return code (negative: killed by that signal)
    outputs: Dict[str, bytes]  # output file name -> contents (the build log excluded)
    log: str
    died: bool = False  # the process running ocloc ended abnormally (code: its status, negative for a signal)


def _log_text(raw: bytes) -> str:
    # libocloc 26.x ends its build log with a NUL byte.
    return raw.decode(errors="replace").rstrip("\0")


def run_lib(lib: _Libocloc, args: List[str], sources: Dict[str, bytes], timeout: float,
            cancel: Optional[Cancel] = None) -> Run:
    try:
        code, outputs = lib.run(args, sources, timeout, cancel)
    except OclocWorkerNotStarted as e:
        if cancel is not None and cancel.cancelled:
            raise OclocCancelled() from None
        raise ToolNotFoundError(f"libocloc's worker process could not be started ({e}); the library this process "
                                f"loaded earlier ({lib.path}) may have been removed or replaced: reinstall "
                                f"intel-opencl-icd and restart the process, or set {MODE_ENV}=subprocess") from None
    except OclocCrashed as e:
        if cancel is not None and cancel.cancelled:
            raise OclocCancelled() from None
        return Run(e.returncode if e.returncode is not None else -1, {}, "", died=True)
    log = without_command_echo(_log_text(outputs.pop("stdout.log", b"")))
    return Run(code, outputs, log)


def run_subprocess(exe: str, args: List[str], sources: Dict[str, bytes], timeout: float,
                   cancel: Optional[Cancel] = None) -> Run:
    """The executable in a temporary directory holding ``sources``; a compile writes there (-out_dir), a
    query writes to its working directory."""
    with tempfile.TemporaryDirectory(prefix="triton-ocloc-") as tmp:
        for name, data in sources.items():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data)
        out_dir = ["-out_dir", tmp] if args[:1] == ["compile"] else []
        with subprocess.Popen([exe, *args, *out_dir], cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) as proc:
            try:
                if cancel is not None:
                    cancel.attach(proc.kill)
                stdout, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise OclocTimedOut() from None
            except OclocCancelled:
                proc.kill()
                raise
            finally:
                if cancel is not None:
                    cancel.detach()
        if cancel is not None and cancel.cancelled:
            raise OclocCancelled()
        outputs = {}
        for name in os.listdir(tmp):
            path = os.path.join(tmp, name)
            if name not in sources and os.path.isfile(path):
                with open(path, "rb") as f:
                    outputs[name] = f.read()
    return Run(proc.returncode, outputs, without_command_echo(_log_text(stdout)), died=proc.returncode < 0)


def run(lib: Optional[_Libocloc], exe: str, args: List[str], sources: Dict[str, bytes], timeout: float,
        cancel: Optional[Cancel] = None) -> Run:
    """One command line, the given way; OclocTimedOut after ``timeout``, OclocCancelled when cancelled."""
    if lib is not None:
        return run_lib(lib, args, sources, timeout, cancel)
    return run_subprocess(exe, args, sources, timeout, cancel)


def shown_command(lib: Optional[_Libocloc], exe: str, args: Sequence[str]) -> str:
    """A command as the error messages show it: `ocloc ARGS` (libocloc PATH), or `EXE ARGS`."""
    if lib is not None:
        return f"`{shlex.join(['ocloc', *args])}` (libocloc {lib.path})"
    return f"`{shlex.join([exe, *args])}`"


def short_job(args: Sequence[str], sources: Optional[Dict[str, bytes]] = None) -> Tuple[str, Run]:
    """Run a short ocloc job -- a query, ``ids``, a capability probe -- the way compiles run (libocloc's
    worker or the executable) under the query timeout: (the command as shown in messages, its result).
    ToolNotFoundError when there is no ocloc, or when it hangs (naming the command and the timeout)."""
    _, lib, exe = choose_runner()
    shown = shown_command(lib, exe, args)
    try:
        return shown, run(lib, exe, list(args), dict(sources or {}), query_timeout())
    except OclocTimedOut:
        raise hang_error(shown, query_timeout()) from None


def without_command_echo(log: str) -> str:
    """ocloc's log without its "Command was: ..." echo (naming a temporary directory), so that both
    ways of running ocloc give the same log."""
    return "".join(line for line in log.splitlines(keepends=True) if not line.startswith("Command was:"))


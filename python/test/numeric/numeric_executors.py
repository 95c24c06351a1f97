"""Two executors behind one interface for the numeric suite: launch a Triton kernel as its users do,
``fn[grid](*args, **kwargs)``, with NumPy arrays in and out, through the project's real backend, driver and
launcher.

* :class:`GpuExecutor` -- on a real Intel GPU: the kernel's native binary, compiled for the device's own target,
  loaded and launched by the project's driver on its Level Zero launcher.  Chosen whenever the driver reports a
  real, non-emulated device; the numeric tests are never skipped there.
* :class:`SyclCpuExecutor` -- everywhere else (here, CI): the project's driver and its C++ SYCL launcher -- the
  path PyTorch's queues take -- on a SYCL queue of Intel's CPU OpenCL device from PyPI (``intel-opencl-rt`` under
  ``intel-sycl-rt``/dpctl), with that queue's USM memory.  The one step a CPU cannot take, running native GPU code,
  is replaced by a kernel built from the same compile's SPIR-V (cpu_queue_child.py says how).  The SPIR-V is edited
  first (:func:`strip_kernel_attributes`): that runtime refuses the ``KernelAttributesINTEL`` capability Triton's
  modules declare.  DPAS builtins and 2D block IO do not exist on the CPU, so kernels that would use them run on an
  emulated target without them (:data:`CPU_DOT_TARGET`).

The launch itself -- argument specialisation (divisibility by 16, ints equal to 1), the signature's runtime
arguments in order, the shared-memory argument, the work-group of ``num_warps * threads_per_warp`` and the grid in
work-groups -- is the project's, never re-stated here.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np


# The target the CPU executor compiles kernels that use tl.dot or block pointers for: Xe-LP (Tiger Lake) has no
# DPAS and no 2D block IO (targets.py), so the backend lowers tl.dot to FMAs and block pointers to ordinary
# loads and stores -- code the CPU runtime can run.  Everything else is compiled for pvc, the main target.
CPU_TARGET = "pvc"
CPU_DOT_TARGET = "tgllp"

EXECUTOR_ENV = "TRITON_XPU_NUMERIC_EXECUTOR"  # "gpu" or "cpu": force one (default: gpu when a real GPU is present)


# --- the SPIR-V edit the CPU runtime needs ---------------------------------------------------------------------------

_OP_EXTENSION, _OP_EXECUTION_MODE, _OP_CAPABILITY = 10, 16, 17
_CAP_KERNEL_ATTRIBUTES = 5892  # KernelAttributesINTEL (SPV_INTEL_kernel_attributes)
_CAP_FPGA_KERNEL_ATTRIBUTES = 5897  # FPGAKernelAttributesINTEL, the extension's other capability
# Execution modes whose only enabling capability is KernelAttributesINTEL: MaxWorkgroupSizeINTEL, MaxWorkDimINTEL,
# NoGlobalOffsetINTEL (SPV_INTEL_kernel_attributes).
_MODES_OF_KERNEL_ATTRIBUTES = {5893, 5894, 5895}
_EXTENSION = "SPV_INTEL_kernel_attributes"


def _literal_string(operands: Sequence[int]) -> str:
    return struct.pack(f"<{len(operands)}I", *operands).split(b"\0", 1)[0].decode("utf-8", errors="replace")


def strip_kernel_attributes(spirv: bytes) -> bytes:
    """``spirv`` without the ``KernelAttributesINTEL`` capability and what needs it, which Intel's CPU OpenCL
    runtime refuses: the execution modes it enables (Triton emits ``MaxWorkgroupSizeINTEL``), and the
    ``SPV_INTEL_kernel_attributes`` extension unless its FPGA capability stays.

    A word-level rewrite (SPIRV-Tools' optimizer has no pass that drops a capability still in use): whole
    instructions are removed from the stream, nothing else changes; no result ids are defined by the removed
    instructions, so the header's id bound stays valid.  The work-group size limit those modes state is kept by
    the launch contract itself (the launcher's group size), so nothing the kernel relies on is lost."""
    from triton.backends.intel import spirv as spv
    header, kept, caps = spirv[:20], [], set()
    parsed = list(spv.instructions(spirv))
    for _, opcode, ops in parsed:
        if opcode == _OP_CAPABILITY:
            caps.add(ops[0])
    keep_extension = _CAP_FPGA_KERNEL_ATTRIBUTES in caps
    for offset, opcode, ops in parsed:
        size = 4 * (len(ops) + 1)
        if opcode == _OP_CAPABILITY and ops[0] == _CAP_KERNEL_ATTRIBUTES:
            continue
        if opcode == _OP_EXECUTION_MODE and len(ops) >= 2 and ops[1] in _MODES_OF_KERNEL_ATTRIBUTES:
            continue
        if opcode == _OP_EXTENSION and not keep_extension and _literal_string(ops) == _EXTENSION:
            continue
        kept.append(spirv[offset:offset + size])
    return header + b"".join(kept)


# --- arguments and results -----------------------------------------------------------------------------------------


@dataclass
class Typed:
    """A NumPy array passed as a pointer to ``dtype`` (Triton's name, e.g. "bfloat16" for uint16 bit patterns or
    "float8e5" for uint8 ones: NumPy has no such types).  Plain arrays pass as their own dtype."""

    array: np.ndarray
    dtype: str


@dataclass(frozen=True)
class LaunchInfo:
    """What the launch compiled and ran: the kernel's name, the signature and attributes Triton's specialisation
    chose (``{"x_ptr": "*fp32", "n": "i32", "BLOCK": "constexpr", ...}``, ``{(0,): [["tt.divisibility", 16]]}``)
    and its launch metadata."""

    name: str
    signature: Dict[str, str]
    attrs: Dict[Any, Any]
    shared: int
    num_warps: int
    threads_per_warp: int
    fast_launch: bool = False  # launched by the native dispatcher (runtime/fast_launch.py), not JITFunction.run

    @classmethod
    def of(cls, compiled, fast_launch: bool = False) -> "LaunchInfo":
        """What the CompiledKernel that ``fn[grid](...)`` returned was compiled and launched with."""
        md = compiled.metadata
        return cls(md.name, dict(compiled.src.signature), dict(compiled.src.attrs), md.shared, md.num_warps,
                   md.threads_per_warp, fast_launch)

    def divisible_by_16(self) -> List[str]:
        """The arguments Triton specialised as divisible by 16 (pointers aligned, ints multiples of 16)."""
        names = list(self.signature)
        return [names[path[0]] for path, attrs in self.attrs.items() if ["tt.divisibility", 16] in attrs]


def typed(arg: Any) -> Any:
    return Typed(arg, arg.dtype.name) if isinstance(arg, np.ndarray) else arg


# --- the executors -------------------------------------------------------------------------------------------


class Executor:
    """``run(fn, grid, args, uses_dot=False, **kwargs)``: ``fn[grid](*args, **kwargs)`` with NumPy arrays (or
    :class:`Typed` ones) for the pointer arguments, copied in and back into the same arrays, and Python scalars for
    the rest.  ``uses_dot``: the kernel has ``tl.dot`` or block pointers (DPAS / 2D block IO where the target has
    them).  Returns the :class:`LaunchInfo`."""

    name = "?"

    def run(self, fn, grid: Sequence[int], args: Sequence[Any], uses_dot: bool = False, **kwargs) -> LaunchInfo:
        raise NotImplementedError


class GpuExecutor(Executor):
    """The native binary through the project's own driver, on the real device."""

    name = "gpu"

    def __init__(self, allow_emulated: bool = False):
        """``allow_emulated``: for the executor's own test only -- on NEO's emulated device every driver call runs
        but kernels do not execute, so results are meaningless there."""
        from triton.runtime.driver import driver
        self.driver = driver.active
        props = self.driver.get_device_properties()
        if props.get("emulated") and not allow_emulated:
            # Never a silent fallback: on a machine with a GPU these tests must run on it.
            raise RuntimeError("an Intel GPU is present but the project's driver reports an emulated device "
                               "(TRITON_XPU_EMULATE is set): unset it so the numeric suite runs on the GPU")
        self.device_name = props.get("name", "?")

    def run(self, fn, grid, args, uses_dot=False, **kwargs):
        # Twice, as the CPU executor does (cpu_queue_child.run): the second launch, on fresh copies, is checked.
        from triton.backends.intel.runtime import fast_launch
        self._launch(fn, grid, args, kwargs)
        hits = fast_launch.hits(fn)
        compiled, buffers = self._launch(fn, grid, args, kwargs)
        for i, buf in buffers.items():
            out = args[i].array if isinstance(args[i], Typed) else args[i]
            out.reshape(-1).view(np.uint8)[:] = buf.view("uint8").numpy()[:out.nbytes]
        return LaunchInfo.of(compiled, fast_launch=fast_launch.hits(fn) > hits)

    def _launch(self, fn, grid, args, kwargs):
        buffers, call = {}, []
        for i, arg in enumerate(map(typed, args)):
            if isinstance(arg, Typed):
                data = np.ascontiguousarray(arg.array)
                buf = self.driver.alloc(max(data.nbytes, 1), "shared", dtype=arg.dtype)
                buf.view("uint8").numpy()[:data.nbytes] = data.reshape(-1).view(np.uint8)
                buffers[i] = buf
                call.append(buf)
            else:
                call.append(arg)
        compiled = fn[tuple(grid)](*call, **kwargs)
        self.driver.synchronize()
        return compiled, buffers


def opencl_runtime_library() -> Optional[str]:
    """The path of the ``intel-opencl-rt`` wheel's ``libintelocl.so``, None if the wheel is not installed.  The wheel
    installs it into the environment's ``lib/``; its own ``intel-cpu.icd`` names a build machine's path."""
    import importlib.metadata as md
    try:
        dist = md.distribution("intel-opencl-rt")
    except md.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if os.path.basename(str(f)) == "libintelocl.so":
            path = os.path.realpath(str(dist.locate_file(f)))
            if os.path.isfile(path):
                return path
    return None


class CpuUnavailable(RuntimeError):
    """The CPU executor cannot run here, and why."""


class ExecutorChildError(RuntimeError):
    """The executor's child process died or broke the protocol."""


class SyclCpuExecutor(Executor):
    """Launches on a SYCL queue of Intel's CPU OpenCL device, in one child process per emulated target (the driver
    needs a device for ``get_current_target`` and to load the zebin; NEO's variables are read once per process):
    cpu_queue_child.py.  Children are started on first use and kept for the session."""

    name = "cpu"
    _children: Dict[str, "_Child"] = {}  # emulated target -> child, shared by every instance

    def target_name(self, uses_dot: bool) -> str:
        return CPU_DOT_TARGET if uses_dot else CPU_TARGET

    def child(self, target: str) -> "_Child":
        child = self._children.get(target)
        if child is None or not child.alive():
            child = self._children[target] = _Child(target)
        return child

    def device_name(self) -> str:
        return self.child(CPU_TARGET).device

    def run(self, fn, grid, args, uses_dot=False, **kwargs):
        target = self.target_name(uses_dot)
        args = [typed(a) for a in args]
        request = {"module": os.path.abspath(sys.modules[fn.fn.__module__].__file__), "function": fn.fn.__name__,
                   "grid": tuple(grid), "args": args, "kwargs": kwargs}
        arrays, info = self.child(target).call(request)
        for arg, out in zip([a for a in args if isinstance(a, Typed)], arrays):
            arg.array[...] = out
        return info


    def build(self, spirv: bytes, name: str, target: str = CPU_TARGET) -> None:
        """Build kernel ``name`` of ``spirv`` as it is for the CPU device, without launching it; raises what the
        runtime said when it does not build."""
        self.child(target).call({"spirv": spirv, "name": name})


class _Child:
    """One cpu_queue_child.py process: requests and answers pickled over two pipes."""

    def __init__(self, target: str):
        import subprocess
        from multiprocessing.connection import Connection
        self.target = target
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ, TRITON_XPU_EMULATE=target, ONEAPI_DEVICE_SELECTOR="opencl:cpu",
                   PYTHONWARNINGS="ignore::RuntimeWarning")
        library = opencl_runtime_library()
        if library is not None:
            # Intel's ICD loader reads OCL_ICD_FILENAMES; only the CPU runtime (not NEO's GPU ICD) is offered.
            env["OCL_ICD_FILENAMES"] = library
            env.pop("OCL_ICD_VENDORS", None)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu_queue_child.py")
        # Its stderr to a file, not a pipe: a session's worth of runtime messages would fill a pipe and block it.
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, script, str(to_child_r), str(from_child_w)],
                                        pass_fds=(to_child_r, from_child_w), env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=self.stderr)
        os.close(to_child_r)
        os.close(from_child_w)
        self.requests, self.answers = Connection(to_child_w, readable=False), Connection(from_child_r, writable=False)
        status, detail = self._receive()
        if status != "ready":
            self.close()
            raise CpuUnavailable(detail)
        self.device = detail

    def alive(self) -> bool:
        return self.process.poll() is None

    def _receive(self):
        import pickle
        try:
            return pickle.loads(self.answers.recv_bytes())
        except (EOFError, OSError):
            self.process.wait(timeout=60)
            self.stderr.seek(0)
            stderr = self.stderr.read().decode(errors="replace")[-3000:]
            raise ExecutorChildError(f"the CPU executor's child for {self.target} exited with status "
                                     f"{self.process.returncode}: {stderr}") from None

    def call(self, request):
        import pickle
        try:
            self.requests.send_bytes(pickle.dumps(request))
        except OSError:
            pass  # the child is gone: _receive says how it ended
        answer = self._receive()
        if answer[0] == "ok":
            return answer[1], answer[2]
        _, kind, message, trace = answer
        raise RuntimeError(f"{kind} in the CPU executor's child ({self.target}): {message}\n{trace}")

    def close(self) -> None:
        for conn in (self.requests, self.answers):
            conn.close()
        try:
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()


# --- selection ------------------------------------------------------------------------------------------------


def real_gpu_present() -> bool:
    """Whether this machine has an Intel GPU the project's driver would use: an Intel render node (the driver's own
    test, made without any Level Zero call).  Emulation (TRITON_XPU_EMULATE) does not count."""
    from triton.backends.intel.runtime import level_zero
    return bool(level_zero.intel_render_nodes())


def select_executor_kind(gpu_present: Optional[bool] = None, forced: Optional[str] = None) -> str:
    """"gpu" where a real Intel GPU is present (the suite must run there, never skip), else "cpu";
    ``TRITON_XPU_NUMERIC_EXECUTOR`` (``forced``) picks one explicitly."""
    forced = os.environ.get(EXECUTOR_ENV, "").strip().lower() if forced is None else forced
    if forced:
        if forced not in ("gpu", "cpu"):
            raise ValueError(f"{EXECUTOR_ENV}={forced!r}: choose gpu or cpu")
        return forced
    return "gpu" if (real_gpu_present() if gpu_present is None else gpu_present) else "cpu"


def make_executor(kind: str) -> Executor:
    return GpuExecutor() if kind == "gpu" else SyclCpuExecutor()

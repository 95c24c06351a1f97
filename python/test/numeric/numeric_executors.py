"""Two executors behind one interface for the numeric suite: compile a Triton kernel with the project's real backend,
run it on NumPy arrays, and hand the arrays back.

* :class:`GpuExecutor` -- on a real Intel GPU: the kernel's native binary (``asm["zebin"]``), compiled for the
  device's own target, loaded and launched by the project's driver (``CompiledKernel[grid](...)``, i.e.
  ``XPUUtils.load_binary`` and ``XPULauncher``).  Chosen whenever the driver reports a real, non-emulated device;
  the numeric tests are never skipped there.
* :class:`CpuOpenCLExecutor` -- everywhere else (here, CI): the same kernel's SPIR-V (``asm["spv"]``) on Intel's CPU
  OpenCL runtime from PyPI (``intel-opencl-rt``), driven by pyopencl through its bundled ICD loader.  The SPIR-V is
  edited first (:func:`strip_kernel_attributes`): that runtime refuses the ``KernelAttributesINTEL`` capability
  Triton's modules declare for their ``MaxWorkgroupSizeINTEL`` execution mode.  DPAS builtins and 2D block IO do
  not exist on the CPU, so kernels that would use them are compiled for a target without them
  (:data:`CPU_DOT_TARGET`).

Both launch with the project's own launch contract, written once in :class:`LaunchContract` from the project's
launcher (``XPULauncher``): the runtime arguments are the signature's non-constexpr ones in order, converted by the
launcher's kinds; a kernel with ``metadata.shared > 0`` takes that many bytes of local memory as one more, last
argument; the work-group is ``num_warps * threads_per_warp`` work items in x, and the grid counts work-groups.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

# The target the CPU executor compiles kernels that use tl.dot or block pointers for: Xe-LP (Tiger Lake) has no
# DPAS and no 2D block IO (targets.py), so the backend lowers tl.dot to FMAs and block pointers to ordinary
# loads and stores -- code the CPU runtime can run.  Everything else is compiled for pvc, the main target.
CPU_TARGET = "pvc"
CPU_DOT_TARGET = "tgllp"

EXECUTOR_ENV = "TRITON_XPU_NUMERIC_EXECUTOR"  # "gpu" or "cpu": force one (default: gpu when a real GPU is present)


# --- the launch contract ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchContract:
    """How the project's launcher launches one compiled kernel, from the launcher itself (``XPULauncher``)."""

    keep: Tuple[int, ...]  # indices of the signature's runtime (non-constexpr) arguments
    kinds: Tuple[str, ...]  # the launcher's kind of each ("ptr", "i32", "fp32", ...)
    group_size: Tuple[int, int, int]  # work items per work-group: (num_warps * threads_per_warp, 1, 1)
    shared: int  # bytes of local memory passed as one extra, last argument (0: no such argument)

    @classmethod
    def of(cls, kernel) -> "LaunchContract":
        from triton.backends.intel.driver import XPULauncher
        launcher = XPULauncher(kernel.src, kernel.metadata)
        return cls(tuple(launcher.keep), tuple(launcher.kinds), tuple(launcher.group_size), int(launcher.shared))

    def global_size(self, grid: Sequence[int]) -> Tuple[int, int, int]:
        """Work items per dimension: the grid counts work-groups (zeCommandListAppendLaunchKernel's group count)."""
        grid = tuple(grid) + (1, ) * (3 - len(grid))
        return tuple(g * s for g, s in zip(grid, self.group_size))


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


# --- compiling ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kernel:
    """A Triton kernel to compile ahead of time: its function, signature (runtime arguments' types) and constexprs."""

    fn: Any
    signature: Dict[str, str]
    constexprs: Dict[str, Any]
    options: Tuple[Tuple[str, Any], ...] = ()
    uses_dot: bool = False  # tl.dot or block pointers: DPAS / 2D block IO on the GPU targets that have them

    def source(self) -> ASTSource:
        import kernels  # examples/kernels.py, on the tests' path
        return kernels.ast_source(self.fn, self.signature, self.constexprs)

    def compile(self, target: GPUTarget):
        return triton.compile(self.source(), target=target, options=dict(self.options))


# --- the executors -------------------------------------------------------------------------------------------


class Executor:
    """``run(kernel, grid, args)``: compile ``kernel``, launch it over ``grid`` with ``args`` (NumPy arrays for the
    pointer arguments, in and out; Python scalars for the rest, in signature order without constexprs), then copy
    every array back from the device into the same NumPy array.  Returns the compiled kernel."""

    name = "?"

    def target(self, kernel: Kernel) -> GPUTarget:
        raise NotImplementedError

    def compile(self, kernel: Kernel):
        return kernel.compile(self.target(kernel))

    def run(self, kernel: Kernel, grid: Sequence[int], args: Sequence[Any]):
        compiled = self.compile(kernel)
        contract = LaunchContract.of(compiled)
        if len(args) != len(contract.kinds):
            raise TypeError(f"{compiled.metadata.name} takes {len(contract.kinds)} runtime arguments, got {len(args)}")
        for i, (kind, arg) in enumerate(zip(contract.kinds, args)):
            if (kind == "ptr") != isinstance(arg, np.ndarray):
                raise TypeError(f"argument {i}: kind {kind} needs {'a NumPy array' if kind == 'ptr' else 'a scalar'}")
        self._launch(compiled, contract, tuple(grid) + (1, ) * (3 - len(grid)), list(args))
        return compiled

    def _launch(self, compiled, contract: LaunchContract, grid: Tuple[int, int, int], args: List[Any]) -> None:
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

    def target(self, kernel: Kernel) -> GPUTarget:
        return self.driver.get_current_target()

    def _launch(self, compiled, contract, grid, args):
        buffers = {}
        call = []
        for i, arg in enumerate(args):
            if isinstance(arg, np.ndarray):
                buf = self.driver.alloc(max(arg.nbytes, 1), "shared")
                buf.numpy()[:arg.nbytes] = np.ascontiguousarray(arg).view(np.uint8).reshape(-1)
                buffers[i] = buf
                call.append(buf)
            else:
                call.append(arg)
        compiled[grid](*call)
        self.driver.synchronize()
        for i, buf in buffers.items():
            args[i].reshape(-1).view(np.uint8)[:] = buf.numpy()[:args[i].nbytes]


# NumPy scalar type for each launcher kind that is not a pointer (the launcher's conversion: launch_args.h).
_SCALAR_TYPES = {"i1": np.int8, "u1": np.uint8, "i8": np.int8, "u8": np.uint8, "i16": np.int16, "u16": np.uint16,
                 "i32": np.int32, "u32": np.uint32, "i64": np.int64, "u64": np.uint64, "fp16": np.float16,
                 "fp32": np.float32, "fp64": np.float64}


def _bf16_bits(x: float) -> np.uint16:
    bits = int(np.array(x, np.float32).view(np.uint32))
    bits += 0x7FFF + ((bits >> 16) & 1)  # round to nearest even (NaN is not a kernel argument here)
    return np.uint16(bits >> 16)


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


class CpuOpenCLExecutor(Executor):
    """The kernel's SPIR-V on Intel's CPU OpenCL runtime, through pyopencl."""

    name = "cpu"
    _state: Optional[Tuple[Any, Any, Any]] = None  # (pyopencl, context, queue), shared by every instance

    def __init__(self):
        cl, self.context, self.queue = self._open()
        self.cl = cl
        self.device = self.context.devices[0]

    @classmethod
    def _open(cls):
        if cls._state is not None:
            return cls._state
        library = opencl_runtime_library()
        if library is None:
            raise CpuUnavailable("Intel's CPU OpenCL runtime is not installed (pip install -r requirements-numeric.txt)")
        # pyopencl's bundled ocl-icd reads OCL_ICD_VENDORS (a folder of .icd files, or one ICD library) when the
        # first OpenCL call initialises it; it does not read OCL_ICD_FILENAMES.  Only this library: the system's
        # /etc/OpenCL/vendors (NEO's GPU ICD in the toolchains) is not consulted.
        try:
            import pyopencl as cl
        except ImportError as e:
            raise CpuUnavailable(f"pyopencl is not installed ({e}; it needs Python >= 3.10)") from None
        previous = os.environ.get("OCL_ICD_VENDORS")
        os.environ["OCL_ICD_VENDORS"] = library
        try:
            platforms = cl.get_platforms()  # the loader reads the variable here, once per process
        finally:  # child processes of other tests do not inherit it
            if previous is None:
                del os.environ["OCL_ICD_VENDORS"]
            else:
                os.environ["OCL_ICD_VENDORS"] = previous
        devices = [d for p in platforms for d in p.get_devices(cl.device_type.CPU)]
        if not devices:
            raise CpuUnavailable(f"no CPU OpenCL device from {library} (platforms: {[p.name for p in platforms]})")
        context = cl.Context(devices[:1])
        cls._state = (cl, context, cl.CommandQueue(context))
        return cls._state

    def target(self, kernel: Kernel) -> GPUTarget:
        return GPUTarget("xpu", CPU_DOT_TARGET if kernel.uses_dot else CPU_TARGET, 32)

    def program(self, compiled):
        """The kernel's SPIR-V, edited for the CPU runtime and built there."""
        import warnings
        with warnings.catch_warnings():  # the runtime's vectorizer remarks: pyopencl warns of any build output
            warnings.simplefilter("ignore", self.cl.CompilerWarning)
            return self.cl.Program(self.context, strip_kernel_attributes(compiled.asm["spv"])).build()

    def _launch(self, compiled, contract, grid, args):
        cl = self.cl
        kernel = getattr(self.program(compiled), compiled.metadata.name)
        values, buffers = [], {}
        for i, (kind, arg) in enumerate(zip(contract.kinds, args)):
            if kind == "ptr":
                buf = cl.Buffer(self.context, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR,
                                hostbuf=np.ascontiguousarray(arg)) if arg.nbytes else None
                buffers[i] = buf
                values.append(buf)
            elif kind == "bf16":
                values.append(_bf16_bits(arg))
            else:
                values.append(_SCALAR_TYPES[kind](arg))
        if contract.shared:
            values.append(cl.LocalMemory(contract.shared))
        kernel.set_args(*values)
        cl.enqueue_nd_range_kernel(self.queue, kernel, contract.global_size(grid), contract.group_size)
        for i, buf in buffers.items():
            if buf is not None:
                out = np.empty_like(args[i])
                cl.enqueue_copy(self.queue, out, buf)
                args[i][...] = out
        self.queue.finish()


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
    return GpuExecutor() if kind == "gpu" else CpuOpenCLExecutor()

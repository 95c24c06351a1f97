"""The CPU executor's child process: ``fn[grid](...)`` launched by the project's own driver and SYCL launcher on a
SYCL queue of Intel's CPU OpenCL device (numeric_executors.SyclCpuExecutor starts it and talks to it).

What runs here is what a PyTorch user's launch runs -- Triton 3.3's JIT (binding, specialisation, cache), the
project's backend (down to the zebin, loaded by the driver into the emulated GPU of ``TRITON_XPU_EMULATE``), the
driver's ``XPULauncher.__call__`` and the C++ ``SyclLauncher`` (argument conversion, USM pointer checks, ``set_arg``
order, grid -> ``nd_range``, the shared-memory ``local_accessor``) -- except one thing, a test double named as such:
:class:`CpuQueueLauncher` overrides ``XPULauncher._sycl_kernel``, because a CPU runs no native GPU code.  It builds
the kernel from the same compile's SPIR-V (edited for the CPU runtime: numeric_executors.strip_kernel_attributes)
with ``_sycl.executor_kernel_from_spirv``, which refuses Level Zero queues.  :class:`CpuQueueDriver` hands the JIT
the CPU queue as its stream: the real driver refuses a queue that is not on Level Zero.

Protocol: pickled requests and answers over two pipe file descriptors (argv[1] to read, argv[2] to write), so that
whatever the driver or the runtime print cannot corrupt them.
"""

import ctypes
import importlib.util
import os
import pickle
import re
import sys
import traceback
from multiprocessing.connection import Connection

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "..", "examples")]  # the executor, examples/kernels.py

import numeric_executors as ne  # noqa: E402


def preload_opencl(library: str) -> None:
    """Intel's ICD loader (libOpenCL.so.1 of intel-opencl-rt, beside ``library``) and the compiler runtime it needs,
    loaded by path: SYCL's OpenCL adapter finds the CPU device only through this loader (measured: with the
    system's ocl-icd it reports UR_RESULT_ERROR_UNINITIALIZED), and LD_LIBRARY_PATH cannot be set for a running
    process."""
    folder = os.path.dirname(library)
    for name in ("libimf.so", "libintlc.so.5", "libsvml.so", "libirng.so", "libOpenCL.so.1"):
        ctypes.CDLL(os.path.join(folder, name), mode=ctypes.RTLD_GLOBAL)


class Array:
    """A USM allocation of the CPU queue seen as a tensor: ``data_ptr()`` and a ``dtype``, what Triton's JIT binds
    pointers from (the dtype's name picks the pointer type, e.g. "bfloat16" -> *bf16)."""

    def __init__(self, memory, dtype: str, offset: int = 0):
        self.memory, self.dtype, self.offset = memory, dtype, offset

    def data_ptr(self) -> int:
        return self.memory._pointer + self.offset


def imported_functions(spirv: bytes):
    """The functions a SPIR-V module links from outside (LinkageAttributes ... Import): the builtins it calls."""
    from triton.backends.intel import spirv as spv
    return sorted(set(re.findall(r'LinkageAttributes "([^"]+)" Import', spv.disassemble(spirv))))


def make_driver(queue):
    from triton.backends.intel import driver as xpu
    from triton.backends.intel.runtime import sycl

    class CpuQueueLauncher(xpu.XPULauncher):
        """Test double of one step: the SYCL kernel comes from the SPIR-V, not from the native binary."""

        def __init__(self, src, metadata):
            super().__init__(src, metadata)
            from triton.runtime.cache import get_cache_manager
            path = get_cache_manager(metadata.hash).get_file(f"{metadata.name}.spv")
            with open(path, "rb") as f:
                self.spirv = ne.strip_kernel_attributes(f.read())

        def _sycl_kernel(self, function, stream):
            try:
                return sycl.module().executor_kernel_from_spirv(stream, self.spirv, self.name)
            except RuntimeError as e:  # SYCL gives no build log: name what the module needs from outside
                raise RuntimeError(f"{e}; the module imports: {', '.join(imported_functions(self.spirv))}") from None

    class CpuQueueDriver(xpu.XPUDriver):
        """The project's driver with the CPU queue as its stream (the real one refuses non-Level Zero queues)."""

        def __init__(self):
            super().__init__()
            self.launcher_cls = CpuQueueLauncher
            self._cpu_queue_address, self._cpu_queue_holder = sycl.hold(queue)

        def get_current_stream(self, device=None):
            return self._cpu_queue_address

    return CpuQueueDriver()


def _module(path: str):
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def launch(fn, request, queue, mem):
    """``fn[grid](*args, **kwargs)`` on copies of the request's arrays in USM shared memory; (compiled, [(usm,
    array)])."""
    from triton.runtime.driver import driver
    call, arrays = [], []
    for arg in request["args"]:
        if isinstance(arg, ne.Typed):
            data = np.ascontiguousarray(arg.array)
            usm = mem.MemoryUSMShared(max(data.nbytes, 1), queue=queue)
            if data.nbytes:
                usm.copy_from_host(data.reshape(-1).view(np.uint8))
            arrays.append((usm, data))
            call.append(Array(usm, arg.dtype))
        else:
            call.append(arg)
    compiled = fn[tuple(request["grid"])](*call, **request["kwargs"])
    driver.active.synchronize()
    return compiled, arrays


def run(request, queue, mem):
    """One checked launch: ``fn[grid](...)`` on copies of the arrays, synchronise, copy back.  The kernel is launched
    twice, on fresh copies each time: the first call of a specialisation goes through Triton's JITFunction.run
    (it compiles), a repeated one through the native dispatcher; the second launch's results are returned, so what
    the tests check is the dispatcher's launch wherever it takes the call (``LaunchInfo.fast_launch``)."""
    from triton.backends.intel.runtime import fast_launch
    fn = getattr(_module(request["module"]), request["function"])
    launch(fn, request, queue, mem)
    hits = fast_launch.hits(fn)
    compiled, arrays = launch(fn, request, queue, mem)
    out = []
    for usm, data in arrays:
        host = np.empty_like(data)
        if data.nbytes:
            usm.copy_to_host(host.reshape(-1).view(np.uint8))
        out.append(host)
    return out, ne.LaunchInfo.of(compiled, fast_launch=fast_launch.hits(fn) > hits)


def main(read_fd: int, write_fd: int) -> None:
    requests, answers = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    library = ne.opencl_runtime_library()
    try:
        if library is None:
            raise ne.CpuUnavailable("Intel's CPU OpenCL runtime (intel-opencl-rt) is not installed")
        preload_opencl(library)
        import dpctl
        import dpctl.memory as mem
        queue = dpctl.SyclQueue("opencl:cpu", property="in_order")
        from triton.runtime.driver import driver
        driver.set_active(make_driver(queue))
        answers.send_bytes(pickle.dumps(("ready", queue.sycl_device.name)))
    except BaseException as e:  # said to the parent, which fails the tests with it
        answers.send_bytes(pickle.dumps(("unavailable", f"{type(e).__name__}: {e}")))
        return
    while True:
        try:
            request = pickle.loads(requests.recv_bytes())
        except EOFError:
            return
        try:
            if "spirv" in request:  # a module built as it is, without a launch: what the CPU runtime refuses
                from triton.backends.intel.runtime import sycl
                address, holder = sycl.hold(queue)  # the capsule owns the queue copy at address: keep it
                sycl.module().executor_kernel_from_spirv(address, request["spirv"], request["name"])
                del holder
                answer = ("ok", [], None)
            else:
                answer = ("ok", ) + run(request, queue, mem)
        except Exception as e:
            answer = ("error", type(e).__name__, str(e), traceback.format_exc())
        answers.send_bytes(pickle.dumps(answer))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))

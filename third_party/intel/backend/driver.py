"""Triton's driver for Intel GPUs: loads the native binaries the compiler produced, and nothing else.

Active when an Intel GPU is present or ``TRITON_XPU_EMULATE`` names an emulated device; otherwise inactive,
so ``import triton`` works everywhere and kernels still compile for named targets.  Works without torch:
memory comes from ``driver.active.alloc(nbytes, kind="device"|"shared"|"host", dtype=...)``, and
``driver.active.synchronize()`` waits for launched kernels.
"""

import contextlib
import re
import sys
import time
import weakref
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from triton.backends.compiler import GPUTarget
from triton.backends.driver import DriverBase

from triton.backends.intel import targets
from triton.backends.intel.runtime import emulation, level_zero, sycl

_INT_KINDS = {"i1", "i8", "i16", "i32", "i64", "u1", "u8", "u16", "u32", "u64"}
_FLOAT_KINDS = {"fp16", "bf16", "fp32", "fp64"}


def arg_kind(ty: str) -> str:
    """The C++ launcher's kind for a Triton signature type ("*fp32" -> "ptr")."""
    if ty.startswith("*"):
        return "ptr"
    if ty in _INT_KINDS or ty in _FLOAT_KINDS:
        return ty
    raise TypeError(f"kernel argument type {ty!r} is not supported by the Intel launcher")


class XPUUtils:
    """``driver.active.utils``: what the front end calls to load binaries and size launches."""

    def load_binary(self, name: str, kernel: bytes, shared: int, build_flags: str, *rest: Any,
                    is_spv: Optional[bool] = None, device: Optional[int] = None):
        """Load a native binary: ``(name, kernel, shared, build_flags, device)`` as triton-xpu 3.3's front end
        calls it, or ``(name, kernel, shared, build_flags, is_spv, device)`` as upstream's (and PyTorch's)
        does; ``is_spv=True`` is refused, this driver loads native code only.  Returns (module, function,
        n_regs, n_spills)."""
        if len(rest) == 2:
            is_spv, device = rest
        elif len(rest) == 1:
            (device, ) = rest
        elif rest or device is None:
            raise TypeError("load_binary(name, kernel, shared, build_flags, [is_spv,] device)")
        if is_spv:
            raise level_zero.NativeBinaryError(
                f"load_binary({name!r}, ..., is_spv=True): this driver loads native binaries only, never SPIR-V; "
                "pass the native binary the zebin stage made (asm['zebin'], which is kernel.kernel; it is native "
                "whatever generate_native_code says)")
        # build_flags record what the compiler used; they are baked into the zebin, never passed to the driver.
        loaded = level_zero.load_kernel(level_zero.device(device), kernel, name)
        # The zebin's own spill figure where it has one; else the driver's spill (scratch) size, an upper bound.
        n_spills = loaded.spill_bytes if loaded.spill_bytes is not None else loaded.spill_mem_size
        return loaded.module, loaded.kernel, loaded.grf_count or 0, n_spills

    def unload_binary(self, module: int, function: int) -> None:
        sycl.unload(function)  # its copies in SYCL queues' contexts
        level_zero.runtime().ze.unload(module, function)
        level_zero.runtime().kernels.pop(function, None)
        # The driver may hand the same handle to a later kernel: forget launchers bound to this one.
        for launcher in list(XPULauncher.instances):
            launcher._launchers.pop(function, None)
            for key in [k for k in launcher._queue_launchers if k[0] == function]:
                launcher._queue_launchers.pop(key)

    def wait(self) -> None:
        """Wait for everything launched on the current device and stream (triton.testing calls this)."""
        from triton.runtime.driver import driver
        driver.active.synchronize()

    def get_device_properties(self, device: int) -> Dict[str, Any]:
        dev = level_zero.device(device)
        props = dict(dev.properties)
        props.update(
            arch=dev.target.name,
            max_shared_mem=props["max_shared_local_memory"],
            max_work_group_size=props["max_total_group_size"],
            sub_group_sizes=list(props["sub_group_sizes"]),
            max_num_sub_groups=props["max_total_group_size"] // min(props["sub_group_sizes"]),
            multiprocessor_count=props.get("num_slices", 1) * props.get("num_subslices_per_slice", 1),
            emulated=dev.emulated,
        )
        return props


class XPULauncher:
    """Launches one compiled kernel: drops constexpr arguments, as Triton does, and hands the rest to C++."""

    instances: "weakref.WeakSet[XPULauncher]" = weakref.WeakSet()

    def __init__(self, src, metadata):
        signature = dict(src.signature)
        types = list(signature.values())
        self.keep: List[int] = [i for i, ty in enumerate(types) if ty != "constexpr"]
        self.kinds = [arg_kind(types[i]) for i in self.keep]
        self.n_all = len(types)
        self.names = [str(n) for i, n in enumerate(signature) if i in self.keep]
        self.name = getattr(metadata, "name", "kernel")
        self.group_size = (metadata.num_warps * metadata.threads_per_warp, 1, 1)
        self.shared = metadata.shared or 0  # a kernel using shared memory takes it as a last argument
        self._launchers: Dict[int, Any] = {}
        self._queue_launchers: Dict[Tuple[int, int], Any] = {}  # (function, sycl::queue*) -> SYCL launcher
        XPULauncher.instances.add(self)

    def _launcher(self, function: int):
        launcher = self._launchers.get(function)
        if launcher is None:
            rt = level_zero.runtime()
            from triton.runtime.driver import driver
            launcher = rt.ze.Launcher(function, driver.active.get_current_device(), self.kinds, self.group_size,
                                      self.shared)
            self._launchers[function] = launcher
        return launcher

    def _sycl_kernel(self, function: int, stream: int):
        """The SYCL kernel to submit on the queue at ``stream``: the loaded native kernel, created in the queue's
        Level Zero context.  (The numeric tests' CPU executor, whose device runs no native code, overrides only
        this.)"""
        return sycl.kernel_in(sycl.queue(stream), function).sycl_kernel

    def _queue_launcher(self, function: int, stream: int):
        kernel = self._sycl_kernel(function, stream)
        launcher = sycl.module().SyclLauncher(stream, kernel, self.kinds, self.group_size, self.shared)
        self._queue_launchers[(function, stream)] = launcher
        return launcher

    def native_launcher(self, function: int, stream: int) -> Any:
        """The C++ launcher a call with ``function`` on ``stream`` (0: the device's command list) uses, called
        with ``(gx, gy, gz, *runtime arguments)``: what the native ``kernel[grid]`` path calls directly."""
        if stream:
            return self._queue_launchers.get((function, stream)) or self._queue_launcher(function, stream)
        return self._launchers.get(function) or self._launcher(function)

    def __call__(self, gridX, gridY, gridZ, stream, function, packed_metadata, launch_metadata, enter_hook,
                 exit_hook, *args):
        if enter_hook is not None:
            enter_hook(launch_metadata)
        # Callers pass every argument (constexprs included, as Triton's JIT does) or only the runtime ones.
        if len(args) != len(self.kinds):
            if len(args) != self.n_all:
                raise TypeError(f"{self.name} takes {len(self.kinds)} runtime arguments ({', '.join(self.names)}), "
                                f"or {self.n_all} with its constexprs; got {len(args)}")
            args = [args[i] for i in self.keep]
        try:
            if stream:  # a sycl::queue* (torch's stream, or one the caller set)
                launcher = self._queue_launchers.get((function, stream)) or self._queue_launcher(function, stream)
                try:
                    launcher(gridX, gridY, gridZ, *args)
                except sycl.module().StaleQueueError:  # another queue now lives at that address
                    sycl.forget_queue(stream)
                    self._queue_launcher(function, stream)(gridX, gridY, gridZ, *args)
            else:
                launcher = self._launchers.get(function) or self._launcher(function)
                launcher(gridX, gridY, gridZ, *args)
        except level_zero.runtime().ze.ForeignPointerError as e:
            from triton.runtime.driver import driver
            raise level_zero.pointer_argument_error(
                self.name, e.index, self.names[e.index], e.address, driver.active.get_current_device(),
                sycl.queue(stream).context if stream else 0) from None
        except (TypeError, OverflowError) as e:
            raise self._named(e) from None
        if exit_hook is not None:
            exit_hook(launch_metadata)

    def _named(self, error: Exception) -> Exception:
        """The launcher's "kernel argument I: ..." error with the kernel's and the argument's names."""
        m = re.match(r"kernel argument (\d+): (.*)", str(error), re.S)
        if not m or int(m.group(1)) >= len(self.names):
            return error
        index = int(m.group(1))
        return type(error)(f"{self.name} argument {index} ({self.names[index]}): {m.group(2)}")


def _torch_current_queue(device: int) -> Optional[int]:
    """torch's current XPU ``sycl::queue*`` when torch with XPU support is imported and initialised."""
    torch = sys.modules.get("torch")
    xpu = getattr(torch, "xpu", None)
    if xpu is None or not xpu.is_initialized():
        return None
    return int(xpu.current_stream(device).sycl_queue)


class _DeviceInterface:
    """The part of torch.xpu's interface triton.testing uses, without torch."""

    def __init__(self, driver: "XPUDriver"):
        self._driver = driver

    def synchronize(self, device=None) -> None:
        self._driver.synchronize()

    def current_device(self) -> int:
        return self._driver.get_current_device()


def _bench(kernel_call: Callable, warmup: int = 5, rep: int = 20, quantiles: Sequence[float] = None,
           return_mode: str = "mean", **_) -> Any:
    """Wall-clock benchmark around synchronize(); ms.  (On the emulated device kernels do not execute.)"""
    from triton.runtime.driver import driver
    sync = driver.active.synchronize
    for _ in range(warmup):
        kernel_call()
    sync()
    times = []
    for _ in range(rep):
        start = time.perf_counter()
        kernel_call()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    if quantiles:
        result = [times[min(len(times) - 1, int(q * len(times)))] for q in quantiles]
        return result[0] if len(result) == 1 else result
    return {"mean": sum(times) / len(times), "min": times[0], "max": times[-1],
            "median": times[len(times) // 2]}[return_mode]


class XPUDriver(DriverBase):

    def __init__(self):
        self.utils = XPUUtils()
        self.launcher_cls = XPULauncher
        self._device = 0
        self._zeros = None
        self._stream: Any = None  # what set_current_stream was given (None: torch's stream, or the driver's own)
        self._queue = 0  # its sycl::queue*, 0 for the driver's own command list
        self._queue_holder: Any = None  # keeps the queue valid (dpctl's capsule owns a copy of it)

    @classmethod
    def is_active(cls) -> bool:
        # No Level Zero call here: on a machine without an Intel GPU even zeInit can crash.
        return level_zero.available()

    @classmethod
    def inactive_reason(cls) -> str:
        """Why this driver is inactive and what to do (the front end adds it to "0 active drivers")."""
        if cls.is_active():
            return ""
        others = ", ".join(name for name in targets.emulated() if name != "pvc")
        return (f"xpu: no Intel GPU was found (no Intel render node in {level_zero.DRM_ROOT}) and "
                f"{emulation.EMULATE_ENV} is not set. To run on an emulated device (driver calls run, kernels do "
                f"not execute), set {emulation.EMULATE_ENV}=pvc (or {others}); to compile without a device, name the "
                "target: triton.compile(src, target=GPUTarget(\"xpu\", \"pvc\", 32)), or "
                "`triton-xpu compile --target pvc`.")

    def get_current_device(self) -> int:
        return self._device

    def set_current_device(self, device: int) -> None:
        level_zero.device(device)
        self._device = device

    def get_current_stream(self, device: int = None) -> int:
        """The ``sycl::queue*`` launches go to: the one set with :meth:`set_current_stream`, else torch's
        current XPU queue when torch with XPU support is imported and initialised, else 0 -- the driver's own
        Level Zero command list."""
        if self._stream is not None:
            return self._queue
        queue = _torch_current_queue(self._device if device is None else device)
        return 0 if queue is None else queue

    def set_current_stream(self, stream: Any) -> Any:
        """Launch on ``stream`` from now on: an int ``sycl::queue*``, an object with dpctl's ``_get_capsule()``
        or with a ``sycl_queue`` attribute (torch.xpu.Stream); 0 for the driver's own command list; None to go
        back to the default (torch's current stream where torch is in use).  Returns the previous setting."""
        previous = self._stream
        if stream is None or (isinstance(stream, int) and not isinstance(stream, bool) and stream == 0):
            self._stream, self._queue, self._queue_holder = stream, 0, None
            return previous
        address, holder = sycl.hold(stream)
        sycl.queue(address)  # loads the SYCL part now: a missing runtime or a non-Level Zero queue is said here
        self._stream, self._queue, self._queue_holder = stream, address, holder
        return previous

    @contextlib.contextmanager
    def stream(self, stream: Any) -> Iterator[int]:
        """``with driver.active.stream(queue):`` launches on ``queue`` inside the block; yields its address."""
        previous = self.set_current_stream(stream)
        try:
            yield self._queue
        finally:
            self.set_current_stream(previous)

    def fast_launch(self, fn: Any) -> Any:
        """What ``fn[grid]`` returns (the front end asks once per JITFunction): a native dispatcher that launches
        the kernels ``fn`` already compiled and hands anything else to ``fn.run`` (runtime/fast_launch.py), or
        None for Triton's own path (``TRITON_XPU_FAST_LAUNCH=0``)."""
        from triton.backends.intel.runtime import fast_launch
        return fast_launch.dispatcher(fn)

    def get_current_target(self) -> GPUTarget:
        dev = level_zero.device(self._device)
        arch = dev.target.properties()
        arch.update(name=dev.name, sub_group_sizes=list(dev.properties["sub_group_sizes"]),
                    max_work_group_size=dev.properties["max_total_group_size"], arch=dev.target.name)
        return GPUTarget("xpu", arch, 32)

    def get_device_properties(self, device: int = None) -> Dict[str, Any]:
        return self.utils.get_device_properties(self._device if device is None else device)

    def synchronize(self) -> None:
        """Wait for the device's own command list and, where launches go to a SYCL queue, for that queue."""
        level_zero.runtime().ze.synchronize(self._device)
        queue = self.get_current_stream()
        if queue:
            sycl.module().wait(queue)

    def alloc(self, nbytes: int, kind: str = "device", dtype: str = "uint8") -> level_zero.Buffer:
        return level_zero.alloc(nbytes, kind, dtype, self._device)

    def get_benchmarker(self):
        return _bench

    def get_device_interface(self):
        return _DeviceInterface(self)

    def get_empty_cache_for_benchmark(self) -> level_zero.Buffer:
        # Larger than any Intel GPU's L2 per stack (PVC: 204 MB over two stacks).
        return self.alloc(256 * 1024 * 1024, "device")

    def clear_cache(self, cache: level_zero.Buffer) -> None:
        if self._zeros is None or self._zeros.nbytes < cache.nbytes:
            self._zeros = self.alloc(cache.nbytes, "host")
        level_zero.runtime().ze.copy(cache.data_ptr(), self._zeros.data_ptr(), cache.nbytes, self._device)

    # --- torch: only where a torch with XPU support is installed (not available on CI machines) ---------

    def get_active_torch_device(self):
        import torch
        return torch.device("xpu", self.get_current_device())

"""Launching on a caller's SYCL queue: how PyTorch (and dpctl) hand Triton their streams and memory.

PyTorch's XPU tensors are SYCL USM allocations in the SYCL runtime's Level Zero context, and its streams are
``sycl::queue*`` (in-order queues).  Given such a queue, the driver creates the kernel's native module in the
queue's Level Zero context for its device (cached per context and device), wraps it as a SYCL kernel
(``make_kernel_bundle`` / ``make_kernel``) and submits it on the queue, in order with the queue's other
work.  Each pointer argument must be memory of the queue's context.

libsycl is loaded only here, when a SYCL queue is first used: the ``_sycl8`` or ``_sycl9`` extension, built
against the headers of PyPI's ``intel-sycl-rt`` for each SYCL runtime ABI (libsycl.so.8: oneAPI 2025, as in
PyTorch 2.7; libsycl.so.9: oneAPI 2026, as in dpctl 0.22), chosen by the runtime the process already runs.
``import triton``, compiling, AOT and the plain Level Zero driver never load it.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any, Dict, NamedTuple, Tuple

from triton.backends.intel.runtime import level_zero
from triton.backends.intel.errors import IntelBackendError

INSTALL_HINT = "pip install 'triton-xpu[sycl]'"


class SyclUnavailable(IntelBackendError, ImportError):
    """The SYCL part cannot be used: no SYCL runtime, another ABI, or a wheel built without it."""


@dataclass(frozen=True)
class Queue:
    """What the driver needs of a ``sycl::queue*``: its Level Zero context and device (handles as ints)."""
    address: int
    context: int
    device: int
    in_order: bool
    device_name: str


_module: Any = None
_queues: Dict[int, Queue] = {}
_kernels: Dict[Tuple[int, int, int], Tuple[int, int, Any]] = {}  # (function, context, device) -> module, kernel, SYCL


def module() -> Any:
    """The ``_sycl`` extension, loading libsycl on first use; SyclUnavailable saying what to install."""
    global _module
    if _module is None:
        _module = _load()
    return _module


def _loaded_libsycl_majors() -> Dict[int, str]:
    """{major: path} of every libsycl.so.N mapped in this process (torch or dpctl load theirs first)."""
    majors: Dict[int, str] = {}
    for _, _, path in level_zero.process_mappings():
        name = os.path.basename(path)
        if name.startswith("libsycl.so.") and name.split(".")[2].isdigit():
            majors.setdefault(int(name.split(".")[2]), path)
    return majors


SYCL_ABIS = (9, 8)  # the libsycl.so.N the SYCL part is built for (_sycl9, _sycl8), newest first


def _load() -> Any:
    """The SYCL part for the SYCL runtime in this process (torch or dpctl load theirs first), else for the
    newest one that loads."""
    import importlib
    from triton.backends.intel import _level_zero  # noqa: F401  (the SYCL part uses its ForeignPointerError)
    loaded = _loaded_libsycl_majors()
    if len(loaded) > 1:
        raise SyclUnavailable(f"this process runs several SYCL runtimes ({', '.join(sorted(loaded.values()))}); "
                              "a queue belongs to one of them: use a PyTorch and dpctl built on the same oneAPI "
                              "release")
    if loaded and next(iter(loaded)) not in SYCL_ABIS:
        (major, path), = loaded.items()
        raise SyclUnavailable(f"this process runs a SYCL runtime ({path}, libsycl.so.{major}) that triton-xpu's "
                              f"SYCL part is not built for (libsycl.so.{', libsycl.so.'.join(map(str, SYCL_ABIS))}); "
                              "use a PyTorch or dpctl built on oneAPI 2025 or 2026")
    errors = []
    for major in (list(loaded) or list(SYCL_ABIS)):
        try:
            return importlib.import_module(f"triton.backends.intel._sycl{major}")
        except ImportError as e:
            errors.append(str(e))
    if all("No module named" in e for e in errors):
        raise SyclUnavailable(f"this triton-xpu wheel was built without its SYCL part for "
                              f"libsycl.so.{'/'.join(str(m) for m in (list(loaded) or SYCL_ABIS))} (the build found "
                              "no SYCL headers); rebuild it where pip can download intel-sycl-rt")
    raise SyclUnavailable(f"launching on a SYCL queue needs the SYCL runtime (libsycl), which could not be loaded "
                          f"({'; '.join(errors)}); install it: {INSTALL_HINT}")


def queue_address(stream: Any) -> int:
    """The ``sycl::queue*`` of ``stream``: an int, an object with dpctl's ``_get_capsule()`` (the capsule
    must be kept alive: see :func:`hold`), or an object with a ``sycl_queue`` int (torch's XPU stream)."""
    if isinstance(stream, int) and not isinstance(stream, bool):
        return stream
    if hasattr(stream, "sycl_queue"):
        return int(stream.sycl_queue)
    if hasattr(stream, "_get_capsule"):
        return _capsule_pointer(stream._get_capsule())
    if type(stream).__name__ == "PyCapsule":
        return _capsule_pointer(stream)
    raise TypeError(f"a SYCL stream is a sycl::queue* (an int), an object with _get_capsule() (dpctl.SyclQueue) "
                    f"or with a sycl_queue attribute (torch.xpu.Stream), not {type(stream).__name__}")


def hold(stream: Any) -> Tuple[int, Any]:
    """(address, what keeps it valid) for a stream the driver keeps: dpctl's capsule owns a copy of the
    queue and deletes it when collected."""
    if hasattr(stream, "_get_capsule") and not hasattr(stream, "sycl_queue"):
        capsule = stream._get_capsule()
        return _capsule_pointer(capsule), (stream, capsule)
    return queue_address(stream), stream


def _capsule_pointer(capsule: Any) -> int:
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    name = ctypes.pythonapi.PyCapsule_GetName
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    return int(get(capsule, name(capsule)))


def queue(address: int) -> Queue:
    """The queue at ``address`` (remembered per address)."""
    known = _queues.get(address)
    if known is None:
        info = module().queue_info(address)
        known = Queue(address, info["context"], info["device"], info["in_order"], info["device_name"])
        _queues[address] = known
    return known


def forget_queue(address: int) -> None:
    """Drop what is remembered of the queue at ``address`` (another queue was made there)."""
    _queues.pop(address, None)


def device_index(q: Queue) -> int:
    """This driver's index of the queue's device (Level Zero device handles are the same in every context)."""
    rt = level_zero.runtime()
    for dev in rt.devices:
        if rt.ze.device_handle(dev.index) == q.device:
            return dev.index
    raise IntelBackendError(f"the SYCL queue's device ({q.device_name}) is not one of the Level Zero devices this "
                            "driver sees; select the same device for SYCL and Triton (ONEAPI_DEVICE_SELECTOR, "
                            "ZE_AFFINITY_MASK)")


class QueueKernel(NamedTuple):
    """A loaded kernel's copy in a queue's context: its Level Zero module and kernel, and the SYCL kernel
    made from them."""

    module: int
    kernel: int
    sycl_kernel: Any


def kernel_in(q: Queue, function: int) -> QueueKernel:
    """The loaded kernel ``function`` in the queue's context and device, created from the same native binary
    on first use."""
    index = device_index(q)
    key = (function, q.context, q.device)
    found = _kernels.get(key)
    if found is None:
        source = level_zero.runtime().kernels[function]
        loaded = level_zero.load_kernel(level_zero.device(index), source.binary, source.name, context=q.context)
        found = QueueKernel(loaded.module, loaded.kernel,
                            module().make_kernel(q.address, loaded.module, loaded.kernel))
        _kernels[key] = found
    return found


def unload(function: int) -> None:
    """Destroy every queue-context copy of ``function`` (the SYCL kernel first: it refers to them)."""
    rt = level_zero.runtime() if _kernels else None
    for key in [k for k in _kernels if k[0] == function]:
        mod, kern, _ = _kernels.pop(key)
        rt.ze.unload(mod, kern)
        rt.kernels.pop(kern, None)

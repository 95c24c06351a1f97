"""A stand-in for `torch` with one XPU device, over dpctl (TEST DOUBLE; see ../README.md): the CPU-only stand-in
(``../../standin_torch``) plus the ``torch.xpu`` stock triton-xpu 3.3.0b1 asks for.  Not PyTorch; nothing here
computes, and no tensor is ever created."""

from __future__ import annotations

import ctypes as _ctypes
import importlib.metadata as _metadata
import os as _os
import re as _re
from pathlib import Path as _Path
from typing import Any as _Any, Dict as _Dict, Optional as _Optional

# Everything of the CPU-only stand-in, its subpackages (torch.nn) included: one double, extended, not a copy.
_CPU = _Path(__file__).resolve().parents[2] / "standin_torch" / "torch"
__path__.append(str(_CPU))  # noqa: F821  (a package's __path__)
exec(compile((_CPU / "__init__.py").read_text(), str(_CPU / "__init__.py"), "exec"))

# The SYCL name of the device's architecture (``sycl::ext::oneapi::experimental::architecture``), which real
# torch reads from the device and dpctl does not expose: the caller, who set the device up, names it.
ARCHITECTURE_VARIABLE = "STANDIN_TORCH_XPU_ARCHITECTURE"


class _XPUStream:
    """torch.xpu.Stream as Triton uses it: ``sycl_queue`` is the address of a ``sycl::queue``."""

    def __init__(self, queue: _Any):
        self.queue = queue
        self._capsule = queue._get_capsule()  # owns a copy of the queue while this stream lives
        get = _ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = _ctypes.c_void_p, [_ctypes.py_object, _ctypes.c_char_p]
        self.sycl_queue = _b.int(get(self._capsule, b"SyclQueueRef"))  # noqa: F821

    def synchronize(self) -> None:
        self.queue.wait()


_stream: _Optional[_XPUStream] = None


def _current_stream(device: _Any = None) -> _XPUStream:
    global _stream
    if _stream is None:
        import dpctl
        _stream = _XPUStream(dpctl.SyclQueue("level_zero:gpu", property="in_order"))
    return _stream


def _xpu_available() -> _b.bool:  # noqa: F821  (_b: builtins, from the CPU stand-in)
    try:
        import dpctl
        return _b.bool(dpctl.get_devices(backend="level_zero", device_type="gpu"))  # noqa: F821
    except Exception:  # no SYCL runtime, or no Level Zero GPU: torch says False, as a CPU-only build does
        return False


def _architecture_value(name: str) -> int:
    """The value of ``architecture::NAME`` in the installed SYCL runtime's headers."""
    for file in _metadata.files("intel-sycl-rt") or ():
        if file.name == "device_architecture.def":
            text = _Path(file.locate()).read_text()
            found = _re.search(rf"__SYCL_ARCHITECTURE\({_re.escape(name)},\s*(0x[0-9a-fA-F]+)\)", text)
            if found:
                return _b.int(found.group(1), 16)  # noqa: F821
            raise LookupError(f"{ARCHITECTURE_VARIABLE}={name}: no such architecture in {file.locate()}")
    raise LookupError("intel-sycl-rt's device_architecture.def was not found: is the SYCL runtime installed?")


def _device_capability(device: _Any = None) -> _Dict[str, _Any]:
    """What ``torch.xpu.get_device_capability`` returns, from the SYCL device."""
    dev = _current_stream().queue.sycl_device
    name = _os.environ.get(ARCHITECTURE_VARIABLE)
    if not name:
        raise RuntimeError(f"the stand-in torch.xpu needs {ARCHITECTURE_VARIABLE} (e.g. intel_gpu_pvc): "
                           "dpctl does not tell the device's architecture")
    return {"name": dev.name, "platform_name": dev.sycl_platform.name, "vendor": dev.vendor,
            "driver_version": dev.driver_version, "version": dev.driver_version,
            "gpu_eu_count": dev.max_compute_units, "max_compute_units": dev.max_compute_units,
            "max_work_group_size": dev.max_work_group_size, "max_num_sub_groups": dev.max_num_sub_groups,
            "sub_group_sizes": list(dev.sub_group_sizes), "has_fp16": dev.has_aspect_fp16,
            "has_fp64": dev.has_aspect_fp64, "has_atomic64": dev.has_aspect_atomic64,
            "architecture": _architecture_value(name)}


xpu = _submodule(  # noqa: F821  (from the CPU stand-in)
    "xpu", is_available=_xpu_available, device_count=lambda: 1 if _xpu_available() else 0,
    is_initialized=lambda: _stream is not None, current_device=lambda: 0, set_device=lambda device: None,
    current_stream=_current_stream, get_device_capability=_device_capability,
    get_device_properties=lambda device=None: _types.SimpleNamespace(**_device_capability(device)),  # noqa: F821
    get_device_name=lambda device=None: _current_stream().queue.sycl_device.name,
    synchronize=lambda device=None: _current_stream().synchronize(), Stream=_XPUStream,
    Event=type("Event", (), {}), device=_NoOpContext, stream=_NoOpContext,  # noqa: F821
    is_bf16_supported=lambda *a, **k: True, empty_cache=lambda: None, _is_compiled=lambda: True,
    manual_seed=lambda *a: None, manual_seed_all=lambda *a: None)
version.xpu = "standin-dpctl"  # noqa: F821

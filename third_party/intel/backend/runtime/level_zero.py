"""The Level Zero runtime as the driver uses it: device discovery that cannot crash, native-only loading, memory.

NEO 22.43's zeInit segfaults on a machine without an Intel GPU, so the loader is initialised only when an
Intel render node exists (``/sys/class/drm/renderD*/device/vendor`` is 0x8086) or an emulated device is
requested (``TRITON_XPU_EMULATE``).  Otherwise :func:`available` is False and nothing is loaded.

Loading accepts native binaries only.  Before the driver sees a binary it is checked here: SPIR-V and
anything that is not a zebin are refused, a zebin must be for the device's product family and IP version (or one
NEO runs natively on it: targets.NATIVE_COMPATIBLE), and from a fat binary the member for the device is taken.  The C++ runtime then creates the module with
``ZE_MODULE_FORMAT_NATIVE`` and no build flags, and refuses a module the driver recompiled from IR.
"""

from __future__ import annotations

import atexit
import ctypes
import glob
import os
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from triton.backends.intel import spirv, targets
from triton.backends.intel.runtime import emulation
from triton.backends.intel.binary import digest, fatbin, validate
from triton.backends.intel.binary.zebin import Zebin
from triton.backends.intel.binary.zebin import read as read_zebin
from triton.backends.intel.errors import IntelBackendError, PointerArgumentError, ZebinFormatError

INTEL_VENDOR_ID = 0x8086
DRM_ROOT = "/sys/class/drm"


class NativeBinaryError(IntelBackendError, ValueError):
    """A binary the native-only driver refuses to load, and why."""


def intel_render_nodes(root: str = DRM_ROOT) -> List[str]:
    """Render nodes whose PCI vendor is Intel."""
    nodes = []
    for node in sorted(glob.glob(os.path.join(root, "renderD*"))):
        try:
            with open(os.path.join(node, "device", "vendor")) as f:
                if int(f.read().strip(), 16) == INTEL_VENDOR_ID:
                    nodes.append(node)
        except (OSError, ValueError):
            continue
    return nodes


def available() -> bool:
    """Whether a Level Zero device can be expected: an emulated one was requested or an Intel GPU exists."""
    return emulation.requested() is not None or bool(intel_render_nodes())


@dataclass
class Device:
    index: int
    name: str
    target: targets.TargetInfo  # what kernels for this device are compiled for
    properties: Dict[str, Any]  # as the driver reports them
    emulated: bool = False


def _target_for(props: Dict[str, Any], emulated: Optional[targets.TargetInfo]) -> targets.TargetInfo:
    if emulated is not None:
        return emulated
    ip = props.get("ip_version")
    if ip:
        name = targets.device_of_ip(targets.gmd_version(ip))
        if name in targets.TARGETS:
            return targets.lookup(name)
    for info in targets.TARGETS.values():
        if info.device_id is not None and info.device_id == props.get("device_id"):
            return info
    # A device the table does not know: its own report, with nothing assumed beyond it.
    return targets.from_device_dict({"name": props.get("name"), "sub_group_sizes": props["sub_group_sizes"],
                                     "max_work_group_size": props.get("max_total_group_size")})


@dataclass
class Runtime:
    ze: Any  # the C++ extension module
    devices: List[Device]
    closed: bool = False
    kernels: Dict[int, "KernelSource"] = field(default_factory=dict)  # kernel handle -> what it was loaded from


@dataclass(frozen=True)
class KernelSource:
    """A loaded kernel's module and the native binary it came from (to load it again in a queue's context)."""

    module: int
    binary: bytes
    name: str


_runtime: Optional[Runtime] = None


def runtime() -> Runtime:
    """The initialised runtime (emulation set up first where requested); raises if no device can exist."""
    global _runtime
    if _runtime is not None:
        return _runtime
    product = emulation.requested()
    if product is None and not intel_render_nodes():
        raise IntelBackendError("no Intel GPU: no render node of vendor 0x8086 under /sys/class/drm; set "
                                f"{emulation.EMULATE_ENV}=pvc to use the emulated device, or compile for a named "
                                "target (GPUTarget('xpu', 'pvc', 32)) without a device")
    if product is not None:
        emulation.activate(product)
    from triton.backends.intel import _level_zero as ze
    try:
        ze.init()
    except ze.ZeError as e:
        if product is None:
            raise
        # An older driver may not know the product (NEO 22.43 and bmg: a device without compute engines).
        raise IntelBackendError(f"{emulation.EMULATE_ENV}={product.name}: the installed Level Zero driver (NEO) "
                                f"cannot emulate {product.name} ({e}); a newer intel-opencl-icd / "
                                f"libze-intel-gpu1 can (this repository's `./run --toolchain current`), or emulate "
                                f"another device") from None
    devices = []
    for i in range(ze.device_count()):
        props = dict(ze.device_properties(i))
        devices.append(Device(i, props["name"], _target_for(props, product), props, emulated=product is not None))
    if not devices:
        raise IntelBackendError("the Level Zero loader found no GPU device")
    _runtime = Runtime(ze, devices)
    atexit.register(_close)
    return _runtime


def _close() -> None:
    # Buffers collected after this point must not call into a driver that is shutting down.
    if _runtime is not None:
        _runtime.closed = True


def device(index: int) -> Device:
    devices = runtime().devices
    if not 0 <= index < len(devices):
        raise IndexError(f"no Intel GPU device {index}; there are {len(devices)}")
    return devices[index]


# --- native-only loading ---------------------------------------------------------------------------------


# Binaries already checked in this process, by (length and CRC-32, device target, kernel): loading one again
# (another device, a new CompiledKernel) costs only its CRC.
_CHECKED_MAX = 256
_checked: "OrderedDict[Tuple[Tuple[int, int], str, str], Tuple[bytes, digest.Trusted]]" = OrderedDict()


def native_kernel(binary: bytes, target: targets.TargetInfo, kernel_name: str,
                  driver_build: Optional[int] = None) -> Tuple[bytes, digest.Trusted]:
    """(the zebin for ``target`` in ``binary``, what loading ``kernel_name`` from it needs to know);
    NativeBinaryError if the driver (NEO build ``driver_build``) must not be handed it.

    A binary this process compiled, or found in Triton's cache with matching digests, is recognised
    (binary.digest) and not checked again; any other gets the full check (binary.validate).
    """
    binary = bytes(binary)
    data_key = digest.key(binary)
    key = (data_key, target.name, kernel_name)
    hit = _checked.get(key)
    if hit is not None:
        _checked.move_to_end(key)
        return hit
    trusted = digest.trusted(data_key)
    if trusted is not None and trusted.kernel == kernel_name:
        _check_family(trusted.product_family, None, target, kernel_name)
        _check_ip_version(trusted.ip_version, target, driver_build)
        result = (binary, trusted)
    else:
        native, parsed = _check(binary, target, kernel_name, driver_build)
        try:
            info = parsed.kernel(kernel_name)
        except KeyError as e:
            raise NativeBinaryError(f"cannot load {kernel_name}: {e.args[0]}") from None
        result = (native, digest.Trusted(kernel_name, parsed.product_family_name, info.grf_count, info.spill_bytes,
                                         tuple(sorted(validate.driver_requirements(parsed))),
                                         parsed.product_config_version))
    _check_driver(result[1].requires, driver_build)
    _checked[key] = result
    if len(_checked) > _CHECKED_MAX:
        _checked.popitem(last=False)
    return result


def native_binary_for(binary: bytes, target: targets.TargetInfo) -> bytes:
    """The zebin in ``binary`` that is for ``target``'s product, fully checked; NativeBinaryError otherwise."""
    return _check(bytes(binary), target)[0]


def _check(binary: bytes, target: targets.TargetInfo, kernel_name: str = "",
           driver_build: Optional[int] = None) -> Tuple[bytes, Zebin]:
    if spirv.is_spirv(binary):
        raise NativeBinaryError("refusing SPIR-V: this driver loads only native binaries (zebin) and never compiles "
                                "at load time; compile the kernel for this device's target "
                                f"({target.name}) so the zebin stage produces one")
    if fatbin.is_fat_binary(binary):
        try:
            member, names = fatbin.member_for(binary, target)
        except ZebinFormatError as e:
            raise NativeBinaryError(f"not a loadable native binary: {e}") from None
        if member is None:
            raise NativeBinaryError(f"fat binary has no member for {target.name} (members: "
                                    f"{', '.join(names) or 'none'}); compile it with {target.name} among the targets")
        return _check(member, target, kernel_name, driver_build)
    try:
        parsed = validate.loadable(binary)
    except ZebinFormatError as e:
        raise NativeBinaryError(f"not a loadable native binary: {e}") from None
    _check_family(parsed.product_family_name, parsed.product_family, target, kernel_name)
    _check_ip_version(parsed.product_config_version, target, driver_build)
    return binary, parsed


def _check_driver(requires: Tuple[str, ...], build: Optional[int]) -> None:
    for need in requires:
        since, what = validate.DRIVER_REQUIREMENTS[need]
        if not build or build < since:
            raise NativeBinaryError(
                f"not a loadable native binary: {what}, which this Level Zero driver (NEO build {build or 'unknown'}) "
                f"crashes on; recompile it with this driver's ocloc or use NEO build {since} or newer")


def _check_family(family: Optional[str], number: Optional[int], target: targets.TargetInfo,
                  kernel_name: str = "") -> None:
    if target.product_family and family != target.product_family:
        kernel = kernel_name or "the kernel"
        built_for = [t.name for t in targets.TARGETS.values() if family and t.product_family == family]
        names = f" ({'/'.join(built_for)})" if built_for and built_for != [family] else ""
        raise NativeBinaryError(
            f"cannot load {kernel}: its zebin is native code for {family or f'product family {number}'}{names}, "
            f"but the device is {target.name} (product "
            f"family {target.product_family}); native code runs only on the device it was compiled for, and this "
            f"driver never recompiles at load time: recompile {kernel} for {target.name} (GPUTarget('xpu', "
            f"'{target.name}', ...), or `triton-xpu compile --target {target.name}`)")


# NEO's answers to a native binary it cannot use on the device: 22.43 says INVALID_NATIVE_BINARY, 26.x
# MODULE_BUILD_FAILURE (with an empty build log) for a zebin without IR.
_REFUSED_NATIVE = ("ZE_RESULT_ERROR_INVALID_NATIVE_BINARY", "ZE_RESULT_ERROR_MODULE_BUILD_FAILURE")


def _embeds_ir(native: bytes) -> bool:
    try:
        return read_zebin(native).spirv is not None
    except ZebinFormatError:
        return False


def _driver_refusal(e: Exception, kernel_name: str, dev: Device, native: bytes) -> str:
    """Why the driver refused a native binary that passed the checks, and what to do."""
    name = getattr(e, "result_name", "")
    if getattr(e, "call", "") != "zeModuleCreate" or name not in _REFUSED_NATIVE + ("RECOMPILED_FROM_IR", ):
        return f"the Level Zero driver refused {kernel_name} on device {dev.index} ({dev.name}): {e}"
    if name == "RECOMPILED_FROM_IR":
        why = ("the driver could load it only by recompiling the SPIR-V the zebin embeds (it was built with "
               "keep_ir), so its native code is not for this device or driver, and this driver never compiles at "
               "load time")
    else:
        why = "the driver found its native code incompatible with this device or driver" + (
            "" if _embeds_ir(native) else ", and the zebin carries no IR to recompile from (none is kept by default)")
    return (f"the Level Zero driver refused {kernel_name} on device {dev.index} ({dev.name}, {dev.target.name}): "
            f"{why}; recompile {kernel_name} for {dev.target.name}. {e}")


def _check_ip_version(ip: Optional[str], target: targets.TargetInfo, driver_build: Optional[int]) -> None:
    """NEO compares a zebin's product-config note (IGC 2 writes one) with the device's IP version and recompiles
    from the embedded SPIR-V, or refuses the binary without it, unless they are equal or its compatibility mode
    takes the pair (targets.NATIVE_COMPATIBLE): one product family holds dies of several IP versions (Battlemage
    G21 and G31), so the family check alone does not tell."""
    if ip is None or target.ip_version is None or targets.loads_natively(ip, target.ip_version, driver_build):
        return
    built_for = targets.device_of_ip(ip)
    raise NativeBinaryError(f"zebin is for {built_for + ' ' if built_for else ''}(IP version {ip}), but the device is "
                            f"{target.name} (IP version {target.ip_version}), on which the driver would not run it "
                            f"natively; compile for {target.name}")


@dataclass
class LoadedKernel:
    module: int
    kernel: int
    spill_mem_size: int
    private_mem_size: int
    build_log: str
    grf_count: Optional[int]  # as the zebin says
    spill_bytes: Optional[int]  # as the zebin (or its build log) says; None when nothing does


def load_kernel(dev: Device, binary: bytes, kernel_name: str, context: int = 0) -> LoadedKernel:
    """Create the module (native only) and the kernel on ``dev``, in its own context or in ``context`` (a
    SYCL queue's Level Zero context)."""
    native, facts = native_kernel(binary, dev.target, kernel_name, dev.properties.get("driver_version", 0) & 0xFFFF)
    ze = runtime().ze
    try:
        out = ze.load_native(dev.index, native, kernel_name, context)
    except ze.ZeError as e:
        raise NativeBinaryError(_driver_refusal(e, kernel_name, dev, native)) from None
    runtime().kernels[out["kernel"]] = KernelSource(out["module"], binary, kernel_name)
    return LoadedKernel(out["module"], out["kernel"], out["spill_mem_size"], out["private_mem_size"],
                        out["build_log"], facts.grf_count, facts.spill_bytes)


# --- memory ----------------------------------------------------------------------------------------------

ALLOC_KINDS = ("device", "shared", "host")


class Buffer:
    """Memory from the Level Zero driver, freed when collected.

    Pass it to a kernel like a tensor: it has ``data_ptr()`` and a ``dtype`` (a name Triton knows, e.g.
    "float32").  ``shared`` and ``host`` memory is visible to the host: ``numpy()`` views it.
    """

    def __init__(self, ptr: int, nbytes: int, kind: str, dtype: str, device: int, base: Optional["Buffer"] = None):
        self._ptr = ptr
        self.nbytes = nbytes
        self.kind = kind
        self.dtype = dtype
        self.device = device
        self._base = base  # a view keeps its allocation alive

    def data_ptr(self) -> int:
        return self._ptr

    def view(self, dtype: str) -> "Buffer":
        return Buffer(self._ptr, self.nbytes, self.kind, dtype, self.device, base=self._base or self)

    def numpy(self):
        import numpy as np
        if self.kind == "device":
            raise ValueError("device memory is not host-visible; allocate with kind='shared' to view it from the host")
        raw = (ctypes.c_uint8 * self.nbytes).from_address(self._ptr)
        return np.frombuffer(raw, dtype=np.dtype(self.dtype) if self.dtype != "bfloat16" else np.uint16)

    def __del__(self):
        if self._base is None and _runtime is not None and not _runtime.closed:
            _runtime.ze.free(self._ptr)
            _freed.append((self._ptr, self.nbytes, self.kind))

    def __repr__(self) -> str:
        return f"Buffer({self.kind}, {self.nbytes} bytes, {self.dtype}, device {self.device})"


def alloc(nbytes: int, kind: str = "device", dtype: str = "uint8", device_index: int = 0) -> Buffer:
    if kind not in ALLOC_KINDS:
        raise ValueError(f"kind must be one of {', '.join(ALLOC_KINDS)}, got {kind!r}")
    if not isinstance(nbytes, int) or nbytes <= 0:
        raise ValueError(f"nbytes must be a positive integer, got {nbytes!r}")
    device(device_index)
    ptr = runtime().ze.alloc(device_index, nbytes, kind)
    return Buffer(ptr, nbytes, kind, dtype, device_index)


# The latest frees, so that a launch with a freed buffer can say so: (address, bytes, kind), newest last.
_freed: "deque[Tuple[int, int, str]]" = deque(maxlen=4096)


def pointer_argument_error(kernel: str, index: int, name: str, address: int, device_index: int,
                           queue_context: int = 0) -> PointerArgumentError:
    """The error for argument ``index`` (``name``) of ``kernel`` holding ``address``, which the launcher found
    is not memory of the context it launches in (the device's own, or ``queue_context``, a SYCL queue's):
    what is there, and what to do."""
    found, todo = _what_is_at(address, device_index, queue_context)
    return PointerArgumentError(f"{kernel} argument {index} ({name}): 0x{address:x} is not memory the device can "
                                f"use: {found}; {todo}. Nothing was launched")


def _what_is_at(address: int, device_index: int, queue_context: int) -> Tuple[str, str]:
    ze = runtime().ze
    if queue_context and _own(address):
        return ("it is memory of the Triton driver's own Level Zero context (driver.active.alloc), not of the SYCL "
                "queue's", "allocate it on the queue (a torch XPU tensor, or dpctl memory of that queue), or launch "
                "without a SYCL stream (driver.active.set_current_stream(0))")
    if not queue_context and ze.memory_type(device_index, address) != "unknown":
        return ("it is memory of another Level Zero context (e.g. a SYCL queue's: a torch XPU tensor or dpctl "
                "memory), not of the Triton driver's own", "launch on that queue: pass it as the stream "
                "(driver.active.set_current_stream(queue), or torch's current stream), or allocate with "
                "driver.active.alloc")
    for base, nbytes, kind in reversed(_freed):
        if base <= address < base + nbytes:
            return (f"it lies in a {nbytes}-byte {kind} allocation that was freed",
                    "keep the buffer (or tensor) alive until the kernel has run")
    if ze.memory_type(device_index, address - 1, queue_context) != "unknown":
        return ("it is just past the end of an allocation", "check the pointer's offset against the buffer's size")
    if _mapped(address):
        return ("it is host memory of this process that was not allocated through Level Zero (e.g. from malloc, "
                "numpy or a CPU tensor)",
                "allocate it with driver.active.alloc(nbytes, kind='device'|'shared'|'host'), or pass an XPU tensor")
    return ("no memory is mapped at that address",
            "pass a live allocation (driver.active.alloc, or an XPU tensor)")


def _own(address: int) -> bool:
    """Whether ``address`` lies in a live allocation of this driver (a Buffer from :func:`alloc`)."""
    return runtime().ze.owns(address)


def process_mappings() -> List[Tuple[int, int, str]]:
    """(start, end, path or "") of each mapping of this process (/proc/self/maps); empty if unreadable."""
    out = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split(maxsplit=5)
                start, _, end = fields[0].partition("-")
                out.append((int(start, 16), int(end, 16), fields[5].strip() if len(fields) > 5 else ""))
    except (OSError, ValueError, IndexError):
        pass
    return out


def _mapped(address: int) -> bool:
    """Whether ``address`` lies in a mapping of this process."""
    return any(start <= address < end for start, end, _ in process_mappings())

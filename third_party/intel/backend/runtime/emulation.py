"""The emulated device: Intel's real Level Zero driver (NEO) in AUB-capture mode, for machines without a GPU.

``TRITON_XPU_EMULATE=pvc`` (also ``acm-g10``/``dg2``, ``tgllp``, ``bmg``, ``bmg-g31``) makes the driver present one device of that
product: every Level Zero call runs for real (module and kernel creation, memory, launches, synchronisation)
but kernels do not execute, so memory keeps its contents.  NEO reads its debug keys from the environment
when it loads, so :func:`activate` must run before the Level Zero loader initialises.

The driver would write a capture file (``.aub``) of every launch; capture is filtered to nothing, and what
the driver still writes goes to a private temporary folder, removed at exit (and, after a crash, by the next
process that activates emulation), never to the user's working directory.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from typing import Dict, Optional

from triton.backends.intel import knobs, targets
from triton.backends.intel.errors import TargetError

EMULATE_ENV = knobs.EMULATE

_capture_dir: Optional[str] = None
_warned = False


def requested() -> Optional[targets.TargetInfo]:
    """The target TRITON_XPU_EMULATE asks for, None when unset; TargetError for one that cannot be emulated.
    How each target is emulated is a fact of the target table (``TargetInfo.emulation``)."""
    value = knobs.raw(EMULATE_ENV)
    if not value or value.lower() in ("0", "off", "none"):
        return None
    try:
        target = targets.lookup(value)
    except TargetError:
        target = None
    if target is None or target.emulation is None:
        raise TargetError(f"{EMULATE_ENV}={value!r} is not an emulated device; choose one of: "
                          f"{', '.join(targets.emulated())} (or dg2)")
    return target


def _remove_capture_dir() -> None:
    if _capture_dir:
        shutil.rmtree(_capture_dir, ignore_errors=True)


_CAPTURE_PREFIX = "triton-xpu-aub-"


def _remove_stale_capture_dirs() -> None:
    """Folders left by processes that died before their exit handler ran."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        if not name.startswith(_CAPTURE_PREFIX):
            continue
        path = os.path.join(root, name)
        owner = os.path.join(path, "owner.pid")
        try:
            with open(owner) as f:
                os.kill(int(f.read().strip()), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (OSError, ValueError):
            continue  # not ours to judge (no owner file yet, or another user's)


def capture_dir() -> str:
    """This process's private folder for whatever the driver still writes; removed at exit."""
    global _capture_dir
    if _capture_dir is None:
        _remove_stale_capture_dirs()
        _capture_dir = tempfile.mkdtemp(prefix=_CAPTURE_PREFIX)
        with open(os.path.join(_capture_dir, "owner.pid"), "w") as f:
            f.write(str(os.getpid()))
        atexit.register(_remove_capture_dir)
    return _capture_dir


def environment(target: targets.TargetInfo) -> Dict[str, str]:
    """NEO's environment for an emulated ``target`` (for this process or a child it starts)."""
    product = target.emulation
    if product is None:
        raise TargetError(f"{target.name} cannot be emulated; choose one of: {', '.join(targets.emulated())}")
    folder = capture_dir()
    env = {
        "NEOReadDebugKeys": "1",
        "ProductFamilyOverride": product.product_family,
        "SetCommandStreamReceiver": "1",  # AUB capture: no hardware needed
        # Debian builds NEO without the aubstream library: with it enabled zeInit segfaults (NEO 26.x).
        # Bindless heaps abort on emulated dg2 and bmg (bindless_heaps_helper.cpp).  NEO 22.43 accepts
        # both keys, so they are always set.
        "UseAubStream": "0",
        "UseBindlessMode": "0",
        # Capture only launches of a kernel that does not exist: a full capture grows by about 1 MB per
        # launch (16 GB after a 12,000-launch benchmark), and nothing here reads it.
        "AUBDumpSubCaptureMode": "1",
        "AUBDumpFilterKernelName": "__triton_xpu_capture_nothing__",
        # Whatever is still written goes to our folder (which must exist, or NEO aborts): NEO 22.43 honours
        # the file name with its folder, newer NEO also a folder key.
        "AUBDumpCaptureFileName": os.path.join(folder, f"capture-{os.getpid()}.aub"),
        "AUBDumpCaptureDirPath": folder,
    }
    if product.hardware_info:
        env["HardwareInfoOverride"] = product.hardware_info
    if product.device_id:
        env["ForceDeviceId"] = product.device_id
    if product.revision:
        env["OverrideRevision"] = product.revision
    return env


def activate(target: targets.TargetInfo) -> str:
    """Set NEO's environment for ``target`` in this process; returns the capture folder.  Idempotent."""
    global _warned
    os.environ.update(environment(target))
    if not _warned:
        _warned = True
        warnings.warn(f"{EMULATE_ENV}={target.name}: Intel GPU emulated by the Level Zero driver in AUB-capture "
                      f"mode; every driver call runs, but kernels do not execute (memory keeps its contents)",
                      RuntimeWarning, stacklevel=2)
    return capture_dir()

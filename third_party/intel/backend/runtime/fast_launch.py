"""``kernel[grid](...)`` in native code for the kernels a JITFunction already compiled.

Triton 3.3 binds, specialises and keys every argument in Python on each call; the ``_fast_launch`` extension
(``lib/fast_launch_module.cpp``) does it in C++ and calls the backend's C++ launcher directly.  It is exactly
``JITFunction.run`` for what it handles, and hands everything else to ``run`` itself:

* the first call of each specialisation (``run`` compiles or finds the kernel; :func:`_miss` then tells the
  dispatcher how to launch it again: Triton's own key, the launcher, the kernel's runtime arguments);
* a value it does not encode: tuples, ``tl.constexpr`` objects, JITFunctions or dtypes as runtime arguments,
  constexprs that are not None, bool, int, float, str, a Triton dtype or a JITFunction, NaN, ints beyond 64 bits;
* ``pre_run_hooks``, ``CompiledKernel.launch_enter_hook``/``launch_exit_hook``, another active driver, a replaced
  ``run``, a parameter named ``debug``;
* a kernel no longer in Triton's kernel cache under Triton's key (a cleared cache), a changed global.

The grid is read as run reads it, and a launcher that refuses is followed by the launcher object as run's last step
calls it, so errors are run's (docs/launch.md).

``TRITON_XPU_FAST_LAUNCH=0`` turns it off (``kernel[grid]`` is Triton's lambda again).  The autotuner, heuristics,
``warmup`` and ``CompiledKernel[grid]`` are Triton's own paths.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Dict, Optional, Tuple

# How a parameter is specialised (the extension's ParamKind); ANNOTATED is added for a typed runtime parameter.
CONSTEXPR, SPECIALIZE, NO_ALIGN, NO_SPECIALIZE, ANNOTATED = 0, 1, 2, 3, 4
_MISSING = object()


def enabled() -> bool:
    return os.environ.get("TRITON_XPU_FAST_LAUNCH", "1") != "0"


def dispatcher(fn: Any) -> Optional[Any]:
    """A native dispatcher for the JITFunction ``fn`` (``dispatcher[grid](*args, **kwargs)``), or None when
    ``TRITON_XPU_FAST_LAUNCH=0``, for a kernel it must not take, or when the extension is missing (a warning says
    so); then ``kernel[grid]`` is Triton's own."""
    if not enabled():
        return None
    try:
        from triton.backends.intel import _fast_launch
    except ImportError as e:
        warnings.warn(f"triton-xpu's native kernel[grid] dispatcher is missing from this install ({e}): every call "
                      "takes Triton's Python path, several times slower; reinstall the package (pip install .)",
                      RuntimeWarning, stacklevel=3)
        return None
    import triton.language as tl
    from triton.compiler import CompiledKernel
    from triton.runtime.driver import driver as config
    from triton.runtime.jit import JITFunction
    active = config.active
    names = tuple(p.name for p in fn.params)
    if "debug" in names or type(fn).run is not JITFunction.run or "run" in vars(fn):
        return None  # a parameter named like run's debug option, or another run: Triton's own path
    kinds = tuple(_kind(p) for p in fn.params)
    defaults = tuple(p.default if p.has_default else _MISSING for p in fn.params)
    return _fast_launch.Dispatcher(fn, names, {n: i for i, n in enumerate(names)}, kinds, defaults, _MISSING, config,
                                   active, _resolved(active), CompiledKernel, _miss, (tl.dtype, JITFunction),
                                   (tl.dtype, JITFunction, tl.constexpr), JITFunction.run)


def _kind(param: Any) -> int:
    if param.is_constexpr:
        return CONSTEXPR
    annotated = ANNOTATED if param.annotation_type else 0
    if param.do_not_specialize:
        return NO_SPECIALIZE | annotated
    return (NO_ALIGN if param.do_not_specialize_on_alignment else SPECIALIZE) | annotated


def _resolved(active: Any) -> Any:
    """The driver object behind Triton's lazy proxy (its methods called directly, not through __getattr__)."""
    if hasattr(active, "_initialize_obj"):
        active._initialize_obj()
        return active._obj
    return active


def _miss(fn: Any, grid: Any, args: Tuple, kwargs: Dict[str, Any]) -> Tuple[Any, Optional[Tuple]]:
    """A call the dispatcher has not seen: run handles it; then (kernel, how to launch it again) -- Triton's key
    for it, the launcher, the kernel handle and the runtime parameters' indices -- or (kernel, None) when it cannot
    be remembered (a warm-up hook returned None, a kernel not in Triton's cache)."""
    kernel = fn.run(*args, grid=grid, warmup=False, **kwargs)
    if kernel is None:
        return None, None
    from triton.runtime.driver import driver
    kernel_cache = fn.device_caches[driver.active.get_current_device()][0]
    # The key run stored it under (run makes a CompiledKernel per key, so the object names its key).
    key = next((k for k, cached in kernel_cache.items() if cached is kernel), None)
    if key is None:
        return kernel, None
    launcher = kernel.run  # initialises the kernel's handles
    if not hasattr(launcher, "native_launcher"):
        return kernel, None
    return kernel, (key, launcher, kernel.function, tuple(launcher.keep))


def hits(fn: Any) -> int:
    """How many calls of ``fn[grid](...)`` the native dispatcher has launched itself so far (0 without one)."""
    fast = getattr(fn, "__dict__", {}).get("_fast_launch")
    return fast.stats()["hits"] if fast else 0

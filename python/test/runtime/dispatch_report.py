"""What NEO says about every dispatch, and what the Level Zero loader's tracing layer says about every argument:
the two reports the dispatch-verification tests (test_dispatch.py, test_sycl_interop.py) read.

NEO's dispatch report (``NEOReadDebugKeys=1 PrintKernelDispatchParameters=1``; measured on NEO 26.27.39122.14,
release build, emulated pvc) is one line per dispatch on stdout, comma-separated key/value pairs::

    kernel, softmax_kernel, grfCount, 128, simdSize, 32, tilesCount, 0, implicitScaling, no, threadGroupCount, 4,
    numberOfThreadsInGpgpuThreadGroup, 4, threadGroupDimensions, 4, 1, 1, threadGroupDispatchSize enum, 3

(one line; wrapped here).  ``threadGroupCount`` is the total number of work-groups, ``threadGroupDimensions`` the
groups in x, y, z, ``numberOfThreadsInGpgpuThreadGroup`` the hardware threads of one group (work-group size /
SIMD).  The work-group size itself and the arguments are not printed: ``PrintL0SetKernelArg=1`` prints buffer
arguments only (``set arg buffer index : N requested address : P``, stderr), so every argument's index, size and
value (its bytes) comes from the loader's tracing layer (``ZE_ENABLE_TRACING_LAYER=1`` and ``zelTracer`` callbacks
on ``zeKernelSetArgumentValue`` and ``zeCommandListAppendLaunchKernel``, whose group counts are the grid; see
``TRACER_PRELUDE``).  SYCL's Level Zero adapter makes the same calls, so the tracer sees both launch paths.

The parser takes the pairs by name, not by position: keys are the non-numeric tokens (other than yes/no),
each followed by its values, so a field added or moved by another NEO release does not break it.
"""

import re
from typing import Dict, List

# NEO debug keys for a dispatch report; NEO reads them from the environment when it loads, with the emulated
# device's own keys (runtime/emulation.py), which TRITON_XPU_EMULATE sets.
DISPATCH_ENV = {"NEOReadDebugKeys": "1", "PrintKernelDispatchParameters": "1", "ZE_ENABLE_TRACING_LAYER": "1"}

_NUMBER = re.compile(r"^-?\d+$")


def _value(token: str):
    return int(token) if _NUMBER.match(token) else token


def parse_dispatches(stdout: str) -> List[Dict[str, object]]:
    """Every dispatch NEO reported, in order: ``{"kernel": name, "grfCount": 128, "threadGroupDimensions":
    [4, 1, 1], ...}`` (a key with one value maps to it, with several to the list)."""
    dispatches = []
    for line in stdout.splitlines():
        tokens = [t.strip() for t in line.strip().split(",")]
        if len(tokens) < 2 or tokens[0] != "kernel":
            continue
        entry: Dict[str, object] = {"kernel": tokens[1]}
        key = None
        values: List[object] = []
        for token in tokens[2:] + [None]:
            if token is None or (not _NUMBER.match(token) and token not in ("yes", "no")):
                if key is not None:
                    entry[key] = values[0] if len(values) == 1 else values
                key, values = token, []
            else:
                values.append(_value(token))
        dispatches.append(entry)
    return dispatches


# Python run in a child process before the first launch: a tracer on the Level Zero loader (the same library
# the driver's runtime links) recording every zeKernelSetArgumentValue as (kernel handle, index, size, value: the
# argument's bytes in hex, None for a null pArgValue), every zeCommandListAppendLaunchKernel as (kernel handle,
# group counts) and every zeKernelSetGroupSize as (kernel handle, work-group size: NEO prints none).
# ZE_ENABLE_TRACING_LAYER=1 must be in the environment before zeInit.
TRACER_PRELUDE = """
import ctypes
_ze = ctypes.CDLL("libze_loader.so.1")
class _SetArgParams(ctypes.Structure):
    _fields_ = [("phKernel", ctypes.POINTER(ctypes.c_void_p)), ("pargIndex", ctypes.POINTER(ctypes.c_uint32)),
                ("pargSize", ctypes.POINTER(ctypes.c_size_t)), ("ppArgValue", ctypes.POINTER(ctypes.c_void_p))]
class _LaunchParams(ctypes.Structure):  # the leading fields of ze_command_list_append_launch_kernel_params_t
    _fields_ = [("phCommandList", ctypes.POINTER(ctypes.c_void_p)), ("phKernel", ctypes.POINTER(ctypes.c_void_p)),
                ("ppLaunchFuncArgs", ctypes.POINTER(ctypes.POINTER(ctypes.c_uint32 * 3)))]
class _GroupSizeParams(ctypes.Structure):  # ze_kernel_set_group_size_params_t
    _fields_ = [("phKernel", ctypes.POINTER(ctypes.c_void_p)), ("pgroupSizeX", ctypes.POINTER(ctypes.c_uint32)),
                ("pgroupSizeY", ctypes.POINTER(ctypes.c_uint32)), ("pgroupSizeZ", ctypes.POINTER(ctypes.c_uint32))]
class _TracerDesc(ctypes.Structure):
    _fields_ = [("stype", ctypes.c_int), ("pNext", ctypes.c_void_p), ("pUserData", ctypes.c_void_p)]
_SetArgCb = ctypes.CFUNCTYPE(None, ctypes.POINTER(_SetArgParams), ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_LaunchCb = ctypes.CFUNCTYPE(None, ctypes.POINTER(_LaunchParams), ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_GroupSizeCb = ctypes.CFUNCTYPE(None, ctypes.POINTER(_GroupSizeParams), ctypes.c_int, ctypes.c_void_p,
                                ctypes.c_void_p)
SET_ARGS = []
LAUNCHES = []
GROUP_SIZES = []
def _on_set_arg(params, result, user, instance):
    p = params.contents
    value, size = p.ppArgValue[0], p.pargSize[0]
    SET_ARGS.append({"kernel": p.phKernel[0] or 0, "index": p.pargIndex[0], "size": size,
                     "value": ctypes.string_at(value, size).hex() if value else None})
def _on_launch(params, result, user, instance):
    p = params.contents
    LAUNCHES.append({"kernel": p.phKernel[0] or 0, "groups": list(p.ppLaunchFuncArgs[0].contents)})
def _on_group_size(params, result, user, instance):
    p = params.contents
    GROUP_SIZES.append({"kernel": p.phKernel[0] or 0, "size": [p.pgroupSizeX[0], p.pgroupSizeY[0], p.pgroupSizeZ[0]]})
_on_set_arg_c = _SetArgCb(_on_set_arg)
_on_group_size_c = _GroupSizeCb(_on_group_size)
_on_launch_c = _LaunchCb(_on_launch)
def install_tracer():
    # After zeInit (level_zero.runtime()); raises when the loader offers no tracing layer.  The callbacks are
    # registered before the tracer is enabled: an enabled tracer refuses them (measured, loader 1.32).
    tracer = ctypes.c_void_p()
    steps = (("zelTracerCreate", lambda: _ze.zelTracerCreate(ctypes.byref(_TracerDesc(1, None, None)),
                                                             ctypes.byref(tracer))),
             ("zelTracerKernelSetArgumentValueRegisterCallback",
              lambda: _ze.zelTracerKernelSetArgumentValueRegisterCallback(tracer, 0, _on_set_arg_c)),
             ("zelTracerCommandListAppendLaunchKernelRegisterCallback",
              lambda: _ze.zelTracerCommandListAppendLaunchKernelRegisterCallback(tracer, 0, _on_launch_c)),
             ("zelTracerKernelSetGroupSizeRegisterCallback",
              lambda: _ze.zelTracerKernelSetGroupSizeRegisterCallback(tracer, 0, _on_group_size_c)),
             ("zelTracerSetEnabled", lambda: _ze.zelTracerSetEnabled(tracer, ctypes.c_bool(True))))
    for call, step in steps:
        result = step()
        if result != 0:
            raise RuntimeError(f"Level Zero tracing layer: {call} returned {result & 0xffffffff:#x}")
    return tracer
"""

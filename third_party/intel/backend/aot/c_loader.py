"""C source and header that embed a compiled kernel's native binary and load and launch it with Level Zero.

The API follows Triton's AOT convention with Level Zero types (for an output name ``NAME``)::

    ze_result_t load_NAME(ze_context_handle_t ctx, ze_device_handle_t dev);
    void unload_NAME(void);
    ze_result_t NAME(ze_command_list_handle_t list, uint32_t gridX, uint32_t gridY, uint32_t gridZ, <args>);
    const char *NAME_target(void);     /* the target whose binary was loaded, NULL when none is */
    const char *NAME_build_log(void);  /* the driver's build log of the last load_NAME */

Arguments: pointers as ``void *``, integers by their ``<stdint.h>`` types, ``i1`` as ``bool``, ``fp32``/``fp64``
as ``float``/``double``; ``fp16``/``bf16`` scalars are taken as ``float`` and rounded to nearest-even in the
launcher.  Constexpr arguments are absent.  The grid is in work-groups (Triton's programs); a work-group is
``num_warps x threads per warp`` work-items.

Loading is native only.  The module is created with ``ZE_MODULE_FORMAT_NATIVE`` from the embedded zebin or
fat binary and no build flags; where the driver refuses it (no member for the device in a fat binary, a
zebin for another product family) its Level Zero error is returned.  Where the driver accepts it only by
recompiling the SPIR-V that IGC embeds in every zebin (NEO's ``-Wrecompiled-from-ir``: a zebin for another
product of the same family, or another stepping), the module is destroyed and
``ZE_RESULT_ERROR_INVALID_NATIVE_BINARY`` returned: the build log is checked rather than the ``.spv`` section
stripped, so the shipped bytes stay exactly those the compiler produced and the log says why (read it with
``NAME_build_log()``).

A fat binary's targets may need different launches (threads per warp: 16 on pvc for DPAS, 32 on acm-g10;
shared memory, passed as one extra last argument when used).  After loading, the member the driver chose is
identified by comparing ``zeModuleGetNativeBinary`` with the embedded members; where a driver returns
something else, the targets whose SIMD width and argument count match the loaded kernel are used if their
launches agree, else loading fails.

State is one loaded module per kernel (process-wide), as in Triton's CUDA AOT; not thread-safe.
"""

from __future__ import annotations

import os
import re
from typing import List, Optional, Tuple

from triton.backends.intel.errors import IntelBackendError

# Triton scalar type -> (C parameter type, bytes the kernel takes)
_SCALARS = {
    "i1": ("bool", 1), "u1": ("bool", 1), "B": ("bool", 1),
    "i8": ("int8_t", 1), "i16": ("int16_t", 2), "i32": ("int32_t", 4), "i64": ("int64_t", 8),
    "u8": ("uint8_t", 1), "u16": ("uint16_t", 2), "u32": ("uint32_t", 4), "u64": ("uint64_t", 8),
    "fp16": ("float", 2), "bf16": ("float", 2), "fp32": ("float", 4), "fp64": ("double", 8),
}

_C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if inline int long
register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
_Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local bool true
false NULL
""".split())
# Names the generated launcher itself uses.
_RESERVED = frozenset({"list", "gridX", "gridY", "gridZ", "r", "groups"})

LOG_CAPACITY = 4096


class CGenerationError(IntelBackendError, ValueError):
    """A kernel the C loader cannot express (an argument type C has no counterpart for, ...)."""


def c_type(triton_type: str) -> Optional[str]:
    """The C parameter type for a Triton argument type; None when C cannot take it."""
    if triton_type.startswith("*"):
        return "void *"
    entry = _SCALARS.get(triton_type)
    return entry[0] if entry else None


def _kernel_bytes(triton_type: str) -> int:
    return 8 if triton_type.startswith("*") else _SCALARS[triton_type][1]


def _param_name(name: str) -> str:
    return f"{name}_arg" if name in _C_KEYWORDS or name in _RESERVED else name


def _check(artifact) -> None:
    """Every target's binary takes exactly the arguments the C prototype passes, in the sizes passed."""
    spec = artifact.spec
    args = spec.runtime_args
    for name, ty in args:
        if c_type(ty) is None:
            raise CGenerationError(f"cannot emit C for {spec.name}: argument {name} has type {ty}, which has no C "
                                   f"counterpart (supported: pointers, {', '.join(sorted(_SCALARS))})")
    for build in artifact.builds:
        explicit = {}
        for a in build.kernel.explicit_arguments:
            explicit.setdefault(a.arg_index, a)
        expected = len(args) + (1 if build.shared else 0)
        if sorted(explicit) != list(range(expected)):
            raise CGenerationError(
                f"cannot emit C for {spec.name}: its {build.target} binary takes {len(explicit)} arguments, "
                f"expected {len(args)}" + (" plus its shared memory" if build.shared else ""))
        info = {a.get("index"): a for a in build.kernel.arg_info}
        for index, (name, ty) in enumerate(args):
            m = re.search(r";(\d+)$", str(info.get(index, {}).get("type_name", "")))
            size = int(m.group(1)) if m else explicit[index].size
            if m and size != _kernel_bytes(ty) or (not m and size < _kernel_bytes(ty)):
                raise CGenerationError(f"cannot emit C for {spec.name}: argument {index} ({name}, {ty}) is {size} "
                                       f"bytes in the {build.target} binary, the launcher passes "
                                       f"{_kernel_bytes(ty)}")


def _bytes_initializer(data: bytes, indent: str = "  ", per_line: int = 16) -> str:
    lines = []
    for start in range(0, len(data), per_line):
        chunk = data[start:start + per_line]
        lines.append(indent + ", ".join(f"0x{b:02x}" for b in chunk) + ",")
    return "\n".join(lines)


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def _prototype(name: str, args: List[Tuple[str, str]], names: List[str]) -> str:
    params = ["ze_command_list_handle_t list", "uint32_t gridX", "uint32_t gridY", "uint32_t gridZ"]
    for (_, ty), param in zip(args, names):
        ctype = c_type(ty)
        params.append(f"{ctype}{'' if ctype.endswith('*') else ' '}{param}")
    return f"ze_result_t {name}({', '.join(params)})"


def _describe(artifact) -> List[str]:
    spec = artifact.spec
    lines = [f"Triton kernel {spec.kernel} from {os.path.basename(spec.path)},",
             "compiled ahead of time to native Intel GPU code by `triton-xpu compile`.", ""]
    if spec.constexprs:
        lines.append("constexprs: " + ", ".join(f"{k}={v!r}" for k, v in spec.constexprs.items()))
    lines.append("arguments: " + (", ".join(f"{n}: {t}" for n, t in spec.runtime_args) or "none"))
    lines.append(f"binary: {'fat binary' if artifact.is_fat else 'zebin'}, {len(artifact.binary)} bytes")
    for b in artifact.builds:
        md = b.metadata
        spill = md.get("spill_bytes")
        lines.append(f"  {b.target}: work-groups of {b.group_size} (num_warps {md.get('num_warps')} x threads per "
                     f"warp {md.get('threads_per_warp')}), shared memory {b.shared} B, GRF {md.get('grf_mode')}, "
                     f"spill {'unknown' if spill is None else f'{spill} B'}")
    return lines


def generate(artifact) -> Tuple[str, str]:
    """(header, source) for ``artifact`` (an aot.Artifact); CGenerationError if C cannot launch it."""
    _check(artifact)
    spec = artifact.spec
    name = spec.name
    args = spec.runtime_args
    guard = f"TRITON_XPU_AOT_{name.upper()}_H"
    about = "\n".join(f" * {_comment(line)}".rstrip() for line in _describe(artifact))

    # Parameter and local names: the kernel's own where C allows, never one the launcher body uses.
    taken = set(_RESERVED) | {f"{name}_kernel", f"{name}_fp16_bits", f"{name}_bf16_bits"}
    params = []
    for arg, _ in args:
        p = _param_name(arg)
        while p in taken:
            p += "_"
        taken.add(p)
        params.append(p)
    sets = ["  ze_result_t r;"] if args else []
    for index, ((arg, ty), p) in enumerate(zip(args, params)):
        if ty.startswith("*"):
            # A null pointer is passed as no value, as the Level Zero spec asks.
            value, size = f"{p} ? (const void *)&{p} : NULL", "sizeof(void *)"
        elif ty in ("fp16", "bf16"):
            bits = f"{p}_bits"
            while bits in taken:
                bits += "_"
            taken.add(bits)
            sets.append(f"  uint16_t {bits} = {name}_{ty}_bits({p});")
            value, size = f"&{bits}", f"sizeof {bits}"
        else:
            value, size = f"&{p}", f"sizeof {p}"
        sets.append(f"  r = zeKernelSetArgumentValue({name}_kernel, {index}u, {size}, {value});")
        sets.append("  if (r != ZE_RESULT_SUCCESS) return r;")
    set_args = "\n".join(sets)
    prototype = _prototype(name, args, params)

    header = f"""/* {name}.h -- generated by triton-xpu; do not edit.
 *
{about}
 */
#ifndef {guard}
#define {guard}

#include <stdbool.h>
#include <stdint.h>

#include <level_zero/ze_api.h>

#ifdef __cplusplus
extern "C" {{
#endif

/* Load the kernel's native binary on `dev` in `ctx` (ZE_MODULE_FORMAT_NATIVE only; a loaded one is unloaded
 * first).  Returns the driver's error for a device the binary was not built for, and
 * ZE_RESULT_ERROR_INVALID_NATIVE_BINARY where the driver could load it only by recompiling from IR. */
ze_result_t load_{name}(ze_context_handle_t ctx, ze_device_handle_t dev);

/* Destroy the kernel and module created by load_{name}; safe to call when nothing is loaded. */
void unload_{name}(void);

/* Append a launch of gridX x gridY x gridZ work-groups to `list`.  ZE_RESULT_ERROR_UNINITIALIZED before
 * load_{name}; an empty grid appends nothing. */
{prototype};

/* The target ("pvc", "acm-g10", ...) whose binary load_{name} loaded; NULL when none is loaded. */
const char *{name}_target(void);

/* The driver's build log of the last load_{name} ("" when it wrote none). */
const char *{name}_build_log(void);

#ifdef __cplusplus
}}
#endif

#endif /* {guard} */
"""

    n_args = len(args)
    table = []
    for b in artifact.builds:
        table.append(f"  {{{_c_string(b.target)}, {b.offset}u, {len(b.zebin)}u, {b.group_size}u, "
                     f"{int(b.metadata['threads_per_warp'])}u, {b.shared}u, {n_args + (1 if b.shared else 0)}u}},")

    uses_fp16 = any(t == "fp16" for _, t in args)
    uses_bf16 = any(t == "bf16" for _, t in args)
    helpers = []
    if uses_fp16:
        helpers.append(f"""
/* float -> IEEE binary16 bits, rounded to nearest even. */
static uint16_t {name}_fp16_bits(float value) {{
  uint32_t x;
  memcpy(&x, &value, sizeof x);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = (int32_t)((x >> 23) & 0xffu);
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0u));
  exp = exp - 127 + 15;
  if (exp >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) {{
    if (exp < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (half & 1u))) half++;
    return (uint16_t)(sign | half);
  }}
  uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++;
  return (uint16_t)half;
}}
""")
    if uses_bf16:
        helpers.append(f"""
/* float -> bfloat16 bits, rounded to nearest even. */
static uint16_t {name}_bf16_bits(float value) {{
  uint32_t x;
  memcpy(&x, &value, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}}
""")

    binary_init = _bytes_initializer(artifact.binary)

    source = f"""/* {name}.c -- generated by triton-xpu; do not edit.
 *
{about}
 *
 * Build: cc -std=c11 -c {name}.c; link with -lze_loader.
 */
#include "{name}.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One target's binary: where its zebin is in {name}_binary and how to launch it there. */
typedef struct {{
  const char *target;
  size_t offset, size;
  uint32_t group_size;       /* work-items per work-group: num_warps x threads per warp */
  uint32_t threads_per_warp; /* the kernel's SIMD width */
  uint32_t shared;           /* bytes of shared local memory, passed as one extra last argument */
  uint32_t num_args;         /* arguments of the kernel, the shared-memory one included */
}} {name}_target_t;

#define {name.upper()}_NUM_TARGETS {len(artifact.builds)}u
#define {name.upper()}_NUM_ARGS {n_args}u

static _Alignas(64) const unsigned char {name}_binary[{len(artifact.binary)}] = {{
{binary_init}
}};

static const {name}_target_t {name}_targets[{name.upper()}_NUM_TARGETS] = {{
{chr(10).join(table)}
}};

static const char {name}_kernel_name[] = {_c_string(artifact.kernel_symbol)};

static ze_module_handle_t {name}_module = NULL;
static ze_kernel_handle_t {name}_kernel = NULL;
static const {name}_target_t *{name}_loaded = NULL;
static char {name}_log[{LOG_CAPACITY}];
{''.join(helpers)}
static void {name}_keep_log(ze_module_build_log_handle_t log) {{
  {name}_log[0] = '\\0';
  if (log == NULL) return;
  size_t size = 0;
  if (zeModuleBuildLogGetString(log, &size, NULL) == ZE_RESULT_SUCCESS && size > 0) {{
    char *text = (char *)malloc(size);
    if (text != NULL && zeModuleBuildLogGetString(log, &size, text) == ZE_RESULT_SUCCESS) {{
      const char *end = (const char *)memchr(text, '\\0', size);
      size_t n = end != NULL ? (size_t)(end - text) : size;
      if (n >= sizeof {name}_log) n = sizeof {name}_log - 1;
      memcpy({name}_log, text, n);
      {name}_log[n] = '\\0';
    }}
    free(text);
  }}
  zeModuleBuildLogDestroy(log);
}}

static void {name}_note(const char *text) {{
  size_t used = strlen({name}_log);
  size_t room = sizeof {name}_log - used;
  if (room > 1) {{
    size_t n = strlen(text);
    if (n >= room) n = room - 1;
    memcpy({name}_log + used, text, n);
    {name}_log[used + n] = '\\0';
  }}
}}

/* NEO's warning when it compiled the embedded SPIR-V instead of loading the native code:
 * "module got recompiled from IR because provided native binary is incompatible ... [-Wrecompiled-from-ir]" */
static int {name}_recompiled(const char *log) {{
  static const char *const needles[] = {{"recompiled from ir", "recompiled-from-ir"}};
  for (const char *p = log; *p != '\\0'; ++p) {{
    for (size_t k = 0; k < sizeof needles / sizeof needles[0]; ++k) {{
      const char *n = needles[k];
      size_t i = 0;
      while (n[i] != '\\0' && p[i] != '\\0') {{
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != n[i]) break;
        ++i;
      }}
      if (n[i] == '\\0') return 1;
    }}
  }}
  return 0;
}}

/* Which target's binary the driver loaded. */
static const {name}_target_t *{name}_identify(ze_module_handle_t module, const ze_kernel_properties_t *props) {{
  if ({name.upper()}_NUM_TARGETS == 1u) return &{name}_targets[0];
  size_t size = 0;
  if (zeModuleGetNativeBinary(module, &size, NULL) == ZE_RESULT_SUCCESS && size > 0) {{
    uint8_t *native = (uint8_t *)malloc(size);
    if (native != NULL && zeModuleGetNativeBinary(module, &size, native) == ZE_RESULT_SUCCESS) {{
      for (uint32_t i = 0; i < {name.upper()}_NUM_TARGETS; ++i) {{
        const {name}_target_t *t = &{name}_targets[i];
        if (t->size == size && memcmp({name}_binary + t->offset, native, size) == 0) {{
          free(native);
          return t;
        }}
      }}
    }}
    free(native);
  }}
  /* The driver returned something else: the targets the loaded kernel's shape matches, if they agree. */
  const {name}_target_t *found = NULL;
  for (uint32_t i = 0; i < {name.upper()}_NUM_TARGETS; ++i) {{
    const {name}_target_t *t = &{name}_targets[i];
    if (t->threads_per_warp != props->maxSubgroupSize || t->num_args != props->numKernelArgs) continue;
    if (found != NULL && (found->group_size != t->group_size || found->shared != t->shared)) return NULL;
    found = t;
  }}
  return found;
}}

void unload_{name}(void) {{
  if ({name}_kernel != NULL) zeKernelDestroy({name}_kernel);
  if ({name}_module != NULL) zeModuleDestroy({name}_module);
  {name}_kernel = NULL;
  {name}_module = NULL;
  {name}_loaded = NULL;
}}

ze_result_t load_{name}(ze_context_handle_t ctx, ze_device_handle_t dev) {{
  unload_{name}();
  ze_module_desc_t desc = {{
      .stype = ZE_STRUCTURE_TYPE_MODULE_DESC,
      .format = ZE_MODULE_FORMAT_NATIVE,
      .inputSize = sizeof {name}_binary,
      .pInputModule = {name}_binary,
  }};
  ze_module_handle_t module = NULL;
  ze_module_build_log_handle_t log = NULL;
  ze_result_t r = zeModuleCreate(ctx, dev, &desc, &module, &log);
  {name}_keep_log(log);
  if (r != ZE_RESULT_SUCCESS) {{
    if (module != NULL) zeModuleDestroy(module);
    return r;
  }}
  if ({name}_recompiled({name}_log)) {{
    /* Never a silent JIT: the binary is not for this device. */
    {name}_note("\\ntriton-xpu: refused: the driver could load the binary only by recompiling it from IR; "
               "it was not compiled for this device");
    zeModuleDestroy(module);
    return ZE_RESULT_ERROR_INVALID_NATIVE_BINARY;
  }}
  ze_kernel_desc_t kdesc = {{.stype = ZE_STRUCTURE_TYPE_KERNEL_DESC, .pKernelName = {name}_kernel_name}};
  ze_kernel_handle_t kernel = NULL;
  r = zeKernelCreate(module, &kdesc, &kernel);
  if (r != ZE_RESULT_SUCCESS) {{
    zeModuleDestroy(module);
    return r;
  }}
  ze_kernel_properties_t props = {{.stype = ZE_STRUCTURE_TYPE_KERNEL_PROPERTIES}};
  r = zeKernelGetProperties(kernel, &props);
  const {name}_target_t *target = r == ZE_RESULT_SUCCESS ? {name}_identify(module, &props) : NULL;
  if (r == ZE_RESULT_SUCCESS && (target == NULL || props.numKernelArgs != target->num_args)) {{
    {name}_note("\\ntriton-xpu: the loaded kernel matches none of the embedded targets");
    r = ZE_RESULT_ERROR_INVALID_NATIVE_BINARY;
  }}
  if (r == ZE_RESULT_SUCCESS) r = zeKernelSetGroupSize(kernel, target->group_size, 1u, 1u);
  if (r == ZE_RESULT_SUCCESS && target->shared > 0u)
    r = zeKernelSetArgumentValue(kernel, {name.upper()}_NUM_ARGS, target->shared, NULL);
  if (r != ZE_RESULT_SUCCESS) {{
    zeKernelDestroy(kernel);
    zeModuleDestroy(module);
    return r;
  }}
  {name}_module = module;
  {name}_kernel = kernel;
  {name}_loaded = target;
  return ZE_RESULT_SUCCESS;
}}

{prototype} {{
  if ({name}_kernel == NULL) return ZE_RESULT_ERROR_UNINITIALIZED;
  if (gridX == 0u || gridY == 0u || gridZ == 0u) return ZE_RESULT_SUCCESS;
{set_args}
  ze_group_count_t groups = {{gridX, gridY, gridZ}};
  return zeCommandListAppendLaunchKernel(list, {name}_kernel, &groups, NULL, 0u, NULL);
}}

const char *{name}_target(void) {{ return {name}_loaded != NULL ? {name}_loaded->target : NULL; }}

const char *{name}_build_log(void) {{ return {name}_log; }}
"""
    return header, source

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
zebin for another device: by default zebins carry no IR, so NEO has nothing to fall back on) its Level Zero
error is returned and ``NAME_build_log()`` says which targets the binary holds and to recompile for the
device's.  Where the driver accepts a binary built with ``--keep-ir`` only by recompiling its embedded
SPIR-V (NEO's ``-Wrecompiled-from-ir``), the module is destroyed and ``ZE_RESULT_ERROR_INVALID_NATIVE_BINARY``
returned, the log saying why.

A fat binary's targets may need different launches (threads per warp: 16 on pvc for DPAS, 32 on acm-g10;
shared memory, passed as one extra last argument when used).  After loading, the member the driver chose is
identified by comparing ``zeModuleGetNativeBinary`` with the embedded members; where a driver returns
something else, the targets whose SIMD width and argument count match the loaded kernel are used if their
launches agree, else loading fails.

State is one loaded module per kernel (process-wide), as in Triton's CUDA AOT; not thread-safe.

The C is not in this module: the fixed part is C in ``c_templates/`` (``loader.h``, ``loader.c``, and the
``fp16_bits.c`` / ``bf16_bits.c`` conversions, copied in only where a kernel takes such a scalar), written for
a kernel named ``NAME`` against a few generated parts it includes as ``#include "generated/PART.inc"``, so
that each template compiles as it is given those parts (python/test/aot/test_c_loader.py compiles them).
This module only maps Triton types to C, checks that every target's binary takes what the launcher passes,
generates the parts (the opening comment, the embedded bytes, the per-target table, the launch function)
and assembles the two files: each template's ``//`` notes dropped, ``NAME`` replaced by the output name,
each ``#include "generated/..."`` line by its part.  NAME is replaced here rather than pasted by the
preprocessor so that the output reads as hand-written C: real names that grep and debuggers find, and a
header whose declarations are the API.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

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
# Names the generated launch function itself uses.
_RESERVED = frozenset({"list", "gridX", "gridY", "gridZ", "r", "groups"})

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c_templates")
# Every template file this module reads; the package must ship each (python/test/aot checks the installed one).
TEMPLATES = ("loader.h", "loader.c", "fp16_bits.c", "bf16_bits.c")
# Where a template has a generated part: the whole line, `#include "generated/PART.inc"`.
_SLOT = re.compile(r'^#include "generated/(\w+)\.inc"\n', re.MULTILINE)
# The output name's stand-in: NAME as a whole word between underscores or punctuation (load_NAME, NAME.h).
_PLACEHOLDER = re.compile(r"(?<![0-9A-Za-z])NAME(?![0-9A-Za-z])")
# A template's notes for its maintainers, not copied.
_NOTE = re.compile(r"^//.*\n", re.MULTILINE)


class CGenerationError(IntelBackendError, ValueError):
    """A kernel the C loader cannot express (an argument type C has no counterpart for, ...)."""


class CTemplateError(IntelBackendError):
    """A C loader template missing or unreadable: an incomplete installation of triton-xpu."""


def c_type(triton_type: str) -> Optional[str]:
    """The C parameter type for a Triton argument type; None when C cannot take it."""
    if triton_type.startswith("*"):
        return "void *"
    entry = _SCALARS.get(triton_type)
    return entry[0] if entry else None


def _kernel_bytes(triton_type: str) -> int:
    return 8 if triton_type.startswith("*") else _SCALARS[triton_type][1]


# --------------------------------------------------------------------------------------------------------
# checks: every target's binary takes exactly the arguments the C prototype passes, in the sizes passed


def check_name(name: str) -> None:
    """An output name that is a C keyword would make NAME(...) and load_NAME unusable C."""
    if name in _C_KEYWORDS:
        raise CGenerationError(f"cannot emit C for output name {name!r}: it is a C keyword; choose another name "
                               f"with --out-name")


def _check(artifact) -> None:
    spec = artifact.spec
    check_name(spec.name)
    for name, ty in spec.runtime_args:
        if c_type(ty) is None:
            raise CGenerationError(f"cannot emit C for {spec.name}: argument {name} has type {ty}, which has no C "
                                   f"counterpart (supported: pointers, {', '.join(sorted(_SCALARS))})")
    for build in artifact.builds:
        _check_build(spec, build)


def _check_build(spec, build) -> None:
    args = spec.runtime_args
    explicit = {}
    for a in build.kernel.explicit_arguments:
        explicit.setdefault(a.arg_index, a)
    # The shared-memory argument, where there is one, comes last: loader.c sets it at num_args - 1.
    expected = len(args) + (1 if build.shared else 0)
    if sorted(explicit) != list(range(expected)):
        raise CGenerationError(
            f"cannot emit C for {spec.name}: its {build.target} binary takes {len(explicit)} arguments, "
            f"expected {len(args)}" + (" plus its shared memory" if build.shared else ""))
    info = {a.get("index"): a for a in build.kernel.arg_info}
    for index, (name, ty) in enumerate(args):
        # The size IGC's type name gives ("int;4") is exact; without one, the argument's slot must hold it.
        m = re.search(r";(\d+)$", str(info.get(index, {}).get("type_name", "")))
        size = int(m.group(1)) if m else explicit[index].size
        if m and size != _kernel_bytes(ty) or (not m and size < _kernel_bytes(ty)):
            raise CGenerationError(f"cannot emit C for {spec.name}: argument {index} ({name}, {ty}) is {size} "
                                   f"bytes in the {build.target} binary, the launcher passes {_kernel_bytes(ty)}")


# --------------------------------------------------------------------------------------------------------
# the generated parts


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


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


def _about(filename: str, lines: Sequence[str]) -> str:
    """The comment that opens ``filename``: what it is, then ``lines``."""
    # A constexpr's repr or a file name may hold "*/", which must not end the comment.
    body = "".join(f" * {line.replace('*/', '* /')}".rstrip() + "\n" for line in ["", *lines])
    return f"/* {filename} -- generated by triton-xpu; do not edit.\n{body} */\n"


def _bytes_initializer(data: bytes, indent: str = "  ", per_line: int = 16) -> str:
    return "\n".join(indent + ", ".join(f"0x{b:02x}" for b in data[start:start + per_line]) + ","
                     for start in range(0, len(data), per_line))


def _binary_part(artifact) -> str:
    """NAME_binary, NAME_targets, NAME_kernel_name, NAME_built_for and NAME_embeds_ir, as loader.c uses them."""
    name = artifact.spec.name
    n_args = len(artifact.spec.runtime_args)
    rows = [f"  {{{_c_string(b.target)}, {b.offset}u, {len(b.zebin)}u, {b.group_size}u, "
            f"{int(b.metadata['threads_per_warp'])}u, {b.shared}u, {n_args + (1 if b.shared else 0)}u}},"
            for b in artifact.builds]
    return (f"static _Alignas(64) const unsigned char {name}_binary[{len(artifact.binary)}] = {{\n"
            f"{_bytes_initializer(artifact.binary)}\n}};\n\n"
            f"static const {name}_target_t {name}_targets[] = {{\n" + "\n".join(rows) + "\n};\n\n"
            f"static const char {name}_kernel_name[] = {_c_string(artifact.kernel_symbol)};\n"
            f"static const char {name}_built_for[] = {_c_string(', '.join(b.target for b in artifact.builds))};\n"
            f"static const int {name}_embeds_ir = {int(any(b.embeds_ir for b in artifact.builds))};\n")


def _used_by_launch(name: str) -> FrozenSet[str]:
    """The names the launch function's body uses besides its parameters: none of those may shadow them."""
    return _RESERVED | {f"{name}_kernel", f"{name}_fp16_bits", f"{name}_bf16_bits"}


def _parameter_names(name: str, args: Sequence[Tuple[str, str]]) -> List[str]:
    """The kernel's own argument names where C allows, never one the launch function's body uses."""
    taken = set(_used_by_launch(name))
    params = []
    for arg, _ in args:
        p = f"{arg}_arg" if arg in _C_KEYWORDS or arg in _RESERVED else arg
        while p in taken:
            p += "_"
        taken.add(p)
        params.append(p)
    return params


def _prototype(name: str, args: Sequence[Tuple[str, str]], params: Sequence[str]) -> str:
    decls = ["ze_command_list_handle_t list", "uint32_t gridX", "uint32_t gridY", "uint32_t gridZ"]
    for (_, ty), param in zip(args, params):
        ctype = c_type(ty)
        decls.append(f"{ctype}{'' if ctype.endswith('*') else ' '}{param}")
    return f"ze_result_t {name}({', '.join(decls)})"


def _set_arguments(name: str, args: Sequence[Tuple[str, str]], params: Sequence[str]) -> List[str]:
    """The launch function's zeKernelSetArgumentValue calls, one per argument, in the kernel's order."""
    taken = set(_used_by_launch(name)) | set(params)
    lines = ["  ze_result_t r;"] if args else []
    for index, ((_, ty), p) in enumerate(zip(args, params)):
        if ty.startswith("*"):
            # A null pointer is passed as no value, as the Level Zero spec asks.
            value, size = f"{p} ? (const void *)&{p} : NULL", "sizeof(void *)"
        elif ty in ("fp16", "bf16"):
            # Taken as float (C has no half type everywhere), passed as the 16 bits the kernel reads.
            bits = f"{p}_bits"
            while bits in taken:
                bits += "_"
            taken.add(bits)
            lines.append(f"  uint16_t {bits} = {name}_{ty}_bits({p});")
            value, size = f"&{bits}", f"sizeof {bits}"
        else:
            value, size = f"&{p}", f"sizeof {p}"
        lines.append(f"  r = zeKernelSetArgumentValue({name}_kernel, {index}u, {size}, {value});")
        lines.append("  if (r != ZE_RESULT_SUCCESS) return r;")
    return lines


def _launch_part(name: str, args: Sequence[Tuple[str, str]], params: Sequence[str]) -> str:
    """The launch function, after the fp16/bf16 conversions it calls (each copied in only if used: an unused
    static function is a warning, and the loader must build with -Wall -Werror)."""
    conversions = [_template(f"{ty}_bits.c") for ty in ("fp16", "bf16") if any(t == ty for _, t in args)]
    body = [
        f"{_prototype(name, args, params)} {{",
        f"  if ({name}_kernel == NULL) return ZE_RESULT_ERROR_UNINITIALIZED;",
        "  if (gridX == 0u || gridY == 0u || gridZ == 0u) return ZE_RESULT_SUCCESS;",
        *_set_arguments(name, args, params),
        "  ze_group_count_t groups = {gridX, gridY, gridZ};",
        f"  return zeCommandListAppendLaunchKernel(list, {name}_kernel, &groups, NULL, 0u, NULL);",
        "}",
    ]
    return "".join(_fill(text, name, {}) + "\n" for text in conversions) + "\n".join(body) + "\n"


# --------------------------------------------------------------------------------------------------------
# the templates and the assembly


@functools.lru_cache(maxsize=None)
def _template(filename: str) -> str:
    path = os.path.join(TEMPLATE_DIR, filename)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise CTemplateError(f"the C loader template {path} cannot be read ({e.strerror or e}): this triton-xpu "
                             f"installation is incomplete; reinstall it") from None


def check_templates() -> None:
    """CTemplateError unless every template is there (before compiling, so a broken install costs no compile)."""
    for filename in TEMPLATES:
        _template(filename)


def _fill(template: str, name: str, parts: Dict[str, str]) -> str:
    """``template`` with its notes dropped, NAME replaced by ``name`` and each generated part in its slot.

    NAME is replaced before the parts go in: they are already written for ``name`` and hold text of the
    user's (argument names, constexpr values) that may contain the word NAME."""
    text = _PLACEHOLDER.sub(name, _NOTE.sub("", template))
    slots = _SLOT.findall(text)
    if sorted(slots) != sorted(parts):  # the templates and this module out of step: a bug, not a user error
        raise AssertionError(f"template slots {sorted(slots)} but generated parts {sorted(parts)}")
    return _SLOT.sub(lambda m: parts[m.group(1)], text)


def generate(artifact) -> Tuple[str, str]:
    """(header, source) for ``artifact`` (an aot.Artifact); CGenerationError if C cannot launch it."""
    _check(artifact)
    name = artifact.spec.name
    args = artifact.spec.runtime_args
    params = _parameter_names(name, args)
    about = _describe(artifact)
    header = _fill(_template("loader.h"), name, {
        "about": _about(f"{name}.h", about),
        "prototype": _prototype(name, args, params) + ";\n",
    })
    source = _fill(_template("loader.c"), name, {
        "about": _about(f"{name}.c", [*about, "", f"Build: cc -std=c11 -c {name}.c; link with -lze_loader."]),
        "binary": _binary_part(artifact),
        "launch": _launch_part(name, args, params),
    })
    return header, source

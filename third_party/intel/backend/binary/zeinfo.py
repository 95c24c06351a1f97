""".ze_info, the YAML metadata of a zebin: the text subset IGC writes and the zeinfo schema.

:func:`parse` reads ``.ze_info`` bytes into plain Python values, strictly:

* the text must be the YAML subset IGC writes -- block mappings and sequences of ``key: value`` lines, values
  plain, quoted or a flow list of integers; no comments, anchors, aliases, tags or multi-line scalars, all of
  which NEO's own YAML parser and PyYAML could read differently;
* the tree must follow the zeinfo schema (IGC ``ZEBinWriter/zebin/spec/zeinfo.md`` and ``version.md``, zeinfo
  1.20 as IGC 1.0.12504 writes it up to 1.73 of IGC 2.40): only the spec's keys at each level, required keys
  present, values of the right type, range and enumeration.

The schema below is declared once as data (:class:`Spec` trees); the bounds are generous for real kernels
and far from any overflow in the driver.
"""

from __future__ import annotations

import re
from typing import Any, Dict

import yaml

from triton.backends.intel.errors import ZebinFormatError

try:  # libyaml's parser is ~10x faster; the pure-Python one gives the same result
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader

# Bounds of the values a kernel's metadata may take (generous for real kernels, far from overflow).
MAX_CROSS_THREAD_BYTES = 8192  # offset + size of every payload argument
MAX_EXPLICIT_ARGS = 1024  # arg_index < this
MAX_PER_THREAD_BYTES = 1 << 24  # per-thread memory buffers, private/spill sizes
MAX_SLM_BYTES = 1 << 20
MAX_GRF = 512
MAX_BTI = 254  # NEO sizes the binding table and sampler state from these: 0..254 (22.43 and 26.27)
MAX_SAMPLERS = 255
MAX_GROUP_DIM = 65535  # NEO keeps work-group sizes in 16 bits
_I32_MAX = (1 << 31) - 1


def _fail(message: str) -> None:
    raise ZebinFormatError(message)


# .ze_info text: the YAML subset IGC writes -- block mappings and sequences of "key: value" lines, values
# plain, quoted or a flow sequence of integers; no comments, anchors, aliases, tags or multi-line scalars,
# all of which NEO's own YAML parser and PyYAML could read differently.
_PLAIN_CHARS = r"A-Za-z0-9_.$/+\-()<>=;~^"
_YAML_VALUE = (r"(?:\[ *-?[0-9]+(?: *, *-?[0-9]+)* *\]"  # [ 1, 2, 3 ]
               r"|'(?:[^'\n]|'')*'"  # 'single quoted'
               r'|"[^"\\\n]*"'  # "double quoted, no escapes"
               rf"|[{_PLAIN_CHARS}](?:[{_PLAIN_CHARS} ]*[{_PLAIN_CHARS}])?)")  # plain
_YAML_LINE = rf"(?:(?:  )*(?:- )?[A-Za-z_][A-Za-z0-9_]*:(?: +{_YAML_VALUE})? *|---|\.\.\.| *)"
_YAML_TEXT = re.compile(rf"(?:{_YAML_LINE}\n)*(?:{_YAML_LINE})?")
_YAML_LINE_RE = re.compile(_YAML_LINE)
_BAD_BYTE = re.compile(rb"[^\x20-\x7e\n]")
_INT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_VERSION_TEXT = re.compile(r"(\d{1,4})\.(\d{1,4})")
_FLOAT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NAME_TEXT = re.compile(r"[A-Za-z0-9_$.\-]{1,1024}")
_MISC_INFO_KEY = "kernels_misc_info"

_TAG_INT = "tag:yaml.org,2002:int"
_TAG_BOOL = "tag:yaml.org,2002:bool"
_TAG_STR = "tag:yaml.org,2002:str"
_TAG_FLOAT = "tag:yaml.org,2002:float"


class Spec:
    """One .ze_info value's expected shape: kind int/bool/str/int3/num/map/list, range, allowed values."""

    __slots__ = ("kind", "lo", "hi", "values", "fields", "required", "item")

    def __init__(self, kind, lo=None, hi=None, values=None, fields=None, required=(), item=None):
        self.kind, self.lo, self.hi, self.values = kind, lo, hi, values
        self.fields, self.required, self.item = fields, frozenset(required), item


def _int(lo=0, hi=_I32_MAX, values=None):
    return Spec("int", lo, hi, frozenset(values) if values is not None else None)


def _enum(*values):
    return Spec("str", values=frozenset(values))


_BOOL = Spec("bool")
_STR = Spec("str")
_NUM = Spec("num")


def _int3(lo=0, hi=_I32_MAX):
    return Spec("int3", lo, hi)


def _map(fields, required=()):
    return Spec("map", fields=fields, required=required)


def _list(fields, required=()):
    return Spec("list", item=_map(fields, required))


# zeinfo.md <argument_type>, plus NEO's names for VME sampler arguments.
ARG_TYPES = frozenset((
    "packed_local_ids", "local_id", "local_size", "group_count", "work_dimensions", "global_size",
    "enqueued_local_size", "global_id_offset", "private_base_stateless", "buffer_address", "buffer_offset",
    "printf_buffer", "implicit_arg_buffer", "sync_buffer", "rt_global_buffer", "assert_buffer", "arg_byvalue",
    "arg_bypointer", "image_height", "image_width", "image_depth", "image_num_mip_levels",
    "image_channel_data_type", "image_channel_order", "image_srgb_channel_order", "image_array_size",
    "image_num_samples", "flat_image_baseoffset", "flat_image_height", "flat_image_width", "flat_image_pitch",
    "sampler_address", "sampler_normalized", "sampler_snap_wa", "inline_sampler", "const_base", "global_base",
    "buffer_size", "indirect_data_pointer", "scratch_pointer", "region_group_size", "region_group_dimension",
    "region_group_wg_count", "region_group_barrier_buffer", "vme_mb_block_type", "vme_subpixel_mode",
    "vme_sad_adjust_mode", "vme_search_path_type",
))
ADDR_MODES = ("stateless", "stateful", "bindless", "slm")
ADDR_SPACES = ("global", "local", "constant", "image", "sampler")
ACCESS_TYPES = ("readonly", "writeonly", "readwrite")
IMAGE_TYPES = ("image_buffer", "image_1d", "image_1d_array", "image_2d", "image_2d_array", "image_3d", "image_cube",
               "image_cube_array", "image_2d_depth", "image_2d_array_depth", "image_2d_msaa", "image_2d_msaa_depth",
               "image_2d_array_msaa", "image_2d_array_msaa_depth", "image_2d_media", "image_2d_media_block")
SAMPLER_TYPES = ("texture", "sample_8x8", "sample_8x8_2dconvolve", "sample_8x8_erode", "sample_8x8_dilate",
                 "sample_8x8_minmaxfilter", "sample_8x8_minmax", "sample_8x8_centroid", "sample_8x8_bool_centroid",
                 "sample_8x8_bool_sum", "vd", "ve", "vme")
MEMORY_BUFFER_TYPES = ("global", "scratch", "slm")
MEMORY_BUFFER_USAGES = ("private_space", "spill_fill_space", "single_space")
SIMD_SIZES = (1, 8, 16, 32)

# NEO reads walk orders as any int32 and uses them only where validate checks them (a kernel that requires its walk
# order), so the schema bounds them no further.
_WALK_ORDER = _int3(-_I32_MAX - 1, _I32_MAX)
EXECUTION_ENV = _map({
    "barrier_count": _int(0, 32),
    "disable_mid_thread_preemption": _BOOL,
    "eu_thread_count": _int(0, 64),
    "grf_count": _int(1, MAX_GRF),
    "has_4gb_buffers": _BOOL,
    "has_device_enqueue": _BOOL,
    "has_dpas": _BOOL,
    "has_fence_for_image_access": _BOOL,
    "has_global_atomics": _BOOL,
    "has_multi_scratch_spaces": _BOOL,
    "has_no_stateless_write": _BOOL,
    "has_stack_calls": _BOOL,
    "has_printf_calls": _BOOL,
    "require_assert_buffer": _BOOL,
    "require_sync_buffer": _BOOL,
    "has_indirect_calls": _BOOL,
    "require_disable_eufusion": _BOOL,
    "indirect_stateless_count": _int(0, 1 << 16),
    "inline_data_payload_size": _int(0, 256),
    "offset_to_skip_per_thread_data_load": _int(0, 1 << 24),
    "offset_to_skip_set_ffid_gp": _int(0, 1 << 24),
    "required_sub_group_size": _int(values=(0,) + SIMD_SIZES),
    "required_work_group_size": _int3(0, MAX_GROUP_DIM),
    "simd_size": _int(values=SIMD_SIZES),
    "slm_size": _int(0, MAX_SLM_BYTES),
    "private_size": _int(0, MAX_PER_THREAD_BYTES),
    "spill_size": _int(0, MAX_PER_THREAD_BYTES),
    "subgroup_independent_forward_progress": _BOOL,
    "thread_scheduling_mode": _enum("age_based", "round_robin", "round_robin_stall"),
    "work_group_walk_order_dimensions": _WALK_ORDER,
    "has_sample": _BOOL,
    "has_rtcalls": _BOOL,
    "generate_local_id": _BOOL,
    "has_lsc_stores_with_non_default_l1_cache_controls": _BOOL,
    "require_iab": _BOOL,
    "implicit_arg_buffer_used_by_code": _BOOL,  # 1.54-1.55 (IGC 2.12), renamed require_iab
    "has_bindless_image_read": _BOOL,  # 1.67
    "slm_alloc_mode": _int(values=(0, 1)),  # 1.73; NEO 26.27 aborts on any other mode
    "quantum_size": _int(0, 1 << 16),
    "quantum_walk_order": _int(0, 5),
    "quantum_partition_dimension": _int(0, 2),
}, required=("simd_size", "grf_count"))

PAYLOAD_ARGUMENT = {
    "arg_type": Spec("str", values=ARG_TYPES),
    "offset": _int(0, MAX_CROSS_THREAD_BYTES),
    "size": _int(0, MAX_CROSS_THREAD_BYTES),
    "arg_index": _int(0, MAX_EXPLICIT_ARGS - 1),
    "addrmode": _enum(*ADDR_MODES),
    "addrspace": _enum(*ADDR_SPACES),
    "access_type": _enum(*ACCESS_TYPES),
    "sampler_index": _int(0, MAX_SAMPLERS - 1),
    "source_offset": _int(0, MAX_CROSS_THREAD_BYTES),
    "slm_alignment": _int(values=(0, 1, 2, 4, 8, 16, 32, 64, 128)),
    "image_type": _enum(*IMAGE_TYPES),
    "image_transformable": _BOOL,
    "sampler_type": _enum(*SAMPLER_TYPES),
    "is_pipe": _BOOL,
    "is_ptr": _BOOL,
    "bti_value": _int(0, MAX_BTI),
}

KERNEL_FIELDS = {
    "name": _STR,
    "user_attributes": _map({
        "intel_reqd_sub_group_size": _int(values=(0,) + SIMD_SIZES),
        "intel_reqd_workgroup_walk_order": _WALK_ORDER,
        "invalid_kernel": _STR,
        "reqd_work_group_size": _int3(0, MAX_GROUP_DIM),
        "vec_type_hint": _STR,
        "work_group_size_hint": _int3(0, MAX_GROUP_DIM),
        "intel_reqd_thread_group_dispatch_size": _int(0, 1 << 16),
    }),
    "execution_env": EXECUTION_ENV,
    "payload_arguments": _list(PAYLOAD_ARGUMENT, required=("arg_type", "offset", "size")),
    "per_thread_payload_arguments": _list({
        "arg_type": _enum("local_id", "packed_local_ids"),
        "offset": _int(0, MAX_CROSS_THREAD_BYTES),
        "size": _int(1, MAX_CROSS_THREAD_BYTES),
    }, required=("arg_type", "offset", "size")),
    "binding_table_indices": _list({"bti_value": _int(0, MAX_BTI), "arg_index": _int(0, MAX_EXPLICIT_ARGS - 1)},
                                   required=("bti_value", "arg_index")),
    "per_thread_memory_buffers": _list({
        "type": _enum(*MEMORY_BUFFER_TYPES),
        "usage": _enum(*MEMORY_BUFFER_USAGES),
        "size": _int(0, MAX_PER_THREAD_BYTES),
        "slot": _int(0, 1),
        "is_simt_thread": _BOOL,
    }, required=("type", "usage", "size")),
    "inline_samplers": _list({
        "sampler_index": _int(0, MAX_SAMPLERS - 1),
        "addrmode": _enum("none", "clamp_border", "clamp_edge", "repeat", "mirror"),
        "filtermode": _enum("nearest", "linear"),
        "normalized": _BOOL,
    }, required=("sampler_index", "addrmode", "filtermode")),
    "experimental_properties": _map({k: _int(-1, 1) for k in ("has_non_kernel_arg_load", "has_non_kernel_arg_store",
                                                              "has_non_kernel_arg_atomic")}),
    "debug_env": _map({"sip_surface_bti": _int(-1, MAX_BTI), "sip_surface_offset": _int(-1)}),
}

ZEINFO = _map({
    "version": _STR,
    "kernels": _list(KERNEL_FIELDS, required=("name", "execution_env")),
    "functions": _list({"name": _STR, "execution_env": EXECUTION_ENV}, required=("name", "execution_env")),
    "global_host_access_table": _list({"device_name": _STR, "host_name": _STR}, required=("device_name", "host_name")),
    "kernels_misc_info": _list({
        "name": _STR,
        "args_info": _list({
            "index": _int(0, MAX_EXPLICIT_ARGS - 1),
            "name": _STR,
            "address_qualifier": _STR,
            "access_qualifier": _STR,
            "type_name": _STR,
            "type_qualifiers": _STR,
        }, required=("index", "address_qualifier", "access_qualifier", "type_name", "type_qualifiers")),
    }, required=("name",)),
    "kernels_cost_info": _list({
        "name": _STR,
        "kcm_args_sym": _list({"argNo": _int(0, MAX_EXPLICIT_ARGS - 1), "byteOffset": _int(), "sizeInBytes": _int(),
                               "isInDirect": _BOOL}, required=("argNo", "byteOffset", "sizeInBytes", "isInDirect")),
        "kcm_loop_count_exps": _list({"factor": _NUM, "argsym_index": _int(), "C": _NUM},
                                     required=("factor", "argsym_index", "C")),
        "kcm_loop_costs": _list({"cycle": _int(), "bytes_loaded": _int(), "bytes_stored": _int(),
                                 "num_loops": _int()}, required=("cycle", "bytes_loaded", "bytes_stored", "num_loops")),
    }, required=("name",)),
    "l1_cache_policy": _enum("wbp", "uc", "wb", "wt", "ws"),  # 1.69
}, required=("version", "kernels"))
ZEINFO.fields["kernels_cost_info"].item.fields["Kcm_loop_costs"] = ZEINFO.fields["kernels_cost_info"].item.fields[
    "kcm_loop_costs"]  # spelled so in zeinfo.md


def _where(path: str) -> str:
    return path or "the top level"


def _build(node, spec: Spec, path: str):
    """The Python value of ``node`` (what PyYAML's safe loader would construct), checked against ``spec``."""
    kind = spec.kind
    if kind == "map" or kind == "list":
        want = yaml.MappingNode if kind == "map" else yaml.SequenceNode
        if not isinstance(node, want) or node.flow_style:
            _fail(f"malformed .ze_info: {_where(path)} must be a {'mapping' if kind == 'map' else 'list'} in block "
                  f"style, got {_describe(node)}")
        if kind == "list":
            return [_build(item, spec.item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        out: Dict[str, Any] = {}
        fields = spec.fields
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or key_node.style or key_node.tag != _TAG_STR:
                _fail(f"malformed .ze_info: non-string key {_describe(key_node)} in {_where(path)}")
            sub = fields.get(key)
            if sub is None:
                _fail(f"unknown .ze_info key {key!r} in {_where(path)}")
            if key in out:
                _fail(f"malformed .ze_info: duplicate key {key!r} in {_where(path)}")
            out[key] = _build(value_node, sub, f"{path}.{key}" if path else key)
        missing = [k for k in spec.required if k not in out]
        if missing:
            _fail(f"malformed .ze_info: {_where(path)} has no {', '.join(sorted(missing))}")
        return out
    if kind == "int3":
        if not isinstance(node, yaml.SequenceNode) or len(node.value) != 3:
            _fail(f"malformed .ze_info: {path} must be a list of 3 integers, got {_describe(node)}")
        return [_build(item, Spec("int", spec.lo, spec.hi), f"{path}[{i}]") for i, item in enumerate(node.value)]
    if not isinstance(node, yaml.ScalarNode):
        _fail(f"malformed .ze_info: {path} must be a scalar, got {_describe(node)}")
    text, tag = node.value, node.tag
    if kind == "int":
        if node.style or tag != _TAG_INT or not _INT_TEXT.fullmatch(text):
            _fail(f"malformed .ze_info: {path} must be a decimal integer, got {_describe(node)}")
        value = int(text)
        if spec.values is not None:
            if value not in spec.values:
                _fail(f"malformed .ze_info: {path} is {value}, not one of {', '.join(map(str, sorted(spec.values)))}")
        elif not spec.lo <= value <= spec.hi:
            _fail(f"malformed .ze_info: {path} is {value}, outside [{spec.lo}, {spec.hi}]")
        return value
    if kind == "bool":
        if node.style or text not in ("true", "false"):
            _fail(f"malformed .ze_info: {path} must be true or false, got {_describe(node)}")
        return text == "true"
    if kind == "num":
        if node.style or tag not in (_TAG_INT, _TAG_FLOAT) or not _FLOAT_TEXT.fullmatch(text):
            _fail(f"malformed .ze_info: {path} must be a number, got {_describe(node)}")
        return int(text) if tag == _TAG_INT else float(text)
    if tag != _TAG_STR:  # a plain scalar PyYAML reads as a number, bool or null
        _fail(f"malformed .ze_info: {path} must be a string, got {_describe(node)}")
    if spec.values is not None and (text not in spec.values or node.style):
        _fail(f"malformed .ze_info: {path} is {_describe(node)}, not one of {', '.join(sorted(spec.values))}")
    return text


def _describe(node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value) if not node.style else f"{node.style}{node.value}{node.style}"
    if isinstance(node, yaml.SequenceNode):
        return f"a list of {len(node.value)}"
    return "a mapping"


# NEO's own YAML parser (shared/source/device_binary_format/yaml/yaml_parser.cpp, 22.43 and 26.27) aborts or
# reads out of bounds on text PyYAML reads without complaint; IGC writes none of it.
_MAX_LEAF_ITEMS = 255  # 26.27: 256 list items without children overflow its node cache (addNode)


def _check_lines(text: str) -> None:
    if not text.endswith("\n"):
        # tokenizeEndLine takes the byte after the text as the last line's end (26.27 crashes).
        _fail("malformed .ze_info: the text does not end with a newline")
    lines = text[:-1].split("\n")
    leaves = 0
    for number, line in enumerate(lines, 1):
        if line in ("---", "..."):
            if (line == "---" and number != 1) or (line == "..." and number != len(lines)):
                _fail(f"malformed .ze_info: line {number} {line!r} (IGC writes '---' first and '...' last only)")
            continue
        if not line.strip():
            # Blank lines skew the node-count estimate NEO sizes its node cache with (UNRECOVERABLE_IF in addNode).
            _fail(f"malformed .ze_info: line {number} is blank")
        indent = len(line) - len(line.lstrip(" "))
        if indent and number == (2 if lines[0] == "---" else 1):
            # An indented first line leaves the root without a parent (NEO indexes nodes[-1]).
            _fail(f"malformed .ze_info: the first line {line!r} is indented")
        if line.lstrip(" ").startswith("- "):
            if line.rstrip().endswith(":"):
                # finalizeNode: UNRECOVERABLE_IF for a list item without a value on its first line.
                _fail(f"malformed .ze_info: line {number} is a list item without a value: {line!r}")
            following = lines[number] if number < len(lines) else ""
            if len(following) - len(following.lstrip(" ")) <= indent:
                leaves += 1
    if leaves > _MAX_LEAF_ITEMS:
        _fail(f"malformed .ze_info: {leaves} list items without children (the driver's parser takes at most "
              f"{_MAX_LEAF_ITEMS})")


def parse(raw: bytes) -> Dict[str, Any]:
    """The .ze_info tree of ``raw``, checked against the text subset and the schema; ZebinFormatError naming
    the line, key or value otherwise."""
    bad = _BAD_BYTE.search(raw)
    if bad:
        line = raw.count(b"\n", 0, bad.start()) + 1
        _fail(f"malformed .ze_info: byte {raw[bad.start()]:#04x} on line {line} (only printable ASCII and newlines)")
    text = raw.decode("ascii")
    # NEO finds kernels_misc_info by searching the text and parses only what precedes it as the rest of
    # .ze_info: it must be the last top-level key, and the string must appear nowhere else.
    at = text.find(_MISC_INFO_KEY)
    if at >= 0:
        if text.find(_MISC_INFO_KEY, at + 1) >= 0:
            _fail(f"malformed .ze_info: '{_MISC_INFO_KEY}' appears more than once")
        if (at and text[at - 1] != "\n") or not text.startswith(_MISC_INFO_KEY + ":", at):
            _fail(f"malformed .ze_info: '{_MISC_INFO_KEY}' appears other than as a top-level key")
        if re.search(r"^[A-Za-z_]", text[at + len(_MISC_INFO_KEY):], re.MULTILINE):
            _fail(f"malformed .ze_info: a top-level key follows {_MISC_INFO_KEY} (it must be the last one)")
    if not _YAML_TEXT.fullmatch(text):
        for number, line in enumerate(text.split("\n"), 1):
            if not _YAML_LINE_RE.fullmatch(line):
                _fail(f"malformed .ze_info: line {number} is not a 'key: value' line of the YAML subset IGC writes: "
                      f"{line[:120]!r}")
        _fail("malformed .ze_info: not the YAML subset IGC writes")  # pragma: no cover - a line fails above
    _check_lines(text)
    try:
        root = yaml.compose(text, Loader=_YamlLoader)
    except yaml.YAMLError as e:
        _fail(f"malformed .ze_info YAML: {' '.join(str(e).split())}")
    if root is None:
        _fail("degenerate zebin: .ze_info is empty")
    return _build(root, ZEINFO, "")

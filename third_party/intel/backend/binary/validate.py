"""May the driver be handed this zebin?  Cross-checks of what NEO trusts.

NEO (the Level Zero GPU driver) trusts much of what it decodes: on some malformed zebins it does not return
an error but aborts the process (UNRECOVERABLE_IF, an out-of-range ``.at()``, a lookup table read past its
end), at module creation, at kernel creation or at the first launch.  :func:`check` is the gate in front of
``zeModuleCreate``: after :func:`.zebin.read` has checked the format (ELF structure, notes, the ``.ze_info``
schema), it checks what the pieces say about each other and the values NEO uses without checking, naming
the field and the value.

It refuses only what NEO itself refuses (said in this project's words), what NEO cannot survive (aborts, reads
or writes out of bounds, hangs) and what NEO would launch wrongly without a word.  A binary NEO loads and
launches correctly must pass, even one no compiler writes.  Each rule names the NEO function and condition it
guards at the versions of this project's two toolchains (22.43.24595.41 and 26.27.39122.14), or says that it is
the loader's own bound; ``tools/fuzz_zebin.py --unchecked`` measures, per rule, what NEO does with what the rules
refuse.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from triton.backends.intel import targets
from triton.backends.intel.binary import elf, zebin
from triton.backends.intel.binary.zeinfo import ARG_TYPES, MAX_CROSS_THREAD_BYTES
from triton.backends.intel.binary.zebin import Zebin

_fail = elf.fail
_NAME_TEXT = re.compile(r"[A-Za-z0-9_$.\-]{1,1024}")


def loadable(data: bytes, log_spills: Optional[zebin.LogSpills] = None) -> Zebin:
    """Read ``data`` (:func:`.zebin.read`) and :func:`check` it: the zebin, if the driver may load it."""
    return check(zebin.read(data, log_spills))


def check(parsed: Zebin) -> Zebin:
    """``parsed`` if the driver may be handed it; ZebinFormatError naming the first problem otherwise."""
    image = parsed.elf
    _check_target(parsed)
    tree = parsed.zeinfo
    kernels = tree["kernels"]
    names = [k["name"] for k in kernels]
    # A kernel listed twice: NEO 22.43 and 26.27 build both from the one .text section and create the first
    # (measured: loads and launches), so it is not refused.
    misc: Dict[str, Any] = {}
    for m in tree.get("kernels_misc_info", ()):
        if m["name"] not in names:
            # 26.27 decodeAndPopulateKernelMiscInfo (when argument metadata is asked for): an entry for an unknown
            # kernel is stored into the kernel matched before it, at .at(index) of that kernel's tables (throws).
            _fail(f"malformed .ze_info: kernels_misc_info names {m['name']!r}, which is not a kernel")
        # Listed twice: the later entry replaces the earlier; each is checked against the kernel below.
        misc.setdefault(m["name"], []).append(m)
    symbols = image.symbol_table()
    for k, kernel in enumerate(kernels):
        _check_kernel(kernel, k, image.section(".text." + kernel["name"]), symbols, misc.get(kernel["name"], ()))
        _check_driver_limits(kernel, parsed.product_family, image)
    for function in tree.get("functions", ()):
        # A called function's barriers are added to the kernel's (22.43 and 26.27).
        _check_barriers(f"malformed .ze_info: function {function['name']}", function["execution_env"],
                        parsed.product_family)
    _check_linked(image)
    return parsed


def _check_linked(image: elf.ElfFile) -> None:
    """Every symbol the code or data refers to is defined here or resolved by the driver.  NEO's linker
    (ModuleImp::linkBinary, 22.43 and 26.27) leaves the module "partially linked" when a relocation names a
    symbol nobody defines: zeModuleCreate succeeds, with "unresolved external symbol" in its build log, and
    every zeKernelCreate of the module returns ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED (ModuleImp::createKernel).
    IGC leaves such symbols when it lacks a builtin the kernel calls (another vendor's libdevice, say).
    Relocations of debug sections are the debugger's, not the linker's."""
    users: Dict[str, set] = {}  # missing symbol -> the sections referring to it
    for section, relocation in elf.relocation_targets(image, zebin.RELOC_WIDTH):
        target = image.sections[section.info].name
        symbol = image.symbols[section.link][relocation.symbol]
        if target.startswith(".debug") or symbol.defined or not symbol.name \
                or symbol.name in zebin.DRIVER_RESOLVED_SYMBOLS:
            continue
        users.setdefault(symbol.name, set()).add(target[len(".text."):] if target.startswith(".text.") else target)
    if users:
        named = "; ".join(f"{name} (used by {', '.join(sorted(users[name]))})" for name in sorted(users))
        _fail(f"unresolved symbols: {named}: defined nowhere in the binary and not provided by the driver, which "
              "would create the module but refuse its kernels (ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED). The "
              "compiler left them undefined: a function the installed IGC lacks (another vendor's libdevice, a "
              "newer builtin)")


# --- What NEO's tables and asserts allow (22.43 and 26.27 alike unless said) -----------------------------

# Barrier counts the dispatch encoder programs, by GFX core: EncodeDispatchKernel::programBarrierEnable looks
# the count up in a LookupArray whose lookUp() is UNRECOVERABLE_IF(!found) -- Xe-HPG has {0, 1}, Xe-HPC and
# later {0, 1, 2, 4, 8, 16, 24, 32}; Gen12LP sets a one-bit enable that any count sets.
_XE_HPC_BARRIERS = (0, 1, 2, 4, 8, 16, 24, 32)
_BARRIER_COUNTS: Dict[int, Tuple[int, ...]] = {0x0C07: (0, 1), 0x0C08: _XE_HPC_BARRIERS, 0x0C09: _XE_HPC_BARRIERS,
                                               0x1E00: _XE_HPC_BARRIERS, 18: tuple(range(33))}
# The largest work-group of every Intel GPU the driver reports (maxTotalGroupSize).
MAX_WORK_GROUP_SIZE = 1024


# Scratch space per thread the driver programs: a power of two up to 256 KiB (22.43 aborts submitting more on
# pvc; 26.27 returns an error).
MAX_SCRATCH_SLOT = 256 * 1024


def _check_barriers(where: str, env: Dict[str, Any], family: Optional[int]) -> None:
    row = targets.family(family)
    cores = row.gfx_cores if row else ()
    allowed = _BARRIER_COUNTS.get(cores[0], (0, 1)) if cores else (0, 1)
    count = env.get("barrier_count", 0)
    if count not in allowed:
        _fail(f"{where}: execution_env.barrier_count is {count}; the driver programs "
              f"{', '.join(map(str, allowed[:-1]))} or {allowed[-1]} barriers (NEO aborts on any other count)")


def _check_driver_limits(kernel: Dict[str, Any], family: Optional[int], image: elf.ElfFile) -> None:
    where = f"malformed .ze_info: kernel {kernel['name']}"
    env = kernel["execution_env"]
    _check_barriers(where, env, family)
    if env["simd_size"] == 1:
        # SIMD1 kernels run one thread per work-item: NEO aborts launching more than 1023 (threads per group).  This
        # depends on the launch's group size (measured: 128 work-items launch); Triton never compiles SIMD1.
        _fail(f"{where}: execution_env.simd_size is 1; this loader takes SIMD8, 16 and 32 kernels")
    order = env.get("work_group_walk_order_dimensions")
    if "intel_reqd_workgroup_walk_order" in kernel.get("user_attributes", {}) and order is not None \
            and sorted(order) != [0, 1, 2]:
        # NEO reads the walk order only for a kernel whose user_attributes name intel_reqd_workgroup_walk_order
        # (26.27 populateKernelSourceAttributes sets flags.requiresWorkgroupWalkOrder from it; 22.43 never sets it
        # for a zebin, so there the order is unused).  Then, when the group size is set (KernelImp::setGroupSize,
        # GfxCoreHelper::isRuntimeLocalIdsGenerationRequired), execution_env's order indexes the group size, picks
        # the walker's walk order (no match among the 6 orders: walk order 6, which the command does not have) and
        # lays out the local ids NEO generates (generateLocalIDs): with a repeated dimension they are wrong, a launch
        # that goes wrong silently.  Without that attribute any order is harmless: IGC 2.40 writes [0, 0, 0] for its
        # Intel_Symbol_Table_Void_Program, which NEO 26.27 loads.  The attribute's own value NEO only reports.
        _fail(f"{where}: execution_env.work_group_walk_order_dimensions is {order}, not an order of the dimensions "
              "0, 1, 2, in a kernel that requires its walk order (the driver would generate wrong local ids)")
    for i, buf in enumerate(kernel.get("per_thread_memory_buffers", ())):
        if buf["type"] == "scratch" and not 0 < buf["size"] <= MAX_SCRATCH_SLOT:
            _fail(f"{where}: per-thread memory buffer {i} (scratch) has size {buf['size']}; the driver programs 1 "
                  f"to {MAX_SCRATCH_SLOT} bytes per thread")
    required = env.get("required_work_group_size")
    if required is not None and required[0] and 0 in required:
        # KernelImp::initialize (22.43 and 26.27): with a first size set, UNRECOVERABLE_IF on a zero second or
        # third.  A first size of 0 means none; more work-items than the device runs NEO refuses itself
        # (setGroupSize: ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION at zeKernelCreate).
        _fail(f"{where}: execution_env.required_work_group_size is {required}; with a first size, each size must "
              "be at least 1 (NEO aborts on a zero)")
    if kernel.get("inline_samplers"):
        # KernelImp::setInlineSamplers: UNRECOVERABLE_IF when the device has no sampler (pvc), and the sampler
        # state is written at offsets the binary chooses.  Triton kernels use no samplers.
        _fail(f"{where}: inline_samplers ({len(kernel['inline_samplers'])}): this loader takes no kernels with "
              "inline samplers (NEO aborts creating them on devices without samplers)")
    for i, arg in enumerate(kernel.get("payload_arguments", ())):
        if arg["arg_type"] == "arg_bypointer" and arg.get("addrspace") == "local" and not arg.get("slm_alignment"):
            # Setting a local-memory argument aligns the offsets of the local-memory arguments after it to their
            # slm_alignment (KernelImp::setArgBuffer, 22.43 and 26.27: alignUp by 0 aborts).
            _fail(f"{where}: payload argument {i} ({arg['arg_type']}) is local memory without an slm_alignment")
        data = {"const_base": ".data.const", "global_base": ".data.global"}.get(arg["arg_type"])
        if data is not None and not (image.section(data) or image.section(".bss" + data[5:])):
            # 26.27 patches the address of the module's data section, which it allocates only when it exists.
            _fail(f"{where}: payload argument {i} ({arg['arg_type']}) refers to {data}, which the zebin does not have")
    name = targets.family_name(family)
    grf = targets.grf_bytes_of_family(name) if name else None
    simd = env["simd_size"]
    for i, arg in enumerate(kernel.get("per_thread_payload_arguments", ())):
        # NEO's decoder (populateKernelPerThreadPayloadArgument, 22.43 and 26.27) takes size / (bytes of one channel
        # of local ids) channels, rounding down, and refuses a count other than 1 to 3; the size is not used
        # otherwise (fewer than 3 channels: a driver requirement, see DRIVER_REQUIREMENTS).  Packed local ids
        # are laid out for SIMD1 kernels only.
        if arg["arg_type"] == "packed_local_ids" and simd != 1:
            _fail(f"{where}: per-thread payload argument {i} (packed_local_ids) in a SIMD{simd} kernel (packed local "
                  "ids are for SIMD1 kernels)")
        channels = _local_id_channels(arg["arg_type"], arg["size"], simd, grf)
        if channels is None:
            unit = _local_id_channel_bytes(arg["arg_type"], simd, grf)
            _fail(f"{where}: per-thread payload argument {i} ({arg['arg_type']}) has size {arg['size']}, not 1 to 3 "
                  f"channels of {unit} bytes (a SIMD{simd} kernel{f' with {grf}-byte registers' if grf else ''}); "
                  "the driver refuses it")


def _local_id_channel_bytes(arg_type: str, simd: int, grf: Optional[int]) -> int:
    if arg_type == "packed_local_ids":
        return 2
    channel = 2 * (32 if simd == 32 else 16)
    g = grf or 64
    return -(-channel // g) * g


def _local_id_channels(arg_type: str, size: int, simd: int, grf: Optional[int]) -> Optional[int]:
    """How many channels of local ids NEO reads from a per-thread argument's size; None if it refuses it."""
    channels = size // _local_id_channel_bytes(arg_type, simd, grf)
    return channels if 1 <= channels <= 3 else None


# What a binary may need of the driver beyond the rules above: checked against the driver present at load
# (triton.backends.intel.runtime.level_zero), as {requirement: (the first NEO build verified to handle it, what the
# binary does)}.  Older builds crash on these; 26.27.39122 takes both.
DRIVER_REQUIREMENTS = {
    # NEO 22.43 dereferences its BindlessHeapsHelper when such an argument is set
    # (KernelImp::patchBindlessSurfaceState); the helper exists only in bindless mode.  IGC 2 addresses
    # OpenCL C buffers bindless on Xe-HPG; Triton's kernels are stateless.
    "bindless": (39122, "it addresses arguments bindless"),
    # NEO 22.43 writes 3 channels of local ids into the space of as many as the binary declares
    # (PerThreadDataHelper::sendPerThreadData).  IGC 2 declares one channel for SIMD32 kernels on Xe2 (bmg).
    "local_id_channels": (39122, "it takes local ids in fewer than 3 channels"),
}


def driver_requirements(parsed: Zebin) -> frozenset:
    """The DRIVER_REQUIREMENTS the binary has."""
    needs = set()
    grf = targets.grf_bytes_of_family(parsed.product_family_name) if parsed.product_family_name else None
    for k in parsed.zeinfo["kernels"]:
        if any(a.get("addrmode") == "bindless" for a in k.get("payload_arguments", ())):
            needs.add("bindless")
        simd = k["execution_env"]["simd_size"]
        for a in k.get("per_thread_payload_arguments", ()):
            if (_local_id_channels(a["arg_type"], a["size"], simd, grf) or 3) < 3:
                needs.add("local_id_channels")
    return frozenset(needs)


def _check_target(parsed: Zebin) -> None:
    """The notes that name the target agree with each other.  NEO's device check compares only the product
    family (or, on newer drivers, the product config), so a note patched to another family would pass it and
    run code built for another GPU."""
    family = parsed.product_family
    core = parsed.gfx_core or 0
    row = targets.family(family)
    cores = row.gfx_cores if row else None
    where = "corrupt .note.intelgt.compat"
    if core and cores is not None and core not in cores:
        _fail(f"{where}: GFX core {core:#x} ({targets.gfx_core_name(core) or 'unknown'}) is not the core of product "
              f"family {family} ({targets.family_name(family)})")
    if parsed.product_config is not None:
        # Only a version the table places in another family is a contradiction: devices the table does not
        # list yet (ocloc 26.27's mtl-h, ptl-u, wcl, ...) are real zebins the driver loads.
        version = parsed.product_config_version
        owner = next((f for f in targets.FAMILIES if version in (targets.ip_versions_of_family(f) or ())), None)
        if owner is not None and owner != family:
            _fail(f"{where}: product config {version} is a device of product family {owner} "
                  f"({targets.family_name(owner)}), not of {family} ({targets.family_name(family)})")
    metadata = parsed.target_metadata
    if metadata is not None:
        if metadata.packed >> 24:
            _fail(f"{where}: target metadata {metadata.packed:#010x} sets reserved bits 31:24")
        if metadata.packed & (1 << 13 | 1 << 15):
            # IGC leaves both 0.  Bit 13 makes NEO compare the device's stepping with bits 12:8 and 20:16
            # and rebuild from SPIR-V on a mismatch; bit 15 makes e_machine a GFX core.
            _fail(f"{where}: target metadata {metadata.packed:#010x} sets "
                  f"{'validateRevisionId (bit 13)' if metadata.packed & 1 << 13 else 'bit 15 (e_machine is a GFX core)'}"
                  ", which no compiler writes")
        # IGC 1 writes the target device's IP revision as both the minimum and the maximum hardware revision, and
        # no GFX core or product config: then the revision is what ties the family note to the code.  Newer IGC
        # writes 0..0 for some families (ocloc 26.27: mtl, arl-h, arl-s) and names the core, checked above.
        revisions = targets.revisions_of_family(family)
        if (revisions is not None and not core and parsed.product_config is None
                and (metadata.min_hw_revision not in revisions
                     or metadata.max_hw_revision not in revisions)):
            _fail(f"{where}: target metadata names hardware revisions {metadata.min_hw_revision}.."
                  f"{metadata.max_hw_revision}, but the devices of product family {family} "
                  f"({targets.family_name(family)}) have revision {' or '.join(map(str, sorted(revisions)))}: "
                  "the product family note does not belong to this binary")


def _pointer_kind(arg: Dict[str, Any]) -> str:
    space = arg.get("addrspace")
    return "image" if space == "image" else "sampler" if space == "sampler" else "pointer"


# Implicit arguments that belong to an explicit one, and the kind it must be.
_IMPLICIT_OF = {"buffer_address": "pointer", "buffer_offset": "pointer", "buffer_size": "pointer"}
_IMPLICIT_OF.update({t: "image" for t in ARG_TYPES if t.startswith(("image_", "flat_image_"))})
_IMPLICIT_OF.update({t: "sampler" for t in ARG_TYPES if t.startswith(("sampler_", "vme_"))})
# Allowed sizes of the other argument types (pointers 4 or 8 bytes, vectors of int32 partially programmed).
_VEC3 = frozenset((4, 8, 12))
_PTR = frozenset((4, 8))
_ARG_SIZES = {"local_size": _VEC3, "group_count": _VEC3, "global_size": _VEC3, "enqueued_local_size": _VEC3,
              "global_id_offset": _VEC3, "work_dimensions": frozenset((4,)), "buffer_offset": frozenset((4,)),
              "buffer_size": _PTR, "flat_image_baseoffset": frozenset((8,)),
              "region_group_size": _VEC3, "region_group_dimension": frozenset((4,)),
              "region_group_wg_count": frozenset((4,))}
for _t in ("private_base_stateless", "buffer_address", "printf_buffer", "implicit_arg_buffer", "sync_buffer",
           "rt_global_buffer", "assert_buffer", "const_base", "global_base", "indirect_data_pointer",
           "scratch_pointer", "region_group_barrier_buffer", "inline_sampler"):
    _ARG_SIZES[_t] = _PTR
for _t in _IMPLICIT_OF:
    _ARG_SIZES.setdefault(_t, frozenset((4,)))


def _check_kernel(kernel: Dict[str, Any], k: int, text: Optional[elf.Section],
                  symbols: List[elf.Symbol], misc: Sequence[Dict[str, Any]]) -> None:
    name = kernel["name"]
    where = f"kernel {name}"
    if not _NAME_TEXT.fullmatch(name):  # the loader's own: names go into messages and section names
        _fail(f"malformed .ze_info: kernels[{k}].name {name!r} is not a kernel name")
    # No code: NEO refuses ("could not find text section", decodeZebin 22.43 / 26.27).  Empty code and a kernel
    # without its symbol are the loader's own rules (IGC always writes both), not re-measured against NEO.
    if text is None:
        _fail(f"corrupt zebin: no .text.{name} section for {where} of .ze_info")
    if text.type != elf.SHT_PROGBITS or text.size == 0:
        _fail(f"corrupt zebin: .text.{name} of {where} is empty or has no data")
    if not any(s.name == name and s.shndx == text.index and s.type in (elf.STT_NOTYPE, elf.STT_FUNC) for s in symbols):
        _fail(f"corrupt zebin: no symbol {name} in .text.{name} for {where}")
    env = kernel["execution_env"]
    # NEO starts the kernel at these offsets into its code (entryPoints.skipPerThreadDataLoad / skipSetFFIDGP, used by
    # EncodeDispatchKernel for the kernel start pointer): past the code the GPU runs whatever follows.  NEO loads and
    # launches it (the emulated device runs nothing), so this guards a launch that goes wrong silently.
    for key in ("offset_to_skip_per_thread_data_load", "offset_to_skip_set_ffid_gp"):
        if env.get(key, 0) > text.size:
            _fail(f"malformed .ze_info: {where}: execution_env.{key} {env[key]} is past the end of its code "
                  f"({text.size} bytes)")

    kinds: Dict[int, str] = {}  # arg_index -> pointer / image / sampler / value
    stateful = set()
    for i, arg in enumerate(kernel.get("payload_arguments", ())):
        atype = arg["arg_type"]
        what = f"payload argument {i} of {where} ({atype})"
        offset, size = arg["offset"], arg["size"]
        # The loader's own bound, far below NEO's 16-bit cross-thread offsets (0xFFFF meaning none); measured: NEO
        # loads what ends up to 8192 and dies on some larger pointer sizes, which other rules refuse.
        if offset + size > MAX_CROSS_THREAD_BYTES:
            _fail(f"malformed .ze_info: {what} ends at byte {offset + size} of the cross-thread data, past "
                  f"{MAX_CROSS_THREAD_BYTES}")
        index = arg.get("arg_index")
        # sampler_index outside samplers: 22.43 (readZeInfoPayloadArguments) sizes the kernel's sampler table from
        # the largest sampler_index of any payload argument, 26.27 ignores it; measured: both load and launch.
        if atype in ("arg_bypointer", "arg_byvalue"):
            if index is None:
                _fail(f"malformed .ze_info: {what} has no arg_index")
            if atype == "arg_bypointer":
                mode, space = arg.get("addrmode"), arg.get("addrspace")
                # No addrmode: NEO refuses ("invalid or missing memory addressing mode").  No addrspace or
                # access_type: 26.27 takes the argument as of unknown kind, 22.43 aborts without access_type.
                for key in ("addrmode", "addrspace", "access_type"):
                    if key not in arg:
                        _fail(f"malformed .ze_info: {what} has no {key}")
                # Local memory addressed otherwise: setting it, NEO aborts (KernelImp::setArgBuffer,
                # UNRECOVERABLE_IF on an undefined slmOffset, 22.43 and 26.27; measured).  A global or constant pointer
                # addressed as slm: NEO never writes its address (no stateless offset): a silently wrong launch.
                if (space == "local") != (mode == "slm"):
                    _fail(f"malformed .ze_info: {what} has addrspace {space} with addrmode {mode} (local memory is "
                          "exactly the slm addressing mode)")
                # NEO refuses a stateless image or sampler ("invalid or missing memory addressing stateless").
                if space in ("image", "sampler") and mode not in ("stateful", "bindless"):
                    _fail(f"malformed .ze_info: {what}: an {space} argument cannot have addrmode {mode}")
                # NEO patches the address with the argument's size (patchPointer / ArgDescPointer::pointerSize):
                # other sizes abort it (kernel_arg_descriptor.h, measured on both).
                if mode in ("stateless", "bindless") and size not in _PTR:
                    _fail(f"malformed .ze_info: {what} is a {mode} pointer of {size} bytes (4 or 8)")
                if mode == "slm" and size < 4:
                    # Setting a local-memory argument reads and writes a 32-bit SLM offset at the argument's
                    # offset whatever its size (KernelImp::setArgBuffer, 22.43 and 26.27): under 4 bytes that
                    # runs past the argument.  Its size is otherwise unused.
                    _fail(f"malformed .ze_info: {what} is a local-memory pointer of {size} bytes (the driver "
                          "writes a 4-byte offset there)")
                if mode == "stateful":
                    # Its offset and size NEO does not use (a surface state in the binding table holds the address).
                    stateful.add(index)
                # is_ptr and source_offset on a pointer: NEO reads them only for by-value arguments.
                kind = _pointer_kind(arg)
            else:
                # Size 0: NEO copies nothing of the value (measured: loads and launches).  Pointer keys (addrmode, addrspace, access_type, image and sampler keys, slm_alignment, bti_value)
                # on a by-value argument: NEO's by-value case reads only offset, size, source_offset and is_ptr
                # (populateArgDescriptor in 22.43, populateKernelPayloadArgument in 26.27); the rest is ignored.
                kind = "value"
            # One argument as two kinds: ArgDescriptor::as<T>() aborts (kernel_arg_descriptor.h, 22.43 and 26.27).
            previous = kinds.setdefault(index, kind)
            if previous != kind:
                _fail(f"malformed .ze_info: arg_index {index} of {where} is used both as {previous} and as {kind} "
                      f"(payload argument {i}, {atype})")
            continue
        # Implicit argument sizes: NEO refuses vectors other than 4, 8 or 12 bytes and scalars other than 4
        # (populateArgVec / populateWithOffsetChecked); other sizes of pointers and image or sampler metadata it
        # patches as given (measured: aborts and SIGSEGVs on both).
        sizes = _ARG_SIZES.get(atype)
        if sizes is not None and size not in sizes:
            _fail(f"malformed .ze_info: {what} has size {size}, not {' or '.join(map(str, sorted(sizes)))}")
        if atype in ("local_id", "packed_local_ids"):  # NEO refuses it ("invalid arg type in cross thread data")
            _fail(f"malformed .ze_info: {what} is a per-thread argument among payload_arguments")
        # Keys an implicit argument does not use (addrspace, access_type, image and sampler keys, slm_alignment,
        # source_offset, addrmode, bti_value, an arg_index on a type without one): NEO's implicit cases read only
        # offset and size, plus addrmode and bti_value of const_base and global_base and addrmode and
        # sampler_index of inline_sampler; an arg_index only makes room for one more explicit argument, which
        # NEO sets as an unknown one.  is_ptr: 22.43 does not know the key (a warning); 26.27
        # (populateKernelPayloadArgument) reads it only on global_base, as indirect access through the module's
        # global variables (more allocations kept resident).  IGC 2.40 writes it there (a libdevice tanh).
        if atype in _IMPLICIT_OF and index is None:
            _fail(f"malformed .ze_info: {what} has no arg_index")
    # Implicit arguments of an explicit one: it must be of the right kind -- NEO makes the explicit argument that
    # kind (ArgDescriptor::as<T>(true)) and aborts when it is another (kernel_arg_descriptor.h, 22.43 and 26.27) --
    # and, for images and samplers, exist (NEO crashes patching image and sampler metadata of an argument the kernel
    # does not have).  A buffer's implicit argument without its explicit one makes a pointer argument NEO sets like
    # any other.
    implied: Dict[int, str] = {}
    for i, arg in enumerate(kernel.get("payload_arguments", ())):
        want = _IMPLICIT_OF.get(arg["arg_type"])
        if want is None:
            continue
        got = kinds.get(arg["arg_index"], implied.get(arg["arg_index"]))
        if got is None and want == "pointer":
            implied[arg["arg_index"]] = got = want
        if got != want:
            _fail(f"malformed .ze_info: payload argument {i} of {where} ({arg['arg_type']}) belongs to argument "
                  f"{arg['arg_index']}, which is {f'a {got} argument' if got else 'no explicit argument'}, not "
                  f"{'an' if want == 'image' else 'a'} {want}")

    for i, arg in enumerate(kernel.get("per_thread_payload_arguments", ())):
        if arg["offset"]:  # NEO refuses it ("invalid offset ... expected 0", both versions)
            _fail(f"malformed .ze_info: per-thread payload argument {i} of {where} ({arg['arg_type']}) is at offset "
                  f"{arg['offset']}, not 0")

    # A binding-table entry sets the surface-state offset of its argument as a pointer or image
    # (ArgDescriptor::as<T>(), aborting on another kind); measured on 22.43: NEO refuses or fails to launch nearly all.
    for i, bti in enumerate(kernel.get("binding_table_indices", ())):
        index = bti["arg_index"]
        if index not in stateful:
            _fail(f"malformed .ze_info: binding table entry {i} of {where} is for argument {index}, which is not a "
                  "stateful pointer or image argument")

    # Per-thread memory buffers: the loader's reading of the spec (IGC writes scratch in slots 0 and 1, global for
    # private memory); the fuzz finds no buffer NEO launches that these refuse.
    slots = set()
    for i, buf in enumerate(kernel.get("per_thread_memory_buffers", ())):
        btype = buf["type"]
        what = f"per-thread memory buffer {i} of {where} ({btype})"
        if btype == "global" and buf["usage"] != "private_space":
            _fail(f"malformed .ze_info: {what} has usage {buf['usage']}; global buffers hold private_space only")
        if "slot" in buf and btype != "scratch":
            _fail(f"malformed .ze_info: {what} has a slot, which only scratch buffers have")
        if "is_simt_thread" in buf and btype != "global":
            _fail(f"malformed .ze_info: {what} has is_simt_thread, which only global buffers have")
        key = (btype, buf.get("slot", 0))
        if key in slots:
            _fail(f"malformed .ze_info: {where} has two {btype} buffers"
                  + (f" in slot {key[1]}" if btype == "scratch" else ""))
        slots.add(key)

    for entry in misc:
        infos = entry.get("args_info", ())
        count = max((a["arg_index"] for a in kernel.get("payload_arguments", ()) if "arg_index" in a), default=-1) + 1
        # NEO reads kernels_misc_info only when argument metadata is asked for (26.27 KernelImp::populateMetadata
        # for zeKernelGetArgumentType and the like; 22.43 OpenCL only) and then stores entry i at .at(index) of the
        # kernel's explicit arguments and of a table of len(args_info) entries: an index past either throws, and
        # the process aborts.
        for i, info in enumerate(infos):
            index = info["index"]
            what = f"kernels_misc_info args_info {i} of {where} is for argument {index}"
            if index >= count:
                _fail(f"malformed .ze_info: {what}, but the kernel has {count} arguments")
            if index >= len(infos):
                _fail(f"malformed .ze_info: {what}, but there are {len(infos)} args_info entries")
            # Two entries for one argument: the later replaces the earlier (harmless).


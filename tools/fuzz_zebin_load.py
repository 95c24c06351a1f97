#!/usr/bin/env python3
"""Fuzz the Level Zero driver's zebin loader: find the corrupt binaries that kill the process.

Mutates real zebins (random byte flips, truncations, ELF field edits and YAML-aware edits of ``.ze_info``)
and feeds every mutant to the real driver -- NEO's ``zeModuleCreate`` + ``zeKernelCreate`` through
``triton.backends.intel._level_zero`` -- on the emulated device, in a child process.  A mutant is *safe*
when it loads or the driver refuses it with an error code; it is a *crash* when the child dies (NEO aborts
the process on some inputs) and a *hang* when it stops answering.

The mutants run in batches in one child; when the child dies, the mutant in flight is replayed alone in a
fresh child (and, if it does not crash alone, the batch prefix is bisected) to confirm the culprit, which
is saved under the output folder with a JSON description: the mutation, NEO's abort message and location,
the ``.ze_info`` diff and what :func:`zebin.validate_for_load` says about it.

    python tools/fuzz_zebin_load.py --seed 1 --count 2000
    python tools/fuzz_zebin_load.py --count 20000 --only-unvalidated   # everything the validator accepts
    python tools/fuzz_zebin_load.py --replay /tmp/.../crash-000001.zebin

``--only-unvalidated`` skips mutants the validator refuses, i.e. checks that everything the validator
accepts is safe to hand to the driver.  Mutant ``i`` of a seed is reproducible: ``--seed S --first i
--count 1``.  The exit status is 1 when a crash or hang was found.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

# --------------------------------------------------------------------------------------------------------
# ELF helpers (ELF64 little-endian, what every zebin this project meets is)

EHDR = {  # field: (offset, size)
    "e_ident.class": (4, 1), "e_ident.data": (5, 1), "e_ident.version": (6, 1), "e_ident.osabi": (7, 1),
    "e_ident.abiversion": (8, 1), "e_type": (16, 2), "e_machine": (18, 2), "e_version": (20, 4),
    "e_entry": (24, 8), "e_phoff": (32, 8), "e_shoff": (40, 8), "e_flags": (48, 4), "e_ehsize": (52, 2),
    "e_phentsize": (54, 2), "e_phnum": (56, 2), "e_shentsize": (58, 2), "e_shnum": (60, 2),
    "e_shstrndx": (62, 2),
}
SHDR = {"sh_name": (0, 4), "sh_type": (4, 4), "sh_flags": (8, 8), "sh_addr": (16, 8), "sh_offset": (24, 8),
        "sh_size": (32, 8), "sh_link": (40, 4), "sh_info": (44, 4), "sh_addralign": (48, 8),
        "sh_entsize": (56, 8)}
SYM = {"st_name": (0, 4), "st_info": (4, 1), "st_other": (5, 1), "st_shndx": (6, 2), "st_value": (8, 8),
       "st_size": (16, 8)}
RELA = {"r_offset": (0, 8), "r_info": (8, 8), "r_addend": (16, 8)}
NOTE = {"n_namesz": (0, 4), "n_descsz": (4, 4), "n_type": (8, 4)}
SHT_SYMTAB, SHT_NOTE, SHT_RELA, SHT_REL = 2, 7, 4, 9
_FMT = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}


@dataclass
class Section:
    index: int
    name: str
    header: int  # file offset of its section header
    type: int
    offset: int
    size: int
    entsize: int


def _get(data: bytes, off: int, size: int) -> int:
    return struct.unpack_from(_FMT[size], data, off)[0]


def _put(data: bytearray, off: int, size: int, value: int) -> None:
    struct.pack_into(_FMT[size], data, off, value & ((1 << 8 * size) - 1))


def elf_sections(data: bytes) -> List[Section]:
    """The sections of an intact ELF64 (the unmutated base)."""
    shoff, shnum, shstrndx = _get(data, 40, 8), _get(data, 60, 2), _get(data, 62, 2)
    raw = []
    for i in range(shnum):
        h = shoff + 64 * i
        raw.append((i, h, _get(data, h, 4), _get(data, h + 4, 4), _get(data, h + 24, 8), _get(data, h + 32, 8),
                    _get(data, h + 56, 8)))
    stroff, strsize = raw[shstrndx][4], raw[shstrndx][5]
    strtab = data[stroff:stroff + strsize]
    out = []
    for i, h, name, typ, off, size, entsize in raw:
        end = strtab.find(b"\0", name)
        out.append(Section(i, strtab[name:end].decode("ascii", "replace"), h, typ, off, size, entsize))
    return out


def replace_section(data: bytes, name: str, content: bytes) -> bytes:
    """``data`` with section ``name``'s bytes replaced by ``content`` (any length): later sections and the
    section header table move, offsets and sizes are fixed up."""
    sections = elf_sections(data)
    target = next(s for s in sections if s.name == name)
    delta = len(content) - target.size
    out = bytearray(data[:target.offset] + content + data[target.offset + target.size:])
    shoff = _get(data, 40, 8)
    if shoff >= target.offset + target.size:
        shoff += delta
        _put(out, 40, 8, shoff)
    for s in sections:
        h = shoff + 64 * s.index
        if s.index == target.index:
            _put(out, h + 32, 8, len(content))
        elif s.offset >= target.offset + target.size and s.size and s.type != 8:
            _put(out, h + 24, 8, s.offset + delta)
    return bytes(out)


def section_data(data: bytes, name: str) -> Optional[bytes]:
    for s in elf_sections(data):
        if s.name == name:
            return data[s.offset:s.offset + s.size]
    return None


# --------------------------------------------------------------------------------------------------------
# Mutations


def interesting(size: int, original: int, file_size: int, rng: random.Random) -> int:
    top = (1 << 8 * size) - 1
    values = [0, 1, 2, 3, 4, 7, 8, 16, 24, 64, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
              0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32, top, top - 1, top >> 1, (top >> 1) + 1,
              original + 1, original - 1, original * 2, original + 64, original ^ (1 << rng.randrange(8 * size)),
              file_size, file_size - 1, file_size + 1, rng.randrange(top + 1), rng.randrange(256)]
    return rng.choice(values) & top


# Values a .ze_info number is changed to.
NUMBERS = ["0", "1", "-1", "2", "3", "4", "5", "7", "8", "9", "12", "15", "16", "17", "24", "31", "32", "33",
           "63", "64", "127", "128", "129", "192", "255", "256", "257", "511", "512", "1023", "1024", "4095",
           "4096", "8191", "32767", "32768", "65535", "65536", "65537", "131072", "1048576", "16777216",
           "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
           "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
           "-9223372036854775808", "99999999999999999999999", "1.5", "-0", "0x10", "1e3", "+5", "007"]
# Scalars a value is changed to, of other types.
OTHER_VALUES = ["[ 0, 1, 2, 3 ]", "[ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 ]", "[ 3, 0, 0 ]",
                "[ 0, 0, 9 ]", "[ -1, 0, 0 ]", "[ 65536, 1, 1 ]", "[ 1024, 1024, 1024 ]", "[ 1 ]", "[ ]",
                "'kernels_misc_info'", "kernels_misc_info", "true", "false", "~", "null", "''", "'1.20'",
                "[]", "{}", "[0, 1]", "[ 1, 2, 3 ]", "{a: 1}",
                "x", "!!binary AAAA", "&a 1", "*a", "|", ">", "'", '"', "- 1", "arg_bypointer", "stateless",
                "global", "readwrite", "scratch", "single_space", "local_id", "-", "?", ":", "#"]
ENUM_VALUES = [
    # arg_type
    "packed_local_ids", "local_id", "local_size", "group_count", "work_dimensions", "global_size",
    "enqueued_local_size", "global_id_offset", "private_base_stateless", "buffer_address", "buffer_offset",
    "printf_buffer", "implicit_arg_buffer", "sync_buffer", "rt_global_buffer", "assert_buffer", "arg_byvalue",
    "arg_bypointer", "image_height", "image_width", "image_depth", "image_num_mip_levels",
    "image_channel_data_type", "image_channel_order", "image_array_size", "image_num_samples",
    "flat_image_baseoffset", "flat_image_height", "flat_image_width", "flat_image_pitch", "sampler_address",
    "sampler_normalized", "sampler_snap_wa", "inline_sampler", "const_base", "global_base", "buffer_size",
    "indirect_data_pointer", "scratch_pointer", "region_group_size", "region_group_dimension",
    "region_group_wg_count", "region_group_barrier_buffer", "vme_mb_block_type",
    # addrmode, addrspace, access_type
    "stateless", "stateful", "bindless", "slm", "global", "local", "constant", "image", "sampler",
    "readonly", "writeonly", "readwrite",
    # per_thread_memory_buffers
    "scratch", "private_space", "spill_fill_space", "single_space",
    # misc
    "age_based", "round_robin", "round_robin_stall", "image_2d", "texture",
]
KEYS = [
    "version", "kernels", "functions", "global_host_access_table", "kernels_misc_info", "name",
    "user_attributes", "execution_env", "payload_arguments", "per_thread_payload_arguments",
    "binding_table_indices", "per_thread_memory_buffers", "inline_samplers", "experimental_properties",
    "debug_env", "barrier_count", "disable_mid_thread_preemption", "grf_count", "has_4gb_buffers", "has_dpas",
    "has_global_atomics", "has_no_stateless_write", "has_stack_calls", "inline_data_payload_size",
    "offset_to_skip_per_thread_data_load", "offset_to_skip_set_ffid_gp", "required_sub_group_size",
    "required_work_group_size", "simd_size", "slm_size", "private_size", "spill_size",
    "subgroup_independent_forward_progress", "work_group_walk_order_dimensions", "eu_thread_count",
    "indirect_stateless_count", "thread_scheduling_mode", "arg_type", "offset", "size", "arg_index",
    "addrmode", "addrspace", "access_type", "sampler_index", "source_offset", "slm_alignment", "image_type",
    "is_pipe", "is_ptr", "bti_value", "type", "usage", "slot", "is_simt_thread", "args_info", "index",
    "address_qualifier", "access_qualifier", "type_name", "type_qualifiers", "intel_reqd_sub_group_size",
    "reqd_work_group_size", "work_group_size_hint", "sip_surface_bti", "sip_surface_offset",
    "has_non_kernel_arg_load", "actual_kernel_start_offset", "hw_preemption_mode",
]

_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[A-Za-z_][\w]*):(?P<sep>\s*)(?P<value>.*?)(?P<nl>\n?)$")


def _block_end(lines: List[str], i: int) -> int:
    """End (exclusive) of the YAML block that starts at line i (a '- ' item or a key with children)."""
    m = _KEY_LINE.match(lines[i])
    indent = len(m.group("indent")) if m else len(lines[i]) - len(lines[i].lstrip())
    j = i + 1
    while j < len(lines):
        line = lines[j]
        stripped = line.lstrip()
        cur = len(line) - len(stripped)
        if stripped and (cur < indent + 2 if m and m.group("dash") else cur <= indent):
            break
        j += 1
    return j


def mutate_zeinfo(text: str, rng: random.Random) -> Tuple[str, str]:
    lines = text.splitlines(keepends=True)
    keyed = [i for i, l in enumerate(lines) if _KEY_LINE.match(l)]
    if not keyed:
        return text + "x", "append garbage"
    op = rng.choice(["drop", "drop_block", "rename", "rename_same_len", "number", "enum", "type", "dup_line",
                     "dup_block", "move_line", "add_key", "swap_values"])
    i = rng.choice(keyed)
    m = _KEY_LINE.match(lines[i])
    key, value = m.group("key"), m.group("value")
    prefix = m.group("indent") + (m.group("dash") or "")
    desc = f"line {i + 1} ({key}: {value})"
    if op == "drop":
        if m.group("dash"):  # keep the list item, drop only its first key
            lines[i] = m.group("indent") + "- " + lines[i + 1].lstrip() if i + 1 < len(lines) else ""
            if i + 1 < len(lines):
                del lines[i + 1]
        else:
            del lines[i]
        return "".join(lines), f"drop key {desc}"
    if op == "drop_block":
        end = _block_end(lines, i)
        del lines[i:end]
        return "".join(lines), f"drop block {desc} ({end - i} lines)"
    if op == "rename":
        new = rng.choice(KEYS + [key + "x", key[:-1], key.upper(), "", "a" * 40])
        lines[i] = f"{prefix}{new}:{m.group('sep')}{value}{m.group('nl')}"
        return "".join(lines), f"rename key {desc} -> {new!r}"
    if op == "rename_same_len":
        pos = rng.randrange(len(key))
        new = key[:pos] + rng.choice("abcdefghijklmnopqrstuvwxyzMX_0") + key[pos + 1:]
        lines[i] = f"{prefix}{new}:{m.group('sep')}{value}{m.group('nl')}"
        return "".join(lines), f"rename key {desc} -> {new!r}"
    if op == "number":
        numbered = [j for j in keyed if re.fullmatch(r"-?\d+", _KEY_LINE.match(lines[j]).group("value"))]
        if numbered:
            i = rng.choice(numbered)
            m = _KEY_LINE.match(lines[i])
            desc = f"line {i + 1} ({m.group('key')}: {m.group('value')})"
        new = rng.choice(NUMBERS)
        lines[i] = m.group(0)[:m.start("value")] + new + m.group("nl")
        return "".join(lines), f"number {desc} -> {new}"
    if op == "enum":
        named = [j for j in keyed if re.fullmatch(r"[a-z_][a-z0-9_]*", _KEY_LINE.match(lines[j]).group("value"))]
        if named:
            i = rng.choice(named)
            m = _KEY_LINE.match(lines[i])
            desc = f"line {i + 1} ({m.group('key')}: {m.group('value')})"
        new = rng.choice(ENUM_VALUES + [m.group("value") + "x", m.group("value")[:-1]])
        lines[i] = m.group(0)[:m.start("value")] + new + m.group("nl")
        return "".join(lines), f"enum {desc} -> {new}"
    if op == "type":
        new = rng.choice(OTHER_VALUES)
        lines[i] = m.group(0)[:m.start("value")] + new + m.group("nl")
        return "".join(lines), f"value type {desc} -> {new!r}"
    if op == "dup_line":
        lines.insert(i, lines[i] if not m.group("dash") else lines[i].replace("- ", "  ", 1))
        return "".join(lines), f"duplicate key {desc}"
    if op == "dup_block":
        end = _block_end(lines, i)
        lines[i:i] = lines[i:end]
        return "".join(lines), f"duplicate block {desc} ({end - i} lines)"
    if op == "move_line":
        j = rng.choice(keyed)
        line = lines.pop(i)
        lines.insert(j if j < len(lines) else len(lines), line)
        return "".join(lines), f"move {desc} to line {j + 1}"
    if op == "add_key":
        new = rng.choice(KEYS)
        val = rng.choice(NUMBERS + OTHER_VALUES + ENUM_VALUES)
        indent = m.group("indent") + ("  " if m.group("dash") else "")
        lines.insert(i + 1, f"{indent}{new}: {val}\n")
        return "".join(lines), f"add key {new}: {val} after {desc}"
    # swap_values
    j = rng.choice(keyed)
    mj = _KEY_LINE.match(lines[j])
    lines[i] = m.group(0)[:m.start("value")] + mj.group("value") + m.group("nl")
    lines[j] = mj.group(0)[:mj.start("value")] + value + mj.group("nl")
    return "".join(lines), f"swap values of {desc} and line {j + 1} ({mj.group('key')}: {mj.group('value')})"


def mutate(base: bytes, rng: random.Random) -> Tuple[bytes, str]:
    """One mutant of ``base`` and a description of what was done."""
    data = bytearray(base)
    sections = elf_sections(base)
    by_name = {s.name: s for s in sections}
    strategy = rng.choices(["flip", "flip_zeinfo", "flip_structure", "truncate", "field", "yaml", "yaml2"],
                           weights=[12, 12, 10, 6, 20, 32, 8])[0]
    if strategy == "truncate":
        n = rng.choice([rng.randrange(len(base)), rng.randrange(len(base) - 256, len(base)), rng.randrange(128)])
        return bytes(base[:n]), f"truncate to {n} of {len(base)} bytes"
    if strategy in ("flip", "flip_zeinfo", "flip_structure"):
        if strategy == "flip":
            ranges = [(0, len(base))]
        elif strategy == "flip_zeinfo":
            z = by_name[".ze_info"]
            ranges = [(z.offset, z.offset + z.size)]
        else:
            shoff = _get(base, 40, 8)
            ranges = [(0, 64), (shoff, shoff + 64 * len(sections))]
            ranges += [(s.offset, s.offset + s.size) for s in sections
                       if s.type in (SHT_SYMTAB, SHT_NOTE, SHT_RELA, 3) and s.size]
        n = rng.randint(1, 8)
        done = []
        for _ in range(n):
            lo, hi = rng.choice(ranges)
            pos = rng.randrange(lo, hi)
            old = data[pos]
            data[pos] = rng.choice([old ^ (1 << rng.randrange(8)), rng.randrange(256), 0, 0xFF])
            done.append(f"{pos}:{old:02x}->{data[pos]:02x}")
        return bytes(data), f"{strategy} {n} byte(s): {' '.join(done)}"
    if strategy == "field":
        shoff = _get(base, 40, 8)
        kind = rng.choice(["ehdr", "shdr", "shdr", "sym", "sym", "rela", "note"])
        if kind == "ehdr":
            fname, (off, size) = rng.choice(list(EHDR.items()))
            where = "ELF header"
        elif kind == "shdr":
            s = rng.choice(sections)
            fname, (off, size) = rng.choice(list(SHDR.items()))
            off += s.header
            where = f"section {s.index} ({s.name or 'null'})"
        elif kind in ("sym", "rela"):
            cand = [s for s in sections if s.type == (SHT_SYMTAB if kind == "sym" else SHT_RELA) and s.size >= 24]
            if not cand:
                return bytes(base), "no-op"
            s = rng.choice(cand)
            entry = rng.randrange(s.size // 24)
            fname, (off, size) = rng.choice(list((SYM if kind == "sym" else RELA).items()))
            off += s.offset + 24 * entry
            where = f"{s.name}[{entry}]"
        else:
            s = by_name.get(".note.intelgt.compat")
            if s is None:
                return bytes(base), "no-op"
            note_offsets, pos = [], s.offset
            while pos + 12 <= s.offset + s.size:
                note_offsets.append(pos)
                namesz, descsz = _get(base, pos, 4), _get(base, pos + 4, 4)
                pos += 12 + (namesz + 3 & ~3) + (descsz + 3 & ~3)
            npos = rng.choice(note_offsets)
            fields = dict(NOTE)
            fields["desc"] = (12 + (_get(base, npos, 4) + 3 & ~3), 4)
            fname, (off, size) = rng.choice(list(fields.items()))
            off += npos
            where = f"note at {npos - s.offset}"
        old = _get(base, off, size)
        new = interesting(size, old, len(base), rng)
        _put(data, off, size, new)
        return bytes(data), f"field {where}.{fname}: {old} -> {new}"
    # YAML-aware: one or two edits of .ze_info, rebuilt into the ELF
    text = section_data(base, ".ze_info").decode("utf-8")
    descs = []
    for _ in range(1 if strategy == "yaml" else rng.randint(2, 4)):
        text, d = mutate_zeinfo(text, rng)
        descs.append(d)
    return replace_section(base, ".ze_info", text.encode("utf-8")), "yaml: " + "; ".join(descs)


def zeinfo_diff(base: bytes, mutant: bytes) -> str:
    """Unified diff of the two .ze_info sections (or of nothing, if the mutant's cannot be read)."""
    try:
        new = section_data(mutant, ".ze_info")
    except Exception:  # noqa: BLE001 - the mutant's ELF may be broken
        new = None
    old = section_data(base, ".ze_info") or b""
    if new is None:
        return "(.ze_info of the mutant unreadable)"
    lines = difflib.unified_diff(old.decode("utf-8", "replace").splitlines(),
                                 new.decode("utf-8", "replace").splitlines(), "base", "mutant", n=1, lineterm="")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------
# Child: loads what it is sent

_HDR = struct.Struct("<IIH")  # mutant id, size, kernel-name length
_STOP = 0xFFFFFFFF


def child_main() -> int:
    import warnings
    warnings.simplefilter("ignore")
    from triton.backends.intel import level_zero
    rt = level_zero.runtime()
    ze = rt.ze
    inp, out = sys.stdin.buffer, sys.stdout
    out.write("READY\n")
    out.flush()
    while True:
        head = inp.read(_HDR.size)
        if len(head) < _HDR.size:
            return 0
        mid, size, nlen = _HDR.unpack(head)
        if mid == _STOP:
            return 0
        name = inp.read(nlen).decode()
        binary = inp.read(size)
        out.write(f"B {mid}\n")
        out.flush()
        try:
            r = ze.load_native(0, binary, name)
            ze.unload(r["module"], r["kernel"])
            outcome = "loaded" + (" (recompiled)" if "recompiled" in r.get("build_log", "") else "")
        except ze.ZeError as e:
            outcome = f"refused {getattr(e, 'call', '?')} {getattr(e, 'result_name', str(e)[:80])}"
        except Exception as e:  # noqa: BLE001 - a clean Python-level refusal is not a crash
            outcome = f"error {type(e).__name__}: {str(e)[:80]}"
        out.write(f"E {mid} {outcome}\n")
        out.flush()


# --------------------------------------------------------------------------------------------------------
# Parent: runs children, detects deaths, replays


@dataclass
class Death:
    mid: int
    how: str  # "signal SIGABRT", "exit 1", "hang"
    stderr: str


def abort_location(stderr: str) -> str:
    m = re.search(r"Abort was called at (\d+) line in file:\s*(\S+)", stderr)
    if m:
        return f"{m.group(2)}:{m.group(1)}"
    lines = [l for l in stderr.strip().splitlines() if "RuntimeWarning" not in l and "emulation.activate" not in l]
    return lines[-1][:200] if lines else ""


class Child:
    def __init__(self, device: str, timeout: float):
        self.tmp = tempfile.mkdtemp(prefix="fuzz-zebin-child-")
        env = dict(os.environ, TRITON_XPU_EMULATE=device, TMPDIR=self.tmp, PYTHONWARNINGS="ignore")
        self.errpath = os.path.join(self.tmp, "stderr")
        self.err = open(self.errpath, "w+b")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child"], cwd=self.tmp,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, env=env)
        self.timeout = timeout
        self.buf = b""
        self.noise = ""
        line = self._line(120)
        if line != "READY":
            self.close()
            raise RuntimeError(f"fuzz child did not start: {line!r}: {self.stderr()[-2000:]}")

    def stderr(self) -> str:
        self.err.flush()
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _line(self, timeout: float) -> Optional[str]:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return ""  # EOF: the child died
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def run(self, mid: int, binary: bytes, kernel: str) -> Tuple[Optional[str], Optional[Death]]:
        name = kernel.encode()
        try:
            self.proc.stdin.write(_HDR.pack(mid, len(binary), len(name)) + name + binary)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        while True:
            line = self._line(self.timeout)
            if line is None:
                self.proc.kill()
                self.proc.wait()
                return None, Death(mid, "hang", self.stderr())
            if line == "":
                rc = self.proc.wait()
                how = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit {rc}"
                # NEO prints its abort message on stdout: keep what came after the last protocol line
                rest = self.noise + self.buf.decode("utf-8", "replace")
                return None, Death(mid, how, (rest + "\n" + self.stderr()).strip())
            if line.startswith("B "):
                self.noise = ""
            elif not line.startswith("E "):
                self.noise = (self.noise + line + "\n")[-4000:]  # driver output on stdout
            if line.startswith("E "):
                _, got, outcome = line.split(" ", 2)
                assert int(got) == mid, (got, mid)
                return outcome, None

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(_HDR.pack(_STOP, 0, 0))
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_alone(items: Sequence[Tuple[int, bytes, str]], device: str, timeout: float) -> Optional[Death]:
    """Run ``items`` in one fresh child; the death, if the child dies."""
    child = Child(device, timeout)
    try:
        for mid, binary, kernel in items:
            _, death = child.run(mid, binary, kernel)
            if death:
                return death
        return None
    finally:
        child.close()


def find_culprit(batch: List[Tuple[int, bytes, str]], device: str, timeout: float) -> Tuple[List[int], Death]:
    """Replay the last item of ``batch`` (the one in flight when the child died) alone; if that does not
    reproduce, bisect the prefix for the shortest run of earlier mutants that with it kills a child."""
    last = batch[-1]
    death = run_alone([last], device, timeout)
    if death:
        return [last[0]], death
    prefix = batch[:-1]
    lo, hi = 0, len(prefix)  # the smallest start such that prefix[start:] + last dies
    hi_death = run_alone(prefix + [last], device, timeout)
    if hi_death is None:
        return [m for m, _, _ in batch], Death(last[0], "not reproducible", "")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        d = run_alone(prefix[mid:] + [last], device, timeout)
        if d:
            lo, hi_death = mid, d
        else:
            hi = mid
    return [m for m, _, _ in prefix[lo:]] + [last[0]], hi_death


def _line_hunks(base_text: str, mutant_text: str):
    a, b = base_text.splitlines(keepends=True), mutant_text.splitlines(keepends=True)
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    return a, b, ops


def minimization_units(base: bytes, mutant: bytes):
    """How a mutant differs from its base, as independent units: ("bytes", positions) for a same-length
    mutant, ("lines", hunks) for one whose only change is its .ze_info; None when neither applies."""
    if len(base) == len(mutant):
        diffs = [i for i, (x, y) in enumerate(zip(base, mutant)) if x != y]
        if diffs:
            return "bytes", diffs
    try:
        new = section_data(mutant, ".ze_info")
        if new is not None and replace_section(base, ".ze_info", new) == mutant:
            a, b, ops = _line_hunks(section_data(base, ".ze_info").decode("latin-1"), new.decode("latin-1"))
            return "lines", ops
    except Exception:  # noqa: BLE001 - a mutant whose ELF does not parse
        pass
    return None


def apply_units(base: bytes, mutant: bytes, kind: str, units) -> bytes:
    if kind == "bytes":
        out = bytearray(base)
        for i in units:
            out[i] = mutant[i]
        return bytes(out)
    a, b, _ = _line_hunks(section_data(base, ".ze_info").decode("latin-1"),
                          section_data(mutant, ".ze_info").decode("latin-1"))
    lines = list(a)
    for _, i1, i2, j1, j2 in sorted(units, key=lambda op: op[1], reverse=True):
        lines[i1:i2] = b[j1:j2]
    return replace_section(base, ".ze_info", "".join(lines).encode("latin-1"))


def minimize(base: bytes, mutant: bytes, kernel: str, death: Death, device: str, timeout: float):
    """Delta-debug the mutant down to the fewest changed bytes / .ze_info hunks that still kill a child the
    same way (same signal and abort location); (minimal mutant, description) or None."""
    found = minimization_units(base, mutant)
    if found is None:
        return None
    kind, units = found
    key = (death.how, abort_location(death.stderr))
    runs = [0]

    def crashes(subset) -> bool:
        if not subset:
            return False
        runs[0] += 1
        d = run_alone([(0, apply_units(base, mutant, kind, subset), kernel)], device, timeout)
        return d is not None and (d.how, abort_location(d.stderr)) == key

    n = 2
    while len(units) >= 2 and runs[0] < 60:
        size = -(-len(units) // n)
        chunks = [units[i:i + size] for i in range(0, len(units), size)]
        for c in chunks:
            if crashes(c):
                units, n = c, 2
                break
        else:
            for c in chunks:
                rest = [u for u in units if u not in c]
                if crashes(rest):
                    units, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(units):
                    break
                n = min(len(units), 2 * n)
    minimal = apply_units(base, mutant, kind, units)
    if kind == "bytes":
        desc = "bytes " + " ".join(f"{i}:{base[i]:02x}->{mutant[i]:02x}" for i in units)
        where = []
        for i in units:
            for sec in elf_sections(base):
                if sec.offset <= i < sec.offset + sec.size and sec.type != 8:
                    where.append(f"{i} in {sec.name or 'null'}+{i - sec.offset}")
                    break
            else:
                shoff = _get(base, 40, 8)
                where.append(f"{i} in ELF header" if i < 64 else
                             f"{i} in section header {(i - shoff) // 64} +{(i - shoff) % 64}" if i >= shoff else str(i))
        desc += " (" + ", ".join(where) + ")"
    else:
        desc = "ze_info " + zeinfo_diff(base, minimal).replace("\n", " | ")
    return minimal, desc


def validator():
    try:
        from triton.backends.intel import zebin
    except ImportError:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "third_party", "intel",
                                        "backend"))
        import zebin  # type: ignore
    return getattr(zebin, "validate_for_load", None), zebin


def validator_verdict(check, binary: bytes, family: Optional[str] = None) -> str:
    """What the gate in front of the driver says: validate_for_load, then (with ``family``) the product-family
    check of level_zero.native_binary_for."""
    if check is None:
        return "no validator"
    try:
        info = check(binary)
    except Exception as e:  # noqa: BLE001
        return f"refused: {type(e).__name__}: {e}"
    if family and info.product_family_name != family:
        return f"refused: product family {info.product_family_name or info.product_family}, not the device's {family}"
    return "accepted"


def device_family(device: str) -> Optional[str]:
    try:
        from triton.backends.intel import targets
        return targets.lookup(device).product_family or None
    except Exception:  # noqa: BLE001
        return None


def base_zebins(args) -> List[Tuple[str, bytes, List[str]]]:
    """(label, zebin, kernel names) of the zebins to mutate."""
    _, zebin = validator()
    paths = list(args.zebin or [])
    out = []
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        out.append((os.path.basename(p), data, [k.name for k in zebin.read_zebin(data).kernels]))
    if not paths:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
        import kernels
        for name in args.kernels.split(","):
            data = kernels.SPECS[name].compile(args.device).asm["zebin"]
            out.append((f"{name}.{args.device}", data, [k.name for k in zebin.read_zebin(data).kernels]))
    return out


def fuzz(args) -> int:
    check, _ = validator()
    if args.only_unvalidated and check is None:
        sys.exit("--only-unvalidated: zebin.validate_for_load does not exist")
    bases = base_zebins(args)
    family = device_family(args.device)
    os.makedirs(args.out, exist_ok=True)
    stats: Dict[str, int] = {}
    crashes = []
    oddities: List[dict] = []
    skipped = 0
    ran = 0
    t0 = time.monotonic()
    child: Optional[Child] = None
    batch: List[Tuple[int, bytes, str]] = []
    meta: Dict[int, Tuple[str, str, bytes]] = {}
    i = args.first
    while ran < args.count:
        rng = random.Random(f"{args.seed}:{i}")
        label, base, names = bases[rng.randrange(len(bases))]
        binary, desc = mutate(base, rng)
        kernel = rng.choice(names)  # the kernel zeKernelCreate is asked for
        mid = i
        i += 1
        if args.only_unvalidated and validator_verdict(check, binary, family) != "accepted":
            skipped += 1
            if skipped > 200 * (ran + 100):
                break  # the validator refuses (almost) everything: nothing left to run
            continue
        if child is None:
            child = Child(args.device, args.timeout)
            batch, meta = [], {}
        batch.append((mid, binary, kernel))
        meta[mid] = (label, desc, base)
        outcome, death = child.run(mid, binary, kernel)
        ran += 1
        if death is None:
            key = outcome.split(" (")[0] if outcome.startswith("loaded") else outcome
            stats[key] = stats.get(key, 0) + 1
            if (outcome.startswith("error") or "RECOMPILED" in outcome) and len(oddities) < 50:
                # Survived, but the driver threw something other than an error code through the C API, or
                # took the binary for another device's and rebuilt it with IGC from the embedded SPIR-V
                # (IGC ends the process on corrupt SPIR-V: with the validator, that must not happen).
                path = os.path.join(args.out, f"odd-{len(oddities) + 1:04d}.zebin")
                with open(path, "wb") as f:
                    f.write(binary)
                record = {"mutant": mid, "base": meta[mid][0], "kernel": kernel, "mutation": meta[mid][1],
                          "outcome": outcome, "validator": validator_verdict(check, binary),
                          "zeinfo_diff": zeinfo_diff(meta[mid][2], binary)}
                with open(path[:-len(".zebin")] + ".json", "w") as f:
                    json.dump(record, f, indent=2)
                oddities.append(record)
            if len(batch) >= args.batch:
                child.close()
                child = None
        else:
            child.close()
            child = None
            culprits, confirmed = find_culprit(batch, args.device, args.timeout)
            label, desc, base = meta[mid]
            n = len(crashes) + 1
            path = os.path.join(args.out, f"crash-{n:04d}.zebin")
            with open(path, "wb") as f:
                f.write(binary)
            record = {
                "mutant": mid, "seed": args.seed, "base": label, "kernel": kernel, "mutation": desc,
                "death": death.how, "confirmed_alone": culprits == [mid], "replay": confirmed.how,
                "location": abort_location(death.stderr or confirmed.stderr),
                "stderr_tail": (death.stderr or "")[-600:], "validator": validator_verdict(check, binary, family),
                "zeinfo_diff": zeinfo_diff(base, binary), "file": path,
                "needs_earlier_mutants": culprits[:-1] if culprits != [mid] else [],
            }
            print(f"[{ran}] CRASH mutant {mid} ({label}): {death.how} at {record['location']}\n"
                  f"    mutation: {desc}\n    validator: {record['validator'][:200]}\n"
                  f"    saved {path}", flush=True)
            if args.minimize:
                got = minimize(base, binary, kernel, death if death.how != "hang" else confirmed, args.device,
                               args.timeout)
                if got is not None:
                    minimal, mdesc = got
                    with open(path[:-len(".zebin")] + ".min.zebin", "wb") as f:
                        f.write(minimal)
                    record.update(minimal_mutation=mdesc, minimal_validator=validator_verdict(check, minimal, family),
                                  minimal_file=path[:-len(".zebin")] + ".min.zebin")
                    print(f"    minimal: {mdesc[:300]}\n    validator on minimal: "
                          f"{record['minimal_validator'][:200]}", flush=True)
            with open(path[:-len(".zebin")] + ".json", "w") as f:
                json.dump(record, f, indent=2)
            crashes.append(record)
            stats["CRASH " + death.how] = stats.get("CRASH " + death.how, 0) + 1
        if args.progress and ran % args.progress == 0:
            print(f"[{ran}] {time.monotonic() - t0:.0f}s {dict(sorted(stats.items()))} skipped={skipped}",
                  flush=True)
    if child is not None:
        child.close()
    summary = {"seed": args.seed, "device": args.device, "bases": [b[0] for b in bases], "ran": ran,
               "skipped_by_validator": skipped, "outcomes": stats, "crashes": len(crashes),
               "oddities": len(oddities),
               "seconds": round(time.monotonic() - t0, 1), "out": args.out}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    return 1 if crashes else 0


def replay(args) -> int:
    check, zebin = validator()
    status = 0
    for path in args.replay:
        with open(path, "rb") as f:
            data = f.read()
        kernel = args.kernel
        if kernel is None:
            meta = path[:-len(".zebin")] + ".json" if path.endswith(".zebin") else None
            if meta and os.path.exists(meta):
                with open(meta) as f:
                    kernel = json.load(f)["kernel"]
        if kernel is None:
            try:
                kernel = zebin.read_zebin(data).kernels[0].name
            except Exception:  # noqa: BLE001
                kernel = "kernel"
        child = Child(args.device, args.timeout)
        try:
            outcome, death = child.run(0, data, kernel)
        finally:
            child.close()
        verdict = validator_verdict(check, data, device_family(args.device))
        if death:
            status = 1
            print(f"{path}: CRASH {death.how} at {abort_location(death.stderr)}; validator {verdict}")
        else:
            print(f"{path}: {outcome}; validator {verdict}")
    return status


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=1000, help="mutants to feed to the driver")
    p.add_argument("--first", type=int, default=0, help="index of the first mutant (to reproduce one)")
    p.add_argument("--only-unvalidated", action="store_true",
                   help="skip mutants validate_for_load refuses: test that what it accepts is safe")
    p.add_argument("--device", default="pvc", help="emulated device (TRITON_XPU_EMULATE): pvc, acm-g10, tgllp")
    p.add_argument("--zebin", action="append", help="zebin to mutate (repeatable); default: example kernels")
    p.add_argument("--kernels", default="add,softmax,atomics,sort",
                   help="example kernels (examples/kernels.py) to compile and mutate when no --zebin is given")
    p.add_argument("--batch", type=int, default=500, help="mutants per child process")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds one load may take before it is a hang")
    p.add_argument("--out", default=None, help="folder for crashing mutants (default: a new temp folder)")
    p.add_argument("--progress", type=int, default=1000, help="print progress every N mutants (0: never)")
    p.add_argument("--minimize", action="store_true",
                   help="delta-debug every crash down to the fewest changed bytes / .ze_info lines")
    p.add_argument("--replay", nargs="+", metavar="ZEBIN", help="load saved mutants, one child each")
    p.add_argument("--kernel", default=None, help="kernel name for --replay")
    args = p.parse_args(argv)
    if args.child:
        return child_main()
    if args.replay:
        return replay(args)
    if args.out is None:
        args.out = tempfile.mkdtemp(prefix="fuzz-zebin-")
    return fuzz(args)


if __name__ == "__main__":
    sys.exit(main())

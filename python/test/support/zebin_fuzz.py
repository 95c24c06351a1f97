"""The loader fuzzer's reusable parts: the mutants of a real zebin, and the child process that loads and launches
them on the emulated device (``tools/fuzz_zebin.py`` is the command line over them; the tests use them too).

Mutants (:class:`MutantSet`), per mode of :data:`MODES`, in a fixed order, each made on demand from its index:

* ``zeinfo-bits``: every single-bit flip of the ``.ze_info`` section;
* ``all-bits``: every single-bit flip of the whole zebin;
* ``values``: every ``.ze_info`` value set to each in-range value of its schema type (binary.zeinfo's bounds and
  enumerations), each optional ``execution_env`` key and each payload-argument key an argument lacks added with
  each of its values, and an inline sampler added with each addressing and filter mode.

The child (:class:`Child`, this module run with ``python -m support.zebin_fuzz SPEC``) reads mutants on stdin and
answers each with its outcome: ``refused`` (the checks of ``binary.validate`` in front of the driver),
``driver-refused`` (NEO's error code at module or kernel creation), ``launch-refused`` (an error code when its
arguments were set or it was launched) or ``launched`` (loaded, launched the way Triton launches the base kernel,
synchronised); with ``raw``, without the checks.  A child that dies or stops answering is a :class:`Death`.
SPEC is a JSON file naming, per base, its kernel, argument kinds, group size and shared memory.

Test support: not shipped.
"""

from __future__ import annotations

import ast
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

from . import zebin_edit

MODES = ("zeinfo-bits", "all-bits", "values")
_TEST_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/test, the support package's root

# --------------------------------------------------------------------------------------------------------
# Mutants


@dataclass(frozen=True)
class Mutant:
    index: int  # within its mode and base, in enumeration order
    what: str  # human-readable: "bit 3 of byte 1234 (.ze_info+17)" or "kernels[0].execution_env.simd_size = 8"
    data: bytes


def _section_of(image, pos: int) -> str:
    for s in image.sections[1:]:
        if s.type != 8 and s.offset <= pos < s.end:
            return f"{s.name}+{pos - s.offset}"
    shoff = image.header.e_shoff
    if pos < 64:
        return "ELF header"
    if shoff <= pos < shoff + 64 * len(image.sections):
        return f"section header {(pos - shoff) // 64} +{(pos - shoff) % 64}"
    return "padding"


def zeinfo_span(image) -> Tuple[int, int]:
    section = image.section(".ze_info")
    return section.offset, section.end


def int_values(spec, original: Optional[int]) -> List[int]:
    """In-range values of an integer field: its allowed set, or its bounds, their neighbours, powers of two
    and their neighbours, small odd numbers, and the original's neighbours."""
    if spec.values is not None:
        return sorted(v for v in spec.values if v != original)
    lo, hi = spec.lo, spec.hi
    values = {lo, lo + 1, hi - 1, hi, 3, 5, 7, 9, 17, 31, 33, 48, 96, 100, 192}
    power = 1
    while power <= hi:
        values.update((power - 1, power, power + 1))
        power *= 2
    if original is not None:
        values.update((original - 1, original + 1))
    return sorted(v for v in values if lo <= v <= hi and v != original)


def scalar_values(spec, text: Optional[str]) -> List[str]:
    if spec.kind == "int":
        original = int(text) if text is not None and text.lstrip("-").isdigit() else None
        return [str(v) for v in int_values(spec, original)]
    if spec.kind == "bool":
        return [v for v in ("true", "false") if v != text]
    if spec.kind == "str" and spec.values is not None:
        return [v for v in sorted(spec.values) if v != text]
    if spec.kind == "int3":
        return [f"[ {a}, {b}, {c} ]" for a, b, c in
                ((0, 1, 1), (1, 0, 1), (1, 1, 1), (16, 1, 1), (32, 2, 1), (1024, 1, 1), (1024, 1024, 1),
                 (spec.hi, 1, 1), (spec.hi, spec.hi, spec.hi), (3, 5, 7))]
    return []  # free strings and numbers: names and costs, not worth a value sweep


def value_edits(text: str) -> List[Tuple[str, int, int, str]]:
    """(description, start, end, replacement) of .ze_info text: every scalar set to each in-range value of its
    schema type, and each optional execution_env key added with each of its values."""
    import yaml
    from triton.backends.intel.binary import zeinfo
    edits: List[Tuple[str, int, int, str]] = []

    def walk(node, spec, path):
        if spec.kind == "map":
            present = {k.value: v for k, v in node.value}
            for key, value_node in present.items():
                if key in spec.fields:
                    walk(value_node, spec.fields[key], f"{path}.{key}" if path else key)
            if "execution_env" in present and spec.fields.get("inline_samplers"):  # a kernel: add inline samplers
                key = next(k for k, _ in node.value if k.value == "execution_env").start_mark
                at, pad = key.index - key.column, " " * key.column
                sampler = spec.fields["inline_samplers"].item.fields
                for mode in sorted(sampler["addrmode"].values):
                    for filtering in sorted(sampler["filtermode"].values):
                        block = (f"{pad}inline_samplers:\n{pad}  - sampler_index: 0\n{pad}    addrmode: {mode}\n"
                                 f"{pad}    filtermode: {filtering}\n{pad}    normalized: true\n")
                        edits.append((f"{path}.inline_samplers = [{mode}, {filtering}] (added)", at, at, block))
            if spec.fields is zeinfo.PAYLOAD_ARGUMENT:  # every other key of a payload argument, added after its first
                first_key, first_value = node.value[0]
                at = first_value.end_mark.index
                for key, sub in sorted(spec.fields.items()):
                    if key not in present:
                        edits.extend((f"{path}.{key} = {value} (added)", at, at,
                                      f"\n{' ' * first_key.start_mark.column}{key}: {value}")
                                     for value in scalar_values(sub, None))
            if spec is zeinfo.EXECUTION_ENV:  # optional keys, added before the first one
                first = node.value[0][0].start_mark
                at = first.index - first.column
                for key, sub in sorted(spec.fields.items()):
                    if key not in present:
                        edits.extend((f"{path}.{key} = {value} (added)", at, at,
                                      f"{' ' * first.column}{key}: {value}\n") for value in scalar_values(sub, None))
        elif spec.kind == "list":
            for i, item in enumerate(node.value):
                walk(item, spec.item, f"{path}[{i}]")
        else:
            start, end = node.start_mark.index, node.end_mark.index
            current = text[start:end] if spec.kind != "int3" else None
            edits.extend((f"{path} = {value}", start, end, value) for value in scalar_values(spec, current))

    walk(yaml.compose(text, Loader=yaml.SafeLoader), zeinfo.ZEINFO, "")
    return edits


class MutantSet:
    """The mutants of one mode of one base zebin, by index, made on demand."""

    def __init__(self, mode: str, base: bytes):
        from triton.backends.intel.binary import elf, zebin
        self.mode, self.base = mode, base
        self.image = elf.parse(base, zebin.SECTION_TYPES)
        if mode == "values":
            self.text = self.image.content(self.image.section(".ze_info")).decode("ascii")
            self.edits = value_edits(self.text)
            self.size = len(self.edits)
        else:
            self.lo, self.hi = zeinfo_span(self.image) if mode == "zeinfo-bits" else (0, len(base))
            self.size = 8 * (self.hi - self.lo)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> Mutant:
        if self.mode == "values":
            what, start, end, new = self.edits[i]
            text = self.text[:start] + new + self.text[end:]
            return Mutant(i, what, zebin_edit.replace_section(self.image, ".ze_info", text.encode()))
        pos, bit = self.lo + i // 8, i % 8
        data = bytearray(self.base)
        data[pos] ^= 1 << bit
        return Mutant(i, f"bit {bit} of byte {pos} ({_section_of(self.image, pos)})", bytes(data))

    def indices(self, first: int, count: Optional[int], sample: Optional[int], seed: int) -> List[int]:
        if sample is not None:
            rng = random.Random(f"{seed}:{self.mode}")
            return sorted(rng.sample(range(self.size), min(sample, self.size)))
        return list(range(first, self.size if count is None else min(self.size, first + count)))


# --------------------------------------------------------------------------------------------------------
# Child: loads and launches what it is sent

_HEADER = struct.Struct("<IIHB")  # mutant id, size, base name length, 1 = hand it to NEO unchecked
_STOP = 0xFFFFFFFF


def child_main(spec_path: str) -> int:
    import warnings
    warnings.simplefilter("ignore")
    import functools
    from triton.backends.intel.runtime import level_zero
    from triton.backends.intel.binary import zeinfo
    from triton.backends.intel.errors import IntelBackendError
    # Most bit flips leave .ze_info as it was: parse each distinct text once (the parse is a pure function of
    # the bytes, and its result is only read), so the sweep spends its time in the driver.
    zeinfo.parse = functools.lru_cache(maxsize=16)(zeinfo.parse)
    with open(spec_path) as f:
        bases = json.load(f)
    rt = level_zero.runtime()
    ze = rt.ze
    dev = level_zero.device(0)
    buffers = [level_zero.alloc(1 << 20, "device") for _ in range(8)]
    inp, out = sys.stdin.buffer, sys.stdout
    out.write("READY\n")
    out.flush()
    while True:
        head = inp.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return 0
        mid, size, nlen, raw = _HEADER.unpack(head)
        if mid == _STOP:
            return 0
        base = bases[inp.read(nlen).decode()]
        binary = inp.read(size)
        out.write(f"B {mid}\n")
        out.flush()
        try:
            if raw:  # straight to NEO: module and kernel creation without the checks
                try:
                    got = ze.load_native(dev.index, binary, base["kernel"], 0)
                except ze.ZeError as e:
                    raise IntelBackendError(f"the Level Zero driver refused it: {e}") from None
                loaded = level_zero.LoadedKernel(got["module"], got["kernel"], 0, 0, "", None, None)
                rt.kernels[got["kernel"]] = level_zero.KernelSource(got["module"], binary, base["kernel"])
            else:
                loaded = level_zero.load_kernel(dev, binary, base["kernel"])
        except IntelBackendError as e:
            text = str(e)
            outcome = "driver-refused" if text.startswith("the Level Zero driver refused") else "refused"
            out.write(f"E {mid} {outcome} {text[:300]!r}\n")
            out.flush()
            continue
        try:
            launcher = ze.Launcher(loaded.kernel, dev.index, base["kinds"], tuple(base["group"]), base["shared"])
            args = [buffers[i % len(buffers)] if kind == "ptr" else (1.0 if kind.startswith(("fp", "bf")) else 1)
                    for i, kind in enumerate(base["kinds"])]
            launcher(2, 1, 1, *args)
            ze.synchronize(dev.index)
            outcome, detail = "launched", ""
        except Exception as e:  # noqa: BLE001 - an error code the driver returned at launch
            outcome, detail = "launch-refused", f"{type(e).__name__}: {e}"[:300]
        finally:
            ze.unload(loaded.module, loaded.kernel)
            rt.kernels.pop(loaded.kernel, None)
        out.write(f"E {mid} {outcome} {detail!r}\n")
        out.flush()


# --------------------------------------------------------------------------------------------------------
# Parent: runs a child, notices its death


@dataclass
class Death:
    how: str  # "signal SIGABRT", "exit 1", "hang"
    output: str  # what the child printed (NEO prints its abort message on stdout)


class Child:
    def __init__(self, spec_path: str, device: str, timeout: float):
        self.tmp = tempfile.mkdtemp(prefix="fuzz-zebin-child-")
        env = dict(os.environ, TRITON_XPU_EMULATE=device, TMPDIR=self.tmp, PYTHONWARNINGS="ignore")
        self.err = open(os.path.join(self.tmp, "stderr"), "w+b")
        # This module run as the child, found through python/test (where the support package is).
        env["PYTHONPATH"] = os.pathsep.join([_TEST_ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        self.proc = subprocess.Popen([sys.executable, "-m", __name__, spec_path],
                                     cwd=self.tmp, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     env=env)
        self.timeout = timeout
        self.buf = b""
        self.noise = ""
        line = self._line(180)
        if line != "READY":
            text = self.stderr()[-2000:]
            self.close()
            raise RuntimeError(f"fuzz child did not start: {line!r}: {text}")

    def stderr(self) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def _line(self, timeout: float) -> Optional[str]:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return ""  # EOF: the child died
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def run(self, mid: int, base: str, binary: bytes,
            raw: bool = False) -> Tuple[Optional[Tuple[str, str]], Optional[Death]]:
        """Sends mutant ``mid`` of base ``base`` (``raw``: to NEO unchecked); ((outcome, detail), None) from a child
        that answered, (None, Death) from one that died or stopped answering (it is gone then: start another)."""
        name = base.encode()
        try:
            self.proc.stdin.write(_HEADER.pack(mid, len(binary), len(name), int(raw)) + name + binary)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        while True:
            line = self._line(self.timeout)
            if line is None:
                self.proc.kill()
                self.proc.wait()
                return None, Death("hang", self.noise + self.stderr())
            if line == "":
                rc = self.proc.wait()
                how = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit {rc}"
                rest = self.noise + self.buf.decode("utf-8", "replace")
                return None, Death(how, (rest + "\n" + self.stderr()).strip()[-3000:])
            if line.startswith("B "):
                self.noise = ""
            elif line.startswith("E "):
                _, got, outcome, detail = line.split(" ", 3)
                assert int(got) == mid, (got, mid)
                return (outcome, ast.literal_eval(detail)), None  # a repr() the child wrote
            else:
                self.noise = (self.noise + line + "\n")[-4000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(_HEADER.pack(_STOP, 0, 0, 0))
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1]))

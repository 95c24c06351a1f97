#!/usr/bin/env python3
"""Fuzz the loader: feed corrupt copies of real zebins to the driver path and launch what it accepts.

Every mutant goes through what a Triton load does -- ``level_zero.load_kernel`` (the checks of
``binary.validate``, then NEO's ``zeModuleCreate`` / ``zeKernelCreate``) -- and, when accepted, is launched
the way Triton launches its base kernel (same arguments, group size and shared memory), then synchronised,
on the emulated device, in a child process.  Each mutant ends as one of

* ``refused``: the checks in front of the driver refused it (the error names the field and value),
* ``driver-refused``: NEO returned an error code at module or kernel creation,
* ``launch-refused``: NEO returned an error code when its arguments were set or it was launched,
* ``launched``: loaded, launched and synchronised,
* ``killed``: the child process died (NEO aborted it) or stopped answering.  The goal is 0.

Mutants, per base kernel (``--kernels``, compiled for ``--device``), in a fixed order:

* ``zeinfo-bits``: every single-bit flip of the ``.ze_info`` section;
* ``all-bits``: every single-bit flip of the whole zebin;
* ``values``: every ``.ze_info`` value set to each in-range value of its schema type (binary.zeinfo's
  bounds and enumerations), each optional ``execution_env`` key and each payload-argument key an argument
  lacks added with each of its values, and an inline sampler added with each addressing and filter mode.

``--sample N --seed S`` runs a seeded random subset of N mutants per mode and kernel instead (what the tests
run); mutant ``i`` of a mode is reproducible with ``--mode M --first i --count 1``.  A killed mutant is saved
under ``--out`` with a JSON record, replayed alone to confirm it, and the exit status is 1.

    TRITON_XPU_EMULATE=pvc python tools/fuzz_zebin.py --mode values --kernels add,softmax
    python tools/fuzz_zebin.py --mode all-bits --sample 500 --seed 1 --json
    python tools/fuzz_zebin.py --replay /tmp/fuzz-zebin-.../killed-0001.zebin
    python tools/fuzz_zebin.py --mode values --unchecked     # also: what NEO does with what the checks refuse

``--unchecked`` hands every mutant the checks refuse to NEO as well, without the checks (module and kernel
creation, launch, synchronisation, in a separate child), and reports per rule how many of them NEO launched
(false refusals, unless the rule guards a launch that goes wrong silently: the emulated device does not run
kernels), refused, or died on.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("zeinfo-bits", "all-bits", "values")
OUTCOMES = ("refused", "driver-refused", "launch-refused", "launched", "killed")
# What NEO does with a binary the checks refused, handed to it unchecked (--unchecked): "launched" is a false
# refusal unless the rule guards a silently wrong launch (the emulated device does not execute kernels).
RAW_OUTCOMES = ("launched", "launch-refused", "driver-refused", "died")

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
                        edits.extend((f"{path}.{key} = {value} (added)", at, at, f"{' ' * first.column}{key}: {value}\n")
                                     for value in scalar_values(sub, None))
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
            from triton.backends.intel.binary import edit
            what, start, end, new = self.edits[i]
            text = self.text[:start] + new + self.text[end:]
            return Mutant(i, what, edit.replace_section(self.image, ".ze_info", text.encode()))
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
# Parent: runs children, notices deaths, replays


@dataclass
class Death:
    how: str  # "signal SIGABRT", "exit 1", "hang"
    output: str  # what the child printed (NEO prints its abort message on stdout)


class Child:
    def __init__(self, spec_path: str, device: str, timeout: float):
        self.tmp = tempfile.mkdtemp(prefix="fuzz-zebin-child-")
        env = dict(os.environ, TRITON_XPU_EMULATE=device, TMPDIR=self.tmp, PYTHONWARNINGS="ignore")
        self.err = open(os.path.join(self.tmp, "stderr"), "w+b")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", spec_path],
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

    def run(self, mid: int, base: str, binary: bytes, raw: bool = False) -> Tuple[Optional[Tuple[str, str]], Optional[Death]]:
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


def prepare_bases(names: Sequence[str], device: str, folder: str) -> Tuple[Dict[str, bytes], str]:
    """Compile each example kernel for ``device``; ({label: zebin}, the children's launch spec file)."""
    sys.path.insert(0, os.path.join(REPO, "examples"))
    import kernels
    from triton.backends.intel.driver import arg_kind
    zebins, spec = {}, {}
    for name in names:
        compiled = kernels.SPECS[name].compile(device)
        md = compiled.metadata
        kinds = [arg_kind(t) for t in compiled.src.signature.values() if t != "constexpr"]
        label = f"{name}.{device}"
        zebins[label] = compiled.asm["zebin"]
        spec[label] = {"kernel": md.name, "kinds": kinds, "group": [md.num_warps * md.threads_per_warp, 1, 1],
                       "shared": md.shared or 0}
    path = os.path.join(folder, "bases.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return zebins, path


def rule_of(refusal: str) -> str:
    """The rule a refusal message names, without the values: numbers, names and quoted text replaced."""
    text = refusal.replace("not a loadable native binary: ", "")
    text = re.sub(r"\b(kernel|function|symbol|for) [A-Za-z_$.][A-Za-z0-9_$.]*", r"\1 K", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|b'[^']*'", "S", text)
    text = re.sub(r"\[[^\]]*\]", "[..]", text)
    text = re.sub(r"0x[0-9a-fA-F]+|-?\d+", "N", text)
    return text.split(";")[0][:160]


def fuzz(args) -> Dict[str, Any]:
    os.makedirs(args.out, exist_ok=True)
    zebins, spec_path = prepare_bases(args.kernels.split(","), args.device, args.out)
    modes = MODES if args.mode == "all" else (args.mode,)
    sets = {(label, mode): MutantSet(mode, base) for label, base in zebins.items() for mode in modes}
    work = iter([(key, i) for key, ms in sets.items() for i in ms.indices(args.first, args.count, args.sample,
                                                                             args.seed)])
    counts = {key: dict.fromkeys(OUTCOMES, 0) for key in sets}
    refusals: Dict[str, int] = {}
    unchecked: Dict[str, Dict[str, Any]] = {}  # rule -> RAW_OUTCOMES counts and examples
    killed: List[Dict[str, Any]] = []
    lock = threading.Lock()
    start = time.monotonic()
    done = [0]

    def worker() -> None:
        child: Optional[Child] = None
        raw_child: Optional[Child] = None
        try:
            while True:
                with lock:
                    item = next(work, None)
                if item is None:
                    return
                (label, mode), i = item
                m = sets[label, mode][i]
                if child is None:
                    child = Child(spec_path, args.device, args.timeout)
                result, death = child.run(m.index, label, m.data)
                if death is not None:
                    child.close()
                    child = None
                    record = save_killed(args, label, mode, m, death, spec_path, lock)
                with lock:
                    done[0] += 1
                    if death is None:
                        outcome, detail = result
                        counts[label, mode][outcome] += 1
                        if outcome == "refused":
                            reason = detail.replace("not a loadable native binary: ", "").split(":")[0]
                            refusals[reason] = refusals.get(reason, 0) + 1
                    else:
                        counts[label, mode]["killed"] += 1
                        killed.append(record)
                    if args.progress and done[0] % args.progress == 0:
                        print(f"[{done[0]}] {time.monotonic() - start:.0f} s, {len(killed)} killed", file=sys.stderr,
                              flush=True)
                if args.unchecked and death is None and result[0] == "refused":
                    raw_child = unchecked_run(raw_child, label, mode, m, rule_of(result[1]))
        finally:
            if child is not None:
                child.close()
            if raw_child is not None:
                raw_child.close()

    def unchecked_run(raw_child: Optional[Child], label: str, mode: str, m: Mutant, rule: str) -> Optional[Child]:
        """Hands the refused mutant to NEO unchecked in ``raw_child`` (started if None); the child to use next."""
        if raw_child is None:
            raw_child = Child(spec_path, args.device, args.timeout)
        result, death = raw_child.run(m.index, label, m.data, raw=True)
        if death is not None:
            raw_child.close()
            raw_child = None
            outcome, detail = "died", f"{death.how}: {death.output[-200:]}"
        else:
            outcome, detail = result
            outcome = {"refused": "driver-refused"}.get(outcome, outcome)
        with lock:
            row = unchecked.setdefault(rule, {**dict.fromkeys(RAW_OUTCOMES, 0), "examples": {}})
            row[outcome] += 1
            examples = row["examples"].setdefault(outcome, [])
            if len(examples) < 3:
                examples.append(f"{label} {mode} #{m.index}: {m.what}" + (f" -> {detail[:160]}" if detail else ""))
        return raw_child

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = [{"base": label, "mode": mode, "mutants": len(sets[label, mode]), **c} for (label, mode), c in counts.items()]
    total = {o: sum(r[o] for r in rows) for o in OUTCOMES}
    return {"device": args.device, "toolchain": os.environ.get("TRITON_XPU_TOOLCHAIN", "host"),
            "sample": args.sample, "seed": args.seed, "seconds": round(time.monotonic() - start, 1),
            "rows": rows, "total": total, "refusals": dict(sorted(refusals.items(), key=lambda kv: -kv[1])),
            "unchecked": dict(sorted(unchecked.items(), key=lambda kv: (-kv[1]["launched"], kv[0]))),
            "false_refusals": sum(r["launched"] for r in unchecked.values()),
            "killed": killed, "out": args.out}


def save_killed(args, label: str, mode: str, m: Mutant, death: Death, spec_path: str,
                lock: threading.Lock) -> Dict[str, Any]:
    with lock:
        n = len([f for f in os.listdir(args.out) if f.startswith("killed-") and f.endswith(".zebin")]) + 1
        path = os.path.join(args.out, f"killed-{n:04d}.zebin")
        with open(path, "wb") as f:
            f.write(m.data)
    alone = Child(spec_path, args.device, args.timeout)
    try:
        _, again = alone.run(0, label, m.data)
    finally:
        alone.close()
    record = {"base": label, "mode": mode, "mutant": m.index, "mutation": m.what, "death": death.how,
              "confirmed_alone": again is not None, "output_tail": death.output[-800:], "file": path,
              "reproduce": f"--mode {mode} --kernels {label.split('.')[0]} --first {m.index} --count 1"}
    with open(path[:-len(".zebin")] + ".json", "w") as f:
        json.dump(record, f, indent=2)
    print(f"KILLED {label} {mode} #{m.index}: {m.what}: {death.how}; saved {path}", file=sys.stderr, flush=True)
    return record


def print_report(report: Dict[str, Any]) -> None:
    header = ["base", "mode", "mutants"] + list(OUTCOMES)
    rows = [[r["base"], r["mode"], str(r["mutants"])] + [str(r[o]) for o in OUTCOMES] for r in report["rows"]]
    rows.append(["total", "", str(sum(r["mutants"] for r in report["rows"]))] + [str(report["total"][o]) for o in OUTCOMES])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"zebin fuzz on emulated {report['device']} ({report['toolchain']} toolchain), "
          f"{'sample of ' + str(report['sample']) + ' per mode and kernel, seed ' + str(report['seed']) if report['sample'] else 'every mutant'}, "
          f"{report['seconds']} s")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if report["refusals"]:
        print("refused as: " + "; ".join(f"{k} {v}" for k, v in list(report["refusals"].items())[:8]))
    if report["unchecked"]:
        print(f"refused by the checks, then handed to NEO unchecked ({report['false_refusals']} launched fine):")
        print("  " + "  ".join(o.ljust(14) for o in RAW_OUTCOMES) + "  rule")
        for rule, row in report["unchecked"].items():
            print("  " + "  ".join(str(row[o]).ljust(14) for o in RAW_OUTCOMES) + "  " + rule)


def replay(args) -> int:
    status = 0
    spec = None
    with tempfile.TemporaryDirectory() as folder:
        for path in args.replay:
            record_path = path[:-len(".zebin")] + ".json"
            with open(record_path) as f:
                record = json.load(f)
            if spec is None:
                _, spec = prepare_bases([record["base"].split(".")[0]], args.device, folder)
            with open(path, "rb") as f:
                data = f.read()
            child = Child(spec, args.device, args.timeout)
            try:
                result, death = child.run(0, record["base"], data)
            finally:
                child.close()
            if death:
                status = 1
                print(f"{path}: KILLED ({death.how}): {death.output[-300:]}")
            else:
                print(f"{path}: {result[0]} {result[1]}")
    return status


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=MODES + ("all",), default="all")
    p.add_argument("--kernels", default="add,softmax,layernorm", help="example kernels (examples/kernels.py)")
    p.add_argument("--device", default="pvc", help="emulated device (TRITON_XPU_EMULATE): pvc, acm-g10, tgllp")
    p.add_argument("--sample", type=int, default=None, help="a seeded random subset of N mutants per mode and kernel")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--first", type=int, default=0, help="first mutant of each mode (to reproduce one)")
    p.add_argument("--count", type=int, default=None, help="mutants per mode and kernel from --first")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="child processes run at once")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a load and launch may take")
    p.add_argument("--out", default=None, help="folder for killed mutants (default: a new temp folder)")
    p.add_argument("--progress", type=int, default=0, help="progress on stderr every N mutants")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--unchecked", action="store_true",
                   help="also hand each mutant the checks refuse to NEO unchecked (module, kernel, launch, sync) and "
                        "report per rule whether NEO refuses it, dies, or launches it (a false refusal)")
    p.add_argument("--replay", nargs="+", metavar="ZEBIN", help="load and launch saved mutants, one child each")
    args = p.parse_args(argv)
    if args.child:
        return child_main(args.child)
    os.environ.setdefault("TRITON_XPU_EMULATE", args.device)
    if args.replay:
        return replay(args)
    args.out = args.out or tempfile.mkdtemp(prefix="fuzz-zebin-")
    report = fuzz(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 1 if report["total"]["killed"] else 0


if __name__ == "__main__":
    sys.exit(main())

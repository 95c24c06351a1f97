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

Mutants, per base kernel (``--kernels``, compiled for ``--device``), in a fixed order: ``zeinfo-bits`` (every
single-bit flip of ``.ze_info``), ``all-bits`` (of the whole zebin) and ``values`` (every ``.ze_info`` value set to
each in-range value of its schema type, optional keys added).  The mutants and the child that loads and launches
them are the fuzzer's reusable parts, shared with the tests: python/test/support/zebin_fuzz.py.  This is the
command line over them: the runs, the report, saving and replaying killed mutants.

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
import json
import os
import re
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The fuzzer's mutants and child (python/test/support/zebin_fuzz.py) and the example kernels it mutates.
sys.path[:0] = [os.path.join(REPO, "python", "test"), os.path.join(REPO, "examples")]

from support.zebin_fuzz import MODES, Child, Death, Mutant, MutantSet  # noqa: E402

OUTCOMES = ("refused", "driver-refused", "launch-refused", "launched", "killed")
# What NEO does with a binary the checks refused, handed to it unchecked (--unchecked): "launched" is a false
# refusal unless the rule guards a silently wrong launch (the emulated device does not execute kernels).
RAW_OUTCOMES = ("launched", "launch-refused", "driver-refused", "died")


def prepare_bases(names: Sequence[str], device: str, folder: str) -> Tuple[Dict[str, bytes], str]:
    """Compile each example kernel for ``device``; ({label: zebin}, the children's launch spec file)."""
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

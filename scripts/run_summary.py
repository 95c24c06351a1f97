#!/usr/bin/env python3
"""The tables that end ``./run test``: the kernel corpus's counts per toolchain and target, and the skipped tests
and expected failures per reason per toolchain, from the JSON each toolchain's pytest wrote
(python/test/suite_summary.py, into $TRITON_XPU_TEST_SUMMARY_DIR).

    scripts/run_summary.py DIR TOOLCHAIN...

Exits 1 when a toolchain wrote no summary (its pytest did not finish) or a skip/xfail reason was not declared
for it in python/test/skip_reasons.py.  Standard library only: it runs on the host, outside the toolchains.
"""

import json
import os
import sys
from typing import Any, Dict, List

CORPUS_COLUMNS = ("cases", "loaded", "refused (declared)", "front-end (declared)", "failed", "skipped")


def corpus_lines(summaries: List[Dict[str, Any]]) -> List[str]:
    rows = [(s["toolchain"], target, counts) for s in summaries if s.get("corpus")
            for target, counts in s["corpus"]["targets"].items()]
    if not rows:
        return []
    widths = [max(len(c), 5) for c in CORPUS_COLUMNS]
    lines = ["toolchain target   " + "  ".join(f"{c:>{w}}" for c, w in zip(CORPUS_COLUMNS, widths))]
    for toolchain, target, counts in rows:
        lines.append(f"{toolchain:9} {target:8} " + "  ".join(f"{counts.get(c, 0):>{w}}"
                                                                for c, w in zip(CORPUS_COLUMNS, widths)))
    for s in summaries:
        for column, entries in sorted(((s.get("corpus") or {}).get("entries") or {}).items()):
            for entry, targets in entries.items():
                lines.append(f"{s['toolchain']:9} {column}: {entry} on {', '.join(targets)}")
    return lines


def reason_lines(summaries: List[Dict[str, Any]]) -> List[str]:
    lines = []
    for s in summaries:
        for r in s["reasons"]:
            lines.append(f"{s['toolchain']:9} {r['outcome']:8} {r['count']:5}  {r['reason']}")
    if lines:
        lines.insert(0, f"{'toolchain':9} {'outcome':8} {'tests':>5}  reason (declared in python/test/skip_reasons.py)")
    return lines


def tables(summaries: List[Dict[str, Any]]) -> List[str]:
    out = []
    corpus = corpus_lines(summaries)
    if corpus:
        out += ["--- kernel corpus per toolchain and target (python/test/corpus) ---"] + corpus
    reasons = reason_lines(summaries)
    out += ["--- skipped tests and expected failures per reason ---"] + (reasons or ["none"])
    return out


def problem_lines(summaries: List[Dict[str, Any]]) -> List[str]:
    lines = []
    for s in summaries:
        for p in s["problems"]:
            lines.append(f"{s['toolchain']}: {p['test']} {p['outcome']} with reason {p['reason']!r}")
            lines.append(f"    {p['problem']}")
    return lines


def main(argv: List[str]) -> int:
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    folder, toolchains = argv[1], argv[2:]
    summaries, missing = [], []
    for name in toolchains:
        path = os.path.join(folder, f"{name}.json")
        try:
            with open(path) as f:
                summaries.append(json.load(f))
        except (OSError, ValueError) as e:
            missing.append(f"{name}: no test summary ({path}: {e}); its pytest did not finish, see its output above")
    for line in tables(summaries):
        print(line)
    problems = problem_lines(summaries)
    if problems or missing:
        print("--- the run FAILS: ---")
        for line in missing + problems:
            print(line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

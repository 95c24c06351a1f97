"""Fixtures of the corpus tests: one compile process and one loader process per target for each pytest worker
(see harness.py for why they are separate processes), and a summary of the corpus's results at the end.

``TRITON_XPU_CORPUS=full`` adds the entries marked ``full_only`` (the ones taking many seconds to compile).
"""

import os
import sys
from collections import defaultdict
from typing import Dict

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import harness  # noqa: E402

FULL = harness.FULL


@pytest.fixture(scope="session")
def corpus_compiler():
    proc = harness.CompileProcess()
    yield proc
    proc.close()


@pytest.fixture(scope="session")
def corpus_loaders():
    loaders: Dict[str, harness.Loader] = {}

    def get(target: str) -> harness.Loader:
        if target not in loaders:
            loaders[target] = harness.Loader(target)
        return loaders[target]

    yield get
    for loader in loaders.values():
        loader.close()


# --- the summary: collected from each test's user_properties (they reach the xdist controller) -------------

_results = []


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.skipped):
        for key, value in report.user_properties:
            if key == "corpus":
                _results.append(value)


def pytest_terminal_summary(terminalreporter):
    if not _results:
        return
    by_target = defaultdict(lambda: defaultdict(set))
    frontend = {}
    for r in _results:
        kernel = (r["module"], r["attr"])
        by_target[r["target"]][r["stage"]].add(kernel)
        if r["stage"] == "front-end":
            frontend[r["entry"]] = r["error"].splitlines()[0][:160] if r["error"] else ""
        if r.get("mismatch"):
            by_target[r["target"]]["mismatch"].add(r["entry"])
    tr = terminalreporter
    tr.section("kernel corpus (python/test/corpus)" + (" -- full sweep" if FULL else ""))
    for target in sorted(by_target):
        s = by_target[target]
        tr.write_line(f"{target:8s} {len(s['zebin'] | s['zebin-stage'])} distinct kernels reached the zebin stage "
                      f"({len(s['zebin'])} compiled, {len(s['zebin-stage'])} failed there); "
                      f"{len(s['front-end'])} failed in Triton 3.3's front end; "
                      f"validator/driver mismatches: {len(s['mismatch'])} {sorted(s['mismatch']) or ''}")
    for name, why in sorted(frontend.items()):
        tr.write_line(f"front end: {name}: {why}")

"""The end of a test run: skips and expected failures by reason (each checked against skip_reasons.py), the kernel
corpus's counts per target, and a JSON copy of both for ``./run test`` to print after every toolchain's run.

A pytest plugin, registered by the root conftest in the process that sees every test's report: pytest's own, or
under xdist (``-n 2``, as ``./run test`` runs) the controller.  It must be this conftest's: the controller collects
nothing, so it never imports a sub-folder's conftest, whose hooks then run only in the workers, where their
terminal output is thrown away (why the corpus's counts used to be missing from CI's output).  What the workers
record with ``record_property`` reaches the controller in the reports' ``user_properties``.

``TRITON_XPU_TEST_SUMMARY_DIR``: write ``<dir>/<toolchain>.json`` (``scripts/run_summary.py`` reads them).
A skip or expected failure whose reason is not declared for this toolchain fails the run, naming the test.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional

import pytest

import skip_reasons

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import run_summary  # noqa: E402  (the tables ./run test prints: one format for both)

SUMMARY_DIR_ENV = "TRITON_XPU_TEST_SUMMARY_DIR"
CORPUS_KEY = "corpus"  # the user property test_corpus.py records for each case


def raw_reason(report) -> str:
    """The reason a skipped, xfailed or xpassed report gives, as the test wrote it (pytest's own wording)."""
    if hasattr(report, "wasxfail"):
        reason = report.wasxfail
        return reason[len("reason: "):] if reason.startswith("reason: ") else reason
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else ("" if reason == "Skipped" else reason)


def outcome_of(report) -> Optional[str]:
    """"skipped", "xfailed", "xpassed", "passed" or "failed" for the report that decides a test, else None."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed" if report.passed else None
    if report.skipped:
        return "skipped"
    if report.when == "call" or report.failed:
        return report.outcome
    return None


class SuiteSummary:

    def __init__(self, toolchain: str):
        self.toolchain = toolchain
        self.counts: Counter = Counter()
        self.reasons: Dict[tuple, List[str]] = defaultdict(list)  # (outcome, declared label or raw reason) -> ids
        self.problems: List[Dict[str, str]] = []
        self.corpus: Dict[str, Dict[str, Any]] = {}  # nodeid -> the case's record, with its outcome

    # --- collecting (every report reaches this process, also from xdist's workers) --------------------------

    def pytest_runtest_logreport(self, report):
        outcome = outcome_of(report)
        if outcome is None:
            return
        self.counts[outcome] += 1
        for key, value in getattr(report, "user_properties", ()):
            if key == CORPUS_KEY:
                previous = self.corpus.get(report.nodeid, {}).get("outcome")
                # A case that passed its call and failed at teardown is a failure.
                self.corpus[report.nodeid] = dict(value, outcome="failed" if "failed" in (outcome, previous)
                                                  else outcome)
        if outcome not in ("skipped", "xfailed", "xpassed"):
            return
        reason = raw_reason(report)
        if outcome == "xpassed":  # a non-strict xfail that passed: a mark that checks nothing
            self._problem(report, reason, "an expected failure passed (XPASS): make its mark strict "
                          "(xfail(strict=True)) so that it fails the day it passes, or remove the mark")
            self.reasons[outcome, f"(XPASS) {reason}"].append(report.nodeid)
            return
        declared = skip_reasons.find(outcome, reason)
        if declared is None:
            self._problem(report, reason, f"this reason is not declared in {skip_reasons.FILE}: a test that is "
                          f"{outcome} checks nothing here; make it run (or fail), or declare the reason there with "
                          "the toolchains where it is right and why")
            self.reasons[outcome, f"(UNDECLARED) {reason}"].append(report.nodeid)
        elif not declared.allows(self.toolchain):
            self._problem(report, reason, f"{skip_reasons.FILE} declares this reason ({declared.label}) only for "
                          f"{', '.join(declared.toolchains)}, not for the {self.toolchain} toolchain: here the test "
                          "must run")
            self.reasons[outcome, f"(NOT FOR {self.toolchain}) {declared.label}"].append(report.nodeid)
        else:
            self.reasons[outcome, declared.label].append(report.nodeid)

    def _problem(self, report, reason: str, why: str) -> None:
        self.problems.append({"test": report.nodeid, "outcome": outcome_of(report), "reason": reason, "problem": why})

    # --- the results -------------------------------------------------------------------------------------------

    def corpus_counts(self) -> Dict[str, Any]:
        """Per target: cases, and how many loaded (the validator accepts and NEO loads), were declared refusals or
        front-end failures (xfails), failed, or were skipped (a target this toolchain's ocloc does not know); and
        the entries behind the xfails and failures, with their targets."""
        targets: Dict[str, Counter] = defaultdict(Counter)
        entries: Dict[str, Dict[str, List[str]]] = defaultdict(lambda: defaultdict(list))
        for record in self.corpus.values():
            outcome, target = record["outcome"], record["target"]
            column = {"passed": "loaded", "xfailed": "refused (declared)"}.get(outcome, outcome)
            if outcome == "xfailed" and record.get("stage") == "front-end":
                column = "front-end (declared)"
            targets[target]["cases"] += 1
            targets[target][column] += 1
            if outcome in ("xfailed", "failed"):
                entries[column][record["entry"]].append(target)
        return {"targets": {t: dict(c) for t, c in sorted(targets.items())},
                "entries": {column: {e: sorted(ts) for e, ts in sorted(es.items())} for column, es in entries.items()}}

    def as_json(self, exitstatus: int) -> Dict[str, Any]:
        return {
            "toolchain": self.toolchain,
            "exitstatus": int(exitstatus),
            "counts": dict(self.counts),
            "reasons": [{"outcome": outcome, "reason": reason, "count": len(ids), "tests": sorted(ids)}
                        for (outcome, reason), ids in sorted(self.reasons.items())],
            "problems": self.problems,
            "corpus": self.corpus_counts() if self.corpus else None,
        }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        # Before the terminal summary is printed; pytest returns session.exitstatus.
        if self.problems and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        folder = os.environ.get(SUMMARY_DIR_ENV)
        if folder:
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{self.toolchain}.json")
            with open(path + ".tmp", "w") as f:
                json.dump(self.as_json(session.exitstatus), f, indent=1)
            os.replace(path + ".tmp", path)

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        data = self.as_json(0)
        if data["corpus"] or data["reasons"]:
            tr.section(f"corpus counts and skip/xfail reasons on {self.toolchain}")
            for line in run_summary.tables([data]):
                tr.write_line(line)
        if self.problems:
            tr.section("UNDECLARED SKIP OR XFAIL REASONS (the run fails)", red=True, bold=True)
            for line in run_summary.problem_lines([data]):
                tr.write_line(line, red=True)


def register(config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: its reports go to the controller
        return
    config.pluginmanager.register(SuiteSummary(os.environ.get("TRITON_XPU_TOOLCHAIN", "host")), "suite_summary")

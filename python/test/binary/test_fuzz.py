"""tools/fuzz_zebin.py on the emulated pvc: a seeded sample of every mode; no mutant may kill the process.

Each mutant is loaded through the driver path (the checks of binary.validate, then NEO) and, if accepted,
launched and synchronised, in child processes.  The full run's figures are in docs/testing.md.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TOOL = REPO / "tools" / "fuzz_zebin.py"

# Mutants are launched: never on a machine with a real Intel GPU (conftest.py).
pytestmark = pytest.mark.launches_broken_binaries


def fuzz(tmp_path, *args):
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc")
    proc = subprocess.run([sys.executable, str(TOOL), "--json", "--jobs", "1", "--out", str(tmp_path / "out"),
                           *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=600)
    assert proc.stdout, proc.stderr[-3000:]
    return proc, json.loads(proc.stdout)


@pytest.mark.parametrize("mode", ["zeinfo-bits", "all-bits", "values"])
def test_no_mutant_kills_the_process(tmp_path, mode):
    proc, report = fuzz(tmp_path, "--mode", mode, "--kernels", "add,softmax", "--sample", "120", "--seed", "7")
    killed = [f"{k['base']} {k['mutation']}: {k['death']}" for k in report["killed"]]
    assert killed == [], "\n".join(killed)
    assert proc.returncode == 0
    total = report["total"]
    # The sample exercises both sides of the gate: refusals with a reason, and launches of what passed.
    assert total["refused"] > 0 and total["launched"] > 0, total
    assert sum(total.values()) == 240


def test_a_mutant_is_reproducible_by_its_index(tmp_path):
    _, first = fuzz(tmp_path, "--mode", "values", "--kernels", "add", "--first", "5", "--count", "1")
    assert first["rows"][0]["mutants"] > 100
    assert sum(first["total"].values()) == 1


def test_unchecked_reports_what_neo_does_with_each_refusal(tmp_path):
    # --unchecked hands each refused mutant to NEO too: every refusal gets exactly one NEO outcome, per rule, and
    # whatever NEO does with it (even dying) is not a killed mutant of the checked path.
    proc, report = fuzz(tmp_path, "--mode", "values", "--kernels", "add", "--sample", "60", "--seed", "7",
                        "--unchecked", "--timeout", "60")
    assert proc.returncode == 0 and report["killed"] == []
    rules = report["unchecked"]
    assert rules and report["total"]["refused"] == sum(
        sum(row[o] for o in ("launched", "launch-refused", "driver-refused", "died")) for row in rules.values())
    assert report["false_refusals"] == sum(row["launched"] for row in rules.values())

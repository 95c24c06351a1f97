"""The README's main job (examples/main.py): its rows agree with the binaries it produced and loaded."""

import json
import os
import subprocess
import sys
from pathlib import Path

import kernels
from triton.backends.intel.runtime import level_zero
from triton.backends.intel.binary import zebin

MAIN = Path(__file__).resolve().parents[3] / "examples" / "main.py"


def run_main(*args):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_XPU_EMULATE"}
    return subprocess.run([sys.executable, str(MAIN), *args], capture_output=True, text=True, env=env, timeout=900)


def test_rows_match_the_binaries_and_every_kernel_loads(fresh_cache):
    proc = run_main("--targets", "pvc,acm-g10", "--kernels", "add,layernorm", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["kernel"], r["target"]) for r in rows] == [("add", "pvc"), ("layernorm", "pvc"),
                                                          ("add", "acm-g10"), ("layernorm", "acm-g10")]
    for row in rows:
        compiled = kernels.SPECS[row["kernel"]].compile(row["target"])  # a cache hit: the same binaries
        md = compiled.metadata
        assert row["zebin_bytes"] == len(compiled.asm["zebin"]) and row["spv_bytes"] == len(compiled.asm["spv"])
        assert (row["grf_mode"], row["spill_bytes"], row["grf_attempts"]) == (md.grf_mode, md.spill_bytes,
                                                                             md.grf_attempts)
        assert zebin.read(compiled.asm["zebin"]).kernel(md.name).grf_count == md.n_regs
        assert row["zebin_ms"] == row["stage_ms"]["zebin"] > 0
        assert row["front_end_ms"] == round(sum(row["stage_ms"][s] for s in ("ttir", "ttgir", "llir", "spv")), 1)
        assert list(md.stage_ms) == ["cached"]  # this process read the entry the job wrote
        if not level_zero.intel_render_nodes():
            assert row["device"] == f"emulated {row['target']}"
        assert row["launched"] is True and row["load_ms"] > 0 and row["jit_at_load_ms"] > 0
    assert "[4/4] compile layernorm for acm-g10" in proc.stderr  # progress
    assert "loading the pvc binaries on: " in proc.stderr


def test_table_has_a_row_per_kernel_and_target_and_says_where_it_loaded(fresh_cache):
    proc = run_main("--targets", "pvc", "--kernels", "add")
    assert proc.returncode == 0, proc.stderr
    where, header, rule, row = proc.stdout.splitlines()
    assert where.startswith("pvc: loaded on ")
    assert header.split()[:2] == ["kernel", "target"] and "GRF:spill" in header and "JIT-at-load" in header
    assert row.split()[:3] == ["add", "pvc", "128"]
    assert "cached" not in row
    # Run again: the kernel comes from Triton's cache, and the table says so.
    again = run_main("--targets", "pvc", "--kernels", "add")
    assert again.returncode == 0, again.stderr
    columns = again.stdout.splitlines()[3].split()
    assert columns[:3] == ["add", "pvc", "128"] and columns[5:7] == ["cached", "cached"]


def test_a_kernel_that_cannot_load_fails_the_job(fresh_cache):
    # acm-g11 compiles, but there is no acm-g11 device and no emulation of it here.
    proc = run_main("--targets", "pvc,acm-g11", "--kernels", "add", "--json")
    assert proc.returncode == 1
    rows = {r["target"]: r for r in json.loads(proc.stdout)}
    assert "error" not in rows["pvc"]
    assert rows["acm-g11"]["error"] == "load: no acm-g11 device (real or emulated)"
    assert "1 of 2 kernels failed to compile or load" in proc.stderr


def test_unknown_target_is_one_line_and_exit_2():
    proc = run_main("--targets", "pvc,xe9")
    assert proc.returncode == 2
    assert "unknown Intel GPU target 'xe9'; known targets: acm-g10" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_table_says_when_the_second_attempt_ran_in_parallel():
    import main as main_job  # examples/main.py
    attempts = [{"grf_mode": "128", "spill_bytes": 8192, "kept": False, "early": False,
                 "reason": "replaced: spills 8192 -> 0 B (-100.0%) at 256 GRF"},
                {"grf_mode": "256", "spill_bytes": 0, "kept": True, "early": False,
                 "reason": "kept: spills 8192 -> 0 B (-100.0%) at 256 GRF, at least the 10% minimum gain"}]
    assert main_job.grf_decision(attempts) == "128:8192 -> 256:0* (-100.0%)"
    attempts[1]["early"] = True
    assert main_job.grf_decision(attempts) == "128:8192 -> 256:0* (-100.0%, in parallel)"

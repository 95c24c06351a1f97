"""The README's main job (examples/main.py): its rows agree with the binaries it produced."""

import json
import subprocess
import sys
from pathlib import Path

import kernels
from triton.backends.intel import zebin

MAIN = Path(__file__).resolve().parents[3] / "examples" / "main.py"


def run_main(*args):
    return subprocess.run([sys.executable, str(MAIN), *args], capture_output=True, text=True)


def test_rows_match_the_compiled_kernels(fresh_cache):
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
        assert zebin.read_zebin(compiled.asm["zebin"]).kernel(md.name).grf_count == md.n_regs
        assert set(row["stage_ms"]) == {"ttir", "ttgir", "llir", "spv", "zebin"}
    assert "[4/4] layernorm for acm-g10" in proc.stderr  # progress


def test_table_has_a_row_per_kernel_and_target(fresh_cache):
    proc = run_main("--targets", "pvc", "--kernels", "add")
    assert proc.returncode == 0, proc.stderr
    header, rule, row = proc.stdout.splitlines()
    assert header.split()[:2] == ["kernel", "target"] and "GRF:spill" in header
    assert row.split()[:2] == ["add", "pvc"]


def test_unknown_target_is_one_line_and_exit_2():
    proc = run_main("--targets", "pvc,xe9")
    assert proc.returncode == 2
    assert "unknown Intel GPU target 'xe9'; known targets: acm-g10" in proc.stderr
    assert "Traceback" not in proc.stderr

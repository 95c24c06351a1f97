"""benchmarks/fleet.py runs (two nodes of each, one kernel; one node of each, one corpus kernel) and reports every
column, against stock triton-xpu where stock can run; where it cannot, it says why and measures nothing.  Its figures
are for people, not asserted here."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "benchmarks"
NODE_FIGURES = ("kernels", "process", "load", "backend", "triton_key", "driver", "imports")
NODE_COLUMNS = {"node", "compiled", "built", "kernels_ratio", "process_ratio"} | {
    f"{kind}_{key}_ms" for kind in ("ours", "stock") for key in NODE_FIGURES}


def _fleet(*args):
    """fleet.py's JSON result with ``args``; None where stock cannot run (legacy: SYCL cannot open the GPU), after
    checking that it said why and measured nothing."""
    import stock_triton
    proc = subprocess.run([sys.executable, str(BENCH / "fleet.py"), *args, "--json"], capture_output=True, text=True,
                          env=dict(os.environ, TRITON_XPU_EMULATE="pvc"), timeout=900)
    problem = stock_triton.problem()
    if problem and os.environ.get("TRITON_XPU_TOOLCHAIN") != "current":
        assert proc.returncode == 2, proc.stderr[-3000:]
        assert f"fleet: not measured: the baseline, stock triton-xpu 3.3.0b1, cannot run here: {problem}" \
            in proc.stderr
        return None
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_fleet_benchmark_reports_nodes_fleet_and_store_against_stock(fresh_cache):
    result = _fleet("--nodes", "2", "--kernels", "add", "--corpus", "")
    if result is None:
        return
    assert result["setup"]["nodes"] == 2 and result["setup"]["kernels"] == "add" and result["setup"]["corpus"] == ""
    assert result["setup"]["baseline"].startswith("stock triton-xpu 3.3.0b1 (PyPI, unpatched")
    first, *nodes = result["nodes"]
    assert first["node"] == "first (compiles)" and [n["node"] for n in nodes] == ["1", "2"]
    assert all(set(row) == NODE_COLUMNS for row in result["nodes"])
    # The first node of each compiled the kernel; every later one read it from its store.
    assert first["compiled"] == "1/1" and all(n["compiled"] == "0/0" and n["built"] == "0/0" for n in nodes)
    assert [row["fleet"].split(",")[0].split(":")[0] for row in result["fleet"]] == [
        "first node", "node bring-up", "the same without Triton's triton_key", "slowest node", "all 2 nodes (sum)",
        "fleet ready"]
    for row in result["fleet"]:
        assert set(row) == {"fleet", "ours_kernels_ms", "stock_kernels_ms", "kernels_ratio", "ours_process_ms",
                            "stock_process_ms", "process_ratio"}
    # Ours keyed by the named target; stock by the properties of the device it compiled on.
    (ours, ) = [row for row in result["store"] if (row["store"], row["target"]) == ("ours", "pvc")]
    (stock, ) = [row for row in result["store"] if row["store"] == "stock" and row["target"].startswith("pvc (device ")]
    assert (ours["keyed_by"], stock["keyed_by"]) == ("named target", "device properties")
    for row in (ours, stock):
        assert row["entries"] == 1 and row["keys"] > 1 and 0 < row["bytes"] <= row["memory_bytes"]


def test_fleet_benchmark_brings_up_a_corpus_kernel_on_both(fresh_cache):
    """A published kernel (Liger's RMSNorm, imported from the installed package) alone: the first node of each kind
    compiles it, the next loads it from its store, and both imported the package before the window."""
    result = _fleet("--nodes", "1", "--kernels", "", "--corpus", "liger/rms_norm_fwd")
    if result is None:
        return
    assert (result["setup"]["kernels"], result["setup"]["corpus"]) == ("", "liger/rms_norm_fwd")
    first, warm = result["nodes"]
    assert (first["compiled"], warm["compiled"], warm["built"]) == ("1/1", "0/0", "0/0")
    for row in (first, warm):
        assert row["ours_kernels_ms"] > 0 and row["stock_kernels_ms"] > 0
        assert row["ours_imports_ms"] > 0 and row["stock_imports_ms"] > 0
    assert sorted((row["store"], row["entries"]) for row in result["store"]
                  if not row["target"].startswith("not a kernel")) == [("ours", 1), ("stock", 1)]


def test_fleet_benchmark_refuses_an_unknown_corpus_entry(fresh_cache):
    proc = subprocess.run([sys.executable, str(BENCH / "fleet.py"), "--corpus", "liger/rms_norm_fwd,liger/no_such",
                           "--json"], capture_output=True, text=True, env=dict(os.environ, TRITON_XPU_EMULATE="pvc"),
                          timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "fleet: unknown corpus entry liger/no_such; known: " in proc.stderr
    assert not proc.stdout


def test_fleet_benchmark_fails_naming_a_kernel_that_does_not_compile(fresh_cache):
    """A corpus entry Triton 3.3's front end cannot compile (marked frontend= in its table) fails the run on ours'
    first node, naming the kernel in the last line, rather than being dropped."""
    import stock_triton
    proc = subprocess.run([sys.executable, str(BENCH / "fleet.py"), "--nodes", "1", "--kernels", "", "--corpus",
                           "liger/softmax_fwd_multi_block"], capture_output=True, text=True,
                          env=dict(os.environ, TRITON_XPU_EMULATE="pvc"), timeout=300)
    if stock_triton.problem() and os.environ.get("TRITON_XPU_TOOLCHAIN") != "current":
        assert proc.returncode == 2, proc.stderr[-3000:]  # no baseline: nothing is started
        return
    assert proc.returncode == 1 and not proc.stdout, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "ours node 0: fleet: kernel liger/softmax_fwd_multi_block failed to compile or load: CompilationError: ")

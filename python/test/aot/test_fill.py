"""`triton-xpu fill`: a run on the emulated pvc records its kernels (TRITON_XPU_RECORD_KERNELS, test_record.py); the
fill compiles them, in a process with no device, into an empty Triton cache folder shared the way a fleet shares one
(Triton's default FileCacheManager: the fill only calls triton.compile, so any cache manager gets the entries); a
later run on a device of each filled target finds every kernel there and compiles nothing."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from aot_helpers import REPO, run_cli

EXAMPLES = str(REPO / "examples")
PRELUDE = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {examples!r})
    import kernels
    from triton.runtime.driver import driver
    x = driver.active.alloc(4096 * 4, "shared", "float32")
""").format(examples=EXAMPLES)

# examples/kernels.py's add, and a softmax with the int argument n_cols equal to 1 (the JIT's constant 1), strides
# divisible by 16 and its constexpr BLOCK: each launch loads its kernel (a module on the device) and prints how the
# kernel was got, a hit in Triton's cache having stage_ms {"cached": ms}.
LAUNCH = """
    add = kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
    softmax = kernels.softmax_kernel[(1, )](x, x, 64, 64, 1, BLOCK=64)
    driver.active.synchronize()
    print(json.dumps({k.name: {"key": k.hash, "stages": sorted(k.metadata.stage_ms), "loaded": k.module != 0}
                      for k in (add, softmax)}))
"""


def launch(target: str, cache) -> dict:
    """LAUNCH in a fresh process on the emulated ``target`` with the Triton cache ``cache``."""
    env = dict(os.environ, TRITON_XPU_EMULATE=target, TRITON_CACHE_DIR=str(cache))
    env.pop("TRITON_XPU_RECORD_KERNELS", None)
    proc = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(LAUNCH)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def fill(records, cache, *targets: str, jobs: int = 2) -> subprocess.CompletedProcess:
    """`triton-xpu fill` in a process that sees no device (no emulation), filling the cache folder ``cache``."""
    env = dict(os.environ, TRITON_CACHE_DIR=str(cache), PYTHONPATH=EXAMPLES)
    env.pop("TRITON_XPU_EMULATE", None)
    return run_cli("fill", "--targets", ",".join(targets), "--kernels", records, "--jobs", jobs, env=env)


def report(proc) -> dict:
    """{"LINE KERNEL for TARGET": "compiled" | "already present" | "failed: why"} from the fill's stdout."""
    pairs = {}
    for line in proc.stdout.splitlines()[:-1]:
        label, _, status = line.partition(": ")  # label: "FILE:LINE KERNEL for TARGET"
        pairs[label.split(" ", 1)[1]] = status if status.startswith("failed") else status.rsplit(" (", 1)[0]
    return pairs


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A run on the emulated pvc records LAUNCH's kernels; a fill for pvc and acm-g10 compiles them into an empty
    shared cache folder."""
    tmp = tmp_path_factory.mktemp("fill")
    records = tmp / "kernels.jsonl"
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc", TRITON_CACHE_DIR=str(tmp / "recording-cache"),
               TRITON_XPU_RECORD_KERNELS=str(records))
    proc = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(LAUNCH)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recorded = json.loads(proc.stdout.splitlines()[-1])
    shared = tmp / "shared-cache"
    shared.mkdir()
    proc = fill(records, shared, "pvc", "acm-g10")
    return {"records": records, "recorded": recorded, "shared": shared, "fill": proc, "tmp": tmp}


def test_the_fill_compiles_each_recorded_kernel_for_each_target(filled):
    proc = filled["fill"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report(proc) == {f"kernels.{kernel} for {target}": "compiled"
                            for kernel in ("add_kernel", "softmax_kernel") for target in ("pvc", "acm-g10")}
    assert proc.stdout.splitlines()[-1].startswith("filled 4 kernel-target pairs for pvc, acm-g10 in ")
    assert proc.stdout.splitlines()[-1].endswith(" on 2 processes: 4 compiled, 0 already present, 0 failed")


def test_a_node_of_the_recorded_target_finds_every_kernel_in_the_filled_cache(filled):
    got = launch("pvc", filled["shared"])
    assert got == {name: {"key": filled["recorded"][name]["key"], "stages": ["cached"], "loaded": True}
                   for name in ("add_kernel", "softmax_kernel")}


def test_a_node_of_another_filled_target_finds_its_own_entries(filled):
    # acm-g10 has no tf32 DPAS: its JIT parses the launch into other options than pvc's, and the fill did the same.
    got = launch("acm-g10", filled["shared"])
    assert all(kernel["stages"] == ["cached"] and kernel["loaded"] for kernel in got.values()), got
    pvc_keys = {kernel["key"] for kernel in filled["recorded"].values()}
    assert not pvc_keys & {kernel["key"] for kernel in got.values()}  # entries a pvc node does not use
    folders = {p.name for p in filled["shared"].iterdir() if any(p.glob("*.zebin"))}
    assert len(folders) == 4  # two kernels for two targets, nothing else compiled


def test_a_second_fill_finds_them_present(filled):
    proc = fill(filled["records"], filled["shared"], "pvc", "acm-g10")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(report(proc).values()) == {"already present"}
    assert proc.stdout.splitlines()[-1].endswith(": 0 compiled, 4 already present, 0 failed")


def edited(filled, tmp_path, *edits) -> str:
    """A copy of the record file, each ``edits`` item ``(line index, {field: value})`` applied."""
    records = [json.loads(text) for text in filled["records"].read_text().splitlines()]
    for index, changes in edits:
        records[index].update(changes)
    path = tmp_path / "kernels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_a_kernel_that_cannot_be_imported_fails_by_name_and_the_others_are_filled(filled, tmp_path):
    records = edited(filled, tmp_path, (0, {"module": "kernels_not_here"}))
    proc = fill(records, tmp_path / "cache", "pvc")
    assert proc.returncode == 1
    assert report(proc) == {
        "kernels_not_here.add_kernel for pvc":
            f"failed: cannot import kernels_not_here (recorded from {EXAMPLES}/kernels.py): ModuleNotFoundError: "
            "No module named 'kernels_not_here'; make it importable here (PYTHONPATH) and fill again",
        "kernels.softmax_kernel for pvc": "compiled"}
    assert proc.stderr.splitlines()[-1] == "triton-xpu: error: 1 of 2 kernel-target pairs failed (above)"


def test_a_malformed_line_is_named_by_its_number_and_the_others_are_filled(filled, tmp_path):
    path = tmp_path / "kernels.jsonl"
    first = filled["records"].read_text().splitlines()[0]
    path.write_text(f'{first}\n\n{{"format": 1, "module": "kernels"\n{{"format": 1}}\n')
    proc = fill(path, filled["shared"], "pvc")
    assert proc.returncode == 1
    assert report(proc) == {"kernels.add_kernel for pvc": "already present"}
    assert proc.stderr.splitlines() == [
        f"triton-xpu: error: {path}:3: not JSON (Expecting ',' delimiter: line 1 column 34 (char 33)); record it "
        "again with TRITON_XPU_RECORD_KERNELS",
        f"triton-xpu: error: {path}:4: no 'module'; record it again with TRITON_XPU_RECORD_KERNELS",
        f"triton-xpu: error: 2 lines of {path} could not be read (above)"]


def test_a_kernel_whose_source_changed_since_it_was_recorded_fails(filled, tmp_path):
    records = edited(filled, tmp_path, (1, {"kernel_key": "0" * 64}))
    proc = fill(records, filled["shared"], "pvc")
    assert proc.returncode == 1
    assert report(proc)["kernels.softmax_kernel for pvc"] == (
        "failed: the kernel here (kernels.softmax_kernel) is not the one recorded: its source, a function it calls or "
        "a global it reads differs, so nodes running the recorded code would not use the entry; fill from the code "
        "the fleet runs, or record again")


def test_a_specialisation_that_does_not_rebuild_the_recorded_source_fails(filled, tmp_path):
    records = edited(filled, tmp_path, (1, {"attrs": []}))  # the divisibility the JIT found, left out
    proc = fill(records, filled["shared"], "pvc")
    assert proc.returncode == 1
    assert report(proc)["kernels.softmax_kernel for pvc"] == (
        "failed: the record's signature, constexprs and attrs do not rebuild the source the JIT compiled (was the "
        "line edited?): record it again")


def test_an_entry_under_another_key_than_the_recorded_one_fails_saying_why(filled, tmp_path):
    # As if the kernel had been recorded on a node with another compiler: its key and compiler version differ.
    records = [json.loads(text) for text in filled["records"].read_text().splitlines()]
    options = dict(records[0]["options"], native_compiler_version="ocloc 1.0")
    path = edited(filled, tmp_path, (0, {"key": "f" * 64, "options": options}))
    proc = fill(path, filled["shared"], "pvc")
    assert proc.returncode == 1
    here = records[0]["options"]["native_compiler_version"]
    assert report(proc)["kernels.add_kernel for pvc"] == (
        f"failed: compiled, but under the key {filled['recorded']['add_kernel']['key'][:16]}, where the recording "
        f"process used ffffffffffffffff, so nodes like it would not use the entry: option native_compiler_version is "
        f"{here!r}, recorded 'ocloc 1.0'")


def test_bad_command_lines(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    for args, status, message in [
        (["--kernels", tmp_path / "none.jsonl"], 2, f"triton-xpu fill: error: {tmp_path}/none.jsonl: no such file"),
        (["--kernels", empty], 1, f"triton-xpu fill: error: {empty} records no kernels: run the workload with "
         f"TRITON_XPU_RECORD_KERNELS={empty} first"),
        (["--kernels", empty, "--targets", "pvd"], 1, "triton-xpu fill: error: unknown Intel GPU target 'pvd'; known "
         "targets: "),
        (["--kernels", empty, "--jobs", "0"], 2, "triton-xpu fill: error: --jobs must be at least 1"),
    ]:
        targets = [] if "--targets" in args else ["--targets", "pvc"]
        proc = run_cli("fill", *targets, *args)
        assert (proc.returncode, proc.stdout) == (status, ""), proc.stderr
        assert proc.stderr.startswith(message), proc.stderr


def test_the_recording_environment_is_part_of_the_key_and_the_fill_uses_it(tmp_path):
    # The recording run set a cache-invalidating variable of Triton's and a knob the options take their default from;
    # the fill's environment has neither, and still computes the recorded key (checked for the recorded target).
    records = tmp_path / "kernels.jsonl"
    env = dict(os.environ, TRITON_XPU_EMULATE="pvc", TRITON_CACHE_DIR=str(tmp_path / "recording-cache"),
               TRITON_XPU_RECORD_KERNELS=str(records), TRITON_DISABLE_LINE_INFO="1",
               TRITON_XPU_GRF_SPILL_THRESHOLD="64")
    code = "kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)"
    proc = subprocess.run([sys.executable, "-c", PRELUDE + code], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (line, ) = [json.loads(text) for text in records.read_text().splitlines()]
    assert line["env"] == {"TRITON_DISABLE_LINE_INFO": "true"}  # as Triton reads it
    assert line["launch_options"]["grf_spill_threshold"] == 64
    for name in ("TRITON_DISABLE_LINE_INFO", "TRITON_XPU_GRF_SPILL_THRESHOLD"):
        assert name not in os.environ
    proc = fill(records, tmp_path / "cache", "pvc")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report(proc) == {"kernels.add_kernel for pvc": "compiled"}

"""TRITON_XPU_RECORD_KERNELS: a run's JIT records each kernel it compiles or finds in Triton's cache, once per cache
key, with what `triton-xpu fill` needs to compile the same entry elsewhere (test_fill.py fills from such records).
The runs are child processes on the emulated pvc (the real NEO driver; kernels do not execute there)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import triton.language as tl
from aot_helpers import REPO
from triton.backends.intel.aot import record

PRELUDE = textwrap.dedent("""
    import json, sys, warnings
    sys.path.insert(0, {examples!r})
    import kernels
    import triton
    import triton.language as tl
    from triton.runtime.driver import driver
    x = driver.active.alloc(4096 * 4, "shared", "float32")
""").format(examples=str(REPO / "examples"))

# examples/kernels.py's add, and a softmax whose int argument n_cols is 1 (the JIT makes it the constexpr 1) and
# whose row strides are multiples of 16 (the JIT marks them divisible by 16), with its constexpr BLOCK.
LAUNCH = """
    add = kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
    kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)  # the JIT's own cache: not asked again
    softmax = kernels.softmax_kernel[(1, )](x, x, 64, 64, 1, BLOCK=64)
    driver.active.synchronize()
    print(json.dumps({"add": [add.hash, add.metadata.stage_ms], "softmax": [softmax.hash, softmax.metadata.stage_ms]}))
"""


def run_script(code: str, env: dict, cwd=None) -> subprocess.CompletedProcess:
    """``code`` (after PRELUDE) in a fresh process on the emulated pvc, with ``env`` added."""
    script = cwd / "script.py" if cwd else None
    full_env = dict(os.environ, TRITON_XPU_EMULATE="pvc", **env)
    if script is None:
        return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                              env=full_env, timeout=600)
    script.write_text(PRELUDE + textwrap.dedent(code))  # a file: @triton.jit in __main__ needs its source
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=600)


def lines(path):
    return [json.loads(text) for text in path.read_text().splitlines()]


def warnings_of(proc) -> list:
    tag = "KernelNotRecorded: "
    return [line.split(tag, 1)[1] for line in proc.stderr.splitlines() if tag in line]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One run of LAUNCH with the knob set, into an empty Triton cache: (its output, its record file, the cache)."""
    tmp = tmp_path_factory.mktemp("record")
    env = {"TRITON_CACHE_DIR": str(tmp / "cache"), "TRITON_XPU_RECORD_KERNELS": str(tmp / "kernels.jsonl")}
    proc = run_script(LAUNCH, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1]), tmp / "kernels.jsonl", tmp / "cache"


def test_each_kernel_the_jit_compiled_is_one_line(recorded):
    out, path, _ = recorded
    add, softmax = lines(path)
    assert [(r["module"], r["qualname"], r["target"]) for r in (add, softmax)] == [("kernels", "add_kernel", "pvc"),
                                                                                 ("kernels", "softmax_kernel", "pvc")]
    assert [add["key"], softmax["key"]] == [out["add"][0], out["softmax"][0]]  # the cache keys the JIT computed
    assert add["file"] == str(REPO / "examples" / "kernels.py")


def test_the_specialisation_is_recorded_as_the_jit_built_it(recorded):
    _, path, _ = recorded
    _, softmax = lines(path)
    assert softmax["signature"] == [["out_ptr", "*fp32"], ["in_ptr", "*fp32"], ["in_row_stride", "i32"],
                                    ["out_row_stride", "i32"], ["n_cols", "constexpr"], ["BLOCK", "constexpr"]]
    assert softmax["constexprs"] == [[[4], 1], [[5], 64]]  # n_cols == 1 became the constant 1
    divisible = [["tt.divisibility", 16]]
    assert softmax["attrs"] == [[[0], divisible], [[1], divisible], [[2], divisible], [[3], divisible]]


def test_the_options_are_the_parsed_ones_and_what_the_launch_asked_for(recorded):
    _, path, _ = recorded
    add, _ = lines(path)
    options = add["options"]
    assert options["num_warps"] == 4 and options["grf_mode"] == "default" and options["native_compiler"] == "ocloc"
    assert options["cluster_dims"] == {"tuple": [1, 1, 1]}  # a tuple: its text is part of the cache key
    assert options["native_compiler_version"].startswith("ocloc ")
    # What a JIT on a device of any target parses: the launch's keywords and what the environment filled in, not
    # the options this target chose (the native compiler "auto" resolved, dot precisions, the compiler version).
    assert sorted(add["launch_options"]) == ["debug", "extern_libs", "grf_min_gain", "grf_spill_threshold", "keep_ir",
                                             "native_compiler"]
    assert add["launch_options"]["native_compiler"] == "auto" and add["env"] == {}


def test_a_cache_hit_is_recorded_and_a_key_in_the_file_is_not_recorded_again(recorded, tmp_path):
    out, path, cache = recorded
    add, softmax = path.read_text().splitlines()
    second = tmp_path / "kernels.jsonl"
    second.write_text(add + "\n")  # another process recorded add already
    proc = run_script(LAUNCH, {"TRITON_CACHE_DIR": str(cache), "TRITON_XPU_RECORD_KERNELS": str(second)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    hits = json.loads(proc.stdout.splitlines()[-1])
    assert list(hits["softmax"][1]) == ["cached"] and hits["softmax"][0] == out["softmax"][0]
    assert second.read_text().splitlines() == [add, softmax]


MAIN_AND_CLOSURE = """
    @triton.jit
    def main_kernel(out_ptr):
        tl.store(out_ptr, 1.0)

    def make():
        @triton.jit
        def inner_kernel(out_ptr):
            tl.store(out_ptr, 2.0)
        return inner_kernel

    main_kernel[(1, )](x)
    main_kernel[(1, )](x, num_warps=2)  # another specialisation of the same kernel: no second warning
    make()[(1, )](x)
    kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
    driver.active.synchronize()
    print(json.dumps("launched"))
"""


def test_kernels_another_process_cannot_import_are_not_recorded_with_a_warning(tmp_path):
    path = tmp_path / "kernels.jsonl"
    proc = run_script(MAIN_AND_CLOSURE, {"TRITON_XPU_RECORD_KERNELS": str(path)}, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1] == '"launched"', proc.stderr[-3000:]
    assert warnings_of(proc) == [
        "TRITON_XPU_RECORD_KERNELS: kernel main_kernel is not recorded: it is defined in __main__ (the script that "
        "was run), which another process cannot import; define it in a module the script imports",
        "TRITON_XPU_RECORD_KERNELS: kernel inner_kernel is not recorded: it is defined inside a function "
        "(make.<locals>.inner_kernel), which another process cannot import; define it at the top level of a module"]
    assert [r["qualname"] for r in lines(path)] == ["add_kernel"]


UNRECORDABLE = """
    import enum
    sys.path.insert(0, {folder!r})
    import enum_kernels
    enum_kernels.store_kernel[(1, )](x, VALUE=enum_kernels.Value.TWO)
    kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
    driver.active.synchronize()
    print(json.dumps("launched"))
"""

ENUM_KERNELS = """
import enum
import triton
import triton.language as tl


class Value(enum.IntEnum):
    TWO = 2


@triton.jit
def store_kernel(out_ptr, VALUE: tl.constexpr):
    tl.store(out_ptr, VALUE)
"""


def test_a_constexpr_a_record_cannot_hold_is_named(tmp_path):
    # An IntEnum's text (part of the cache key) is not its int's, so it cannot be written as an int.
    (tmp_path / "enum_kernels.py").write_text(ENUM_KERNELS)
    path = tmp_path / "kernels.jsonl"
    proc = run_script(UNRECORDABLE.format(folder=str(tmp_path)), {"TRITON_XPU_RECORD_KERNELS": str(path)})
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1] == '"launched"', proc.stderr[-3000:]
    assert warnings_of(proc) == [
        "TRITON_XPU_RECORD_KERNELS: kernel store_kernel is not recorded: its constexpr argument VALUE is a value of "
        "type Value, which a record cannot hold (it holds ints, floats, bools, strings, None, tuples, lists, dicts, "
        "Triton dtypes and @triton.jit functions)"]
    assert [r["qualname"] for r in lines(path)] == ["add_kernel"]


def test_a_file_that_cannot_be_written_is_one_warning_and_the_run_goes_on(tmp_path):
    path = tmp_path / "missing-folder" / "kernels.jsonl"
    proc = run_script(LAUNCH, {"TRITON_XPU_RECORD_KERNELS": str(path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert warnings_of(proc) == [
        f"TRITON_XPU_RECORD_KERNELS={path}: cannot append to it (FileNotFoundError: No such file or directory): this "
        f"process records no kernels; give the path of a file that can be written (its folder must exist)"]
    assert not path.parent.exists()


# --- the encoding of recorded values (no device) -------------------------------------------------------------


def test_values_come_back_as_the_same_types():
    values = [None, True, 1, 1.5, float("inf"), "s", (1, (2, "a")), [1, [2]], {"libdevice": "/x"}, (("a", "b"), ),
              tl.float16, ()]
    text = json.dumps([record.encode(v) for v in values])
    back = [record.decode(v, lambda module, qualname: None) for v in json.loads(text)]
    assert back == values and [type(v) for v in back] == [type(v) for v in values]
    assert [str(v) for v in back] == [str(v) for v in values]  # the text the cache key is made of


def test_a_jit_function_is_recorded_by_where_it_is_imported_from():
    import kernels
    assert record.encode(kernels.add_kernel) == {"jit": ["kernels", "add_kernel"]}
    assert record.decode({"jit": ["kernels", "add_kernel"]}, lambda module, qualname: (module, qualname)) == \
        ("kernels", "add_kernel")


@pytest.mark.parametrize("text, message", [
    ('{"format": 1', "not JSON (Expecting ',' delimiter: line 1 column 13 (char 12))"),
    ("[1]", "not a JSON object but list"),
    ('{"format": 2}', "format 2, where this triton-xpu reads format 1"),
    ('{"format": 1, "module": "m"}', "no 'qualname'"),
])
def test_a_damaged_line_says_what_is_wrong(text, message):
    with pytest.raises(record.RecordError) as caught:
        record.parse(text)
    assert str(caught.value) == message


def test_a_field_of_the_wrong_type_is_named():
    good = {name: kind() for name, kind in record.FIELDS.items()}
    good["format"] = 1
    record.parse(json.dumps(good))
    with pytest.raises(record.RecordError, match=r"^'constexprs' is \{\}, not a JSON list$"):
        record.parse(json.dumps(dict(good, constexprs={})))
    with pytest.raises(record.RecordError, match=r"^\{\"float\": 1\} is not an encoded value$"):
        record.decode({"float": 1}, lambda module, qualname: None)
    with pytest.raises(record.RecordError, match=r"^'fp33' is not a Triton dtype$"):
        record.decode({"dtype": "fp33"}, lambda module, qualname: None)

"""`triton-xpu` on the command line: compile's outputs, info, disasm, devices, and bad input."""

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from aot_helpers import ADD_SIGNATURE, EXAMPLES, neo_env, run_cli
from triton.backends.intel.runtime import level_zero
from triton.backends.intel.binary import fatbin, zebin


def test_compile_writes_binary_and_metadata_per_target(built):
    doc = json.loads((built["fat"] / "add.json").read_text())
    data = (built["fat"] / "add.zebin").read_bytes()
    assert doc["kernel"] == "add_kernel" and doc["constexprs"] == {"BLOCK": 128}
    assert doc["signature"] == {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n_elements": "i32",
                                "BLOCK": "constexpr"}
    assert [a["c_type"] for a in doc["arguments"]] == ["void *", "void *", "void *", "int32_t"]
    assert doc["binary"] == {"file": "add.zebin", "format": "fat", "bytes": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}
    members = fatbin.device_binaries(data)
    assert list(members) == ["pvc", "acm-g10"]  # no generic_ir: nothing to JIT from
    assert [name for name, _ in fatbin.members(data) if not name.startswith("pad_")] == \
        ["64.12.60.7", "64.12.55.8"]
    for t in doc["targets"]:
        member = members[t["target"]]
        assert data[t["offset"]:t["offset"] + t["zebin_bytes"]] == member and t["offset"] % 8 == 0
        assert hashlib.sha256(member).hexdigest() == t["zebin_sha256"]
        kernel = zebin.read(member).kernel("add_kernel")
        assert t["n_regs"] == kernel.grf_count and t["spill_bytes"] == kernel.spill_bytes == 0
        assert t["grf_mode"] in ("128", "256") and t["grf_mode_requested"] == "default"
        assert t["grf_attempts"] and all({"grf_mode", "flags", "spill_bytes"} <= set(a) for a in t["grf_attempts"])
        assert t["build_flags"] in [a["flags"] for a in t["grf_attempts"]]
        assert (t["num_warps"], t["threads_per_warp"], t["shared"]) == (1, 32, 0)
        assert t["group_size"] == [32, 1, 1] and t["kernel"]["simd_width"] == kernel.simd_width == 32
    # The kernel's facts in NAME.json are those `triton-xpu info --json` shows: one serialisation of them.
    info = json.loads(run_cli("info", built["fat"] / "add.zebin", "--json").stdout)
    assert [t["kernel"] for t in doc["targets"]] == [t["kernels"][0] for t in info["targets"]]
    # The member the zebin stage chose for pvc is the binary triton.compile gives (the GRF policy applied once).
    single = (built["pvc"] / "add.zebin").read_bytes()
    assert zebin.is_zebin(single) and zebin.read(single).product_family_name == "pvc"


def test_compile_runs_jobs_in_parallel_with_progress_on_stderr(built):
    err = (built["fat"] / "compile.stderr").read_text()
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert sorted(line.split("]")[0] for line in progress) == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert {" ".join(line.split()[1:4]) for line in progress} == {
        "add for pvc:", "add for acm-g10:", "dot_kernel for pvc:", "dot_kernel for acm-g10:"}
    assert "on 2 processes" in err
    out = (built["fat"] / "compile.stdout").read_text().splitlines()
    assert out[0].endswith("add.zebin (fat binary: pvc, acm-g10, %d bytes), add.json, add.h, add.c, add.pvc.spv, "
                           "add.acm-g10.spv" % len((built["fat"] / "add.zebin").read_bytes()))


def test_emit_spv_writes_the_spirv_each_target_was_compiled_from(built):
    from triton.backends.intel import spirv
    # One module per target, since they differ (DPAS: sub-groups of 16 on pvc, 32 on acm-g10), each the very
    # bytes IGC compiled.  The zebins do not embed it (no --keep-ir).
    members = fatbin.device_binaries((built["fat"] / "dot_kernel.zebin").read_bytes())
    for target, sub_group_size in (("pvc", 16), ("acm-g10", 32)):
        module = (built["fat"] / f"dot_kernel.{target}.spv").read_bytes()
        summary = spirv.summarize(module)
        assert (summary.entry_points, summary.sub_group_size) == (["dot_kernel"], sub_group_size)
        assert zebin.read(members[target]).spirv is None
    assert not list(built["pvc"].glob("*.spv"))  # only on request


def test_compiled_zebins_carry_no_ir_by_default(built):
    for binary in (built["pvc"] / "add.zebin", built["fat"] / "add.zebin", built["fat"] / "dot_kernel.zebin"):
        data = binary.read_bytes()
        for member in (fatbin.device_binaries(data).values() if fatbin.is_fat_binary(data) else [data]):
            assert ".spv" not in zebin.read(member).sections, binary
    doc = json.loads((built["fat"] / "add.json").read_text())
    assert [t["embeds_ir"] for t in doc["targets"]] == [False, False]
    info = json.loads(run_cli("info", built["fat"] / "add.zebin", "--json").stdout)
    assert [t["ir_bytes"] for t in info["targets"]] == [None, None]
    assert "zeinfo 1." in run_cli("info", built["pvc"] / "add.zebin").stdout.splitlines()[1]
    assert run_cli("info", built["pvc"] / "add.zebin").stdout.splitlines()[1].endswith(", no IR")


def test_keep_ir_keeps_the_spirv_in_the_zebin(built):
    data = (built["pvc_ir"] / "add.zebin").read_bytes()
    spirv = zebin.read(data).spirv
    assert spirv is not None and spirv[:4] == b"\x03\x02\x23\x07"
    doc = json.loads((built["pvc_ir"] / "add.json").read_text())
    assert doc["targets"][0]["embeds_ir"] is True
    assert len(data) > len((built["pvc"] / "add.zebin").read_bytes()) + len(spirv)
    line = run_cli("info", built["pvc_ir"] / "add.zebin").stdout.splitlines()[1]
    assert line.endswith(f", IR kept (SPIR-V {len(spirv)} bytes)")


def test_info_json_reports_the_required_sub_group_size(built):
    # A DPAS kernel runs sub-groups of 16 on pvc and 32 on acm-g10: the size a SYCL launcher (PyTorch's
    # launchKernel) must multiply num_warps by, read from the binary itself (the zebin has no SPIR-V to ask).
    info = json.loads(run_cli("info", built["fat"] / "dot_kernel.zebin", "--json").stdout)
    sizes = {t["device"]: t["kernels"][0]["required_sub_group_size"] for t in info["targets"]}
    assert sizes == {"pvc": 16, "acm-g10": 32}
    doc = json.loads((built["fat"] / "dot_kernel.json").read_text())
    for t in doc["targets"]:
        assert t["kernel"]["required_sub_group_size"] == t["threads_per_warp"] == t["kernel"]["simd_width"]
    text = run_cli("info", built["fat"] / "dot_kernel.zebin").stdout
    assert "kernel dot_kernel: SIMD 16, " in text and text.count(", required sub-group size 16\n") == 1
    assert text.rstrip().count("required sub-group size 32") == 1


def test_info_reads_single_zebins_and_fat_binaries(built):
    proc = run_cli("info", built["fat"] / "dot_kernel.zebin", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["format"] == "fat" and [t["device"] for t in info["targets"]] == ["pvc", "acm-g10"]
    doc = json.loads((built["fat"] / "dot_kernel.json").read_text())
    for t, m in zip(info["targets"], doc["targets"]):
        (k, ) = t["kernels"]
        assert (k["name"], k["simd_width"], k["grf_count"]) == ("dot_kernel", m["kernel"]["simd_width"], m["n_regs"])
        assert [a["kind"] for a in k["arguments"]] == ["pointer"] * 3 + (["shared memory"] if m["shared"] else [])
    text = run_cli("info", built["pvc"] / "add.zebin").stdout
    assert "target pvc: Xe-HPC" in text and "kernel add_kernel: SIMD 32, GRF 128, spill 0 B" in text


def test_disasm_without_iga64_names_the_package(built):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    env.pop("TRITON_IGA64_PATH", None)
    proc = run_cli("disasm", built["pvc"] / "add.zebin", env=env)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "iga64 not found" in proc.stderr and "apt-get install libigc-tools" in proc.stderr


@pytest.mark.skipif(bool(level_zero.intel_render_nodes()), reason="an Intel GPU is present")
def test_devices_without_a_device_says_so():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_XPU_EMULATE"}
    proc = run_cli("devices", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("no Level Zero devices: no Intel GPU")


def test_devices_lists_the_emulated_device_with_its_target():
    proc = run_cli("devices", "--json", env=dict(os.environ, TRITON_XPU_EMULATE="acm-g10"))
    assert proc.returncode == 0, proc.stderr
    (device, ) = json.loads(proc.stdout)["devices"]
    assert device["target"] == "acm-g10" and device["emulated"] and device["device_id"] == "0x56a0"
    proc = run_cli("devices", env=dict(os.environ, TRITON_XPU_EMULATE="pvc"))
    assert proc.returncode == 0 and "target pvc (emulated" in proc.stdout


def test_a_kernel_that_does_not_compile_is_reported_at_its_line(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text("import triton\nimport triton.language as tl\n\n\n@triton.jit\n"
                      "def broken(x_ptr, BLOCK: tl.constexpr):\n"
                      "    offs = tl.arange(0, BLOCK)\n"
                      "    tl.store(x_ptr + offs, undefined_name + 1)\n")
    proc = run_cli("compile", source, "--kernel", "broken", "--signature", "*fp32,64", "--target", "pvc",
                   "--out-dir", tmp_path / "out", "-q")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0] == ("triton-xpu: error: broken for pvc: broken.py:8:28: "
                                           "NameError('undefined_name is not defined')")
    verbose = run_cli("compile", source, "--kernel", "broken", "--signature", "*fp32,64", "--target", "pvc",
                      "--out-dir", tmp_path / "out", "-q", "--verbose")
    assert "    tl.store(x_ptr + offs, undefined_name + 1)" in verbose.stderr


def test_the_compilers_own_reason_is_in_the_one_line_error(tmp_path):
    source = tmp_path / "f64.py"
    source.write_text("import triton\nimport triton.language as tl\n\n\n@triton.jit\n"
                      "def scale64(x_ptr, s, BLOCK: tl.constexpr):\n"
                      "    offs = tl.arange(0, BLOCK)\n"
                      "    tl.store(x_ptr + offs, tl.load(x_ptr + offs) * s)\n")
    proc = run_cli("compile", source, "--kernel", "scale64", "--signature", "*fp64,fp64,64", "--target", "tgllp",
                   "--out-dir", tmp_path / "out", "-q")
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    # The promise: the tool, the target, ocloc's code and IGC's own reason with the kernel's source line.  The
    # reason's wording is IGC's (1.0.12504 and 2.40: "Double type is not supported on this platform."), and may
    # change with any upload of it.
    m = re.fullmatch(r"triton-xpu: error: scale64 for tgllp: ocloc failed compiling for tgllp "
                     r"\((?:error code -?\d+(?: \(\w+\))?|exit status \d+)\): (?P<reason>.+)", first)
    assert m, first
    assert "double" in m["reason"].lower() and "f64.py:8" in m["reason"], first


def test_an_unusable_out_dir_is_found_before_compiling(tmp_path):
    source = tmp_path / "broken.py"  # would fail to compile: the out-dir error must come first
    source.write_text("import triton\n\n\n@triton.jit\ndef broken(x_ptr):\n    undefined_name\n")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    proc = run_cli("compile", source, "--kernel", "broken", "--signature", "*fp32", "--target", "pvc",
                   "--out-dir", not_a_dir)
    assert (proc.returncode, proc.stderr) == (1, f"triton-xpu compile: error: --out-dir {not_a_dir}: it exists and "
                                                 "is not a directory\n")
    under_proc = "/proc/self/triton-out"
    proc = run_cli("compile", source, "--kernel", "broken", "--signature", "*fp32", "--target", "pvc",
                   "--out-dir", under_proc)
    assert proc.returncode == 1 and proc.stderr.startswith(f"triton-xpu compile: error: --out-dir {under_proc}: "
                                                           "cannot write there (")


def test_a_failed_write_names_the_file_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "out"
    (out / "add.json").mkdir(parents=True)  # add.zebin can be written, add.json cannot
    proc = run_cli("compile", EXAMPLES, "--kernel", "add_kernel", "--signature", ADD_SIGNATURE, "--target", "pvc",
                   "--out-name", "add", "--out-dir", out, "-q")
    assert proc.returncode == 1
    assert proc.stderr == f"triton-xpu: error: add: cannot write {out / 'add.json'}: Is a directory\n"
    assert sorted(p.name for p in out.iterdir()) == ["add.json"]  # no add.zebin without its add.json, no temp


BAD_INPUT = {
    "missing kernel": (["compile", EXAMPLES, "--kernel", "nope", "--signature", ADD_SIGNATURE, "--target", "pvc"],
                       "no kernel 'nope' in"),
    "not a kernel": (["compile", EXAMPLES, "--kernel", "ast_source", "--signature", "i32", "--target", "pvc"],
                     "is not a @triton.jit kernel"),
    "malformed signature": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", "*fp32,,*fp32,i32,1024",
                             "--target", "pvc"], "signature entry 1 is empty"),
    "unknown type": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", "*fp33,*fp32,*fp32,i32,1024",
                      "--target", "pvc"], "neither a Triton type"),
    "bad hint": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", "*fp32:8,*fp32,*fp32,i32,1024",
                  "--target", "pvc"], "hint 8 is not supported"),
    "wrong arity": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", "*fp32,*fp32,i32", "--target",
                     "pvc"], "takes 5 arguments (x_ptr, y_ptr, out_ptr, n_elements, BLOCK)"),
    "constexpr given a type": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature",
                                "*fp32,*fp32,*fp32,i32,i32", "--target", "pvc"], "BLOCK of add_kernel is tl.constexpr"),
    "unknown constexpr": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", ADD_SIGNATURE, "--constexpr",
                           "BLOK=4", "--target", "pvc"], "--constexpr BLOK: no kernel takes it"),
    "unknown target": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", ADD_SIGNATURE, "--target",
                        "pvc,h100"], "unknown Intel GPU target 'h100'; known targets: acm-g10"),
    "bad grf": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", ADD_SIGNATURE, "--target", "pvc",
                 "--grf", "1024"], "invalid grf_mode '1024'"),
    "bad num-warps": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", ADD_SIGNATURE, "--target",
                       "pvc", "--num-warps", "3"], "--num-warps 3: must be a power of two"),
    "missing source": (["compile", "/nonexistent/k.py", "--kernel", "k", "--signature", "i32", "--target", "pvc"],
                       "/nonexistent/k.py: no such file"),
    "missing option": (["compile", EXAMPLES, "--kernel", "add_kernel", "--target", "pvc"],
                       "the following arguments are required: --signature"),
    "C keyword as output name": (["compile", EXAMPLES, "--kernel", "add_kernel", "--signature", ADD_SIGNATURE,
                                  "--target", "pvc", "--out-name", "int", "--emit-c"],
                                 "cannot emit C for output name 'int': it is a C keyword; choose another name with "
                                 "--out-name"),
    "info on a python file": (["info", EXAMPLES], "not a zebin: not an ELF file"),
    "info on a missing file": (["info", "/nonexistent.zebin"], "/nonexistent.zebin: no such file"),
    "disasm on a python file": (["disasm", EXAMPLES], "not a zebin: not an ELF file"),
    "unknown subcommand": (["link", "x"], "invalid choice: 'link'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_on_stderr_and_a_failure(case, tmp_path):
    args, message = BAD_INPUT[case]
    if args[0] == "compile":
        args = args + ["--out-dir", tmp_path / "out"]
    proc = run_cli(*args)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("triton-xpu") and ": error: " in lines[0]
    assert message in lines[0]
    assert not (tmp_path / "out").exists()  # nothing written


# --------------------------------------------------------------------------------------------------------
# info and disasm on binaries the loader refuses


def with_zeinfo_line(data: bytes, after: str, line: str) -> bytes:
    """``data`` with ``line`` inserted into .ze_info after the first line containing ``after``."""
    from triton.backends.intel.binary import elf
    from support import zebin_edit as edit
    image = elf.parse(data, zebin.SECTION_TYPES)
    text = image.content(image.section(".ze_info")).decode()
    at = text.index("\n", text.index(after)) + 1
    return edit.replace_section(image, ".ze_info", (text[:at] + line + "\n" + text[at:]).encode())


@pytest.fixture
def refused(built, tmp_path):
    """A zebin that reads but that the loader refuses (barrier_count 3: NEO aborts at launch)."""
    data = (built["pvc"] / "add.zebin").read_bytes()
    path = tmp_path / "barriers.zebin"
    path.write_bytes(with_zeinfo_line(data, "execution_env:", "      barrier_count:   3"))
    return path


@pytest.mark.parametrize("command", ["info", "disasm"])
def test_a_binary_the_loader_refuses_is_one_line_and_a_failure(refused, command):
    proc = run_cli(command, refused)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"triton-xpu {command}: error: {refused}: malformed .ze_info: kernel add_kernel: execution_env.barrier_count "
        "is 3; the driver programs 0, 1, 2, 4, 8, 16, 24 or 32 barriers (NEO aborts on any other count)"]


def test_info_force_shows_what_reads_after_naming_the_fault(refused):
    proc = run_cli("info", refused, "--force")
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        f"triton-xpu: warning: {refused}: the driver would refuse it: malformed .ze_info: kernel add_kernel: "
        "execution_env.barrier_count is 3; the driver programs 0, 1, 2, 4, 8, 16, 24 or 32 barriers (NEO aborts on "
        "any other count)"]
    assert "kernel add_kernel: SIMD 32, GRF 128, spill 0 B, scratch 0 B, SLM 0 B, barriers 3" in proc.stdout


def test_info_force_cannot_show_what_does_not_read(built, tmp_path):
    path = tmp_path / "cut.zebin"
    path.write_bytes((built["pvc"] / "add.zebin").read_bytes()[:4000])
    proc = run_cli("info", path, "--force")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert f"{path}: truncated zebin" in proc.stderr


def test_info_agrees_with_the_loader_on_every_mutant(built, tmp_path, capsys):
    # For a sample of single-bit flips and value edits: exit 0 exactly when the loader's checks accept the
    # binary, otherwise exit 1 and one line naming the fault -- never an internal exception.
    from triton.backends.intel.aot import cli
    from triton.backends.intel.binary import validate
    from triton.backends.intel.errors import ZebinFormatError
    from support import zebin_fuzz as tool
    base = (built["pvc"] / "add.zebin").read_bytes()
    path = tmp_path / "mutant.zebin"
    outcomes = set()
    for mode in ("all-bits", "values"):
        mutants = tool.MutantSet(mode, base)
        for i in mutants.indices(0, None, 150, seed=11):
            data = mutants[i].data
            path.write_bytes(data)
            try:
                validate.loadable(data)
                accepted = True
            except ZebinFormatError:
                accepted = False
            status = cli.main(["info", str(path)])
            err = capsys.readouterr().err
            assert status == (0 if accepted else 1), (mutants[i].what, err)
            if not accepted:
                assert err.count("\n") == 1 and err.startswith(f"triton-xpu info: error: {path}: "), err
                assert not any(name in err for name in ("TypeError", "KeyError", "IndexError", "AttributeError",
                                                         "ValueError", "struct.error", "Traceback")), err
            outcomes.add(accepted)
    assert outcomes == {True, False}


def test_the_required_sub_group_size_is_what_neo_tells_a_sycl_launcher(built):
    # SYCL's compile_sub_group_size is zeKernelGetProperties' requiredSubgroupSize.  NEO 26 reads it from the
    # zebin's .ze_info, as info does; NEO 22.43 (build 24595) reports 0 for these kernels, and PyTorch's launcher
    # then assumes 32 -- wrong for pvc's 16-wide DPAS kernel: info's field is the value to trust.
    members = fatbin.device_binaries((built["fat"] / "dot_kernel.zebin").read_bytes())
    child = ("import json, sys\nfrom triton.backends.intel import _level_zero as ze\nze.init()\n"
             "k = ze.load_native(0, open(sys.argv[1], 'rb').read(), 'dot_kernel')\n"
             "print(json.dumps([k['required_subgroup_size'], ze.device_properties(0)['driver_version'] & 0xFFFF]))")
    pvc = built["root"] / "dot_kernel.pvc.zebin"
    pvc.write_bytes(members["pvc"])
    proc = subprocess.run([sys.executable, "-c", child, str(pvc)], capture_output=True, text=True, env=neo_env("pvc"),
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    reported, neo_build = json.loads(proc.stdout.strip().splitlines()[-1])
    assert reported == (0 if neo_build <= 24595 else 16), (reported, neo_build)

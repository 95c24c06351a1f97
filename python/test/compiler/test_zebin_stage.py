"""The zebin stage: native binaries at compile time under one GRF policy, through Triton's compile and cache."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kernels
from triton.backends.intel import targets
from triton.backends.intel.native import compilers, grf_policy
from triton.backends.intel.binary import zebin
from triton.backends.intel.errors import CompilationError

REPO = Path(__file__).resolve().parents[3]
PVC = targets.lookup("pvc")


def spec(name, constexprs=None, **options):
    base = kernels.SPECS[name]
    return dataclasses.replace(base, constexprs=dict(base.constexprs, **(constexprs or {})),
                               options=dict(base.options, **options))


# A layernorm row of 8192 floats over 8 sub-groups spills at 128 GRF on pvc and less at 256, with IGC 1 and 2
# (IGC 2: 10048 bytes -> 0).
SPILLING = spec("layernorm", {"BLOCK": 8192}, num_warps=8)


def test_kernel_leaves_the_compiler_as_a_zebin_for_its_target():
    compiled = kernels.SPECS["add"].compile("pvc")
    binary = compiled.asm["zebin"]
    assert isinstance(binary, bytes) and binary[:4] == b"\x7fELF"
    assert int.from_bytes(binary[18:20], "little") == zebin.EM_INTELGT
    assert compiled.kernel is binary  # what the driver loads
    assert isinstance(compiled.asm["spv"], bytes) and compiled.asm["spv"][:4] == b"\x03\x02\x23\x07"
    info = zebin.read(binary)
    assert info.product_family_name == "pvc"
    assert [k.name for k in info.kernels] == ["add_kernel"]


def test_metadata_describes_the_chosen_binary(fresh_cache):
    md = kernels.SPECS["add"].compile("pvc").metadata
    kernel = zebin.read(kernels.SPECS["add"].compile("pvc").asm["zebin"]).kernel("add_kernel")
    assert md.target_arch == "pvc"
    assert md.grf_mode == "128" and md.n_regs == kernel.grf_count == 128
    assert md.build_flags == ""
    assert md.spill_bytes == 0 and md.scratch_bytes == 0
    assert md.native_compiler == "ocloc" and md.native_compiler_version
    assert md.stage_ms["zebin"] > 0


def test_kernel_that_does_not_spill_compiles_once():
    md = kernels.SPECS["add"].compile("pvc").metadata
    assert len(md.grf_attempts) == 1
    assert set(md.grf_attempts[0]) == {"grf_mode", "flags", "spill_bytes", "spill_source", "scratch_bytes", "n_regs",
                                       "ms", "kept", "reason", "early"}
    assert md.grf_attempts[0]["kept"] is True and md.grf_attempts[0]["reason"] == ""


def test_spilling_kernel_on_pvc_gets_the_256_grf_binary():
    compiled = SPILLING.compile("pvc")
    md = compiled.metadata
    first, second = md.grf_attempts
    assert first["flags"] == "" and first["n_regs"] == 128 and first["spill_bytes"] > 0
    assert second["flags"] == "-cl-intel-256-GRF-per-thread" and second["n_regs"] == 256
    assert second["spill_bytes"] < first["spill_bytes"]
    assert md.grf_mode == "256" and md.build_flags == "-cl-intel-256-GRF-per-thread"
    assert md.spill_bytes == second["spill_bytes"] and md.n_regs == 256
    assert zebin.read(compiled.asm["zebin"]).kernel("layernorm_kernel").grf_count == 256


def test_the_larger_mode_is_kept_only_when_it_spills_enough_less():
    # The 64x64x32 fp16 matmul spills at 128 GRF on DG2 with IGC 1 and 2; whether 256 spills less, and by how
    # much, depends on the IGC (IGC 1: more; IGC 2: 6% less), so the expectation is derived from the attempts.
    md = kernels.SPECS["matmul"].compile("acm-g10").metadata
    first, second = md.grf_attempts
    assert first["n_regs"] == 128 and second["n_regs"] == 256 and first["spill_bytes"] > 0
    gain = (first["spill_bytes"] - second["spill_bytes"]) / first["spill_bytes"]
    kept = second if gain >= md.grf_min_gain else first
    assert [first["kept"], second["kept"]] == [kept is first, kept is second]
    assert md.grf_mode == str(kept["n_regs"]) and md.build_flags == kept["flags"]
    assert md.spill_bytes == kept["spill_bytes"]


def test_threshold_knob_tolerates_spills():
    md = dataclasses.replace(SPILLING, options=dict(SPILLING.options, grf_spill_threshold=1 << 20)).compile("pvc").metadata
    assert len(md.grf_attempts) == 1 and md.grf_mode == "128" and md.spill_bytes > 0


def test_threshold_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRITON_XPU_GRF_SPILL_THRESHOLD", str(1 << 20))
    md = SPILLING.compile("pvc").metadata
    assert len(md.grf_attempts) == 1 and md.grf_spill_threshold == 1 << 20


@pytest.mark.parametrize("mode, flags, regs", [("256", "-cl-intel-256-GRF-per-thread", 256),
                                               ("large", "-cl-intel-256-GRF-per-thread", 256),
                                               ("128", "-cl-intel-128-GRF-per-thread", 128)])
def test_explicit_grf_mode_is_obeyed_and_never_retried(mode, flags, regs):
    md = dataclasses.replace(SPILLING, options=dict(SPILLING.options, grf_mode=mode)).compile("pvc").metadata
    assert len(md.grf_attempts) == 1
    assert md.build_flags == flags and md.n_regs == regs and md.grf_mode == str(regs)
    if regs == 128:
        assert md.spill_bytes > 0  # spills, as asked


def test_auto_grf_mode_lets_igc_choose():
    md = dataclasses.replace(SPILLING, options=dict(SPILLING.options, grf_mode="auto")).compile("pvc").metadata
    assert md.build_flags == "-cl-intel-enable-auto-large-GRF-mode" and md.grf_mode == "auto"
    assert len(md.grf_attempts) == 1 and md.n_regs in (128, 256)


@pytest.mark.parametrize("mode, arch, warps, message", [
    ("huge", "pvc", 4, "invalid grf_mode 'huge': expected one of default, auto, 128, 256, 512"),
    ("256", "tgllp", 4, "grf_mode '256' is not available on tgllp (its register file sizes: 128)"),
    ("256", "pvc", 64, "grf_mode '256' with num_warps=64 cannot launch on pvc: at 256 registers an Xe-core "
     "holds at most 32 sub-groups"),
])
def test_invalid_grf_mode_is_an_error(mode, arch, warps, message):
    with pytest.raises(ValueError) as err:
        spec("add", grf_mode=mode, num_warps=warps).compile(arch)
    assert message in str(err.value)


class RecordingCompiler:
    """The real ocloc native compiler, recording the flags of each compile."""

    name = "ocloc"

    def __init__(self):
        self.inner = compilers.OclocCompiler()
        self.flags = []

    def version(self):
        return self.inner.version()

    def compile(self, spirv, device, flags):
        self.flags.append(flags)
        return self.inner.compile(spirv, device, flags)


def test_no_retry_when_the_larger_mode_could_not_launch():
    spirv = SPILLING.compile("pvc").asm["spv"]
    gen = RecordingCompiler()
    # 64 sub-groups fit an Xe-core at 128 GRF (8 EUs x 8 threads) but not at 256 (8 x 4).
    chosen = grf_policy.select_binary(spirv, "layernorm_kernel", PVC, 64, "default", 0, gen)
    assert gen.flags == [""] and chosen.attempt.spill_bytes > 0
    gen = RecordingCompiler()
    grf_policy.select_binary(spirv, "layernorm_kernel", PVC, 32, "default", 0, gen)
    assert gen.flags == ["", "-cl-intel-256-GRF-per-thread"]


# --- the cache and ocloc calls, counted through a logging wrapper around the real ocloc -------------------

COUNTING_OCLOC = """#!/bin/sh
echo "$*" >> "{log}"
exec "{ocloc}" "$@"
"""

COMPILE_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {examples!r})
    import kernels
    for name in sys.argv[1].split(","):
        md = kernels.SPECS[name].compile("pvc").metadata
        print(name, md.grf_mode, md.spill_bytes)
""")


@pytest.fixture
def counting_ocloc(tmp_path, fresh_cache):
    log = tmp_path / "ocloc-calls.log"
    wrapper = tmp_path / "ocloc"
    wrapper.write_text(COUNTING_OCLOC.format(log=log, ocloc=subprocess.check_output(["which", "ocloc"], text=True)
                                             .strip()))
    wrapper.chmod(0o755)
    env = dict(os.environ, TRITON_XPU_OCLOC_MODE="subprocess", TRITON_OCLOC_PATH=str(wrapper),
               TRITON_CACHE_DIR=str(fresh_cache))

    def compiles():
        # Kernel compiles only (SPIR-V input), not the one-off capability probe or version queries.
        lines = log.read_text().splitlines() if log.exists() else []
        return ["compile" for line in lines if line.startswith("compile ") and "-spirv_input" in line]

    def run(names, processes=1):
        procs = [subprocess.Popen([sys.executable, "-c", COMPILE_SCRIPT.format(examples=str(REPO / "examples")),
                                   ",".join(names)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(processes)]
        outs = [p.communicate() for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, err
        return [o for o, _ in outs]

    return run, compiles


def test_warm_cache_runs_ocloc_zero_times(counting_ocloc):
    run, compiles = counting_ocloc
    first = run(["add", "softmax"])
    cold = [c for c in compiles() if c == "compile"]
    assert len(cold) == 2
    second = run(["add", "softmax"])
    assert [c for c in compiles() if c == "compile"] == cold  # no new compile
    assert first == second


def test_concurrent_processes_share_one_cache_without_corruption(counting_ocloc, fresh_cache):
    run, compiles = counting_ocloc
    names = ["add", "softmax", "layernorm"]
    outs = run(names, processes=4)
    assert len(set(outs)) == 1
    groups = list(fresh_cache.glob("*/__grp__*.json"))
    kernel_groups = [g for g in groups if "kernel" in g.name]
    assert len(kernel_groups) == 3
    for group in kernel_groups:
        files = json.loads(group.read_text())["child_paths"]
        meta = json.loads(Path(next(p for n, p in files.items() if n.endswith(".json"))).read_text())
        binary = Path(next(p for n, p in files.items() if n.endswith(".zebin"))).read_bytes()
        assert zebin.read(binary).kernel(meta["name"]).grf_count == meta["n_regs"]
    before = len([c for c in compiles() if c == "compile"])
    assert run(names) == outs[:1]
    assert len([c for c in compiles() if c == "compile"]) == before


def test_crashing_ocloc_is_a_clear_error_with_a_repro_on_the_cached_spirv(tmp_path, fresh_cache, monkeypatch):
    crashing = tmp_path / "ocloc"
    crashing.write_text("#!/bin/sh\n[ \"$1\" = compile ] && kill -SEGV $$\nexec ocloc \"$@\"\n")
    crashing.chmod(0o755)
    monkeypatch.setenv("TRITON_XPU_OCLOC_MODE", "subprocess")
    monkeypatch.setenv("TRITON_OCLOC_PATH", str(crashing))
    with pytest.raises(CompilationError) as err:
        kernels.SPECS["add"].compile("pvc")
    msg = str(err.value)
    assert msg.startswith("add_kernel for pvc: ocloc crashed with signal SIGSEGV (11) compiling for pvc")
    repro = err.value.repro
    assert repro.startswith(str(crashing)) and " -spirv_input" in repro and "-device pvc" in repro
    spv = next(tok for tok in repro.split() if tok.endswith(".spv"))
    assert Path(spv).is_file() and Path(spv).read_bytes()[:4] == b"\x03\x02\x23\x07"


class OverflowingCompiler(RecordingCompiler):
    """A test double for a compiler whose every binary overflows the scratch limit: IGC 2 never emits one for
    real inputs (it moves large private arrays to global memory), IGC 1 does (test_ocloc covers that)."""

    def compile(self, spirv, device, flags):
        from triton.runtime.errors import OutOfResources
        self.flags.append(flags)
        raise OutOfResources(512 * 1024, 256 * 1024, "scratch space per thread of kernel overflow")


def test_scratch_overflow_tries_the_larger_mode_then_is_out_of_resources():
    from triton.runtime.errors import OutOfResources
    gen = OverflowingCompiler()
    with pytest.raises(OutOfResources, match="scratch space per thread of kernel overflow"):
        grf_policy.select_binary(b"spirv", "overflow", PVC, 4, "default", 0, gen)
    # Both modes overflow: the error stands.
    assert gen.flags == ["", "-cl-intel-256-GRF-per-thread"]


def test_scratch_overflow_with_explicit_mode_is_not_retried():
    from triton.runtime.errors import OutOfResources
    gen = OverflowingCompiler()
    with pytest.raises(OutOfResources):
        grf_policy.select_binary(b"spirv", "overflow", PVC, 4, "128", 0, gen)
    assert gen.flags == ["-cl-intel-128-GRF-per-thread"]


MISSING_FUNCTION_CL = """
void triton_xpu_missing(__global float* p);
__kernel void calls_missing(__global float* p) { triton_xpu_missing(p); }
"""


class FixedBinaryCompiler(RecordingCompiler):
    """The real ocloc, but every compile returns one given zebin (made by the real ocloc from OpenCL C)."""

    def __init__(self, binary):
        super().__init__()
        self.binary = binary

    def compile(self, spirv, device, flags):
        out = super().compile(spirv, device, flags)
        return compilers.NativeBinary(self.binary, out.log, out.command, out.ms, zebin.read(self.binary))


def test_zebin_calling_undefined_functions_is_a_compile_error(cl_zebin):
    # IGC leaves calls to functions it cannot resolve (a builtin an older IGC lacks) undefined; the driver
    # would refuse the module at kernel creation, so the compiler refuses it first.
    binary, _ = cl_zebin(MISSING_FUNCTION_CL)
    assert zebin.read(binary).undefined_symbols == ["triton_xpu_missing"]
    gen = FixedBinaryCompiler(binary)
    with pytest.raises(CompilationError) as err:
        grf_policy.select_binary(kernels.SPECS["add"].compile("pvc").asm["spv"], "calls_missing", PVC, 4,
                                 "default", 0, gen)
    assert str(err.value).startswith("calls_missing calls functions the compiler (ocloc) left undefined: "
                                     "triton_xpu_missing; the driver cannot load it.")


def test_symbols_the_driver_resolves_are_not_missing_functions():
    # IGC 2 leaves __INTEL_PATCH_CROSS_THREAD_OFFSET_OFF_R0 undefined in every zebin; the driver resolves it.
    binary = kernels.SPECS["add"].compile("pvc").asm["zebin"]
    from elftools.elf.elffile import ELFFile  # an independent reader
    import io
    undefined = {s.name for s in ELFFile(io.BytesIO(binary)).get_section_by_name(".symtab").iter_symbols()
                 if s["st_shndx"] == "SHN_UNDEF" and s.name}
    assert undefined <= zebin.DRIVER_RESOLVED_SYMBOLS
    assert zebin.read(binary).undefined_symbols == []


def test_block_pointer_stores_on_pvc_compile_to_a_self_contained_zebin():
    # Whatever the installed IGC supports, the backend never emits a zebin with unresolved builtins: where
    # IGC lacks the 2D block writes, it compiles pvc kernels without 2D block IO.
    from triton.backends.intel.native import capabilities
    from triton.compiler.compiler import make_backend
    from triton.backends.compiler import GPUTarget
    compiled = kernels.SPECS["block_ptr_matmul_bf16"].compile("pvc")
    assert zebin.read(compiled.asm["zebin"]).undefined_symbols == []
    backend = make_backend(GPUTarget("xpu", "pvc", 32))
    assert backend.target_info.has_subgroup_2d_block_io == capabilities.has_2d_block_write("pvc")


def test_a_target_only_todays_ocloc_knows_compiles_or_names_the_toolchain_that_has_it():
    from triton.backends.intel.errors import IntelBackendError
    if compilers.ocloc_knows("bmg"):  # Debian testing's ocloc 26.x
        compiled = kernels.SPECS["add"].compile("bmg")
        assert zebin.read(compiled.asm["zebin"]).product_family_name == "bmg"
        assert compiled.metadata.native_compiler == "ocloc"
        return
    with pytest.raises(IntelBackendError) as err:  # Debian 12's ocloc 22.43
        kernels.SPECS["add"].compile("bmg")
    assert ("no way to compile native code for bmg: the installed ocloc does not know bmg (`ocloc ids bmg` "
            "(libocloc libocloc.so): Error: Invalid command line. Unknown acronym bmg.); install an ocloc that "
            "supports bmg (intel-opencl-icd 26.x") in str(err.value)
    assert "`./run --toolchain current` has it" in str(err.value)


def test_fp32_block_pointer_matmul_on_pvc_links_with_or_without_tf32():
    # Triton's block-pointer fp32 matmul: tf32 DPAS where the installed IGC has the builtin (IGC 2), IEEE
    # precision without DPAS where it lacks it (IGC 1.0.12504) -- never a zebin calling an undefined function.
    from triton.backends.intel.native import capabilities
    fp32 = dataclasses.replace(kernels.SPECS["block_ptr_matmul_bf16"], name="block_ptr_matmul_fp32",
                               signature=kernels._matmul_sig("fp32"),
                               constexprs={"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32}, options={"num_warps": 4})
    compiled = fp32.compile("pvc")
    kernel = zebin.read(compiled.asm["zebin"]).kernel("block_ptr_matmul_kernel")
    assert zebin.read(compiled.asm["zebin"]).undefined_symbols == []
    tf32 = capabilities.has_tf32_dpas("pvc")
    assert compiled.metadata.default_dot_input_precision == ("tf32" if tf32 else "ieee")
    assert kernel.has_dpas == tf32


@pytest.mark.parametrize("probe, builtin, answer", [("BLOCK_WRITE_PROBE", "2d_block_write", "has_2d_block_write"),
                                                    ("TF32_DPAS_PROBE", "tf32_tf32_matrix_mad", "has_tf32_dpas")])
def test_capability_probes_answer_for_the_missing_builtin_only(probe, builtin, answer):
    # IGC 2 has both builtins (and leaves only driver-resolved symbols undefined), IGC 1.0.12504 lacks both on
    # pvc: a "no" must come from the builtin itself, never from another undefined symbol.
    from triton.backends.intel.native import capabilities
    missing = capabilities.missing_builtins("pvc", getattr(capabilities, probe))
    assert missing is not None
    assert all(builtin in name for name in missing), missing
    assert getattr(capabilities, answer)("pvc") == (missing == [])


def test_pvc_kernels_keep_2d_block_io_where_igc_links_it():
    from triton.backends.intel.native import capabilities
    ttgir = kernels.SPECS["block_ptr_matmul_bf16"].compile("pvc").asm["ttgir"]
    assert ("triton_intel_gpu.support_sg_2d_block" in ttgir) == capabilities.has_2d_block_write("pvc")


def attempt(grf, spill):
    return grf_policy.Attempt(grf_mode=str(grf), flags="", spill_bytes=spill, spill_source="spill_size",
                              scratch_bytes=spill, n_regs=grf, ms=1.0)


@pytest.mark.parametrize("base, larger, min_gain, keep, base_reason, larger_reason", [
    (8192, 0, 0.1, True, "replaced: spills 8192 -> 0 B (-100.0%) at 256 GRF",
     "kept: spills 8192 -> 0 B (-100.0%) at 256 GRF, at least the 10% minimum gain"),
    # acm-g10 attention with IGC 2: 256 GRF halves the threads for 0.9% fewer spill bytes.
    (7843, 7773, 0.1, False, "kept: the larger register file's spills 7843 -> 7773 B (-0.9%) at 256 GRF, under "
     "the 10% minimum gain (grf_min_gain)", "dropped: spills 7843 -> 7773 B (-0.9%) at 256 GRF, under the 10% "
     "minimum gain (grf_min_gain)"),
    (7843, 7773, 0.0, True, "replaced: spills 7843 -> 7773 B (-0.9%) at 256 GRF",
     "kept: spills 7843 -> 7773 B (-0.9%) at 256 GRF, at least the 0% minimum gain"),
    (100, 120, 0.0, False, "kept: the larger register file's spills 100 -> 120 B (+20.0%) at 256 GRF, no fewer "
     "spills", "dropped: spills 100 -> 120 B (+20.0%) at 256 GRF, no fewer spills"),
])
def test_a_larger_register_file_is_kept_only_for_the_minimum_gain(base, larger, min_gain, keep, base_reason,
                                                                   larger_reason):
    first, second = attempt(128, base), attempt(256, larger)
    assert grf_policy._weigh(first, second, min_gain) is keep
    assert (first.kept, second.kept) == (not keep, keep)
    assert (first.reason, second.reason) == (base_reason, larger_reason)


def test_the_minimum_gain_is_an_option_and_a_knob(monkeypatch):
    from triton.backends.intel.options import XPUOptions
    assert XPUOptions().grf_min_gain == 0.1
    assert XPUOptions(grf_min_gain=0.25).grf_min_gain == 0.25
    monkeypatch.setenv("TRITON_XPU_GRF_MIN_GAIN", "0.3")
    assert XPUOptions().grf_min_gain == 0.3
    monkeypatch.setenv("TRITON_XPU_GRF_MIN_GAIN", "10%")
    with pytest.raises(ValueError, match=r"TRITON_XPU_GRF_MIN_GAIN='10%' is not a fraction between 0 and 1"):
        XPUOptions()
    # Through the compiler: the spilling layernorm loses every spill at 256 GRF, enough for any minimum gain.
    md = spec("layernorm", {"BLOCK": 8192}, num_warps=8, grf_min_gain=1.0).compile("pvc").metadata
    kept = [a for a in md.grf_attempts if a["kept"]]
    assert len(kept) == 1 and md.grf_mode == kept[0]["grf_mode"]
    assert md.grf_attempts[-1]["reason"].startswith(("kept: spills", "dropped: spills"))

"""Every rule of the GRF policy (grf_policy.select_binary), against a test double of a native compiler
(fake_compiler.py): which compiles run with which flags, which binary is kept and why.  The same rules with
the real IGC: test_zebin_stage.py."""

import pytest
from triton.runtime.errors import OutOfResources

from fake_compiler import LARGE, FakeCompiler, Outcome
from triton.backends.intel import options, targets
from triton.backends.intel.native import grf_policy
from triton.backends.intel.errors import CompilationError

PVC, TGL = targets.lookup("pvc"), targets.lookup("tgllp")


def select(outcomes, target=PVC, num_warps=8, requested="default", threshold=0, min_gain=0.1):
    gen = FakeCompiler(outcomes)
    mode = options.parse_grf_mode(requested)  # as XPUOptions parses it
    return gen, grf_policy.select_binary(b"spirv", "k", target, num_warps, mode, threshold, gen, min_gain)


# --- the default mode ------------------------------------------------------------------------------------


def test_a_kernel_that_does_not_spill_compiles_once_without_a_grf_flag():
    gen, sel = select({"": 0})
    assert gen.compiled == [""] and sel.binary == b"zebin " and sel.attempt.grf_mode == "128"
    assert [(a.kept, a.reason) for a in sel.attempts] == [(True, "")]


def test_a_spilling_kernel_is_compiled_again_with_the_larger_register_file_and_that_one_kept():
    gen, sel = select({"": 8192, LARGE: 0})
    assert gen.compiled == ["", LARGE] and sel.binary == f"zebin {LARGE}".encode()
    first, second = sel.attempts
    assert (first.kept, first.reason) == (False, "replaced: spills 8192 -> 0 B (-100.0%) at 256 GRF")
    assert (second.kept, second.reason) == (True, "kept: spills 8192 -> 0 B (-100.0%) at 256 GRF, at least the "
                                                  "10% minimum gain")
    assert sel.attempt is second and sel.log == f"log {LARGE}" and sel.command == f"repro {LARGE}"


def test_a_larger_register_file_that_cuts_too_little_is_dropped():
    _, sel = select({"": 7843, LARGE: 7773})
    first, second = sel.attempts
    assert sel.attempt is first and sel.binary == b"zebin "
    assert second.reason == ("dropped: spills 7843 -> 7773 B (-0.9%) at 256 GRF, under the 10% minimum gain "
                             "(grf_min_gain)")
    assert first.reason == ("kept: the larger register file's spills 7843 -> 7773 B (-0.9%) at 256 GRF, under the "
                            "10% minimum gain (grf_min_gain)")


def test_the_minimum_gain_is_a_parameter():
    assert select({"": 7843, LARGE: 7773}, min_gain=0.0)[1].attempt.flags == LARGE
    assert select({"": 1000, LARGE: 500}, min_gain=0.6)[1].attempt.flags == ""


def test_a_larger_register_file_that_spills_more_is_dropped():
    _, sel = select({"": 67456, LARGE: 76032})
    assert sel.attempt.flags == "" and sel.attempts[1].reason.endswith("(+12.7%) at 256 GRF, no fewer spills")


def test_spills_within_the_threshold_are_tolerated():
    gen, sel = select({"": 900, LARGE: 0}, threshold=1000)
    assert gen.compiled == [""] and sel.attempt.spill_bytes == 900


def test_no_retry_when_the_larger_mode_could_not_launch():
    # 64 sub-groups fit an Xe-core at 128 GRF (8 EUs x 8 threads) but not at 256 (8 x 4).
    gen, sel = select({"": 8192, LARGE: 0}, num_warps=64)
    assert gen.compiled == [""] and sel.attempt.spill_bytes == 8192
    gen, _ = select({"": 8192, LARGE: 0}, num_warps=32)
    assert gen.compiled == ["", LARGE]


def test_no_retry_on_a_target_with_one_register_file_size():
    gen, sel = select({"": 8192}, target=TGL)
    assert gen.compiled == [""] and len(sel.attempts) == 1


def test_no_retry_when_the_default_compile_already_has_the_larger_file():
    gen, sel = select({"": Outcome(spill_bytes=512, grf_count=256)})
    assert gen.compiled == [""] and sel.attempt.grf_mode == "256"


def test_unknown_spill_is_decided_on_scratch_as_its_upper_bound():
    # The binary does not say how much of its scratch is spill: the policy compares scratch, the metadata
    # keeps "unknown".
    _, sel = select({"": Outcome(spill_bytes=None, scratch_bytes=131072), LARGE: Outcome(spill_bytes=None,
                                                                                       scratch_bytes=65536)})
    first, second = sel.attempts
    assert first.spill_bytes is None and first.cost() == 131072
    assert sel.attempt is second and second.spill_bytes is None


# --- scratch beyond the device's limit ------------------------------------------------------------------


def test_scratch_overflow_in_the_default_mode_tries_the_larger_one():
    gen, sel = select({"": "oor", LARGE: 4096})
    assert gen.compiled == ["", LARGE] and sel.attempt.flags == LARGE and len(sel.attempts) == 1


def test_scratch_overflow_in_every_mode_is_out_of_resources():
    with pytest.raises(OutOfResources):
        select({"": "oor", LARGE: "oor"})
    with pytest.raises(OutOfResources):
        select({"": "oor"}, target=TGL)


def test_a_failed_compile_is_the_compilers_error():
    with pytest.raises(CompilationError, match="fake compile failed for -cl-intel-256-GRF-per-thread"):
        select({"": 8192, LARGE: "error"})


def test_functions_left_undefined_are_an_error_naming_them():
    with pytest.raises(CompilationError) as err:
        select({"": Outcome(undefined=["__builtin_IB_subgroup_block_write_flat_u16_m8k16v1"])})
    assert str(err.value).startswith("k calls functions the compiler (fake) left undefined: "
                                     "__builtin_IB_subgroup_block_write_flat_u16_m8k16v1; the driver cannot load it")


# --- explicit modes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("requested,flags", [("128", grf_policy.GRF_FLAGS[128]), ("256", LARGE), ("large", LARGE),
                                             ("small", grf_policy.GRF_FLAGS[128]), ("auto", grf_policy.AUTO_FLAG)])
def test_an_explicit_mode_is_obeyed_with_one_compile(requested, flags):
    gen, sel = select({flags: 8192}, requested=requested)
    assert gen.compiled == [flags] and sel.attempt.spill_bytes == 8192  # spills, as asked


def test_auto_reports_that_igc_chose():
    _, sel = select({grf_policy.AUTO_FLAG: Outcome(grf_count=256)}, requested="auto")
    assert sel.attempt.grf_mode == "auto" and sel.attempt.n_regs == 256


@pytest.mark.parametrize("requested,target,warps,message", [
    ("huge", PVC, 4, "invalid grf_mode 'huge': expected one of default, auto, 128, 256, 512 (or triton-xpu's "
     "'small'/'large')"),
    ("256", TGL, 4, "grf_mode '256' is not available on tgllp (its register file sizes: 128)"),
    ("256", PVC, 64, "grf_mode '256' with num_warps=64 cannot launch on pvc: at 256 registers an Xe-core holds at "
     "most 32 sub-groups; lower num_warps or use grf_mode 'default'"),
])
def test_an_impossible_mode_is_refused_before_compiling(requested, target, warps, message):
    gen = FakeCompiler({})
    with pytest.raises(ValueError) as err:
        grf_policy.select_binary(b"spirv", "k", target, warps, options.parse_grf_mode(requested), 0, gen)
    assert str(err.value) == message and gen.compiled == []


@pytest.mark.parametrize("given,canonical", [(None, "default"), ("", "default"), ("none", "default"),
                                             (" Large ", "256"), ("small", "128"), (256, "256")])
def test_mode_spellings_are_parsed_once_with_the_options(given, canonical):
    assert options.parse_grf_mode(given) == canonical
    assert options.XPUOptions(grf_mode=given).grf_mode == canonical


def test_the_policy_refuses_a_mode_the_options_did_not_parse():
    with pytest.raises(ValueError, match=r"grf_mode 'large' is not parsed"):
        grf_policy.select_binary(b"spirv", "k", PVC, 4, "large", 0, FakeCompiler({}))

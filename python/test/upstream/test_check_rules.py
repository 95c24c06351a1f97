"""upstream/check's rules for a series of independent pull requests, on small synthetic series against the test
double of an upstream checkout: each patch applies ALONE on BASE (after only what its Depends-on names), the
patches MERGE in series order, each stays under the size limit outside tests, and none changes an existing
knob's default or adds a knob that is on by default.  The knob rules are also checked directly on knobs.py
texts (upstream/check's own functions), where each case costs no formatter run.
"""
import importlib.machinery
import importlib.util
import sys
import textwrap

import pytest

import upstream_series as series
from upstream_double import KNOBS, run_check

TEST_FILE = "python/test/unit/intel/test_double.py"
TESTS = f"Tests: {TEST_FILE}"
OTHER_TEST_FILE = "python/test/unit/intel/test_other.py"
OTHER_TESTS = f"Tests: {OTHER_TEST_FILE}"
GOOD_TEST = "def test_double():\n    assert 1 + 1 == 2\n"
BACKEND_FILE = "third_party/intel/backend/threshold.py"
THRESHOLD = "FIRST = 1\nSECOND = 2\nTHIRD = 3\n"


check = run_check  # upstream/check on the double's series


def load_check():
    loader = importlib.machinery.SourceFileLoader("upstream_check", str(series.SERIES_DIR / "check"))
    spec = importlib.util.spec_from_loader("upstream_check", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["upstream_check"] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


def with_knob(line: str) -> str:
    """The double's BASE knobs.py with LINE added at the end of class intel_knobs."""
    anchor = '    device_arch: env_opt_str = env_opt_str("TRITON_INTEL_DEVICE_ARCH")\n'
    return KNOBS.replace(anchor, anchor + "    " + line + "\n")


# --- end to end on the double ---------------------------------------------------------------------------------


def test_a_patch_over_the_size_limit_outside_tests_fails_naming_it_and_its_count(upstream_double):
    big = "".join(f"VALUE_{i} = {i}\n" for i in range(301))
    name = upstream_double.add_patch("[XPU] Add many values", {BACKEND_FILE: big, TEST_FILE: GOOD_TEST}, TESTS)
    status, out = check(upstream_double)
    assert status == 1, out
    assert f"FAILED: {name} changes 301 lines outside tests, over the limit of 300" in out


def test_test_lines_do_not_count_towards_the_size_limit(upstream_double):
    big_test = GOOD_TEST + "".join(f"\n\ndef test_{i}():\n    assert {i} == {i}\n" for i in range(120))
    upstream_double.add_patch("[XPU] Add a small value", {BACKEND_FILE: "VALUE = 1\n", TEST_FILE: big_test}, TESTS)
    status, out = check(upstream_double)
    assert status == 0, out
    assert "ok: 1 changed lines outside tests, limit 300" in out


def test_a_patch_changing_an_existing_knobs_default_fails_naming_the_knob(upstream_double):
    changed = KNOBS.replace('env_bool("TRITON_XPU_GEN_NATIVE_CODE", False)',
                                            'env_bool("TRITON_XPU_GEN_NATIVE_CODE", True)')
    name = upstream_double.add_patch("[XPU] Generate native code", {"python/triton/knobs.py": changed,
                                                                    TEST_FILE: GOOD_TEST}, TESTS)
    status, out = check(upstream_double)
    assert status == 1, out
    assert (f"FAILED: {name} changes upstream's defaults: intel_knobs.gen_native_code changes from "
            "`env_bool('TRITON_XPU_GEN_NATIVE_CODE', False)` to `env_bool('TRITON_XPU_GEN_NATIVE_CODE', True)`") in out


def test_an_opt_in_knob_passes(upstream_double):
    knobs = with_knob('ocloc_worker: env_bool = env_bool("TRITON_INTEL_OCLOC_WORKER", False)')
    upstream_double.add_patch("[XPU] Add an opt-in", {"python/triton/knobs.py": knobs, TEST_FILE: GOOD_TEST}, TESTS)
    status, out = check(upstream_double)
    assert status == 0, out
    assert "ok: no existing knob's default changed; new knobs are opt-in TRITON_INTEL_* settings" in out


def test_patches_that_touch_the_same_lines_apply_alone_but_fail_as_a_stack_naming_the_second(upstream_double):
    upstream_double.commit_base({BACKEND_FILE: THRESHOLD})
    upstream_double.add_patch("[XPU] Raise the second", {BACKEND_FILE: THRESHOLD.replace("= 2", "= 20"),
                                                        TEST_FILE: GOOD_TEST}, TESTS)
    second = upstream_double.add_patch("[XPU] Lower the second", {BACKEND_FILE: THRESHOLD.replace("= 2", "= 0"),
                                                                  OTHER_TEST_FILE: GOOD_TEST}, OTHER_TESTS)
    status, out = check(upstream_double)
    assert status == 1, out
    assert f"FAILED: patch {second} does not merge after the patches before it (conflicts in: {BACKEND_FILE})" in out
    assert "does not apply alone" not in out


def test_patches_that_touch_nearby_but_separate_lines_merge_as_a_stack(upstream_double):
    upstream_double.commit_base({BACKEND_FILE: THRESHOLD + "".join(f"PAD_{i} = {i}\n" for i in range(4)) +
                                 "LAST = 9\n"})
    base_text = (upstream_double.repo / BACKEND_FILE).read_text()
    upstream_double.add_patch("[XPU] Change the first", {BACKEND_FILE: base_text.replace("FIRST = 1", "FIRST = 10"),
                                                        TEST_FILE: GOOD_TEST}, TESTS)
    upstream_double.add_patch("[XPU] Change the last", {BACKEND_FILE: base_text.replace("LAST = 9", "LAST = 90"),
                                                       OTHER_TEST_FILE: GOOD_TEST}, OTHER_TESTS)
    status, out = check(upstream_double)
    assert status == 0, out
    assert "merged: [XPU] Change the last" in out


def test_a_patch_built_on_another_applies_with_its_depends_on_trailer(upstream_double):
    upstream_double.commit_base({BACKEND_FILE: THRESHOLD})
    first = upstream_double.add_patch("[XPU] Raise the second", {BACKEND_FILE: THRESHOLD.replace("= 2", "= 20"),
                                                                 TEST_FILE: GOOD_TEST}, TESTS)
    parent = upstream_double.commit_of(first)
    upstream_double.add_patch("[XPU] Raise the second again", {BACKEND_FILE: THRESHOLD.replace("= 2", "= 200")},
                              f"{TESTS}\nDepends-on: [XPU] Raise the second", parent=parent)
    status, out = check(upstream_double)
    assert status == 0, out


def test_without_the_trailer_the_same_patch_does_not_apply_alone(upstream_double):
    upstream_double.commit_base({BACKEND_FILE: THRESHOLD})
    first = upstream_double.add_patch("[XPU] Raise the second", {BACKEND_FILE: THRESHOLD.replace("= 2", "= 20"),
                                                                 TEST_FILE: GOOD_TEST}, TESTS)
    second = upstream_double.add_patch("[XPU] Raise the second again",
                                       {BACKEND_FILE: THRESHOLD.replace("= 2", "= 200")}, TESTS,
                                       parent=upstream_double.commit_of(first))
    status, out = check(upstream_double)
    assert status == 1, out
    assert f"FAILED: patch {second} does not apply alone on {upstream_double.base}" in out


def test_a_depends_on_naming_no_earlier_patch_fails(upstream_double):
    name = upstream_double.add_patch("[XPU] Add a test", {TEST_FILE: GOOD_TEST},
                                     f"{TESTS}\nDepends-on: [XPU] Something never written")
    status, out = check(upstream_double)
    assert status == 1, out
    assert f"FAILED: {name} depends on '[XPU] Something never written', which is no earlier patch's title" in out


# --- the knob rules, on knobs.py texts -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream_check():
    return load_check()


@pytest.mark.parametrize("line", [
    'ocloc_worker: env_bool = env_bool("TRITON_INTEL_OCLOC_WORKER", False)',
    'ocloc_worker: env_bool = env_bool("TRITON_INTEL_OCLOC_WORKER")',
    'ocloc_timeout: env_opt_str = env_opt_str("TRITON_INTEL_OCLOC_TIMEOUT")',
])
def test_opt_in_knobs_are_accepted(upstream_check, line):
    assert upstream_check.knob_findings(KNOBS, with_knob(line), "[XPU] Add a knob") == []


@pytest.mark.parametrize("line, finding", [
    ('ocloc_worker: env_bool = env_bool("TRITON_INTEL_OCLOC_WORKER", True)',
     "intel_knobs.ocloc_worker (TRITON_INTEL_OCLOC_WORKER) is env_bool with default True: a new knob must be off"),
    ('ocloc_worker: env_bool = env_bool("TRITON_XPU_OCLOC_WORKER", False)',
     "intel_knobs.ocloc_worker reads TRITON_XPU_OCLOC_WORKER, not a TRITON_INTEL_* variable"),
    ('native_compiler: env_str = env_str("TRITON_INTEL_NATIVE_CODE_COMPILER", "driver")',
     "intel_knobs.native_compiler (TRITON_INTEL_NATIVE_CODE_COMPILER) is env_str with default 'driver'"),
])
def test_knobs_that_are_on_by_default_are_findings(upstream_check, line, finding):
    (found, ) = upstream_check.knob_findings(KNOBS, with_knob(line), "[XPU] Add a knob")
    assert found.startswith(finding)


def test_a_title_that_says_it_changes_a_default_may_add_a_knob_that_is_on(upstream_check):
    knobs = with_knob('ocloc_worker: env_bool = env_bool("TRITON_INTEL_OCLOC_WORKER", True)')
    assert upstream_check.knob_findings(KNOBS, knobs, "[XPU] Run ocloc in a worker by default") == []


def test_a_removed_knob_is_a_finding(upstream_check):
    knobs = KNOBS.replace('    device_arch: env_opt_str = env_opt_str("TRITON_INTEL_DEVICE_ARCH")\n', "")
    assert upstream_check.knob_findings(KNOBS, knobs, "[XPU] Tidy") == [
        "intel_knobs.device_arch is removed"
    ]


def test_a_knob_added_outside_intel_knobs_is_a_finding(upstream_check):
    knobs = KNOBS + textwrap.dedent("""\


        class nvidia_knobs:
            extra: env_bool = env_bool("TRITON_INTEL_EXTRA", False)
        """)
    assert upstream_check.knob_findings(KNOBS, knobs, "[XPU] Add") == [
        "nvidia_knobs.extra is new outside intel_knobs"
    ]


def test_the_check_only_reads_the_upstream_checkout(upstream_double):
    from upstream_double import git
    upstream_double.add_patch("[XPU] Add a test", {TEST_FILE: GOOD_TEST}, TESTS)
    before = (git(upstream_double.repo, "worktree", "list", "--porcelain"), git(upstream_double.repo, "for-each-ref"),
              git(upstream_double.repo, "count-objects"))
    status, out = check(upstream_double)
    assert status == 0, out
    assert (git(upstream_double.repo, "worktree", "list", "--porcelain"), git(upstream_double.repo, "for-each-ref"),
            git(upstream_double.repo, "count-objects")) == before

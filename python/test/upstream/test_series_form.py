"""The form of the upstream patch series in upstream/: checked everywhere, without network or an upstream checkout.

Applying the series and running upstream's linters and tests is upstream/check (test_series_check.py, when
UPSTREAM_DIR is set).  With UPSTREAM_DIR set, a test a patch names may also be one that exists at BASE.
"""
import os
import re
import subprocess

import upstream_series as series

UPSTREAM_DIR = os.environ.get("UPSTREAM_DIR")


def exists_at_base(path: str) -> bool:
    """Whether UPSTREAM_DIR's commit BASE has the file (only asked when UPSTREAM_DIR is set)."""
    proc = subprocess.run(["git", "-C", UPSTREAM_DIR, "cat-file", "-e", f"{series.base()}:{path}"],
                          capture_output=True, timeout=60)
    return proc.returncode == 0


def test_base_is_a_full_commit_sha():
    assert re.fullmatch(r"[0-9a-f]{40}", series.base())


def test_readme_names_base_and_how_to_run_the_check():
    readme = (series.SERIES_DIR / "README.md").read_text()
    assert series.base() in readme
    assert "UPSTREAM_DIR=" in readme and "upstream/check" in readme


def test_the_check_scripts_are_executable():
    for name in ("check", "pytest-upstream", "lint-venv"):
        assert os.access(series.SERIES_DIR / name, os.X_OK), name


def test_every_patch_file_is_in_the_series_and_every_listed_patch_exists():
    listed, present = series.series_names(), series.patch_files()
    assert sorted(set(present) - set(listed)) == [], "patches/ holds files the series does not list"
    assert sorted(set(listed) - set(present)) == [], "the series lists files patches/ does not hold"
    assert len(listed) == len(set(listed)), "the series lists a patch twice"


def test_patch_names_are_numbered_in_series_order():
    # format-patch's names, NNNN-title.patch, numbered 0001.. in the order of the series.
    for number, name in enumerate(series.series_names(), 1):
        assert re.fullmatch(rf"{number:04d}-[A-Za-z0-9._-]+\.patch", name), name


def test_each_patch_is_format_patch_output_with_an_upstream_title():
    problems = [f"{patch.name}: {problem}" for patch in series.patches() for problem in series.format_problems(patch)]
    assert problems == []


def test_each_patch_names_its_tests_in_a_trailer():
    missing = [patch.name for patch in series.patches() if not patch.tests and not patch.trailer("Tests-need-GPU")]
    assert missing == [], "patches with neither a 'Tests: <paths>' nor a 'Tests-need-GPU: <paths> -- <why>' trailer"


# The pull request description: what goes wrong at BASE, the change, how it relates to what upstream merged
# after BASE (#7950, #7959, #8115/#8118), and what ran where.
SECTIONS = ("## Problem", "## Change", "## Upstream after this base", "## Testing")


def test_each_description_has_the_sections_a_reviewer_reads():
    missing = [f"{patch.name}: {section}" for patch in series.patches() for section in SECTIONS
               if section not in patch.message.splitlines()]
    assert missing == []


def test_a_depends_on_trailer_names_an_earlier_patch_by_its_title():
    patches = series.patches()
    problems = []
    for i, patch in enumerate(patches):
        earlier = {p.title for p in patches[:i]}
        problems += [f"{patch.name}: {title}" for title in patch.trailer("Depends-on") if title not in earlier]
    assert problems == []


def test_each_named_test_is_a_pytest_file_the_patch_adds_or_changes():
    problems = []
    for patch in series.patches():
        for path in patch.tests:
            if not re.fullmatch(r"python/test/.*test_[^/]*\.py", path):
                problems.append(f"{patch.name}: {path} is not a pytest file under python/test/")
            elif path not in patch.changed_files and not (UPSTREAM_DIR and exists_at_base(path)):
                where = "nor exists at BASE" if UPSTREAM_DIR else "(set UPSTREAM_DIR to accept tests existing at BASE)"
                problems.append(f"{patch.name}: {path} is not added or changed by the patch {where}")
    assert problems == []


def test_every_test_file_a_patch_changes_is_named_in_a_trailer():
    # Otherwise it would neither run in upstream/check nor be listed as needing a GPU.
    problems = []
    for patch in series.patches():
        gpu = [path for value in patch.trailer("Tests-need-GPU") for path in value.split(" -- ", 1)[0].split()]
        for path in patch.changed_files:
            if re.fullmatch(r"python/test/(.*/)?test_[^/]*\.py", path) and path not in patch.tests + gpu:
                problems.append(f"{patch.name}: {path}")
    assert problems == []


def test_tests_needing_a_gpu_say_why():
    # "Tests-need-GPU: <paths> -- <why>": upstream/check prints these as what cannot run here.
    problems = [
        f"{patch.name}: {value!r}" for patch in series.patches() for value in patch.trailer("Tests-need-GPU")
        if not re.fullmatch(r"\S.* -- \S.*", value)
    ]
    assert problems == []


def test_upstream_gpu_free_tests_are_pytest_files():
    lines = (series.SERIES_DIR / "tests-gpu-free").read_text().splitlines()
    paths = [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]
    assert "python/test/unit/intel/test_extract_spill_size.py" in paths
    assert all(re.fullmatch(r"python/test/.*test_[^/]*\.py", path) for path in paths), paths


# Build products inside the source folders (see .gitignore): libdevice copied from the wheel, built modules.
BUILD_PRODUCTS = ("third_party/intel/backend/lib/", )


def test_upstream_tests_with_the_standin_torch_start_with_a_pytest_file():
    lines = (series.SERIES_DIR / "tests-standin-torch").read_text().splitlines()
    runs = [line.split("#", 1)[0].split() for line in lines if line.split("#", 1)[0].strip()]
    assert runs and all(re.fullmatch(r"python/test/.*test_[^/]*\.py", run[0]) for run in runs), runs


def project_modules():
    """Every source module of the project a reader could ask about: the backend, the C++ runtime, the tools.
    (From the file system, not git: the toolchains have no git.)"""
    modules = []
    for folder in ("third_party/intel/backend", "lib", "include", "tools"):
        for path in sorted((series.REPO / folder).rglob("*")):
            rel = path.relative_to(series.REPO).as_posix()
            if path.suffix in (".py", ".cpp", ".h", ".c") and "__pycache__" not in rel \
                    and not rel.startswith(BUILD_PRODUCTS):
                modules.append(rel)
    return modules


def test_readme_maps_every_project_module_to_a_patch_or_a_reason():
    readme = (series.SERIES_DIR / "README.md").read_text()
    table = readme.split("## Project modules → patches", 1)[1].split("\n## ", 1)[0]
    unmapped = [module for module in project_modules() if f"`{module}`" not in table]
    assert unmapped == [], "modules the README's 'Project modules → patches' table does not list"


def test_project_readme_points_to_the_series():
    assert "upstream/README.md" in (series.REPO / "README.md").read_text()

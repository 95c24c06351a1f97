"""Capability answers known for released compilers (native/known_compilers.py): each row is what the real probes
answer on the toolchain that installs its compiler, a row applies only to the very files it names, and a
compiler no row names is probed as before, with the same answers and the same backend hash."""

import os
import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile  # an independent reader

from triton.backends.compiler import GPUTarget
from triton.backends.intel.native import capabilities, compiler_identity, known_compilers, ocloc_runner

TOOLCHAIN = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")


@pytest.fixture
def fresh_process(fresh_cache):
    """As in a new process with an empty Triton cache: no answer in memory or on disk."""
    compiler_identity.forget()
    known_compilers._installed.clear()
    capabilities.has_2d_block_write.cache_clear()
    capabilities.has_tf32_dpas.cache_clear()
    yield fresh_cache
    compiler_identity.forget()
    known_compilers._installed.clear()
    capabilities.has_2d_block_write.cache_clear()
    capabilities.has_tf32_dpas.cache_clear()


@pytest.fixture
def ocloc_runs(monkeypatch):
    """The command lines of the ocloc runs (probes, queries, compiles) this process starts from now on."""
    started = []
    real = ocloc_runner.run

    def counted(lib, exe, args, *rest, **kwargs):
        started.append(" ".join(args))
        return real(lib, exe, args, *rest, **kwargs)

    monkeypatch.setattr(ocloc_runner, "run", counted)
    return started


def _backend():
    from triton.backends.intel.compiler import XPUBackend
    return XPUBackend(GPUTarget("xpu", "pvc", 32))


@pytest.mark.parametrize("known", known_compilers.KNOWN, ids=lambda known: known.toolchain)
def test_each_row_is_what_the_real_probes_answer(known, fresh_process):
    if known_compilers.installed() != frozenset(known.files.values()):
        pytest.skip(f"the compiler of this row is not installed here: {known.description}")
    # Every probe for every target that asks it, run by ocloc: the row must hold exactly these answers.
    assert capabilities.measured_answers() == known.answers


def _skip_unknown_build():
    # Debian testing uploads new compiler builds: until a row is added, such a toolchain probes once per cache,
    # as any unknown compiler does (tested below), which is slower, not wrong.
    pytest.skip(f"this toolchain's compiler build has no row in native/known_compilers.py "
                f"({known_compilers.installed()}); add it with tools/known_compiler_row.py")


def test_this_toolchains_compiler_has_a_row():
    if TOOLCHAIN == "host":
        pytest.skip("the host's own compiler need not be one of the rows")
    known = known_compilers.row()
    if known is None:
        _skip_unknown_build()
    assert known.toolchain == TOOLCHAIN, f"this toolchain's compiler matched {known.toolchain}'s row"


def test_a_known_compiler_is_asked_nothing_to_construct_the_backend(fresh_process, ocloc_runs, monkeypatch):
    if known_compilers.row() is None:
        _skip_unknown_build()

    def started(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[:2]!r}")

    with monkeypatch.context() as no_process:
        for owner, name in ((subprocess.Popen, "__init__"), (os, "fork"), (os, "posix_spawn"), (os, "posix_spawnp")):
            no_process.setattr(owner, name, started)
        backend = _backend()
        backend.hash()
    assert ocloc_runs == []
    assert list(fresh_process.rglob("answer.json")) == []  # nothing asked, nothing kept
    assert backend.target_info.has_subgroup_2d_block_io == known_compilers.answer(
        capabilities.question("has_2d_block_write", "pvc", capabilities.BLOCK_WRITE_PROBE))


def test_a_compiler_no_row_names_is_probed_with_the_same_answers_and_hash(fresh_process, ocloc_runs, monkeypatch):
    known = _backend()
    monkeypatch.setattr(known_compilers, "KNOWN", ())  # the installed compiler unknown to the table
    capabilities.has_2d_block_write.cache_clear()
    capabilities.has_tf32_dpas.cache_clear()
    probed = _backend()
    assert sum("probe.cl" in run for run in ocloc_runs) == 2, ocloc_runs  # both probes ran, on ocloc
    assert probed.target_info == known.target_info
    assert probed.hash() == known.hash()
    kept = [p.read_text() for p in fresh_process.rglob("answer.json")]
    assert any("has_2d_block_write pvc" in text for text in kept) and any("has_tf32_dpas pvc" in text for text in kept)


def test_build_ids_are_the_linkers(fresh_process):
    files = known_compilers._candidate_files()
    found = sorted({os.path.realpath(f) for f in files if os.path.isfile(f)})
    assert found, "no ocloc or IGC file here"
    for path in found:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            notes = [n for seg in elf.iter_segments() if seg["p_type"] == "PT_NOTE" for n in seg.iter_notes()]
            expected = next(n["n_desc"] for n in notes if n["n_type"] == "NT_GNU_BUILD_ID")
        assert known_compilers.build_id(path) == expected, path


def test_a_file_without_a_build_id_has_none(tmp_path):
    text = tmp_path / "ocloc"
    text.write_text("#!/bin/sh\n")
    header_only = tmp_path / "libigc.so.2"
    with open(shutil.which("ocloc") or "/bin/sh", "rb") as f:
        header_only.write_bytes(f.read(64))  # the ELF header, its program headers cut off
    assert known_compilers.build_id(str(text)) is None
    assert known_compilers.build_id(str(header_only)) is None
    assert known_compilers.build_id(str(tmp_path / "absent")) is None


@pytest.mark.parametrize("name", ["libigc.so.1", "libigc.so.2", "libocloc.so"])
def test_a_row_applies_to_its_files_only(name, tmp_path, monkeypatch, fresh_process):
    # Another build found first on LD_LIBRARY_PATH (under a name the row has, or one it lacks): whichever IGC or
    # ocloc then runs, no row vouches for it.
    shutil.copy(os.path.realpath(shutil.which("true")), tmp_path / name)  # a small ELF file with a build id
    assert known_compilers.build_id(str(tmp_path / name))
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    assert known_compilers.row() is None
    assert known_compilers.answer(capabilities.question("has_2d_block_write", "pvc",
                                                        capabilities.BLOCK_WRITE_PROBE)) is None


def test_an_ocloc_a_knob_names_is_known_only_if_it_is_the_rows(tmp_path, monkeypatch, fresh_process):
    monkeypatch.setenv("TRITON_OCLOC_PATH", str(tmp_path / "ocloc"))
    (tmp_path / "ocloc").write_text("#!/bin/sh\nexit 1\n")  # a wrapper script: no build id, no row
    assert known_compilers.installed() is None and known_compilers.row() is None
    monkeypatch.setenv("TRITON_OCLOC_PATH", os.path.realpath(shutil.which("ocloc")))  # the row's own executable
    if TOOLCHAIN != "host":
        assert known_compilers.row() is not None

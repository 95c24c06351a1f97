"""A process that only loads cached kernels pays nothing for the compiler: constructing the backend, hashing it
and launching a kernel from Triton's cache start no process (no ocloc, no libocloc worker), because what ocloc
said about itself (version, ``ocloc ids``, capability probes) is kept on disk under the compiler files'
identity, and a released compiler's capabilities are known without asking (native/known_compilers.py).  (NEO
itself maps IGC into the process when the Level Zero driver initialises: measured on 26.27, before any module
exists.)  Runs on the emulated pvc, each step in a fresh process."""

import json
import textwrap

import pytest

from support import no_compiler
from test_driver import run, run_json
from triton.backends.intel.native import compiler_identity
# In the second process, anything that would run ocloc or start a process fails loudly.
NO_COMPILER = textwrap.indent(no_compiler.CODE, "    ")  # indented like the code it precedes

# As before known_compilers: the installed compiler unknown to its table, so the capability probes run.
UNKNOWN_COMPILER = """
    from triton.backends.intel.native import known_compilers
    known_compilers.KNOWN = ()
"""

LAUNCH = """
    x = driver.active.alloc(4096, "shared", "float32")
    k = kernels.add_kernel[(1, )](x, x, x, 1024, BLOCK=1024)
    driver.active.synchronize()
    print(json.dumps({"module": k.module != 0, "n_regs": k.n_regs}))
"""


@pytest.fixture
def cache_dir(tmp_path):
    return {"TRITON_CACHE_DIR": str(tmp_path / "cache")}


def test_a_cached_kernel_launches_with_the_compiler_unavailable(cache_dir):
    first = run_json(LAUNCH, env=cache_dir)
    assert first["module"]
    second = run_json(NO_COMPILER + LAUNCH, env=cache_dir)
    assert second == first


def test_without_its_cached_answers_the_compiler_is_asked(cache_dir, tmp_path):
    # The proof that the test above can fail: the same with the kernel cached but the answers gone.
    run_json(LAUNCH, env=cache_dir)
    for answer in (tmp_path / "cache").rglob("answer.json"):
        answer.unlink()
    proc = run(NO_COMPILER + LAUNCH, env=cache_dir)
    assert proc.returncode != 0 and "the compiler was started" in proc.stderr, proc.stderr[-2000:]


def test_constructing_and_hashing_the_backend_starts_nothing_once_answers_are_on_disk(cache_dir):
    code = """
    from triton.backends.compiler import GPUTarget
    from triton.backends.intel.compiler import XPUBackend
    backend = XPUBackend(GPUTarget("xpu", "pvc", 32))
    options = backend.parse_options({})
    print(json.dumps({"hash": backend.hash(), "version": options.native_compiler_version}))
"""
    first = run_json(code, env=cache_dir)
    assert first["version"].startswith("ocloc ")
    assert run_json(NO_COMPILER + code, env=cache_dir) == first


def test_answers_are_kept_per_question(cache_dir, tmp_path):
    run_json(UNKNOWN_COMPILER + LAUNCH, env=cache_dir)
    questions = sorted(json.loads(p.read_text())["question"] for p in (tmp_path / "cache").rglob("answer.json"))
    assert "ocloc version" in questions and "ocloc ids pvc" in questions
    assert any(q.startswith("has_2d_block_write pvc ") for q in questions)
    assert any(q.startswith("has_tf32_dpas pvc ") for q in questions)


def test_a_known_compilers_capabilities_are_neither_asked_nor_kept(cache_dir, tmp_path):
    run_json(LAUNCH, env=cache_dir)
    questions = sorted(json.loads(p.read_text())["question"] for p in (tmp_path / "cache").rglob("answer.json"))
    assert questions == ["ocloc ids pvc", "ocloc version"]  # the probes' answers are known_compilers' row


def test_a_cache_filled_before_the_known_answers_still_hits(cache_dir):
    # A cache filled by a process that probed (as every process did before known_compilers): a process that
    # takes the answers from the table computes the same backend hash, so it launches the kernel from that
    # cache with the compiler unavailable.
    first = run_json(UNKNOWN_COMPILER + LAUNCH, env=cache_dir)
    assert run_json(NO_COMPILER + LAUNCH, env=cache_dir) == first


def test_the_identity_follows_the_compiler_files(tmp_path, monkeypatch):
    before = compiler_identity.identity()
    assert compiler_identity.identity() == before
    fake = tmp_path / "libigc.so.2"  # an IGC the loader would find first
    fake.write_bytes(b"igc 1")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    with_fake = compiler_identity.identity()
    assert with_fake != before
    fake.write_bytes(b"igc 22")  # an upgrade in place: another size and time, seen by the next process
    assert compiler_identity.identity() == with_fake
    compiler_identity.forget()
    assert compiler_identity.identity() != with_fake
    monkeypatch.setenv("TRITON_XPU_OCLOC_MODE", "subprocess")  # the knobs choosing between them count too
    assert compiler_identity.identity() not in (before, with_fake)


def test_a_new_compiler_is_asked_again(tmp_path, monkeypatch, fresh_cache):
    asked = []
    first = compiler_identity.remembered("q", lambda: asked.append(1) or "answer")
    compiler_identity.forget()
    assert compiler_identity.remembered("q", lambda: asked.append(2) or "other") == first == "answer"
    assert asked == [1]  # the second process read the disk
    (tmp_path / "libigc.so.2").write_bytes(b"new")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))  # another environment: its identity is computed
    assert compiler_identity.remembered("q", lambda: asked.append(3) or "new answer") == "new answer"
    assert asked == [1, 3]


def test_answers_not_worth_keeping_are_asked_again(fresh_cache):
    compiler_identity.remembered("hang", lambda: None, keep=lambda answer: answer is not None)
    compiler_identity.forget()
    asked = []
    compiler_identity.remembered("hang", lambda: asked.append(1), keep=lambda answer: False)
    assert asked == [1]


def test_a_damaged_answer_is_asked_again_with_a_warning(fresh_cache):
    assert compiler_identity.remembered("damaged", lambda: 42) == 42
    (stored,) = [p for p in fresh_cache.rglob("answer.json") if "damaged" in p.read_text()]
    stored.write_text('{"question": "dam')
    compiler_identity.forget()
    with pytest.warns(UserWarning) as caught:
        assert compiler_identity.remembered("damaged", lambda: 43) == 43
    assert [str(w.message) for w in caught] == [
        f"damaged cache entry in {stored.parent}: answer.json cannot be read (JSONDecodeError: Unterminated "
        "string starting at: line 1 column 14 (char 13)); asking ocloc again"]
    assert json.loads(stored.read_text()) == {"question": "damaged", "answer": 43}  # rewritten


def test_the_identity_starts_no_process(monkeypatch):
    import subprocess

    def started(*args, **kwargs):
        raise AssertionError("a process was started")

    monkeypatch.setattr(subprocess.Popen, "__init__", started)
    assert len(compiler_identity.identity()) == 64

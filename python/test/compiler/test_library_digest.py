"""libtriton's digest, recorded at build time (frontend/triton/_library_digest.py): Triton's ``triton_key`` keeps its
value but stops reading 430 MB in every process, and a record that does not match the library is not used."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import triton
from triton import _library_digest
from triton.compiler import compiler

LIBTRITON = Path(triton.__file__).parent / "_C" / "libtriton.so"


@pytest.fixture
def fresh_key():
    compiler.triton_key.cache_clear()
    yield
    compiler.triton_key.cache_clear()


@pytest.fixture
def library(tmp_path):
    """A small ELF file with a GNU build id, and its record."""
    path = tmp_path / "libsmall.so"
    shutil.copy(os.path.realpath(shutil.which("true")), path)
    _library_digest.record(str(path))
    return path


def _plant(library: Path, **changes) -> None:
    record = Path(str(library) + _library_digest.RECORD_SUFFIX)
    record.write_text(json.dumps({**json.loads(record.read_text()), **changes}))


def test_the_package_carries_the_record_of_its_libtriton():
    record = json.loads(Path(str(LIBTRITON) + _library_digest.RECORD_SUFFIX).read_text())
    assert record["size"] == LIBTRITON.stat().st_size
    assert record["build_id"] == _library_digest.build_id(str(LIBTRITON))
    assert record["sha256"] == hashlib.sha256(LIBTRITON.read_bytes()).hexdigest()


def test_triton_key_uses_the_record_and_keeps_its_value(fresh_key, monkeypatch):
    recorded = compiler.triton_key()
    compiler.triton_key.cache_clear()
    monkeypatch.setenv("TRITON_XPU_HASH_LIBTRITON", "1")  # Triton's way: libtriton hashed in full
    assert compiler.triton_key() == recorded
    assert hashlib.sha256(LIBTRITON.read_bytes()).hexdigest() in recorded


def test_triton_key_reads_no_libtriton_when_the_record_matches(fresh_key, monkeypatch):
    def refused(path):
        raise AssertionError(f"{path} hashed in full")

    monkeypatch.setattr(_library_digest, "full_sha256", refused)
    compiler.triton_key()


def test_a_matching_record_is_used(library):
    _plant(library, sha256="a" * 64)  # not the file's digest: seen only if the record is used
    assert _library_digest.sha256(str(library)) == "a" * 64


def test_the_knob_hashes_in_full_regardless(library, monkeypatch):
    _plant(library, sha256="a" * 64)
    monkeypatch.setenv("TRITON_XPU_HASH_LIBTRITON", "1")
    assert _library_digest.sha256(str(library)) == hashlib.sha256(library.read_bytes()).hexdigest()


def test_a_library_of_another_size_is_hashed_in_full(library):
    _plant(library, sha256="a" * 64)
    with open(library, "ab") as f:
        f.write(b"\0")
    assert _library_digest.sha256(str(library)) == hashlib.sha256(library.read_bytes()).hexdigest()


def test_another_build_of_the_same_size_is_hashed_in_full(library):
    _plant(library, sha256="a" * 64)
    data = bytearray(library.read_bytes())
    at = data.index(bytes.fromhex(_library_digest.build_id(str(library))))
    data[at] ^= 0xFF  # a relinked library: same size, another build id
    library.write_bytes(bytes(data))
    assert _library_digest.sha256(str(library)) == hashlib.sha256(library.read_bytes()).hexdigest()


@pytest.mark.parametrize("record", ["not json", "[]", "{}", json.dumps({"size": 1, "build_id": "00"}),
                                    None])
def test_a_damaged_or_missing_record_is_hashed_in_full(library, record):
    path = Path(str(library) + _library_digest.RECORD_SUFFIX)
    if record is None:
        path.unlink()
    else:
        path.write_text(record)
    assert _library_digest.sha256(str(library)) == hashlib.sha256(library.read_bytes()).hexdigest()


@pytest.mark.parametrize("digest", ["a" * 63, 7, None])
def test_a_record_with_no_sha256_is_hashed_in_full(library, digest):
    _plant(library, sha256=digest)
    assert _library_digest.sha256(str(library)) == hashlib.sha256(library.read_bytes()).hexdigest()


def test_a_library_without_a_build_id_cannot_be_recorded(tmp_path):
    script = tmp_path / "libscript.so"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(ValueError, match="libscript.so has no GNU build id: its digest cannot be recorded"):
        _library_digest.record(str(script))

"""Shared pytest set-up: a private Triton cache per test session and the example kernels on sys.path."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples"))

# Tools installed in the environment (PyPI's newer spirv-dis, lit's filecheck) come first, as under ./run.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

# Never read or pollute the user's ~/.triton cache; each xdist worker gets its own.
os.environ["TRITON_CACHE_DIR"] = tempfile.mkdtemp(prefix="triton-xpu-test-cache-")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty Triton cache directory for one test."""
    cache = tmp_path / "triton-cache"
    monkeypatch.setenv("TRITON_CACHE_DIR", str(cache))
    return cache

"""The test double of an upstream checkout for the tests of upstream/check and upstream/pytest-upstream
(upstream_double.py)."""
import pytest

from upstream_double import UpstreamDouble


@pytest.fixture
def upstream_double(tmp_path):
    return UpstreamDouble(tmp_path)

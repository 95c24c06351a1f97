"""Fixtures of the corpus tests: one compile process and one loader process per target for each pytest worker
(see harness.py for why they are separate processes).  The counts per target end the run, printed by
python/test/suite_summary.py: this conftest's hooks would run only in xdist's workers, whose output nobody sees.

``TRITON_XPU_CORPUS=full`` adds the entries marked ``full_only`` (the ones taking many seconds to compile).
"""

from typing import Dict

import pytest

import harness  # this folder is on sys.path: pytest puts each conftest's folder there



@pytest.fixture(scope="session")
def corpus_compiler():
    proc = harness.CompileProcess()
    yield proc
    proc.close()


@pytest.fixture(scope="session")
def corpus_loaders():
    loaders: Dict[str, harness.Loader] = {}

    def get(target: str) -> harness.Loader:
        if target not in loaders:
            loaders[target] = harness.Loader(target)
        return loaders[target]

    yield get
    for loader in loaders.values():
        loader.close()

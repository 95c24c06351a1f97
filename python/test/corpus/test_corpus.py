"""Real kernels from published packages (Liger, FlagGems, flash-linear-attention) and this project's examples,
compiled for every target this toolchain's ocloc knows, each binary checked differentially: the loader's checks
(``binary.validate.loadable``, and that the kernel is in the binary) must pass exactly when NEO itself loads it
(``zeModuleCreate`` NATIVE + ``zeKernelCreate``, unchecked, on the emulated target).

A kernel whose zebin stage failed is not dropped: its SPIR-V is compiled again by ocloc with the same flags and
ocloc's raw output is the binary both sides judge.  A kernel Triton 3.3's front end cannot compile must be
marked as such in its table (``frontend=``); it is then an expected failure, and fails the test the day it
compiles.
"""

from __future__ import annotations

import pytest

import harness
from corpus_tables import ENTRIES

CASES = [(name, target) for name, e in ENTRIES.items() if harness.FULL or not e.full_only for target in harness.TARGETS]
MIN_DISTINCT_KERNELS = 60


def _record(record_property, entry: harness.Entry, result: harness.CompileResult, **extra) -> None:
    d = harness.result_dict(result)
    d.update(module=entry.module, attr=entry.attr, package=entry.package, category=entry.category, **extra)
    record_property("corpus", d)


@pytest.mark.parametrize("name,target", CASES, ids=[f"{n}-{t}" for n, t in CASES])
def test_kernel(name, target, corpus_compiler, corpus_loaders, record_property):
    entry = ENTRIES[name]
    if not harness.ocloc_knows(target):
        pytest.skip(f"{target}: this toolchain's ocloc does not know it (`./run --toolchain current` has it)")
    result = corpus_compiler.compile(name, target)
    if result.stage == "front-end":
        _record(record_property, entry, result)
        if entry.frontend:
            pytest.xfail(f"front end: {entry.frontend} -- {result.error.splitlines()[0] if result.error else ''}")
        pytest.fail(f"Triton 3.3's front end failed on {name} ({entry.module}.{entry.attr}) for {target}:\n"
                    f"{result.error}\nIf the kernel uses Triton language newer than 3.3, mark its table entry "
                    "frontend='why'; if the entry's types or constexprs are wrong, fix the table.")
    if entry.frontend:
        pytest.fail(f"{name} is marked as failing in Triton 3.3's front end ({entry.frontend}) but it compiled for "
                    f"{target}: remove the mark from its table entry")
    if result.binary is None:
        _record(record_property, entry, result)
        pytest.fail(f"{name} for {target}: the zebin stage failed and ocloc gives no binary either, so there is "
                    f"nothing to load:\n{result.error}\nocloc: {result.raw_error}")
    validator = harness.validator_verdict(result.binary, result.kernel)
    driver = corpus_loaders(target).load(result.binary, result.kernel)
    mismatch = validator.accepted != driver.accepted
    _record(record_property, entry, result, validator=validator.accepted, validator_message=validator.message,
            driver=driver.accepted, driver_message=driver.message[:2000], mismatch=mismatch)
    if mismatch:
        pytest.fail(f"validator and driver disagree on {name} ({result.kernel}) for {target}, binary from "
                    f"{result.binary_from}:\n  validator: {'accepts' if validator.accepted else 'refuses'}"
                    f"{': ' + validator.message if validator.message else ''}\n"
                    f"  driver (NEO, zeModuleCreate NATIVE + zeKernelCreate): "
                    f"{'loads it' if driver.accepted else 'refuses'}{': ' + driver.message if driver.message else ''}")
    if result.stage == "zebin-stage" and validator.accepted:
        pytest.fail(f"{name} for {target}: the zebin stage failed although its binary loads and the validator "
                    f"accepts it:\n{result.error}")


def test_corpus_has_enough_distinct_kernels():
    """The default suite's corpus: at least 60 distinct published or example kernels not marked as front-end
    failures (each is then compiled for every target above, which checks it reaches the zebin stage)."""
    kernels = {(e.module, e.attr) for e in ENTRIES.values() if not e.full_only and not e.frontend}
    assert len(kernels) >= MIN_DISTINCT_KERNELS, (
        f"only {len(kernels)} distinct kernels in the default corpus; add entries to python/test/corpus/table_*.py")


def test_standin_torch_is_invisible_here():
    """The stand-in torch lives only in the corpus's child processes: pytest's own process never imports it."""
    import sys
    torch = sys.modules.get("torch")
    assert torch is None or not getattr(torch, "STANDIN", False), "the corpus's stand-in torch leaked into pytest"
    assert harness.STANDIN_TORCH not in sys.path

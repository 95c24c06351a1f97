"""Real kernels from published packages (Liger, FlagGems, flash-linear-attention) and this project's examples,
compiled for every target this toolchain's ocloc knows.  A case passes only when its binary is accepted by the
loader's checks (``binary.validate.loadable``, and that the kernel is in the binary) AND loaded by NEO itself
(``zeModuleCreate`` NATIVE + ``zeKernelCreate``, unchecked, on the emulated target).  The two disagreeing is a
failure showing both messages.

A kernel whose zebin stage failed is not dropped: its SPIR-V is compiled again by ocloc with the same flags and
ocloc's raw output is the binary both sides judge.  Two kinds of kernel are expected failures, each declared with
its reason in its table entry, and each fails its case the day it works: one Triton 3.3's front end cannot
compile (``frontend=``), and one both the validator and NEO refuse (``refused=``, e.g. a call into another
vendor's libdevice).  The counts per target end the run (python/test/suite_summary.py).
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
        record_property("corpus", {"entry": name, "target": target, "stage": "not compiled"})
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
    verdicts = (f"  validator: {'accepts' if validator.accepted else 'refuses'}"
                f"{': ' + validator.message if validator.message else ''}\n"
                f"  driver (NEO, zeModuleCreate NATIVE + zeKernelCreate): "
                f"{'loads it' if driver.accepted else 'refuses'}{': ' + driver.message if driver.message else ''}")
    if mismatch:
        pytest.fail(f"validator and driver disagree on {name} ({result.kernel}) for {target}, binary from "
                    f"{result.binary_from}:\n{verdicts}")
    if not driver.accepted:  # both refuse: a kernel users cannot run on this target
        if entry.refused:
            pytest.xfail(f"refused by the validator and NEO: {entry.refused} -- validator: "
                         f"{validator.message.splitlines()[0] if validator.message else ''}")
        pytest.fail(f"neither the validator nor NEO loads {name} ({result.kernel}) for {target}, binary from "
                    f"{result.binary_from}:\n{verdicts}\nA corpus kernel must load.  If no Intel driver can run it "
                    "(say, it calls another vendor's builtins), declare that in its table entry: refused='why'; "
                    "otherwise the backend (or the entry's types and constexprs) is wrong.")
    if entry.refused:
        pytest.fail(f"{name} is marked refused ({entry.refused}) but for {target} the validator accepts it and NEO "
                    "loads it: remove refused= from its table entry")
    if result.stage == "zebin-stage":
        pytest.fail(f"{name} for {target}: the zebin stage failed although its binary loads and the validator "
                    f"accepts it:\n{result.error}")


def test_corpus_has_enough_distinct_kernels():
    """The default suite's corpus: at least 60 distinct published or example kernels not marked as expected
    failures (each is then compiled for every target above, which checks it loads)."""
    kernels = {(e.module, e.attr) for e in ENTRIES.values() if not e.full_only and not e.frontend and not e.refused}
    assert len(kernels) >= MIN_DISTINCT_KERNELS, (
        f"only {len(kernels)} distinct kernels in the default corpus; add entries to python/test/corpus/table_*.py")


def test_standin_torch_is_invisible_here():
    """The stand-in torch lives only in the corpus's child processes: pytest's own process never imports it."""
    import sys
    torch = sys.modules.get("torch")
    assert torch is None or not getattr(torch, "STANDIN", False), "the stand-in torch leaked into pytest"
    assert harness.STANDIN_TORCH not in sys.path

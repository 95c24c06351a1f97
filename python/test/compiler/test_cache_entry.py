"""Triton's cache entries of this backend: the digests a compile records, the check on every cache hit (a
front-end change, FRONTEND_PATCHES in setup.py), and the loads they let skip the full check.

No device is needed: compiles are for the named target pvc, and the loads below stop before the driver."""

import json
import warnings

import pytest

import kernels
from triton.backends.intel import cache_entry, targets
from triton.backends.intel.runtime import level_zero
from triton.backends.intel.binary import digest, validate
from triton.backends.intel.binary.zebin import read as read_zebin

PVC = targets.lookup("pvc")


def entry_files(cache, name):
    """{extension: path} of the one cache entry in ``cache`` holding kernel ``name``."""
    (group,) = [p for p in cache.rglob(f"__grp__{name}.json")]
    return {p.suffix[1:]: p for p in group.parent.iterdir() if not p.name.startswith("__grp__")}


def compile_again():
    """Compile add for pvc; ([warnings of damaged entries, the backend's and the front end's], the kernel)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = kernels.SPECS["add"].compile("pvc")
    return [str(w.message) for w in caught if str(w.message).startswith("damaged cache entry")], compiled


def test_a_compile_records_the_digests(fresh_cache):
    compiled = kernels.SPECS["add"].compile("pvc")
    md = compiled.metadata
    assert (md.zebin_bytes, md.zebin_crc32) == digest.key(compiled.asm["zebin"])
    assert md.launch_digest == cache_entry.launch_digest(md._asdict())
    assert md.driver_requirements == []
    # The IP version is the zebin's product-config note: IGC 2 writes one (12.60.7), IGC 1.0.12504 none.
    ip = read_zebin(compiled.asm["zebin"]).product_config_version
    assert ip in ("12.60.7", None)
    assert digest.trusted(digest.key(compiled.asm["zebin"])) == digest.Trusted("add_kernel", "pvc", md.n_regs,
                                                                               md.spill_bytes, (), ip)


def test_a_whole_entry_is_used_and_trusted(fresh_cache):
    first = kernels.SPECS["add"].compile("pvc")
    digest.forget_all()  # as a new process would start
    damaged, again = compile_again()
    assert damaged == [] and again.asm["zebin"] == first.asm["zebin"]
    assert digest.trusted(digest.key(first.asm["zebin"])) is not None
    # Stage times say what this run did: the first compiled every stage, the second read the cache.
    assert {"ttir", "ttgir", "llir", "spv", "zebin"} <= set(first.metadata.stage_ms)
    assert list(again.metadata.stage_ms) == ["cached"] and 0 < again.metadata.stage_ms["cached"] < 1000


GROUP = "damaged cache entry in {dir}: __grp__add_kernel.json "  # the front end's check of the entry's index
ENTRY = "damaged cache entry of kernel add_kernel in {dir}: "  # the backend's check of what it read
CRC = "add_kernel.zebin does not match the length and CRC-32 its compile recorded"


@pytest.mark.parametrize("damage, reason", [
    ("flip a bit of the zebin", ENTRY + CRC),
    ("truncate the zebin", ENTRY + CRC),
    ("empty the zebin", ENTRY + CRC),
    ("delete the zebin", GROUP + "lists files that are gone: add_kernel.zebin"),
    ("delete the metadata", GROUP + "lists files that are gone: add_kernel.json"),
    ("truncate the metadata", ENTRY + "add_kernel.json is not valid JSON (Unterminated string"),
    ("change num_warps", ENTRY + "the launch fields of add_kernel.json"),
    ("change threads_per_warp", ENTRY + "the launch fields of add_kernel.json"),
    ("truncate the group", GROUP + "cannot be read (JSONDecodeError: "),
    ("replace the group by a list", GROUP + "cannot be read (TypeError: "),
    ("drop the zebin from the group", ENTRY + "no add_kernel.zebin in the entry"),
])
def test_a_damaged_entry_is_compiled_again(fresh_cache, damage, reason):
    first = kernels.SPECS["add"].compile("pvc")
    files = entry_files(fresh_cache, "add_kernel")
    zebin, meta = files["zebin"], files["json"]
    group = zebin.parent / "__grp__add_kernel.json"
    if damage == "flip a bit of the zebin":
        data = bytearray(zebin.read_bytes())
        data[len(data) // 2] ^= 0x10
        zebin.write_bytes(bytes(data))
    elif damage == "truncate the zebin":
        zebin.write_bytes(zebin.read_bytes()[:1000])
    elif damage == "empty the zebin":
        zebin.write_bytes(b"")
    elif damage == "delete the zebin":
        zebin.unlink()
    elif damage == "delete the metadata":
        meta.unlink()
    elif damage == "truncate the metadata":
        meta.write_text(meta.read_text()[:100])
    elif damage == "truncate the group":
        group.write_text(group.read_text()[:50])
    elif damage == "replace the group by a list":
        group.write_text("[]")
    elif damage == "drop the zebin from the group":
        paths = json.loads(group.read_text())
        del paths["child_paths"]["add_kernel.zebin"]
        group.write_text(json.dumps(paths))
    else:
        field = damage.split()[-1]
        md = json.loads(meta.read_text())
        md[field] = {"num_warps": 32, "threads_per_warp": 16}[field]
        meta.write_text(json.dumps(md))
    damaged, again = compile_again()
    assert len(damaged) == 1 and damaged[0].startswith(reason.format(dir=zebin.parent)), damaged
    assert damaged[0].endswith("; compiling it again")
    # The entry was rewritten whole: the next run uses it without a word.
    assert again.asm["zebin"] == first.asm["zebin"] and again.metadata.num_warps == first.metadata.num_warps
    assert compile_again()[0] == []


def entry_folder(cache, kernel):
    """The folder of ``kernel``'s entry in ``cache`` (Triton's cache keeps each key's files in a folder named by it)."""
    from triton.runtime.cache import _base32
    return cache / _base32(kernel.hash)


def test_another_compiles_entry_copied_under_the_key_is_compiled_again(fresh_cache):
    # A whole, valid entry of add at another BLOCK (same kernel name, so every digest matches) copied over this
    # key's files: the hash its metadata records is not this key's.
    import dataclasses
    first = kernels.SPECS["add"].compile("pvc")
    other = dataclasses.replace(kernels.SPECS["add"], constexprs={"BLOCK": 512}).compile("pvc")
    mine, theirs = ({p.suffix[1:]: p for p in entry_folder(fresh_cache, k).iterdir()
                     if not p.name.startswith("__grp__")} for k in (first, other))
    for ext in ("json", "zebin"):
        mine[ext].write_bytes(theirs[ext].read_bytes())
    damaged, again = compile_again()
    assert damaged == [ENTRY.format(dir=mine["json"].parent) + f"add_kernel.json is the entry of another compile (its "
                       f"hash {other.hash[:16]}... is not this key's {first.hash[:16]}...): an entry copied or planted "
                       "under this key; compiling it again"]
    assert again.metadata.hash == first.hash and again.asm["zebin"] == first.asm["zebin"]
    assert compile_again()[0] == []


def test_a_trusted_binary_skips_the_full_check(fresh_cache, monkeypatch):
    compiled = kernels.SPECS["add"].compile("pvc")
    level_zero._checked.clear()

    def no_full_check(*args, **kwargs):
        raise AssertionError("the full check ran")

    monkeypatch.setattr(validate, "loadable", no_full_check)
    native, facts = level_zero.native_kernel(compiled.asm["zebin"], PVC, "add_kernel")
    assert native == compiled.asm["zebin"] and facts.grf_count == compiled.metadata.n_regs
    # One flipped bit anywhere: another digest, so the full check runs.
    flipped = bytearray(compiled.asm["zebin"])
    flipped[-100] ^= 1
    with pytest.raises(AssertionError, match="the full check ran"):
        level_zero.native_kernel(bytes(flipped), PVC, "add_kernel")


def test_a_trusted_binary_is_still_for_one_device(fresh_cache):
    compiled = kernels.SPECS["add"].compile("pvc")
    with pytest.raises(level_zero.NativeBinaryError, match=r"^cannot load add_kernel: its zebin is native code for "
                       r"pvc, but the device is acm-g10 \(product family dg2\); .*: recompile add_kernel for acm-g10 "):
        level_zero.native_kernel(compiled.asm["zebin"], targets.lookup("acm-g10"), "add_kernel")


def test_a_damaged_capability_answer_is_probed_again(fresh_cache, monkeypatch):
    from triton.backends.intel.native import capabilities, compiler_identity, known_compilers
    monkeypatch.setattr(known_compilers, "KNOWN", ())  # a compiler no row names: its answers are probed and cached
    compiler_identity.forget()
    answer = capabilities._links("pvc", "has_2d_block_write", capabilities.BLOCK_WRITE_PROBE)
    (cached,) = [p for p in fresh_cache.rglob("answer.json") if "has_2d_block_write" in p.read_text()]
    cached.write_text('{"has_2d_blo')
    compiler_identity.forget()  # as a new process would
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = capabilities._links("pvc", "has_2d_block_write", capabilities.BLOCK_WRITE_PROBE)
    assert again == answer
    assert [str(w.message) for w in caught] == [
        f"damaged cache entry in {cached.parent}: answer.json cannot be read (JSONDecodeError: Unterminated "
        "string starting at: line 1 column 2 (char 1)); asking ocloc again"]
    assert json.loads(cached.read_text())["answer"] == answer  # rewritten

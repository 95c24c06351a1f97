"""Entries from the fleet's store are untrusted input: a damaged entry, another compile's valid entry planted under
this key, and an entry whose digests were made to match a binary the driver must not get are each refused with one
warning, compiled locally, and overwritten in the store.  In this process through Triton's RemoteCacheManager (the
fleet cache selected by Triton's variables), compiling add for the named target pvc: no device needed."""

import dataclasses
import json
import warnings

import pytest

import kernels
from triton.backends.intel import cache_entry
from triton.backends.intel.binary import digest
from triton.backends.intel.binary.zebin import read as read_zebin
from triton.backends.intel.fleet.store import FleetCacheWarning

ADD = kernels.SPECS["add"]
ADD_512 = dataclasses.replace(ADD, constexprs={**ADD.constexprs, "BLOCK": 512})  # same name, another compile
assert ADD.constexprs["BLOCK"] != 512


def compile_add(spec=ADD):
    """Compile ``spec`` for pvc; (the kernel, [(category name, message) of each warning])."""
    digest.forget_all()  # trust nothing from before, as a new process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kernel = spec.compile("pvc")
    return kernel, [(w.category.__name__, str(w.message)) for w in caught
                    if issubclass(w.category, (FleetCacheWarning, cache_entry.DamagedCacheEntry))]


def entry_keys(client, kernel):
    """{file name: Redis key} of ``kernel``'s entry in the store."""
    from triton.runtime.cache import _base32
    prefix = f"triton:{_base32(kernel.hash)}:"
    return {k.decode()[len(prefix):]: k.decode() for k in client.keys(prefix + "*")}


@pytest.fixture
def fleet(in_process_fleet, redis_server, tmp_path):
    server = redis_server()
    in_process_fleet(server.url)
    return server


def damaged(kernel, problem):
    from triton.runtime.cache import _base32, default_cache_dir
    import os
    folder = os.path.join(os.environ.get("TRITON_CACHE_DIR") or default_cache_dir(), _base32(kernel.hash))
    return ("DamagedCacheEntry", f"damaged cache entry of kernel add_kernel in {folder}: {problem}; compiling it again")


def test_a_whole_entry_from_the_store_is_used_after_the_full_check(fleet, monkeypatch):
    first, warned = compile_add()
    assert warned == [] and "zebin" in first.metadata.stage_ms
    checked = []
    from triton.backends.intel.binary import validate
    real = validate.loadable
    monkeypatch.setattr(validate, "loadable", lambda data, *a: checked.append(len(data)) or real(data, *a))
    again, warned = compile_add()
    assert warned == [] and list(again.metadata.stage_ms) == ["cached"]
    assert again.asm["zebin"] == first.asm["zebin"] and checked == [len(first.asm["zebin"])]
    # Trusted after that check with what the binary says, so the load does not check it again.
    parsed = read_zebin(again.asm["zebin"])
    facts = digest.trusted(digest.key(again.asm["zebin"]))
    assert facts == digest.Trusted("add_kernel", "pvc", parsed.kernel("add_kernel").grf_count,
                                   parsed.kernel("add_kernel").spill_bytes, (), parsed.product_config_version)


def test_a_damaged_zebin_in_the_store_is_refused_compiled_and_overwritten(fleet):
    first, _ = compile_add()
    client = fleet.client()
    key = entry_keys(client, first)["add_kernel.zebin"]
    data = bytearray(client.get(key))
    data[len(data) // 2] ^= 0x10
    client.set(key, bytes(data))
    again, warned = compile_add()
    assert warned == [damaged(first, "add_kernel.zebin does not match the length and CRC-32 its compile recorded")]
    assert "zebin" in again.metadata.stage_ms  # compiled here
    assert client.get(key) == first.asm["zebin"]  # and the store's entry overwritten
    assert compile_add()[1] == []


def test_another_compiles_valid_entry_planted_under_this_key_is_refused(fleet):
    first, _ = compile_add()
    other, _ = compile_add(ADD_512)
    client = fleet.client()
    mine, theirs = entry_keys(client, first), entry_keys(client, other)
    for name in ("add_kernel.json", "add_kernel.zebin"):  # a whole, self-consistent entry: every digest matches
        client.set(mine[name], client.get(theirs[name]))
    again, warned = compile_add()
    assert warned == [damaged(first, f"add_kernel.json is the entry of another compile (its hash {other.hash[:16]}... "
                                     f"is not this key's {first.hash[:16]}...): an entry copied or planted under this "
                                     f"key")]
    assert "zebin" in again.metadata.stage_ms and again.metadata.hash == first.hash
    assert json.loads(client.get(mine["add_kernel.json"]))["hash"] == first.hash  # overwritten
    assert client.get(mine["add_kernel.zebin"]) == first.asm["zebin"]


def test_digests_made_to_match_a_bad_binary_do_not_buy_trust(fleet):
    # Whoever writes the store can recompute the CRC and the launch digest: an entry from the store gets the full
    # binary check (here: an ELF for x86-64, which the driver must never be handed), not CRC trust.
    first, _ = compile_add()
    client = fleet.client()
    keys = entry_keys(client, first)
    binary = bytearray(first.asm["zebin"])
    binary[18:20] = (62).to_bytes(2, "little")  # e_machine: EM_X86_64
    metadata = json.loads(client.get(keys["add_kernel.json"]))
    metadata["zebin_bytes"], metadata["zebin_crc32"] = digest.key(bytes(binary))
    metadata["launch_digest"] = cache_entry.launch_digest(metadata)
    client.set(keys["add_kernel.zebin"], bytes(binary))
    client.set(keys["add_kernel.json"], json.dumps(metadata))
    again, warned = compile_add()
    assert warned == [damaged(first, "add_kernel.zebin fails the full binary check (not a zebin: ELF for machine 62 "
                                     "(EM_X86_64 (x86-64)), not 205 (EM_INTELGT))")]
    assert "zebin" in again.metadata.stage_ms and client.get(keys["add_kernel.zebin"]) == first.asm["zebin"]


def test_a_store_that_cannot_serve_costs_a_local_compile_and_one_warning(in_process_fleet, fake_server):
    silent = fake_server(reply=None)
    in_process_fleet(silent.url, TRITON_XPU_CACHE_TIMEOUT="0.2")
    kernel, warned = compile_add()
    again, warned_again = compile_add(ADD_512)
    assert "zebin" in kernel.metadata.stage_ms and "zebin" in again.metadata.stage_ms
    assert [c for c, _ in warned] == ["FleetCacheWarning"] and warned_again == []
    assert silent.accepted == 1

"""A fleet of nodes sharing one Redis store: each node a fresh Python process with an empty Triton cache, launching
examples/kernels.py's add (two specialisations) on an emulated device (the real NEO driver; kernels do not
execute).  A node that finds its kernels in the store starts no compiler; a store that cannot serve costs a local
compile and one warning, and the node exits 0."""

import pytest

from support.redis_server import fleet_env
from nodes import run_node

BLOCKS = (1024, 512)
FLEET_WARNING = "FleetCacheWarning"


@pytest.fixture
def node(tmp_path):
    """Run a node with its own empty Triton cache (a new folder per node)."""
    count = [0]

    def run(env, **kw):
        count[0] += 1
        return run_node(env, tmp_path / f"node-{count[0]}" / "triton-cache", blocks=BLOCKS, **kw)

    return run


def test_one_compile_for_pvc_serves_every_pvc_node_and_no_other_target(redis_server, node):
    store = fleet_env(redis_server().url)
    first = node(store)
    assert first.compiled() == [True, True] and first.warnings(FLEET_WARNING) == []
    assert [k["target"] for k in first.out["kernels"]] == ["pvc", "pvc"] and first.out["device_id"] == 0x0BD5
    # Other PVC nodes -- the same device and another SKU (NEO's ForceDeviceId) -- load the first node's binaries
    # natively with the compiler unavailable (starting ocloc or any process fails the node).
    for device_id in ("0BD5", "0BD6"):
        other = node(dict(store, ForceDeviceId=device_id), no_compiler=True)
        assert other.compiled() == [False, False], other.stderr[-3000:]
        assert other.out["device_id"] == int(device_id, 16) and other.warnings(FLEET_WARNING) == []
        assert [k["hash"] for k in other.out["kernels"]] == [k["hash"] for k in first.out["kernels"]]
        assert all(k["module"] for k in other.out["kernels"])
    # A node of another target misses (the target is in the key) and compiles its own, correctly.
    dg2 = node(store, emulate="acm-g10")
    assert dg2.compiled() == [True, True] and dg2.warnings(FLEET_WARNING) == []
    assert [k["target"] for k in dg2.out["kernels"]] == ["acm-g10", "acm-g10"] and dg2.out["device_id"] == 0x56A0
    assert all(k["module"] for k in dg2.out["kernels"])


def test_without_the_store_the_second_node_needs_the_compiler(redis_server, node):
    # The proof that the test above can fail: the same two nodes without the fleet cache.
    first = node({})
    assert first.compiled() == [True, True]
    second = node({}, no_compiler=True)
    assert second.returncode != 0 and "the compiler was started" in second.stderr, second.stderr[-2000:]


def test_a_stopped_server_costs_a_local_compile_and_one_warning(redis_server, node):
    server = redis_server()
    server.stop()
    stranded = node(fleet_env(server.url))
    assert stranded.returncode == 0 and stranded.compiled() == [True, True]
    assert stranded.warnings(FLEET_WARNING) == [
        f"fleet cache: the Redis server {server.url} cannot be used (read: ConnectionError: Error 111 connecting to "
        f"127.0.0.1:{server.port}. Connection refused.); kernels are compiled locally, and the server is not asked "
        "again for 30 s. Check that redis-server runs there and is reachable (TRITON_XPU_REDIS_URL, or "
        "TRITON_REDIS_HOST and TRITON_REDIS_PORT)."]
    assert "Traceback" not in stranded.stderr


def test_a_server_that_never_answers_costs_one_timeout_and_one_warning(fake_server, node):
    silent = fake_server(reply=None)
    stranded = node(fleet_env(silent.url, TRITON_XPU_CACHE_TIMEOUT="0.5"), timeout=120)
    assert stranded.returncode == 0 and stranded.compiled() == [True, True]
    assert silent.accepted == 1  # one timeout; then the server was left alone
    assert stranded.warnings(FLEET_WARNING) == [
        f"fleet cache: the Redis server {silent.url} cannot be used (read: TimeoutError: Timeout reading from "
        f"127.0.0.1:{silent.port}); kernels are compiled locally, and the server is not asked again for 30 s. The "
        "server did not answer within TRITON_XPU_CACHE_TIMEOUT=0.5 s: check that the address is a running Redis "
        "that is not overloaded, or raise the timeout."]


def test_a_store_that_refuses_writes_warns_once_and_kernels_run(redis_server, node):
    server = redis_server(["user default on nopass ~* &* +@all",
                           "user reader on >reader-password ~triton:* +@read +@connection"])
    reader = node(fleet_env(f"redis://reader:reader-password@127.0.0.1:{server.port}/0"))
    assert reader.returncode == 0 and reader.compiled() == [True, True]
    assert all(k["module"] for k in reader.out["kernels"])
    (warned, ) = reader.warnings(FLEET_WARNING)
    assert warned.startswith(f"fleet cache: the Redis server redis://reader@127.0.0.1:{server.port}/0 refused to "
                             "store ") and "(NoPermissionError: " in warned  # the file: whichever was written first
    assert "no permissions to run the 'set' command" in warned and "); kernels still compile and run, " in warned
    assert server.client().keys("*") == []


def test_redis_passwords_pass_through_and_a_wrong_one_costs_a_local_compile(redis_server, node):
    server = redis_server(["requirepass fleet-password"])
    writer = node(fleet_env(f"redis://:fleet-password@127.0.0.1:{server.port}/0"))
    assert writer.compiled() == [True, True] and writer.warnings(FLEET_WARNING) == []
    wrong = node(fleet_env(f"redis://:not-the-password@127.0.0.1:{server.port}/0"))
    assert wrong.returncode == 0 and wrong.compiled() == [True, True]
    (warned, ) = wrong.warnings(FLEET_WARNING)
    assert warned.startswith(f"fleet cache: the Redis server redis://127.0.0.1:{server.port}/0 cannot be used "
                             "(read: AuthenticationError: ") and "not-the-password" not in warned
    right = node(fleet_env(f"redis://:fleet-password@127.0.0.1:{server.port}/0"), no_compiler=True)
    assert right.compiled() == [False, False]


def test_a_planted_entry_is_refused_compiled_locally_and_overwritten(redis_server, node, tmp_path):
    import json
    from triton.runtime.cache import _base32
    server = redis_server()
    store = fleet_env(server.url)
    first = node(store)  # node-1
    mine, theirs = (k["hash"] for k in first.out["kernels"])  # BLOCK 1024 and 512: one kernel name, two compiles
    client = server.client()
    for name in ("add_kernel.json", "add_kernel.zebin"):  # a whole, valid entry of the other compile: digests match
        client.set(f"triton:{_base32(mine)}:{name}", client.get(f"triton:{_base32(theirs)}:{name}"))
    second = node(store)  # node-2
    assert second.returncode == 0 and second.compiled() == [True, False]
    assert all(k["module"] for k in second.out["kernels"]) and second.warnings(FLEET_WARNING) == []
    assert second.warnings("DamagedCacheEntry") == [
        f"damaged cache entry of kernel add_kernel in {tmp_path / 'node-2' / 'triton-cache' / _base32(mine)}: "
        f"add_kernel.json is the entry of another compile (its hash {theirs[:16]}... is not this key's "
        f"{mine[:16]}...): an entry copied or planted under this key; compiling it again"]
    assert json.loads(client.get(f"triton:{_base32(mine)}:add_kernel.json"))["hash"] == mine  # overwritten
    third = node(store, no_compiler=True)
    assert third.compiled() == [False, False] and third.warnings("DamagedCacheEntry") == []


SECRET, OTHER = "fleet-secret-0123456789abcdef", "not-the-fleets-secret-000000"


def test_with_a_secret_only_the_keys_holders_entries_are_used(redis_server, node, tmp_path):
    server = redis_server()
    key_file = tmp_path / "fleet.key"
    key_file.write_text(SECRET + "\n")
    signed = fleet_env(server.url, TRITON_XPU_CACHE_SECRET_FILE=str(key_file))
    # A client without the key writes the store (it can reach it): readers with the key refuse what it wrote,
    # compile locally, and their writes replace it.
    intruder = node(fleet_env(server.url))
    assert intruder.compiled() == [True, True]
    reader = node(signed)
    assert reader.compiled() == [True, True]
    (warned, ) = reader.warnings(FLEET_WARNING)
    assert warned.startswith(f"fleet cache: refused the entry triton:") and \
        f" from {server.url}: it is not signed; the kernel is compiled locally and its entry overwritten." in warned
    # Now signed with the fleet's key: a node holding it loads everything without a compiler.
    fleet_node = node(signed, no_compiler=True)
    assert fleet_node.compiled() == [False, False] and fleet_node.warnings(FLEET_WARNING) == []
    # A node with another key refuses the fleet's entries.
    stranger = node(fleet_env(server.url, TRITON_XPU_CACHE_SECRET=OTHER))
    assert stranger.compiled() == [True, True]
    (warned, ) = stranger.warnings(FLEET_WARNING)
    assert ": its signature does not match (signed with another secret, changed since, or copied from another key)" \
        in warned

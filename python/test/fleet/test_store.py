"""RedisStore, Triton's remote cache backend of the fleet cache, against a real redis-server and servers that
misbehave: what it stores under which key, and that a store which cannot serve costs a miss, a skipped write and
one warning per process -- never an exception, never a hang.  In this process, no device: the store alone."""

import os
import time
import warnings

import pytest

from triton.backends.intel.fleet import signing, store
from triton.backends.intel.fleet.store import FleetCacheWarning, RedisStore

KEY = "4CQDLDNUW464HO4CPYVQPRLGZMANPYN7FAMYCPIUSSTFPJDYZ3UA"  # a cache key as Triton makes them (base32)
FILES = {"add_kernel.json": b'{"name": "add_kernel"}', "add_kernel.zebin": b"\x7fELF..."}


@pytest.fixture
def fleet(monkeypatch, tmp_path):
    """Point the store at ``url`` with extra knobs; forget the process's clients, pauses and warnings first."""
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path / "triton-cache"))
    for name in list(os.environ):
        if name.startswith(("TRITON_XPU_CACHE_", "TRITON_REDIS_", "TRITON_XPU_REDIS_")):
            monkeypatch.delenv(name)

    def point(url: str, **knobs: str) -> RedisStore:
        monkeypatch.setenv("TRITON_XPU_REDIS_URL", url)
        for name, value in knobs.items():
            monkeypatch.setenv(name, value)
        return RedisStore(KEY)

    store.forget()
    yield point
    store.forget()


def calls(*steps):
    """Run ``steps`` (callables); (their results, the fleet cache's warning messages, seconds taken)."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [step() for step in steps]
    seconds = time.perf_counter() - start
    return results, [str(w.message) for w in caught if issubclass(w.category, FleetCacheWarning)], seconds


def put_all(s: RedisStore, files=FILES):
    for name, data in files.items():
        s.put(name, data)


# --- a working store ---------------------------------------------------------------------------------------


def test_files_are_stored_under_tritons_key_format_and_read_back(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url)
    (_, got), warned, _ = calls(lambda: put_all(s), lambda: s.get(list(FILES)))
    assert got == FILES and warned == []
    assert server.client().get(f"triton:{KEY}:add_kernel.zebin") == FILES["add_kernel.zebin"]  # raw: no secret


def test_tritons_own_host_port_and_key_format_are_honoured(fleet, redis_server, monkeypatch):
    server = redis_server()
    monkeypatch.setenv("TRITON_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("TRITON_REDIS_PORT", str(server.port))
    monkeypatch.setenv("TRITON_REDIS_KEY_FORMAT", "fleet/{key}/{filename}")
    monkeypatch.delenv("TRITON_XPU_REDIS_URL", raising=False)
    s = RedisStore(KEY)
    put_all(s)
    assert s.get(list(FILES)) == FILES
    assert server.client().get(f"fleet/{KEY}/add_kernel.json") == FILES["add_kernel.json"]


def test_an_entry_is_all_its_files_or_a_miss(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url)
    put_all(s)
    server.client().delete(f"triton:{KEY}:add_kernel.zebin")  # evicted, expired, or not yet written
    (got, ), warned, _ = calls(lambda: s.get(list(FILES)))
    assert got == {} and warned == []  # a plain miss: nothing is wrong with the store


def test_entries_expire_after_the_ttl(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url, TRITON_XPU_CACHE_TTL="100")
    put_all(s)
    assert 90 < server.client().ttl(f"triton:{KEY}:add_kernel.zebin") <= 100
    s = fleet(server.url, TRITON_XPU_CACHE_TTL="")
    put_all(s)
    assert server.client().ttl(f"triton:{KEY}:add_kernel.zebin") == -1  # no expiry: Redis's maxmemory decides


def test_a_reading_node_does_not_write(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url, TRITON_XPU_CACHE_WRITE="0")
    _, warned, _ = calls(lambda: put_all(s))
    assert warned == [] and server.client().keys("*") == []


def test_files_read_from_the_store_are_reported_to_the_cache_check(fleet, redis_server):
    from triton.backends.intel import cache_entry
    server = redis_server()
    s = fleet(server.url)
    put_all(s)
    folder = os.path.join(os.environ["TRITON_CACHE_DIR"], KEY)
    path = os.path.abspath(os.path.join(folder, "add_kernel.zebin"))
    cache_entry.made_here(path)
    s.get(list(FILES))
    assert path in cache_entry._from_store
    s.put("add_kernel.zebin", FILES["add_kernel.zebin"])  # this process's own compile replaces it
    assert path not in cache_entry._from_store


# --- a store that cannot serve: a miss, a skipped write, one warning ---------------------------------------

UNAVAILABLE = ("fleet cache: the Redis server {server} cannot be used ({what}); kernels are compiled locally, and "
               "the server is not asked again for 30 s. ")


def test_a_stopped_server_is_a_miss_with_one_warning(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url)
    server.stop()
    results, warned, seconds = calls(lambda: s.get(list(FILES)), lambda: put_all(s), lambda: s.get(list(FILES)))
    assert results == [{}, None, {}] and seconds < 1
    assert warned == [UNAVAILABLE.format(server=server.url, what=f"read: ConnectionError: Error 111 connecting to "
                                         f"127.0.0.1:{server.port}. Connection refused.") +
                      "Check that redis-server runs there and is reachable (TRITON_XPU_REDIS_URL, or "
                      "TRITON_REDIS_HOST and TRITON_REDIS_PORT)."]


def test_a_server_that_never_answers_costs_one_timeout(fleet, fake_server):
    silent = fake_server(reply=None)
    s = fleet(silent.url, TRITON_XPU_CACHE_TIMEOUT="0.3")
    results, warned, seconds = calls(lambda: s.get(list(FILES)), lambda: put_all(s),
                                     *[lambda: RedisStore(KEY).get(list(FILES))] * 5)
    assert results == [{}, None] + [{}] * 5
    assert 0.3 <= seconds < 1.5, seconds
    assert silent.accepted == 1  # paused after the first timeout: not asked again
    assert warned == [UNAVAILABLE.format(server=silent.url, what=f"read: TimeoutError: Timeout reading from "
                                         f"127.0.0.1:{silent.port}") +
                      "The server did not answer within TRITON_XPU_CACHE_TIMEOUT=0.3 s: check that the address is a "
                      "running Redis that is not overloaded, or raise the timeout."]


def test_without_the_pause_a_silent_server_costs_a_timeout_per_call(fleet, fake_server):
    # The test above can fail: with no pause, every call waits for the server again.
    silent = fake_server(reply=None)
    s = fleet(silent.url, TRITON_XPU_CACHE_TIMEOUT="0.2", TRITON_XPU_CACHE_RETRY_AFTER="0")
    _, warned, seconds = calls(*[lambda: s.get(list(FILES))] * 4)
    assert seconds >= 0.8 and silent.accepted >= 1 and len(warned) == 1


def test_after_the_pause_the_server_is_asked_again(fleet, redis_server):
    server = redis_server()
    port = server.port
    s = fleet(server.url, TRITON_XPU_CACHE_RETRY_AFTER="0.5")
    server.stop()
    (got, ), warned, _ = calls(lambda: s.get(list(FILES)))
    assert got == {} and len(warned) == 1
    again = redis_server(port=port)  # the same address back
    put_all(s)
    assert again.client().keys("*") == []  # still paused: the write was skipped
    time.sleep(0.6)
    put_all(s)
    assert s.get(list(FILES)) == FILES


GARBLED = ("Its reply is not Redis's protocol: check that TRITON_XPU_REDIS_URL (or "
           "TRITON_REDIS_HOST/TRITON_REDIS_PORT) names a Redis server.")


# Not Redis at all (a web server), and valid RESP that is no answer to what was asked (the client trips over it:
# which of its exceptions it raises is the client's business, so only the start is checked).
@pytest.mark.parametrize("reply, what", [
    (b"HTTP/1.0 400 Bad Request\r\n\r\n", "read: InvalidResponse: Protocol Error: b'HTTP/1.0 400 Bad Request'"),
    (b"+OK\r\n", "read: "),
])
def test_a_reply_that_is_not_redis_is_a_miss_with_one_warning(fleet, fake_server, reply, what):
    liar = fake_server(reply=reply)
    s = fleet(liar.url)
    results, warned, _ = calls(lambda: s.get(list(FILES)), lambda: put_all(s))
    assert results == [{}, None] and len(warned) == 1
    assert warned[0].startswith(UNAVAILABLE.format(server=liar.url, what=what).split("; kernels")[0][:-1]), warned
    assert warned[0].endswith(GARBLED), warned


def test_a_full_store_skips_writes_with_one_warning_and_is_still_read(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url)
    put_all(s)
    admin = server.client()
    admin.set("ballast", b"x" * (2 << 20))
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", str(1 << 20))  # below what it holds: every write is refused
    results, warned, _ = calls(lambda: s.put("other.json", b"{}"), lambda: s.put("more.json", b"{}"),
                               lambda: s.get(list(FILES)))
    assert results == [None, None, FILES]
    assert warned == [f"fleet cache: the Redis server {server.url} refused to store other.json (OutOfMemoryError: "
                      "command not allowed when used memory > 'maxmemory'.); kernels still compile and run, but what "
                      "this process compiles is not shared, and it does not write again for 30 s. The store is full: "
                      "give it more memory (maxmemory) or let it evict old entries (maxmemory-policy allkeys-lru)."]


def test_a_user_without_write_permission_reads_and_warns_once(fleet, redis_server):
    server = redis_server(["user default on nopass ~* &* +@all",
                           "user reader on >reader-password ~triton:* +@read +@connection"])
    put_all(fleet(server.url))
    url = f"redis://reader:reader-password@127.0.0.1:{server.port}/0"
    s = fleet(url)
    results, warned, _ = calls(lambda: s.get(list(FILES)), lambda: put_all(s))
    assert results == [FILES, None]
    # The server's own words differ between Redis 7.0 ("this user has no permissions ...") and 8.0 ("User reader ...").
    (message, ) = warned
    prefix = (f"fleet cache: the Redis server redis://reader@127.0.0.1:{server.port}/0 refused to store "
              "add_kernel.json (NoPermissionError: ")
    suffix = ("); kernels still compile and run, but what this process compiles is not shared, and it does not write "
              "again for 30 s. This node's Redis user may not write: that is right for a read-only node; otherwise "
              "grant it write access (+set ~triton:*) in its ACL.")
    assert message.startswith(prefix) and message.endswith(suffix), message
    assert "no permissions to run the 'set' command" in message[len(prefix):-len(suffix)]


def test_a_password_in_the_url_is_used_and_never_shown(fleet, redis_server):
    server = redis_server(["requirepass fleet-password"])
    good = fleet(f"redis://:fleet-password@127.0.0.1:{server.port}/0")
    put_all(good)
    assert good.get(list(FILES)) == FILES
    store.forget()
    bad = fleet(f"redis://:wrong-password@127.0.0.1:{server.port}/0")
    results, warned, _ = calls(lambda: bad.get(list(FILES)), lambda: put_all(bad))
    assert results == [{}, None] and len(warned) == 1
    assert warned[0].startswith(f"fleet cache: the Redis server redis://127.0.0.1:{server.port}/0 cannot be used "
                                "(read: AuthenticationError: ")
    assert warned[0].endswith("Check the user and password in TRITON_XPU_REDIS_URL "
                              "(redis://user:password@host:port/db).")
    assert "wrong-password" not in warned[0]


# --- what the store sends must be what Triton wrote --------------------------------------------------------

REFUSED = "fleet cache: refused the entry {key} from {server}: {why}; the kernel is compiled locally and its entry " \
          "overwritten. "


@pytest.mark.parametrize("group, why", [
    (b'{"child_paths": ["add_kernel.json", "../../escape.json"]}',
     "its group file lists '../../escape.json', which is not a plain file name"),
    (b'{"child_paths": ["/tmp/escape.json"]}',
     "its group file lists '/tmp/escape.json', which is not a plain file name"),
    (b'{"child_paths": []}', "its group file lists no files"),
    (b'{"child_paths": {"a": 1}}', "its group file lists no files"),
    (b'{"child_pa', "its group file is not Triton's JSON (JSONDecodeError: Unterminated string starting at: line 1 "
                    "column 2 (char 1))"),
])
def test_a_group_file_that_triton_did_not_write_is_refused(fleet, redis_server, group, why):
    server = redis_server()
    s = fleet(server.url)
    key = f"triton:{KEY}:__grp__add_kernel.json"
    server.client().set(key, group)
    (got, ), warned, _ = calls(lambda: s.get(["__grp__add_kernel.json"]))
    assert got == {}
    assert warned == [REFUSED.format(key=key, server=server.url, why=why) +
                      "Only Triton should write keys in this store; set a shared secret (TRITON_XPU_CACHE_SECRET_FILE) "
                      "so that nodes refuse entries not written by the fleet."]


def test_a_name_with_a_folder_is_never_asked_for(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url)
    server.client().set(f"triton:{KEY}:../x", b"data")
    (got, ), warned, _ = calls(lambda: s.get(["add_kernel.json", "../x"]))
    assert got == {} and len(warned) == 1 and "the file name '../x' is not a plain file name" in warned[0]


def test_the_key_of_a_refused_entry_is_named_once_per_process(fleet, redis_server):
    server = redis_server()
    s = fleet(server.url)
    for name in ("a", "b"):
        server.client().set(f"triton:{KEY}:__grp__{name}.json", b"[]")
    _, warned, _ = calls(lambda: s.get(["__grp__a.json"]), lambda: s.get(["__grp__b.json"]))
    assert len(warned) == 1 and f"triton:{KEY}:__grp__a.json" in warned[0]


# --- bad knobs stop the compile, naming the knob ----------------------------------------------------------


@pytest.mark.parametrize("knob, value, message", [
    ("TRITON_XPU_CACHE_TIMEOUT", "0", r"^TRITON_XPU_CACHE_TIMEOUT='0' is not a positive number of seconds$"),
    ("TRITON_XPU_CACHE_RETRY_AFTER", "soon", r"^TRITON_XPU_CACHE_RETRY_AFTER='soon' is not a number of seconds"),
    ("TRITON_XPU_CACHE_TTL", "1.5", r"^TRITON_XPU_CACHE_TTL='1.5' is not a whole number of seconds \(0: no expiry\)$"),
    ("TRITON_XPU_CACHE_WRITE", "maybe", r"^TRITON_XPU_CACHE_WRITE='maybe' is not 1 or 0 \(whether this node writes"),
    ("TRITON_REDIS_PORT", "70000", r"^TRITON_REDIS_PORT='70000' is not a TCP port \(1-65535\)$"),
    ("TRITON_REDIS_KEY_FORMAT", "triton:{key}", r"^TRITON_REDIS_KEY_FORMAT='triton:\{key\}' is not a key format with "
     r"\{key\} and \{filename\} and no other field \(Triton's default: triton:\{key\}:\{filename\}\)$"),
    ("TRITON_XPU_REDIS_URL", "127.0.0.1:6379", r"^TRITON_XPU_REDIS_URL='127.0.0.1:6379' is not a Redis URL: "),
])
def test_a_bad_knob_names_itself(fleet, knob, value, message):
    with pytest.raises(ValueError, match=message):
        fleet("redis://127.0.0.1:1/0", **{knob: value})


def test_the_secret_file_is_read_and_a_bad_one_named(fleet, tmp_path):
    secret = tmp_path / "fleet.key"
    secret.write_text("0123456789abcdef0123456789abcdef\n")
    s = fleet("redis://127.0.0.1:1/0", TRITON_XPU_CACHE_SECRET_FILE=str(secret))
    assert s._config.secret == b"0123456789abcdef0123456789abcdef"
    with pytest.raises(ValueError, match=r"^TRITON_XPU_CACHE_SECRET_FILE='.*missing.key' cannot be read \(No such "
                       r"file or directory\): point it at the fleet's secret file, readable by this user$"):
        fleet("redis://127.0.0.1:1/0", TRITON_XPU_CACHE_SECRET_FILE=str(tmp_path / "missing.key"))
    secret.write_text("short\n")
    with pytest.raises(ValueError, match=r"holds a secret of 5 bytes; use at least 16 random bytes, e\.g\. "
                       r"`openssl rand -hex 32`$"):
        fleet("redis://127.0.0.1:1/0", TRITON_XPU_CACHE_SECRET_FILE=str(secret))
    with pytest.raises(ValueError, match=r"^both TRITON_XPU_CACHE_SECRET_FILE and TRITON_XPU_CACHE_SECRET are set"):
        fleet("redis://127.0.0.1:1/0", TRITON_XPU_CACHE_SECRET_FILE=str(secret), TRITON_XPU_CACHE_SECRET="x" * 20)


# --- signed entries ---------------------------------------------------------------------------------------

SECRET, OTHER = "fleet-secret-0123456789", "another-secret-987654321"


def test_a_signed_entry_is_an_envelope_over_its_key(fleet, redis_server):
    server = redis_server()
    put_all(fleet(server.url, TRITON_XPU_CACHE_SECRET=SECRET))
    stored = server.client().get(f"triton:{KEY}:add_kernel.zebin")
    assert stored[:5] == b"TXFC\x01" and stored[signing.HEADER_BYTES:] == FILES["add_kernel.zebin"]
    assert signing.unseal(SECRET.encode(), f"triton:{KEY}:add_kernel.zebin", stored) == FILES["add_kernel.zebin"]
    assert fleet(server.url, TRITON_XPU_CACHE_SECRET=SECRET).get(list(FILES)) == FILES


SIGNED_REFUSAL = ("Every node that writes the store must use this node's secret (key id {id}); an entry signed "
                  "otherwise means someone without it can write the store: let only the fleet's writers write (a "
                  "Redis ACL user).")


@pytest.mark.parametrize("writer, why", [
    ({}, "it is not signed"),
    ({"TRITON_XPU_CACHE_SECRET": OTHER}, "its signature does not match (signed with another secret, changed since, or "
                                         "copied from another key)"),
])
def test_a_reader_with_the_secret_refuses_what_others_wrote(fleet, redis_server, writer, why):
    server = redis_server()
    put_all(fleet(server.url, **writer))
    store.forget()
    reader = fleet(server.url, TRITON_XPU_CACHE_SECRET=SECRET)
    (got, ), warned, _ = calls(lambda: reader.get(list(FILES)))
    key_id = signing.fingerprint(SECRET.encode())
    assert got == {} and warned == [REFUSED.format(key=f"triton:{KEY}:add_kernel.json", server=server.url, why=why) +
                                    SIGNED_REFUSAL.format(id=key_id)]
    put_all(reader)  # what the reader then compiles replaces the entry: readable by every holder of the secret
    assert fleet(server.url, TRITON_XPU_CACHE_SECRET=SECRET).get(list(FILES)) == FILES


def test_a_signed_entry_copied_under_another_key_is_refused(fleet, redis_server):
    server = redis_server()
    put_all(fleet(server.url, TRITON_XPU_CACHE_SECRET=SECRET))
    admin = server.client()
    other = "B3T2KYXHDMOB4F4RHI4O7Q2O32FJHY246AU3JOPSJ2GCKAFGQR6A"
    for name in FILES:
        admin.set(f"triton:{other}:{name}", admin.get(f"triton:{KEY}:{name}"))
    original = fleet(server.url, TRITON_XPU_CACHE_SECRET=SECRET)
    (got, ), warned, _ = calls(lambda: RedisStore(other).get(list(FILES)))
    assert got == {} and len(warned) == 1 and "its signature does not match" in warned[0]
    assert original.get(list(FILES)) == FILES


def test_a_node_without_the_secret_reads_signed_entries_unchecked(fleet, redis_server):
    server = redis_server()
    put_all(fleet(server.url, TRITON_XPU_CACHE_SECRET=SECRET))
    (got, ), warned, _ = calls(lambda: fleet(server.url).get(list(FILES)))
    assert got == FILES and warned == []


@pytest.mark.parametrize("blob, why", [
    (b"TXFC\x01short", "its envelope is truncated (10 bytes)"),
    (b"TXFC\x02" + bytes(32) + b"data", "its envelope is version 2, not 1 (written by another triton-xpu release)"),
])
def test_a_damaged_envelope_is_refused(blob, why):
    with pytest.raises(signing.RefusedEntry, match=f"^{why.replace('(', '[(]').replace(')', '[)]')}$"):
        signing.unseal(SECRET.encode(), "k", blob)


def test_the_signature_is_checked_in_constant_time(monkeypatch):
    compared = []
    real = signing.hmac.compare_digest
    monkeypatch.setattr(signing.hmac, "compare_digest", lambda a, b: compared.append(1) or real(a, b))
    sealed = signing.seal(SECRET.encode(), "k", b"data")
    assert signing.unseal(SECRET.encode(), "k", sealed) == b"data" and compared == [1]

"""``RedisStore``: Triton's remote cache backend on a Redis server, which never stops a compile.

Triton's ``RemoteCacheManager`` makes one store per cache key and calls :meth:`RedisStore.get` for the files of an
entry and :meth:`RedisStore.put` for each file a compile writes; it writes what ``get`` returns into the local
Triton cache (``<cache dir>/<key>/<file>``) and reads it from there.

Every call is bounded: TRITON_XPU_CACHE_TIMEOUT seconds for the connect and for each read and write, no retries.
A server that cannot be used -- refused, silent, a wrong password, a reply that is not Redis's -- makes the read a
miss (the kernel is compiled locally) and the write skipped, with ONE warning per process naming the server,
what failed and what to do; then the server is left alone for TRITON_XPU_CACHE_RETRY_AFTER seconds, so a dead
server costs one timeout, not one per file.  A server that answers but refuses writes (``maxmemory`` with
``noeviction``, an ACL user without write permission, a read-only replica) is still read, and not written to
for that while.  Nothing from the server raises out of Triton's cache manager.

What is read is checked before Triton sees it: an entry is all its files or a miss (a partly evicted entry is a
plain miss); with a secret every file is a signed envelope (``signing``); a group file must be the JSON list
of plain file names Triton writes (a name with a path in it would be written outside the cache); and the files
written from the store are reported to the cache check (``cache_entry.from_store``), which gives their zebin the
full binary check instead of CRC trust and refuses an entry whose kernel hash is not its key's.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from typing import Any, Dict, List, Optional, Tuple

from triton.runtime.cache import FileCacheManager, RemoteCacheBackend

from triton.backends.intel import cache_entry, knobs
from triton.backends.intel.fleet import settings as fleet_settings
from triton.backends.intel.fleet import signing

GROUP_PREFIX = "__grp__"  # Triton's name for an entry's index file


class FleetCacheWarning(UserWarning):
    """The fleet cache's store could not be used, or sent an entry that was refused; compiling locally."""


# Per process: one Redis client (connection pool) per server and timeout; when each server may be asked again;
# the kinds of failure already reported.
_clients: Dict[tuple, Any] = {}
_paused_until: Dict[Tuple[str, str], float] = {}  # (server, "read" or "write") -> time.monotonic()
_warned: set = set()
_lock = threading.Lock()


def _client(config: fleet_settings.Settings):
    with _lock:
        client = _clients.get(config.connection)
        if client is None:
            client = _clients[config.connection] = _make_client(config)
        return client


def _make_client(config: fleet_settings.Settings):
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError as e:
        raise ImportError(f"the fleet cache (TRITON_REMOTE_CACHE_BACKEND={__name__}:RedisStore) needs the redis "
                          f"client: pip install 'redis>=5' ({e})") from None
    options = dict(
        socket_timeout=config.timeout,
        socket_connect_timeout=config.timeout,
        # One attempt per call: a server that failed is paused (TRITON_XPU_CACHE_RETRY_AFTER), not retried at once.
        retry=Retry(NoBackoff(), 0),
    )
    if config.url is not None:
        return redis.Redis.from_url(config.url, **options)
    return redis.Redis(host=config.host, port=config.port, **options)


def forget() -> None:
    """Drop this process's clients, pauses and reported failures (tests; a new process starts so)."""
    with _lock:
        for client in _clients.values():
            try:
                client.close()
            except Exception:  # closing a broken client must not fail the caller
                pass
        _clients.clear()
        _paused_until.clear()
        _warned.clear()


class RedisStore(RemoteCacheBackend):
    """Triton's ``RemoteCacheBackend`` on Redis: ``get`` returns what it can vouch for, ``put`` never raises for
    the server's sake.  Configuration errors (a bad knob value, an unreadable secret file) do raise."""

    def __init__(self, key: str):
        super().__init__(key)
        self._key = key
        self._config = fleet_settings.read()
        # Where RemoteCacheManager writes what get() returns: the same FileCacheManager folder.
        self._folder = FileCacheManager(key).cache_dir

    # --- Triton's interface --------------------------------------------------------------------------------

    def get(self, filenames: List[str]) -> Dict[str, bytes]:
        """The data of ``filenames``, all of them or none (a miss)."""
        if not filenames:
            return {}
        bad = [f for f in filenames if not _plain_name(f)]
        if bad:
            self._refuse(self._redis_key(bad[0]), f"the file name {bad[0]!r} is not a plain file name")
            return {}
        if self._paused("read"):
            return {}
        keys = [self._redis_key(f) for f in filenames]
        try:
            replies = _client(self._config).mget(keys)
        except Exception as e:  # the server's failure, whatever the client raised: a miss, never Triton's error
            self._unavailable("read", e)
            return {}
        if not isinstance(replies, list) or len(replies) != len(keys):
            self._unavailable("read", ValueError(f"MGET of {len(keys)} keys answered {type(replies).__name__}"))
            return {}
        found = {}
        for filename, key, blob in zip(filenames, keys, replies):
            if blob is None:
                return {}  # one file missing (evicted, expired, still being written): the entry is not there
            data = self._checked(filename, key, blob)
            if data is None:
                return {}
            found[filename] = data
        for filename in found:
            cache_entry.from_store(os.path.join(self._folder, filename))
        return found

    def put(self, filename: str, data: bytes) -> None:
        """Store ``data``; a server that cannot take it is reported once and skipped."""
        cache_entry.made_here(os.path.join(self._folder, filename))
        if not self._config.write or self._paused("read") or self._paused("write"):
            return
        key = self._redis_key(filename)
        blob = signing.seal(self._config.secret, key, data) if self._config.secret is not None else data
        try:
            _client(self._config).set(key, blob, ex=self._config.ttl)
        except Exception as e:  # sorted out below; never Triton's error
            if _refused_write(e):
                self._write_refused(filename, e)
            else:
                self._unavailable("write", e)

    # --- checks ----------------------------------------------------------------------------------------------

    def _checked(self, filename: str, key: str, blob: Any) -> Optional[bytes]:
        """The data of one stored file if it may be handed to Triton; else None after the warning."""
        if not isinstance(blob, bytes):
            self._refuse(key, f"the server answered a {type(blob).__name__}, not the entry's bytes")
            return None
        try:
            data = signing.unseal(self._config.secret, key, blob)
        except signing.RefusedEntry as e:
            self._refuse(key, str(e))
            return None
        if filename.startswith(GROUP_PREFIX):
            problem = _group_problem(data)
            if problem is not None:
                self._refuse(key, problem)
                return None
        return data

    def _redis_key(self, filename: str) -> str:
        return self._config.redis_key(self._key, filename)

    # --- failures: one warning per kind and process, and a pause ---------------------------------------------

    def _paused(self, what: str) -> bool:
        until = _paused_until.get((self._config.server, what))
        return until is not None and time.monotonic() < until

    def _pause(self, what: str) -> None:
        _paused_until[(self._config.server, what)] = time.monotonic() + self._config.retry_after

    def _unavailable(self, doing: str, error: BaseException) -> None:
        self._pause("read")  # reads and writes alike: the server itself failed
        server, timeout = self._config.server, self._config.timeout
        _warn_once("unavailable", f"fleet cache: the Redis server {server} cannot be used ({doing}: "
                   f"{_describe(error)}); kernels are compiled locally, and the server is not asked again for "
                   f"{self._config.retry_after:g} s. {_advice(error, timeout)}")

    def _write_refused(self, filename: str, error: BaseException) -> None:
        self._pause("write")
        _warn_once("write", f"fleet cache: the Redis server {self._config.server} refused to store {filename} "
                   f"({_describe(error)}); kernels still compile and run, but what this process compiles is not "
                   f"shared, and it does not write again for {self._config.retry_after:g} s. "
                   f"{_write_advice(error)}")

    def _refuse(self, key: str, why: str) -> None:
        if self._config.secret is not None:
            who = (f"every node that writes the store must use this node's secret (key id "
                   f"{signing.fingerprint(self._config.secret)}); an entry signed otherwise means someone without "
                   f"it can write the store: let only the fleet's writers write (a Redis ACL user)")
        else:
            who = (f"only Triton should write keys in this store; set a shared secret "
                   f"({knobs.CACHE_SECRET_FILE}) so that nodes refuse entries not written by the fleet")
        _warn_once("entry", f"fleet cache: refused the entry {key} from {self._config.server}: {why}; the kernel "
                   f"is compiled locally and its entry overwritten. {who[0].upper()}{who[1:]}.")


def _warn_once(kind: str, message: str) -> None:
    with _lock:
        if kind in _warned:
            return
        _warned.add(kind)
    # stacklevel: the caller of Triton's cache manager (compile()), not this module.
    warnings.warn(message, FleetCacheWarning, stacklevel=5)


def _plain_name(filename: str) -> bool:
    """A file name Triton writes: no folder, so what the store sends is written inside the cache folder."""
    return (isinstance(filename, str) and bool(filename) and filename not in (".", "..") and "/" not in filename
            and "\\" not in filename and "\0" not in filename)


def _group_problem(data: bytes) -> Optional[str]:
    """What is wrong with a group file from the store (RemoteCacheManager writes {"child_paths": [names]})."""
    try:
        children = json.loads(data)["child_paths"]
    except (ValueError, LookupError, TypeError) as e:
        return f"its group file is not Triton's JSON ({type(e).__name__}: {str(e)[:80]})"
    if not isinstance(children, list) or not children:
        return "its group file lists no files"
    bad = [c for c in children if not _plain_name(c)]
    if bad:
        return f"its group file lists {str(bad[0])[:80]!r}, which is not a plain file name"
    return None


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if len(text) > 160:
        text = text[:160] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _refused_write(error: BaseException) -> bool:
    """A server that answered, refusing this write (OOM, NOPERM, READONLY...), as opposed to one that failed."""
    try:
        from redis.exceptions import ResponseError
    except ImportError:
        return False
    return isinstance(error, ResponseError)


def _from_redis_or_os(error: BaseException) -> bool:
    """An error the client raises for a server it could talk to or reach, as opposed to one it tripped over while
    decoding a reply it did not expect (an AttributeError deep in the client, say)."""
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return isinstance(error, OSError)
    return isinstance(error, (RedisError, OSError))


def _advice(error: BaseException, timeout: float) -> str:
    name = type(error).__name__
    text = str(error)
    if "Authentication" in name or "WRONGPASS" in text or "NOAUTH" in text or "invalid password" in text:
        return (f"Check the user and password in {knobs.REDIS_URL} "
                f"(redis://user:password@host:port/db).")
    if "NOPERM" in text or name == "NoPermissionError":
        return "The Redis user may not read these keys: grant it read access to them (+@read ~triton:*) in its ACL."
    if "Timeout" in name or "timed out" in text.lower():
        return (f"The server did not answer within {knobs.CACHE_TIMEOUT}={timeout:g} s: check that the address is a "
                f"running Redis that is not overloaded, or raise the timeout.")
    if name == "InvalidResponse" or not _from_redis_or_os(error):
        return (f"Its reply is not Redis's protocol: check that {knobs.REDIS_URL} (or {knobs.REDIS_HOST}/"
                f"{knobs.REDIS_PORT}) names a Redis server.")
    return (f"Check that redis-server runs there and is reachable ({knobs.REDIS_URL}, or {knobs.REDIS_HOST} and "
            f"{knobs.REDIS_PORT}).")


def _write_advice(error: BaseException) -> str:
    text = str(error)
    if text.startswith("OOM") or type(error).__name__ == "OutOfMemoryError":
        return ("The store is full: give it more memory (maxmemory) or let it evict old entries "
                "(maxmemory-policy allkeys-lru).")
    if "NOPERM" in text or type(error).__name__ == "NoPermissionError":
        return ("This node's Redis user may not write: that is right for a read-only node; otherwise grant it "
                "write access (+set ~triton:*) in its ACL.")
    if "READONLY" in text or type(error).__name__ == "ReadOnlyError":
        return "The server is a read-only replica: point writers at the primary."
    return "See the server's reply above."

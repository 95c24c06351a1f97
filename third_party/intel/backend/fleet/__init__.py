"""The fleet cache: Triton's remote cache on a Redis server, so that a fleet compiles each kernel once.

Selected with Triton's own variables (docs/fleet.md)::

    TRITON_CACHE_MANAGER=triton.runtime.cache:RemoteCacheManager
    TRITON_REMOTE_CACHE_BACKEND=triton.backends.intel.fleet.store:RedisStore

* :mod:`.store` -- ``RedisStore``, the backend Triton's ``RemoteCacheManager`` calls: short timeouts, one warning per
  process for a store that cannot serve, and a pause before asking a failed server again;
* :mod:`.signing` -- with a shared secret, each entry stored in an envelope signed over its key (HMAC-SHA256), and
  checked on every read;
* :mod:`.settings` -- the connection and the knobs, read once per process.

What an entry from the store must pass before it is used (its kernel's hash, the full binary check) is the cache
check's (``cache_entry``), which this package tells which files came from the store.
"""

"""Where the fleet's store is and how long to wait for it: the knobs, read each time a store is made.

The server is TRITON_XPU_REDIS_URL (``redis://[user:password@]host:port/db``, ``rediss://`` for TLS, as the
``redis`` client reads it) when set, else Triton's own TRITON_REDIS_HOST / TRITON_REDIS_PORT (localhost:6379), so a
setup made for Triton's RedisRemoteCacheBackend keeps working.  Keys are TRITON_REDIS_KEY_FORMAT, Triton's
``triton:{key}:{filename}`` by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from triton.backends.intel import knobs
from triton.backends.intel.fleet import signing

DEFAULT_TIMEOUT_S = 0.5
DEFAULT_RETRY_AFTER_S = 30.0
DEFAULT_KEY_FORMAT = "triton:{key}:{filename}"  # Triton's RedisRemoteCacheBackend's
URL_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True)
class Settings:
    url: Optional[str]  # TRITON_XPU_REDIS_URL, credentials included
    host: str
    port: int
    key_format: str
    timeout: float  # seconds for one connect, one read, one write
    retry_after: float  # seconds a failed server is left alone
    ttl: Optional[int]  # seconds an entry lives after its write; None: until Redis evicts it
    write: bool  # False: a reading node (its Redis user may not write); what it compiles stays local
    secret: Optional[bytes] = field(repr=False)

    @property
    def server(self) -> str:
        """The server as messages name it: its URL without the password."""
        if self.url is None:
            return f"redis://{self.host}:{self.port}"
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        user = f"{parts.username}@" if parts.username else ""
        host = parts.hostname or ""
        netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    @property
    def connection(self) -> tuple:
        """What makes two stores share one client (a connection pool)."""
        return (self.url, self.host, self.port, self.timeout)

    def redis_key(self, key: str, filename: str) -> str:
        return self.key_format.format(key=key, filename=filename)


def read() -> Settings:
    """The settings from the environment; ValueError naming the variable for a value that cannot be used."""
    url = knobs.raw(knobs.REDIS_URL) or None
    if url is not None and urlsplit(url).scheme not in URL_SCHEMES:
        raise ValueError(f"{knobs.REDIS_URL}={url!r} is not a Redis URL: redis://[user:password@]host:port/db, "
                         f"rediss:// (TLS) or unix:///path/to/socket")
    key_format = knobs.raw(knobs.REDIS_KEY_FORMAT) or DEFAULT_KEY_FORMAT
    try:
        key_format.format(key="k", filename="f")
    except (KeyError, IndexError, ValueError):
        key_format = ""
    if "{key}" not in key_format or "{filename}" not in key_format:
        raise ValueError(f"{knobs.REDIS_KEY_FORMAT}={knobs.raw(knobs.REDIS_KEY_FORMAT)!r} is not a key format with "
                         f"{{key}} and {{filename}} and no other field (Triton's default: {DEFAULT_KEY_FORMAT})")
    return Settings(
        url=url,
        host=knobs.raw(knobs.REDIS_HOST) or "localhost",
        port=knobs.number(knobs.REDIS_PORT, 6379, "a TCP port (1-65535)", int, lambda p: 0 < p < 65536),
        key_format=key_format,
        timeout=knobs.number(knobs.CACHE_TIMEOUT, DEFAULT_TIMEOUT_S, "a positive number of seconds",
                             valid=lambda s: s > 0),
        retry_after=knobs.number(knobs.CACHE_RETRY_AFTER, DEFAULT_RETRY_AFTER_S, "a number of seconds (0 or more)",
                                 valid=lambda s: s >= 0),
        ttl=knobs.number(knobs.CACHE_TTL, 0, "a whole number of seconds (0: no expiry)", int,
                         lambda s: s >= 0) or None,
        write=knobs.flag(knobs.CACHE_WRITE, True, "whether this node writes what it compiles to the store"),
        secret=signing.read_secret(),
    )

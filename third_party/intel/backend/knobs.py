"""The backend's environment knobs: every name declared here, every value read one way.

Each reader returns the default for an unset or empty variable and raises ``ValueError`` naming the variable,
the value and what it should be, so a typo stops the compile instead of being ignored.  Options that a
knob defaults (``XPUOptions``) read it when they are parsed; the rest are read where they are used.
"""

from __future__ import annotations

import os
from typing import Callable, Optional, Sequence, TypeVar

# Compile options' defaults (XPUOptions).
GRF_SPILL_THRESHOLD = "TRITON_XPU_GRF_SPILL_THRESHOLD"
GRF_MIN_GAIN = "TRITON_XPU_GRF_MIN_GAIN"
NATIVE_COMPILER = "TRITON_XPU_NATIVE_COMPILER"
KEEP_IR = "TRITON_XPU_KEEP_IR"
# The zebin stage.
GRF_PARALLEL = "TRITON_XPU_GRF_PARALLEL"
OCLOC_MODE = "TRITON_XPU_OCLOC_MODE"
OCLOC_TIMEOUT = "TRITON_XPU_OCLOC_TIMEOUT"
OCLOC_IDLE_TIMEOUT = "TRITON_XPU_OCLOC_IDLE_TIMEOUT"
LIBOCLOC_PATH = "TRITON_LIBOCLOC_PATH"  # Triton's own spelling, as upstream names it
# The JIT: the JSON-lines file each kernel it compiles is recorded in, for `triton-xpu fill` (aot/record.py).
RECORD_KERNELS = "TRITON_XPU_RECORD_KERNELS"
# The driver.
EMULATE = "TRITON_XPU_EMULATE"
# The triton-xpu command: a Python traceback instead of the one-line error.
CLI_TRACEBACK = "TRITON_XPU_CLI_TRACEBACK"
# The fleet cache (fleet/): Triton's remote cache on Redis.  Triton's own variables name the server unless a URL
# does (with user, password, database, TLS).
REDIS_URL = "TRITON_XPU_REDIS_URL"
REDIS_HOST = "TRITON_REDIS_HOST"  # Triton's own spelling, read by its RedisRemoteCacheBackend too
REDIS_PORT = "TRITON_REDIS_PORT"
REDIS_KEY_FORMAT = "TRITON_REDIS_KEY_FORMAT"
CACHE_TIMEOUT = "TRITON_XPU_CACHE_TIMEOUT"
CACHE_RETRY_AFTER = "TRITON_XPU_CACHE_RETRY_AFTER"
CACHE_TTL = "TRITON_XPU_CACHE_TTL"
CACHE_WRITE = "TRITON_XPU_CACHE_WRITE"
CACHE_SECRET_FILE = "TRITON_XPU_CACHE_SECRET_FILE"
CACHE_SECRET = "TRITON_XPU_CACHE_SECRET"

N = TypeVar("N", int, float)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def raw(name: str) -> str:
    """The variable's value, stripped; "" when unset."""
    return os.environ.get(name, "").strip()


def number(name: str, default: N, what: str, kind: Callable[[str], N] = float,
           valid: Callable[[N], bool] = lambda _: True) -> N:
    """``kind(value)`` when it parses and is ``valid``; else ValueError saying the value is not ``what``."""
    value = raw(name)
    if not value:
        return default
    try:
        parsed = kind(value)
    except ValueError:
        parsed = None
    if parsed is None or not valid(parsed):
        raise ValueError(f"{name}={value!r} is not {what}")
    return parsed


def flag(name: str, default: bool, meaning: str) -> bool:
    """1/true/yes/on or 0/false/no/off; ``meaning`` says what the knob decides."""
    value = raw(name).lower()
    if not value:
        return default
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ValueError(f"{name}={raw(name)!r} is not 1 or 0 ({meaning})")


def choice(name: str, choices: Sequence[str], default: Optional[str] = None) -> str:
    """One of ``choices`` (case-insensitive); the default is the first choice."""
    value = raw(name).lower() or (default if default is not None else choices[0])
    if value not in choices:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(choices)}")
    return value

"""Signatures in the form of Triton's AOT tool: ``"*fp32:16,*fp32,*fp32,i32,1024"`` -- types, ``:16``
divisibility hints, ``:1`` for the constant 1 and constexpr values inline -- and ``--constexpr K=V`` values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from triton.backends.intel.errors import IntelBackendError

# Triton's type names (triton.language.str_to_ty); pointers are "*T" or "*kT" (const).
SCALAR_TYPES = ("i1", "i8", "i16", "i32", "i64", "u1", "u8", "u16", "u32", "u64", "B", "fp16", "bf16", "fp32",
                "fp64", "fp8e4nv", "fp8e4b8", "fp8e5", "fp8e5b16", "fp8e4b15")
HINTS = (1, 16)  # what Triton's AOT tool accepts after ":"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AotError(IntelBackendError, ValueError):
    """Bad input to the ahead-of-time compiler (file, kernel name, signature, target, option): one line."""


@dataclass(frozen=True)
class SignatureEntry:
    """One comma-separated entry of a signature: a type with an optional hint, or a constexpr value."""

    text: str
    type: Optional[str] = None  # a Triton type ("*fp32", "i32"); None for a constexpr value
    value: Any = None  # the constexpr value when ``type`` is None
    hint: Optional[int] = None  # 16: divisibility; 1: the argument is the constant 1


def is_triton_type(text: str) -> bool:
    if text.startswith("*"):
        text = text[1:]
        if text.startswith("k") and text[1:] in SCALAR_TYPES:
            return True
    return text in SCALAR_TYPES


def parse_value(text: str) -> Any:
    """A constexpr value: an integer, a float, True/False; AotError otherwise."""
    text = text.strip()
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    for base in (10, 0):  # 1024, then 0x400 / 0o2000 / 0b...
        try:
            return int(text, base)
        except ValueError:
            pass
    try:
        return float(text)
    except ValueError:
        raise AotError(f"constexpr value {text!r} is not an integer, a float or True/False") from None


def parse_signature(text: str) -> List[SignatureEntry]:
    """Parse a signature in the form of Triton's AOT tool; AotError naming the bad entry."""
    if text is None or not text.strip():
        raise AotError("empty signature: give one entry per kernel argument, e.g. \"*fp32,*fp32,i32,1024\"")
    entries = []
    for position, raw in enumerate(text.split(",")):
        item = raw.strip()
        where = f"signature entry {position} ({item!r})" if item else f"signature entry {position}"
        if not item:
            raise AotError(f"malformed signature {text!r}: {where} is empty")
        base, sep, hint_text = item.partition(":")
        base = base.strip()
        hint = None
        if sep:
            try:
                hint = int(hint_text.strip())
            except ValueError:
                raise AotError(f"malformed signature {text!r}: {where}: the hint after ':' must be 1 or 16") from None
            if hint not in HINTS:
                raise AotError(f"malformed signature {text!r}: {where}: hint {hint} is not supported "
                               f"(1: the constant 1, 16: divisible by 16)")
        if is_triton_type(base):
            if hint == 1 and base.startswith("*"):
                raise AotError(f"malformed signature {text!r}: {where}: a pointer cannot be the constant 1")
            entries.append(SignatureEntry(item, type=base, hint=hint))
            continue
        if sep:
            raise AotError(f"malformed signature {text!r}: {where}: {base!r} is not a Triton type "
                           f"(e.g. *fp32, i32, fp16, *bf16)")
        try:
            value = parse_value(base)
        except AotError:
            raise AotError(f"malformed signature {text!r}: {where} is neither a Triton type (e.g. *fp32, i32, "
                           f"fp16) nor a constexpr value (an integer, a float, True/False)") from None
        entries.append(SignatureEntry(item, value=value))
    return entries


def parse_constexpr_option(text: str) -> Tuple[str, Any]:
    """``--constexpr K=V`` -> (K, value)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name or not value.strip():
        raise AotError(f"--constexpr {text!r}: expected NAME=VALUE, e.g. BLOCK=1024")
    if not IDENTIFIER.match(name):
        raise AotError(f"--constexpr {text!r}: {name!r} is not an argument name")
    try:
        return name, parse_value(value)
    except AotError as e:
        raise AotError(f"--constexpr {text!r}: {e}") from None

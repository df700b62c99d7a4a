"""The canonical byte encoding that signatures and Merkle leaves cover: RFC 8785 (JSON Canonicalization Scheme).

Acts carry only strings, integers, booleans, null, lists and objects (numbers of points and money are decimal
strings), so the encoding is exact and any RFC 8785 implementation reproduces the same bytes.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from .errors import LedgerError


def canonical(obj: Any) -> bytes:
    """RFC 8785 bytes of a JSON value; refuses floats so that no binary fraction is ever signed."""
    _refuse_floats(obj)
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LedgerError(f"cannot encode act canonically: {exc}") from None


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def loads_strict(text: str | bytes, what: str) -> Any:
    """Parse JSON, refusing NaN/Infinity and floats (a signed act never holds binary floats)."""
    def no_constant(name: str) -> Any:
        raise LedgerError(f"{what}: {name} is not allowed in an act")

    def no_float(text: str) -> Any:
        raise LedgerError(f"{what}: number {text} must be written as a decimal string")

    try:
        return json.loads(text, parse_constant=no_constant, parse_float=no_float)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LedgerError(f"{what}: not valid JSON ({exc.__class__.__name__}: {str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise LedgerError(f"{what}: JSON nested too deeply") from None


def _refuse_floats(obj: Any) -> None:
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            raise LedgerError("a binary float cannot be part of a signed act; use a decimal string")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)

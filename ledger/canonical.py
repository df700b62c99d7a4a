"""The canonical byte encoding that signatures and Merkle leaves cover: RFC 8785 (JSON Canonicalization Scheme).

Acts carry only strings, integers, booleans, null, lists and objects (numbers of points and money are decimal
strings), so the encoding is exact and any RFC 8785 implementation reproduces the same bytes.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
import rfc8785

from .errors import LedgerError


def canonical(obj: Any) -> bytes:
    """RFC 8785 bytes of a JSON value; refuses floats so that no binary fraction is ever signed."""
    if _plain(obj):
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # orjson.JSONEncodeError
            pass  # a lone surrogate, say: the reference encoder says what is wrong
    _refuse_floats(obj)
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LedgerError(f"cannot encode act canonically: {exc}") from None


# For strings, integers of at most 53 bits, booleans, null, lists and objects whose keys hold no character from
# U+D800 up, RFC 8785 is exactly what orjson writes with sorted keys: no spaces, the same string escapes (\b \f \n
# \r \t \" \\ and \u00xx for other controls, everything else as UTF-8), and its key order (UTF-8 bytes, so code
# points) equals UTF-16 order below U+D800. It is several times faster than the reference encoder, which still
# encodes (or refuses) everything else. tests/test_bench_smoke.py compares the two on generated values.
_INT_LIMIT = 2**53 - 1


def _plain(obj: Any) -> bool:
    stack = [obj]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_INT_LIMIT <= item <= _INT_LIMIT:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or (key and max(key) >= "\ud800"):
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


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
    except ValueError:  # the one other ValueError: an integer of more than 4300 digits, which Python will not convert
        raise LedgerError(f"{what}: a number with thousands of digits") from None


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

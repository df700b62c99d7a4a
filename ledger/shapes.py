"""Field-by-field shape checks for acts read from files or built from options: exact keys, exact types."""
from __future__ import annotations

import re
from typing import Any

from .errors import Refused

MAX_TEXT = 4096  # a reason, note or document number longer than this is not a reason but a payload
# control characters but tab, newline and carriage return: one regex scan instead of a Python loop per character,
# which cost more than verifying the act's signature (and 0.2 s for a province's scheme text)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# characters that do not show, or change how the text around them shows: C1 controls, zero-width characters, the
# bidirectional embeddings, overrides and isolates (a right-to-left override makes "-2" read as "2-"), line and
# paragraph separators, the byte order mark, tags. A signed reason must read on screen as it was signed.
_INVISIBLE = re.compile("[\x80-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
                        "\U000e0000-\U000e007f]")


def check_fields(obj: Any, required: dict[str, type | tuple], optional: dict[str, type | tuple] | None = None,
                 what: str = "act") -> dict:
    """Refuse a missing, unknown or wrongly typed field; return the object."""
    optional = optional or {}
    if not isinstance(obj, dict):
        raise Refused(f"{what} must be a JSON object")
    for name in obj:
        if name not in required and name not in optional:
            raise Refused(f"{what}: unknown field {name!r}")
    for name, kind in required.items():
        if name not in obj:
            raise Refused(f"{what}: missing field {name!r}")
    for name, value in obj.items():
        kind = required.get(name) or optional.get(name)
        if kind is int and isinstance(value, bool):
            raise Refused(f"{what}: field {name!r} must be an integer")
        if not isinstance(value, kind):
            raise Refused(f"{what}: field {name!r} has the wrong type")
        if isinstance(value, str):
            check_text(value, f"{what}: field {name!r}", limit=None if name in LONG_FIELDS else MAX_TEXT)
    return obj


LONG_FIELDS = {"text"}  # the scheme file travels inside its adoption act


def check_text(value: str, what: str, limit: int | None = MAX_TEXT) -> str:
    """Refuse control characters (other than tab and newline), over-long text, and, but in a scheme's text (`limit`
    None), characters that do not show or that reorder what does."""
    if limit is not None and len(value) > limit:
        raise Refused(f"{what} is longer than {limit} characters")
    bad = _CONTROL.search(value) or (_INVISIBLE.search(value) if limit is not None else None)
    if bad is not None:
        kind = "a control" if _CONTROL.match(bad.group()) else "an invisible or reordering"
        raise Refused(f"{what} contains {kind} character (U+{ord(bad.group()):04X})")
    return value


def has_text(value: object) -> bool:
    """Whether a reason or note says something (not absent, empty or only spaces)."""
    return isinstance(value, str) and bool(value.strip())


def check_name(value: str, what: str) -> str:
    """A unit, indicator or person name: non-empty, no leading/trailing space, no control characters."""
    check_text(value, what, limit=200)
    if not value or value != value.strip():
        raise Refused(f"{what} {value!r} is empty or has leading/trailing spaces")
    return value


RESERVED_KEYS = ("_type_", "_data_")  # the event store's JSON transcoder gives these keys a meaning of its own


def check_no_reserved_keys(obj: Any, what: str = "act") -> None:
    """Refuse object keys the store's transcoder would read back as a typed value (the act would not round-trip)."""
    stack, depth = [(obj, 0)], 0
    while stack:
        item, depth = stack.pop()
        if depth > 32:
            raise Refused(f"{what} is nested too deeply")
        if isinstance(item, dict):
            for key, value in item.items():
                if key in RESERVED_KEYS:
                    raise Refused(f"{what}: the key {key!r} is reserved")
                stack.append((value, depth + 1))
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)

"""Reading a parsed TOML table key by key, so that every error names its key path and no unknown key slips through.

Numbers in a scheme are TOML integers or decimal text ("0.5"). TOML floats are refused: they are binary fractions,
and a weight of 0.1 written as a float is not 0.1. Nothing else in a scheme ever becomes a number.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Iterator

from .errors import Refused, SchemeError
from .numbers import parse_decimal

_BARE_KEY = re.compile(r"[^\s.\"'\[\]=#]+")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
# a name that passes every check of name_problem at once (\s is what str.strip() removes)
_GOOD_NAME = re.compile(r"(?!\s)[^\x00-\x1f\x7f]{1,200}(?<!\s)")


def key_path(parent: str, key: str | int) -> str:
    """`groups.乡镇.indicators[2]`: quoted where a key would be ambiguous, indices in brackets."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    shown = key if _BARE_KEY.fullmatch(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{parent}.{shown}" if parent else shown


def to_decimal(value: Any, path: str) -> Decimal:
    """A scheme number: a TOML integer or decimal text; SchemeError for floats, booleans and anything else."""
    if isinstance(value, bool):
        raise SchemeError("expected a number, got true/false", path)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        raise SchemeError(f"write the number {value!r} as text, e.g. \"{value!r}\": TOML floats are binary and "
                          "inexact, so a scheme accepts only integers and decimal text", path)
    if isinstance(value, str):
        try:
            return parse_decimal(value, "number")
        except Refused as exc:
            raise SchemeError(str(exc), path) from None
    raise SchemeError(f"expected a number, got {_kind(value)}", path)


def _kind(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "text", bool: "true/false", int: "an integer",
            float: "a float"}.get(type(value), type(value).__name__)


class Table:
    """One TOML table being read: each `take` marks its key used; `done()` refuses whatever key is left."""

    def __init__(self, data: Any, path: str):
        if not isinstance(data, dict):
            raise SchemeError(f"expected a table, got {_kind(data)}", path)
        self.data, self.path, self.used = data, path, set()

    def at(self, key: str | int) -> str:
        """The key path of one of this table's keys."""
        return key_path(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, required: bool = False) -> Any:
        """The value as TOML gave it (None if absent and not required)."""
        self.used.add(key)
        if key not in self.data:
            if required:
                others = [k for k in self.data if k not in self.used]
                raise SchemeError("missing" + (f" (the table also has {', '.join(map(repr, others))}: a typo?)"
                                               if others else ""), self.at(key))
            return None
        return self.data[key]

    def text(self, key: str, required: bool = False, default: str = "") -> str:
        value = self.raw(key, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise SchemeError(f"expected text, got {_kind(value)}", self.at(key))
        return value

    def name(self, key: str, required: bool = True, default: str = "") -> str:
        """Text that names something: non-empty, no surrounding spaces, no control characters."""
        value = self.text(key, required, default)
        if key in self.data:
            check_name(value, self.at(key))
        return value

    def integer(self, key: str, required: bool = False, default: int | None = None, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        value = self.raw(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemeError(f"expected an integer, got {_kind(value)}", self.at(key))
        check_range(Decimal(value), self.at(key), minimum, maximum)
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise SchemeError(f"expected true or false, got {_kind(value)}", self.at(key))
        return value

    def decimal(self, key: str, required: bool = False, default: Decimal | None = None,
                minimum: Decimal | int | None = None, maximum: Decimal | int | None = None) -> Decimal | None:
        value = self.raw(key, required)
        if value is None:
            return default
        number = to_decimal(value, self.at(key))
        check_range(number, self.at(key), minimum, maximum)
        return number

    def names(self, key: str, required: bool = False) -> tuple[str, ...]:
        """An array of distinct names."""
        value = self.raw(key, required)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise SchemeError(f"expected an array of names, got {_kind(value)}", self.at(key))
        seen: set[str] = set()
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise SchemeError(f"expected a name, got {_kind(item)}", key_path(self.at(key), i))
            problem = name_problem(item)  # the key path only when there is a problem: units lists are long
            if problem:
                raise SchemeError(problem, key_path(self.at(key), i))
            if item in seen:
                raise SchemeError(f"{item!r} is listed twice", key_path(self.at(key), i))
            seen.add(item)
        return tuple(value)

    def table(self, key: str, required: bool = False) -> "Table | None":
        value = self.raw(key, required)
        return None if value is None else Table(value, self.at(key))

    def tables(self, key: str) -> list["Table"]:
        """An array of tables (`[[x]]` or `x = [{…}, …]`)."""
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise SchemeError(f"expected an array of tables, got {_kind(value)}", self.at(key))
        return [Table(item, key_path(self.at(key), i)) for i, item in enumerate(value)]

    def entries(self) -> Iterator[tuple[str, Any, str]]:
        """Every (key, value, path) of a table whose keys are names chosen by the scheme (groups, rules, roles…)."""
        for key, value in self.data.items():
            self.used.add(key)
            check_name(key, self.at(key))
            yield key, value, self.at(key)

    def done(self) -> None:
        """Refuse any key nobody took: a typo must not pass silently."""
        for key in self.data:
            if key not in self.used:
                raise SchemeError(f"unknown key {key!r} (expected {', '.join(sorted(self.used)) or 'none'})",
                                  self.at(key))


def check_name(value: str, path: str) -> str:
    """A unit, group, rule, role or indicator name: non-empty, trimmed, printable, at most 200 characters."""
    problem = name_problem(value)
    if problem:
        raise SchemeError(problem, path)
    return value


def name_problem(value: str) -> str:
    """What is wrong with a name (see `check_name`), or ""."""
    if _GOOD_NAME.fullmatch(value):
        return ""
    if not value or not value.strip():
        return "empty name"
    if value != value.strip():
        return f"{value!r} has leading or trailing spaces"
    if len(value) > 200:
        return "name longer than 200 characters"
    if _CONTROL.search(value):
        return f"{value!r} contains a control character"
    return ""


def check_range(number: Decimal, path: str, minimum: Decimal | int | None = None,
                maximum: Decimal | int | None = None) -> Decimal:
    """SchemeError unless minimum ≤ number ≤ maximum (either bound optional)."""
    if minimum is not None and number < minimum:
        raise SchemeError(f"{number} is below the least allowed value {minimum}", path)
    if maximum is not None and number > maximum:
        raise SchemeError(f"{number} is above the greatest allowed value {maximum}", path)
    return number

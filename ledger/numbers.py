"""Decimal numbers as the ledger accepts them: strict text in, exact Decimal out, half-up rounding where a scheme says.

Points and money arrive as text (signed acts carry no JSON numbers) and are parsed here, once, strictly: a comma
decimal, an exponent, NaN or a 30-digit figure is a typing mistake or an attack, never a number to guess at.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from .errors import Refused

MAX_SIGNIFICANT = 20
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")

# Every computation runs in this context, whatever the caller's global decimal context is: 40 significant digits
# carry a quotient like 100/35 far past any place a scheme rounds at, and traps turn silent NaN/inf into errors.
CONTEXT = Context(prec=40, rounding=ROUND_HALF_EVEN, Emin=-999999, Emax=999999,
                  traps=[InvalidOperation, DivisionByZero, Overflow])


def parse_decimal(text: str, what: str) -> Decimal:
    """The exact Decimal a text like "-12.50" names; Refused for anything else (1,5 · NaN · 1e3 · "" · >20 digits)."""
    if type(text) is str:
        known = _PARSED.get(text)
        if known is not None:
            return known
    if not isinstance(text, str):
        raise Refused(f"{what} must be written as text, e.g. \"12.5\"")
    if not _NUMBER.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise Refused(f"{what} {shown!r} is not a decimal number (write digits with an optional sign and '.', "
                      "e.g. 12.5 or -0.2)")
    digits = text.lstrip("+-").replace(".", "").lstrip("0")
    if len(digits) > MAX_SIGNIFICANT:
        raise Refused(f"{what} {text!r} has more than {MAX_SIGNIFICANT} significant digits")
    value = Decimal(text)
    if type(text) is str:
        _remember(_PARSED, text, value)
    return value


# Views parse and show the same few thousand figures again and again. Both caches map an immutable key to an
# immutable result of a pure function (a text to its exact Decimal; a Decimal to its text, which is the same for
# equal values, so a value key is sound); they are bounded, and emptied when full.
_PARSED: dict[str, Decimal] = {}
_SHOWN: dict[Decimal, str] = {}
_CACHE_SIZE = 1 << 16


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


def parse_count(text: str, what: str) -> int:
    """A whole number ≥ 0 written as digits ("3"); Refused otherwise."""
    value = parse_decimal(text, what)
    if value != value.to_integral_value() or "." in text or value < 0:
        raise Refused(f"{what} {text!r} must be a whole number of 0 or more")
    return int(value)


def round_half_up(value: Decimal, places: int) -> Decimal:
    """`value` at `places` decimals, halves away from zero (保留两位小数: 2.345 → 2.35, -2.345 → -2.35)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=CONTEXT)


def show(value: Decimal) -> str:
    """A Decimal as plain canonical text: no exponent, no trailing fractional zeros ("0.5", "-3", "86.455").

    Equal values always show alike (Decimal("2.50") and Decimal("2.5") are one number), so results hash stably.
    """
    cacheable = type(value) is Decimal and value.is_finite()
    if cacheable:
        known = _SHOWN.get(value)
        if known is not None:
            return known
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    if cacheable:
        _remember(_SHOWN, value, text)
    return text


def fixed(value: Decimal, places: int) -> str:
    """A rounded value with exactly `places` decimals ("95.40"): how a total is published."""
    return format(round_half_up(value, places), "f")

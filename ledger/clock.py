"""Signing times: ISO 8601 in UTC with a trailing Z, so that they sort and compare as text and as instants."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from .errors import LedgerError

# A signature dated further ahead than this of the ledger's own clock is refused (clock skew allowance).
FUTURE_SKEW = timedelta(minutes=5)
ENV_SIGNED_AT = "LEDGER_SIGNED_AT"


class TimeOutOfRange(LedgerError):
    """A well-formed time outside years 1000-9999 in UTC, which format_time could not write as four digits."""


def parse_time(text: str, what: str = "time") -> datetime:
    """Parse an ISO 8601 instant or date (a date means its midnight, UTC); naive times are taken as UTC+8 (Beijing).
    Years before 1000 (in UTC) are refused: format_time would not write them back as the same text."""
    if not isinstance(text, str) or not text.strip():
        raise LedgerError(f"{what}: empty time")
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LedgerError(f"{what}: {text!r} is not an ISO 8601 time (e.g. 2017-12-20T10:00:00+08:00)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone(timedelta(hours=8)))
    try:
        value = value.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01 at UTC+8 falls before the first representable instant
        value = None
    if value is None or value.year < 1000:
        raise TimeOutOfRange(f"{what}: {text!r} is out of range (years 1000 to 9999)")
    return value


def format_time(value: datetime) -> str:
    """UTC, second precision, `Z` suffix."""
    return value.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    """The ledger's clock."""
    return datetime.now(timezone.utc)


def signing_time(explicit: str | None = None) -> str:
    """The time a signer puts on an act: given explicitly (`--signed-at`/LEDGER_SIGNED_AT, for back-office entry of
    acts signed on paper earlier), else now."""
    text = explicit if explicit is not None else os.environ.get(ENV_SIGNED_AT) or None  # an empty variable is unset
    return format_time(parse_time(text, "signing time") if text is not None else now())

"""The state of appeals (复核; their checks: ledger/appeal_checks.py). The office publishes a year's results (公示);
within the scheme's window after that notice it records a unit's request for review, which is answered — upheld or
dismissed, with a reason — before the year can be closed. The acts live in the year's stream, so the close's check
sees every open appeal.

Times are the acts' signing times: a window is counted from the publication's `signed_at`, so `verify` re-checks
it from the log alone, with no clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .clock import format_time, parse_time

OUTCOMES = ("upheld", "partly upheld", "dismissed")


@dataclass(frozen=True)
class AppealTerms:
    """A scheme's `[appeals]`: days to appeal after publication, days to answer, roles that answer."""

    days: int = 10
    answer_days: int = 10
    answered_by: tuple[str, ...] = ("office",)


@dataclass(frozen=True)
class Publication:
    event_id: str
    position: int  # the log position whose results were published
    result_sha256: str
    signed_at: str
    person: str


@dataclass(frozen=True)
class Answer:
    event_id: str
    outcome: str
    reason: str
    signed_at: str
    person: str
    role: str


@dataclass(frozen=True)
class Appeal:
    event_id: str
    unit: str
    reason: str
    signed_at: str
    person: str
    publication: str  # event id of the publication it appeals
    document: str = ""
    evidence_sha256: str = ""
    answer: Answer | None = None

    @property
    def id(self) -> str:
        """The short id people type (the filing's event id, as other acts are named)."""
        return self.event_id[:12]


def deadline(signed_at: str, days: int) -> str:
    """The instant `days` calendar days after `signed_at`."""
    return format_time(parse_time(signed_at) + timedelta(days=days))


def appeal_window_end(year) -> str | None:
    """When the window opened by the year's latest publication ends; None if its results were never published."""
    if not year.publications:
        return None
    return deadline(year.publications[-1].signed_at, year.scheme.appeals.days)


def answer_due(year, appeal: Appeal) -> str:
    """When an appeal should be answered by."""
    return deadline(appeal.signed_at, year.scheme.appeals.answer_days)

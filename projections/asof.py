"""`--as-of TIME|POSITION`: the log as it stood then, as a position."""
from __future__ import annotations

from ledger.clock import format_time, parse_time
from ledger.errors import LedgerError

from .replay import LogState, logged_acts, replay


def as_of_position(store, as_of: str | None) -> int | None:
    """None for now; a position as given; for a time, the last position signed at or before it."""
    if as_of is None or as_of == "":
        return None
    text = as_of.strip()
    if text.isdigit():
        position = int(text)
        if position < 1:
            raise LedgerError("--as-of position must be 1 or more")
        return position
    when = format_time(parse_time(text, "--as-of"))
    last = 0
    for item in logged_acts(store):
        if format_time(parse_time(item.recorded_at, "recorded_at")) > when:
            break
        last = item.position
    if last == 0:
        raise LedgerError(f"the log holds nothing recorded at or before {when}")
    return last


def state_as_of(store, as_of: str | None, keep_acts: bool = False) -> LogState:
    """The folded log as of a time or position (now when None)."""
    return replay(store, as_of_position(store, as_of), keep_acts)


def year_view(store, year: int, as_of: str | None = None):
    """A year's results from the read models, as of a time or position (now when None)."""
    from .readstate import year_state
    from .results import year_results

    return year_results(year_state(store, year, as_of_position(store, as_of)), year)

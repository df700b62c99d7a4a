"""`--as-of TIME|POSITION`: the log as it stood then, as a position."""
from __future__ import annotations

from ledger.clock import format_time, parse_time
from ledger.errors import LedgerError

from .replay import LogState, replay


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
    when = parse_time(text, "--as-of")
    last = _last_recorded_by(store, when)
    if last == 0:
        raise LedgerError(f"the log holds nothing recorded at or before {format_time(when)}")
    return last


def _last_recorded_by(store, when) -> int:
    """Binary search over positions: the store records in order, so record times never decrease along the log."""
    from ledger.log_index import LogIndex

    index = LogIndex(store)
    lo, hi = 0, index.catch_up()  # invariant: position lo was recorded by `when` (0: nothing), hi+1 was not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        row = index.by_position(mid)
        act = next(iter(store.read(after=row.notification_id - 1, batch=1)), None)
        if act is not None and parse_time(act.recorded_at, "recorded_at") <= when:
            lo = mid
        else:
            hi = mid - 1
    return lo


def state_as_of(store, as_of: str | None, keep_acts: bool = False) -> LogState:
    """The folded log as of a time or position (now when None)."""
    return replay(store, as_of_position(store, as_of), keep_acts)


def year_view(store, year: int, as_of: str | None = None):
    """A year's results from the read models, as of a time or position (now when None)."""
    from .readstate import year_state
    from .results import year_results

    return year_results(year_state(store, year, as_of_position(store, as_of)), year)

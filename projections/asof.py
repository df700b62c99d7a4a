"""`--as-of TIME|POSITION|CHECKPOINT`: the log as it stood then, as a position."""
from __future__ import annotations

import os

from ledger.clock import TimeOutOfRange, format_time, parse_time
from ledger.errors import LedgerError, Refused
from ledger.stored import Unreadable

from .gcpause import collector_paused
from .replay import LogState, replay


def as_of_position(store, as_of: str | None) -> int | None:
    """None for now; a position as given; for a time, the last position signed at or before it."""
    if as_of is None or as_of == "":
        return None
    text = as_of.strip()
    if _is_position(text):
        position = int(text)
        if position < 1:
            raise LedgerError("--as-of position must be 1 or more")
        return position
    when = parse_time(text, "--as-of")
    last = _last_recorded_by(store, when)
    if last == 0:
        raise LedgerError(f"the log holds nothing recorded at or before {format_time(when)}")
    return last


def _is_position(text: str) -> bool:
    """ASCII digits only (str.isdigit() is also true of '²' and '１０', which int() then refuses or reads), and few
    enough for int() to read (it refuses more than 4,300)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _last_recorded_by(store, when) -> int:
    """Binary search over positions: the store records in order, so record times never decrease along the log."""
    from ledger.log_index import LogIndex

    index = LogIndex(store)
    lo, hi = 0, index.catch_up()  # invariant: position lo was recorded by `when` (0: nothing), hi+1 was not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        row = index.by_position(mid)
        act = next(iter(store.read(after=row.notification_id - 1, batch=1)), None)
        if act is not None and not act.recorded_at:
            raise Unreadable(f"the stored event at position {mid} holds no record time")
        if act is not None and parse_time(act.recorded_at, "recorded_at") <= when:
            lo = mid
        else:
            hi = mid - 1
    return lo


def state_as_of(ledger, as_of: str | None, keep_acts: bool = False) -> LogState:
    """The folded log as of a time, position or checkpoint (now when None)."""
    return replay(ledger.store, None if as_of is None else view_position(ledger, as_of, "--as-of"), keep_acts)


def year_view(ledger, year: int, as_of: str | None = None, groups: list[str] | None = None,
              unit: str | None = None):
    """A year's results from the read models, as of a time, position or checkpoint (now when None); with `groups`,
    or `unit` (its group), only those groups' (the same rows as in the whole year: each group is ranked and graded
    on its own), reading only their units' facts. A group or unit the year's scheme lacks is refused by name."""
    from .readstate import year_state
    from .results import year_results

    upto = None if as_of is None else view_position(ledger, as_of, "--as-of")
    with collector_paused():  # folding and scoring allocate much, and make next to no cyclic garbage
        state = year_state(ledger.store, year, upto, groups=groups, group_of=unit)
        ystate = state.year(year)
        if not ystate.adopted:
            groups = None  # the results say the year has no scheme
        elif unit is not None:
            groups = [*(groups or ()), ystate.scheme.group_of(unit).name]
        results = year_results(state, year, groups)
        if ystate.closes:  # a closing or closed year: compare with what its close signed
            first = ystate.closes[0]
            results.warning = results.unlike_close(first.result_sha256, first.groups, groups)
        return results


def consequences_view(ledger, year: int, as_of: str | None = None, groups: list[str] | None = None) -> list:
    """`year_consequences` from the read models: each adopted year up to `year` read as a view of its own (as of a
    time, position or checkpoint), not the whole log replayed. With `groups` of `year`'s scheme, only their units'
    consequences: each earlier year is read for the groups those units were in then."""
    from .readstate import registry_and_years
    from .results import year_consequences

    upto = None if as_of is None else view_position(ledger, as_of, "--as-of")
    at = None if upto is None else str(upto)
    with collector_paused():
        scope = registry_and_years(ledger.store, upto)
        if groups is None:
            return year_consequences(scope, year, lambda y: year_view(ledger, y, at))
        units = [u for name in dict.fromkeys(groups) for u in scope.year(year).scheme.group(name).units]

        def view(y: int):
            scheme = scope.year(y).scheme
            chosen = list(dict.fromkeys(scheme.group_of(u).name for u in units if u in scheme.unit_groups))
            return year_view(ledger, y, at, chosen) if chosen else None  # none of the units was assessed in y

        return year_consequences(scope, year, view)


def view_position(ledger, spec: str, what: str = "--from") -> int:
    """The log position a view names: a position, a time (the last act recorded by then), or a checkpoint file
    (its size, once it is shown to be this ledger's, to match this log's Merkle root and to bear a valid signature)."""
    from ledger.clock import parse_time
    from ledger.proofs import check_held, read_checkpoint

    size, text = ledger.log_size(), spec.strip()
    if _is_position(text):
        position = int(text)
    elif os.path.isfile(spec):
        cp = read_checkpoint(spec)
        try:
            check_held(ledger, cp)
        except LedgerError as exc:
            raise Refused(f"{what}: {exc}") from None
        return cp.size
    else:
        try:
            parse_time(text, what)
        except TimeOutOfRange:
            raise
        except LedgerError:
            raise LedgerError(f"{what}: {spec!r} is neither a position, an ISO 8601 time nor a checkpoint file") \
                from None
        position = as_of_position(ledger.store, text)
    if not 1 <= position <= size:
        raise Refused(f"{what}: position {position} is outside the log (1…{size})")
    return position


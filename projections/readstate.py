"""A year's view from the read models: the acts it needs, selected by position, folded as a replay would."""
from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import and_, or_, select

from . import readmodel
from .readmodel import rm_adjustments, rm_decisions, rm_registry, rm_values, rm_years
from .replay import LoggedAct, LogState, apply


def year_state(store, year: int, upto: int | None = None, units: Iterable[str] | None = None,
               groups: Iterable[str] | None = None) -> LogState:
    """The LogState a view of `year` needs, as of position `upto` (default: now), after catching the views up;
    with `units`, or `groups` of the year's scheme as it stood then, only the facts about those units (the view of
    some groups: one county of a province). Groups the scheme does not have select nothing away."""
    head = readmodel.catch_up(store)
    at = head if upto is None else min(upto, head)
    with store.engine.connect() as conn:
        rows = [(pos, eid, stream, _decoded(eid, envelope))
                for table in (rm_registry, rm_years)
                for pos, eid, stream, envelope in conn.execute(
                    select(table.c.pos, table.c.event_id, table.c.stream, table.c.envelope).where(table.c.pos <= at))]
        if groups is not None:
            units = _units_of(rows, year, list(groups), units)
        units = None if units is None else sorted(set(units))

        def only(table):
            return () if units is None else (table.c.unit.in_(units),)

        facts = conn.execute(select(rm_values.c.pos, rm_values.c.event_id, rm_values.c.stream, rm_values.c.envelope)
                             .where(rm_values.c.year == year, rm_values.c.pos <= at,
                                    or_(rm_values.c.until_pos.is_(None), rm_values.c.until_pos > at),
                                    *only(rm_values))).all()
        # earlier years' adjustments may be carried over into this one
        facts += conn.execute(select(rm_adjustments.c.pos, rm_adjustments.c.event_id, rm_adjustments.c.stream,
                                     rm_adjustments.c.envelope)
                              .where(and_(rm_adjustments.c.year <= year, rm_adjustments.c.pos <= at),
                                     *only(rm_adjustments))).all()
        facts += conn.execute(select(rm_decisions.c.pos, rm_decisions.c.event_id, rm_decisions.c.stream,
                                     rm_decisions.c.envelope)
                              .where(rm_decisions.c.year == year, rm_decisions.c.pos <= at,
                                     *only(rm_decisions))).all()
    rows += [(pos, eid, stream, json.loads(envelope)) for pos, eid, stream, envelope in facts]
    state = LogState()
    for pos, eid, stream, envelope in sorted(rows, key=lambda r: r[0]):
        apply(state, LoggedAct(pos, eid, envelope, {}, "", stream, 0))
    state.position = at
    return state


_LARGE: dict[str, dict] = {}  # event id -> decoded envelope, for the few large ones (adopted schemes)


def _decoded(event_id: str, text: str) -> dict:
    """A registry or year envelope, decoded; an adopted scheme's (megabytes for a province) once per process. An
    event id is the hash of its envelope, so the cached copy is the same envelope; folding never changes it."""
    if len(text) < 65536:
        return json.loads(text)
    if event_id not in _LARGE:
        _LARGE[event_id] = json.loads(text)
    return _LARGE[event_id]


def _units_of(rows: list[tuple], year: int, groups: list[str], units: Iterable[str] | None):
    """The units of `groups` in the year's scheme folded from the registry and year rows (plus `units`); None (no
    selection) when the year has no scheme or lacks one of the groups, so that the view says what is wrong."""
    scope = LogState()
    for pos, eid, stream, envelope in sorted(rows, key=lambda r: r[0]):
        apply(scope, LoggedAct(pos, eid, envelope, {}, "", stream, 0))
    ystate = scope.year(year)
    if not ystate.adopted:
        return None
    known = {g.name: g for g in ystate.scheme.groups}
    if not all(name in known for name in groups):
        return None
    return [u for name in groups for u in known[name].units] + list(units or ())

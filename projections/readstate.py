"""A year's view from the read models: the acts it needs, selected by position, folded as a replay would."""
from __future__ import annotations

import json

from sqlalchemy import and_, or_, select

from . import readmodel
from .readmodel import rm_adjustments, rm_decisions, rm_registry, rm_values, rm_years
from .replay import LoggedAct, LogState, apply


def year_state(store, year: int, upto: int | None = None) -> LogState:
    """The LogState a view of `year` needs, as of position `upto` (default: now), after catching the views up."""
    head = readmodel.catch_up(store)
    at = head if upto is None else min(upto, head)
    rows: list[tuple] = []
    with store.engine.connect() as conn:
        for table in (rm_registry, rm_years):
            rows += conn.execute(select(table.c.pos, table.c.event_id, table.c.stream, table.c.envelope)
                                 .where(table.c.pos <= at)).all()
        rows += conn.execute(select(rm_values.c.pos, rm_values.c.event_id, rm_values.c.stream, rm_values.c.envelope)
                             .where(rm_values.c.year == year, rm_values.c.pos <= at,
                                    or_(rm_values.c.until_pos.is_(None), rm_values.c.until_pos > at))).all()
        # earlier years' adjustments may be carried over into this one
        rows += conn.execute(select(rm_adjustments.c.pos, rm_adjustments.c.event_id, rm_adjustments.c.stream,
                                    rm_adjustments.c.envelope)
                             .where(and_(rm_adjustments.c.year <= year, rm_adjustments.c.pos <= at))).all()
        rows += conn.execute(select(rm_decisions.c.pos, rm_decisions.c.event_id, rm_decisions.c.stream,
                                    rm_decisions.c.envelope)
                             .where(rm_decisions.c.year == year, rm_decisions.c.pos <= at)).all()
    state = LogState()
    for pos, eid, stream, envelope in sorted(rows, key=lambda r: r[0]):
        apply(state, LoggedAct(pos, eid, json.loads(envelope), {}, "", stream, 0))
    state.position = at
    return state

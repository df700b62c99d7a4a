"""Checking the read models against the log: every view row must be the act at its position, nothing more.

The views are derived data, rebuilt from the log at will; but a view that was edited would show edited scores, so
`verify` compares them with the log it has just verified.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from .readmodel import TABLES, ensure, position, rm_values

VALUE_TYPES = ("score.recorded", "evaluation.recorded")


def view_problems(store, limit: int = 10) -> list[tuple[int, str]]:
    """(position, problem) for view rows that do not match the log (at most `limit`)."""
    ensure(store.engine)
    head, _nid = position(store.engine)
    rows: dict[int, tuple[str, dict, int | None]] = {}
    with store.engine.connect() as conn:
        for table in TABLES:
            until = table.c.until_pos if table is rm_values else None
            cols = [table.c.pos, table.c.envelope] + ([until] if until is not None else [])
            for row in conn.execute(select(*cols)):
                rows[int(row[0])] = (table.name, json.loads(row[1]), row[2] if until is not None else None)
    held_until = {p: r[2] for p, r in rows.items() if r[0] == rm_values.name}
    problems: list[tuple[int, str]] = []
    last_value: dict[str, int] = {}
    expect_until: dict[int, int | None] = {}
    pos = 0
    for act in store.read(batch=2000):
        pos += 1
        if pos > head:
            break
        env = act.envelope
        kind = env.get("type") if isinstance(env, dict) else None
        row = rows.pop(pos, None)
        if kind == "checkpoint.signed":
            if row is not None:
                problems.append((pos, f"view {row[0]} holds a row the log does not give"))
            continue
        if row is None:
            problems.append((pos, "the views lack this event"))
        elif row[1] != env:
            problems.append((pos, f"view {row[0]} differs from the event"))
        if kind in VALUE_TYPES:
            if act.stream in last_value:
                expect_until[last_value[act.stream]] = pos
            last_value[act.stream] = pos
            expect_until.setdefault(pos, None)
        if len(problems) >= limit:
            return problems
    for p, expected in sorted(expect_until.items()):
        if p in held_until and held_until[p] != expected and len(problems) < limit:
            problems.append((p, f"view rm_values says this value was superseded at {held_until[p]}, the log at "
                                f"{expected}"))
    for extra in sorted(rows)[: max(0, limit - len(problems))]:
        problems.append((extra, f"view {rows[extra][0]} holds a row beyond or outside the log"))
    return problems

"""Materialised read models: the acts each view needs, in SQL tables, kept in step with the log.

Rows carry the position at which they took effect (`pos`) and, for scores and evaluations, the position at which a
correction superseded them (`until_pos`), so a view at a past position is a query, not a replay. The rows hold each
act's envelope, and `projections.readstate` folds them with the same code as a full replay — so a view read from
the tables and one replayed from the log cannot differ.

Updating is exactly once: the rows of a batch and the new position are written in one transaction, guarded by the
position the batch started from; a concurrent or repeated catch-up finds the position moved and starts again.
"""
from __future__ import annotations

import json
from typing import Callable

from sqlalchemy import (BigInteger, Column, Index, Integer, MetaData, String, Table, Text, delete, insert, select,
                        update)
from sqlalchemy.exc import IntegrityError, OperationalError

from ledger.log_index import event_id

metadata = MetaData()
rm_state = Table("rm_state", metadata, Column("name", String(32), primary_key=True),
                 Column("position", BigInteger, nullable=False), Column("notification_id", BigInteger, nullable=False))
rm_registry = Table("rm_registry", metadata, Column("pos", BigInteger, primary_key=True, autoincrement=False),
                    Column("event_id", String(64), nullable=False), Column("stream", String(36), nullable=False),
                    Column("envelope", Text, nullable=False))
rm_years = Table("rm_years", metadata, Column("pos", BigInteger, primary_key=True, autoincrement=False),
                 Column("year", Integer, nullable=False, index=True), Column("event_id", String(64), nullable=False),
                 Column("stream", String(36), nullable=False), Column("envelope", Text, nullable=False))
rm_values = Table("rm_values", metadata, Column("pos", BigInteger, primary_key=True, autoincrement=False),
                  Column("year", Integer, nullable=False), Column("stream", String(36), nullable=False),
                  Column("event_id", String(64), nullable=False), Column("envelope", Text, nullable=False),
                  Column("until_pos", BigInteger, nullable=True),
                  Index("rm_values_year", "year", "until_pos"), Index("rm_values_stream", "stream"))
rm_adjustments = Table("rm_adjustments", metadata, Column("pos", BigInteger, primary_key=True, autoincrement=False),
                       Column("year", Integer, nullable=False, index=True),
                       Column("stream", String(36), nullable=False, index=True),
                       Column("event_id", String(64), nullable=False), Column("envelope", Text, nullable=False))
rm_decisions = Table("rm_decisions", metadata, Column("pos", BigInteger, primary_key=True, autoincrement=False),
                     Column("year", Integer, nullable=False, index=True),
                     Column("stream", String(36), nullable=False, index=True),
                     Column("event_id", String(64), nullable=False), Column("envelope", Text, nullable=False))
TABLES = (rm_registry, rm_years, rm_values, rm_adjustments, rm_decisions)
NAME = "views"
BATCH = 5000


def ensure(engine) -> None:
    """Create the read-model tables if they are missing."""
    metadata.create_all(engine)


def position(engine) -> tuple[int, int]:
    """(last position folded into the read models, its notification id)."""
    ensure(engine)
    with engine.connect() as conn:
        return _position(conn)


def _position(conn) -> tuple[int, int]:
    row = conn.execute(select(rm_state.c.position, rm_state.c.notification_id).where(rm_state.c.name == NAME)).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def catch_up(store, progress: Callable[[int], None] | None = None, batch: int = BATCH) -> int:
    """Fold every stored act not yet in the read models; returns the position reached."""
    ensure(store.engine)
    for _attempt in range(50):
        try:
            done = _catch_up_once(store, progress, batch)
            if done is not None:
                return done
        except (IntegrityError, OperationalError):
            pass  # another process folded the same acts first: read where it got to and go on
    raise RuntimeError("could not bring the read models up to date")


def _catch_up_once(store, progress, batch) -> int | None:
    with store.engine.connect() as conn:
        pos, nid = _position(conn)
    if pos and not _still_matches(store, pos, nid):
        # the store no longer holds the event the views stopped at (restored or replaced): start again
        _drop(store)
        pos, nid = 0, 0
    reader = store.read(after=nid, batch=batch)
    while True:
        chunk = []
        for act in reader:
            chunk.append(act)
            if len(chunk) >= batch:
                break
        if not chunk:
            return pos
        with store.engine.begin() as conn:
            if _position(conn) != (pos, nid):
                return None
            rows = _rows(conn, chunk, pos)
            for table, values in rows.items():
                if values:
                    conn.execute(insert(table), values)
            new_pos, new_nid = pos + len(chunk), chunk[-1].notification_id
            if pos == 0 and nid == 0:
                conn.execute(insert(rm_state).values(name=NAME, position=new_pos, notification_id=new_nid))
            else:
                moved = conn.execute(update(rm_state).where(rm_state.c.name == NAME, rm_state.c.position == pos)
                                     .values(position=new_pos, notification_id=new_nid))
                if moved.rowcount != 1:
                    raise IntegrityError("read model moved", None, Exception("concurrent catch-up"))
        pos, nid = new_pos, new_nid
        if progress:
            progress(pos)


def _rows(conn, chunk, start: int) -> dict:
    """The rows a chunk of stored acts adds; closes superseded value rows as it goes."""
    rows: dict = {t: [] for t in TABLES}
    open_values: dict[str, dict] = {}  # stream -> its pending row in this chunk
    adjustment_years: dict[str, int] = {}
    for offset, act in enumerate(chunk, 1):
        pos, env = start + offset, act.envelope
        kind = env["type"]
        row = {"pos": pos, "event_id": event_id(env), "stream": act.stream,
               "envelope": json.dumps(env, ensure_ascii=False, separators=(",", ":"))}
        if kind in ("ledger.genesis", "signatory.added", "signatory.revoked"):
            rows[rm_registry].append(row)
        elif kind in ("scheme.adopted", "year.close.signed"):
            rows[rm_years].append({**row, "year": env["act"]["year"]})
        elif kind in ("score.recorded", "evaluation.recorded"):
            previous = open_values.get(act.stream)
            if previous is not None:
                previous["until_pos"] = pos
            elif act.version > 1:
                conn.execute(update(rm_values).where(rm_values.c.stream == act.stream, rm_values.c.until_pos.is_(None))
                             .values(until_pos=pos))
            value_row = {**row, "year": env["act"]["year"], "until_pos": None}
            open_values[act.stream] = value_row
            rows[rm_values].append(value_row)
        elif kind.startswith("adjustment."):
            year = env["act"].get("year") if kind == "adjustment.proposed" else None
            if year is None:
                year = adjustment_years.get(act.stream) or _stream_year(conn, rm_adjustments, act.stream)
            adjustment_years[act.stream] = year
            rows[rm_adjustments].append({**row, "year": year})
        elif kind.startswith("decision."):
            year = env["act"].get("year") if kind == "decision.recorded" else None
            if year is None:
                year = adjustment_years.get(act.stream) or _stream_year(conn, rm_decisions, act.stream)
            adjustment_years[act.stream] = year
            rows[rm_decisions].append({**row, "year": year})
    return rows


def _stream_year(conn, table, stream: str) -> int:
    return int(conn.execute(select(table.c.year).where(table.c.stream == stream).limit(1)).scalar_one())


def _still_matches(store, pos: int, nid: int) -> bool:
    """Whether position `pos` of the log is still the event (notification) the views were folded up to."""
    from ledger.log_index import LogIndex

    index = LogIndex(store)
    index.catch_up()
    row = index.by_position(pos)
    return row is not None and row.notification_id == nid


def _drop(store) -> None:
    with store.engine.begin() as conn:
        for table in TABLES:
            conn.execute(delete(table))
        conn.execute(delete(rm_state))


def rebuild(store, progress: Callable[[int], None] | None = None) -> int:
    """Drop the read models and fold the whole log again, in batches (a killed rebuild resumes where it stopped)."""
    ensure(store.engine)
    _drop(store)
    return catch_up(store, progress)

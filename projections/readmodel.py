"""Materialised read models: the acts each view needs, in SQL tables, kept in step with the log.

Rows carry the position at which they took effect (`pos`) and, for scores and evaluations, the position at which a
correction superseded them (`until_pos`), so a view at a past position is a query, not a replay. The rows hold each
act's envelope, and `projections.readstate` folds them with the same code as a full replay — so a view read from
the tables and one replayed from the log cannot differ.

Scores, evaluations, adjustments and decisions also carry the unit they are about, so the view of a few groups (one
county of a province-wide ledger) selects only their rows. Event ids are read from the log index, which holds them
already, rather than recomputed (an RFC 8785 encoding and a hash per event were most of a rebuild's time).

Updating is exactly once: the rows of a batch and the new position are written in one transaction, guarded by the
position the batch started from; a concurrent or repeated catch-up finds the position moved and starts again.
"""
from __future__ import annotations

import json
import weakref
from typing import Callable

from sqlalchemy import (BigInteger, Column, Index, Integer, MetaData, String, Table, Text, delete, insert, inspect,
                        select, update)
from sqlalchemy.exc import IntegrityError, OperationalError

from ledger.log_index import LogIndex, event_id, log_entries

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
                  Column("until_pos", BigInteger, nullable=True), Column("unit", String(200), nullable=False),
                  # (year, unit) serves a whole year's view and one of some units' alike: one index less to write
                  Index("rm_values_year_unit", "year", "unit"), Index("rm_values_stream", "stream"))
rm_adjustments = Table("rm_adjustments", metadata, Column("pos", BigInteger, primary_key=True, autoincrement=False),
                       Column("year", Integer, nullable=False, index=True),
                       Column("stream", String(36), nullable=False, index=True),
                       Column("event_id", String(64), nullable=False), Column("envelope", Text, nullable=False),
                       Column("unit", String(200), nullable=False, index=True))
rm_decisions = Table("rm_decisions", metadata, Column("pos", BigInteger, primary_key=True, autoincrement=False),
                     Column("year", Integer, nullable=False, index=True),
                     Column("stream", String(36), nullable=False, index=True),
                     Column("event_id", String(64), nullable=False), Column("envelope", Text, nullable=False),
                     Column("unit", String(200), nullable=False, index=True))
TABLES = (rm_registry, rm_years, rm_values, rm_adjustments, rm_decisions)
NAME = "views"
BATCH = 5000


def ensure(engine) -> None:
    """Create the read-model tables if they are missing; tables of an older layout are dropped first (they are
    derived data: the next catch-up refills them from the log). Checked once per engine (each check is a few
    catalogue queries, and every view starts with a catch-up)."""
    if engine in _ENSURED:
        return
    if "rm_values" in inspect(engine).get_table_names():
        if "rm_values_year_unit" not in {i["name"] for i in inspect(engine).get_indexes("rm_values")}:
            metadata.drop_all(engine)
    metadata.create_all(engine)
    _ENSURED.add(engine)


_ENSURED: "weakref.WeakSet" = weakref.WeakSet()


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
    index = LogIndex(store)
    index.catch_up()  # the index's event ids are read below, rather than recomputed
    if pos and not _still_matches(store, pos, nid):
        # the store no longer holds the event the views stopped at (restored or replaced): start again
        _drop(store)
        pos, nid = 0, 0
    reader = (_Raw(*row) for row in store.read_raw(after=nid, batch=batch))
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
            rows = _rows(conn, chunk, pos, _event_ids(conn, chunk))
            for table, values in rows.items():
                _insert(conn, table, values)
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


class _Raw:
    """A stored event as the read models take it: its place, and its state decoded once (the envelope's JSON text
    is cut from the stored text rather than encoded again)."""

    __slots__ = ("notification_id", "stream", "version", "text", "state")

    def __init__(self, notification_id: int, stream: str, version: int, _topic: str, text: str):
        self.notification_id, self.stream, self.version, self.text = notification_id, stream, version, text
        self.state = json.loads(text)

    @property
    def envelope(self) -> dict:
        return self.state["envelope"]

    def envelope_text(self) -> str:
        """The envelope as the store's JSON encoder wrote it: the text between its key and the signature's, which
        follows it (the store writes an event's attributes in a fixed order); re-encoded if the text is not so."""
        start, end = self.text.find('"envelope":'), self.text.rfind(',"signature":')
        if 0 <= start < end:
            return self.text[start + 11:end]
        return _dumps(self.envelope)


def _dumps(envelope: dict) -> str:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


def _insert(conn, table, rows: list[dict]) -> None:
    """Insert rows with the driver's executemany (no per-row statement building: half of a rebuild's time)."""
    if not rows:
        return
    columns = list(rows[0])
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})",
                         [tuple(row[c] for c in columns) for row in rows])


def _event_ids(conn, chunk) -> dict[int, str]:
    """notification id -> event id of a chunk's events, from the log index (events stored after the index was
    brought up to date are missing: their ids are computed)."""
    return dict(conn.execute(select(log_entries.c.notification_id, log_entries.c.event_id).where(
        log_entries.c.notification_id.between(chunk[0].notification_id, chunk[-1].notification_id))).all())


def _rows(conn, chunk, start: int, ids: dict[int, str]) -> dict:
    """The rows a chunk of stored acts adds; closes superseded value rows as it goes."""
    rows: dict = {t: [] for t in TABLES}
    open_values: dict[str, dict] = {}  # stream -> its pending row in this chunk
    scopes: dict[str, tuple[int, str]] = {}  # adjustment or decision stream -> (year, unit) of its first act
    # the cut text is checked against a fresh encoding once per chunk: a store writing events otherwise is noticed
    exact = bool(chunk) and chunk[0].envelope_text() == _dumps(chunk[0].envelope)
    for offset, act in enumerate(chunk, 1):
        pos, env = start + offset, act.envelope
        kind = env["type"]
        eid = ids.get(act.notification_id) or event_id(env)
        row = {"pos": pos, "event_id": eid, "stream": act.stream,
               "envelope": act.envelope_text() if exact else _dumps(env)}
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
            value_row = {**row, "year": env["act"]["year"], "until_pos": None, "unit": env["act"]["unit"]}
            open_values[act.stream] = value_row
            rows[rm_values].append(value_row)
        elif kind.startswith(("adjustment.", "decision.")):
            table = rm_adjustments if kind.startswith("adjustment.") else rm_decisions
            if kind in ("adjustment.proposed", "decision.recorded"):
                scope = (env["act"]["year"], env["act"]["unit"])
            else:
                scope = scopes.get(act.stream) or _stream_scope(conn, table, act.stream)
            scopes[act.stream] = scope
            rows[table].append({**row, "year": scope[0], "unit": scope[1]})
    return rows


def _stream_scope(conn, table, stream: str) -> tuple[int, str]:
    year, unit = conn.execute(select(table.c.year, table.c.unit).where(table.c.stream == stream).limit(1)).one()
    return int(year), unit


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

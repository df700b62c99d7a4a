"""Materialised read models: the acts each view needs, in SQL tables, kept in step with the log.

Rows carry the position at which they took effect (`pos`) and, for scores and evaluations, the position at which a
correction superseded them (`until_pos`), so a view at a past position is a query, not a replay. The rows hold each
act's envelope (a fact's `body`: all of it but the ledger id, stream and version, which no view reads), and `projections.readstate` folds them with the same code as a full replay — so a view read from
the tables and one replayed from the log cannot differ (tests/test_readmodel_views.py compares them at past
positions).

Scores, evaluations, adjustments and decisions also carry the unit they are about, so the view of a few groups (one
county of a province-wide ledger) selects only their rows. Event ids are read from the log index, which holds them
already, rather than recomputed (an RFC 8785 encoding and a hash per event were most of a rebuild's time).

Updating is exactly once: the rows of a batch and the new position are written in one transaction, guarded by the
position the batch started from; a concurrent or repeated catch-up finds the position moved and starts again.

A rebuild empties the tables and folds the whole log in one transaction, so that one that stops (killed, or at a
stored event that is not a signed act: `ledger.stored.Damaged`) leaves them as they were. A load from nothing on
SQLite (a rebuild, or the first catch-up of a long log) writes the rows without the secondary indexes and builds
them at the end, under a mark in `rm_state` that sends any later catch-up to build them first should the load stop. A pass remembers each stream it folds (`projections.rowfold`), so a rebuild never looks
anything up in the tables it is writing.
"""
from __future__ import annotations

import weakref
from itertools import islice
from typing import Callable

from sqlalchemy import (BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table, delete, insert,
                        inspect, select, update)
from sqlalchemy.exc import IntegrityError, OperationalError

from ledger.log_index import LogIndex, log_entries

from .gcpause import collector_paused
from .rowfold import RowFolder

# On SQLite an INTEGER primary key is the table's rowid: rows are stored in position order, and no second B-tree is
# written for the key. Envelopes are stored as the JSON bytes orjson wrote (decoded without a text conversion).
POS = BigInteger().with_variant(Integer(), "sqlite")


def _pos() -> Column:
    return Column("pos", POS, primary_key=True, autoincrement=False)


def _columns(*names: str) -> list[Column]:
    kinds = {"year": lambda: Column("year", Integer, nullable=False),
             "unit": lambda: Column("unit", String(200), nullable=False),
             "stream": lambda: Column("stream", String(36), nullable=False),
             "event_id": lambda: Column("event_id", String(64), nullable=False),
             "envelope": lambda: Column("envelope", LargeBinary, nullable=False),
             "body": lambda: Column("body", LargeBinary, nullable=False),
             "ref": lambda: Column("ref", String(32), nullable=False),
             "until_pos": lambda: Column("until_pos", BigInteger, nullable=True)}
    return [_pos()] + [kinds[n]() for n in names]


metadata = MetaData()
rm_state = Table("rm_state", metadata, Column("name", String(32), primary_key=True),
                 Column("position", BigInteger, nullable=False), Column("notification_id", BigInteger, nullable=False))
# Column order is the order of the rows `RowFolder` builds (rows are inserted and compared as plain tuples). `ref`
# is an adjustment's or decision's id as the whole log gives it (ledger.adjustments.unique_short_id).
rm_registry = Table("rm_registry", metadata, *_columns("event_id", "stream", "envelope"))
rm_years = Table("rm_years", metadata, *_columns("year", "event_id", "stream", "envelope"))
rm_values = Table("rm_values", metadata, *_columns("year", "unit", "stream", "event_id", "body", "until_pos"),
                  # serves a year's view, one of some units', and finding the value a correction supersedes
                  Index("rm_values_year_unit", "year", "unit"))
rm_adjustments = Table("rm_adjustments", metadata, *_columns("year", "unit", "stream", "event_id", "body", "ref"),
                       Index("rm_adjustments_unit_year", "unit", "year"), Index("rm_adjustments_stream", "stream"))
rm_decisions = Table("rm_decisions", metadata, *_columns("year", "unit", "stream", "event_id", "body", "ref"),
                     Index("rm_decisions_year_unit", "year", "unit"), Index("rm_decisions_stream", "stream"))
TABLES = (rm_registry, rm_years, rm_values, rm_adjustments, rm_decisions)
NAME = "views"
UNINDEXED = "unindexed"  # an rm_state row present while a load from nothing runs without the secondary indexes
BATCH = 5000


def ensure(engine) -> None:
    """Create the read-model tables if they are missing; tables of an older layout are dropped first (they are
    derived data: the next catch-up refills them from the log). Checked once per engine (each check is a few
    catalogue queries, and every view starts with a catch-up)."""
    if engine in _ENSURED:
        return
    inspector = inspect(engine)
    names = set(inspector.get_table_names())
    if names & {t.name for t in (*TABLES, rm_state)}:
        current = all(t.name in names and [c["name"] for c in inspector.get_columns(t.name)] == [c.name for c in t.c]
                      for t in TABLES)
        if not current:
            with engine.begin() as conn:
                for table in (*TABLES, rm_state):
                    table.drop(conn, checkfirst=True)
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
        unindexed = _unindexed(conn)
    index = LogIndex(store)
    index.catch_up()  # the index's event ids are read below, rather than recomputed
    if pos and not _still_matches(index, pos, nid):
        # the store no longer holds the event the views stopped at (restored or replaced): start again
        unindexed = _drop(store)
        pos, nid = 0, 0
    if unindexed and pos:
        _index(store)  # a load from nothing that stopped (or runs elsewhere): lookups below need the indexes
        unindexed = False
    # The folder remembers, for this pass, each value stream's row in force and each adjustment or decision stream's
    # scope and id, so a rebuild never looks them up in the tables; streams folded before this pass are.
    folder = RowFolder(pos)
    for chunk in _batches(store.stored_rows(after=nid, batch=batch), batch):
        with store.engine.begin() as conn:
            if _position(conn) != (pos, nid):
                return None
            if pos == 0 and not unindexed and len(chunk) == batch and conn.dialect.name == "sqlite":
                _unindex(conn)  # a first load of a long log
                unindexed = True
            new = _fold_batch(conn, folder, chunk)
            _move(conn, (pos, nid), new)
        pos, nid = new
        if progress:
            progress(pos)
    if unindexed:
        _index(store)
    return pos


def _batches(reader, batch: int):
    """Lists of `batch` stored rows, each folded with the cyclic collector paused (it runs between batches)."""
    while True:
        with collector_paused():
            chunk = list(islice(reader, batch))
            if not chunk:
                return
            yield chunk


def _fold_batch(conn, folder: RowFolder, chunk: list[tuple]) -> tuple[int, int]:
    """Write the rows of a batch of stored events; returns (position, notification id) after it. An event that is
    not a signed act as the writer stores it raises `ledger.stored.Damaged` (rowfold), before anything is written."""
    folder.earlier = _Earlier(conn)  # this transaction's rows, the batches before it included
    rows = folder.fold(chunk, _event_ids(conn, chunk))
    _write(conn, folder, rows)
    return folder.position, chunk[-1][0]


def _move(conn, old: tuple[int, int], new: tuple[int, int]) -> None:
    """Set the views' position, guarded by the one this transaction started from."""
    if old == (0, 0):
        conn.execute(insert(rm_state).values(name=NAME, position=new[0], notification_id=new[1]))
        return
    moved = conn.execute(update(rm_state).where(rm_state.c.name == NAME, rm_state.c.position == old[0])
                         .values(position=new[0], notification_id=new[1]))
    if moved.rowcount != 1:
        raise IntegrityError("read model moved", None, Exception("concurrent catch-up"))


def _unindex(conn) -> None:
    """Start a load from nothing without the secondary indexes: they are built once at the end (sorting a million
    keys beats inserting them one by one into B-trees that outgrow the cache). The mark says so to any later
    catch-up, should this one stop. SQLite only: on PostgreSQL the application's role need not own the tables."""
    conn.execute(insert(rm_state).values(name=UNINDEXED, position=0, notification_id=0))
    for table in TABLES:  # after the insert: SQLite's driver holds DDL in the transaction a DML statement began
        for idx in table.indexes:
            idx.drop(conn, checkfirst=True)


def _index(store) -> None:
    """Build the secondary indexes a load from nothing left out, and remove its mark, in one transaction."""
    with store.engine.begin() as conn:
        _build_indexes(conn)


def _build_indexes(conn) -> None:
    conn.execute(delete(rm_state).where(rm_state.c.name == UNINDEXED))
    for table in TABLES:
        for idx in table.indexes:
            idx.create(conn, checkfirst=True)


def _write(conn, folder: RowFolder, rows: dict[str, list]) -> None:
    """Close the superseded value rows of earlier batches, then insert the batch's rows (executemany: no per-row
    statement building)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    if folder.superseded:
        conn.exec_driver_sql(f"UPDATE rm_values SET until_pos = {mark} WHERE pos = {mark}",
                             [(until, p) for p, until in folder.superseded])
    for until, year, unit, stream in folder.superseded_unseen:
        # a value folded before this pass: found through (year, unit) — its stream is named for them
        conn.execute(update(rm_values).where(rm_values.c.year == year, rm_values.c.unit == unit,
                                             rm_values.c.stream == stream, rm_values.c.until_pos.is_(None))
                     .values(until_pos=until))
    folder.superseded.clear()
    folder.superseded_unseen.clear()
    for table in TABLES:
        values = rows[table.name]
        if values:
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(c.name for c in table.c)}) "
                                 f"VALUES ({', '.join([mark] * len(table.c))})", values)


class Query:
    """Statements written with `?` run on the connection's DB-API cursor in the driver's parameter style, giving
    plain tuples (building SQLAlchemy's rows costs as much as the query itself)."""

    def __init__(self, conn):
        self.cursor = conn.connection.cursor()
        self.mark = None if conn.dialect.paramstyle == "qmark" else "%s"

    def __call__(self, sql: str, params: tuple = ()) -> list[tuple]:
        self.cursor.execute(sql if self.mark is None else sql.replace("?", self.mark), params)
        return self.cursor.fetchall()


def _event_ids(conn, chunk) -> dict[int, str]:
    """notification id -> event id of a chunk's events, from the log index (events stored after the index was
    brought up to date are missing: their ids are computed)."""
    return dict(Query(conn)(f"SELECT notification_id, event_id FROM {log_entries.name} WHERE notification_id "
                            f"BETWEEN ? AND ?", (chunk[0][0], chunk[-1][0])))


class _Earlier:
    """What the tables hold about streams folded before a catch-up's pass (`rowfold.Earlier`)."""

    def __init__(self, conn):
        self.query = Query(conn)

    def scope(self, table: str, stream: str):
        rows = self.query(f"SELECT year, unit, ref FROM {_table(table).name} WHERE stream = ? LIMIT 1", (stream,))
        return None if not rows else (int(rows[0][0]), rows[0][1], rows[0][2])

    def ids(self, table: str, stream: str) -> set[str]:
        # a stream id's first 8 digits end at its first '-', which sorts just before '.'
        return {ref for (ref,) in self.query(f"SELECT ref FROM {_table(table).name} WHERE stream >= ? AND stream < ?",
                                             (stream[:8] + "-", stream[:8] + "."))}


def _table(name: str) -> Table:
    return rm_adjustments if name == rm_adjustments.name else rm_decisions


def _still_matches(index: LogIndex, pos: int, nid: int) -> bool:
    """Whether position `pos` of the log is still the event (notification) the views were folded up to."""
    row = index.by_position(pos)
    return row is not None and row.notification_id == nid


def _drop(store) -> bool:
    """Empty the read models (`_empty`) in a transaction of their own."""
    with store.engine.begin() as conn:
        return _empty(conn)


def _empty(conn) -> bool:
    """Empty the read models; whether the secondary indexes are left out now. On SQLite they go first (emptying the
    tables with them costs a tenth of a load) and the next load builds them; a load that left them out and stopped
    has its mark kept."""
    conn.execute(delete(rm_state).where(rm_state.c.name == NAME))  # DML first: SQLite's driver then holds the DDL
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # Debian's SQLite overwrites every freed page with zeros (secure_delete): a quarter of a rebuild's time
        # here, and nothing in these rows is not in the log, which is kept
        secure = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
        conn.exec_driver_sql("PRAGMA secure_delete = 0")
    unindexed = _unindexed(conn)
    if sqlite and not unindexed:
        _unindex(conn)
        unindexed = True
    for table in TABLES:
        conn.execute(delete(table))
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA secure_delete = {int(secure)}")
    return unindexed


def _unindexed(conn) -> bool:
    return conn.execute(select(rm_state.c.name).where(rm_state.c.name == UNINDEXED)).first() is not None


def rebuild(store, progress: Callable[[int], None] | None = None, batch: int = BATCH) -> int:
    """Empty the read models and fold the whole log again, in one transaction: a rebuild that stops, killed or
    refused at a stored event it cannot fold (`ledger.stored.Damaged`), leaves them as they were."""
    ensure(store.engine)
    LogIndex(store).catch_up()  # the index's event ids are read below, rather than recomputed
    for _attempt in range(50):
        try:
            return _rebuild_once(store, progress, batch)
        except (IntegrityError, OperationalError):
            pass  # a catch-up committed rows between the emptying and ours: start again
    raise RuntimeError("could not rebuild the read models")


def _rebuild_once(store, progress, batch) -> int:
    with store.engine.begin() as conn:
        unindexed = _empty(conn)
        # The folder remembers every stream of the log: the tables it is writing are never looked up.
        folder, at = RowFolder(0), (0, 0)
        for chunk in _batches(store.stored_rows(batch=batch), batch):
            at = _fold_batch(conn, folder, chunk)
            if progress:
                progress(at[0])
        if at != (0, 0):
            _move(conn, (0, 0), at)
        if unindexed:
            _build_indexes(conn)
    return at[0]

"""The event store: eventsourcing's built-in SQLite or PostgreSQL recorder under one `--db` URL.

Every stored event is one signed act in a stream (an eventsourcing aggregate). The library gives the ordering, the
atomic append and optimistic concurrency on (stream, version); signatures, verification and the Merkle log are ours.
The built-in recorders were chosen over eventsourcing-sqlalchemy by measurement (about 3× faster to read back, see
docs/performance.md); side tables (log index, Merkle nodes, read models) use SQLAlchemy on the same database.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, unquote, urlsplit
from uuid import UUID

import sqlalchemy
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from .errors import LedgerError, NotFound, first_line

DEFAULT_DB = "ledger.db"
ENV_DB = "LEDGER_DB"


class Stream(Aggregate):
    """A sequence of signed acts about one thing (the ledger, a year, a score, an adjustment…)."""

    TOPIC = "kaohe:Stream"

    class Event(Aggregate.Event):
        TOPIC = "kaohe:Stream.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "kaohe:Stream.Created"

    class Opened(Aggregate.Created):
        TOPIC = "kaohe:Stream.Opened"
        envelope: dict
        signature: dict

    class Appended(Aggregate.Event):
        TOPIC = "kaohe:Stream.Appended"
        envelope: dict
        signature: dict

        def apply(self, aggregate: "Stream") -> None:
            aggregate.acts.append((self.envelope, self.signature))

    def __init__(self, envelope: dict, signature: dict):
        self.acts: list[tuple[dict, dict]] = [(envelope, signature)]

    @classmethod
    def open(cls, stream_id: UUID, envelope: dict, signature: dict) -> "Stream":
        """A new stream whose first act is `envelope`."""
        return cls._create(cls.Opened, id=stream_id, envelope=envelope, signature=signature)

    def append(self, envelope: dict, signature: dict) -> None:
        """Record the next act of this stream."""
        self.trigger_event(self.Appended, envelope=envelope, signature=signature)


class LedgerApp(Application):
    name = "kaohe"


SQLITE_EVENTS_TABLE = "stored_events"  # the built-in SQLite recorder's table
PG_EVENTS_TABLE = "kaohe_events"  # the built-in PostgreSQL recorder's table for the application named "kaohe"
PG_DDL_LOCK = 0x6B616F6865  # pg_advisory_lock key serialising schema changes ("kaohe" in ASCII)


@dataclass(frozen=True)
class StoredAct:
    """One stored event read back: its place in the store, what was signed, and when the store recorded it."""

    notification_id: int
    stream: str
    version: int
    topic: str
    envelope: dict
    signature: dict
    recorded_at: str


@dataclass(frozen=True)
class Target:
    """Where a `--db` URL points."""

    kind: str  # "sqlite" | "postgres"
    env: dict
    sqlalchemy_url: str
    display: str


def resolve_target(url: str | None) -> Target:
    """Turn `--db` (a SQLite path or URL, or a postgresql URL) into recorder settings and a SQLAlchemy URL."""
    url = url or os.environ.get(ENV_DB) or DEFAULT_DB
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        parts = urlsplit(url)
        if not parts.path.strip("/"):
            raise LedgerError(f"database URL {url!r} names no database")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
        sa_url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return Target("postgres", env, sa_url, url)
    if url.startswith("sqlite:"):
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        if not path:
            raise LedgerError(f"database URL {url!r}: use sqlite:///PATH")
    elif "://" in url:
        raise LedgerError(f"unsupported database URL {url!r}: use a SQLite file path or postgresql+psycopg://…")
    else:
        path = url
    abs_path = str(Path(path).expanduser().resolve())
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": abs_path, "SQLITE_LOCK_TIMEOUT": "30"}
    return Target("sqlite", env, "sqlite:///" + abs_path, abs_path)


class EventStore:
    """Opens the recorder and the SQLAlchemy engine for one database; reads and appends streams."""

    def __init__(self, url: str | None = None):
        self.target = resolve_target(url)
        self._app: LedgerApp | None = None
        self._engine: sqlalchemy.Engine | None = None

    def check_sqlite_file(self, create: bool = False) -> None:
        """Refuse a SQLite file that is missing or holds no event table (unless `create`), or that holds another
        application's tables, without touching it: opening the recorder would create its tables there. Used where
        the CLI opens a store; PostgreSQL databases are not checked."""
        if self.target.kind != "sqlite":
            return
        path = self.target.display
        tables = _sqlite_tables(path) if os.path.exists(path) else set()
        if SQLITE_EVENTS_TABLE in tables or (create and not tables):
            return
        if tables:
            raise LedgerError(f"{path} is not a kaohe-ledger database (it holds other tables)")
        raise NotFound(f"no ledger in {path}; create one with `ledger init`")

    @property
    def app(self) -> LedgerApp:
        if self._app is None:
            try:
                self._app = self._open_app()
            except Exception as exc:  # the driver's own error types vary; the user needs one line
                raise LedgerError(f"cannot open the event store at {self.target.display}: {first_line(exc)}") from None
        return self._app

    def _open_app(self) -> LedgerApp:
        if self.target.kind != "postgres":
            return LedgerApp(env=self.target.env)
        # The PostgreSQL recorder runs its DDL (CREATE OR REPLACE FUNCTION …) every time it opens, and processes that
        # open one database at once fail with "tuple concurrently updated". Skip the DDL when the table is there,
        # and create it under an advisory lock when it is not, so that one process creates and the others wait.
        with self.engine.connect() as conn:
            if conn.execute(sqlalchemy.text("SELECT to_regclass(:t)"), {"t": PG_EVENTS_TABLE}).scalar() is not None:
                return LedgerApp(env={**self.target.env, "CREATE_TABLE": "n"})
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": PG_DDL_LOCK})
            try:
                return LedgerApp(env=self.target.env)
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": PG_DDL_LOCK})

    @property
    def engine(self) -> sqlalchemy.Engine:
        if self._engine is None:
            if self.target.kind == "sqlite":
                self._engine = sqlalchemy.create_engine(self.target.sqlalchemy_url,
                                                        connect_args={"timeout": 30})
                sqlalchemy.event.listen(self._engine, "connect", _sqlite_pragmas)
            else:
                self._engine = sqlalchemy.create_engine(self.target.sqlalchemy_url, pool_pre_ping=True)
        return self._engine

    def exists(self) -> bool:
        """Whether any event has been stored."""
        return self.max_notification_id() > 0

    def max_notification_id(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def load(self, stream_id: UUID) -> Stream | None:
        """The stream with all its acts, or None."""
        try:
            return self.app.repository.get(stream_id)
        except AggregateNotFoundError:
            return None

    def save(self, stream: Stream) -> int | None:
        """Append the stream's new acts atomically; a concurrent append to the same stream raises Conflict. Returns
        the notification id of the last act stored (None if the recorder did not say)."""
        try:
            recordings = self.app.save(stream)
        except IntegrityError:
            raise Conflict("another act was stored in the same stream at the same time; sign again") from None
        ids = [r.notification.id for r in recordings if r.notification is not None]
        return ids[-1] if ids and ids[-1] else None

    def read(self, after: int = 0, batch: int = 1000, upto: int | None = None) -> Iterator[StoredAct]:
        """Every stored act in log order after notification id `after`."""
        recorder = self.app.recorder
        start = after
        while True:
            rows = recorder.select_notifications(start=start or None, limit=batch,
                                                 inclusive_of_start=not start, stop=upto)
            if not rows:
                return
            for row in rows:
                yield self.decode(row)
            start = rows[-1].id
            if len(rows) < batch:
                return

    def stored_rows(self, after: int = 0, batch: int = 2000) -> Iterator[tuple[int, str, int, str, bytes]]:
        """(notification id, stream, version, topic, state bytes) of every stored event after notification id
        `after`, in log order: one plain SELECT a batch through the driver (SQLAlchemy's rows cost a third of a
        rebuild), the stream as `read` gives it, nothing decoded — for readers that decode the state themselves
        (the read models, verify's workers, the log index)."""
        table, nid, mark = self._events_table()
        statement = (f'SELECT {nid}, originator_id, originator_version, topic, state FROM "{table}" '
                     f"WHERE {nid} > {mark} ORDER BY {nid} LIMIT {mark}")
        while True:
            rows = self._fetch(statement, (after, batch))
            for row_id, stream, version, topic, state in rows:
                yield row_id, _stream_text(stream), version, topic, bytes(state)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def recorded_times(self, notification_ids: list[int]) -> dict[int, str]:
        """The time the store recorded each of these events (as `read` gives it), by notification id; one plain
        SELECT per 500 ids (a unit's history shows a few hundred acts of a million)."""
        table, nid, mark = self._events_table()
        out: dict[int, str] = {}
        wanted = sorted(set(notification_ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for row_id, state in self._fetch(f'SELECT {nid}, state FROM "{table}" '
                                             f'WHERE {nid} IN ({", ".join([mark] * len(chunk))})', chunk):
                out[row_id] = _recorded_at(bytes(state))
        return out

    def _events_table(self) -> tuple[str, str, str]:
        """The recorder's event table, its notification id column and the driver's parameter mark."""
        nid, mark = ("rowid", "?") if self.target.kind == "sqlite" else ("notification_id", "%s")
        return self.app.recorder.events_table_name, nid, mark

    def _fetch(self, statement: str, params) -> list[tuple]:
        """Every row of one plain SELECT through the driver."""
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            cursor.execute(statement, params)
            rows = cursor.fetchall()
            cursor.close()
        finally:
            conn.close()
        return rows

    def decode(self, row) -> StoredAct:
        """A notification row as a StoredAct. The state is plain JSON (no cipher, no compression), so it is read
        directly: three times faster than building the library's event objects, and it is what verify re-hashes."""
        try:
            state = json.loads(row.state)
            stamp = state["timestamp"]
            if stamp.get("_type_") != "datetime_iso":
                raise ValueError("timestamp")
            return StoredAct(row.id, str(row.originator_id), row.originator_version, row.topic,
                             state.get("envelope"), state.get("signature"), stamp["_data_"])
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            return StoredAct(row.id, str(row.originator_id), row.originator_version, row.topic, None, None, "")

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class Conflict(LedgerError):
    """A concurrent writer got there first; re-read and retry where that is safe."""


def _sqlite_tables(path: str) -> set[str]:
    """The tables of a SQLite file, read through a read-only connection (which cannot create or change it)."""
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30)
        try:
            return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise LedgerError(f"{path} is not a kaohe-ledger database ({exc})") from None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # This engine writes only derived tables (log index, Merkle nodes, read models), which are recomputed from the
    # events; the events are written by the recorder's own connection with its own settings. In WAL mode NORMAL
    # cannot corrupt the file, it may only lose the last derived transactions on power loss — and it takes the
    # WAL fsync out of every commit (a quarter of a million-event rebuild).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _recorded_at(state: bytes) -> str:
    """The record time in a stored state, as `EventStore.decode` reads it ("" when it holds none)."""
    try:
        stamp = json.loads(state)["timestamp"]
        return stamp["_data_"] if stamp.get("_type_") == "datetime_iso" else ""
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return ""


_HEX32 = re.compile("[0-9a-f]{32}")


def _stream_text(stream) -> str:
    """The stream id as `EventStore.read` gives it (the recorder's own reader parses it as a UUID)."""
    if isinstance(stream, str) and _HEX32.fullmatch(stream):  # SQLite: 32 lower-case hex digits
        return f"{stream[:8]}-{stream[8:12]}-{stream[12:16]}-{stream[16:20]}-{stream[20:]}"
    try:
        return str(stream if isinstance(stream, UUID) else UUID(stream))
    except (ValueError, TypeError, AttributeError):
        return str(stream)  # not a stream id: verify's row check names the mismatch

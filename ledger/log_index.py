"""The log index: every stored event's sequence position, event id and Merkle leaf, kept in step with the store.

Positions are 1, 2, 3… in log order, on every backend (PostgreSQL's own ids may have gaps after a rolled-back
insert, so they are not positions). The index is derived data: `ledger verify` recomputes it from the events.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import orjson

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, select, text
from sqlalchemy.exc import IntegrityError as SAIntegrityError, OperationalError, ProgrammingError

from . import merkle_store
from .canonical import canonical, sha256_hex
from .errors import LedgerError
from .merkle import leaf_hash
from .protection import protect
from .store import EventStore, StoredAct

INDEX_LOCK = 0x6B616F686C  # pg_advisory_xact_lock key of the indexer
metadata = MetaData()
log_entries = Table(
    "kaohe_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("notification_id", BigInteger, nullable=False, unique=True),
    Column("event_id", String(64), nullable=False, index=True),
    Column("stream", String(36), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False, index=True),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)


def event_id(envelope: dict) -> str:
    """An event's id: the hex SHA-256 of its canonical signed envelope."""
    return sha256_hex(canonical(envelope))


def leaf_bytes(act: StoredAct) -> bytes:
    """The Merkle leaf of a stored event: canonical bytes of what was signed, its signature and the record time."""
    return canonical({"envelope": act.envelope, "signature": act.signature, "recorded_at": act.recorded_at})


def id_and_leaf(act: StoredAct, body: bytes | None = None) -> tuple[str, bytes]:
    """(event id, Merkle leaf hash) of a stored event, encoding its envelope once: the leaf object's keys sort as
    envelope < recorded_at < signature, so its RFC 8785 bytes are the envelope's (which the id hashes) with the
    other two around them. The general encoding is used (and raises its own error) for anything unusual. `body`:
    the envelope's canonical bytes, when the caller has them."""
    body = canonical(act.envelope) if body is None else body
    try:
        if not isinstance(act.recorded_at, str):
            raise LedgerError("not a record time")
        leaf = b'{"envelope":' + body + b',"recorded_at":' + canonical(act.recorded_at) + b',"signature":' \
            + canonical(act.signature) + b"}"
    except LedgerError:
        leaf = leaf_bytes(act)
    return sha256_hex(body), leaf_hash(leaf)


@dataclass(frozen=True)
class IndexRow:
    seq: int
    notification_id: int
    event_id: str
    stream: str
    version: int
    type: str


class LogIndex:
    """Maintains `kaohe_log` and the Merkle nodes incrementally after every append."""

    def __init__(self, store: EventStore):
        self.store = store
        self._ready = False

    def ensure_tables(self) -> None:
        """Create the index tables if missing and protect the append-only tables (ledger.protection), once per
        process; safe when several processes open a new database at once."""
        if not self._ready:
            events_table = self.store.app.recorder.events_table_name  # opening the store creates the event table
            for attempt in range(3):
                try:
                    metadata.create_all(self.store.engine)
                    merkle_store.metadata.create_all(self.store.engine)
                    break
                except (SAIntegrityError, OperationalError, ProgrammingError):
                    if attempt == 2:  # create_all checks, then creates: another process created it in between
                        raise
            protect(self.store.engine, events_table)
            self._ready = True

    def head(self) -> tuple[int, int]:
        """(last indexed position, its notification id)."""
        self.ensure_tables()
        with self.store.engine.connect() as conn:
            return _head(conn)

    def catch_up(self, progress=None, known: Mapping[tuple[str, int], tuple[str, bytes, str]] | None = None) -> int:
        """Index every stored event not indexed yet; returns the log size. Safe to run in many processes at once.

        `known` maps (stream, version) to the (event id, leaf hash, type) of events this process has just inserted
        and computed already (the bulk append): (stream, version) is unique in the store, so the row read back is
        the one they were computed from, and its state is not decoded again."""
        known = known or {}
        self.ensure_tables()
        for _attempt in range(20):
            try:
                with self.store.engine.begin() as conn:
                    seq, last_nid = _head(conn)
                    if self.store.max_notification_id() <= last_nid:
                        return seq  # nothing to index: no lock taken, nothing written
                    # One indexer at a time. Without this, every process that has just appended races the others
                    # to index the same events; the losers redo the work and, under load, could lose every attempt.
                    _lock_for_indexing(conn)
                    _large_cache(conn)
                    seq, last_nid = _head(conn)  # what the indexer before us did
                    batch_rows, leaves = [], []
                    for nid, stream, version, topic, state in self.store.stored_rows(after=last_nid):
                        seq += 1
                        eid, lh, kind = known.get((stream, version)) or _computed(nid, stream, version, topic, state)
                        batch_rows.append((seq, nid, eid, stream, version, kind, lh))
                        leaves.append(lh)
                        if len(batch_rows) >= 2000:
                            _flush(conn, batch_rows, leaves)
                            if progress:
                                progress(seq)
                    _flush(conn, batch_rows, leaves)
                    if progress:
                        progress(seq)
                    return seq
            except (SAIntegrityError, OperationalError):
                continue  # another process indexed the same events first; read its result
        raise RuntimeError("could not bring the log index up to date")

    def root(self, size: int) -> bytes:
        """Merkle root of the first `size` events."""
        self.ensure_tables()
        with self.store.engine.connect() as conn:
            return merkle_store.root(conn, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self.ensure_tables()
        with self.store.engine.connect() as conn:
            return merkle_store.inclusion_proof(conn, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        self.ensure_tables()
        with self.store.engine.connect() as conn:
            return merkle_store.consistency_proof(conn, old, new)

    def leaf_hash(self, seq: int) -> bytes:
        """The stored Merkle leaf hash at a position."""
        self.ensure_tables()
        with self.store.engine.connect() as conn:
            return bytes(conn.execute(select(log_entries.c.leaf_hash).where(log_entries.c.seq == seq)).scalar_one())

    def by_notification(self, notification_id: int) -> IndexRow | None:
        return self._one(log_entries.c.notification_id == notification_id)

    def by_position(self, seq: int) -> IndexRow | None:
        return self._one(log_entries.c.seq == seq)

    def recorded_times(self, positions: list[int]) -> dict[int, str]:
        """The time the store recorded the acts at these positions, by position."""
        self.ensure_tables()
        wanted, nids = sorted(set(positions)), {}
        with self.store.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                nids.update(conn.execute(select(log_entries.c.seq, log_entries.c.notification_id)
                                         .where(log_entries.c.seq.in_(wanted[start:start + 500]))).all())
        times = self.store.recorded_times(list(nids.values()))
        return {pos: times.get(nid, "") for pos, nid in nids.items()}

    def by_event(self, prefix: str) -> list[IndexRow]:
        """Rows whose event id starts with `prefix`."""
        prefix = prefix.lower()
        return [r for r in self._many(*_starting_with(log_entries.c.event_id, prefix)) if r.event_id.startswith(prefix)]

    def streams_like(self, prefix: str, first_type: str) -> list[str]:
        """Streams opened by an act of `first_type` whose id starts with `prefix`, in the order they were opened."""
        # only the stream condition goes to SQL: given the others too, the planner may scan by type instead
        prefix = prefix.lower()
        rows = self._many(*_starting_with(log_entries.c.stream, prefix))
        return [r.stream for r in sorted(rows, key=lambda r: r.seq)
                if r.version == 1 and r.type == first_type and r.stream.startswith(prefix)]

    def any_stream_like(self, prefix: str) -> bool:
        """Whether any stored event's stream id starts with `prefix`."""
        prefix = prefix.lower()
        return any(r.stream.startswith(prefix) for r in self._many(*_starting_with(log_entries.c.stream, prefix)))

    def streams_of_type(self, first_type: str) -> list[str]:
        return [r.stream for r in self._many(log_entries.c.version == 1, log_entries.c.type == first_type)]

    def _one(self, *where) -> IndexRow | None:
        rows = self._many(*where)
        return rows[0] if rows else None

    def _many(self, *where) -> list[IndexRow]:
        self.ensure_tables()
        cols = [log_entries.c.seq, log_entries.c.notification_id, log_entries.c.event_id, log_entries.c.stream,
                log_entries.c.version, log_entries.c.type]
        with self.store.engine.connect() as conn:
            return [IndexRow(*r) for r in conn.execute(select(*cols).where(*where).order_by(log_entries.c.seq))]


def _lock_for_indexing(conn) -> None:
    """Hold the index's write lock until the transaction ends (PostgreSQL: an advisory lock; SQLite: the database's
    write lock, taken now rather than at the first insert, so that the head read next is the one inserted after)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": INDEX_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _head(conn) -> tuple[int, int]:
    # the last row by primary key: one index probe. (SELECT max(a), max(b) is a full scan on SQLite, which only
    # optimises a lone min/max: 0.1 s per call at a million events.) Positions follow notification ids.
    row = conn.execute(select(log_entries.c.seq, log_entries.c.notification_id)
                       .order_by(log_entries.c.seq.desc()).limit(1)).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _flush(conn, rows: list, leaves: list) -> None:
    if not rows:
        return
    # the driver's executemany of plain tuples: SQLAlchemy's per-row dicts cost half the indexing of a bulk append
    conn.exec_driver_sql(merkle_store.insert_sql(conn, log_entries.name, _COLUMNS), list(rows))
    merkle_store.append_leaves(conn, rows[0][0] - 1, list(leaves))
    rows.clear()
    leaves.clear()


def _large_cache(conn) -> None:
    """SQLite: a page cache of up to 128 MB on this connection while it indexes. Event ids and stream ids are random
    keys, so every row lands on another page of their indexes; at a million events those indexes are ~150 MB, and
    with SQLite's default 2 MB cache each insert reads its pages back from the OS (a third of the indexing)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-131072")


_COLUMNS = ("seq", "notification_id", "event_id", "stream", "version", "type", "leaf_hash")


def _computed(nid: int, stream: str, version: int, topic: str, state: bytes) -> tuple[str, bytes, str]:
    act = StoredAct(nid, stream, version, topic, *decode_state(state))
    eid, leaf = id_and_leaf(act)
    return eid, leaf, str(act.envelope.get("type", "") if isinstance(act.envelope, dict) else "")[:64]


def _starting_with(column, prefix: str) -> tuple:
    """A prefix as a range of the column's index (LIKE, which `startswith` compiles to, scans the whole table on
    SQLite, and would read % and _ in the prefix as wildcards)."""
    if not prefix:
        return ()
    if ord(prefix[-1]) >= 0x10FFFF:  # no next character: the callers filter the rest
        return (column >= prefix,)
    return column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1)


def indexed_entries(engine) -> IndexedEntries:
    """The derived index's leaf hash and event id (32 + 32 bytes) per position, for comparison; never trusted."""
    conn = engine.raw_connection()  # the driver's rows: a million through SQLAlchemy's cost a second
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT seq, leaf_hash, event_id FROM {log_entries.name} ORDER BY seq")
        indexed = IndexedEntries()
        # in batches: a million rows fetched at once held 270 MB, at the start of every verify
        while rows := cursor.fetchmany(10_000):
            for seq, leaf, eid in rows:
                try:
                    indexed.add(int(seq), bytes(leaf) + bytes.fromhex(eid))
                except (TypeError, ValueError):  # not hex: an edited index; 0xff never ends an id's digest
                    indexed.add(int(seq), bytes(leaf) + b"\xff" * 33)
        cursor.close()
        return indexed
    finally:
        conn.close()


class IndexedEntries(Mapping):
    """position -> the index's leaf hash and event id, packed: positions 1, 2, 3… of 64 bytes each in one byte
    string (a million held 64 MB, where a dict of bytes held 162), any other entry (an edited index) in a dict."""

    def __init__(self) -> None:
        self._run, self._count, self._rest = bytearray(), 0, {}

    def add(self, position: int, entry: bytes) -> None:
        if not self._rest and position == self._count + 1 and len(entry) == 64:
            self._run += entry
            self._count = position
        else:
            self._rest[position] = entry

    def __getitem__(self, position: int) -> bytes:
        if 1 <= position <= self._count:
            return bytes(self._run[(position - 1) * 64:position * 64])
        return self._rest[position]

    def __contains__(self, position: object) -> bool:
        return (isinstance(position, int) and 1 <= position <= self._count) or position in self._rest

    def __iter__(self) -> Iterator[int]:
        yield from range(1, self._count + 1)
        yield from self._rest

    def __len__(self) -> int:
        return self._count + len(self._rest)


# ---- the stored events as bytes ------------------------------------------------------------------------------------

# digits to "0", everything else to " ": a run of 19 zeros is a possible integer outside 64 bits (10× faster than a
# regular expression over the state)
_DIGITS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_DIGITS = b"0" * 19


def decode_state(state: bytes) -> tuple:
    """(envelope, signature, recorded time) from a stored state, exactly as `EventStore.decode` reads it (with json);
    (None, None, "") when it is not one. orjson, 3 times faster, reads what it accepts as json does, except an
    integer outside 64 bits (a float for orjson): a state with 19 digits in a row is left to json."""
    try:
        try:
            doc = json.loads(state) if _LONG_DIGITS in state.translate(_DIGITS) else orjson.loads(state)
        except orjson.JSONDecodeError:  # NaN, lone surrogates, a BOM, UTF-16…: the standard decoder's reading
            doc = json.loads(state)
        stamp = doc["timestamp"]
        if stamp.get("_type_") != "datetime_iso":
            raise ValueError("timestamp")
        return doc.get("envelope"), doc.get("signature"), stamp["_data_"]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None, None, ""

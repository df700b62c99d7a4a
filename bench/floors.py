"""Hardware floors, measured in the same run as the figures they are compared with: the same work done with the raw
primitives and nothing else (no checks, no objects, no framework), so a ratio says how much the ledger adds.

- sign + verify + insert: Ed25519 over the very canonical messages the ledger signed, and an `executemany` of the
  very rows it stored into a table of the same shape (same backend), in transactions of the same size;
- select + decode: the stored rows read with one raw SELECT in batches and each state decoded with `json.loads`;
- verify on all cores: the signatures of the log verified by a process pool of one worker per core (the pool is
  started before the clock starts).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import tempfile
import time
from pathlib import Path

CHUNK = 2000


def _verify_chunk(items: list[tuple[bytes, bytes, bytes]]) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys: dict[bytes, Ed25519PublicKey] = {}
    for raw, sig, message in items:
        key = keys.get(raw) or keys.setdefault(raw, Ed25519PublicKey.from_public_bytes(raw))
        key.verify(sig, message)
    return len(items)


def verify_all_cores(items: list[tuple[bytes, bytes, bytes]], workers: int | None = None) -> float:
    """Seconds to verify (raw public key, signature, message) triples on one process per core."""
    workers = workers or os.cpu_count() or 1
    chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
    with multiprocessing.get_context("forkserver").Pool(workers) as pool:
        pool.map(_verify_chunk, [items[:10]] * workers)  # started and warm before the clock starts
        t0 = time.perf_counter()
        pool.map(_verify_chunk, chunks, chunksize=1)
        return time.perf_counter() - t0


def sign_verify_one_core(signers: list, messages: list[bytes]) -> tuple[float, float, list[bytes]]:
    """(seconds to sign, seconds to verify, signatures): each message signed by its Ed25519PrivateKey, one core."""
    t0 = time.perf_counter()
    sigs = [key.sign(message) for key, message in zip(signers, messages)]
    t1 = time.perf_counter()
    publics = {id(k): k.public_key() for k in set(signers)}
    for key, sig, message in zip(signers, sigs, messages):
        publics[id(key)].verify(sig, message)
    return t1 - t0, time.perf_counter() - t1, sigs


def insert_rows(rows: list[tuple], backend: str, pg_url: str | None = None, batch: int = 5000) -> float:
    """Seconds to executemany (originator_id, version, topic, state) rows into a fresh table shaped like the event
    table, `batch` rows per transaction: SQLite in a new WAL file, or a new table on the PostgreSQL server."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            conn = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                         "state BLOB, PRIMARY KEY (originator_id, originator_version))")
            t0 = time.perf_counter()
            for i in range(0, len(rows), batch):
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows[i:i + batch])
                conn.execute("COMMIT")
            seconds = time.perf_counter() - t0
            conn.close()
            return seconds
    import psycopg

    with psycopg.connect(_plain(pg_url)) as conn:
        table = f"floor_{os.getpid()}"
        conn.execute(f"CREATE TABLE {table} (originator_id uuid NOT NULL, originator_version integer NOT NULL, "
                     "topic text, state bytea, notification_id bigserial, "
                     "PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        t0 = time.perf_counter()
        for i in range(0, len(rows), batch):
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                                "VALUES (%s, %s, %s, %s)", rows[i:i + batch])
            conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute(f"DROP TABLE {table}")
        conn.commit()
        return seconds


def select_decode(target, batch: int = 5000) -> tuple[float, int]:
    """(seconds, rows) to read every stored event in order with a raw SELECT and json.loads each state."""
    if target.kind == "sqlite":
        conn = sqlite3.connect(target.display)
        t0 = time.perf_counter()
        cur = conn.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                           "ORDER BY rowid")
        n = 0
        while rows := cur.fetchmany(batch):
            for row in rows:
                json.loads(row[4])
            n += len(rows)
        seconds = time.perf_counter() - t0
        conn.close()
        return seconds, n
    import psycopg

    with psycopg.connect(_plain(target.sqlalchemy_url)) as conn:
        t0 = time.perf_counter()
        n, last = 0, 0
        while True:  # keyset pages, as the recorder reads
            rows = conn.execute("SELECT notification_id, originator_id, originator_version, topic, state "
                                "FROM kaohe_events WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
                                (last, batch)).fetchall()
            if not rows:
                break
            for row in rows:
                json.loads(row[4])
            n, last = n + len(rows), rows[-1][0]
        return time.perf_counter() - t0, n


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")

"""`verify` reads the store's rows as bytes and decodes them itself (orjson, json where orjson differs), in the main
process and again in the workers: on every stored state, tampered or not, it must find exactly what verifying the
events as `EventStore.read` decodes them finds."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ledger import precheck
from ledger.integrity import stored_acts, verify_log
from ledger.log_index import IndexedEntries, indexed_entries
from ledger.protection import drop_statements
from ledger.store import EventStore
from tests.cliharness import Cli
from tests.hy_ledger import OTHER, UNIT, build

POSITION = 6  # the first score


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("decoding")
    db = folder / "base.db"
    run = Cli(str(db), folder)
    keys = build(run, folder)
    for unit, points in ((UNIT, "70"), (OTHER, "75")):
        run("score", "record", "--year", "2017", "--unit", unit, "--indicator", "指标评估", "--points", points,
            "--sign-with", keys["kh"]).ok()
    return db


def _copy_with_state(base: Path, target: Path, edit) -> str:
    with sqlite3.connect(base) as src, sqlite3.connect(target) as dst:
        src.backup(dst)  # the WAL's pages included
    conn = sqlite3.connect(target, isolation_level=None)
    for drop in drop_statements("sqlite"):
        conn.execute(drop)
    (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (POSITION,)).fetchone()
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (edit(bytes(state)), POSITION))
    conn.close()
    return str(target)


def _outcome(report) -> tuple:
    return report.size, report.root, report.signatures_checked, [str(f) for f in report.failures]


def _both(url: str, workers: int = 1) -> tuple[tuple, tuple]:
    store = EventStore(url)
    try:
        indexed = indexed_entries(store.engine)
        by_reader = verify_log(store.read(batch=2000), [], indexed, workers=1)[0]
        by_bytes = verify_log(stored_acts(store, batch=3), [], indexed, workers=workers)[0]
        return _outcome(by_reader), _outcome(by_bytes)
    finally:
        store.close()


EDITS = {
    "untouched": lambda s: s,
    "not UTF-8": lambda s: s.replace(b'"envelope"', b'"envelope\xff"', 1),
    "an encoded lone surrogate": lambda s: s.replace("指标".encode(), b"\xed\xa0\x80", 1),
    "an escaped lone surrogate": lambda s: s.replace("指标".encode(), b"\\ud800", 1),
    "NaN": lambda s: s.replace(b'"version":', b'"nan":NaN,"version":', 1),
    "a float": lambda s: s.replace(b'"version":', b'"f":1.5,"version":', 1),
    "an integer beyond 64 bits": lambda s: s.replace(b'"version":', b'"big":18446744073709551616,"version":', 1),
    "an integer below -2**63": lambda s: s.replace(b'"version":', b'"low":-9223372036854775809,"version":', 1),
    "a byte-order mark": lambda s: b"\xef\xbb\xbf" + s,
    "UTF-16": lambda s: s.decode("utf-8").encode("utf-16"),
    "not JSON": lambda s: s[:-3],
    "duplicate keys": lambda s: s.replace(b'"envelope":', b'"envelope":{},"envelope":', 1),
}


SAME_CONTENT = {"untouched", "a byte-order mark", "UTF-16", "duplicate keys"}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_stored_bytes_verify_as_the_store_reads_them(base, tmp_path, edit):
    url = _copy_with_state(base, tmp_path / "edited.db", EDITS[edit])
    by_reader, by_bytes = _both(url)
    assert by_bytes == by_reader
    # re-encoding the same content is no change to what was signed: the leaf covers the decoded values
    assert (by_reader[3] == []) == (edit in SAME_CONTENT)


def test_the_worker_pool_finds_what_one_process_finds(base, tmp_path, monkeypatch):
    monkeypatch.setattr(precheck, "CHUNK", 2)  # tiny chunks: every event goes through the pool
    url = _copy_with_state(base, tmp_path / "edited.db", EDITS["a float"])
    by_reader, by_bytes = _both(url, workers=2)
    assert by_bytes == by_reader and by_reader[3]


def test_the_index_read_for_verify_is_packed_and_reads_as_a_dict():
    entries = {p: bytes([p % 256]) * 64 for p in range(1, 2001)}
    entries[2001] = b"\x01" * 32 + b"\xff" * 33  # an edited row: packed no further
    entries[2003] = b"\x02" * 64  # a gap
    entries[2002] = b"\x03" * 64
    packed = IndexedEntries()
    for position, entry in entries.items():
        packed.add(position, entry)
    assert dict(packed) == entries and len(packed) == len(entries) and max(packed) == 2003
    assert 1 in packed and 2000 in packed and 2002 in packed and 0 not in packed and 2004 not in packed
    assert "1" not in packed and packed[5] == entries[5] and packed[2001] == entries[2001]
    with pytest.raises(KeyError):
        packed[2004]


def test_an_index_stored_out_of_order_is_read_in_order(base, tmp_path):
    target = tmp_path / "reversed.db"
    with sqlite3.connect(base) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    store = EventStore(str(target))
    try:
        expected = dict(indexed_entries(store.engine))
        conn = sqlite3.connect(target, isolation_level=None)
        for drop in drop_statements("sqlite"):
            conn.execute(drop)
        rows = conn.execute("SELECT * FROM kaohe_log ORDER BY seq DESC").fetchall()
        conn.execute("DELETE FROM kaohe_log")
        conn.executemany(f"INSERT INTO kaohe_log VALUES ({', '.join('?' * len(rows[0]))})", rows)
        conn.close()
        assert dict(indexed_entries(store.engine)) == expected
        assert verify_log(stored_acts(store), [], indexed_entries(store.engine), workers=1)[0].ok
    finally:
        store.close()

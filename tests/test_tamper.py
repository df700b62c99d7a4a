"""The tamper matrix: edit the real store with SQL, as someone with write access to the database could, and check
that `ledger verify` exits 1 naming the position; a crash, by contrast, is never reported as tampering.

One small signed HY 2017 ledger is built per backend and copied for each case (SQLite: the file; PostgreSQL:
CREATE DATABASE … TEMPLATE). Its positions:

     1 genesis   2-4 signatories (考核办 kh, 财政局 cz, 组长 zz)   5 scheme
     6-8 scores 办公室 70, 财政局 75, 统计局 65 (kh)   9 adjustment proposed (kh)   10 approved (zz)
    11 checkpoint act of size 10 (cp_a)            — the "old" copy is taken here —
    12 score 信访局 60   13 checkpoint act of size 12 (cp_b)   14-15 close of 2017 (office, 组长)

`cp_full` (size 15) is the office's signed note over the whole log as an auditor holds it: `ledger checkpoint` records
its own act after the size it signs, so the very last event is only ever covered by a note made without that act.
"""
from __future__ import annotations

import base64
import gc
import json
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from ledger.checkpoint import Checkpoint, add_signature, parse
from ledger.keys import load_private
from ledger.protection import drop_statements
from ledger.signing import sign_envelope
from tests.cliharness import PASS_ENV, PASSPHRASE, Cli
from tests.hy_ledger import OTHER, UNIT, build

SIZE = 15
PAPER = ["--signed-at", "2017-12-20T10:00:00+08:00"]
REPO = Path(__file__).resolve().parents[1]


# ---- direct access to the store, bypassing the ledger ---------------------------------------------------------------

@dataclass
class Row:
    nid: int
    stream: str
    version: int
    topic: str
    state: dict = field(repr=False)


class RawStore:
    """The event table (and the derived tables) edited with plain SQL: sqlite3 or psycopg on the ledger's URL."""

    def __init__(self, url: str):
        self.pg = url.startswith("postgresql")
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
            self.table, self.id = "kaohe_events", "notification_id"
        else:
            self.conn = sqlite3.connect(url, isolation_level=None)
            self.table, self.id = "stored_events", "rowid"

    def sql(self, statement: str, params: tuple = ()) -> list:
        if not statement.lstrip().upper().startswith("SELECT"):
            # the append-only triggers are no obstacle to whoever owns the database (and every ledger command
            # installs them again), so each edit drops them first
            for drop in drop_statements("postgresql" if self.pg else "sqlite"):
                self.conn.execute(drop)
        cur = self.conn.execute(statement.replace("?", "%s") if self.pg else statement, params)
        return cur.fetchall() if cur.description else []

    def rows(self) -> list[Row]:
        return [Row(int(nid), str(UUID(str(oid))), int(ver), topic, json.loads(bytes(state)))
                for nid, oid, ver, topic, state in
                self.sql(f"SELECT {self.id}, originator_id, originator_version, topic, state FROM {self.table} "
                         f"ORDER BY {self.id}")]

    def row(self, position: int) -> Row:
        """The row at a log position (1-based; ids and positions agree in a fresh store)."""
        return self.rows()[position - 1]

    def delete(self, *nids: int) -> None:
        for nid in nids:
            self.sql(f"DELETE FROM {self.table} WHERE {self.id} = ?", (nid,))

    def rewrite(self, *rows: Row) -> None:
        """Put each row's contents at its id (delete first, so that contents can be swapped between rows)."""
        self.delete(*(r.nid for r in rows))
        for r in rows:
            self.sql(f"INSERT INTO {self.table} ({self.id}, originator_id, originator_version, topic, state) "
                     "VALUES (?, ?, ?, ?, ?)", (r.nid, *self._values(r)))

    def append(self, row: Row) -> None:
        """Insert a new row after the last one, as the recorder would."""
        self.sql(f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
                 self._values(row))

    def drop_index(self, keep: int = 0) -> None:
        """Delete the derived log index and Merkle nodes beyond the first `keep` positions."""
        self.sql("DELETE FROM kaohe_log WHERE seq > ?", (keep,))
        # a node (level, idx) covers leaves idx·2^level … (idx+1)·2^level - 1; keep those complete within `keep`
        for level in range(40):
            self.sql("DELETE FROM merkle_nodes WHERE level = ? AND (idx + 1) * ? > ?", (level, 1 << level, keep))

    def _values(self, r: Row) -> tuple:
        state = json.dumps(r.state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        oid = UUID(r.stream) if self.pg else UUID(r.stream).hex
        return oid, r.version, r.topic, state

    def close(self) -> None:
        self.conn.close()


# ---- the ledger, built once per backend and copied per case --------------------------------------------------------

@dataclass
class Base:
    url: str
    old: str          # a copy taken at position 11, before cp_b
    keys: dict
    dir: Path


_BASES: dict[str, Base] = {}


def _kind(url: str) -> str:
    return "postgres" if url.startswith("postgresql") else "sqlite"


def _admin(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres",
                           autocommit=True)


def copy_database(source: str, target: str) -> None:
    """Make `target` an exact copy of `source` (the whole database: events, log index, Merkle nodes)."""
    gc.collect()  # closes the pools of ledgers opened in-process, which would keep the source busy
    if _kind(source) == "sqlite":
        for suffix in ("-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return
    src_name, dst_name = source.rsplit("/", 1)[1], target.rsplit("/", 1)[1]
    with _admin(target) as conn:
        for name in (src_name, dst_name):
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                         "AND pid <> pg_backend_pid()", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{dst_name}"')
        conn.execute(f'CREATE DATABASE "{dst_name}" TEMPLATE "{src_name}"')


def sign_note(base_keys: dict, cp_text: str, size: int, root: bytes, key: str = "office") -> str:
    """A checkpoint note over (size, root) for the ledger of `cp_text`, signed by a registered key."""
    ledger_id = parse(cp_text).ledger_id
    private = load_private(base_keys[key], PASSPHRASE.encode())
    cp = Checkpoint(ledger_id, size, root, "2018-01-20T02:00:00Z")
    return add_signature(cp, private.key_id, private.key.sign).format()


def build_base(url: str, folder: Path) -> Base:
    """The ledger of the module docstring, with its checkpoints written to files held outside."""
    folder.mkdir(parents=True, exist_ok=True)
    run = Cli(url, folder)
    keys = build(run, folder)
    for unit, points in ((UNIT, "70"), (OTHER, "75"), ("统计局", "65")):
        run("score", "record", "--year", "2017", "--unit", unit, "--indicator", "指标评估", "--points", points,
            "--sign-with", keys["kh"]).ok()
    out = run(*PAPER, "adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "荣誉", "--level", "省级",
              "--matter", "文明单位", "--reason", "省级表彰", "--document", "湘〔2017〕1号",
              "--sign-with", keys["kh"]).ok().out
    adjustment = out.split("(adjustment ")[1].split(")")[0]
    run("adjust", "approve", adjustment, "--sign-with", keys["zz"], "--yes").ok()
    run("checkpoint", "--sign-with", keys["office"], "--out", folder / "cp_a.txt").ok()
    old = url + "_old" if _kind(url) == "postgres" else str(folder / "old.db")
    copy_database(url, old)
    run("score", "record", "--year", "2017", "--unit", "信访局", "--indicator", "指标评估", "--points", "60",
        "--sign-with", keys["kh"]).ok()
    run("checkpoint", "--sign-with", keys["office"], "--out", folder / "cp_b.txt").ok()
    run("year", "close", "2017", "--sign-with", keys["office"]).ok()
    run("year", "close", "2017", "--sign-with", keys["zz"]).ok()
    report = json.loads(run("verify", "--format", "json").ok().out)
    assert report["size"] == SIZE and report["closed_years_replayed"] == [2017]
    cp_a = (folder / "cp_a.txt").read_text(encoding="utf-8")
    (folder / "cp_full.txt").write_text(sign_note(keys, cp_a, SIZE, base64.b64decode(report["root"])),
                                        encoding="utf-8")
    return Base(url, old, keys, folder)


def base_for(db_url: str, tmp_path_factory) -> Base:
    kind = _kind(db_url)
    if kind not in _BASES:
        if kind == "postgres":
            from tests.conftest import _pg_database

            url = _pg_database()
        else:
            url = str(tmp_path_factory.mktemp("base") / "base.db")
        _BASES[kind] = build_base(url, tmp_path_factory.mktemp("outside"))
    return _BASES[kind]


@dataclass
class Case:
    run: Cli
    raw: RawStore
    base: Base
    url: str

    def cp(self, name: str) -> str:
        return str(self.base.dir / f"{name}.txt")

    def verify(self, *checkpoints: str):
        args = [a for name in checkpoints for a in ("--checkpoint", self.cp(name))]
        return self.run("verify", *args)


@pytest.fixture()
def case(db_url, tmp_path, tmp_path_factory):
    base = base_for(db_url, tmp_path_factory)
    copy_database(base.url, db_url)
    raw = RawStore(db_url)
    yield Case(Cli(db_url, base.dir), raw, base, db_url)
    raw.close()


def failed(result, *fragments: str) -> str:
    """Assert exit 1 with a FAILED line naming every fragment; returns that line."""
    assert result.code == 1, f"expected exit 1, got {result.code}: {result.out}{result.err}"
    first = result.err.strip().splitlines()[0]
    assert first.startswith("FAILED: ") and "Traceback" not in result.err, result.err
    for fragment in fragments:
        assert fragment in first, f"{fragment!r} not in {first!r}"
    return first


# ---- the matrix --------------------------------------------------------------------------------------------------

def test_untouched_ledger_verifies(case):
    res = case.verify("cp_a", "cp_b", "cp_full").ok()
    assert res.out.startswith(f"OK: {SIZE} events") and "closed years replayed: 2017" in res.out


def test_changed_field_is_named(case):
    row = case.raw.row(6)
    assert row.state["envelope"]["act"]["value"] == "70"
    row.state["envelope"]["act"]["value"] = "90"
    case.raw.rewrite(row)
    failed(case.verify(), "position 6", "changed")
    failed(case.verify("cp_full"), "position 6")


def test_changed_record_time_is_named(case):
    # outside the signed envelope, but inside the Merkle leaf
    row = case.raw.row(7)
    recorded = datetime.fromisoformat(row.state["timestamp"]["_data_"])
    row.state["timestamp"]["_data_"] = (recorded + timedelta(seconds=1)).isoformat()
    case.raw.rewrite(row)
    failed(case.verify(), "position 7", "changed")
    # without the index, the checkpoint the log recorded at position 11 (of size 10) no longer matches
    case.raw.drop_index()
    failed(case.verify("cp_full"), "position 11", "size 10")


@pytest.mark.parametrize("position", [1, 8])
def test_deleted_event_is_named(case, position):
    case.raw.delete(case.raw.row(position).nid)
    res = case.verify()
    failed(res, f"event indexed at position {position}", "removed")
    if position == 1:  # every later event moved: the failures not listed are counted, and the last one shown
        assert "more (--format json lists every one); the last: " in res.err.splitlines()[-1]


def test_deleted_last_event_is_named(case):
    case.raw.delete(case.raw.row(SIZE).nid)
    failed(case.verify(), f"position {SIZE}", "missing")
    # also with the derived index deleted too: only the checkpoint held outside can tell
    case.raw.drop_index()
    # a command that rebuilds the (now empty) index from the shortened store, as the next append would
    case.run("prove", "inclusion", "1", "--checkpoint", case.cp("cp_a")).ok()
    assert len(case.raw.sql("SELECT seq FROM kaohe_log")) == SIZE - 1
    failed(case.verify("cp_full"), f"position {SIZE}", "missing")
    failed(case.verify(), f"position {SIZE}", "read models")  # the views still hold the event
    for table in ("rm_state", "rm_registry", "rm_years", "rm_values", "rm_adjustments", "rm_decisions"):
        case.raw.sql(f"DELETE FROM {table}")
    assert case.verify().code == 0  # without an anchor outside, a cut-off tail is undetectable by design


def test_reordered_events_are_named(case):
    first, second = case.raw.row(7), case.raw.row(8)
    case.raw.rewrite(replace(second, nid=first.nid), replace(first, nid=second.nid))
    failed(case.verify(), "position 7", "position 8")
    case.raw.drop_index()
    failed(case.verify("cp_a"), "position 11", "size 10")


def test_duplicated_event_is_named(case):
    copy = case.raw.row(6)
    case.raw.append(replace(copy, version=2, topic="kaohe:Stream.Appended"))
    failed(case.verify(), f"position {SIZE + 1}", "copy of the event at position 6")


def test_forged_event_by_unregistered_key_is_named(case, tmp_path):
    mallory = load_private(case.run.key("mallory"), PASSPHRASE.encode())
    template = case.raw.row(12)
    envelope = dict(template.state["envelope"], signer=mallory.key_id,
                    act=dict(template.state["envelope"]["act"], value="80", note="复核", corrects="x" * 64),
                    version=2)
    state = dict(template.state, envelope=envelope, signature=sign_envelope(mallory.key, envelope))
    state.pop("originator_topic", None)
    case.raw.append(replace(template, version=2, topic="kaohe:Stream.Appended", state=state))
    failed(case.verify(), f"position {SIZE + 1}", "unknown signer")


def test_forged_content_under_registered_signature_is_named(case):
    template = case.raw.row(12)
    envelope = dict(template.state["envelope"], act=dict(template.state["envelope"]["act"], value="80"), version=2)
    state = dict(template.state, envelope=envelope)
    state.pop("originator_topic", None)
    case.raw.append(replace(template, version=2, topic="kaohe:Stream.Appended", state=state))
    failed(case.verify(), f"position {SIZE + 1}", "signature")


def test_swapped_signatures_are_named(case):
    a, b = case.raw.row(6), case.raw.row(7)
    a.state["signature"], b.state["signature"] = b.state["signature"], a.state["signature"]
    case.raw.rewrite(a, b)
    case.raw.drop_index()  # even without the index, the signature check names the first one
    failed(case.verify(), "position 6", "signature")


def test_rolled_back_database_is_caught_by_a_newer_checkpoint(case):
    copy_database(case.base.old, case.url)  # the whole database as it was at position 11, index included
    assert case.verify("cp_a").code == 0
    failed(case.verify("cp_a", "cp_b"), "position 12", "rolled back")


def test_fork_is_named(case):
    cp_a = Path(case.cp("cp_a")).read_text(encoding="utf-8")
    other = sign_note(case.base.keys, cp_a, parse(cp_a).size, bytes(32))
    Path(case.cp("cp_fork")).write_text(other, encoding="utf-8")
    failed(case.verify("cp_a", "cp_fork"), "fork", f"size {parse(cp_a).size}")
    # the fork also shows against the checkpoint the log itself recorded at position 11
    failed(case.verify("cp_fork"), "fork")


# ---- crashes are not tampering --------------------------------------------------------------------------------------

def test_index_left_behind_by_a_crash_is_not_tampering(case):
    case.raw.drop_index(keep=SIZE - 4)
    case.verify("cp_full").ok()
    case.run("checkpoint", "--sign-with", case.base.keys["office"], "--out", case.cp("cp_next"),
             "--replace").ok()  # cp_next is this module's scratch file, shared by its tests
    assert parse(Path(case.cp("cp_next")).read_text(encoding="utf-8")).size == SIZE
    case.verify("cp_full", "cp_next").ok()


KILL_AFTER_SAVE = """
import os, signal, sys
from ledger.store import EventStore
save = EventStore.save
def save_then_die(self, stream):
    save(self, stream)
    os.kill(os.getpid(), signal.SIGKILL)  # the event is committed; the log index never hears of it
EventStore.save = save_then_die
from cli.main import main
sys.argv = ["ledger", *sys.argv[1:]]
main()
"""


def test_process_killed_mid_append_is_not_tampering(case):
    newcomer = case.run.key("newcomer")
    args = ["--db", case.url, "--passphrase-env", PASS_ENV, "signatory", "add", "--person", "审计", "--role",
            "auditor", "--public-key", newcomer + ".pub", "--sign-with", case.base.keys["office"]]
    proc = subprocess.run([sys.executable, "-c", KILL_AFTER_SAVE, *args], cwd=REPO, capture_output=True, check=False,
                          env={**os.environ, PASS_ENV: PASSPHRASE}, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(case.raw.rows()) == SIZE + 1
    case.verify("cp_full").ok()  # the store is ahead of its index: not a failure
    case.run("checkpoint", "--sign-with", case.base.keys["office"], "--out", case.cp("cp_next"),
             "--replace").ok()  # cp_next is this module's scratch file, shared by its tests
    assert parse(Path(case.cp("cp_next")).read_text(encoding="utf-8")).size == SIZE + 1
    res = case.verify("cp_full", "cp_next").ok()
    assert res.out.startswith(f"OK: {SIZE + 2} events")

"""Crash safety: a process killed with SIGKILL while it appends, while it folds the read models, or while it rebuilds
them leaves a store that the next command brings to exactly the state of a full rebuild.

A worker process (this file run as a script) loops one kind of work; the test kills it at random moments with a real
SIGKILL, several times, then runs ordinary commands (`scores`, `verify`) and compares every read-model row, the log
index and the Merkle nodes with those of a fresh copy of the same events, indexed and rebuilt from nothing.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))

SEED = 2017
SETUP_ACTS = 2500   # stored before the kills start (setup, then the county's scores and evaluations)
LATE_ACTS = 900     # stored without folding the read models, before each kill during a catch-up


def _signed_county():
    """The generated county's signed acts in order (bench/generate.py), setup first."""
    import random as _random

    from bench.generate import county_acts, make_keys, scheme_text, setup_acts
    from ledger.bulk import BulkSigner
    from ledger.scheme import load_scheme

    rng = _random.Random(SEED)
    keys = make_keys(SEED)
    signer = BulkSigner(str(UUID(int=rng.getrandbits(128), version=4)))
    text = scheme_text(0)
    return setup_acts(signer, keys, text) + county_acts(signer, keys, load_scheme(text), None, rng)


# ---- the worker ----------------------------------------------------------------------------------------------------

def worker(mode: str, db: str) -> None:
    """Loop one kind of work until killed; print `ready` once the loop runs (a writer: once it has stored an act)."""
    from bench.generate import PAPER, make_keys
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from projections import readmodel

    ledger = Ledger(EventStore(db))
    if mode != "append":
        print("ready", flush=True)
    if mode == "append":
        keys = make_keys(SEED)
        scheme = ledger.year(2017).scheme
        units = [u for g in scheme.groups if g.terms for u in g.units]
        for i in range(10 ** 6):
            act = {"year": 2017, "unit": units[i % len(units)], "rule": "附2-1",
                   "inputs": {"option": "完成", "points": "1"}, "reason": f"crash test {i}"}
            receipt = ledger.act("adjustment.proposed", act, keys["市考核办"], PAPER)
            ledger.act("adjustment.approved", {"role": "分管领导"}, keys["刘分管"], PAPER, UUID(receipt.stream))
            if i % 3 == 0:
                readmodel.catch_up(ledger.store)  # what every command does after its act
            if i == 0:  # after the first pair, not before: on a busy machine the kill could come before any act
                print("ready", flush=True)
    elif mode == "catchup":
        while True:
            readmodel.catch_up(ledger.store, batch=100)
            time.sleep(0.01)
    elif mode == "rebuild":
        while True:
            readmodel.rebuild(ledger.store)


def _kill_during(mode: str, db: str, rng: random.Random, window: float) -> None:
    proc = subprocess.Popen([sys.executable, __file__, mode, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", f"worker failed to start: {line}{proc.stderr.read()}"
        time.sleep(rng.uniform(0.02, window))
        assert proc.poll() is None, f"worker stopped by itself: {proc.stderr.read()}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


# ---- the comparison ------------------------------------------------------------------------------------------------

def snapshot(store) -> dict:
    """Every derived row that a full rebuild determines: read models, log index, Merkle nodes (notification ids
    left out: PostgreSQL's may have gaps, so a copy numbers them differently)."""
    from sqlalchemy import select

    from ledger.log_index import log_entries
    from ledger.merkle_store import merkle_nodes
    from projections import readmodel

    out = {}
    with store.engine.connect() as conn:
        for table in readmodel.TABLES:
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(table.c.pos))]
        out["rm_state"] = conn.execute(select(readmodel.rm_state.c.name, readmodel.rm_state.c.position)).all()
        cols = [c for c in log_entries.c if c.name != "notification_id"]
        out["kaohe_log"] = [tuple(r) for r in conn.execute(select(*cols).order_by(log_entries.c.seq))]
        out["merkle_nodes"] = [tuple(r) for r in conn.execute(
            select(merkle_nodes).order_by(merkle_nodes.c.level, merkle_nodes.c.idx))]
    return out


def fresh_copy(store, url: str):
    """The same events stored verbatim (same streams, versions, record times) into the empty database `url`, then
    indexed and folded from nothing."""
    from ledger.bulk import stored_event
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from projections import readmodel

    copy = Ledger(EventStore(url))
    events = [stored_event(copy, act.envelope, act.signature, datetime.fromisoformat(act.recorded_at))
              for act in store.read(batch=2000)]
    copy.store.app.recorder.insert_events(events)
    copy.index.catch_up()
    readmodel.rebuild(copy.store)
    return copy.store


def _copy_url(db_url: str, tmp_path: Path) -> str:
    if "://" not in db_url:
        return str(tmp_path / "copy.db")
    from tests.conftest import _pg_database

    return _pg_database()


# ---- the test ------------------------------------------------------------------------------------------------------

def test_killed_writers_and_folds_leave_a_store_that_catches_up_to_a_rebuild(db_url, tmp_path):
    from ledger.bulk import append_many
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from tests.cliharness import Cli

    rng = random.Random(SEED)
    acts = _signed_county()
    ledger = Ledger(EventStore(db_url))
    append_many(ledger, acts[:SETUP_ACTS])
    run = Cli(db_url, tmp_path)
    run("scores", "--year", "2017", "--format", "json").ok()  # the read models are current before the kills

    for _ in range(4):
        _kill_during("append", db_url, rng, 0.8)
    done = SETUP_ACTS
    for _ in range(2):
        append_many(ledger, acts[done:done + LATE_ACTS])  # read models left behind: the worker folds them
        done += LATE_ACTS
        _kill_during("catchup", db_url, rng, 0.3)
    for _ in range(3):
        _kill_during("rebuild", db_url, rng, 0.6)

    # the next commands: a view (which brings the index and read models up to date) and the full verification
    run("scores", "--year", "2017", "--format", "json").ok()
    verified = run("verify").ok()
    assert verified.out.startswith("OK:"), verified.out
    after = snapshot(ledger.store)
    assert len(after["kaohe_log"]) > done  # the killed writers stored acts of their own
    expected = snapshot(fresh_copy(ledger.store, _copy_url(db_url, tmp_path)))
    for name, rows in expected.items():
        assert after[name] == rows, f"{name} differs from a full rebuild"
    ledger.store.close()


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2])

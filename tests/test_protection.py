"""Defence in depth (issue #8): triggers refuse UPDATE/DELETE (and TRUNCATE, INSERT OR REPLACE) on the event table,
`kaohe_log` and `merkle_nodes`; someone who removes or disables them and edits a row is still caught by `verify`."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from ledger import protection
from projections import readmodel
from ledger.store import EventStore
from tests.cliharness import Cli, refused
from tests.hy_ledger import UNIT, build

SCORE = ["score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估"]


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture()
def ledger(run, tmp_path):
    """A HY ledger with one score (value 70) recorded; yields (run, open EventStore, position of the score)."""
    keys = build(run, tmp_path)
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    store = EventStore(run.db)
    yield run, store, run.positions()
    store.close()


def _events(store: EventStore) -> str:
    return store.app.recorder.events_table_name


def _row_id(store: EventStore, position: int) -> tuple[str, int]:
    """(id column, id) of the event row at a log position."""
    with store.engine.connect() as conn:
        nid = conn.execute(text("SELECT notification_id FROM kaohe_log WHERE seq = :p"), {"p": position}).scalar_one()
    return ("notification_id" if store.target.kind == "postgres" else "rowid"), nid


def _refused_change(store: EventStore, statement: str) -> str:
    with pytest.raises(DBAPIError) as info, store.engine.begin() as conn:
        conn.execute(text(statement))
    return str(info.value.orig)


def test_update_and_delete_through_the_application_connection_fail(ledger):
    run, store, size = ledger
    events = _events(store)
    col, nid = _row_id(store, size)
    statements = [f"UPDATE {events} SET topic = 'x' WHERE {col} = {nid}", f"DELETE FROM {events} WHERE {col} = {nid}",
                  f"DELETE FROM {events}", "UPDATE kaohe_log SET version = 9 WHERE seq = 1", "DELETE FROM kaohe_log",
                  "UPDATE merkle_nodes SET hash = hash WHERE level = 0", "DELETE FROM merkle_nodes WHERE idx = 0"]
    if store.target.kind == "postgres":
        statements += [f"TRUNCATE {events}", "TRUNCATE kaohe_log", "TRUNCATE merkle_nodes",
                       ("INSERT INTO merkle_nodes VALUES (0, 0, '\\x00') ON CONFLICT (level, idx) DO UPDATE "
                        "SET hash = excluded.hash")]
    else:  # REPLACE deletes the clashing row without firing delete triggers: refused by its own trigger
        statements += ["INSERT OR REPLACE INTO kaohe_log SELECT * FROM kaohe_log WHERE seq = 1",
                       "INSERT OR REPLACE INTO merkle_nodes VALUES (0, 0, x'00')",
                       (f"INSERT OR REPLACE INTO {events} (originator_id, originator_version, topic, state) "
                        f"SELECT originator_id, originator_version, topic, x'00' FROM {events} LIMIT 1")]
    for statement in statements:
        message = _refused_change(store, statement)
        assert "append-only" in message and "kaohe-ledger" in message, (statement, message)
    assert run.positions() == size
    assert run("verify").code == 0


def test_trigger_removed_by_an_owner_then_a_row_edited_is_caught_by_verify(ledger):
    run, store, size = ledger
    events = _events(store)
    col, nid = _row_id(store, size)
    with store.engine.begin() as conn:
        # what a database superuser or the file's owner can do: switch the protection off, then edit
        if store.target.kind == "postgres":
            conn.execute(text(f"ALTER TABLE {events} DISABLE TRIGGER {protection.PG_TRIGGER}"))
        else:
            protection.unprotect(conn, events)
        state = conn.execute(text(f"SELECT state FROM {events} WHERE {col} = :n"), {"n": nid}).scalar_one()
        doc = json.loads(bytes(state))
        assert doc["envelope"]["act"]["value"] == "70"
        doc["envelope"]["act"]["value"] = "79"
        conn.execute(text(f"UPDATE {events} SET state = :s WHERE {col} = :n"),
                     {"s": json.dumps(doc, ensure_ascii=False).encode("utf-8"), "n": nid})
    res = run("verify")
    assert res.code == 1 and "Traceback" not in res.err
    assert res.err.startswith(f"FAILED: event at position {size} "), res.err
    # the next ledger command put the protection back
    with store.engine.connect() as conn:
        assert protection._missing(conn, store.engine.dialect.name, protection.protected_tables(
            store.engine.dialect.name, events)) == []
    assert "append-only" in _refused_change(store, f"DELETE FROM {events} WHERE {col} = {nid}")


def test_protect_is_idempotent_and_safe_at_once(ledger):
    run, store, _size = ledger
    events = _events(store)
    assert protection.protect(store.engine, events) is False  # installed when the ledger was opened
    protection.unprotect(store.engine, events)
    results, errors = [], []

    def install():
        try:
            results.append(protection.protect(store.engine, events))
        except Exception as exc:  # collected: an exception in a thread would otherwise pass unnoticed
            errors.append(exc)

    threads = [threading.Thread(target=install) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and True in results
    assert protection.protect(store.engine, events) is False
    assert run("verify").code == 0


def test_tamper_simulation_can_drop_the_triggers_as_an_attacker_would(ledger):
    run, store, size = ledger
    events = _events(store)
    col, nid = _row_id(store, size)
    with store.engine.begin() as conn:
        for statement in protection.drop_statements(store.engine.dialect.name, events):
            conn.execute(text(statement))
        conn.execute(text(f"DELETE FROM {events} WHERE {col} = {nid}"))
    res = run("verify")
    assert res.code == 1 and "removed" in res.err, res.err
    refused(res, "FAILED")


def test_application_role_cannot_remove_the_triggers(ledger, capsys):
    """PostgreSQL with a least-privilege role for the application: the recorder's LOCK TABLE … EXCLUSIVE needs UPDATE
    privilege on the event table, so privileges alone cannot make it append-only; the trigger does, and the role,
    not owning the tables, cannot drop or disable it."""
    run, store, size = ledger
    if store.target.kind != "postgres":
        pytest.skip("roles are a PostgreSQL matter")
    role = "kaohe_app_" + uuid.uuid4().hex[:6]
    events = _events(store)
    with store.engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE ON {events}, kaohe_log, merkle_nodes TO {role}"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        # the read models are derived data the application folds, empties and refills (ledger rebuild)
        views = ", ".join(t.name for t in (readmodel.rm_state, *readmodel.TABLES))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {views} TO {role}"))
    url = run.db.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://{role}@")
    engine = create_engine(url)
    try:
        for statement in (f"UPDATE {events} SET topic = 'x'",
                          f"ALTER TABLE {events} DISABLE TRIGGER {protection.PG_TRIGGER}",
                          f"DROP TRIGGER {protection.PG_TRIGGER} ON {events}"):
            with pytest.raises(DBAPIError) as info, engine.begin() as conn:
                conn.execute(text(statement))
            assert "append-only" in str(info.value.orig) or "must be owner" in str(info.value.orig)
        app_run = Cli(url, run.keys)
        assert app_run.positions() == size  # the role reads and opens the ledger without installing anything
        assert app_run("verify").code == 0
        protection.unprotect(store.engine, events)  # the owner removed them: the role cannot put them back
        capsys.readouterr()
        assert protection.protect(engine, events) is False
        assert capsys.readouterr().err.startswith("Warning: cannot install the append-only triggers (permission denied")
    finally:
        engine.dispose()

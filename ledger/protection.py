"""Defence in depth: database triggers that refuse UPDATE, DELETE and TRUNCATE on the ledger's append-only tables.

The ledger only ever inserts into the event table, `kaohe_log` and `merkle_nodes`; a trigger on each turns any other
change made through an ordinary connection — a mistaken manual fix, a buggy tool, a careless migration — into an
error instead of a silent edit. It is not the tamper evidence: anyone who owns the database (or the SQLite file) can
drop or disable a trigger and edit rows, exactly as `drop_statements` does for the tests that simulate tampering.
What catches that is `ledger verify` (signatures, the recomputed Merkle tree, checkpoints held outside).

PostgreSQL: one plpgsql function and, per table, a statement-level BEFORE UPDATE OR DELETE OR TRUNCATE trigger
(statement level so that TRUNCATE, which has no rows, is covered by the same trigger; `INSERT … ON CONFLICT DO UPDATE`
fires it too). SQLite: BEFORE UPDATE and BEFORE DELETE triggers per table (SQLite has no TRUNCATE; its
DELETE-without-WHERE shortcut is disabled when a delete trigger exists). Installing is idempotent and writes nothing
when every trigger is in place, so opening a ledger stays read-only in the common case.
"""
from __future__ import annotations

import sys

import sqlalchemy
from sqlalchemy import Connection, Engine, text

from .errors import LedgerError

TABLES = ("kaohe_log", "merkle_nodes")  # besides the event table, whose name depends on the recorder
DEFAULT_EVENTS_TABLE = {"postgresql": "kaohe_events", "sqlite": "stored_events"}  # the built-in recorders' tables
PG_FUNCTION = "kaohe_refuse_change"
PG_TRIGGER = "kaohe_append_only"
PG_LOCK = 0x6B616F6870  # pg_advisory_xact_lock key: one process installs, the others wait and find it done
MESSAGE = "kaohe-ledger: {op} on {table} refused: the ledger's tables are append-only"


def protected_tables(dialect: str, events_table: str | None = None) -> tuple[str, ...]:
    """The tables the triggers guard on a backend ("postgresql" or "sqlite")."""
    return (events_table or DEFAULT_EVENTS_TABLE[dialect], *TABLES)


def protect(bind: Engine | Connection, events_table: str | None = None) -> bool:
    """Install the triggers where missing (and re-enable disabled ones); True if anything was changed.

    Without the privilege to create triggers (an application role that may only insert and select, the tables owned
    by another role) nothing is installed and a warning is printed: the owner should install them."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return protect(conn, events_table)
    dialect = bind.dialect.name
    if dialect not in DEFAULT_EVENTS_TABLE:
        raise LedgerError(f"no protection triggers for {dialect} databases")
    tables = protected_tables(dialect, events_table)
    if not _missing(bind, dialect, tables):
        return False
    try:
        if dialect == "postgresql":
            with bind.begin_nested():  # a refusal rolls back to here, leaving the caller's transaction usable
                _install_pg(bind, tables)
        else:
            _install_sqlite(bind, tables)
    except (sqlalchemy.exc.ProgrammingError, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InternalError) as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"Warning: cannot install the append-only triggers ({first}); open the ledger once as the tables' "
              "owner to install them", file=sys.stderr)
        return False
    return True


def drop_statements(dialect: str, events_table: str | None = None) -> list[str]:
    """SQL that removes the triggers — what anyone owning the database can run. The tamper tests run it before they
    edit rows; any later ledger command installs the triggers again."""
    tables = protected_tables(dialect, events_table)
    if dialect == "postgresql":
        return [f'DROP TRIGGER IF EXISTS {PG_TRIGGER} ON "{t}"' for t in tables]
    return [f"DROP TRIGGER IF EXISTS {name}" for t in tables for name in _sqlite_names(t)]


def unprotect(bind: Engine | Connection, events_table: str | None = None) -> None:
    """Drop the triggers (see drop_statements)."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return unprotect(conn, events_table)
    for statement in drop_statements(bind.dialect.name, events_table):
        bind.execute(text(statement))


# ---- PostgreSQL ---------------------------------------------------------------------------------------------------

def _missing(conn: Connection, dialect: str, tables: tuple[str, ...]) -> list[str]:
    """Tables whose triggers are missing or disabled (and, on PostgreSQL, the function if it is missing)."""
    if dialect == "sqlite":
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
        return [t for t in tables if not set(_sqlite_names(t)) <= names]
    rows = conn.execute(text(
        "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = :name AND c.relnamespace = current_schema()::regnamespace"), {"name": PG_TRIGGER}).all()
    enabled = {relname for relname, state in rows if state != "D"}
    missing = [t for t in tables if t not in enabled]
    if conn.execute(text("SELECT to_regproc(:f)"), {"f": PG_FUNCTION}).scalar() is None:
        missing.append(PG_FUNCTION)
    return missing


def _install_pg(conn: Connection, tables: tuple[str, ...]) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK})
    missing = _missing(conn, "postgresql", tables)  # again, under the lock: another process may have done it
    if not missing:
        return
    if PG_FUNCTION in missing:
        message = MESSAGE.format(op="%", table="%").replace("'", "''")
        conn.execute(text(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{message}', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege', "
            "HINT = 'the log is append-only; ledger verify checks every event'; END $$"))
    existing = {r[0] for r in conn.execute(text(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = :name AND c.relnamespace = current_schema()::regnamespace"), {"name": PG_TRIGGER})}
    for table in tables:
        if table not in missing:
            continue
        if table in existing:  # there but disabled (ALTER TABLE … DISABLE TRIGGER)
            conn.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER {PG_TRIGGER}'))
        else:
            conn.execute(text(f'CREATE TRIGGER {PG_TRIGGER} BEFORE UPDATE OR DELETE OR TRUNCATE ON "{table}" '
                              f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"))


# ---- SQLite -------------------------------------------------------------------------------------------------------

# The unique keys of each table: INSERT OR REPLACE deletes the row holding a key without firing delete triggers
# (unless recursive_triggers is on, a per-connection setting), so an insert that would replace a row is refused too.
SQLITE_KEYS = {"stored_events": [("originator_id", "originator_version")], "kaohe_log": [("seq",), ("notification_id",)],
               "merkle_nodes": [("level", "idx")]}


def _sqlite_names(table: str) -> tuple[str, ...]:
    names = (f"kaohe_no_update_{table}", f"kaohe_no_delete_{table}")
    return names + ((f"kaohe_no_replace_{table}",) if table in SQLITE_KEYS else ())


def _install_sqlite(conn: Connection, tables: tuple[str, ...]) -> None:
    for table in tables:
        update, delete, *replace = _sqlite_names(table)
        statements = [(update, "UPDATE", ""), (delete, "DELETE", "")]
        if replace:
            clash = " OR ".join(f'EXISTS (SELECT 1 FROM "{table}" WHERE '
                                + " AND ".join(f"{col} = NEW.{col}" for col in key) + ")"
                                for key in SQLITE_KEYS[table])
            statements.append((replace[0], "INSERT", f" WHEN {clash}"))
        for name, op, when in statements:
            message = MESSAGE.format(op="REPLACE" if op == "INSERT" else op, table=table).replace("'", "''")
            # IF NOT EXISTS: processes installing at once all succeed
            conn.execute(text(f'CREATE TRIGGER IF NOT EXISTS {name} BEFORE {op} ON "{table}"{when} '
                              f"BEGIN SELECT RAISE(ABORT, '{message}'); END"))

"""The Merkle node table: every perfect subtree of the log, written once as it completes, read for roots and proofs.

Table `merkle_nodes(level, idx, hash)`, primary key (level, idx): the row (L, i) holds the hash of the perfect subtree
of 2**L leaves starting at leaf i * 2**L; level 0 holds the leaf hashes. A log of n leaves has 2n - popcount(n) rows.
Rows are never updated or deleted, so the table grows by about two rows per entry and a proof reads O(log n) rows by
primary key in one query. Only portable types are used (INTEGER, BIGINT, BLOB/BYTEA), so SQLite and PostgreSQL share
the code unchanged.
"""
from __future__ import annotations

from typing import Iterator, Sequence

from sqlalchemy import BigInteger, Column, Connection, Integer, LargeBinary, MetaData, Table, and_, func, or_, select

from . import merkle
from .errors import LedgerError
from .merkle import Frontier, Key

metadata = MetaData()
merkle_nodes = Table(
    "merkle_nodes", metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)


class SqlNodeStore:
    """A merkle.NodeStore reading `merkle_nodes` through one connection (and so inside its transaction)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def get_nodes(self, keys: Sequence[Key]) -> dict[Key, bytes]:
        """See merkle.NodeStore: one SELECT by primary key for all the keys."""
        by_level: dict[int, list[int]] = {}
        for level, idx in keys:
            by_level.setdefault(level, []).append(idx)
        if not by_level:
            return {}
        c = merkle_nodes.c
        # (level = L AND idx IN (...)) per level: portable, and each arm is a primary-key range scan
        where = or_(*(and_(c.level == level, c.idx.in_(sorted(set(idxs)))) for level, idxs in by_level.items()))
        rows = self.conn.execute(select(c.level, c.idx, c.hash).where(where))
        return {(int(level), int(idx)): bytes(h) for level, idx, h in rows}


def stored_size(conn: Connection) -> int:
    """Number of leaves in the table."""
    c = merkle_nodes.c
    last = conn.execute(select(func.max(c.idx)).where(c.level == 0)).scalar()
    return 0 if last is None else int(last) + 1


def load_frontier(conn: Connection, size: int) -> Frontier:
    """The frontier of the first `size` leaves, read from its O(log n) perfect-subtree rows."""
    keys = merkle.perfect_parts(0, size)
    nodes = SqlNodeStore(conn).get_nodes(keys)
    missing = [key for key in keys if key not in nodes]
    if missing:
        raise LedgerError(f"the merkle node table has fewer than {size} leaves (node {missing[0][0]}/{missing[0][1]} "
                          "is missing)")
    return Frontier(size, [nodes[key] for key in keys])


def append_leaves(conn: Connection, start_index: int, leaf_hashes: Sequence[bytes]) -> Frontier:
    """Store leaves `start_index`, `start_index + 1`, … and every perfect subtree they complete; returns the new
    frontier (its `root()` is the new tree head).

    Nothing already stored is read beyond the old frontier or rewritten. `start_index` must be the stored size: a
    larger one is refused, a smaller one collides on the primary key (IntegrityError), which is how a concurrent
    appender that got there first shows up."""
    frontier = load_frontier(conn, start_index)
    rows = []
    for h in leaf_hashes:
        rows.extend(frontier.append(h))
    if rows:
        conn.exec_driver_sql(insert_sql(conn, merkle_nodes.name, ("level", "idx", "hash")), rows)
    return frontier


def insert_sql(conn: Connection, table: str, columns: Sequence[str]) -> str:
    """An INSERT of one row of `columns` in the driver's own parameter style, for `exec_driver_sql` with many rows
    of plain tuples (a bulk append stores three index rows an event: SQLAlchemy's per-row dicts cost more)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


def root(conn: Connection, size: int) -> bytes:
    """The tree head of the first `size` leaves."""
    return merkle.root(SqlNodeStore(conn), size)


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
    return merkle.inclusion_proof(SqlNodeStore(conn), index, size)


def consistency_proof(conn: Connection, old: int, new: int) -> list[bytes]:
    """RFC 9162 consistency proof from the tree of `old` leaves to the tree of `new` leaves."""
    return merkle.consistency_proof(SqlNodeStore(conn), old, new)


def stored_nodes(engine, batch: int = 20_000) -> Iterator[tuple[int, int, bytes]]:
    """Every stored node as (level, idx, hash), for comparison with a recomputed tree; never trusted."""
    conn = engine.raw_connection()  # the driver's rows: two million through SQLAlchemy's cost seconds
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT level, idx, hash FROM {merkle_nodes.name} ORDER BY level, idx")
        while rows := cursor.fetchmany(batch):
            for level, idx, h in rows:
                yield int(level), int(idx), bytes(h)
        cursor.close()
    finally:
        conn.close()


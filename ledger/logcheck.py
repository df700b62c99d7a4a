"""The check `bundle export` makes of the log it writes: cheap, one pass beside the export, no signature checked.

Each event's row is checked to be what was signed, and its Merkle leaf compared with the leaf the log index recorded
at its position when it was stored; the index's length with the store's; and every tree head the log's own acts
sign (checkpoints, closes) with the root of the events before it. An edited, removed, reordered or inserted event,
or a log cut short, shows in one of them unless the index was rewritten to match and no later tree head covers the
change; `ledger verify` checks the rest.
The wording is `ledger verify`'s (ledger.integrity).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from sqlalchemy import select

from .integrity import Failure, head_problem, missing_problem, moved_problem
from .log_index import event_id, log_entries
from .merkle import Frontier
from .store import EventStore, StoredAct
from .stored import row_problem

BATCH = 5000


class LogCheck:
    """Fed every exported event in log order (`add`), then says where the log differs from its log index and from
    the tree heads it signed (`problems`)."""

    def __init__(self, store: EventStore, indexed: int):
        """`indexed`: the positions the log index held before the events to export were chosen (it may grow while
        they are read; those later positions are not compared)."""
        self._engine, self._size = store.engine, indexed
        self._indexed = _index_rows(store.engine, indexed)
        self._leaves = bytearray()  # 32 bytes an event: the roots of the tree heads are computed at the end
        self._heads: list[tuple[int, str, int, bytes]] = []  # (position, event id, size, root)
        self._first: str | None = None  # the first event that is not the one indexed at its position, named
        self._differ = 0

    def add(self, act: StoredAct, leaf: bytes) -> None:
        self._leaves += leaf
        position = len(self._leaves) // 32
        row = next(self._indexed, None)
        problem = row_problem(act)  # a row edited apart from what it holds: the leaf covers only what was signed
        if problem is None and row is not None and bytes(row[1]) != leaf:
            problem = moved_problem(position, self._was(leaf))
        if problem is not None:
            self._differ += 1
            if self._first is None:
                self._first = str(Failure(position, _event_id(act), problem))
        head = _tree_head(act.envelope)
        if head is not None:
            self._heads.append((position, _event_id(act), *head))

    def problems(self) -> list[str]:
        """Every way the log differs (the first events named, the others counted); empty when it matches."""
        found = [] if self._first is None else [self._first]
        if self._differ > 1:
            found.append(f"{self._differ - 1} more events are not the ones the log index recorded")
        stored = len(self._leaves) // 32
        if self._size > stored:
            found.append(missing_problem(stored, self._size))
        return found + self._head_problems()

    def _head_problems(self) -> list[str]:
        roots = _roots_at(self._leaves, {size for _, _, size, _ in self._heads})
        holding = [size for _, _, size, root in self._heads if roots.get(size) == root]
        return [str(Failure(position, eid, head_problem(size, position - 1, holding)))
                for position, eid, size, root in self._heads if size >= position or roots.get(size) != root]

    def _was(self, leaf: bytes) -> int | None:
        """The position at which the index recorded this leaf (a moved event), if anywhere."""
        with self._engine.connect() as conn:
            seq = conn.execute(select(log_entries.c.seq).where(log_entries.c.leaf_hash == leaf)
                               .order_by(log_entries.c.seq).limit(1)).scalar()
        return None if seq is None else int(seq)


def _index_rows(engine, upto: int) -> Iterator[tuple[int, bytes]]:
    """(position, leaf hash) of the log index up to a position, in order, a batch at a time."""
    after = 0
    while after < upto:
        with engine.connect() as conn:
            rows = conn.execute(select(log_entries.c.seq, log_entries.c.leaf_hash)
                                .where(log_entries.c.seq > after, log_entries.c.seq <= upto)
                                .order_by(log_entries.c.seq).limit(BATCH)).all()
        yield from ((int(seq), leaf) for seq, leaf in rows)
        if len(rows) < BATCH:
            return
        after = int(rows[-1][0])


def _tree_head(envelope) -> tuple[int, bytes] | None:
    """The (size, root) a checkpoint or close act signs, or None (for any other act, or one too damaged to say)."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("act"), dict):
        return None
    act = envelope["act"]
    head = act if envelope.get("type") == "checkpoint.signed" else act.get("checkpoint") \
        if envelope.get("type") == "year.close.signed" else None
    if not isinstance(head, dict) or type(head.get("size")) is not int or not isinstance(head.get("root"), str):
        return None
    try:
        return head["size"], base64.b64decode(head["root"], validate=True)
    except (binascii.Error, ValueError):
        return None


def _roots_at(leaves: bytearray, sizes: set[int]) -> dict[int, bytes]:
    """The Merkle root of the first n leaves for each wanted n, in one pass."""
    frontier, roots, wanted = Frontier(), {}, sorted(s for s in sizes if 0 < s <= len(leaves) // 32)
    for size in wanted:
        while frontier.size < size:
            frontier.append(bytes(leaves[frontier.size * 32:frontier.size * 32 + 32]))
        roots[size] = frontier.root()
    return roots


def _event_id(act: StoredAct) -> str:
    try:
        return event_id(act.envelope)
    except Exception:  # a damaged envelope is named by its position alone
        return ""

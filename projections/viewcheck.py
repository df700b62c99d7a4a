"""Checking the read models against the log: every view row must be the row the act at its position gives, nothing
more.

The views are derived data, rebuilt from the log at will; but a view that was edited would show edited scores, so
`verify` compares them with the log it has just verified. The expected rows are folded from the log by the very
code a rebuild writes them with (`projections.rowfold`), and compared whole — position, table, year, unit, stream,
event id, envelope and supersession — batch by batch, as plain tuples.
"""
from __future__ import annotations

from collections.abc import Iterable

from .readmodel import BATCH, TABLES, Query, ensure, position, rm_values
from .rowfold import UNTIL, RowFolder, envelope_bytes, loads

ENVELOPE = {t.name: [c.name for c in t.c].index("body" if "body" in t.c else "envelope") for t in TABLES}


def view_problems(store, limit: int = 10, acts: Iterable[tuple[str, int, dict, str]] | None = None
                  ) -> list[tuple[int, str]]:
    """(position, problem) for view rows that do not match the log (at most `limit`). `acts`: (stream, version,
    envelope, event id) of every event in log order, as the caller read and verified them; without them the log is
    read again and the event ids are computed here (not taken from the log index: the views were folded from it)."""
    if acts is None:
        acts = ((row[1], row[2], loads(row[4])["envelope"], None) for row in store.stored_rows(batch=BATCH))
    with ViewCheck(store, limit) as check:
        for act in acts:
            check.add(act)
        return check.problems()


class ViewCheck:
    """`view_problems` fed act by act, as a caller reads the log (`verify` does, as it verifies each act): it holds
    one batch of acts at a time, whatever the size of the log."""

    def __init__(self, store, limit: int = 10):
        ensure(store.engine)
        self.store, self.limit = store, limit
        self.head, _nid = position(store.engine)
        self.found: list[tuple[int, str]] = []
        self.folder = RowFolder(0)
        self.pending: list[tuple[str, int, dict, str]] = []
        # value row -> position of the value that superseded it: known only once the log is read further, so
        # compared at the end
        self.expected_until: dict[int, int] = {}
        self.held_until: dict[int, int | None] = {}  # value row -> what the view says
        self.conn = None

    def __enter__(self) -> "ViewCheck":
        self.conn = self.store.engine.connect()
        self.query = Query(self.conn)
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()

    def add(self, act: tuple[str, int, dict, str]) -> None:
        """The next act of the log: (stream, version, envelope, event id)."""
        if self.folder.position + len(self.pending) < self.head and len(self.found) < self.limit:
            self.pending.append(act)
            if len(self.pending) == min(BATCH, self.head - self.folder.position):
                self._compare()

    def _compare(self) -> None:
        folder, query = self.folder, self.query
        first = folder.position + 1
        expected = folder.fold_acts(self.pending)
        self.pending = []
        self.expected_until.update(folder.superseded)
        folder.superseded.clear()
        folder.superseded_unseen.clear()  # a value stream without its first value: the view has no row to close
        held = {t.name: query(f"SELECT * FROM {t.name} WHERE pos BETWEEN ? AND ? ORDER BY pos",
                              (first, folder.position)) for t in TABLES}
        values = rm_values.name
        self.expected_until.update((row[0], row[UNTIL]) for row in expected[values] if row[UNTIL] is not None)
        self.held_until.update((row[0], row[UNTIL]) for row in held[values])
        expected[values] = [row[:UNTIL] for row in expected[values]]
        held[values] = [row[:UNTIL] for row in held[values]]
        if any(expected[name] != rows for name, rows in held.items()):
            self.found += _differences(expected, held)

    def problems(self) -> list[tuple[int, str]]:
        """Once every act was added: what differs (at most `limit`)."""
        if self.pending:
            self._compare()
        problems, limit, expected_until, held_until = self.found, self.limit, self.expected_until, self.held_until
        checked = self.folder.position
        for p in sorted(set(expected_until) | {p for p, until in held_until.items() if until is not None}):
            if p in held_until and held_until[p] != expected_until.get(p):
                problems.append((p, f"view rm_values says this value was superseded at {held_until[p]}, the log at "
                                    f"{expected_until.get(p)}"))
        for table in TABLES:
            for (extra,) in self.query(f"SELECT pos FROM {table.name} WHERE pos > ? ORDER BY pos LIMIT ?",
                                       (checked, limit)):
                problems.append((extra, f"view {table.name} holds a row beyond or outside the log"))
        return sorted(problems)[:limit] if len(problems) > limit else problems


def _differences(expected: dict[str, list[tuple]], held: dict[str, list]) -> list[tuple[int, str]]:
    """What differs between the rows a batch of the log gives and the rows the views hold for it."""
    should = {row[0]: (name, row) for name, rows in expected.items() for row in rows}
    found: dict[int, list[tuple[str, tuple]]] = {}
    for name, rows in held.items():
        for row in rows:
            found.setdefault(row[0], []).append((name, tuple(row)))
    problems = []
    for p in sorted(set(should) | set(found)):
        want, have = should.get(p), found.get(p, [])
        if want is None:
            problems += [(p, f"view {name} holds a row the log does not give") for name, _row in have]
        elif not have:
            problems.append((p, "the views lack this event"))
        else:
            problems += [(p, f"view {name} differs from the event") for name, row in have if not _same(name, row, want)]
    return problems


def _same(name: str, row: tuple, want: tuple[str, tuple]) -> bool:
    """Whether a view row is the row expected, its envelope compared by value where the bytes differ (an envelope
    stored in another valid form; values are compared re-encoded, so that 1 is not taken for true, nor 1.0 for 1)."""
    if (name, row) == want:
        return True
    at = ENVELOPE[name]
    if name != want[0] or row[:at] + row[at + 1:] != want[1][:at] + want[1][at + 1:]:
        return False
    try:
        return envelope_bytes(loads(row[at])) == envelope_bytes(loads(want[1][at]))
    except (ValueError, TypeError):
        return False

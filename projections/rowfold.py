"""Stored events into read-model rows: the one place that says which row each act gives. Catch-ups and rebuilds
write these rows; `verify` (projections.viewcheck) compares the tables with them.

Adjustment and decision ids are made unique here as in the replay (`ledger.adjustments.unique_short_id`), and
stored with the rows, so that the view of one county gives each the id the whole log gives it.

Envelopes are kept as the JSON bytes orjson writes for the decoded envelope: decoding them gives the same values
as decoding the event (orjson reads back what it wrote), at a third of the standard library's cost. (Cutting the
envelope's text out of the stored state instead is slower: the text is not ASCII, and must be encoded again.)
"""
from __future__ import annotations

import json
from typing import Iterable, Protocol

import orjson

from ledger.adjustments import unique_short_id
from ledger.log_index import event_id
from ledger.stored import envelope_of, first_damaged
from ledger.years import YEAR_STREAM_TYPES

REGISTRY_TYPES = ("ledger.genesis", "signatory.added", "signatory.revoked")
VALUE_TYPES = ("score.recorded", "evaluation.recorded")


def loads(data: bytes | str):
    """JSON decoded by orjson, or by the standard library where orjson refuses (integers beyond 64 bits, lone
    surrogates), so that the values are always those `json.loads` gives."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def envelope_bytes(envelope: dict) -> bytes:
    """The stored form of an envelope (what `loads` turns back into the same dict)."""
    try:
        return orjson.dumps(envelope)
    except orjson.JSONEncodeError:  # what orjson cannot write, the standard library writes in ASCII
        return json.dumps(envelope, separators=(",", ":")).encode("ascii")


# A view's fold takes a fact's stream from its row and never reads the ledger id or the version: left out of the
# stored body, they were a third of the bytes a county-year's view reads and decodes.
_NOT_IN_BODY = frozenset(("ledger", "stream", "version"))


def body_bytes(envelope: dict) -> bytes:
    """The stored form of a score's, evaluation's, adjustment's or decision's envelope: all of it but its ledger id,
    stream and version."""
    return envelope_bytes({key: value for key, value in envelope.items() if key not in _NOT_IN_BODY})


Act = tuple[str, int, dict, "str | None"]  # (stream, version, envelope, event id if known) of one event
ADJUSTMENTS, DECISIONS, VALUES = "rm_adjustments", "rm_decisions", "rm_values"
OPENING = {ADJUSTMENTS: "adjustment.proposed", DECISIONS: "decision.recorded"}  # the first act of their streams
UNTIL = 6  # rm_values' until_pos column


class Earlier(Protocol):
    """What a catch-up's folder asks of the tables about streams folded before its pass."""

    def scope(self, table: str, stream: str) -> "tuple[int, str, str] | None":
        """(year, unit, id) of an adjustment or decision stream."""

    def ids(self, table: str, stream: str) -> set[str]:
        """The ids of the streams of `table` whose first 8 digits are those of `stream`."""


class NothingEarlier:
    """For a pass from the start of the log: nothing was folded before it."""

    def scope(self, table, stream):
        return None

    def ids(self, table, stream):
        return set()


class RowFolder:
    """Folds stored events, in log order from the position after `start`, into the rows they add to each table
    (tuples in the tables' column order). It remembers, for one pass, each value stream's row in force and each
    adjustment or decision stream's (year, unit, id); streams folded before the pass are asked of `earlier`, or
    left to the caller (`superseded_unseen`)."""

    def __init__(self, start: int = 0, earlier: Earlier | None = None):
        self.position = start
        self.earlier = earlier or NothingEarlier()
        self.from_start = start == 0  # then every earlier stream's id is in this pass's sets
        self.open_values: dict[str, int] = {}  # value stream -> position of its row in force
        self.scopes: dict[str, tuple[int, str, str]] = {}  # adjustment or decision stream -> (year, unit, id)
        self.ids: dict[str, set[str]] = {ADJUSTMENTS: set(), DECISIONS: set()}  # the ids given in this pass
        self.superseded: list[tuple[int, int]] = []  # (position of a row of an earlier batch, position superseding it)
        self.superseded_unseen: list[tuple[int, int, str, str]] = []  # (superseding position, year, unit, stream)

    def fold(self, chunk: list[tuple], ids: dict[int, str]) -> dict[str, list[tuple]]:
        """The rows of a batch of stored events as `EventStore.stored_rows` gives them (notification id, stream,
        version, topic, state bytes), by table name (`ids`: notification id -> event id, where known; the others are
        computed); see `fold_acts`. A stored event that is not a signed act as the writer stores it is refused by
        position (`ledger.stored.Damaged`)."""
        start = self.position
        try:
            return self.fold_acts((stream, version, envelope_of(stream, version, topic, loads(text)), ids.get(nid))
                                  for nid, stream, version, topic, text in chunk)
        except Exception:
            # EAFP: only a batch that failed to fold is checked, event by event, with verify's checks
            found = first_damaged(chunk, start)
            if found is None:
                raise
            raise found from None

    def fold_acts(self, acts: Iterable[Act]) -> dict[str, list[tuple]]:
        """The rows of one batch of acts by table name; value rows of the batch superseded within it are closed,
        those of earlier batches are listed in `superseded` (and in `superseded_unseen` when folded before this
        pass)."""
        registry: list[tuple] = []
        years: list[tuple] = []
        out: dict[str, list[tuple]] = {ADJUSTMENTS: [], DECISIONS: []}
        values: dict[int, list] = {}
        open_values, pos = self.open_values, self.position
        for stream, version, env, eid in acts:
            pos += 1
            kind = env["type"]
            eid = eid or event_id(env)
            if kind in VALUE_TYPES:
                act = env["act"]
                previous = open_values.get(stream)
                if previous is not None:
                    row = values.get(previous)
                    if row is not None:
                        row[UNTIL] = pos
                    else:
                        self.superseded.append((previous, pos))
                elif version > 1:
                    self.superseded_unseen.append((pos, act["year"], act["unit"], stream))
                open_values[stream] = pos
                values[pos] = [pos, act["year"], act["unit"], stream, eid, body_bytes(env), None]
            elif kind.startswith(("adjustment.", "decision.")):
                table = ADJUSTMENTS if kind.startswith("adjustment.") else DECISIONS
                scope = self._scope(table, stream, kind, env)
                if scope is not None:  # else a stream without its first act: the replay ignores such an act too
                    out[table].append((pos, scope[0], scope[1], stream, eid, body_bytes(env), scope[2]))
            elif kind in REGISTRY_TYPES:
                registry.append((pos, eid, stream, envelope_bytes(env)))
            elif kind in YEAR_STREAM_TYPES:
                years.append((pos, env["act"]["year"], eid, stream, envelope_bytes(env)))
            # anything else (signed checkpoints) is in no view
        self.position = pos
        return {"rm_registry": registry, "rm_years": years, VALUES: [tuple(r) for r in values.values()], **out}

    def _scope(self, table: str, stream: str, kind: str, env: dict) -> tuple[int, str, str] | None:
        """(year, unit, id) of an adjustment or decision stream; its id is made at its first act, unique among
        the ids given before (`unique_short_id`, as the replay gives them)."""
        scope = self.scopes.get(stream)
        if scope is None:
            if kind == OPENING[table]:
                seen = self.ids[table]
                sid = unique_short_id(stream, seen if self.from_start else seen | self.earlier.ids(table, stream))
                seen.add(sid)
                scope = (env["act"]["year"], env["act"]["unit"], sid)
            else:
                scope = self.earlier.scope(table, stream)
                if scope is None:
                    return None
            self.scopes[stream] = scope
        return scope

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
from itertools import islice
from typing import Iterable, Protocol

import orjson

from ledger.adjustments import unique_short_id
from ledger.log_index import event_id

REGISTRY_TYPES = ("ledger.genesis", "signatory.added", "signatory.revoked")
YEAR_TYPES = ("scheme.adopted", "year.close.signed")
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


Act = tuple[str, int, dict, "str | None"]  # (stream, version, envelope, event id if known) of one event
ADJUSTMENTS, DECISIONS, VALUES = "rm_adjustments", "rm_decisions", "rm_values"
UNTIL = 6  # the until_pos column of rm_values and rm_adjustments


class Earlier(Protocol):
    """What a catch-up's folder asks of the tables about streams folded before its pass."""

    def adjustment(self, stream: str) -> "tuple[int, int, str, bytes] | None":
        """(position, year, unit, state bytes) of the adjustment stream's row in force."""

    def decision(self, stream: str) -> "tuple[int, str, str] | None":
        """(year, unit, id) of the decision stream."""

    def ids(self, table: str, stream: str) -> set[str]:
        """The ids of the streams of `table` whose first 8 digits are those of `stream`."""


class NothingEarlier:
    """For a pass from the start of the log: nothing was folded before it."""

    def adjustment(self, stream):
        return None

    def decision(self, stream):
        return None

    def ids(self, table, stream):
        return set()


# An adjustment's state row is its id and its acts so far, [position, event id, {type, act, signer, signed_at}] each:
# what `ledger.adjustments` folds them with, no more (`readstate` folds them as the replay does). Each act's row is
# the previous row's bytes with the act added, not a new encoding of the whole.

def _state_head(sid: str) -> bytes:
    return b'["' + sid.encode("ascii") + b'"'


def _state_step(pos: int, eid: str, env: dict) -> bytes:
    return b',[%d,"%s",' % (pos, eid.encode("ascii")) + orjson.dumps(
        {"type": env["type"], "act": env["act"], "signer": env["signer"], "signed_at": env["signed_at"]}) + b"]"


class RowFolder:
    """Folds stored events, in log order from the position after `start`, into the rows they add to each table
    (tuples in the tables' column order). It remembers, for one pass, each value stream's row in force, each
    adjustment stream's state and each decision stream's (year, unit, id); streams folded before the pass are
    asked of `earlier`, or left to the caller (`superseded_unseen`)."""

    def __init__(self, start: int = 0, earlier: Earlier | None = None, remember: int | None = None):
        self.position = start
        self.earlier = earlier or NothingEarlier()
        self.from_start = start == 0  # then every earlier stream's id is in this pass's sets
        # at most `remember` adjustment states are kept (the latest touched); the others are asked of `earlier`
        self.remember = remember
        self.open_values: dict[str, int] = {}  # value stream -> position of its row in force
        self.open_adjustments: dict[str, tuple[int, tuple[int, str], bytes]] = {}  # stream -> (row, scope, state)
        self.adjustment_ids: set[str] = set()
        self.decisions: dict[str, tuple[int, str, str]] = {}  # decision stream -> (year, unit, id)
        self.decision_ids: set[str] = set()
        self.superseded: list[tuple[str, int, int]] = []  # (table, position of an earlier batch's row, superseding)
        self.superseded_unseen: list[tuple[int, int, str, str]] = []  # (superseding position, year, unit, stream)

    def fold(self, chunk: list[tuple], ids: dict[int, str]) -> dict[str, list[tuple]]:
        """The rows of a batch of stored events as `EventStore.stored_rows` gives them (notification id, stream,
        version, topic, state bytes), by table name (`ids`: notification id -> event id, where known; the others are
        computed); see `fold_acts`."""
        return self.fold_acts((stream, version, loads(text)["envelope"], ids.get(nid))
                              for nid, stream, version, _topic, text in chunk)

    def fold_acts(self, acts: Iterable[Act]) -> dict[str, list[tuple]]:
        """The rows of one batch of acts by table name; rows of the batch superseded within it are closed, those of
        earlier batches are listed in `superseded` (and in `superseded_unseen` for values folded before this
        pass)."""
        self._forget()
        registry: list[tuple] = []
        years: list[tuple] = []
        decisions: list[tuple] = []
        values: dict[int, list] = {}
        adjustments: dict[int, list] = {}
        open_values, pos = self.open_values, self.position
        for stream, version, env, eid in acts:
            pos += 1
            kind = env["type"]
            eid = eid or event_id(env)
            if kind in VALUE_TYPES:
                act = env["act"]
                previous = open_values.get(stream)
                if previous is not None:
                    self._close(values, VALUES, previous, pos)
                elif version > 1:
                    self.superseded_unseen.append((pos, act["year"], act["unit"], stream))
                open_values[stream] = pos
                values[pos] = [pos, act["year"], act["unit"], stream, eid, envelope_bytes(env), None]
            elif kind.startswith("adjustment."):
                row = self._adjustment(adjustments, stream, pos, kind, env, eid)
                if row is not None:
                    adjustments[pos] = row
            elif kind.startswith("decision."):
                scope = self._decision(stream, kind, env)
                if scope is not None:
                    decisions.append((pos, scope[0], scope[1], stream, eid, envelope_bytes(env), scope[2]))
            elif kind in REGISTRY_TYPES:
                registry.append((pos, eid, stream, envelope_bytes(env)))
            elif kind in YEAR_TYPES:
                years.append((pos, env["act"]["year"], eid, stream, envelope_bytes(env)))
            # anything else (signed checkpoints) is in no view
        self.position = pos
        return {"rm_registry": registry, "rm_years": years, VALUES: [tuple(r) for r in values.values()],
                ADJUSTMENTS: [tuple(r) for r in adjustments.values()], DECISIONS: decisions}

    def _forget(self) -> None:
        """Keep the `remember` latest touched adjustment states; between batches, so that every state forgotten is
        in the tables already."""
        extra = len(self.open_adjustments) - (self.remember if self.remember is not None else len(self.open_adjustments))
        for stream in list(islice(self.open_adjustments, extra)) if extra > 0 else ():
            del self.open_adjustments[stream]

    def _close(self, batch: dict[int, list], table: str, previous: int, pos: int) -> None:
        """The row at `previous` is superseded at `pos`: closed in the batch, or listed for an earlier batch's."""
        row = batch.get(previous)
        if row is not None:
            row[UNTIL] = pos
        else:
            self.superseded.append((table, previous, pos))

    def _adjustment(self, batch: dict[int, list], stream: str, pos: int, kind: str, env: dict, eid: str):
        """The state row an adjustment act gives (None for a stream without its proposal: the replay ignores such
        an act too). The row is the previous one with this act added: its bytes are extended, not re-encoded."""
        if kind == "adjustment.proposed":
            sid = unique_short_id(stream, self._taken(self.adjustment_ids, ADJUSTMENTS, stream))
            self.adjustment_ids.add(sid)
            scope, body = (env["act"]["year"], env["act"]["unit"]), _state_head(sid)
        else:
            known = self.open_adjustments.pop(stream, None)
            if known is not None:
                previous, scope, body = known
                self._close(batch, ADJUSTMENTS, previous, pos)
            else:
                found = self.earlier.adjustment(stream)
                if found is None:
                    return None
                previous, year, unit, state = found
                scope, body = (year, unit), state[:-1]
                self.superseded.append((ADJUSTMENTS, previous, pos))
        body += _state_step(pos, eid, env)
        self.open_adjustments[stream] = (pos, scope, body)  # last in the dict's order: the latest touched
        return [pos, scope[0], scope[1], stream, eid, body + b"]", None]

    def _decision(self, stream: str, kind: str, env: dict) -> tuple[int, str, str] | None:
        scope = self.decisions.get(stream)
        if scope is None:
            if kind == "decision.recorded":
                ref = unique_short_id(stream, self._taken(self.decision_ids, DECISIONS, stream))
                self.decision_ids.add(ref)
                scope = (env["act"]["year"], env["act"]["unit"], ref)
            else:
                scope = self.earlier.decision(stream)
                if scope is None:
                    return None  # a stream without its first act: the replay ignores such an act too
            self.decisions[stream] = scope
        return scope

    def _taken(self, seen: set[str], table: str, stream: str):
        """Ids a new stream's id must differ from: this pass's, and those folded before it with the same 8 digits."""
        return seen if self.from_start else seen | self.earlier.ids(table, stream)

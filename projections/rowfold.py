"""Stored events into read-model rows: the one place that says which row each act gives. Catch-ups and rebuilds
write these rows; `verify` (projections.viewcheck) compares the tables with them.

Envelopes are kept as the JSON bytes orjson writes for the decoded envelope: decoding them gives the same values
as decoding the event (orjson reads back what it wrote), at a third of the standard library's cost. (Cutting the
envelope's text out of the stored state instead is slower: the text is not ASCII, and must be encoded again.)
"""
from __future__ import annotations

import json
from typing import Callable, Iterable

import orjson

from ledger.log_index import event_id

REGISTRY_TYPES = ("ledger.genesis", "signatory.added", "signatory.revoked")
YEAR_TYPES = ("scheme.adopted", "year.close.signed")
VALUE_TYPES = ("score.recorded", "evaluation.recorded")
OPENING_TYPES = ("adjustment.proposed", "decision.recorded")  # the first act of an adjustment or decision stream


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
ScopeOf = Callable[[str, str], "tuple[int, str] | None"]  # (table name, stream) -> (year, unit) of a stream's rows


class RowFolder:
    """Folds stored events, in log order from the position after `start`, into the rows they add to each table
    (tuples in the tables' column order). It remembers, for one pass, each value stream's row in force and each
    adjustment or decision stream's (year, unit); streams it has not seen are left to the caller: `superseded_unseen`
    and `scope_of`."""

    def __init__(self, start: int = 0):
        self.position = start
        self.open_values: dict[str, int] = {}  # value stream -> position of its row in force
        self.scopes: dict[str, tuple[int, str]] = {}  # adjustment or decision stream -> (year, unit)
        self.superseded: list[tuple[int, int]] = []  # (position of a row of an earlier batch, position superseding it)
        self.superseded_unseen: list[tuple[int, int, str, str]] = []  # (superseding position, year, unit, stream)

    def fold(self, chunk: list[tuple], ids: dict[int, str], scope_of: ScopeOf) -> dict[str, list[tuple]]:
        """The rows of a batch of stored events as `EventStore.stored_rows` gives them (notification id, stream,
        version, topic, state bytes), by table name (`ids`: notification id -> event id, where known; the others are
        computed); see `fold_acts`."""
        return self.fold_acts(((stream, version, loads(text)["envelope"], ids.get(nid))
                               for nid, stream, version, _topic, text in chunk), scope_of)

    def fold_acts(self, acts: Iterable[Act], scope_of: ScopeOf) -> dict[str, list[tuple]]:
        """The rows of one batch of acts by table name; value rows of the batch superseded within it are closed,
        those of earlier batches are listed in `superseded` (and in `superseded_unseen` when folded before this
        pass)."""
        registry: list[tuple] = []
        years: list[tuple] = []
        adjustments: list[tuple] = []
        decisions: list[tuple] = []
        values: dict[int, list] = {}
        open_values, scopes, pos = self.open_values, self.scopes, self.position
        for stream, version, env, eid in acts:
            pos += 1
            kind = env["type"]
            eid = eid or event_id(env)
            blob = envelope_bytes(env)
            if kind in VALUE_TYPES:
                act = env["act"]
                previous = open_values.get(stream)
                if previous is not None:
                    row = values.get(previous)
                    if row is not None:
                        row[6] = pos
                    else:
                        self.superseded.append((previous, pos))
                elif version > 1:
                    self.superseded_unseen.append((pos, act["year"], act["unit"], stream))
                open_values[stream] = pos
                values[pos] = [pos, act["year"], act["unit"], stream, eid, blob, None]
            elif kind.startswith(("adjustment.", "decision.")):
                table = adjustments if kind.startswith("adjustment.") else decisions
                if kind in OPENING_TYPES:
                    scope = scopes[stream] = (env["act"]["year"], env["act"]["unit"])
                else:
                    scope = scopes.get(stream)
                    if scope is None:
                        scope = scope_of("rm_adjustments" if table is adjustments else "rm_decisions", stream)
                        if scope is None:
                            continue  # a stream without its first act: the replay ignores such an act too
                        scopes[stream] = scope
                table.append((pos, scope[0], scope[1], stream, eid, blob))
            elif kind in REGISTRY_TYPES:
                registry.append((pos, eid, stream, blob))
            elif kind in YEAR_TYPES:
                years.append((pos, env["act"]["year"], eid, stream, blob))
            # anything else (signed checkpoints) is in no view
        self.position = pos
        return {"rm_registry": registry, "rm_years": years, "rm_values": [tuple(r) for r in values.values()],
                "rm_adjustments": adjustments, "rm_decisions": decisions}

"""`verify`: re-check the whole log from its stored bytes, independently of every derived table.

For each stored event in order: the stored row matches what was signed (stream, version, type); the act passes every
check that admitted it (signature, signer registered, valid and not revoked at that point, role, scheme rules), with
the state folded from the events before it; its Merkle leaf is recomputed. The recomputed tree is compared with every
checkpoint stored in the log, with the derived log index, and with checkpoints held outside.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable
from uuid import UUID

from .acts import stream_of
from .checkpoint import Checkpoint, CheckpointError, verify_signatures
from .clock import parse_time
from .errors import LedgerError
from .log_index import event_id, leaf_bytes, log_entries
from .merkle import Frontier, leaf_hash
from .registry import Registry
from .signing import verify_bytes
from .store import StoredAct
from .validation import validate
from .years import YearState

TOPICS = {1: "kaohe:Stream.Opened"}
APPENDED = "kaohe:Stream.Appended"


@dataclass(frozen=True)
class Failure:
    position: int
    event_id: str
    problem: str

    def __str__(self) -> str:
        where = f"event at position {self.position}" + (f" ({self.event_id[:12]})" if self.event_id else "")
        return f"{where}: {self.problem}" if self.position else self.problem


@dataclass
class Report:
    """What verification found: the log's size and root, and every failure (the first one first)."""

    size: int = 0
    root: bytes = b""
    failures: list[Failure] = field(default_factory=list)
    checkpoints_checked: int = 0
    signatures_checked: int = 0
    closed_years: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, position: int, ev: str, problem: str) -> None:
        self.failures.append(Failure(position, ev, problem))


class MemorySource:
    """Ledger state folded from the events verified so far (a StateSource for `validate`)."""

    def __init__(self) -> None:
        self.ledger_id: str | None = None
        self._registry = Registry()
        self.streams: dict[UUID, list[tuple[dict, str]]] = {}
        self.roots: list[bytes] = []  # roots[n-1] = root of the first n events
        self.frontier = Frontier()

    def current_ledger_id(self) -> str | None:
        return self.ledger_id

    def registry(self) -> Registry:
        return self._registry

    def year(self, year: int, registry: Registry) -> YearState:
        state = YearState(year)
        for envelope, eid in self.streams.get(stream_of(self.ledger_id, "year", year), []):
            signer = registry.signatories.get(envelope["signer"])
            state.apply(envelope, eid, signer.person if signer else envelope["signer"])
        return state

    def stream_acts(self, stream: UUID) -> list[tuple[dict, str]]:
        return list(self.streams.get(stream, []))

    def log_size(self) -> int:
        return len(self.roots)

    def root_at(self, size: int) -> bytes:
        return self.roots[size - 1]

    def admit(self, envelope: dict, eid: str) -> None:
        """Fold an act that passed its checks."""
        if envelope["type"] == "ledger.genesis":
            self.ledger_id = envelope["ledger"]
        if envelope["type"] in ("ledger.genesis", "signatory.added", "signatory.revoked"):
            self._registry.apply(envelope)
        self.streams.setdefault(UUID(envelope["stream"]), []).append((envelope, eid))

    def add_leaf(self, leaf: bytes) -> None:
        self.frontier.append(leaf)
        self.roots.append(self.frontier.root())


def verify_log(acts: Iterable[StoredAct], external: list[Checkpoint] = (), indexed: dict[int, bytes] | None = None,
               progress: Callable[[int], None] | None = None) -> tuple[Report, MemorySource]:
    """Verify stored acts in log order; `indexed` maps positions to leaf hashes of the derived index, if any."""
    report, source = Report(), MemorySource()
    stored_checkpoints: list[tuple[int, Checkpoint]] = []
    position = 0
    for act in acts:
        position += 1
        eid = event_id(act.envelope) if isinstance(act.envelope, dict) else ""
        problem = _row_problem(act)
        if problem is None and not report.failures:
            try:
                validate(act.envelope, act.signature, source, parse_time(act.recorded_at, "recorded_at"))
                report.signatures_checked += 1
            except LedgerError as exc:
                problem = str(exc)
        if problem is not None:
            report.fail(position, eid, problem)
        elif not report.failures:
            source.admit(act.envelope, eid)
            if act.envelope["type"] == "checkpoint.signed":
                stored_checkpoints.append((position, _as_checkpoint(source.ledger_id, act.envelope["act"])))
        try:
            leaf = leaf_hash(leaf_bytes(act))
        except LedgerError as exc:
            report.fail(position, eid, f"cannot be encoded: {exc}")
            leaf = leaf_hash(b"")
        source.add_leaf(leaf)
        if indexed is not None and position in indexed and indexed[position] != leaf:
            report.fail(position, eid, "differs from the event indexed at this position (the stored event was "
                                       "changed, moved or replaced after it was recorded)")
        if progress and position % 1000 == 0:
            progress(position)
    if progress:
        progress(position)
    report.size = position
    report.root = source.frontier.root()
    if indexed is not None and len(indexed) > position:
        report.fail(0, "", f"the log index holds {len(indexed)} events but the store only {position}: "
                           f"events after position {position} were removed")
    for _pos, cp in stored_checkpoints:
        _compare(report, source, cp, "stored checkpoint")
    for cp in external:
        _check_external(report, source, cp)
    _check_forks(report, [cp for _p, cp in stored_checkpoints] + list(external))
    return report, source


def _row_problem(act: StoredAct) -> str | None:
    env = act.envelope
    if not isinstance(env, dict) or not isinstance(act.signature, dict):
        return "stored event is not a signed act"
    if env.get("stream") != act.stream:
        return f"stored in stream {act.stream} but signed for stream {env.get('stream')}"
    if env.get("version") != act.version:
        return f"stored as version {act.version} but signed as version {env.get('version')}"
    expected = TOPICS.get(act.version, APPENDED)
    if act.topic != expected:
        return f"stored with topic {act.topic}, expected {expected}"
    return None


def _as_checkpoint(ledger_id: str, act: dict) -> Checkpoint:
    return Checkpoint(ledger_id, act["size"], base64.b64decode(act["root"]), act["time"])


def _compare(report: Report, source: MemorySource, cp: Checkpoint, what: str) -> None:
    report.checkpoints_checked += 1
    if cp.size > len(source.roots):
        report.fail(0, "", f"{what} of size {cp.size} ({cp.time}) is beyond the log, which holds "
                           f"{len(source.roots)} events: events were removed or the store was rolled back")
    elif cp.size and source.roots[cp.size - 1] != cp.root:
        report.fail(cp.size, "", f"the log's Merkle root at size {cp.size} differs from the {what} of {cp.time}: "
                                 "an event at or before this position was changed, removed, reordered or inserted")


def _check_external(report: Report, source: MemorySource, cp: Checkpoint) -> None:
    if source.ledger_id is not None and cp.ledger_id != source.ledger_id:
        report.fail(0, "", f"checkpoint is for ledger {cp.ledger_id}, not {source.ledger_id}")
        return
    registry = source.registry()

    def verifier_for(key_id: str):
        sig = registry.signatories.get(key_id)
        if sig is None:
            return None
        return lambda message, signature: verify_bytes(
            sig.public_key, message, {"alg": key_id.split(":")[0],
                                      "sig": base64.b64encode(signature).decode()}) is None

    try:
        verify_signatures(cp, verifier_for)
    except CheckpointError as exc:
        report.fail(0, "", f"external checkpoint: {exc}")
        return
    _compare(report, source, cp, "external checkpoint")


def _check_forks(report: Report, checkpoints: list[Checkpoint]) -> None:
    seen: dict[int, Checkpoint] = {}
    for cp in checkpoints:
        other = seen.setdefault(cp.size, cp)
        if other.root != cp.root:
            report.fail(0, "", f"fork: two checkpoints of size {cp.size} have different roots "
                               f"({other.time} and {cp.time})")


def indexed_leaves(engine) -> dict[int, bytes]:
    """The derived index's leaf hash per position (for comparison; it is never trusted)."""
    from sqlalchemy import select

    with engine.connect() as conn:
        return {int(seq): bytes(h) for seq, h in conn.execute(select(log_entries.c.seq, log_entries.c.leaf_hash))}




"""`verify`: re-check the whole log from its stored bytes, independently of every derived table.

For each stored event in order: the stored row matches what was signed (stream, version, type); the act passes every
check that admitted it (signature, signer registered, valid and not revoked at that point, role, scheme rules), with
the state folded from the events before it; its Merkle leaf is recomputed. The recomputed tree is compared with every
checkpoint stored in the log, with the derived log index, and with checkpoints held outside.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

from .acts import TreeHeadMismatch
from .checkpoint import Checkpoint, CheckpointError, ledger_mismatch, verify_signatures
from .clock import parse_time
from .errors import Refused
from .folded_state import MemorySource
from .log_index import decode_state
from .merkle import MemoryNodeStore, leaf_hash, root as tree_root
from .store import StoredAct
from .precheck import Item, prechecked, problem_of
from .stored import event_at, row_problem
from .validation import validate

@dataclass(frozen=True)
class Failure:
    position: int
    event_id: str
    problem: str

    def __str__(self) -> str:
        return f"{event_at(self.position, self.event_id)}: {self.problem}" if self.position else self.problem


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


def verify_log(acts: Iterable[Item], external: list[Checkpoint] = (), indexed: Mapping[int, bytes] | None = None,
               progress: Callable[[int], None] | None = None, workers: int | None = None,
               admitted: Callable[[StoredAct, str], None] | None = None) -> tuple[Report, MemorySource]:
    """Verify stored acts in log order; `indexed` maps positions to what the derived index holds, if any: the leaf
    hash, followed by the event id's 32 bytes where the index has it (`indexed_entries`).

    Signatures, event ids and Merkle leaves are computed on `workers` processes (default: every core) ahead of the
    fold, which stays sequential: each act is still checked against the state of the acts before it. Acts given
    with their stored bytes (`stored_acts`) travel to the workers as those bytes, which they decode themselves.
    `admitted(act, event id)` is told of each act that passed every check, in order, while no act has failed."""
    report, source = Report(), MemorySource(compact=True)
    stored_checkpoints: list[Checkpoint] = []
    indexed_at: dict[bytes, int] | None = None
    seen: dict[str, int] = {}
    position = 0
    for act, (eid, leaf, leaf_problem, key, shape_problem) in prechecked(acts, workers):
        position += 1
        clean = not report.failures  # events after the first failure are hashed, not re-checked against its state
        if leaf is None:
            report.fail(position, eid, f"cannot be encoded: {leaf_problem}")
            leaf = leaf_hash(b"")
        source.add_leaf(leaf)
        if indexed and position in indexed:
            held = indexed[position]
            if held[:32] != leaf:
                if indexed_at is None:  # where the index saw every leaf: names a moved or removed event precisely
                    indexed_at = {h[:32]: pos for pos, h in sorted(indexed.items(), reverse=True)}
                report.fail(position, eid, moved_problem(position, indexed_at.get(leaf)))
            elif eid and len(held) > 32 and held[32:].hex() != eid:
                # the views and receipts take event ids from the index: an edited id there is found here
                report.fail(position, eid, f"the log index names it {held[32:].hex()[:12]}…, but its envelope "
                                           "hashes to this id (the index was edited)")
        problem = row_problem(act)
        if eid in seen and eid:
            problem = f"is a copy of the event at position {seen[eid]} (stored twice)"
        else:
            seen[eid] = position
        if problem is None and clean:
            problem = shape_problem or _check(act, source, key)
            if problem is None:
                report.signatures_checked += 1
        if problem is not None:
            report.fail(position, eid, problem)
        elif clean:
            source.admit(act.envelope, eid)
            if admitted is not None:
                admitted(act, eid)
            if act.envelope["type"] == "checkpoint.signed":
                stored_checkpoints.append(_as_checkpoint(source.ledger_id, act.envelope["act"]))
        if progress and position % 1000 == 0:
            progress(position)
    if progress:
        progress(position)
    report.size = position
    report.root = tree_root(source.nodes, position)
    if indexed and max(indexed) > position:
        report.fail(0, "", missing_problem(position, max(indexed)))
    trusted = [cp for cp in external if _external_signed(report, source, cp)]
    _check_forks(report, stored_checkpoints + trusted)
    _compare_all(report, source, [(cp, "stored checkpoint") for cp in stored_checkpoints]
                 + [(cp, "external checkpoint") for cp in trusted])
    return report, source


def node_problems(tree: MemoryNodeStore, stored: Iterable[tuple[int, int, bytes]], most: int = 10) -> list[str]:
    """The stored Merkle nodes (level, idx, hash) whose hash is not the recomputed tree's (the first `most`, then a
    count). A node beyond the recomputed tree is left to the checks of the log index (a store behind its index)."""
    wrong, count = [], 0
    for level, idx, h in stored:
        held = tree.node(level, idx)
        if held is not None and held != h:
            count += 1
            if count <= most:
                first, last = idx * (1 << level) + 1, (idx + 1) * (1 << level)
                wrong.append(f"the stored Merkle node over positions {first} to {last} (level {level}) differs "
                             "from the tree the events give: the node table was edited (proofs built from it do "
                             "not hold; `prove` refuses them)")
    if count > most:
        wrong.append(f"and {count - most} more stored Merkle nodes differ from the tree the events give")
    return wrong


# ---- the stored events as bytes: read once, decoded once per process -----------------------------------------------

def stored_acts(store, batch: int = 2000) -> Iterator[tuple[StoredAct, bytes]]:
    """Every stored act in log order with the state bytes it was decoded from (what `store.read` gives, read with
    one plain SELECT a batch and decoded by `decode_state`; the workers decode the same bytes)."""
    for nid, stream, version, topic, state in store.stored_rows(batch=batch):
        yield StoredAct(nid, stream, version, topic, *decode_state(state)), state


def _check(act: StoredAct, source: MemorySource, checked_key: str | None = None) -> str | None:
    """The checks of the state that admitted the act (its shape passed on the pool), against the state folded so
    far; the problem, or None."""
    def run() -> None:
        try:
            validate(act.envelope, act.signature, source, parse_time(act.recorded_at, "recorded_at"),
                     checked_key=checked_key, shape_checked=True)
        except TreeHeadMismatch as exc:
            # the act's own leaf is in the tree already (verify_log adds it first): the events before it are one fewer
            raise Refused(head_problem(exc.size, source.log_size() - 1, source.heads)) from None

    return problem_of(run)


def head_problem(size: int, held: int, matching: Iterable[int]) -> str:
    """Why a stored act whose tree head (of `size`) the `held` events before it do not give shows tampering: its
    signer saw other events there (an act is admitted only with the log's own root). `matching`: the sizes of the
    tree heads before it that hold."""
    if size > held:
        return (f"it signs the tree head of size {size}, but only {held} events come before it: "
                f"{_where_changed(size, matching)}")
    return (f"the tree head it signs (size {size}) is not the root of the events before it: "
            f"{_where_changed(size, matching)}")


def missing_problem(stored: int, indexed: int) -> str:
    """The store holds fewer events than its log index recorded as they were stored."""
    return (f"{_upper(_span(stored + 1, indexed))} missing: the log index, written as events were stored, holds "
            f"{indexed} events, the store only {stored} (removed after they were stored)")


def _where_changed(size: int, matching: Iterable[int]) -> str:
    """Which events a tree head of `size` that does not match can point to: those after the largest smaller tree
    head that matches."""
    after = max((m for m in matching if m < size), default=0)
    where = f"position {size}" if after + 1 == size else f"positions {after + 1} to {size}"
    return (f"an event at {where} was changed, removed, reordered or inserted"
            + (f" (the checkpoint of size {after} matches)" if after else ""))


def moved_problem(position: int, was: int | None) -> str:
    """Why the event here is not the one the index recorded here, from where (if anywhere) the index has it."""
    if was is None:
        return ("differs from the event indexed at this position: it was changed or replaced after it was stored "
                "(or the index was)")
    if was > position:
        return (f"was stored at position {was}, says the log index: the event indexed at position {position} was "
                "removed, or the events were reordered")
    return (f"was stored at position {was}, says the log index: an event was inserted before it, or the events "
            "were reordered")


def _span(first: int, last: int) -> str:
    return f"the event at position {first} is" if first == last else f"the events at positions {first} to {last} are"


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _as_checkpoint(ledger_id: str, act: dict) -> Checkpoint:
    return Checkpoint(ledger_id, act["size"], base64.b64decode(act["root"]), act["time"])


def _compare_all(report: Report, source: MemorySource, checkpoints: list[tuple[Checkpoint, str]]) -> None:
    """Compare each checkpoint with the recomputed tree; a mismatch is narrowed to the positions after the largest
    smaller checkpoint that matches."""
    n = source.log_size()
    matching = sorted({cp.size for cp, _ in checkpoints if cp.size <= n and (not cp.size or
                                                                             source.root_at(cp.size) == cp.root)})
    for cp, what in checkpoints:
        report.checkpoints_checked += 1
        if cp.size > n:
            report.fail(0, "", f"{_upper(_span(n + 1, cp.size))} missing: the {what} of size {cp.size} ({cp.time}) "
                               f"is beyond the log, which holds {n} events (events were removed or the store was "
                               "rolled back)")
        elif cp.size and source.root_at(cp.size) != cp.root:
            report.fail(0, "", f"the log's Merkle root at size {cp.size} differs from the {what} of {cp.time}: "
                               f"{_where_changed(cp.size, matching)}")


def _external_signed(report: Report, source: MemorySource, cp: Checkpoint) -> bool:
    """Whether an external checkpoint is for this ledger and signed by a key the log registered."""
    other = None if source.ledger_id is None else ledger_mismatch(cp, source.ledger_id)
    if other:
        report.fail(0, "", other)
        return False
    try:
        verify_signatures(cp, source.registry().verifier_for)
    except CheckpointError as exc:
        report.fail(0, "", f"external {cp.label} ({cp.time}): {exc}")
        return False
    return True


def _check_forks(report: Report, checkpoints: list[Checkpoint]) -> None:
    """Two validly signed checkpoints of one size with different roots: the log showed two histories."""
    seen: dict[int, Checkpoint] = {}
    for cp in checkpoints:
        other = seen.setdefault(cp.size, cp)
        if other.root != cp.root:
            report.fail(0, "", f"fork: two signed checkpoints of size {cp.size} have different roots "
                               f"({other.time} and {cp.time}); at most one is this log's")

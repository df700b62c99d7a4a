"""`verify`: re-check the whole log from its stored bytes, independently of every derived table.

For each stored event in order: the stored row matches what was signed (stream, version, type); the act passes every
check that admitted it (signature, signer registered, valid and not revoked at that point, role, scheme rules), with
the state folded from the events before it; its Merkle leaf is recomputed. The recomputed tree is compared with every
checkpoint stored in the log, with the derived log index, and with checkpoints held outside.
"""
from __future__ import annotations

import base64
import hashlib
import os
from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Iterable, Iterator, Union
from uuid import UUID

from .acts import stream_of
from .canonical import canonical
from .checkpoint import Checkpoint, CheckpointError, verify_signatures
from .clock import parse_time
from .errors import LedgerError
from .log_index import decode_state, id_and_leaf, leaf_bytes, stored_rows
from .merkle import MemoryNodeStore, leaf_hash, root as tree_root
from .registry import Registry
from .signing import verify_bytes
from .store import StoredAct
from .validation import check_shape, validate
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
    event_ids: list[str] = field(default_factory=list, repr=False)  # computed from each envelope, in log order

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
        # every perfect subtree of the log so far: a root at any size in O(log n) when a check or checkpoint asks
        # (a root kept for every size cost a dozen hashes an event at a million)
        self.nodes = MemoryNodeStore()
        # year -> its state, folded as year-stream acts are admitted: refolding it for every act would re-read (and
        # re-hash) the scheme text each time
        self._years: dict[int, YearState] = {}

    def current_ledger_id(self) -> str | None:
        return self.ledger_id

    def registry(self) -> Registry:
        return self._registry

    def year(self, year: int, registry: Registry) -> YearState:
        state = self._years.get(year)
        if state is None:
            state = self._years[year] = YearState(year)
            for envelope, eid in self.streams.get(stream_of(self.ledger_id, "year", year), []):
                signer = registry.signatories.get(envelope["signer"])
                state.apply(envelope, eid, signer.person if signer else envelope["signer"])
        if state.adopted and state._parsed is None:
            try:
                state.scheme  # parsed once here, shared by the copies below (a Scheme is immutable)
            except LedgerError:
                pass  # the check that reads it says what is wrong
        # a copy: a check must not change the state it reads
        return YearState(state.year, state.scheme_text, state.scheme_event, list(state.closes), state._parsed)

    def stream_acts(self, stream: UUID) -> list[tuple[dict, str]]:
        return list(self.streams.get(stream, []))

    def log_size(self) -> int:
        return self.nodes.size

    def root_at(self, size: int) -> bytes:
        return tree_root(self.nodes, size)

    def admit(self, envelope: dict, eid: str) -> None:
        """Fold an act that passed its checks."""
        if envelope["type"] == "ledger.genesis":
            self.ledger_id = envelope["ledger"]
        if envelope["type"] in ("ledger.genesis", "signatory.added", "signatory.revoked"):
            self._registry.apply(envelope)
        self.streams.setdefault(UUID(envelope["stream"]), []).append((envelope, eid))
        if envelope["type"] in ("scheme.adopted", "year.close.signed"):
            state = self._years.get(envelope["act"]["year"])
            if state is not None:  # else folded from the stream when first asked for
                signer = self._registry.signatories.get(envelope["signer"])
                state.apply(envelope, eid, signer.person if signer else envelope["signer"])

    def add_leaf(self, leaf: bytes) -> None:
        self.nodes.append(leaf)


Item = Union[StoredAct, tuple]  # a StoredAct, or (StoredAct, the stored state bytes it was decoded from)


def verify_log(acts: Iterable[Item], external: list[Checkpoint] = (), indexed: dict[int, bytes] | None = None,
               progress: Callable[[int], None] | None = None, workers: int | None = None
               ) -> tuple[Report, MemorySource]:
    """Verify stored acts in log order; `indexed` maps positions to what the derived index holds, if any: the leaf
    hash, followed by the event id's 32 bytes where the index has it (`indexed_entries`).

    Signatures, event ids and Merkle leaves are computed on `workers` processes (default: every core) ahead of the
    fold, which stays sequential: each act is still checked against the state of the acts before it. Acts given
    with their stored bytes (`stored_acts`) travel to the workers as those bytes, which they decode themselves."""
    report, source = Report(), MemorySource()
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
        report.event_ids.append(eid)
        if indexed and position in indexed:
            held = indexed[position]
            if held[:32] != leaf:
                if indexed_at is None:  # where the index saw every leaf: names a moved or removed event precisely
                    indexed_at = {h[:32]: pos for pos, h in sorted(indexed.items(), reverse=True)}
                report.fail(position, eid, _moved(position, indexed_at.get(leaf)))
            elif eid and len(held) > 32 and held[32:].hex() != eid:
                # the views and receipts take event ids from the index: an edited id there is found here
                report.fail(position, eid, f"the log index names it {held[32:].hex()[:12]}…, but its envelope "
                                           "hashes to this id (the index was edited)")
        problem = _row_problem(act)
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
            if act.envelope["type"] == "checkpoint.signed":
                stored_checkpoints.append(_as_checkpoint(source.ledger_id, act.envelope["act"]))
        if progress and position % 1000 == 0:
            progress(position)
    if progress:
        progress(position)
    report.size = position
    report.root = tree_root(source.nodes, position)
    if indexed and max(indexed) > position:
        report.fail(0, "", f"{_upper(_span(position + 1, max(indexed)))} missing: the log index, written as "
                           f"events were stored, holds {max(indexed)} events, the store only {position} "
                           "(removed after they were stored)")
    trusted = [cp for cp in external if _external_signed(report, source, cp)]
    _check_forks(report, stored_checkpoints + trusted)
    _compare_all(report, source, [(cp, "stored checkpoint") for cp in stored_checkpoints]
                 + [(cp, "external checkpoint") for cp in trusted])
    return report, source


# ---- the stored events as bytes: read once, decoded once per process -----------------------------------------------

def stored_acts(store, batch: int = 2000) -> Iterator[tuple[StoredAct, bytes]]:
    """Every stored act in log order with the state bytes it was decoded from (what `store.read` gives, read with
    one plain SELECT a batch and decoded by `decode_state`; the workers decode the same bytes)."""
    for nid, stream, version, topic, state in stored_rows(store, batch=batch):
        yield StoredAct(nid, stream, version, topic, *decode_state(state)), state


# ---- what can be computed for each event apart from the others, spread over processes -----------------------------

CHUNK = 2000  # events per task; a log shorter than one chunk is checked in-process (a pool takes ~0.1 s to start)
_POOLS: dict[int, object] = {}
_RESULT = 65  # bytes per event in a worker's answer: event id digest, leaf hash, flags
_HAS_ID, _HAS_LEAF, _VERIFIED = 1, 2, 4


def prechecked(acts: Iterable[Item], workers: int | None = None, keys: dict[str, str] | None = None
               ) -> Iterator[tuple[StoredAct, tuple]]:
    """Each act with (event id, Merkle leaf hash or None, why the leaf cannot be encoded, the public key its
    signature verified with or None, why `check_shape` refused it or None), computed on `workers` processes a few
    chunks ahead of the caller (an act not stored yet carries the time its caller will record it at).

    The key tried for an act is the one its signer's key id names in `keys` (key id -> public key text) or in a
    genesis or signatory.added act seen before it; `validate(..., checked_key=…)` trusts the result only if the
    registry names that same key when the act's turn comes. Memory stays bounded: at most 2 chunks per worker wait."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    known = dict(keys or {})
    source, pending, pool = iter(acts), deque(), None
    while True:
        chunk = [item if type(item) is tuple else (item, None) for item in islice(source, CHUNK)]
        if chunk:
            tasks = [(_key_for(act, known), state if state is not None else
                      (act.envelope, act.signature, act.recorded_at)) for act, state in chunk]
            if pool is None and (workers <= 1 or (len(chunk) < CHUNK and not pending)):
                pending.append((chunk, tasks, _precheck_many(tasks)))
            else:
                pool = pool or _pool(workers)
                pending.append((chunk, tasks, pool.apply_async(_precheck_many, (tasks,))))
        if not pending:
            return
        if not chunk or len(pending) > 2 * workers:
            done, tasks, result = pending.popleft()
            packed, problems, shapes = result if isinstance(result, tuple) else result.get()
            for i, ((act, _state), (key, _payload)) in enumerate(zip(done, tasks)):
                at = i * _RESULT
                flags = packed[at + 64]
                yield act, (packed[at:at + 32].hex() if flags & _HAS_ID else "",
                            packed[at + 32:at + 64] if flags & _HAS_LEAF else None,
                            problems.get(i, ""), key if flags & _VERIFIED else None, shapes.get(i))


def _pool(workers: int):
    """A process pool kept for the process's life (verify and bulk append may each run more than once)."""
    if workers not in _POOLS:
        import multiprocessing

        # forkserver: workers start from a clean process, not a fork of one holding database connections and threads
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ledger.integrity"])
        if not _POOLS:
            import atexit

            atexit.register(_close_pools)  # before interpreter teardown, when a pool's finaliser can no longer run
        _POOLS[workers] = context.Pool(workers)
    return _POOLS[workers]


def _close_pools() -> None:
    while _POOLS:
        pool = _POOLS.popitem()[1]
        pool.terminate()
        pool.join()


def _key_for(act: StoredAct, known: dict[str, str]) -> str | None:
    envelope = act.envelope
    try:
        if envelope["type"] == "ledger.genesis":
            known.setdefault(envelope["signer"], envelope["act"]["office"]["public_key"])
        key = known.get(envelope["signer"])
        if envelope["type"] == "signatory.added":
            known.setdefault(envelope["act"]["key_id"], envelope["act"]["public_key"])
        return key if isinstance(key, str) else None
    except (TypeError, KeyError):
        return None  # a malformed act: validate says what is wrong with it


def _precheck_many(tasks: list[tuple]) -> tuple[bytes, dict[int, str], dict[int, str]]:
    """For each (key, stored state bytes or (envelope, signature, recorded time)): event id digest, leaf hash and
    flags packed in `_RESULT` bytes, the leaf problems and the shape problems by index; runs in a worker. Compact on
    purpose: pickling dicts to the workers and tuples back cost as much as the hashing."""
    packed, problems, shapes = bytearray(), {}, {}
    for i, (key, payload) in enumerate(tasks):
        envelope, signature, recorded_at = decode_state(payload) if type(payload) is bytes else payload
        shape = _shape_problem(envelope, recorded_at)
        if shape is not None:
            shapes[i] = shape
        digest, leaf, problem, verified = _precheck(key, envelope, signature, recorded_at)
        packed += digest or bytes(32)
        packed += leaf or bytes(32)
        packed.append((digest is not None) * _HAS_ID | (leaf is not None) * _HAS_LEAF | verified * _VERIFIED)
        if problem:
            problems[i] = problem
    return bytes(packed), problems, shapes


def _shape_problem(envelope, recorded_at) -> str | None:
    """Why `check_shape` refuses the act at its record time, or None; worded as `_check` words it."""
    return _checked(lambda: check_shape(envelope, parse_time(recorded_at, "recorded_at")))


def _precheck(key: str | None, envelope, signature, recorded_at) -> tuple:
    """(event id digest or None, leaf hash or None, leaf problem, whether `key` verified the signature)."""
    try:
        body = canonical(envelope) if isinstance(envelope, dict) else None
    except LedgerError:
        body = None  # not canonically encodable (a float, say): reported as such by the leaf
    digest = hashlib.sha256(body).digest() if body is not None else None
    if recorded_at is None:  # an act not stored yet (a bulk append): it has no leaf
        leaf, problem = None, ""
    else:
        leaf, problem = _leaf(body, envelope, signature, recorded_at)
    verified = key is not None and body is not None and verify_bytes(key, body, signature) is None
    return digest, leaf, problem, verified


def _leaf(body: bytes | None, envelope, signature, recorded_at) -> tuple[bytes | None, str]:
    try:
        if body is None:
            return leaf_hash(leaf_bytes(StoredAct(0, "", 0, "", envelope, signature, recorded_at))), ""
        return id_and_leaf(StoredAct(0, "", 0, "", envelope, signature, recorded_at), body)[1], ""
    except LedgerError as exc:
        return None, str(exc)


def _check(act: StoredAct, source: MemorySource, checked_key: str | None = None) -> str | None:
    """The checks of the state that admitted the act (its shape passed on the pool), against the state folded so
    far; the problem, or None."""
    return _checked(lambda: validate(act.envelope, act.signature, source, parse_time(act.recorded_at, "recorded_at"),
                                     checked_key=checked_key, shape_checked=True))


def _checked(run: Callable[[], object]) -> str | None:
    try:
        run()
    except LedgerError as exc:
        return str(exc)
    except Exception as exc:  # a tampered store must never crash the verifier: report the event instead
        return f"cannot be checked ({exc.__class__.__name__}: {exc})"
    return None


def _moved(position: int, was: int | None) -> str:
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
            after = max((size for size in matching if size < cp.size), default=0)
            where = f"position {cp.size}" if after + 1 == cp.size else f"positions {after + 1} to {cp.size}"
            report.fail(0, "", f"the log's Merkle root at size {cp.size} differs from the {what} of {cp.time}: "
                               f"an event at {where} was changed, removed, reordered or inserted"
                               + (f" (the checkpoint of size {after} matches)" if after else ""))


def _external_signed(report: Report, source: MemorySource, cp: Checkpoint) -> bool:
    """Whether an external checkpoint is for this ledger and signed by a key the log registered."""
    if source.ledger_id is not None and cp.ledger_id != source.ledger_id:
        report.fail(0, "", f"checkpoint is for ledger {cp.ledger_id}, not {source.ledger_id}")
        return False
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
        report.fail(0, "", f"external checkpoint of size {cp.size} ({cp.time}): {exc}")
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

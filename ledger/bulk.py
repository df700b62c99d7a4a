"""Bulk signed append: many signed acts checked in order against the ledger's state, then stored in batches.

`Ledger.submit` stores one act per call and re-reads what its checks need from the database each time. A sheet of
thousands of scores, a migration or the benchmark generator has every act signed already; `append_many` checks
them all first — each with `validate`, the very function the writer and the verifier run, against an in-memory
state seeded from the store with only the streams the acts touch and advanced act by act — so a bad act refuses
the whole call (naming its line and reason) before anything is written. Signatures are checked on every core
(`ledger.precheck.prechecked`) while the state is folded in order. Then the acts are inserted through the
recorder in batches of `BATCH` (each batch one transaction) and the log index is brought up to date.

`BulkSigner` is the signing side: it numbers each stream's versions in memory, so acts can be signed in order
without storing each before signing the next.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from uuid import UUID, uuid4

from eventsourcing.domain import datetime_now_with_tzinfo
from eventsourcing.persistence import IntegrityError, StoredEvent

from .acts import ACTS, stream_of
from .canonical import canonical, loads_strict, sha256_hex
from .clock import signing_time
from .errors import LedgerError, Refused
from .folded_state import MemorySource
from .precheck import prechecked
from .keys import PrivateKey
from .log_index import event_id, log_entries
from .signing import sign_bytes
from .store import Conflict, StoredAct, Stream
from .validation import validate
from .writer import Ledger, Receipt

BATCH = 5000  # acts per insert transaction: large enough to amortise the commit, small enough to keep memory flat
_LOOKUP = 500  # stream ids per existence query
MAX_LINE = 8 * 1024 * 1024  # one act a line; the bound of a single signed act file (ledger/actfile.py)

Signed = tuple[dict, dict]  # (envelope, signature)


class BulkRefused(Refused):
    """An act of a bulk append failed its checks: nothing of the call was stored."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.index = index  # 1-based number of the refused act in the call


class StoreSeededSource(MemorySource):
    """The ledger's state for `validate`, seeded from the store only where the acts look: the registry, the years
    they name, and the streams they touch (existing streams are found with one query per 500 ids)."""

    def __init__(self, ledger: Ledger, size: int, touched: Iterable[UUID]):
        super().__init__()
        self.ledger, self.base_size = ledger, size
        self.ledger_id = ledger.current_ledger_id()
        self.admitted = 0
        self._absent: set[UUID] = set()
        self._roots: dict[int, bytes] = {}
        self._year_streams: dict[int, UUID] = {}  # loaded from the store once (a uuid5 per act adds up)
        if self.ledger_id is not None:
            self._registry = ledger.registry()
            self._load(UUID(self.ledger_id))
        touched = [s for s in set(touched) if str(s) not in self.streams]
        existing: set[str] = set()
        with ledger.store.engine.connect() as conn:
            for i in range(0, len(touched), _LOOKUP):
                part = [str(s) for s in touched[i:i + _LOOKUP]]
                existing.update(r[0] for r in conn.execute(
                    log_entries.select().with_only_columns(log_entries.c.stream).distinct()
                    .where(log_entries.c.stream.in_(part))))
        self._absent.update(s for s in touched if str(s) not in existing)

    def _load(self, stream: UUID) -> None:
        if str(stream) in self.streams or stream in self._absent:
            return
        loaded = self.ledger.load(stream)
        if loaded is None:
            self._absent.add(stream)
        else:
            self.streams[str(stream)] = [(env, event_id(env)) for env, _sig in loaded.acts]

    def stream_acts(self, stream: UUID) -> list[tuple[dict, str]]:
        self._load(stream)
        return super().stream_acts(stream)

    def year(self, year: int, registry):
        if self.ledger_id is not None and year not in self._year_streams:
            self._year_streams[year] = stream_of(self.ledger_id, "year", year)
            self._load(self._year_streams[year])
        return super().year(year, registry)

    def log_size(self) -> int:
        return self.base_size + self.admitted

    def root_at(self, size: int) -> bytes:
        if size > self.base_size:
            # the leaf of an act not stored yet covers the time the store records it, unknown until it is stored
            raise Refused(f"position {size} is among the acts of this bulk append; a checkpoint or close naming it "
                          "must be appended in a later call")
        if size not in self._roots:
            self._roots[size] = self.ledger.index.root(size)
        return self._roots[size]

    def admit(self, envelope: dict, eid: str) -> None:
        self._absent.discard(UUID(envelope["stream"]))
        super().admit(envelope, eid)
        self.admitted += 1


def append_many(ledger: Ledger, signed: Iterable[Signed], progress: Callable[[int], None] | None = None, *,
                batch: int = BATCH, workers: int | None = None) -> int:
    """Check every signed act in order, then store them in batches; returns how many were stored.

    A refused act raises BulkRefused (its 1-based index and reason) before anything is written. An act already
    stored exactly so (a repeated delivery, e.g. a file submitted again after an interruption) is skipped. A
    concurrent writer that appends to one of the same streams between the checks and the insert makes that batch
    fail as a whole (Conflict; the batches before it are stored)."""
    acts = list(signed)
    if not acts:
        return 0
    if ledger.before_append is not None:
        ledger.before_append()
    size = ledger.index.catch_up()
    source = StoreSeededSource(ledger, size, _streams(acts))
    keys = {k: s.public_key for k, s in source.registry().signatories.items()}
    # the time the store records for every act of the call, fixed now: the checks run against it (as verify will),
    # and the workers can compute each act's Merkle leaf, which covers it, along with its signature
    clock = datetime_now_with_tzinfo()
    accepted: list[Signed] = []
    known: dict[tuple[str, int], tuple[str, bytes, str]] = {}  # (stream, version) -> (event id, leaf hash, type)
    pseudo = (StoredAct(0, "", 0, "", env, sig, clock.isoformat()) for env, sig in acts)
    for index, (act, (eid, leaf, _why, key, shape)) in enumerate(prechecked(pseudo, workers, keys), 1):
        envelope, signature = act.envelope, act.signature
        if _stored_already(source, envelope, eid):
            continue
        if shape is not None:  # check_shape, run on the pool, refused it
            raise _refusal(index, envelope, shape)
        try:
            validate(envelope, signature, source, clock, checked_key=key, shape_checked=True)
        except LedgerError as exc:
            raise _refusal(index, envelope, str(exc)) from None
        source.admit(envelope, eid)
        accepted.append((envelope, signature))
        if leaf is not None:
            known[(envelope["stream"], envelope["version"])] = (eid, leaf, envelope["type"])
    stored = 0
    for start in range(0, len(accepted), batch):
        part = accepted[start:start + batch]
        events = [stored_event(ledger, env, sig, clock) for env, sig in part]
        try:
            ledger.store.app.recorder.insert_events(events)
        except IntegrityError:
            raise Conflict(f"another writer appended to a stream of acts {start + 1}…{start + len(part)} of this "
                           f"call while they were checked; {stored} act(s) before them were stored") from None
        stored += len(part)
        if progress:
            progress(stored)
    if accepted and accepted[0][0]["type"] == "ledger.genesis":
        ledger._ledger_id = accepted[0][0]["ledger"]
    ledger.index.catch_up(known=known)
    return stored


def act_together(ledger: Ledger, acts: list[tuple[str, dict, UUID | None]], key: PrivateKey,
                 signed_at: str | None = None) -> list[Receipt]:
    """Sign (type, act, stream) triples and store them all or none: each is checked against the state the ones
    before it leave, then all are stored in one transaction (one leader's approvals of several adjustments)."""
    if len(acts) > BATCH:  # one insert transaction holds at most BATCH acts
        raise Refused(f"at most {BATCH} acts are stored together")
    signed = [ledger.prepare(act_type, act, key, signed_at, stream) for act_type, act, stream in acts]
    if len({env["stream"] for env, _sig in signed}) < len(signed):
        raise Refused("two of the acts are for the same stream: sign them one at a time")
    append_many(ledger, signed, workers=1)
    receipts = []
    for envelope, _signature in signed:
        eid = event_id(envelope)
        rows = ledger.index.by_event(eid)
        receipts.append(Receipt(eid, envelope["stream"], envelope["version"], rows[0].seq if rows else 0))
    return receipts


def _streams(acts: list[Signed]) -> Iterator[UUID]:
    for envelope, _sig in acts:
        try:
            yield UUID(envelope["stream"])
        except (TypeError, KeyError, ValueError, AttributeError):
            continue  # refused by validate, with its reason


def _stored_already(source: StoreSeededSource, envelope: dict, eid: str) -> bool:
    """Whether this very act is in its stream at its version already (a repeated delivery)."""
    try:
        acts = source.stream_acts(UUID(envelope["stream"]))
        version = envelope["version"]
        return isinstance(version, int) and 1 <= version <= len(acts) and acts[version - 1][1] == eid
    except (TypeError, KeyError, ValueError, AttributeError):
        return False  # malformed: validate says how


def _refusal(index: int, envelope, reason: str) -> BulkRefused:
    kind = envelope.get("type") if isinstance(envelope, dict) else None
    return BulkRefused(f"act {index}" + (f" ({kind})" if isinstance(kind, str) else "")
                       + f": {reason}; nothing was stored", index)


def stored_event(ledger: Ledger, envelope: dict, signature: dict, timestamp=None) -> StoredEvent:
    """The recorder's row for a signed act, built by the store's own mapper exactly as `Stream.open`/`append` would
    (the same event class, topic and attribute order), recorded now unless `timestamp` is given."""
    cls = Stream.Opened if envelope["version"] == 1 else Stream.Appended
    state = {"originator_id": UUID(envelope["stream"]), "originator_version": envelope["version"],
             "timestamp": timestamp or datetime_now_with_tzinfo()}
    if cls is Stream.Opened:
        state["originator_topic"] = Stream.TOPIC
    state.update(envelope=envelope, signature=signature)
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return ledger.store.app.mapper.to_stored_event(event)


# ---- the signing side ----------------------------------------------------------------------------------------------

class BulkSigner:
    """Signs acts in order for `append_many`, keeping each stream's next version and last event id in memory.

    Streams are looked up in the store the first time they are named (none when `ledger` is None: an empty
    database being generated)."""

    def __init__(self, ledger_id: str, ledger: Ledger | None = None):
        self.ledger_id, self.ledger = ledger_id, ledger
        self.versions: dict[UUID, int] = {}
        self.last: dict[UUID, str] = {}
        self.prefixes: set[str] = set()  # first 8 digits of the streams this signer opened

    def sign(self, act_type: str, act: dict, key: PrivateKey, signed_at: str | None = None,
             stream: UUID | None = None) -> Signed:
        """The signed envelope of an act at its stream's next version (a new random stream for a proposal)."""
        spec = ACTS.get(act_type)
        if spec is None:
            raise Refused(f"unknown act type {act_type!r}")
        stream = UUID(str(stream or spec.stream(self.ledger_id, act) or self._new_stream()))
        if stream not in self.versions:
            acts = self.ledger.stream_acts(stream) if self.ledger is not None else []
            self.versions[stream] = len(acts)
            if acts:
                self.last[stream] = acts[-1][1]
        version = self.versions[stream] + 1
        envelope = {"ledger": self.ledger_id, "type": act_type, "stream": str(stream), "version": version,
                    "act": act, "signer": key.key_id, "signed_at": signing_time(signed_at)}
        body = canonical(envelope)  # once: the signature and the event id cover the same bytes
        self.versions[stream] = version
        self.last[stream] = sha256_hex(body)
        return envelope, sign_bytes(key.key, body)

    def _new_stream(self) -> UUID:
        """A random stream id; one whose first 8 digits are new to the ledger and to this signer, given a ledger."""
        while True:
            stream = self.ledger.new_stream() if self.ledger is not None else uuid4()
            if str(stream)[:8] not in self.prefixes:
                self.prefixes.add(str(stream)[:8])
                return stream

    def last_event(self, stream: UUID | str) -> str | None:
        """The id of the last act signed (or stored) in a stream: what a correction's `corrects` names."""
        return self.last.get(UUID(str(stream)))


# ---- files of signed acts ------------------------------------------------------------------------------------------

def read_act_lines(path: str | Path) -> list[Signed]:
    """A JSON-lines file of signed acts, one {"envelope", "signature"} object a line (blank lines skipped), each
    shape-checked as a single act file is; Refused names the line."""
    path = Path(path)
    out: list[Signed] = []
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(iter(lambda: fh.readline(MAX_LINE + 1), b""), 1):
                if len(raw) > MAX_LINE:
                    raise Refused(f"{path} line {number}: longer than {MAX_LINE} bytes; not a signed act")
                if raw.strip():
                    out.append(_act_line(raw, f"{path} line {number}"))
    except OSError as exc:
        raise Refused(f"cannot read {path}: {exc.strerror}") from None
    if not out:
        raise Refused(f"{path}: no signed acts in the file")
    return out


def _act_line(raw: bytes, where: str) -> Signed:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{where}: not UTF-8 text") from None
    doc = loads_strict(text, where)
    if not isinstance(doc, dict) or set(doc) != {"envelope", "signature"}:
        raise Refused(f"{where}: not a signed act (expected an object with exactly envelope and signature)")
    if not isinstance(doc["envelope"], dict) or not isinstance(doc["signature"], dict) or not doc["signature"]:
        raise Refused(f"{where}: envelope and signature must be objects (is the act signed?)")
    return doc["envelope"], doc["signature"]

"""The one write path: an act is built, signed, verified against the ledger's own state, and only then stored."""
from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from .acts import ACTS, stream_of
from .adjustments import AdjustmentState, display_ids, fold_adjustment
from .clock import now, signing_time
from .errors import LedgerError, NotFound, Refused
from .log_index import LogIndex, event_id
from .registry import Registry
from .signing import sign_envelope
from .store import Conflict, EventStore, Stream
from .stored import APPENDED, NOT_AN_ACT, TOPICS, Damaged, damage_in, may_be_damage, signed_row, typed
from .validation import StaleVersion, validate
from .years import YearState

if TYPE_CHECKING:  # key files (and their library) are loaded by the commands that sign
    from .keys import PrivateKey


@dataclass(frozen=True)
class Receipt:
    """What a stored (or already stored) act got: its id, stream and position in the log."""

    event_id: str
    stream: str
    version: int
    position: int
    duplicate: bool = False


class Duplicate(LedgerError):
    """The same signed act was stored already (a retried delivery)."""


# rebase(act, stream_acts) -> the act to sign, given the stream's (envelope, event id) pairs as read for this attempt
Rebase = Callable[[dict, list[tuple[dict, str]]], dict]
# vet() -> why the caller refuses the act, or None: a refusal of its own that is no rule of the log (an act that would
# change nothing), run only once every check of the log has passed, so that the log's refusal is the one reported
Vet = Callable[[], "str | None"]


def correcting_last(act: dict, stream_acts: list[tuple[dict, str]]) -> dict:
    """A score or evaluation act whose `corrects` names the stream's last event as it stands now (none on an empty
    stream): the rebase for a correction that may be re-signed after a concurrent writer corrected the same value."""
    rebased = {k: v for k, v in act.items() if k != "corrects"}
    if stream_acts:
        rebased["corrects"] = stream_acts[-1][1]
    return rebased


class Ledger:
    """The write side of one ledger in one database."""

    def __init__(self, store: EventStore):
        self.store = store
        self.index = LogIndex(store)
        self._ledger_id: str | None = None
        # run before an act is checked to be stored (`submit`, `bulk.append_many`): the CLI brings the read models
        # up to date there, so that a stored event they cannot fold stops a command before it appends anything
        self.before_append: Callable[[], object] | None = None

    # ---- reading the state the checks need ------------------------------------------------------------------------

    @property
    def ledger_id(self) -> str:
        if self._ledger_id is None:
            first = next(iter(self.store.read(batch=1)), None)
            if first is not None and not signed_row(first.stream, first.version, first.topic, first.envelope,
                                                    first.signature):
                raise self.damage() or Damaged(1, "", NOT_AN_ACT)
            if first is None or first.envelope.get("type") != "ledger.genesis":
                raise NotFound(f"no ledger in {self.store.target.display}; create one with `ledger init`")
            self._ledger_id = first.envelope["ledger"]
        return self._ledger_id

    def load(self, stream: UUID) -> Stream | None:
        """The stream with all its acts, or None; refused (`ledger.stored.Damaged`) when a stored event of it is
        not the signed act the writer stored, so that nothing is checked against, or appended to, a damaged one. (An
        event moved out of the stream is not seen, as a deleted one is not: `verify` finds both.)"""
        text = str(stream)
        try:
            loaded = self.store.load(stream)
            # the library takes each row's version as it is: a version column edited shows only in their count
            if loaded is None or loaded.version == len(loaded.acts) and all(
                    signed_row(text, n, TOPICS.get(n, APPENDED), env, sig) and typed(env)
                    for n, (env, sig) in enumerate(loaded.acts, 1)):
                return loaded
        except Exception as exc:  # the event library's own errors, whatever it failed to decode
            if not may_be_damage(exc):
                raise
        raise self.damage() or LedgerError(f"the stored events of stream {text} cannot be read")

    def damage(self) -> Damaged | None:
        """The first stored event that is not a signed act as the writer stores it (a pass over the log), or None:
        asked once a read of the store has failed."""
        return damage_in(self.store)

    def registry(self) -> Registry:
        """Signatories as they stand now."""
        registry = Registry()
        stream = self.load(UUID(self.ledger_id))
        for envelope, _sig in stream.acts if stream else ():
            registry.apply(envelope)
        return registry

    def year(self, year: int, registry: Registry | None = None) -> YearState:
        """The year's adopted scheme and close signatures."""
        registry = registry or self.registry()
        state = YearState(year)
        stream = self.load(stream_of(self.ledger_id, "year", year))
        for envelope, _sig in stream.acts if stream else ():
            signer = registry.signatories.get(envelope["signer"])
            state.apply(envelope, event_id(envelope), signer.person if signer else envelope["signer"])
        return state

    def stream_acts(self, stream: UUID) -> list[tuple[dict, str]]:
        loaded = self.load(stream)
        return [(env, event_id(env)) for env, _ in loaded.acts] if loaded else []

    def adjustment_state(self, stream: str, acts: list[tuple[dict, str]], registry: Registry) -> AdjustmentState:
        """The adjustment's state after `acts`, its stream's acts as read (for the checks)."""
        return fold_adjustment(stream, acts, registry)

    def adjustment(self, ref: str, registry: Registry | None = None) -> AdjustmentState:
        """An adjustment by its short id (or a longer prefix of its stream id)."""
        stream = self.resolve(ref, "adjustment.proposed", "adjustment")
        return fold_adjustment(str(stream), self.stream_acts(stream), registry or self.registry(),
                               self.display_id(stream, "adjustment.proposed"))

    def resolve(self, ref: str, first_type: str, what: str) -> UUID:
        """The stream a short id names (the id views show it by, or any prefix of its stream id that only it has);
        refuses unknown or ambiguous ids."""
        ref = ref.strip().lower()
        if len(ref) < 4 or any(c not in "0123456789abcdef-" for c in ref):
            raise NotFound(f"{what} id {ref!r} is not a hex id of at least 4 digits")
        self.index.catch_up()
        found = self.index.streams_like(_as_stream_prefix(ref), first_type)
        if not found:
            raise NotFound(f"no {what} with id {ref}")
        if len(found) > 1:
            # streams sharing their first 8 digits are shown with more of them after the first (unique_short_id)
            shown = [s for s, sid in display_ids(self.index.streams_like(found[0][:8], first_type)).items()
                     if sid == ref.replace("-", "")]
            if len(shown) != 1:
                raise NotFound(f"{what} id {ref} is ambiguous ({len(found)} match); give more digits")
            found = shown
        return UUID(found[0])

    def display_id(self, stream: UUID | str, first_type: str) -> str:
        """The id views show a stream by: its first 8 digits, more where an earlier stream has those."""
        text = str(stream)
        return display_ids(self.index.streams_like(text[:8], first_type))[text]

    def new_stream(self) -> UUID:
        """A random stream id whose first 8 digits no stream of the log has, so that its short id is those 8 (two
        writers may still draw alike at the same moment: views then lengthen the later one's id)."""
        self.index.catch_up()
        while True:
            stream = uuid.uuid4()
            if not self.index.any_stream_like(str(stream)[:8]):
                return stream

    # ---- signing and submitting -----------------------------------------------------------------------------------

    def prepare(self, act_type: str, act: dict, key: PrivateKey, signed_at: str | None = None,
                stream: UUID | None = None, ledger_id: str | None = None,
                rebase: Rebase | None = None) -> tuple[dict, dict]:
        """Build and sign the envelope of an act at the next version of its stream; `rebase`, if given, rebuilds the
        act from the same read of the stream that fixes the version."""
        spec = ACTS.get(act_type)
        if spec is None:
            raise Refused(f"unknown act type {act_type!r}")
        lid = ledger_id or self.ledger_id
        if stream is None:
            stream = spec.stream(lid, act) or self.new_stream()
        stream = UUID(str(stream))
        acts = self.stream_acts(stream) if act_type != "ledger.genesis" else []
        version = len(acts) + 1
        if rebase is not None:
            act = rebase(act, acts)
        envelope = {"ledger": lid, "type": act_type, "stream": str(stream), "version": version, "act": act,
                    "signer": key.key_id, "signed_at": signing_time(signed_at)}
        return envelope, sign_envelope(key.key, envelope)

    def prepare_checked(self, act_type: str, act: dict, key: PrivateKey, signed_at: str | None = None,
                        stream: UUID | None = None, vet: Vet | None = None) -> tuple[dict, dict]:
        """`prepare`, refusing (one line) an act that `submit` would refuse now: an act signed to a file for later
        submission is checked as it is signed, not only when it is submitted."""
        envelope, signature = self.prepare(act_type, act, key, signed_at, stream)
        validate(envelope, signature, self, now())
        _vetted(vet)
        return envelope, signature

    def act(self, act_type: str, act: dict, key: PrivateKey, signed_at: str | None = None,
            stream: UUID | None = None, attempts: int = 8, rebase: Rebase | None = None,
            vet: Vet | None = None) -> Receipt:
        """Sign and store an act, re-signing at the next version when a concurrent writer got there first.

        Every attempt re-runs every check against the state re-read, so an act that a concurrent one made wrong (an
        approval of an adjustment just rescinded) is refused rather than stored. An act that names a stream's last
        event (a correction's `corrects`) names the one read before the conflict; pass `rebase=correcting_last` to
        name the stream's new last event instead — an explicit choice, since the signer did not see that value.
        `vet` runs after the checks of every attempt."""
        for attempt in range(attempts):
            envelope, signature = self.prepare(act_type, act, key, signed_at, stream, rebase=rebase)
            try:
                return self.submit(envelope, signature, vet)
            except Conflict:
                if attempt == attempts - 1:
                    raise
                # writers that collided and retry at once collide again; a growing random pause spreads them out
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))
        raise AssertionError("unreachable")

    def current_ledger_id(self) -> str | None:
        """The ledger id, or None for an empty database (a StateSource method)."""
        try:
            return self.ledger_id
        except NotFound:
            return None

    def log_size(self) -> int:
        """How many events the log holds (bringing the index up to date first)."""
        return self.index.catch_up()

    def root_at(self, size: int) -> bytes:
        """The Merkle root of the log's first `size` events."""
        return self.index.root(size)

    def submit(self, envelope: dict, signature: dict, vet: Vet | None = None) -> Receipt:
        """Verify a signed act against the ledger's state (then `vet` it) and store it; refuse with one line
        otherwise."""
        if self.before_append is not None:
            self.before_append()
        try:
            validate(envelope, signature, self, now())
        except StaleVersion as stale:
            self._raise_if_duplicate(envelope, signature)
            if envelope["version"] <= stale.stream_length:
                raise Conflict(f"{stale}; sign again") from None
            raise
        _vetted(vet)
        stream = UUID(envelope["stream"])
        existing = self.load(stream)
        this_id = event_id(envelope)
        if existing is None:
            aggregate = Stream.open(stream, envelope, signature)
        else:
            if len(existing.acts) + 1 != envelope["version"]:
                # a concurrent writer appended after the checks ran: appending now would store the act at another
                # version than it was signed and checked for, so it is a conflict like a failed save
                self._raise_if_duplicate(envelope, signature)
                raise Conflict("another act was stored in the same stream at the same time; sign again")
            aggregate = existing
            aggregate.append(envelope, signature)
        try:
            notification_id = self.store.save(aggregate)
        except Conflict:
            self._raise_if_duplicate(envelope, signature)
            raise
        if envelope["type"] == "ledger.genesis":
            self._ledger_id = envelope["ledger"]
        self.index.catch_up()
        # by notification id, a unique key: an event-id prefix search scans the whole index on SQLite (0.2 s at a
        # million events)
        row = self.index.by_notification(notification_id) if notification_id else None
        if row is None or row.event_id != this_id:
            found = self.index.by_event(this_id)
            row = found[0] if found else None
        return Receipt(this_id, str(stream), envelope["version"], row.seq if row else 0)

    def _raise_if_duplicate(self, envelope: dict, signature: dict) -> None:
        """A repeated delivery of a stored act is reported as such, not as a conflict."""
        stored = self.load(UUID(envelope["stream"]))
        if stored and 1 <= envelope["version"] <= len(stored.acts):
            stored_env, stored_sig = stored.acts[envelope["version"] - 1]
            if stored_env == envelope and stored_sig == signature:
                raise Duplicate(f"this act is stored already as event {event_id(envelope)[:12]} "
                                "(a repeated delivery)")


def _vetted(vet: Vet | None) -> None:
    problem = vet() if vet is not None else None
    if problem:
        raise Refused(problem)


def new_ledger_id() -> str:
    """A random ledger id."""
    return str(uuid.uuid4())


def _as_stream_prefix(ref: str) -> str:
    """A hex id, with or without its dashes, as the start of a stream id (8-4-4-4-12 digits)."""
    digits, out = ref.replace("-", ""), []
    for size in (8, 4, 4, 4, 12):
        if digits:
            out.append(digits[:size])
            digits = digits[size:]
    return "-".join(out)

"""The one write path: an act is built, signed, verified against the ledger's own state, and only then stored."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from .acts import ACTS, CONTINUATIONS, Context, check_act_fields, stream_of
from .adjustments import AdjustmentState, fold_adjustment
from .canonical import sha256_hex
from .clock import FUTURE_SKEW, format_time, now, parse_time, signing_time
from .errors import LedgerError, NotFound, Refused
from .keys import PrivateKey
from .log_index import LogIndex, event_id
from .registry import Registry
from .shapes import check_fields
from .signing import verify_envelope, sign_envelope
from .store import Conflict, EventStore, Stream
from .years import YearState

ENVELOPE_FIELDS = {"ledger": str, "type": str, "stream": str, "version": int, "act": dict, "signer": str,
                   "signed_at": str}


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


class Ledger:
    """The write side of one ledger in one database."""

    def __init__(self, store: EventStore):
        self.store = store
        self.index = LogIndex(store)
        self._ledger_id: str | None = None

    # ---- reading the state the checks need ------------------------------------------------------------------------

    @property
    def ledger_id(self) -> str:
        if self._ledger_id is None:
            first = next(iter(self.store.read(batch=1)), None)
            if first is None or first.envelope.get("type") != "ledger.genesis":
                raise NotFound(f"no ledger in {self.store.target.display}; create one with `ledger init`")
            self._ledger_id = first.envelope["ledger"]
        return self._ledger_id

    def registry(self) -> Registry:
        """Signatories as they stand now."""
        registry = Registry()
        stream = self.store.load(UUID(self.ledger_id))
        for envelope, _sig in stream.acts if stream else ():
            registry.apply(envelope)
        return registry

    def year(self, year: int, registry: Registry | None = None) -> YearState:
        """The year's adopted scheme and close signatures."""
        registry = registry or self.registry()
        state = YearState(year)
        stream = self.store.load(stream_of(self.ledger_id, "year", year))
        for envelope, _sig in stream.acts if stream else ():
            signer = registry.signatories.get(envelope["signer"])
            state.apply(envelope, event_id(envelope), signer.person if signer else envelope["signer"])
        return state

    def stream_acts(self, stream: UUID) -> list[tuple[dict, str]]:
        loaded = self.store.load(stream)
        return [(env, event_id(env)) for env, _ in loaded.acts] if loaded else []

    def adjustment(self, ref: str, registry: Registry | None = None) -> AdjustmentState:
        """An adjustment by its short id (or a longer prefix of its stream id)."""
        stream = self.resolve(ref, "adjustment.proposed", "adjustment")
        return fold_adjustment(str(stream), self.stream_acts(stream), registry or self.registry())

    def resolve(self, ref: str, first_type: str, what: str) -> UUID:
        """The stream a short id names; refuses unknown or ambiguous ids."""
        ref = ref.strip().lower()
        if len(ref) < 4 or any(c not in "0123456789abcdef-" for c in ref):
            raise NotFound(f"{what} id {ref!r} is not a hex id of at least 4 digits")
        self.index.catch_up()
        found = self.index.streams_like(ref, first_type)
        if not found:
            raise NotFound(f"no {what} with id {ref}")
        if len(found) > 1:
            raise NotFound(f"{what} id {ref} is ambiguous ({len(found)} match); give more digits")
        return UUID(found[0])

    # ---- signing and submitting -----------------------------------------------------------------------------------

    def prepare(self, act_type: str, act: dict, key: PrivateKey, signed_at: str | None = None,
                stream: UUID | None = None, ledger_id: str | None = None) -> tuple[dict, dict]:
        """Build and sign the envelope of an act at the next version of its stream."""
        spec = ACTS.get(act_type)
        if spec is None:
            raise Refused(f"unknown act type {act_type!r}")
        lid = ledger_id or self.ledger_id
        if stream is None:
            stream = spec.stream(lid, act) or uuid.uuid4()
        version = len(self.stream_acts(stream)) + 1 if act_type != "ledger.genesis" else 1
        envelope = {"ledger": lid, "type": act_type, "stream": str(stream), "version": version, "act": act,
                    "signer": key.key_id, "signed_at": signing_time(signed_at)}
        return envelope, sign_envelope(key.key, envelope)

    def act(self, act_type: str, act: dict, key: PrivateKey, signed_at: str | None = None,
            stream: UUID | None = None, attempts: int = 8) -> Receipt:
        """Sign and store an act, re-signing at the next version when a concurrent writer got there first."""
        for attempt in range(attempts):
            envelope, signature = self.prepare(act_type, act, key, signed_at, stream)
            try:
                return self.submit(envelope, signature)
            except Conflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def submit(self, envelope: dict, signature: dict) -> Receipt:
        """Verify a signed act against the ledger's state and store it; refuse with one line otherwise."""
        check_fields(envelope, ENVELOPE_FIELDS, what="envelope")
        if envelope["version"] < 1:
            raise Refused("envelope version must be 1 or more")
        try:
            stream = UUID(envelope["stream"])
        except ValueError:
            raise Refused("envelope stream is not a UUID") from None
        if str(stream) != envelope["stream"]:
            raise Refused("envelope stream must be a lower-case UUID with dashes")
        spec = check_act_fields(envelope)
        signed = parse_time(envelope["signed_at"], "signed_at")
        if format_time(signed) != envelope["signed_at"]:
            raise Refused("signed_at must be UTC in the form 2017-12-20T02:00:00Z")
        if signed > now() + FUTURE_SKEW:
            raise Refused(f"signed_at {envelope['signed_at']} is in the future")

        genesis = envelope["type"] == "ledger.genesis"
        if genesis:
            if self.store.exists():
                raise Refused("this database holds a ledger already")
            registry, public = Registry(), envelope["act"]["office"].get("public_key", "")
            if not isinstance(public, str):
                raise Refused("office public_key must be text")
        else:
            if envelope["ledger"] != self.ledger_id:
                raise Refused(f"the act is for ledger {envelope['ledger']}, this is {self.ledger_id}")
            registry = self.registry()
            signer = registry.signer(envelope["signer"], envelope["signed_at"])
            public = signer.public_key
        problem = verify_envelope(public, envelope, signature)
        if problem:
            raise Refused(f"{problem}: the signature does not verify for {envelope['signer']}")
        if genesis:
            # the genesis registers the key it is signed with; check it before trusting it as signer
            check_fields(envelope["act"]["office"], {"person": str, "department": str, "public_key": str,
                                                     "roles": list}, what="office")
            from .signing import key_id_of_text

            if key_id_of_text(public) != envelope["signer"]:
                raise Refused("the genesis act must be signed by the office key it registers")
            registry.apply(envelope)
        signer = registry.signatories[envelope["signer"]]

        existing = self.store.load(stream)
        acts = [(env, event_id(env)) for env, _ in existing.acts] if existing else []
        this_id = event_id(envelope)
        if envelope["version"] <= len(acts):
            stored_env, stored_sig = existing.acts[envelope["version"] - 1]
            if event_id(stored_env) == this_id and stored_sig == signature:
                raise Duplicate(f"this act is stored already as event {this_id[:12]} (a repeated delivery)")
            raise Conflict(f"stream {stream} has moved on to version {len(acts)}; sign again")
        if envelope["version"] != len(acts) + 1:
            raise Refused(f"version {envelope['version']} skips ahead of the stream (next is {len(acts) + 1})")
        expected = spec.stream(envelope["ledger"], envelope["act"])
        if expected is not None and expected != stream:
            raise Refused("the act is addressed to the wrong stream")
        if expected is None and envelope["type"] in ("adjustment.proposed", "decision.recorded") and acts:
            raise Refused("a proposal or decision must open a new stream")

        ctx = Context(envelope, registry, signer, acts)
        self._load_context(ctx, spec)
        spec.check(ctx)

        if existing is None:
            if envelope["version"] != 1:
                raise Refused("a new stream starts at version 1")
            aggregate = Stream.open(stream, envelope, signature)
        else:
            aggregate = existing
            aggregate.append(envelope, signature)
        try:
            self.store.save(aggregate)
        except Conflict:
            again = self.store.load(stream)
            if again and len(again.acts) >= envelope["version"]:
                stored_env, stored_sig = again.acts[envelope["version"] - 1]
                if event_id(stored_env) == this_id and stored_sig == signature:
                    raise Duplicate(f"this act is stored already as event {this_id[:12]} (a repeated delivery)")
            raise
        if genesis:
            self._ledger_id = envelope["ledger"]
        self.index.catch_up()
        row = self.index.by_event(this_id)
        return Receipt(this_id, str(stream), envelope["version"], row[0].seq if row else 0)

    def _load_context(self, ctx: Context, spec) -> None:
        act, kind = ctx.envelope["act"], ctx.envelope["type"]
        if kind in CONTINUATIONS:
            if not ctx.stream_acts:
                raise Refused(f"{kind} must continue an existing adjustment or decision")
            first = ctx.stream_acts[0][0]
            if kind.startswith("adjustment.") and first["type"] != "adjustment.proposed":
                raise Refused("the stream is not an adjustment")
            if kind.startswith("decision.") and first["type"] != "decision.recorded":
                raise Refused("the stream is not a decision")
            year = first["act"]["year"]
            if first["type"] == "adjustment.proposed":
                ctx.adjustment = fold_adjustment(ctx.envelope["stream"], ctx.stream_acts, ctx.registry)
            else:
                ctx.decision = first["act"]
        elif spec.year_field:
            year = act["year"]
        else:
            return
        ctx.year = self.year(year, ctx.registry)


def new_ledger_id() -> str:
    """A random ledger id."""
    return str(uuid.uuid4())


__all__ = ["Ledger", "Receipt", "Duplicate", "new_ledger_id", "sha256_hex"]

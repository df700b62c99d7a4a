"""Every check an act must pass before it is stored, against any source of ledger state.

The writer runs it against the store; `verify` runs it again, event by event, against the state folded from the
log so far — so the log is re-checked by exactly the rules that admitted it.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Protocol
from uuid import UUID

from .acts import ACTS, CONTINUATIONS, ActSpec, Context, check_act_fields
from .adjustments import AdjustmentState
from .clock import FUTURE_SKEW, format_time, parse_time
from .errors import Refused
from .registry import Registry
from .shapes import check_fields, check_no_reserved_keys
from .signing import key_id_of_text, verify_envelope
from .years import YearState

ENVELOPE_FIELDS = {"ledger": str, "type": str, "stream": str, "version": int, "act": dict, "signer": str,
                   "signed_at": str}


class StateSource(Protocol):
    """Where the checks read the ledger's state from."""

    def current_ledger_id(self) -> str | None: ...

    def registry(self) -> Registry: ...

    def year(self, year: int, registry: Registry) -> YearState: ...

    def stream_acts(self, stream: UUID) -> list[tuple[dict, str]]: ...

    def adjustment_state(self, stream: str, acts: list[tuple[dict, str]], registry: Registry) -> AdjustmentState: ...

    def log_size(self) -> int: ...

    def root_at(self, size: int) -> bytes: ...


class StaleVersion(Refused):
    """The envelope's version is not the stream's next one."""

    def __init__(self, message: str, stream_length: int):
        super().__init__(message)
        self.stream_length = stream_length


def validate(envelope: dict, signature: dict, source: StateSource, clock: datetime, *,
             checked_key: str | None = None, shape_checked: bool = False) -> Context:
    """Run every check; return the context the act was checked in, or raise Refused with one line.

    `checked_key` is the public key (text) with which the caller has already verified this signature over this
    envelope's canonical bytes (verification spread over a process pool, ledger.integrity.precheck): the signature
    check is then skipped, but only if it is the very key the registry names for the signer here; any other key is
    checked as usual. `shape_checked`: the caller has run `check_shape(envelope, clock)` on this very envelope (on
    the same pool) and it passed; the checks of the ledger's state follow."""
    if not shape_checked:
        check_shape(envelope, clock)
    stream, spec = UUID(envelope["stream"]), ACTS[envelope["type"]]

    ledger_id = source.current_ledger_id()
    if envelope["type"] == "ledger.genesis":
        if ledger_id is not None:
            raise Refused("this database holds a ledger already")
        office = check_fields(envelope["act"]["office"], {"person": str, "department": str, "public_key": str,
                                                          "roles": list}, what="office")
        registry, public = Registry(), office["public_key"]
        if key_id_of_text(public) != envelope["signer"]:
            raise Refused("the genesis act must be signed by the office key it registers")
    else:
        if ledger_id is None:
            raise Refused("no ledger here yet: the first act must be the genesis (`ledger init`)")
        if envelope["ledger"] != ledger_id:
            raise Refused(f"the act is for ledger {envelope['ledger']}, this is {ledger_id}")
        registry = source.registry()
        public = registry.signer(envelope["signer"], envelope["signed_at"]).public_key
    checked = checked_key is not None and checked_key == public
    problem = None if checked else verify_envelope(public, envelope, signature)
    if problem:
        raise Refused(f"{problem}: the signature does not verify for {envelope['signer']}")
    if envelope["type"] == "ledger.genesis":
        registry.apply(envelope)
    signer = registry.signatories[envelope["signer"]]

    acts = source.stream_acts(stream)
    if envelope["version"] != len(acts) + 1:
        raise StaleVersion(f"version {envelope['version']} does not follow stream {stream}, which has {len(acts)} "
                           "act(s)", len(acts))
    expected = spec.stream(envelope["ledger"], envelope["act"])
    if expected is not None and expected != stream:
        raise Refused("the act is addressed to the wrong stream")

    ctx = Context(envelope, registry, signer, acts, log_size=source.log_size(), root_at=source.root_at)
    _load_context(ctx, spec, source)
    spec.check(ctx)
    return ctx


@lru_cache(maxsize=1024)
def _signing_time(text: str) -> datetime:
    # acts come in runs signed within the same second: parsing and formatting each one cost 2 µs in a verify
    signed = parse_time(text, "signed_at")
    if format_time(signed) != text:
        raise Refused("signed_at must be UTC in the form 2017-12-20T02:00:00Z")
    return signed


def check_shape(envelope: dict, clock: datetime) -> None:
    """The checks of `validate` that read nothing but the act and the time it is recorded (its first ones, so a
    pool of processes can run them ahead of the checks of the state, in the same order); raise Refused."""
    check_fields(envelope, ENVELOPE_FIELDS, what="envelope")
    check_no_reserved_keys(envelope, "envelope")
    if envelope["version"] < 1:
        raise Refused("envelope version must be 1 or more")
    try:
        stream = UUID(envelope["stream"])
    except ValueError:
        raise Refused("envelope stream is not a UUID") from None
    if str(stream) != envelope["stream"]:
        raise Refused("envelope stream must be a lower-case UUID with dashes")
    check_act_fields(envelope)
    if _signing_time(envelope["signed_at"]) > clock + FUTURE_SKEW:
        raise Refused(f"signed_at {envelope['signed_at']} is later than the time it was recorded")


def _load_context(ctx: Context, spec: ActSpec, source: StateSource) -> None:
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
            ctx.adjustment = source.adjustment_state(ctx.envelope["stream"], ctx.stream_acts, ctx.registry)
        else:
            ctx.decision = first["act"]
    elif spec.year_field:
        year = act["year"]
    else:
        return
    ctx.year = source.year(year, ctx.registry)

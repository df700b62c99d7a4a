"""What a check of an act may look at, and the checks every kind of act shares."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from uuid import UUID

from .adjustments import AdjustmentState
from .errors import Refused
from .registry import Registry, Signatory
from .shapes import has_text
from .years import YearState


@dataclass
class Context:
    """What a check may look at."""

    envelope: dict
    registry: Registry
    signer: Signatory
    stream_acts: list[tuple[dict, str]]  # (envelope, event id) of the stream so far
    year: YearState | None = None
    adjustment: AdjustmentState | None = None
    decision: dict | None = None  # the decision stream's first act
    log_size: int = 0  # events stored before this one
    root_at: Callable[[int], bytes] | None = None  # Merkle root of the log's first n events

    @property
    def act(self) -> dict:
        return self.envelope["act"]


def adopted_year(ctx: Context) -> YearState:
    """The act's year, which must have an adopted scheme."""
    if ctx.year is None or not ctx.year.adopted:
        raise Refused(f"no scheme has been adopted for {ctx.act['year']}")
    return ctx.year


@dataclass(frozen=True)
class ActSpec:
    required: dict
    optional: dict
    stream: Callable[[str, dict], UUID | None]  # None: a new random stream (proposal, decision)
    check: Callable[[Context], None]
    year_field: bool = True  # the act names the year it belongs to


def need_role(ctx: Context, *roles: str) -> str:
    held = [r for r in roles if r in ctx.signer.roles]
    if not held:
        raise Refused(f"{ctx.signer.person} ({ctx.signer.key_id}) may not sign {ctx.envelope['type']}: "
                      f"needs role {' or '.join(roles)}, has {', '.join(ctx.signer.roles) or 'none'}")
    return held[0]


def open_year(ctx: Context) -> YearState:
    year = adopted_year(ctx)
    if year.closing:
        state = "closed" if year.closed else "being closed"
        raise Refused(f"year {year.year} is {state}: its scores and evaluations can no longer change")
    return year


def check_correction(ctx: Context) -> None:
    """A second act in a score stream must name the act it corrects (the stream's last)."""
    previous = ctx.stream_acts[-1][1] if ctx.stream_acts else None
    corrects = ctx.act.get("corrects")
    if previous is None and corrects:
        raise Refused("corrects names an event, but nothing has been recorded here yet")
    if previous is not None and corrects != previous:
        raise Refused(f"a value is recorded here already (event {previous[:12]}); a correction must name it in corrects"
                      " and give a reason")
    if previous is not None and not has_text(ctx.act.get("note")):
        raise Refused("a correction needs a reason (note)")

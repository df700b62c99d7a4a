"""One pass over the log, in order, folding every act into the state the views need (optionally up to a position).

This is the reference read path: `ledger verify`, the audit bundle and as-of views use it directly, so that what a
view shows can always be re-derived from the events alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, NamedTuple

from ledger.adjustments import AdjustmentState, proposed, unique_short_id
from ledger.errors import LedgerError
from ledger.log_index import decode_state, event_id
from ledger.registry import Registry
from ledger.stored import plain, refusal
from ledger.years import YearState


class LoggedAct(NamedTuple):
    """A stored act with its position (1-based, in log order) and id (a named tuple: a view folds thousands of
    them, and a frozen dataclass costs several times more to build)."""

    position: int
    event_id: str
    envelope: dict
    signature: dict
    recorded_at: str
    stream: str
    version: int


@dataclass
class Value:
    """The latest recorded value of a score or evaluation, and every act that set it."""

    act: dict
    event_id: str
    position: int
    signer: str
    history: list[tuple[int, str]] = field(default_factory=list)  # (position, event id)


@dataclass
class DecisionState:
    id: str
    act: dict
    event_id: str
    position: int
    signer: str
    revoked: tuple[int, str] | None = None  # (position, reason)


@dataclass
class LogState:
    """Everything folded from the log up to `position`."""

    position: int = 0
    registry: Registry = field(default_factory=Registry)
    years: dict[int, YearState] = field(default_factory=dict)
    scores: dict[tuple, Value] = field(default_factory=dict)
    evaluations: dict[tuple, Value] = field(default_factory=dict)
    adjustments: dict[str, AdjustmentState] = field(default_factory=dict)  # short id -> state
    adjustment_positions: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # id -> (position, type)
    decisions: dict[str, DecisionState] = field(default_factory=dict)
    close_positions: dict[int, int] = field(default_factory=dict)  # year -> position of its first close signature
    acts: list[LoggedAct] = field(default_factory=list)  # kept only when asked (history views)
    streams: dict[str, str] = field(default_factory=dict)  # stream -> short id of adjustment/decision

    def year(self, year: int) -> YearState:
        found = self.years.get(year)
        return found if found is not None else self.years.setdefault(year, YearState(year))

    def person(self, key_id: str) -> str:
        sig = self.registry.signatories.get(key_id)
        return sig.person if sig else key_id


def logged_acts(store, upto: int | None = None, progress: Callable[[int], None] | None = None) -> Iterator[LoggedAct]:
    """Stored acts in log order with their positions, stopping after position `upto`; a stored event that is not a
    signed act as the writer stores it is refused by position (`ledger.stored.Damaged`)."""
    position = 0
    for row in store.stored_rows(batch=2000):
        position += 1
        if upto is not None and position > upto:
            return
        _nid, stream, version, topic, state = row
        envelope, signature, recorded_at = decode_state(state)
        try:
            if not plain(stream, version, topic, envelope, signature, recorded_at):
                raise ValueError("not a signed act")
            eid = event_id(envelope)
        except (ValueError, LedgerError):
            raise refusal(position, row) from None
        yield LoggedAct(position, eid, envelope, signature, recorded_at, stream, version)
        if progress and position % 2000 == 0:
            progress(position)


def fold(acts: Iterable[LoggedAct], keep_acts: bool = False) -> LogState:
    """Fold acts (already verified when they were stored) into a LogState."""
    state = LogState()
    for item in acts:
        apply(state, item)
        if keep_acts:
            state.acts.append(item)
    return state


def replay(store, upto: int | None = None, keep_acts: bool = False) -> LogState:
    """The state of the ledger in `store` as of position `upto` (default: now)."""
    return fold(logged_acts(store, upto), keep_acts)


def apply(state: LogState, item: LoggedAct) -> None:
    """Fold one act."""
    env = item.envelope
    act, kind = env["act"], env["type"]
    state.position = item.position
    step = _STEPS.get(kind)
    if step is not None:
        step(state, item, env, act)
    elif kind.startswith("adjustment."):
        _adjustment_step(state, item, env, act)


# One function per act type, found by a dict lookup: a view folds thousands of acts, and most are adjustment steps.

def _registry(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    state.registry.apply(env)


def _year(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    year = state.year(act["year"])
    year.apply(env, item.event_id, state.person(env["signer"]))
    if env["type"] == "year.close.signed":
        state.close_positions.setdefault(act["year"], act["position"])


def _score(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    _set_value(state.scores, (act["year"], act["unit"], act["indicator"]), item, act, env)


def _evaluation(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    _set_value(state.evaluations, (act["year"], act["unit"], act["component"], act["round"]), item, act, env)


def _decision(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    # a view of some units is given the ids the whole log gives (projections.readstate), the replay finds them
    sid = state.streams.get(item.stream) or unique_short_id(item.stream, state.decisions)
    state.streams[item.stream] = sid
    state.decisions[sid] = DecisionState(sid, act, item.event_id, item.position, env["signer"])


def _decision_revoked(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    decision = state.decisions.get(state.streams.get(item.stream, ""))
    if decision is not None:
        decision.revoked = (item.position, act["reason"])


def _set_value(table: dict, key: tuple, item: LoggedAct, act: dict, env: dict) -> None:
    old = table.get(key)
    step = (item.position, item.event_id)
    table[key] = Value(act, item.event_id, item.position, env["signer"], [*old.history, step] if old else [step])


def _proposal(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    # a view of some units is given the ids the whole log gives (projections.readstate), the replay finds them
    sid = state.streams.get(item.stream) or unique_short_id(item.stream, state.adjustments)
    adj = proposed(item.stream, env, item.event_id, state.registry, sid)
    sid = state.streams[item.stream] = adj.id
    state.adjustments[sid] = adj
    state.adjustment_positions[sid] = [(item.position, env["type"])]


def _adjustment_step(state: LogState, item: LoggedAct, env: dict, act: dict) -> None:
    sid = state.streams.get(item.stream)
    if sid is None:
        return
    state.adjustments[sid].apply(env, item.event_id, state.registry)
    state.adjustment_positions[sid].append((item.position, env["type"]))


_STEPS: dict[str, Callable[[LogState, LoggedAct, dict, dict], None]] = {
    "ledger.genesis": _registry, "signatory.added": _registry, "signatory.revoked": _registry,
    "scheme.adopted": _year, "year.close.signed": _year, "results.published": _year, "appeal.filed": _year,
    "appeal.answered": _year,
    "score.recorded": _score, "evaluation.recorded": _evaluation,
    "adjustment.proposed": _proposal, "adjustment.approved": _adjustment_step,
    "adjustment.rejected": _adjustment_step, "adjustment.rescinded": _adjustment_step,
    "decision.recorded": _decision, "decision.revoked": _decision_revoked,
}

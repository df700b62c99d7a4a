"""From the folded log to the facts of one year: what counts, with carry-over of what arrived after a close.

Carry-over (BP: 如当年汇总时未能计入,转入下年度): once a year's close names its position P, an adjustment of that year
that becomes effective (its last required approval) after P counts in the next year instead, marked with its origin
year; if that year is closed too, in the one after. So nothing is lost and nothing is counted twice.
"""
from __future__ import annotations

from collections.abc import Container

from ledger.adjustments import AdjustmentState
from ledger.errors import Refused
from ledger.numbers import parse_decimal
from ledger.stored import Unreadable

from .facts import Adjustment, Decision, EvaluationScore, Facts, IndicatorScore
from .replay import LogState


def effective_position(state: LogState, adj: AdjustmentState) -> int | None:
    """Position of the approval that completed an adjustment's required roles (its proposal if none are required)."""
    return _effective(state, adj, _approvers(state, adj))


def _approvers(state: LogState, adj: AdjustmentState) -> tuple[str, ...] | None:
    """The roles the adjustment's rule requires; None when its year's scheme has no such rule."""
    scheme = state.year(adj.year).scheme
    try:
        return scheme.rule(adj.rule).approvers
    except Refused:
        return None


def _effective(state: LogState, adj: AdjustmentState, approvers: tuple[str, ...] | None) -> int | None:
    """The position at which every required role had approved (None unless approved: rule unknown, rejected,
    rescinded, or a role still missing)."""
    if approvers is None or adj.rescinded or adj.rejected:
        return None
    steps = state.adjustment_positions[adj.id]
    if not approvers:
        return steps[0][0]
    needed, approvals = set(approvers), adj.approvals
    for k, approval in enumerate(approvals):
        needed.discard(approval.role)
        if not needed:
            break
    else:
        return None
    # the stream's approval steps and its approvals correspond one to one, in order; most streams hold nothing
    # else after the proposal
    if len(steps) == len(approvals) + 1:
        return steps[k + 1][0]
    return [p for p, kind in steps if kind == "adjustment.approved"][k]


def counted_in(state: LogState, origin: int, effective: int | None) -> int:
    """The year an adjustment of `origin` counts in: its own, or the first later year not closed before it took effect."""
    year = origin
    while effective is not None:
        close = state.close_positions.get(year)
        if close is None or effective <= close:
            return year
        year += 1
    return origin


def facts_for_year(state: LogState, year: int, units: Container[str] | None = None) -> Facts:
    """Every fact that bears on `year`'s scores, as of the state's position; a closing year stops at its close.
    With `units`, only the facts about those units."""
    close = state.close_positions.get(year)

    def in_force(position: int) -> bool:
        return close is None or position <= close

    def wanted(key: tuple) -> bool:
        return key[0] == year and (units is None or key[1] in units)

    # the year's keys sorted, not all keys: the same order, and a province's other years are not sorted for nothing
    scores = tuple(
        IndicatorScore(unit, indicator, _number(v.act.get("value")), v.event_id, v.position,
                       v.act.get("participates", True), v.act.get("note", ""))
        for (_, unit, indicator), v in sorted(item for item in state.scores.items() if wanted(item[0]))
        if in_force(v.position))
    evaluations = tuple(
        EvaluationScore(unit, component, rnd, _number(v.act.get("value")), v.act.get("level"), v.event_id,
                        v.position, v.act.get("votes"))
        for (_, unit, component, rnd), v in sorted(item for item in state.evaluations.items() if wanted(item[0]))
        if in_force(v.position))
    adjustments = []
    rules: dict[tuple[int, str], tuple[str, ...] | None] = {}  # (year, rule id) -> approvers, once per rule
    for adj in state.adjustments.values():
        if adj.year > year or (units is not None and adj.unit not in units):
            continue
        key = (adj.year, adj.rule)
        approvers = rules[key] if key in rules else rules.setdefault(key, _approvers(state, adj))
        effective = _effective(state, adj, approvers)
        # effective means approved; otherwise the status as the rule's roles (none for an unknown rule) make it
        status = "approved" if effective is not None else adj.status(approvers or ())
        target = counted_in(state, adj.year, effective)
        if adj.year == year and target == year:
            adjustments.append(_adjustment_fact(state, adj, status, effective if effective and in_force(effective)
                                                else None, None, close))
        elif adj.year == year:  # counted in a later year: shown here, not applied
            adjustments.append(_adjustment_fact(state, adj, f"carried over to {target}", None, None, None))
        elif target == year:  # carried over into this year
            adjustments.append(_adjustment_fact(state, adj, status, effective, adj.year, None))
    decisions = tuple(
        Decision(d.id, d.act["unit"], d.act["kind"], d.act["value"], d.act["reason"], d.event_id, d.position,
                 d.act.get("evidence", ""), d.revoked is not None and in_force(d.revoked[0]))
        for d in sorted(state.decisions.values(), key=lambda d: d.position)
        if d.act["year"] == year and in_force(d.position) and (units is None or d.act["unit"] in units))
    return Facts(year, scores, evaluations, tuple(sorted(adjustments, key=lambda a: a.position)), decisions,
                 position=state.position if close is None else min(close, state.position))


def _adjustment_fact(state: LogState, adj: AdjustmentState, status: str, effective: int | None,
                     origin: int | None, close: int | None) -> Adjustment:
    if close is not None:
        # a closed year sees each adjustment as it stood at the close
        if status == "approved" and effective is None:
            status = "pending"
        if status in ("rejected", "rescinded") and _last_position(state, adj) > close:
            status = "pending"
    return Adjustment(adj.id, adj.unit, adj.rule, dict(adj.inputs), status, adj.reason, adj.proposer_person,
                      adj.proposed_at, state.adjustment_positions[adj.id][0][0],
                      tuple([f"{a.role}:{a.person}" for a in adj.approvals]), effective, origin, adj.document,
                      adj.evidence_sha256)


def _last_position(state: LogState, adj: AdjustmentState) -> int:
    return state.adjustment_positions[adj.id][-1][0]


def _number(text):
    """A recorded value; one that does not read was edited since it was checked and stored (`Unreadable`)."""
    try:
        return None if text is None else parse_decimal(text, "recorded value")
    except Refused as exc:
        raise Unreadable(f"the read models hold a recorded value that does not read ({exc}); once `ledger verify` "
                         "passes, `ledger rebuild` refills them from the log") from None

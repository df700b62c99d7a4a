"""From the folded log to the facts of one year: what counts, with carry-over of what arrived after a close.

Carry-over (BP: 如当年汇总时未能计入,转入下年度): once a year's close names its position P, an adjustment of that year
that becomes effective (its last required approval) after P counts in the next year instead, marked with its origin
year; if that year is closed too, in the one after. So nothing is lost and nothing is counted twice.
"""
from __future__ import annotations

from ledger.adjustments import AdjustmentState
from ledger.errors import Refused
from ledger.numbers import parse_decimal

from .facts import Adjustment, Decision, EvaluationScore, Facts, IndicatorScore
from .replay import LogState


def effective_position(state: LogState, adj: AdjustmentState) -> int | None:
    """Position of the approval that completed an adjustment's required roles (its proposal if none are required)."""
    scheme = state.year(adj.year).scheme
    try:
        approvers = scheme.rule(adj.rule).approvers
    except Refused:
        return None
    if adj.status(approvers) != "approved":
        return None
    needed, done = set(approvers), set()
    positions = dict((e, p) for p, e in _approval_positions(state, adj))
    if not needed:
        return state.adjustment_positions[adj.id][0][0]
    for approval in adj.approvals:
        done.add(approval.role)
        if needed <= done:
            return positions[approval.event_id]
    return None


def _approval_positions(state: LogState, adj: AdjustmentState) -> list[tuple[int, str]]:
    approved = [p for p, kind in state.adjustment_positions[adj.id] if kind == "adjustment.approved"]
    return list(zip(approved, [a.event_id for a in adj.approvals]))


def counted_in(state: LogState, origin: int, effective: int | None) -> int:
    """The year an adjustment of `origin` counts in: its own, or the first later year not closed before it took effect."""
    year = origin
    while effective is not None:
        close = state.close_positions.get(year)
        if close is None or effective <= close:
            return year
        year += 1
    return origin


def facts_for_year(state: LogState, year: int) -> Facts:
    """Every fact that bears on `year`'s scores, as of the state's position; a closing year stops at its close."""
    close = state.close_positions.get(year)

    def in_force(position: int) -> bool:
        return close is None or position <= close

    scores = tuple(
        IndicatorScore(unit, indicator, _number(v.act.get("value")), v.event_id, v.position,
                       v.act.get("participates", True), v.act.get("note", ""))
        for (y, unit, indicator), v in sorted(state.scores.items()) if y == year and in_force(v.position))
    evaluations = tuple(
        EvaluationScore(unit, component, rnd, _number(v.act.get("value")), v.act.get("level"), v.event_id,
                        v.position, v.act.get("votes"))
        for (y, unit, component, rnd), v in sorted(state.evaluations.items()) if y == year and in_force(v.position))
    adjustments = []
    for adj in state.adjustments.values():
        if adj.year > year:
            continue
        effective = effective_position(state, adj)
        target = counted_in(state, adj.year, effective)
        if adj.year == year and target == year:
            adjustments.append(_adjustment_fact(state, adj, effective if effective and in_force(effective) else None,
                                                None, close))
        elif adj.year == year:  # counted in a later year: shown here, not applied
            adjustments.append(_adjustment_fact(state, adj, None, None, None, carried_to=target))
        elif target == year:  # carried over into this year
            adjustments.append(_adjustment_fact(state, adj, effective, adj.year, None))
    decisions = tuple(
        Decision(d.id, d.act["unit"], d.act["kind"], d.act["value"], d.act["reason"], d.event_id, d.position,
                 d.act.get("evidence", ""), d.revoked is not None and in_force(d.revoked[0]))
        for d in sorted(state.decisions.values(), key=lambda d: d.position)
        if d.act["year"] == year and in_force(d.position))
    return Facts(year, scores, evaluations, tuple(sorted(adjustments, key=lambda a: a.position)), decisions,
                 position=state.position if close is None else min(close, state.position))


def _adjustment_fact(state: LogState, adj: AdjustmentState, effective: int | None, origin: int | None,
                     close: int | None, carried_to: int | None = None) -> Adjustment:
    scheme = state.year(adj.year).scheme
    try:
        approvers = scheme.rule(adj.rule).approvers
    except Refused:
        approvers = ()
    status = adj.status(approvers) if carried_to is None else f"carried over to {carried_to}"
    if close is not None:
        # a closed year sees each adjustment as it stood at the close
        if status == "approved" and effective is None:
            status = "pending"
        if status in ("rejected", "rescinded") and _last_position(state, adj) > close:
            status = "pending"
    return Adjustment(adj.id, adj.unit, adj.rule, dict(adj.inputs), status, adj.reason, adj.proposer_person,
                      adj.proposed_at, state.adjustment_positions[adj.id][0][0],
                      tuple(f"{a.role}:{a.person}" for a in adj.approvals), effective, origin, adj.document,
                      adj.evidence_sha256)


def _last_position(state: LogState, adj: AdjustmentState) -> int:
    return state.adjustment_positions[adj.id][-1][0]


def _number(text):
    return None if text is None else parse_decimal(text, "recorded value")

"""A unit's history, for discipline inspection (纪委) and auditors (`diff` between two views: projections.diff).

`unit_history`: every act that touched a unit, in log order: who signed it in which role, what it said, its reason
and evidence, where its adjustment stood, and the unit's total after it. `who_changed`: only the acts after which the
total moved, from → to, attributed.

Each folds acts once, in log order (projections.replay.apply): the read models' rows of the registry, the schemes
and the unit's group (projections.readstate.unit_scope_acts: in a province-wide ledger, a few thousand acts of a
million), or with `replayed` the whole log (the reference the tests compare with). A year's results are a pure function of (scheme,
facts), so the unit's total is recomputed only after an act that can move it: the unit's own acts, the scheme and
close of its year and of earlier years (carry-over), and another unit's score on an item the unit does not take part
in (its points are then the participants' average) — and only the unit is scored (`results.unit_score`: no rank,
from its own facts unless its group averages an item).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Iterator

from ledger.errors import Refused
from ledger.numbers import CONTEXT, fixed
from ledger.stored import Unreadable

from .readstate import unit_scope_acts
from .replay import LoggedAct, LogState, apply, logged_acts
from .results import unit_score
from .scoring import UnitScore
from .yearfacts import counted_in, effective_position

CONTEXT_TYPES = ("scheme.adopted", "year.close.signed")
APPEAL_TYPES = ("appeal.filed", "appeal.answered")


@dataclass(frozen=True)
class HistoryRow:
    """One act as a reviewer reads it, with the unit's total (in `total_year`) right after it."""

    position: int
    event_id: str
    type: str
    year: int
    unit: str  # the unit the act is about; "" for a scheme adoption or close (a context row)
    signed_at: str
    recorded_at: str
    person: str
    department: str
    role: str  # the role the act was signed in
    item: str  # indicator, component[/round], rule, decision kind, scheme file, closing role
    value: str  # value, level, votes, rule inputs, decided value, result position
    reason: str
    document: str = ""  # 文号
    evidence_sha256: str = ""
    ref: str = ""  # adjustment or decision id
    proposer: str = ""
    approvers: tuple[str, ...] = ()  # "role:person" of the approvals so far
    status: str = ""  # the adjustment's or decision's status after this act
    corrects: str = ""  # event id of the value this act corrects
    corrects_position: int | None = None
    context: bool = False
    total_year: int | None = None  # the year `total` is of: the act's, or where its adjustment counts
    total: str | None = None  # the unit's total after the act, as published ("92.50")
    points: str | None = None  # what the row's adjustment counts for after the act
    not_counted: str = ""  # why the row's adjustment adds nothing, if it does not

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        out = asdict(self)
        out["approvers"] = list(self.approvers)
        return out


@dataclass(frozen=True)
class Change:
    """A change of a unit's total in one year and the act that caused it."""

    row: HistoryRow
    before: str | None
    after: str | None
    delta: str | None

    def to_dict(self) -> dict:
        """The act's row with from, to and delta."""
        return {"year": self.row.total_year, "from": self.before, "to": self.after, "delta": self.delta,
                **{k: v for k, v in self.row.to_dict().items() if k not in ("total", "total_year")}}


@dataclass
class _Step:
    """An act that can move the unit's totals: whether it is about the unit, and which yearly totals it moved."""

    item: LoggedAct
    row: HistoryRow
    about: bool
    changes: dict[int, tuple[Decimal | None, Decimal | None, int]]  # year -> (before, after, places)


def unit_history(store, unit: str, year: int | None = None, upto: int | None = None, replayed: bool = False
                 ) -> list[HistoryRow]:
    """Every act that touched `unit` (of `year`, or of any year), in log order, up to position `upto`; from the read
    models (the unit's group's facts only), or with `replayed` from a replay of the whole log."""
    rows = [s.row for s in _walk(store, unit, year, upto, replayed)
            if (s.about or s.row.context) and (year is None or year in (s.row.year, s.row.total_year))]
    return _recorded(store, rows, replayed)


def who_changed(store, unit: str, year: int, upto: int | None = None, replayed: bool = False) -> list[Change]:
    """Every act after which `unit`'s total in `year` changed, with from, to and delta, up to position `upto`."""
    out = []
    for step in _walk(store, unit, year, upto, replayed):
        if year not in step.changes:
            continue
        before, after, places = step.changes[year]
        delta = None if before is None or after is None else CONTEXT.subtract(after, before)
        row = step.row if step.row.total_year == year else _with_total(step.row, year, after, places)
        out.append(Change(row, _text(before, places), _text(after, places),
                          None if delta is None else ("+" if delta >= 0 else "") + fixed(delta, places)))
    rows = _recorded(store, [c.row for c in out], replayed)
    return [replace(c, row=row) for c, row in zip(out, rows)]


def _recorded(store, rows: list[HistoryRow], replayed: bool) -> list[HistoryRow]:
    """The rows with the time the store recorded each act (the read models do not keep it)."""
    if replayed:
        return rows
    from ledger.log_index import LogIndex

    times = LogIndex(store).recorded_times([r.position for r in rows])
    lost = next((r.position for r in rows if not times.get(r.position)), None)
    if lost is not None:
        raise Unreadable(f"the stored event at position {lost} holds no record time")
    return [replace(r, recorded_at=times[r.position]) for r in rows]


def _walk(store, unit: str, year: int | None, upto: int | None, replayed: bool) -> Iterator[_Step]:
    """Fold the acts once; after each act that can move one of the unit's totals, re-score those years (only the
    unit's group: its total is the same in the whole year's results)."""
    state, totals, places, known = LogState(), {}, {}, set()
    if replayed:
        acts, size = logged_acts(store, upto), None
    else:
        acts, refs, size = unit_scope_acts(store, unit, upto)
        state.streams.update(refs)
    for item in acts:
        before = _before(state, item, unit)
        apply(state, item)
        if item.envelope["type"] == "scheme.adopted":
            known.update(state.year(item.envelope["act"]["year"]).scheme.unit_groups)
        about, years = _touches(state, item, unit, before)
        if not years:
            continue
        scores, changes = {}, {}
        for y in sorted(years):
            scores[y] = _unit_score(state, y, unit)
            new = None if scores[y] is None else scores[y].total
            if scores[y] is not None:
                places[y] = scores[y].places
            if new != totals.get(y):
                changes[y] = (totals.get(y), new, places.get(y, 2))
            totals[y] = new
        yield _Step(item, _row(state, item, before, scores), about, changes)
    check_view(state.position if size is None else size, upto)
    if unit not in known:
        raise Refused(f"unknown unit {unit!r}: no adopted scheme names it")
    if year is not None and (year not in state.years or not state.years[year].adopted):
        raise Refused(f"no scheme has been adopted for {year}" + (f" as of position {upto}" if upto else ""))
    if year is not None and unit not in state.years[year].scheme.unit_groups:
        raise Refused(f"unknown unit {unit!r} in {year}")


def check_view(size: int, upto: int | None) -> None:
    """Refuse a view beyond the end of the log."""
    if upto is not None and size < upto:
        raise Refused(f"position {upto} is beyond the end of the log ({size} acts)")


def _before(state: LogState, item: LoggedAct, unit: str) -> dict:
    """What an act's row needs from the state before it: the value it corrects, where its adjustment counted."""
    act, kind = item.envelope["act"], item.envelope["type"]
    out: dict = {}
    if kind == "score.recorded":
        old = state.scores.get((act["year"], act["unit"], act["indicator"]))
        out["corrected"] = old.position if old else None
    elif kind == "evaluation.recorded":
        old = state.evaluations.get((act["year"], act["unit"], act["component"], act["round"]))
        out["corrected"] = old.position if old else None
    elif kind.startswith("adjustment.") and kind != "adjustment.proposed":
        adj = state.adjustments.get(state.streams.get(item.stream, ""))
        if adj is not None:
            out["target"] = counted_in(state, adj.year, effective_position(state, adj))
    elif kind in CONTEXT_TYPES:
        ystate = state.years.get(act["year"])
        out["in_scheme"] = bool(ystate and ystate.adopted and unit in ystate.scheme.unit_groups)
    return out


def _touches(state: LogState, item: LoggedAct, unit: str, before: dict) -> tuple[bool, set[int]]:
    """(the act is about the unit, the years whose total for the unit it may move)."""
    act, kind = item.envelope["act"], item.envelope["type"]
    if kind in ("score.recorded", "evaluation.recorded"):
        if act["unit"] == unit:
            return True, {act["year"]}
        # another unit's score moves the average a non-participating unit gets on that item
        own = state.scores.get((act["year"], unit, act["indicator"])) if kind == "score.recorded" else None
        return False, {act["year"]} if own is not None and own.act.get("participates", True) is False else set()
    if kind.startswith("adjustment."):
        adj = state.adjustments.get(state.streams.get(item.stream, ""))
        if adj is None or adj.unit != unit:
            return False, set()
        target = counted_in(state, adj.year, effective_position(state, adj))
        return True, {adj.year, target, before.get("target", adj.year)}
    if kind.startswith("decision."):
        decision = state.decisions.get(state.streams.get(item.stream, ""))
        if decision is None or decision.act["unit"] != unit:
            return False, set()
        return True, {decision.act["year"]}
    if kind in APPEAL_TYPES:
        # moves no total; scored again only so that the row shows the total the appeal was about
        return _appeal(state, act).unit == unit, {act["year"]}
    if kind == "results.published":
        return False, {act["year"]} if unit in state.year(act["year"]).scheme.unit_groups else set()
    if kind in CONTEXT_TYPES:
        ystate = state.year(act["year"])
        if not (before.get("in_scheme") or unit in ystate.scheme.unit_groups):
            return False, set()
        # a scheme or close of a year also bears on later years (carry-over, the origin year's rules)
        return False, {y for y, s in state.years.items() if s.adopted and y >= act["year"]}
    return False, set()


def _appeal(state: LogState, act: dict):
    """The appeal an appeal act files or answers, as it stands after the act."""
    appeals = state.year(act["year"]).appeals
    return appeals[act["appeal"]] if "appeal" in act else next(a for a in reversed(appeals.values())
                                                                if a.unit == act["unit"])


def _unit_score(state: LogState, year: int, unit: str) -> UnitScore | None:
    ystate = state.years.get(year)
    if ystate is None or not ystate.adopted or unit not in ystate.scheme.unit_groups:
        return None
    return unit_score(state, year, unit)


def _row(state: LogState, item: LoggedAct, before: dict, scores: dict[int, UnitScore | None]) -> HistoryRow:
    """The row of an act, read with the registry and the scheme as they stood right after it."""
    env, act, kind = item.envelope, item.envelope["act"], item.envelope["type"]
    signer = state.registry.signatories.get(env["signer"])
    person, department = (signer.person, signer.department) if signer else (env["signer"], "")
    roles = signer.roles if signer else ()
    fields: dict = {"year": act.get("year"), "unit": act.get("unit", ""), "reason": act.get("note", "")}
    if kind == "score.recorded":
        fields.update(item=act["indicator"], value="not taking part" if act.get("participates", True) is False
                      else act["value"], role="office" if "office" in roles else "department",
                      corrects=act.get("corrects", ""), corrects_position=before.get("corrected"))
    elif kind == "evaluation.recorded":
        value = act.get("level") or act.get("value") or ",".join(f"{k}={v}" for k, v in act.get("votes", {}).items())
        fields.update(item=act["component"] + (f"/{act['round']}" if act["round"] else ""), value=value,
                      role="office", corrects=act.get("corrects", ""), corrects_position=before.get("corrected"))
    elif kind.startswith("adjustment."):
        fields.update(_adjustment_fields(state, item, roles, scores))
    elif kind.startswith("decision."):
        decision = state.decisions[state.streams[item.stream]]
        dact = decision.act
        try:
            allowed = state.year(dact["year"]).scheme.decision_roles_for(dact["unit"], dact["kind"])
        except Refused:
            allowed = ()
        fields.update(year=dact["year"], unit=dact["unit"], item=dact["kind"], value=dact["value"],
                      reason=act["reason"], document=dact.get("evidence", ""), ref=decision.id,
                      role=next((r for r in allowed if r in roles), ""),
                      status="revoked" if decision.revoked else "in force")
    elif kind in APPEAL_TYPES:
        appeal = _appeal(state, act)
        answer = appeal.answer if kind == "appeal.answered" else None
        fields.update(unit=appeal.unit, item="appeal", value=answer.outcome if answer else "filed",
                      reason=act["reason"], document=act.get("document", ""),
                      evidence_sha256=act.get("evidence_sha256", ""), ref=appeal.id,
                      role=answer.role if answer else "office", status=appeal.answer.outcome if appeal.answer
                      else "open")
    elif kind == "results.published":
        fields.update(unit="", item="results published", value=f"results at position {act['position']}, "
                      f"sha256 {act['result_sha256'][:12]}", reason=act.get("note", ""), role="office", context=True)
    elif kind == "scheme.adopted":
        fields.update(unit="", item=act.get("file", ""), value=f"sha256 {act['sha256'][:12]}", role="office",
                      context=True)
    elif kind == "year.close.signed":
        fields.update(unit="", item=f"close by {act['role']}", value=f"results at position {act['position']}, "
                      f"sha256 {act['result_sha256'][:12]}", role=act["role"], context=True,
                      status="closed" if state.year(act["year"]).closed else "closing")
    fields.setdefault("total_year", fields["year"])
    score = scores.get(fields["total_year"])
    if score is not None:
        fields["total"] = score.published
    return HistoryRow(item.position, item.event_id, kind, signed_at=env["signed_at"], recorded_at=item.recorded_at,
                      person=person, department=department, **fields)


def _adjustment_fields(state: LogState, item: LoggedAct, roles, scores: dict[int, UnitScore | None]) -> dict:
    adj = state.adjustments[state.streams[item.stream]]
    act, kind = item.envelope["act"], item.envelope["type"]
    try:
        approvers = state.year(adj.year).scheme.rule(adj.rule).approvers
    except Refused:
        approvers = ()
    target = counted_in(state, adj.year, effective_position(state, adj))
    status = adj.status(approvers)
    if status == "approved" and target != adj.year:
        status = f"approved, counts in {target} (carried over)"
    elif status == "pending":
        status = "pending: waiting for " + ", ".join(adj.missing(approvers))
    if kind in ("adjustment.approved", "adjustment.rejected"):
        role = act["role"]
    else:
        role = "office" if "office" in roles else "department"
    out = {"year": adj.year, "unit": adj.unit, "item": adj.rule, "role": role,
           "value": " ".join(f"{k}={v}" for k, v in sorted(adj.inputs.items())),
           "reason": adj.reason if kind == "adjustment.proposed" else act.get("reason", act.get("note", "")),
           "document": adj.document, "evidence_sha256": adj.evidence_sha256, "ref": adj.id,
           "proposer": adj.proposer_person, "approvers": tuple(f"{a.role}:{a.person}" for a in adj.approvals),
           "status": status, "total_year": target}
    score = scores.get(target)
    if score is not None:
        counted = [e.counted for e in score.adjustments if any(a.id == adj.id for a in e.adjustments)]
        dropped = [n.reason for n in score.not_counted if n.id == adj.id]
        out["points"] = fixed(sum(counted, Decimal(0)), score.places) if counted else None
        out["not_counted"] = "; ".join(dropped)
    return out


def _with_total(row: HistoryRow, year: int, total: Decimal | None, places: int) -> HistoryRow:
    return replace(row, total_year=year, total=_text(total, places))


def _text(value: Decimal | None, places: int) -> str | None:
    return None if value is None else fixed(value, places)

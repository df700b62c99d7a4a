"""A year's scores: for every unit its items, evaluation components, adjustments, formula terms, total and rank in
its group, with an explanation whose lines account for every point. A pure function of (scheme, facts).

Readings (docs/scheme.md gives the reasons): the latest record of a score or evaluation counts; a missing item or
round counts 0 and is listed as missing; the total is rounded half-up at the group's places (2) and nowhere else
unless the scheme says so; equal totals share a rank (1, 2, 2, 4); facts about units, items, components or rounds
the scheme does not have are listed as ignored, never guessed at.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Mapping

from ledger.formula import as_decimal, half_up
from ledger.numbers import CONTEXT, fixed, round_half_up, show
from ledger.scheme import Scheme
from ledger.scheme_groups import Group

from .adjustment_rules import Entry, NotCounted, UnitAdjustments, apply_adjustments
from .facts import EvaluationScore, Facts
from .indicator_points import ItemPoints, group_averages, item_points, latest_scores

ZERO = Decimal(0)


@dataclass
class ComponentPoints:
    """One evaluation component for one unit: each round's points and weight, and the value the formula reads."""

    name: str
    value: Decimal
    rounds: list[dict] = field(default_factory=list)
    missing: bool = False
    how: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "value": show(self.value), "rounds": [dict(r) for r in self.rounds],
                "missing": self.missing, "how": self.how}


@dataclass(frozen=True)
class _Basis:
    """What a unit's explanation is rendered from besides the score's own fields: the group, the indicator sum, the
    adjustment term, the values the formulas read before the first term, and each term's result in order."""

    group: Group
    indicators: Decimal
    adjustment_term: Decimal
    values: Mapping[str, Decimal]
    results: tuple[Decimal, ...]


@dataclass
class UnitScore:
    """Everything about one unit's score. `total` is None for a group the scheme does not score (no formula)."""

    unit: str
    group: str
    total: Decimal | None
    exact_total: Decimal | None
    rank: int | None
    terms: dict[str, Decimal]
    items: list[ItemPoints]
    components: list[ComponentPoints]
    adjustments: list[Entry]
    not_counted: list[NotCounted]
    missing: list[str]
    places: int = 2
    ranked_among: int = 0  # how many of the group's units are ranked (0: not ranked)
    _basis: _Basis | None = field(default=None, repr=False, compare=False)
    _explain: list[str] | None = field(default=None, repr=False, compare=False)

    @property
    def explain(self) -> list[str]:
        """The explanation, a line for every number; rendered on first access (most views never read it)."""
        if self._explain is None:
            with localcontext(CONTEXT):
                self._explain = _explanation(self, self._basis)
        return self._explain

    @property
    def published(self) -> str | None:
        """The total as published, with exactly the group's places ("95.40")."""
        return None if self.total is None else fixed(self.total, self.places)

    @property
    def component_values(self) -> dict[str, Decimal]:
        """Component name → value (what grading's tie-breakers read)."""
        return {c.name: c.value for c in self.components}

    def to_dict(self) -> dict:
        """Plain, deterministic form: only str, int, None, list and dict; decimals as strings."""
        return {"unit": self.unit, "group": self.group, "total": None if self.total is None else self.published,
                "exact_total": None if self.exact_total is None else show(self.exact_total), "rank": self.rank,
                "terms": {k: show(v) for k, v in self.terms.items()}, "items": [i.to_dict() for i in self.items],
                "components": [c.to_dict() for c in self.components],
                "adjustments": [e.to_dict() for e in self.adjustments],
                "not_counted": [n.to_dict() for n in self.not_counted], "missing": list(self.missing),
                "explain": list(self.explain)}


@dataclass
class YearScores:
    """Every unit's score for one year, in the scheme's unit order, and the facts the scheme could not place."""

    year: int
    position: int
    units: list[UnitScore]
    ignored: list[str]

    def unit(self, name: str) -> UnitScore:
        return next(u for u in self.units if u.unit == name)

    def group(self, name: str) -> list[UnitScore]:
        """The group's units by rank (unscored last), then name."""
        members = [u for u in self.units if u.group == name]
        return sorted(members, key=lambda u: (u.rank is None, u.rank or 0, u.unit))

    def to_dict(self) -> dict:
        return {"year": self.year, "position": self.position, "units": [u.to_dict() for u in self.units],
                "ignored": list(self.ignored)}


def score_year(scheme: Scheme, facts: Facts, origin_schemes: Mapping[int, Scheme] | None = None) -> YearScores:
    """Score every unit of the scheme from the facts. `origin_schemes` (year → scheme) lets an adjustment carried
    over from a closed year be computed by the rule of the year it comes from; otherwise this year's rule is used."""
    with localcontext(CONTEXT):
        ignored = _ignored(scheme, facts)
        adjusted, more, scores, evaluations = _inputs(scheme, facts, origin_schemes)
        ignored.extend(more)
        units = []
        for group in scheme.groups:
            averages = group_averages(group, scores, _into_averaged(group, adjusted))
            for unit in group.units:
                units.append(_score_unit(scheme, group, unit, scores, averages, evaluations, adjusted[unit]))
        _rank(units)
        return YearScores(facts.year, facts.position, units, ignored)


def score_unit(scheme: Scheme, facts: Facts, unit: str, origin_schemes: Mapping[int, Scheme] | None = None
               ) -> UnitScore:
    """One unit's score as `score_year` gives it, but unranked and without scoring the rest of its group (what a
    unit's history needs after each of its acts)."""
    with localcontext(CONTEXT):
        adjusted, _more, scores, evaluations = _inputs(scheme, facts, origin_schemes)
        group = scheme.group_of(unit)
        averages = group_averages(group, scores, _into_averaged(group, adjusted))
        return _score_unit(scheme, group, unit, scores, averages, evaluations, adjusted[unit])


def _inputs(scheme: Scheme, facts: Facts, origin_schemes: Mapping[int, Scheme] | None) -> tuple:
    """(adjustments by unit, lines on what they ignored, latest scores, latest evaluations)."""
    adjusted, ignored = apply_adjustments(scheme, facts.year, facts.adjustments, origin_schemes)
    return adjusted, ignored, latest_scores(facts.scores), _latest_evaluations(facts.evaluations)


def averages_an_item(group: Group) -> bool:
    """Whether a unit that does not take part in one of the group's items gets the others' average there."""
    return any(item.non_participants == "average" for item in group.indicators)


def _into_averaged(group: Group, adjusted: Mapping[str, UnitAdjustments]) -> dict[str, dict[str, list]]:
    """unit -> item -> the adjustments scored into it, for a group with an averaged item (else nothing to find)."""
    if not averages_an_item(group):
        return {}
    return {unit: adjusted[unit].by_indicator() for unit in group.units}


def _latest_evaluations(evaluations) -> dict[tuple[str, str, str], EvaluationScore]:
    out: dict[tuple[str, str, str], EvaluationScore] = {}
    for ev in evaluations:
        key = (ev.unit, ev.component, ev.round)
        if key not in out or (ev.position, ev.event) > (out[key].position, out[key].event):
            out[key] = ev
    return out


def _ignored(scheme: Scheme, facts: Facts) -> list[str]:
    # the facts the scheme cannot place, then in log order (sorting only those: nearly always none)
    lines = []
    unplaced = []
    for s in facts.scores:
        group = scheme.unit_groups.get(s.unit)
        item = None if group is None else group.tree_for(s.unit).get(s.indicator)
        if item is None or not item.leaf:
            unplaced.append(s)
    for s in sorted(unplaced, key=lambda s: (s.position, s.event)):
        lines.append(f"score {s.event} for {s.unit} / {s.indicator}: the scheme has no such unit, or no such leaf "
                     "item for that unit")
    unplaced = []
    for e in facts.evaluations:
        group = scheme.unit_groups.get(e.unit)
        component = scheme.components.get(e.component)
        if group is None or component is None or e.component not in group.components \
                or e.round not in component.round_ids:
            unplaced.append(e)
    for e in sorted(unplaced, key=lambda e: (e.position, e.event)):
        lines.append(f"evaluation {e.event} for {e.unit} / {e.component} / round {e.round!r}: not in the scheme")
    return lines


def _component(scheme: Scheme, unit: str, name: str, evaluations) -> ComponentPoints:
    spec = scheme.components[name]
    value, rounds, missing, parts = ZERO, [], False, []
    for round_id in spec.round_ids:
        ev = evaluations.get((unit, name, round_id))
        weight = spec.weight_of(round_id)
        if ev is None:
            missing = True
            rounds.append({"round": round_id, "weight": show(weight), "points": None, "how": "not recorded",
                           "event": ""})
            parts.append(f"{round_id + ': ' if round_id else ''}not recorded (0)")
            continue
        points, how = spec.points(ev.value, ev.level, dict(ev.votes) if ev.votes is not None else None)
        value += points * weight
        rounds.append({"round": round_id, "weight": show(weight), "points": show(points), "how": how,
                       "event": ev.event})
        label = f"{round_id}: " if round_id else ""
        shown = f"{how} = {show(points)}" if how else f"recorded {show(points)}"
        parts.append(f"{label}{shown}" + (f" × {show(weight)}" if spec.rounds else ""))
    how = "; ".join(parts) + (f"; sum {show(value)}" if spec.rounds else "")
    if spec.places is not None and round_half_up(value, spec.places) != value:
        value = round_half_up(value, spec.places)
        how += f" → {show(value)} ({spec.places} places, half up)"
    return ComponentPoints(name, value, rounds, missing, how)


def _score_unit(scheme: Scheme, group: Group, unit: str, scores, averages, evaluations,
                adjusted: UnitAdjustments) -> UnitScore:
    into = adjusted.by_indicator()
    items = [item_points(item, unit, scores.get((unit, item.id)), averages, into.get(item.id, []))
             for item in group.leaves_for(unit)]
    indicators = sum((i.points for i in items), ZERO)
    components = [_component(scheme, unit, name, evaluations) for name in group.components]
    term = adjusted.term
    values: dict[str, Decimal] = {"indicators": indicators, "adjustments": term}
    for section in group.sections:
        inside = section + "/"
        values[section] = sum([i.points for i in items if i.id == section or i.id.startswith(inside)], ZERO)
    values.update({c.name: c.value for c in components})
    before = dict(values)
    terms: dict[str, Decimal] = {}
    results = []
    total = exact = None
    for name, formula in group.terms:
        value = formula.evaluate(values)  # exact, for the terms after it
        values[name], result = value, as_decimal(value)
        results.append(result)
        terms[name] = result
        if name == "total":
            exact, total = result, half_up(value, group.places)
    missing = [f"item {i.id}" for i in items if i.missing] + \
              [f"component {c.name}" + ("" if len(c.rounds) == 1 else " (a round)") for c in components if c.missing]
    return UnitScore(unit, group.name, total, exact, None, terms, items, components, adjusted.entries,
                     sorted(adjusted.not_counted, key=lambda d: d.id), missing, group.places,
                     _basis=_Basis(group, indicators, term, before, tuple(results)))


def _explanation(score: UnitScore, basis: _Basis) -> list[str]:
    """The lines that account for every point of a unit's score, in the order the score was reached."""
    group, unit, items = basis.group, score.unit, score.items
    explain: list[str] = [f"{unit} ({group.name})"]
    for item in items:
        explain.append(f"  item {item.id} [{show(item.floor)}…{show(item.weight)}]: {show(item.points)} — {item.how}")
    explain.append(f"indicators = {show(basis.indicators)}" + (f" ({' + '.join(show(i.points) for i in items)})"
                                                               if 1 < len(items) <= 40 else ""))
    for entry in score.adjustments:
        explain.append(_entry_line(entry))
    explain.append(f"adjustments = {show(basis.adjustment_term)}" +
                   (" (rules scoring into items are counted in those items)" if any(e.rule.indicator for e in
                                                                                    score.adjustments) else ""))
    for dropped in score.not_counted:
        explain.append(f"  not counted: adjustment {dropped.id} ({dropped.rule}): {dropped.reason}")
    for comp in score.components:
        explain.append(f"{comp.name} = {show(comp.value)} ({comp.how})")
    tree = group.tree_for(unit)
    for section in group.sections:
        if section not in tree:
            explain.append(f"{section} = 0 ({unit} has no {section} task)")
    values = dict(basis.values)
    for (name, formula), result in zip(group.terms, basis.results):
        line = f"{name} = {formula.text} = {formula.substituted(values)} = {show(result)}"
        values[name] = result
        if name == "total":
            line += f" → {score.published} (half up, {group.places} places)"
        explain.append(line)
    if not group.terms:
        explain.append(f"group {group.name} has no total formula: not scored in this ledger")
    if score.ranked_among:
        explain.append(f"rank {score.rank} of {score.ranked_among} in {score.group}")
    return explain


def _entry_line(entry: Entry) -> str:
    ids = ", ".join(a.id for a in entry.adjustments)
    where = f" into {entry.rule.indicator}" if entry.rule.indicator else ""
    carried = f" (carried over from {entry.carried_from})" if entry.carried_from is not None else ""
    capped = f" (of {show(entry.points)}: {'; '.join(entry.notes)})" if entry.notes else ""
    return (f"  adjustment {_signed(entry.counted)}{where} — rule {entry.rule.id}"
            f"{' ' + entry.rule.title if entry.rule.title else ''}: {entry.how or show(entry.points)}{capped}"
            f" [{ids}]{carried}")


def _signed(value: Decimal) -> str:
    return ("+" if value >= 0 else "") + show(value)


def _rank(units: list[UnitScore]) -> None:
    """Competition ranking per group: 1, 2, 2, 4 for equal totals."""
    by_group: dict[str, list[UnitScore]] = {}
    for u in units:
        if u.total is not None:
            by_group.setdefault(u.group, []).append(u)
    for members in by_group.values():
        totals = sorted((u.total for u in members), reverse=True)
        for u in members:
            u.rank, u.ranked_among = totals.index(u.total) + 1, len(members)

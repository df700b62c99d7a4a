"""Which adjustments (加减分) count for each unit, for how many points after caps, and why the others do not.

Order never depends on how facts arrived: adjustments are taken by (effective position, position, id), the order
in which they came into force, and caps are filled in that order. The steps, per unit:
status → applicability → inputs → deadline → document → same matter / same entity / once per unit → points
(summed figures where the rule says combine = "sum") → per-area cap → rule cap → category cap → unit cap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Mapping

from ledger.errors import Refused
from ledger.numbers import CONTEXT, show
from ledger.scheme import Scheme
from ledger.scheme_rules import Cap, Rule

from .facts import Adjustment

ZERO = Decimal(0)
NEVER = 1 << 62  # sorts an adjustment that never became effective after every one that did


@dataclass
class Entry:
    """Points that count together: one adjustment, or a rule's summed figures (combine = "sum")."""

    rule: Rule
    adjustments: list[Adjustment]
    points: Decimal
    how: str
    carried_from: int | None
    counted: Decimal = ZERO
    notes: list[str] = field(default_factory=list)

    @property
    def order(self) -> tuple:
        adjustments = self.adjustments
        return _order(adjustments[0]) if len(adjustments) == 1 else max(map(_order, adjustments))

    def to_dict(self) -> dict:
        """Plain form: decimals as strings."""
        single = self.adjustments[0] if len(self.adjustments) == 1 else None
        return {"adjustments": [a.id for a in self.adjustments], "rule": self.rule.id, "kind": self.rule.kind,
                "title": self.rule.title, "inputs": dict(sorted(single.inputs.items())) if single else None,
                "points": show(self.points), "counted": show(self.counted), "how": self.how,
                "notes": list(self.notes), "indicator": self.rule.indicator, "carried_over_from": self.carried_from,
                "documents": sorted({a.document for a in self.adjustments if a.document})}


@dataclass(frozen=True)
class NotCounted:
    """An adjustment that adds nothing this year, and why."""

    id: str
    rule: str
    reason: str
    origin_year: int | None = None

    def to_dict(self) -> dict:
        return {"adjustment": self.id, "rule": self.rule, "reason": self.reason, "origin_year": self.origin_year}


@dataclass
class UnitAdjustments:
    """One unit's adjustments: what counts (and where), what does not."""

    entries: list[Entry] = field(default_factory=list)
    not_counted: list[NotCounted] = field(default_factory=list)

    @property
    def term(self) -> Decimal:
        """The `adjustments` term: counted points of rules that do not score into an indicator."""
        return sum((e.counted for e in self.entries if not e.rule.indicator), ZERO)

    def into(self, indicator: str) -> list[Entry]:
        return [e for e in self.entries if e.rule.indicator == indicator]

    def by_indicator(self) -> dict[str, list[Entry]]:
        """Entries of rules that score into an indicator, by indicator (in entry order)."""
        out: dict[str, list[Entry]] = {}
        for e in self.entries:
            if e.rule.indicator:
                out.setdefault(e.rule.indicator, []).append(e)
        return out


def _order(adj: Adjustment) -> tuple:
    effective = adj.effective_position if adj.effective_position is not None else NEVER
    return effective, adj.position, adj.id


def apply_adjustments(scheme: Scheme, year: int, adjustments: Iterable[Adjustment],
                      origin_schemes: Mapping[int, Scheme] | None = None) -> tuple[dict[str, UnitAdjustments],
                                                                                   list[str]]:
    """Per unit, the entries that count and the adjustments that do not; plus lines about facts for unknown units."""
    latest: dict[str, Adjustment] = {}
    for adj in adjustments:
        if adj.id not in latest or _order(adj) > _order(latest[adj.id]):
            latest[adj.id] = adj
    result = {unit: UnitAdjustments() for unit in scheme.units}
    ignored: list[str] = []
    pools: dict[tuple[str, str, int], list[tuple[Adjustment, Rule, dict]]] = {}
    problems: dict[tuple[int, str], str] = {}  # (id of a rule, unit) -> scheme.rule_problem, once per pair
    for adj in sorted(latest.values(), key=_order):
        if adj.unit not in result:
            ignored.append(f"adjustment {adj.id} names unit {adj.unit!r}, which the {year} scheme does not have")
            continue
        origin = adj.origin_year if adj.origin_year is not None else year
        outcome = _admit(scheme, year, adj, origin, origin_schemes or {}, problems)
        if isinstance(outcome, str):
            result[adj.unit].not_counted.append(NotCounted(adj.id, adj.rule, outcome, adj.origin_year))
        else:
            pools.setdefault((adj.unit, adj.rule, origin), []).append((adj, *outcome))
    for (unit, _, origin), members in pools.items():
        entries, dropped = _pool_entries(members, origin if origin != year else None)
        result[unit].entries.extend(entries)
        result[unit].not_counted.extend(dropped)
    for unit, adjusted in result.items():
        _apply_caps(scheme, adjusted)
    return result, ignored


def _admit(scheme: Scheme, year: int, adj: Adjustment, origin: int, origin_schemes: Mapping[int, Scheme],
           problems: dict[tuple[int, str], str]) -> str | tuple[Rule, dict]:
    """The rule and parsed inputs of an adjustment that may count, or the reason it does not."""
    source = origin_schemes.get(origin, scheme) if origin != year else scheme
    try:
        rule = source.rule(adj.rule)
    except Refused:
        return f"rule {adj.rule!r} is not in the {origin if source is not scheme else year} scheme"
    if adj.status != "approved":
        return _status_reason(adj, rule)
    key = (id(rule), adj.unit)  # the rule is alive (its scheme is) for the whole call: its id names it
    problem = problems[key] if key in problems else problems.setdefault(key, scheme.rule_problem(rule, adj.unit))
    if problem:
        return problem
    try:
        parsed = _parsed_inputs(rule, adj.inputs)
    except Refused as exc:
        return f"inputs do not fit rule {rule.id}: {exc}"
    only = rule.params.get("area_groups", {}).get(parsed.get("area", ""))
    if only and scheme.group_of(adj.unit).name not in only:
        return f"area {parsed['area']} applies to {', '.join(only)} only"
    late = rule.lateness(adj.submitted_at, parsed)
    if late:
        return late
    if rule.requires_document and not adj.document.strip():
        return f"no document (文号): rule {rule.id} counts only with the document that states it"
    return rule, parsed


# (id of a rule, its inputs as pairs) -> (the rule, its parsed inputs) and -> (the rule, its points and how).
# Parsing and points are pure functions of a frozen rule and text inputs (points use the ledger's own context), and
# adjustments under one rule repeat a few inputs. An entry holds the rule itself, so its id cannot be taken by
# another object while the entry lives; a lookup checks it is the very rule.
_INPUTS: dict[tuple[int, tuple], tuple[Rule, dict]] = {}
_POINTS: dict[tuple[int, tuple], tuple[Rule, tuple[Decimal, str]]] = {}
_CACHE_SIZE = 1 << 15


def _key(rule: Rule, inputs: Mapping[str, str]) -> tuple | None:
    if type(inputs) is not dict or not all(type(v) is str for v in inputs.values()):
        return None
    return id(rule), tuple(inputs.items())


def _parsed_inputs(rule: Rule, inputs: Mapping[str, str]) -> dict:
    """`rule.check_inputs(inputs)` (Refused as it says), remembered; a fresh dict each time."""
    key = _key(rule, inputs)
    known = None if key is None else _INPUTS.get(key)
    if known is not None and known[0] is rule:
        return dict(known[1])
    parsed = rule.check_inputs(inputs)
    if key is not None:
        _remember(_INPUTS, key, (rule, dict(parsed)))
    return parsed


def _points(rule: Rule, adj: Adjustment, parsed: dict) -> tuple[Decimal, str]:
    """`rule.points(parsed)` for the inputs `parsed` was parsed from, remembered."""
    key = _key(rule, adj.inputs)
    known = None if key is None else _POINTS.get(key)
    if known is not None and known[0] is rule:
        return known[1]
    points = rule.points(parsed)
    if key is not None:
        _remember(_POINTS, key, (rule, points))
    return points


def _remember(cache: dict, key: tuple, value: tuple) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _status_reason(adj: Adjustment, rule: Rule) -> str:
    if adj.status == "pending":
        signed = {a.split(":", 1)[0] for a in adj.approvals}
        waiting = [r for r in rule.approvers if r not in signed]
        return "not yet approved: waiting for " + (", ".join(waiting) if waiting else "its approvals to take effect")
    if adj.status in ("rejected", "rescinded"):
        return adj.status
    if adj.status.startswith("carried over to"):
        return f"{adj.status}: it took effect after this year was closed and counts in that year"
    return f"status {adj.status!r} does not count"


def _pool_entries(members: list[tuple[Adjustment, Rule, dict]],
                  carried_from: int | None) -> tuple[list[Entry], list[NotCounted]]:
    """One unit's adjustments under one rule (and origin year): dedupe, then points, then the rule's own caps."""
    rule = members[0][1]
    dropped: list[NotCounted] = []
    keep = _dedupe(members, rule, dropped)
    if rule.combine == "sum":
        key = rule.spec.summable
        total = sum((parsed[key] for _, _, parsed in keep), ZERO)
        points, how = rule.points_for_sum(total)
        if len(keep) > 1:
            how = f"{' + '.join(show(p[key]) for _, _, p in keep)} = {show(total)}: {how}"
        entries = [Entry(rule, [a for a, _, _ in keep], points, how, carried_from)] if keep else []
    else:
        entries = [Entry(rule, [a], *_points(rule, a, parsed), carried_from) for a, _, parsed in keep]
    for entry in entries:
        entry.counted = entry.points
    if rule.per_area_cap is not None:
        areas: dict[str, list[Entry]] = {}
        for entry, (_, _, parsed) in zip(entries, keep):
            areas.setdefault(parsed["area"], []).append(entry)
        for area, members_of_area in areas.items():
            _cap(members_of_area, rule.per_area_cap, f"area {area} of rule {rule.id}")
    if rule.cap is not None:
        _cap(entries, rule.cap, f"rule {rule.id}")
    return entries, dropped


def _dedupe(members, rule: Rule, dropped: list[NotCounted]) -> list:
    keep = list(members)
    if rule.same_matter:
        best: dict[str, tuple] = {}
        heights: dict[str, set] = {}
        for member in keep:
            matter = member[2]["matter"]
            heights.setdefault(matter, set()).add(_height(member, rule))
            if matter not in best or _height(member, rule) > _height(best[matter], rule):
                best[matter] = member
        winners = {id(m) for m in best.values()}
        if rule.same_matter == "across_levels":  # reports of a matter at one level only each count
            winners |= {id(m) for m in keep if len(heights[m[2]["matter"]]) == 1}
        for member in keep:
            if id(member) not in winners:
                top = best[member[2]["matter"]]
                dropped.append(NotCounted(member[0].id, rule.id, f"same matter {member[2]['matter']!r} counts once, "
                                          f"at its highest level: adjustment {top[0].id} counts", member[0].origin_year))
        keep = [m for m in keep if id(m) in winners]
    if rule.kind == "derived":
        seen: dict[str, str] = {}
        for member in list(keep):
            entity = member[2]["entity"]
            if entity in seen:
                dropped.append(NotCounted(member[0].id, rule.id, f"{entity} counts once: adjustment {seen[entity]} "
                                          "counts", member[0].origin_year))
                keep.remove(member)
            else:
                seen[entity] = member[0].id
    if rule.once_per_unit and len(keep) > 1:
        for member in keep[1:]:
            dropped.append(NotCounted(member[0].id, rule.id, f"rule {rule.id} counts once per unit: adjustment "
                                      f"{keep[0][0].id} counts", member[0].origin_year))
        keep = keep[:1]
    return keep


def _height(member, rule: Rule) -> Decimal:
    """How high a matter's adjustment stands: its level's place in the rule's list, else the size of its points."""
    if "rank_of_level" in member[2]:
        return Decimal(member[2]["rank_of_level"])
    return _points(rule, member[0], member[2])[0].copy_abs()


def _apply_caps(scheme: Scheme, adjusted: UnitAdjustments) -> None:
    """Category caps, then the unit cap over the adjustment term; entries capped to nothing stop counting."""
    adjusted.entries.sort(key=lambda e: e.order)
    for category, cap in scheme.caps.categories.items():
        _cap([e for e in adjusted.entries if e.rule.category == category], cap, f"category {category}")
    if scheme.caps.unit is not None:
        _cap([e for e in adjusted.entries if not e.rule.indicator], scheme.caps.unit, "the unit's adjustments")
    for entry in list(adjusted.entries):
        if entry.counted == 0 and entry.points != 0:
            adjusted.entries.remove(entry)
            for adj in entry.adjustments:
                adjusted.not_counted.append(NotCounted(adj.id, entry.rule.id, "cap reached: " + "; ".join(entry.notes),
                                                       adj.origin_year))


def _cap(entries: list[Entry], cap: Cap, label: str) -> None:
    """Fill the cap in order: bonuses up to `bonus`, deductions down to −`deduction`, then the net within ±`net`."""
    def cut(entry: Entry, value: Decimal) -> None:
        if value != entry.counted:
            entry.notes.append(f"cap of {label} ({cap.describe()}): {show(entry.counted)} → {show(value)}")
            entry.counted = value

    if cap.bonus is not None:
        room = cap.bonus
        for entry in (e for e in entries if e.counted > 0):
            take = min(entry.counted, room)
            room = CONTEXT.subtract(room, take)
            cut(entry, take)
    if cap.deduction is not None:
        room = cap.deduction
        for entry in (e for e in entries if e.counted < 0):
            take = max(entry.counted, -room)
            room = CONTEXT.add(room, take)
            cut(entry, take)
    if cap.net is not None:
        total = sum((e.counted for e in entries), ZERO)
        excess = total - cap.net if total > cap.net else (total + cap.net if total < -cap.net else ZERO)
        for entry in reversed(entries):  # the latest to take effect gives way first
            if excess > 0 and entry.counted > 0:
                take = min(entry.counted, excess)
            elif excess < 0 and entry.counted < 0:
                take = max(entry.counted, excess)
            else:
                continue
            excess = CONTEXT.subtract(excess, take)
            cut(entry, CONTEXT.subtract(entry.counted, take))

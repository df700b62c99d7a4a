"""A group's indicator tree (考核内容): items with point weights whose children add up to the parent, who assesses
each, and per-unit weight redistribution (a unit without a task has that item's weight moved to another item).

Indicators are written as one array, parents before children, each id a path: "经济发展", "经济发展/税收收入".
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Mapping

from .errors import SchemeError
from .numbers import show
from .scheme_reader import Table, to_decimal
from .scheme_rules import ANY_DEPARTMENT

ZERO = Decimal(0)


@dataclass(frozen=True)
class Indicator:
    """One item. `weight` is the most points it gives (for a unit: after redistribution), `floor` the least
    (below 0 for a deduction-only item: 倒扣分5分 is weight 0, floor −5)."""

    id: str
    weight: Decimal
    floor: Decimal = ZERO
    department: str = ""
    departments: tuple[str, ...] = ()
    leaf: bool = True
    parent: str = ""
    title: str = ""
    non_participants: str = ""  # "average": a unit that does not take part gets the participants' average
    scoring: str = "points"  # "target": the recorded value is a figure scored against a target (基础分制)
    target: Decimal | None = None
    targets: Mapping[str, Decimal] = field(default_factory=dict)
    places: int | None = None  # rounding of a derived value (an average, a target score); None = exact
    starts_full: bool = False  # scored by deduction: a unit with no recorded score has the full weight

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]

    def assessed_by(self, department: str) -> bool:
        """Whether a signatory of `department` may record this item's score."""
        return self.department in ("",) + ANY_DEPARTMENT or department in self.departments

    def target_of(self, unit: str) -> Decimal | None:
        return self.targets.get(unit, self.target)


@dataclass(frozen=True)
class Redistribution:
    """A unit without the task `source` has its weight added to `target` (BP: 招商引资 → 主要职能工作)."""

    source: str
    target: str
    units: tuple[str, ...]


def parse_indicators(table: Table, units: tuple[str, ...]) -> tuple[Indicator, ...]:
    """The group's `indicators` array, validated: unique ids, parents first, children summing to their parent."""
    items: dict[str, Indicator] = {}
    paths: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    for row in table.tables("indicators"):
        item = _parse_indicator(row, units, items)
        if item.id in items:
            raise SchemeError(f"duplicate indicator {item.id!r} (first at {paths[item.id]})", row.at("id"))
        items[item.id], paths[item.id] = item, row.path
        children.setdefault(item.parent, []).append(item.id)
        if item.parent:
            parent = items[item.parent]
            if parent.scoring != "points" or parent.non_participants or parent.starts_full or parent.floor:
                raise SchemeError(f"{item.parent!r} has scoring settings of a leaf but has children", paths[item.parent])
            items[item.parent] = replace(parent, leaf=False)
    for parent_id, kids in children.items():
        if not parent_id:
            continue
        total = sum((items[k].weight for k in kids), ZERO)
        if total != items[parent_id].weight:
            listing = " + ".join(f"{items[k].name} {show(items[k].weight)}" for k in kids)
            raise SchemeError(f"the children of {parent_id!r} add up to {show(total)} ({listing}), but "
                              f"{parent_id!r} weighs {show(items[parent_id].weight)}", f"{paths[parent_id]}.weight")
    return tuple(items.values())


def _parse_indicator(row: Table, units: tuple[str, ...], known: Mapping[str, Indicator]) -> Indicator:
    item_id = row.name("id")
    segments = item_id.split("/")
    for segment in segments:
        if not segment or segment != segment.strip():
            raise SchemeError(f"{item_id!r}: each part of an indicator path must be a non-empty name", row.at("id"))
    parent = "/".join(segments[:-1])
    if parent and parent not in known:
        raise SchemeError(f"parent {parent!r} of {item_id!r} is not declared before it", row.at("id"))
    weight = row.decimal("weight", required=True, minimum=0)
    floor = row.decimal("floor", default=ZERO)
    if floor > 0:
        raise SchemeError(f"floor {floor} must be 0 or below (the least points the item gives)", row.at("floor"))
    value = row.raw("department")
    departments = row.names("department") if isinstance(value, list) else \
        ((row.name("department"),) if value else ())
    scoring = row.text("scoring", default="points")
    if scoring not in ("points", "target"):
        raise SchemeError(f"scoring {scoring!r} must be \"points\" or \"target\"", row.at("scoring"))
    non_participants = row.text("non_participants")
    if non_participants not in ("", "average"):
        raise SchemeError(f"non_participants {non_participants!r} must be \"average\"", row.at("non_participants"))
    target = row.decimal("target")
    targets = {}
    raw_targets = row.table("targets")
    if raw_targets is not None:
        for unit, number, path in raw_targets.entries():
            if unit not in units:
                raise SchemeError(f"{unit!r} is not a unit of this group", path)
            targets[unit] = to_decimal(number, path)
    for path, number in [(row.at("target"), target)] + [(raw_targets.at(u), n) for u, n in targets.items()]:
        if number is not None and number <= 0:
            raise SchemeError(f"a target must be greater than 0, not {number}", path)
    if scoring == "target" and target is None and set(targets) != set(units):
        missing = [u for u in units if u not in targets]
        raise SchemeError(f"a target-scored item needs target (for every unit) or targets for each unit; "
                          f"missing for {', '.join(missing[:5])}", row.at("targets"))
    if scoring != "target" and (target is not None or targets):
        raise SchemeError("target and targets belong to an item with scoring = \"target\"", row.at("target"))
    item = Indicator(item_id, weight, floor, "、".join(departments), departments, True, parent, row.text("title"),
                     non_participants, scoring, target, targets, row.integer("places", minimum=0, maximum=10),
                     row.boolean("starts_full"))
    row.done()
    return item


def parse_redistributions(table: Table, items: Mapping[str, Indicator],
                          units: tuple[str, ...]) -> tuple[Redistribution, ...]:
    """The group's `redistribute` array: from, to, units."""
    out: list[Redistribution] = []
    taken: dict[tuple[str, str], str] = {}
    for row in table.tables("redistribute"):
        source, target = row.name("from"), row.name("to")
        for key, value in (("from", source), ("to", target)):
            if value not in items:
                raise SchemeError(f"unknown indicator {value!r}", row.at(key))
        if not items[target].leaf:
            raise SchemeError(f"{target!r} has children; weight moves to a leaf item", row.at("to"))
        if source == target or target.startswith(source + "/") or source.startswith(target + "/"):
            raise SchemeError(f"{source!r} and {target!r} are the same branch of the tree", row.at("to"))
        names = row.names("units", required=True)
        for i, unit in enumerate(names):
            if unit not in units:
                raise SchemeError(f"{unit!r} is not a unit of this group", f"{row.at('units')}[{i}]")
            for other in (source, target):
                if (unit, other) in taken:
                    raise SchemeError(f"{unit!r} already has {other!r} redistributed ({taken[(unit, other)]})",
                                      f"{row.at('units')}[{i}]")
            taken[(unit, source)] = row.path
        row.done()
        out.append(Redistribution(source, target, names))
    return tuple(out)


def effective_tree(items: Mapping[str, Indicator], moves: tuple[Redistribution, ...],
                   unit: str) -> dict[str, Indicator]:
    """The unit's own tree: items it has no task for removed, their weight added to the target and its parents."""
    weights = {item_id: item.weight for item_id, item in items.items()}
    removed: set[str] = set()
    for move in moves:
        if unit not in move.units:
            continue
        amount = weights[move.source]
        removed.update(i for i in items if i == move.source or i.startswith(move.source + "/"))
        for ancestor in _ancestors(move.source):
            weights[ancestor] -= amount
        for node in (move.target, *_ancestors(move.target)):
            weights[node] += amount
    return {item_id: replace(item, weight=weights[item_id]) if weights[item_id] != item.weight else item
            for item_id, item in items.items() if item_id not in removed}


def _ancestors(item_id: str) -> list[str]:
    parts = item_id.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]

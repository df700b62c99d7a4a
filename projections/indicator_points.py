"""Points of a unit's indicator items: recorded points, target figures (基础分制), the participants' average for a
unit that does not take part, full marks for deduction-scored items, and adjustments scored into an item
(kept within the item's floor and weight: 扣完为止)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

from ledger.numbers import CONTEXT, round_half_up, show
from ledger.scheme_groups import Group
from ledger.scheme_indicators import Indicator

from .adjustment_rules import Entry
from .facts import IndicatorScore

ZERO = Decimal(0)
DERIVED_PLACES = 2  # an average or a target score is kept at the item's places, else at 2


@dataclass
class ItemPoints:
    """One leaf item for one unit."""

    id: str
    weight: Decimal
    floor: Decimal
    points: Decimal
    how: str
    recorded: Decimal | None = None
    event: str = ""
    missing: bool = False
    adjustments: list[str] = field(default_factory=list)  # ids of adjustments scored into the item

    def to_dict(self) -> dict:
        return {"id": self.id, "weight": show(self.weight), "floor": show(self.floor), "points": show(self.points),
                "recorded": None if self.recorded is None else show(self.recorded), "how": self.how,
                "event": self.event, "missing": self.missing, "adjustments": list(self.adjustments)}


def latest_scores(scores) -> dict[tuple[str, str], IndicatorScore]:
    """The score in effect per (unit, item): the one recorded last (highest position, then event id)."""
    out: dict[tuple[str, str], IndicatorScore] = {}
    for score in scores:
        key = (score.unit, score.indicator)
        if key not in out or (score.position, score.event) > (out[key].position, out[key].event):
            out[key] = score
    return out


def _places(item: Indicator) -> int:
    return DERIVED_PLACES if item.places is None else item.places


def recorded_points(item: Indicator, unit: str, score: IndicatorScore) -> tuple[Decimal, str]:
    """Points from a recorded value (participating), before adjustments scored into the item."""
    value = score.value
    if item.scoring == "target":
        target = item.target_of(unit)
        if target is None:
            return ZERO, f"figure {show(value)} recorded but no target for {unit}: 0"
        if value >= target:
            return item.weight, f"figure {show(value)} meets the target {show(target)}: base {show(item.weight)}"
        exact = CONTEXT.divide(CONTEXT.multiply(item.weight, value), target)
        points = max(round_half_up(exact, _places(item)), item.floor)
        return points, (f"figure {show(value)} short of the target {show(target)}: {show(item.weight)} × "
                        f"{show(value)} / {show(target)} = {show(points)}")
    clamped = min(max(value, item.floor), item.weight)
    if clamped != value:
        return clamped, f"recorded {show(value)}, outside {show(item.floor)}…{show(item.weight)}: counted {show(clamped)}"
    return value, f"recorded {show(value)}"


def group_averages(group: Group, latest: Mapping[tuple[str, str], IndicatorScore],
                   into: Mapping[str, Mapping[str, list[Entry]]] | None = None) -> dict[str, tuple[Decimal, str]]:
    """Per item with non_participants = "average": the average of the points of the units taking part (with the
    adjustments scored into the item, `into`: unit -> item -> entries), and how it was reached."""
    out = {}
    for item in group.indicators:
        if item.non_participants != "average":
            continue
        taking_part, unrecorded = [], 0
        for unit in group.units:
            own = group.tree_for(unit).get(item.id)
            score = latest.get((unit, item.id))
            if own is None or score is not None and not (score.participates and score.value is not None):
                continue  # not this unit's item, or recorded as not taking part
            if score is None:
                if not (own.starts_full or own.weight == 0):
                    continue  # nothing recorded yet: shown as missing in its own score
                # a deduction-scored item needs no record: a unit taking part with none has its full marks
                unrecorded += 1
            moved = (into or {}).get(unit, {}).get(item.id, [])
            taking_part.append(item_points(own, unit, score, {}, moved).points)
        if not taking_part:
            out[item.id] = (ZERO, "no unit takes part: 0")
            continue
        exact = CONTEXT.divide(sum(taking_part, ZERO), len(taking_part))
        average = round_half_up(exact, _places(item))
        without = f", {unrecorded} of them with no deduction recorded" if unrecorded else ""
        out[item.id] = (average, f"average of the {len(taking_part)} units taking part{without} "
                                 f"({show(sum(taking_part, ZERO))} ÷ {len(taking_part)}) = {show(average)}")
    return out


def item_points(item: Indicator, unit: str, score: IndicatorScore | None, averages: Mapping[str, tuple[Decimal, str]],
                into: list[Entry]) -> ItemPoints:
    """The leaf's points for the unit, with how they were reached."""
    recorded, event, missing = None, "", False
    if score is not None and score.participates and score.value is not None:
        points, how = recorded_points(item, unit, score)
        recorded, event = score.value, score.event
    elif score is not None and item.non_participants == "average":
        points, how = averages[item.id]
        how, event = "does not take part: " + how, score.event
    elif item.starts_full or item.weight == 0:
        # a deduction-scored item is complete without a record: no deduction means full marks (0 if deduction-only)
        points, how = item.weight, f"scored by deduction: no deduction recorded, {show(item.weight)}"
    else:
        points, how, missing = ZERO, "no score recorded: 0", True
        if score is not None:
            how, event = "recorded as not taking part, but the item has no average rule: 0", score.event
    result = ItemPoints(item.id, item.weight, item.floor, points, how, recorded, event, missing)
    if into:
        moved = sum((e.counted for e in into), ZERO)
        total = CONTEXT.add(points, moved)
        kept = min(max(total, item.floor), item.weight)
        result.how += f"; adjustments {_signed(moved)} → {show(total)}"
        if kept != total:
            result.how += f", kept within {show(item.floor)}…{show(item.weight)} (扣完为止): {show(kept)}"
        result.points = kept
        result.adjustments = [a.id for e in into for a in e.adjustments]
        result.missing = False
    return result


def _signed(value: Decimal) -> str:
    return ("+" if value >= 0 else "") + show(value)

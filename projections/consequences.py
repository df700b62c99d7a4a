"""Consequences read across years (考核结果运用): 约谈, 诫勉谈话, 调整岗位, and the staff-excellence share by grade.

A rule holds for a unit in year Y when its condition (a grade among the rule's grades, or last place in the group)
held in each of the `years` consecutive years ending with Y. A year missing from the history, a unit missing from a
year, or a pending grade breaks the run. Every rule that holds is reported, lighter ones too (HY: last place three
years running gives 约谈, 诫勉谈话 and 调整岗位); the consumer decides how they combine.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from ledger.grading_rules import STAFF_SHARE_RULE, ConsequenceRule, ConsequenceRules


@dataclass(frozen=True)
class UnitOutcome:
    """A unit's published result in one year: its grade (None while pending) and whether it ranked last."""

    grade: str | None
    last_place: bool = False


@dataclass(frozen=True)
class Consequence:
    """A consequence for a unit, the rule that gave it and the years that triggered it."""

    unit: str
    rule: str
    consequence: str
    years: tuple[int, ...]
    share: Decimal | None = None  # the staff-excellence share, for that rule only

    def to_dict(self) -> dict:
        """Plain form; the share as a decimal string."""
        return {"unit": self.unit, "rule": self.rule, "consequence": self.consequence, "years": list(self.years),
                "share": None if self.share is None else str(self.share)}


def consequences(rules: ConsequenceRules, history: Mapping[int, Mapping[str, UnitOutcome]],
                 year: int | None = None) -> list[Consequence]:
    """The consequences for `year` (default: the latest year in `history`), by unit, then in the rules' order."""
    if year is None:
        if not history:
            return []
        year = max(history)
    found = []
    for unit, outcome in sorted(history.get(year, {}).items()):
        for rule in rules.rules:
            span = tuple(range(year - rule.years + 1, year + 1))
            if all(_holds(rule, history.get(y, {}).get(unit)) for y in span):
                found.append(Consequence(unit, rule.name, rule.consequence, span))
        share = rules.staff_excellent_share.get(outcome.grade) if outcome.grade is not None else None
        if share is not None:
            percent = format((share * 100).normalize(), "f")
            found.append(Consequence(unit, STAFF_SHARE_RULE, f"工作人员年度考核优秀比例 {percent}% (grade "
                                                             f"{outcome.grade})", (year,), share))
    return found


def _holds(rule: ConsequenceRule, outcome: UnitOutcome | None) -> bool:
    if outcome is None:
        return False
    if rule.when == "last_place":
        return outcome.last_place
    return outcome.grade in rule.grades

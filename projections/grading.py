"""Grades (等次) of one group: a pure function of the group's rules, its units' totals and the signed decisions.

Readings where the seeds leave a choice (docs/grading.md gives the reasons):
- rank is by total, descending; equal totals share a rank (1, 2, 2, 4); output is ordered by rank, then unit name.
- quota seats = rounding(units counted × share); the units counted are the group's units except those graded from an
  outside ranking. Each grade's seats are its own: seats a threshold leaves unused lapse (BP: if only 5 of 29
  townships reach 95, 5 are 好 and 较好 still has 14 seats) unless the scheme says `unused_seats = "pass_down"`.
- a fault caps the unit (at most its grade); a capped unit takes no seat above its cap and the next eligible moves up.
- precedence per unit: leading-group ruling (final) > withholding (no grade until an `assign` decision) > fault count
  rule > direct grade by achievement (unless a fault caps it below) > outside ranking (capped by faults) > quota.
- a leading-group ruling, a direct grade and a fault-count grade take a seat of their grade (so the quota holds)
  unless `decisions_take_seats = false`; an assigned grade of a withheld unit and an outside-ranking grade take none.
- falsification lowers the grade found `falsification_steps` steps, after the seats are filled: the seat it held is
  not handed on (others' grades do not change because of it); rulings and assignments are final and not lowered.
- decisions about units not in `entries`, and revoked decisions, are ignored.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping, Sequence

from ledger.grading_rules import GradingRules

from .consequences import UnitOutcome
from .facts import Decision
from .seats import Candidate, Seating, seat

_DECIDED = ("leading_group", "direct_grade", "fault_count", "assign")


@dataclass(frozen=True)
class GradeInput:
    """A unit's total and its evaluation component scores (for tie-breakers)."""

    unit: str
    total: Decimal
    components: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitGrade:
    """One unit's grade; `grade` is None with `pending` while withheld or waiting for a tie decision."""

    unit: str
    rank: int
    total: Decimal
    grade: str | None
    pending: bool = False
    basis: str = "quota"  # quota | leading_group | withheld | assign | fault_count | direct_grade | outside
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain form; the total as a decimal string."""
        return {"unit": self.unit, "rank": self.rank, "total": str(self.total), "grade": self.grade,
                "pending": self.pending, "basis": self.basis, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class QuotaUse:
    """A grade's share, its seats for the units counted, seats passed down to it, and how many units hold it."""

    grade: str
    share: Decimal | None
    seats: int | None
    received: int
    given: int

    def to_dict(self) -> dict:
        """Plain form; the share as a decimal string."""
        return {"grade": self.grade, "share": None if self.share is None else str(self.share),
                "seats": self.seats, "received": self.received, "given": self.given}


@dataclass(frozen=True)
class GroupGrades:
    """The grades of one group, with the quota use and group-level notes (quota exceeded, pending ties…)."""

    units: tuple[UnitGrade, ...]
    quotas: tuple[QuotaUse, ...]
    counted: int
    rounding: str
    pending: bool
    notes: list[str] = field(default_factory=list)

    def unit(self, name: str) -> UnitGrade:
        """The grade of one unit (KeyError if it is not in the group)."""
        for u in self.units:
            if u.unit == name:
                return u
        raise KeyError(name)

    def grade_of(self) -> dict[str, str | None]:
        """unit -> grade (None while pending)."""
        return {u.unit: u.grade for u in self.units}

    def outcomes(self) -> dict[str, UnitOutcome]:
        """What the consequence rules read: each unit's grade and whether it ranks last in the group."""
        last = max((u.rank for u in self.units), default=0)
        return {u.unit: UnitOutcome(u.grade, u.rank == last) for u in self.units}

    def to_dict(self) -> dict:
        """Plain form (str/int/bool/None/list/dict only) for hashing and publishing."""
        return {"counted": self.counted, "rounding": self.rounding, "pending": self.pending,
                "quotas": [q.to_dict() for q in self.quotas], "units": [u.to_dict() for u in self.units],
                "notes": list(self.notes)}


def competition_ranks(entries: Sequence[GradeInput]) -> dict[str, int]:
    """Rank by total descending; equal totals share the better rank (1, 2, 2, 4)."""
    totals = sorted((e.total for e in entries), reverse=True)
    first = {}
    for i, t in enumerate(totals, 1):
        first.setdefault(t, i)
    return {e.unit: first[e.total] for e in entries}


def grade_group(rules: GradingRules, entries: Sequence[GradeInput], decisions: Sequence[Decision],
                outside_ranks: Mapping[str, int]) -> GroupGrades:
    """Grade one group's units from their totals, the group's rules and the signed decisions in effect."""
    return _Grading(rules, entries, decisions, outside_ranks).run()


class _Grading:
    def __init__(self, rules: GradingRules, entries: Sequence[GradeInput], decisions: Sequence[Decision],
                 outside_ranks: Mapping[str, int]):
        self.rules, self.outside_ranks = rules, outside_ranks
        # a canonical order (rank, then name), so that notes and reasons never depend on the input order
        self.entries = {e.unit: e for e in sorted(entries, key=lambda e: (-e.total, e.unit))}
        if len(self.entries) != len(entries):
            dup = sorted(u for u, n in Counter(e.unit for e in entries).items() if n > 1)
            raise ValueError(f"units listed twice: {', '.join(dup)}")
        self.ranks = competition_ranks(entries)
        self.notes: list[str] = []
        self.reasons: dict[str, list[str]] = {u: [] for u in self.entries}
        self.grade: dict[str, int | None] = {}
        self.basis: dict[str, str] = {}
        self.over: dict[str, str] = {}  # unit -> why it may hold a grade beyond the grade's seats
        self.received: Counter = Counter()
        self.by_unit: dict[str, dict[str, list[Decision]]] = {u: {} for u in self.entries}
        for d in sorted(decisions, key=lambda d: (d.position, d.id)):
            if d.revoked or d.unit not in self.entries:
                continue
            problem = rules.decision_problem(d.kind, d.value, d.unit)
            if problem:
                self.notes.append(f"decision {d.id} ({d.kind} {d.value!r} for {d.unit}) is ignored: {problem}")
            else:
                self.by_unit[d.unit].setdefault(d.kind, []).append(d)
        listed = set(rules.outside.units) if rules.outside else set()
        self.outside = {u for u in self.entries if u in listed}
        self.counted = [u for u in self.entries if u not in self.outside]

    def run(self) -> GroupGrades:
        rules, pool = self.rules, []
        for unit, e in self.entries.items():
            cap = self.caps(unit)
            if not self.fixed(unit, cap):
                pool.append(Candidate(unit, e.total, e.components, cap))
        # decided grades hold seats so that the quota still bounds the group; assigned and outside grades do not
        taken = Counter(self.grade[u] for u in self.counted if rules.decisions_take_seats
                        and self.basis.get(u) in ("leading_group", "direct_grade", "fault_count"))
        ties = {u: ds["tie"][-1] for u, ds in self.by_unit.items() if "tie" in ds}
        actual = seat(rules, pool, len(self.counted), taken, ties, rules.tie_policy)
        self.merge(actual)
        self.explain_moves(actual)
        for unit, ds in self.by_unit.items():
            if "tie" in ds and unit not in actual.ties_used:
                self.notes.append(f"tie decision {ds['tie'][-1].id} for {unit} is not used: {unit} is in no tie "
                                  "at a quota boundary")
        self.falsification()
        return self.result()

    def caps(self, unit: str) -> int | None:
        """The index of the best grade the unit's faults still allow, with a reason per fault."""
        caps = []
        first: dict[str, Decision] = {}
        for d in self.by_unit[unit].get("fault", []):
            first.setdefault(d.value, d)
        for name, d in first.items():
            caps.append(self.rules.index(self.rules.faults[name]))
            self.reasons[unit].append(f"fault {name} (decision {d.id}): at most {self.rules.faults[name]}")
        return max(caps) if caps else None

    def fixed(self, unit: str, cap: int | None) -> bool:
        """Settle the unit outside the seat allocation if a decision or the outside ranking grades it."""
        rules, ds, say = self.rules, self.by_unit[unit], self.reasons[unit].append
        if "leading_group" in ds:
            d = ds["leading_group"][-1]
            say(f"leading-group ruling {d.id}: {d.value} ({d.reason})")
            return self.set(unit, rules.index(d.value), "leading_group")
        if "withhold" in ds:
            held, given = ds["withhold"][-1], ds.get("assign", [None])[-1]
            say(f"withheld (不定等次) by decision {held.id}: {held.reason}")
            if given is None or given.position < held.position:
                return self.set(unit, None, "withheld")
            say(f"assigned {given.value} by decision {given.id} ({given.reason})")
            return self.set(unit, rules.index(given.value), "assign")
        for d in ds.get("assign", []):
            self.notes.append(f"decision {d.id} (assign {d.value} for {unit}) is ignored: {unit} is not withheld")
        faults = sorted({d.value for d in ds.get("fault", [])})
        hits = [r for r in rules.fault_count if len(faults) >= r.at_least]
        if hits:
            worst = max(hits, key=lambda r: rules.index(r.grade))
            say(f"{len(faults)} faults ({', '.join(faults)}): {worst.grade} ({worst.at_least} or more faults)")
            return self.set(unit, rules.index(worst.grade), "fault_count")
        if "direct_grade" in ds:
            d = min(ds["direct_grade"], key=lambda d: rules.index(rules.achievements[d.value]))
            g = rules.achievements[d.value]
            if cap is None or rules.index(g) >= cap:
                say(f"direct grade {g}: achievement {d.value} (decision {d.id})")
                return self.set(unit, rules.index(g), "direct_grade")
            say(f"direct grade {g} (achievement {d.value}, decision {d.id}) not applied: a fault allows at most "
                f"{rules.grades[cap]}")
        if unit in self.outside:
            rank, source = self.outside_ranks.get(unit), rules.outside.source
            if rank is None:
                say(f"graded from the {source} ranking, which has no rank for it yet")
                return self.set(unit, None, "outside")
            g = rules.index(rules.outside.grade_for(rank))
            say(f"outside ranking {source}: rank {rank} gives {rules.grades[g]}")
            if cap is not None and g < cap:
                say(f"capped by a fault: {rules.grades[cap]} instead of {rules.grades[g]}")
            return self.set(unit, g if cap is None else max(g, cap), "outside")
        return False

    def set(self, unit: str, index: int | None, basis: str) -> bool:
        self.grade[unit], self.basis[unit] = index, basis
        return True

    def merge(self, seating: Seating) -> None:
        for unit, index in seating.grade.items():
            self.set(unit, index, "quota")
        for unit in seating.pending:
            self.grade[unit], self.basis[unit] = None, "quota"
        for unit, reasons in seating.reasons.items():
            self.reasons[unit].extend(reasons)
        self.notes.extend(seating.notes)
        self.over.update(seating.over)
        self.received = seating.received

    def explain_moves(self, actual: Seating) -> None:
        """Compare with the plain quota outcome (rank and thresholds only) and say why a unit differs from it."""
        plain = seat(self.rules, [Candidate(u, self.entries[u].total, self.entries[u].components)
                                  for u in self.counted], len(self.counted), Counter(), {}, "better").grade
        grades = self.rules.grades
        for unit in self.counted:
            now, alone = self.grade.get(unit), plain.get(unit)
            if self.basis[unit] != "quota" or now is None or alone is None or now == alone:
                continue
            total = self.entries[unit].total
            if now < alone:
                above = sorted((u for u in self.counted if self.entries[u].total > total
                                and (self.grade.get(u) is None or self.grade[u] > plain[u])),
                               key=lambda u: (self.ranks[u], u))
                self.reasons[unit].append(f"moves up from {grades[alone]} (its rank alone) to {grades[now]}: units "
                                          f"ranked above do not hold their rank's seat ({', '.join(above)})")
            elif not actual.reasons.get(unit) and not any(r.startswith("fault ") for r in self.reasons[unit]):
                apart = sorted((u for u in self.counted if self.basis[u] != "quota"), key=lambda u: (self.ranks[u], u))
                self.reasons[unit].append(f"its rank alone gives {grades[alone]}; the seats shift because units are "
                                          "graded apart from the ranking: "
                                          f"{', '.join(f'{u} ({self.basis[u]})' for u in apart) or 'none'}")

    def falsification(self) -> None:
        rules, last = self.rules, len(self.rules.grades) - 1
        for unit, ds in self.by_unit.items():
            if "falsification" not in ds:
                continue
            d, index = ds["falsification"][-1], self.grade.get(unit)
            if self.basis[unit] in ("leading_group", "assign"):
                self.reasons[unit].append(f"falsification finding {d.id} not applied: the {self.basis[unit]} "
                                          "decision is final")
            elif index is None:
                self.reasons[unit].append(f"falsification finding {d.id}: lowers the grade once it is settled")
            else:
                lower = min(last, index + rules.falsification_steps)
                self.grade[unit] = lower
                if lower == index:
                    why = ("the scheme lowers no grade for it" if rules.falsification_steps == 0
                           else f"{rules.grades[index]} is already the lowest grade")
                    self.reasons[unit].append(f"falsification found (decision {d.id}): {why}")
                    continue
                self.reasons[unit].append(f"falsification found (decision {d.id}): lowered from "
                                          f"{rules.grades[index]} to {rules.grades[lower]}")
                self.over[unit] = "lowered by a falsification finding"

    def result(self) -> GroupGrades:
        rules, counted = self.rules, len(self.counted)
        given = Counter(self.grade[u] for u in self.counted if self.grade.get(u) is not None)
        quotas = []
        for i, g in enumerate(rules.grades):
            seats, received = rules.seats(g, counted), self.received[i]
            quotas.append(QuotaUse(g, rules.shares.get(g), seats, received, given[i]))
            if seats is not None and given[i] > seats + received:
                why = sorted({self.over.get(u) or f"{self.basis[u]} decision" for u in self.counted
                              if self.grade.get(u) == i and (u in self.over or self.basis[u] in _DECIDED)})
                self.notes.append(f"{g}: {given[i]} units for {seats + received} seat(s), quota exceeded: "
                                  f"{'; '.join(why)}")
        units = tuple(sorted((UnitGrade(u, self.ranks[u], e.total,
                                        None if self.grade.get(u) is None else rules.grades[self.grade[u]],
                                        self.grade.get(u) is None, self.basis[u], self.reasons[u])
                              for u, e in self.entries.items()), key=lambda g: (g.rank, g.unit)))
        return GroupGrades(units, tuple(quotas), counted, rules.rounding, any(u.pending for u in units),
                           self.notes)

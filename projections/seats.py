"""Quota seats (名额) of one group: fill each graded share from the ranking, settling ties at a boundary.

The forced bottom shares (BP 较差 5%) are filled first, from the bottom of the ranking; then the quota grades
top-down, each from the best-ranked units that may hold it (not capped above it, total at least its minimum); every
unit left takes the remainder grade, or the best worse grade its cap and total allow. A seat that no eligible unit
can take is left unused ("lapse") or added to the next quota grade ("pass_down"), as the scheme says.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

from ledger.grading_rules import GradingRules

from .facts import Decision


@dataclass(frozen=True)
class Candidate:
    """A unit competing for seats; `cap` is the index of the best grade its faults still allow."""

    unit: str
    total: Decimal
    components: Mapping[str, Decimal] = field(default_factory=dict)
    cap: int | None = None


@dataclass
class Seating:
    """The outcome of one allocation: grade index per unit, pending units, reasons, group notes, tags for audit."""

    grade: dict[str, int] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    over: dict[str, str] = field(default_factory=dict)  # unit -> why it holds a seat beyond the quota
    ties_used: set[str] = field(default_factory=set)  # tie decisions (by unit) that settled a tie
    received: Counter = field(default_factory=Counter)  # grade index -> unused seats passed down to it

    def say(self, unit: str, reason: str) -> None:
        self.reasons.setdefault(unit, []).append(reason)


def seat(rules: GradingRules, pool: list[Candidate], counted: int, taken: Counter,
         ties: Mapping[str, Decision], policy: str) -> Seating:
    """Allocate grades to `pool`; `taken` counts seats already held (by grade index) by decided units."""
    return _Allocation(rules, counted, taken, ties, policy).run(pool)


class _Allocation:
    def __init__(self, rules: GradingRules, counted: int, taken: Counter, ties: Mapping[str, Decision],
                 policy: str):
        self.rules, self.ties, self.policy, self.out = rules, ties, policy, Seating()
        self.grades = rules.grades
        self.left = {rules.index(g): max(0, rules.seats(g, counted) - taken[rules.index(g)]) for g in rules.shares}

    def allowed(self, c: Candidate, i: int) -> bool:
        return c.cap is None or i >= c.cap

    def meets(self, c: Candidate, i: int) -> bool:
        least = self.rules.threshold(self.grades[i])
        return least is None or c.total >= least

    def run(self, pool: list[Candidate]) -> Seating:
        out, active = self.out, sorted(pool, key=lambda c: (-c.total, c.unit))
        for g in reversed(self.rules.from_bottom):
            i = self.rules.index(g)
            chosen, waiting = self.fill(i, list(reversed(active)), self.left[i], top=False)
            for c in chosen:
                out.grade[c.unit] = i
            out.pending.update(c.unit for c in waiting)
            active = [c for c in active if c not in chosen and c not in waiting]
        rest, carry = self.rules.index(self.rules.rest), 0
        for i in range(rest):
            seats, carry = self.left[i] + carry, 0
            eligible = [c for c in active if self.allowed(c, i) and self.meets(c, i)]
            chosen, waiting = self.fill(i, eligible, seats, top=True)
            for c in chosen:
                out.grade[c.unit] = i
            active = [c for c in active if c not in chosen]
            if waiting:
                for c in active:
                    out.pending.add(c.unit)
                    if c not in waiting:
                        out.say(c.unit, f"grade pending: it depends on the unsettled tie at the {self.grades[i]} "
                                        "boundary")
                return out
            unused = seats - len(chosen)
            if unused > 0:
                self.lapse(i, active, seats, unused)
                if self.rules.unused_seats == "pass_down" and i + 1 < rest:
                    carry = unused
                    out.received[i + 1] += unused
        for c in active:
            j = next(j for j in range(rest, len(self.grades)) if self.allowed(c, j) and self.meets(c, j))
            out.grade[c.unit] = j
            if j > rest and not self.meets(c, rest):
                out.say(c.unit, f"total {c.total} is below the minimum {self.rules.threshold(self.grades[rest])} "
                                f"for {self.grades[rest]}: {self.grades[j]}")
                out.over[c.unit] = "below the minimum total of the grade above"
            elif j > rest:
                out.over[c.unit] = "capped below the remainder grade by a fault"
        return out

    def lapse(self, i: int, active: list[Candidate], seats: int, unused: int) -> None:
        """Report seats of grade i that no eligible unit could take."""
        g, least = self.grades[i], self.rules.threshold(self.grades[i])
        blocked = [c for c in active if self.allowed(c, i) and not self.meets(c, i)][:unused]
        for c in blocked:
            self.out.say(c.unit, f"threshold not met: {g} needs a total of at least {least}, has {c.total}")
        where = ("passed down to the next grade" if self.rules.unused_seats == "pass_down"
                 and i + 1 < self.rules.index(self.rules.rest) else "left unused")
        reach = f"only {seats - unused} eligible unit(s) reach" if seats > unused else "no eligible unit reaches"
        why = f"{reach} {least}" if blocked else "no further eligible unit"
        self.out.notes.append(f"{g}: {unused} of {seats} seat(s) {where}: {why}")

    def fill(self, i: int, cands: list[Candidate], seats: int, top: bool) -> tuple[list, list]:
        """Take `seats` of `cands` (best claim first); returns (chosen, pending because of an unsettled tie)."""
        if seats <= 0 or not cands:
            return [], []
        if len(cands) <= seats or cands[seats].total != cands[seats - 1].total:
            return cands[:seats], []
        edge = cands[seats - 1].total
        sure = [c for c in cands[:seats] if c.total != edge]
        tied = [c for c in cands if c.total == edge]
        chosen, waiting = self.tie(i, tied, seats - len(sure), top)
        return sure + chosen, waiting

    def tie(self, i: int, tied: list[Candidate], seats: int, top: bool) -> tuple[list, list]:
        """Settle units with equal totals across a boundary: tie-breakers, then tie decisions, then the policy."""
        g, out = self.grades[i], self.out
        where = (f"tie at total {tied[0].total} across the {g} boundary ({', '.join(sorted(c.unit for c in tied))}: "
                 f"{len(tied)} units for {seats} seat(s))")
        usable = [k for k in self.rules.tie_breakers if all(k in c.components for c in tied)]
        for k in self.rules.tie_breakers:
            if k not in usable:
                out.notes.append(f"{where}: tie-breaker {k} is missing for "
                                 f"{', '.join(c.unit for c in tied if k not in c.components)} and is not used")

        def claim(c: Candidate) -> tuple:  # higher claim takes the seat: at the bottom the lower component does
            return tuple(c.components[k] if top else -c.components[k] for k in usable)

        line = sorted(claim(c) for c in tied)[::-1][seats - 1]
        inside = [c for c in tied if claim(c) > line]
        residual = [c for c in tied if claim(c) == line]
        outside = [c for c in tied if claim(c) < line]
        takes, passes = (f"takes {g}", f"does not take {g}")
        for c in inside + outside:
            values = ", ".join(f"{k} {c.components[k]}" for k in usable)
            out.say(c.unit, f"{where}; broken by {', '.join(usable)} ({values}): "
                            f"{takes if c in inside else passes}")
        left = seats - len(inside)
        if len(residual) <= left:
            return inside + residual, []
        decided = {c.unit: self.ties[c.unit] for c in residual if c.unit in self.ties}
        yes = [c for c in residual if c.unit in decided and decided[c.unit].value == g]
        undecided = [c for c in residual if c.unit not in decided]
        for c in residual:
            if c.unit in decided:
                self.out.ties_used.add(c.unit)
                out.say(c.unit, f"{where}; tie decision {decided[c.unit].id}: {takes if c in yes else passes}")
        left -= len(yes)
        if left < 0:
            out.notes.append(f"{where}: the tie decisions give {g} to {len(yes)} units, {-left} more than its seats")
            for c in yes:
                out.over[c.unit] = "tie decision"
        if left <= 0 or len(undecided) <= left:
            settled = [] if left <= 0 else undecided
            for c in undecided:
                out.say(c.unit, f"{where}; settled by the tie decisions for the others: "
                                f"{takes if c in settled else passes}")
            return inside + yes + settled, []
        if self.policy == "withhold":
            for c in undecided:
                out.say(c.unit, f"{where}; grade withheld until a signed tie decision settles it")
            out.notes.append(f"{where}: pending until signed tie decisions settle it (tie policy withhold)")
            return inside + yes, undecided
        if top:
            extra = len(undecided) - left
            for c in undecided:
                out.say(c.unit, f"{where}; all tied units get the better grade {g}: quota exceeded by {extra}")
                out.over[c.unit] = "tie at the boundary (all tied units get the better grade)"
            out.notes.append(f"{where}: all get {g}; the {g} quota is exceeded by {extra} (tie policy better)")
            return inside + yes + undecided, []
        for c in undecided:
            out.say(c.unit, f"{where}; all tied units get the better grade: none takes {g}")
        out.notes.append(f"{where}: none takes {g}; the {g} share is short by {left} (tie policy better)")
        return inside + yes, []

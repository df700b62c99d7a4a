"""A year's published result: scores, ranks and grades per group, and the hash of its canonical result table."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ledger.canonical import canonical, sha256_hex
from ledger.scheme import Scheme

from .facts import Facts
from .grading import GradeInput, GroupGrades, grade_group
from .replay import LogState
from .scoring import UnitScore, YearScores, averages_an_item, score_unit, score_year
from .yearfacts import facts_for_year

OUTSIDE_RANK = "outside_rank"  # a decision kind: the unit's place in an outside ranking (BP: 朝阳's assessment)


@dataclass
class YearResults:
    """Scores and grades of one year as of a log position."""

    year: int
    position: int
    facts: Facts
    scores: YearScores
    grades: dict[str, GroupGrades] = field(default_factory=dict)
    close_position: int | None = None
    closed: bool = False
    outside_ranks: dict[str, int] = field(default_factory=dict)
    warning: str | None = None  # set by a view whose result differs from what the year's close signed

    def rows(self, group: str | None = None) -> list[dict]:
        """One row per unit, by group (in scheme order) then rank then name: the published table."""
        out = []
        for grp in dict.fromkeys(u.group for u in self.scores.units):
            if group is not None and grp != group:
                continue
            rows = []
            for unit in self.scores.group(grp):
                g = _grade_of(self.grades.get(grp), unit.unit)
                rank = unit.rank if g is None else g.rank
                if unit.total is None:  # graded from an outside ranking: show that rank
                    rank = self.outside_ranks.get(unit.unit)
                rows.append({"group": grp, "unit": unit.unit, "rank": rank,
                             "total": None if unit.total is None else str(unit.total),
                             "grade": None if g is None else g.grade, "pending": bool(g and g.pending),
                             "reasons": [] if g is None else list(g.reasons)})
            out.extend(sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["unit"])))
        return out

    def table(self) -> list[dict]:
        """The canonical result table: every unit's group, total, rank and grade (what a close signs)."""
        return [{"group": r["group"], "unit": r["unit"], "total": r["total"], "rank": r["rank"], "grade": r["grade"]}
                for r in self.rows()]

    def result_hash(self) -> str:
        """SHA-256 of the RFC 8785 bytes of {year, table}."""
        return sha256_hex(canonical({"year": self.year, "table": self.table()}))

    def group_hash(self, group: str) -> str:
        """SHA-256 of the RFC 8785 bytes of {year, group, table}: the group's rows of the result table (a close
        signs each group's, so that a view of one group can be compared with what was closed)."""
        rows = [r for r in self.table() if r["group"] == group]
        return sha256_hex(canonical({"year": self.year, "group": group, "table": rows}))

    def group_hashes(self) -> dict[str, str]:
        """Every group's `group_hash`, by group."""
        return {g: self.group_hash(g) for g in dict.fromkeys(u.group for u in self.scores.units)}

    def unlike_close(self, signed: str, signed_groups: dict[str, str] | None = None,
                     groups: Iterable[str] | None = None) -> str | None:
        """Why this result, read from the read models, is not the one the year's close signed (the whole year's
        hash; with `groups`, those groups' hashes, where the close signed them); or None."""
        if groups is None:
            digest = self.result_hash()
            if digest == signed:
                return None
            what = f"these {self.year} results hash to {digest[:16]}…, but the year's close signed {signed[:16]}…"
        else:
            signed_groups = signed_groups or {}  # a close signed before group hashes were: nothing to compare
            mine = {g: self.group_hash(g) for g in dict.fromkeys(groups) if g in signed_groups}
            differ = [g for g, digest in mine.items() if digest != signed_groups[g]]
            if not differ:
                return None
            what = (f"the {self.year} results of {', '.join(differ)} hash to {mine[differ[0]][:16]}…, "
                    f"but the year's close signed {signed_groups[differ[0]][:16]}…"
                    + (f" (and {len(differ) - 1} more group(s) differ)" if len(differ) > 1 else ""))
        return (f"warning: {what}: the read models differ from the log (`ledger verify` names where; "
                "`ledger rebuild` restores them from the log)")

    def unit(self, name: str) -> UnitScore:
        return self.scores.unit(name)


def only_groups(scheme: Scheme, groups: Iterable[str]) -> Scheme:
    """The scheme restricted to some of its groups (Refused for a group it does not have)."""
    chosen = tuple(scheme.group(name) for name in dict.fromkeys(groups))
    unit_groups = {unit: group for group in chosen for unit in group.units}
    return replace(scheme, groups=chosen, units=tuple(unit_groups), unit_groups=unit_groups)


def _grade_of(graded: GroupGrades | None, unit: str):
    if graded is None:
        return None
    try:
        return graded.unit(unit)
    except KeyError:
        return None


def year_results(state: LogState, year: int, groups: Iterable[str] | None = None) -> YearResults:
    """Score and grade `year` from the folded log; a closing or closed year as it stood at its close. With `groups`,
    only those groups (each group is ranked and graded on its own, so their results are the same as in the whole)."""
    year_state = state.year(year)
    scheme = year_state.scheme if groups is None else only_groups(year_state.scheme, groups)
    facts = facts_for_year(state, year)
    scores = score_year(scheme, facts, _origins(state, year))
    outside = {d.unit: int(d.value) for d in facts.decisions
               if d.kind == OUTSIDE_RANK and not d.revoked and d.value.isascii() and d.value.isdigit()}
    grades = {}
    for group in scheme.groups:
        if group.grading is None:
            continue
        members = [u for u in scores.units if u.group == group.name]
        entries = [GradeInput(u.unit, u.total if u.total is not None else Decimal(0), u.component_values)
                   for u in members]
        decisions = [d for d in facts.decisions if d.unit in group.units and d.kind != OUTSIDE_RANK]
        grades[group.name] = grade_group(group.grading, entries, decisions,
                                         {u: r for u, r in outside.items() if u in group.units})
    close = state.close_positions.get(year)
    return YearResults(year, facts.position, facts, scores, grades, close, year_state.closed, outside)


def unit_score(state: LogState, year: int, unit: str) -> UnitScore:
    """One unit's score in `year` from the folded log, as `year_results` gives it but unranked, the rest of its
    group unscored."""
    scheme = state.year(year).scheme
    group = scheme.group_of(unit)
    # a unit's score reads its own facts only, unless an item of its group gives non-participants the average
    facts = facts_for_year(state, year, set(group.units) if averages_an_item(group) else {unit})
    # the scheme's other groups (a province's) are left alone
    return score_unit(only_groups(scheme, [group.name]), facts, unit, _origins(state, year))


def _origins(state: LogState, year: int) -> dict:
    """The schemes of the years before `year`: an adjustment carried over from one is computed by its rules."""
    return {y: s.scheme for y, s in state.years.items() if s.adopted and y < year}


def year_consequences(state: LogState, year: int, results_of: Callable[[int], "YearResults"] | None = None
                      ) -> list:
    """What the scheme's consequence rules attach to `year`'s results, read with every earlier adopted year's (each
    year's results from `state`, or from `results_of(year)`: a view of the read models, None for no result)."""
    from .consequences import consequences

    rules = state.year(year).scheme.consequences
    if rules is None:
        return []
    history = {}
    for y, ystate in sorted(state.years.items()):
        if y > year or not ystate.adopted:
            continue
        outcomes = {}
        results = results_of(y) if results_of else year_results(state, y)
        for grades in ({} if results is None else results.grades).values():
            outcomes.update(grades.outcomes())
        history[y] = outcomes
    return consequences(rules, history, year)

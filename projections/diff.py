"""`diff`: per unit, what changed in total, rank and grade between two views of the log, and the acts in between
that touched it; of the whole log, or of some groups of a year from the read models' rows of their units."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ledger.errors import Refused

from .history import CONTEXT_TYPES, check_view
from .readstate import groups_scope_acts
from .replay import LoggedAct, LogState, apply, logged_acts
from .results import year_results
from .yearfacts import counted_in, effective_position


@dataclass(frozen=True)
class DiffRow:
    """A unit whose total, rank or grade differs between two views, and the acts in between that touched it."""

    year: int
    group: str
    unit: str
    old_total: str | None
    old_rank: int | None
    old_grade: str | None
    new_total: str | None
    new_rank: int | None
    new_grade: str | None
    acts: tuple[tuple[int, str], ...]  # (position, act type)

    def to_dict(self) -> dict:
        """Plain JSON-able form; acts as [{position, type}]."""
        out = asdict(self)
        out["acts"] = [{"position": p, "type": t} for p, t in self.acts]
        return out


def diff(store, a: int, b: int, year: int | None = None, groups: list[str] | None = None) -> list[DiffRow]:
    """Units whose total, rank or grade differs between the log at position `a` (old) and at `b` (new), with the
    acts between them that touched each; every adopted year, or only `year`. With `groups` of `year`'s scheme, only
    their units, folded from the read models' rows of those units (one county of a province)."""
    lo, hi = sorted((a, b))
    state, old, touched = LogState(), None, {}
    if groups is None:
        acts, size = logged_acts(store, hi), None
    else:
        acts, refs, size = groups_scope_acts(store, year, groups, hi)
        state.streams.update(refs)
    for item in acts:
        if old is None and item.position > lo:
            old = _views(state, year, groups)
        apply(state, item)
        if item.position > lo:
            for key in _units_touched(state, item):
                touched.setdefault(key, []).append((item.position, item.envelope["type"]))
    check_view(state.position if size is None else size, hi)
    if year is not None and not (year in state.years and state.years[year].adopted):
        raise Refused(f"no scheme has been adopted for {year} as of position {hi}")
    old = _views(state, year, groups) if old is None else old
    new = _views(state, year, groups)
    if a > b:
        old, new = new, old
    rows = []
    for key in list(new) + [k for k in old if k not in new]:
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        group = (now or was)["group"]
        rows.append(DiffRow(key[0], group, key[1], *_triple(was), *_triple(now), tuple(touched.get(key, ()))))
    return rows


def _views(state: LogState, year: int | None, groups: list[str] | None) -> dict[tuple[int, str], dict]:
    out = {}
    for y in sorted(state.years):
        if (year is None or y == year) and state.years[y].adopted:
            # the groups the scheme had then (a scheme replaced since may have named them otherwise)
            present = None if groups is None else [g.name for g in state.years[y].scheme.groups if g.name in groups]
            if present == []:
                continue
            for row in year_results(state, y, present).rows():
                out[(y, row["unit"])] = {k: row[k] for k in ("group", "total", "rank", "grade")}
    return out


def _triple(view: dict | None) -> tuple:
    return (None, None, None) if view is None else (view["total"], view["rank"], view["grade"])


def _units_touched(state: LogState, item: LoggedAct) -> set[tuple[int, str]]:
    """(year, unit) pairs an act is about; a scheme adoption or close is about every unit of its year."""
    act, kind = item.envelope["act"], item.envelope["type"]
    if kind in ("score.recorded", "evaluation.recorded"):
        return {(act["year"], act["unit"])}
    if kind.startswith("adjustment."):
        adj = state.adjustments.get(state.streams.get(item.stream, ""))
        if adj is None:
            return set()
        return {(adj.year, adj.unit), (counted_in(state, adj.year, effective_position(state, adj)), adj.unit)}
    if kind.startswith("decision."):
        decision = state.decisions.get(state.streams.get(item.stream, ""))
        return set() if decision is None else {(decision.act["year"], decision.act["unit"])}
    if kind in CONTEXT_TYPES:
        return {(act["year"], u) for u in state.year(act["year"]).scheme.units}
    return set()

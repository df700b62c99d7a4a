"""A group (分组) of a scheme: its units, indicator tree, redistributions, components, total formula and grading."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal
from typing import Any, Callable, Mapping

from .errors import SchemeError
from .formula import Formula, parse_formula
from .numbers import show
from .scheme_indicators import Indicator, Redistribution, effective_tree, parse_indicators, parse_redistributions
from .scheme_reader import Table

BUILTIN_TERMS = ("indicators", "adjustments")

try:  # the grading tables are parsed by their own module (written alongside); without it the raw table is kept
    from .grading_rules import parse_grading
except ModuleNotFoundError as exc:  # pragma: no cover
    if exc.name != f"{__package__}.grading_rules":
        raise
    parse_grading = None


@dataclass(frozen=True)
class GroupBody:
    """Everything of a group but its name and units: what `parse_group` builds from the group's table."""

    indicators: tuple[Indicator, ...] = ()
    redistributions: tuple[Redistribution, ...] = ()
    components: tuple[str, ...] = ()
    terms: tuple[tuple[str, Formula], ...] = ()
    places: int = 2
    grading: Any = None
    title: str = ""
    trees: Mapping[str, Mapping[str, Indicator]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, repr=False, eq=False)
class Group:
    """One group. `terms` are the formula's named terms in order, the last being `total` (empty: not scored here,
    e.g. units graded from an outside ranking); `places` rounds the total half-up.

    Name and units are read at once; the rest (`GroupBody`) is built by `build`, at once when a scheme is validated
    and on first use when a scheme validated at its adoption is read back (a province scheme has 700 groups, and
    one county's view or act touches a few)."""

    name: str
    units: tuple[str, ...]
    build: Callable[[], GroupBody] = field(default=GroupBody, repr=False)

    @cached_property
    def body(self) -> GroupBody:
        return self.build()

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return self.body.indicators

    @property
    def redistributions(self) -> tuple[Redistribution, ...]:
        return self.body.redistributions

    @property
    def components(self) -> tuple[str, ...]:
        return self.body.components

    @property
    def terms(self) -> tuple[tuple[str, Formula], ...]:
        return self.body.terms

    @property
    def places(self) -> int:
        return self.body.places

    @property
    def grading(self) -> Any:
        return self.body.grading

    @property
    def title(self) -> str:
        return self.body.title

    @cached_property
    def items(self) -> dict[str, Indicator]:
        """Every item as declared (before redistribution), by id."""
        return {item.id: item for item in self.indicators}

    @cached_property
    def sections(self) -> tuple[str, ...]:
        """Top-level indicator ids, usable as formula terms."""
        return tuple(i.id for i in self.indicators if not i.parent)

    def __repr__(self) -> str:
        return f"Group({self.name!r}, {len(self.units)} units)"

    def tree_for(self, unit: str) -> Mapping[str, Indicator]:
        """The unit's effective items (after redistribution), by id, in file order."""
        return self.body.trees[unit]

    def leaves_for(self, unit: str) -> tuple[Indicator, ...]:
        return tuple(item for item in self.body.trees[unit].values() if item.leaf)


def parse_group(name: str, table: Table, components: Mapping[str, Any], lazy: bool = False) -> Group:
    """One `[groups.<name>]` table; grading is parsed by ledger.grading_rules. With `lazy`, only the units are read
    now and the rest when first used (for a scheme that was validated in full when it was adopted)."""
    units = table.names("units", required=True)
    if not units:
        raise SchemeError("a group needs at least one unit", table.at("units"))
    group = Group(name, units, lambda: _parse_body(table, units, components))
    if not lazy:
        group.body  # every check now
    return group


def _parse_body(table: Table, units: tuple[str, ...], components: Mapping[str, Any]) -> GroupBody:
    indicators = parse_indicators(table, units)
    items = {item.id: item for item in indicators}
    declared = table.decimal("weight", minimum=0)
    top = sum((i.weight for i in indicators if not i.parent), Decimal(0))
    if declared is not None and top != declared:
        raise SchemeError(f"the top-level indicators add up to {show(top)}, but the group weighs {show(declared)}",
                          table.at("weight"))
    moves = parse_redistributions(table, items, units)
    listed = table.names("components")
    for i, component in enumerate(listed):
        if component not in components:
            raise SchemeError(f"unknown component {component!r} (declare it under [components])",
                              f"{table.at('components')}[{i}]")
    terms = _parse_terms(table, tuple(items[i].id for i in items if not items[i].parent), components, listed)
    used = tuple(dict.fromkeys(n for _, f in terms for n in f.names_in_order if n in components))
    places = table.integer("places", default=2, minimum=0, maximum=10)
    grading_table = table.raw("grading")
    grading = None
    if grading_table is not None:
        if not isinstance(grading_table, dict):
            raise SchemeError("expected a table", table.at("grading"))
        grading = parse_grading(grading_table, table.at("grading")) if parse_grading else grading_table
    title = table.text("title")
    table.done()
    # units without a redistribution share one tree (read-only mappings): 13,500 copies in a province scheme
    moved = {unit for move in moves for unit in move.units}
    plain = effective_tree(items, (), "")
    trees = {unit: effective_tree(items, moves, unit) if unit in moved else plain for unit in units}
    return GroupBody(indicators, moves, listed or used, terms, places, grading, title, trees)


def _parse_terms(table: Table, sections: tuple[str, ...], components: Mapping[str, Any],
                 listed: tuple[str, ...]) -> tuple[tuple[str, Formula], ...]:
    raw = table.table("formula")
    if raw is None:
        return ()
    known: dict[str, str] = {name: "built-in term" for name in BUILTIN_TERMS}
    for section in sections:
        known[section] = "indicator section"
    for component in components:
        if component in known:
            raise SchemeError(f"component {component!r} has the name of an {known[component]} of this group",
                              table.at("formula"))
        known[component] = "component"
    terms: list[tuple[str, Formula]] = []
    for term, text, path in raw.entries():
        if term in known:
            raise SchemeError(f"{term!r} is already the name of a {known[term]}", path)
        if not term.isidentifier():
            raise SchemeError(f"term name {term!r} must be a single word (letters, digits, _)", path)
        formula = parse_formula(text, path)
        for name in formula.names_in_order:
            if name not in known:
                raise SchemeError(f"unknown component or term {name!r} (known here: {', '.join(known)})", path)
            if known[name] == "component" and listed and name not in listed:
                raise SchemeError(f"component {name!r} is not one of the group's components", path)
        known[term] = "term"
        terms.append((term, formula))
    if not terms or terms[-1][0] != "total":
        raise SchemeError("the formula's last term must be `total`", raw.path)
    return tuple(terms)

"""A year's assessment scheme (考核方案), loaded from its TOML text and validated as a whole.

The scheme is data: groups and units, indicator trees, evaluation components, the total formula, adjustment rules,
caps, roles and grading. `load_scheme` refuses anything doubtful with a SchemeError naming file, key path and
problem; the `check_*` methods refuse facts that do not fit the scheme (Refused) before they are signed and stored.
docs/scheme.md is the reference for the file format.
"""
from __future__ import annotations

import tomllib
from collections import abc
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal
from typing import Any, Mapping

from .appeals import AppealTerms
from .errors import Refused, SchemeError
from .numbers import show
from .scheme_components import Component, parse_component
from .scheme_groups import Group, parse_group
from .scheme_indicators import Indicator
from .scheme_reader import Table
from .scheme_rules import Caps, Rule, parse_caps, parse_rule

BUILTIN_ROLES = {"office": "考核办 (the assessment office)", "department": "an assessing department's officer",
                 "auditor": "auditor", "inspector": "纪委 (discipline inspection)"}

try:  # parsed by its own module (written alongside); without it the raw table is kept
    from .grading_rules import parse_consequences
except ModuleNotFoundError as exc:  # pragma: no cover
    if exc.name != f"{__package__}.grading_rules":
        raise
    parse_consequences = None


@dataclass(frozen=True, repr=False)
class Scheme:
    """One year's validated scheme; `text` is the TOML it was loaded from, byte for byte."""

    year: int
    name: str
    text: str
    roles: Mapping[str, str]
    units: tuple[str, ...]
    groups: tuple[Group, ...]
    closing_roles: tuple[str, ...]
    decision_roles: Mapping[str, tuple[str, ...]]
    components: Mapping[str, Component] = field(default_factory=dict)
    rules: Mapping[str, Rule] = field(default_factory=dict)
    caps: Caps = field(default_factory=Caps)
    consequences: Any = None
    unit_groups: Mapping[str, Group] = field(default_factory=dict, repr=False)
    appeals: AppealTerms = field(default_factory=AppealTerms)

    def __repr__(self) -> str:
        return f"Scheme({self.year}, {self.name!r}, {len(self.groups)} groups, {len(self.units)} units)"

    def group_of(self, unit: str) -> Group:
        """The unit's group; Refused for a unit the scheme does not name."""
        group = self.unit_groups.get(unit)
        if group is None:
            raise Refused(f"unknown unit {unit!r}: the {self.year} scheme has no such unit")
        return group

    def group(self, name: str) -> Group:
        group = next((g for g in self.groups if g.name == name), None)
        if group is None:
            raise Refused(f"unknown group {name!r} in {self.year}")
        return group

    def all_roles(self) -> set[str]:
        """Built-in roles and those the scheme declares."""
        return set(BUILTIN_ROLES) | set(self.roles)

    def decision_roles_for(self, unit: str, kind: str) -> tuple[str, ...]:
        """Roles that may sign a grading decision of `kind` about `unit` (from the unit's group's grading)."""
        grading = self.group_of(unit).grading
        roles = getattr(grading, "decision_roles", None)
        if not roles or kind not in roles:
            raise Refused(f"decisions of kind {kind!r} are not provided for {unit}'s group")
        return tuple(roles[kind])

    def check_score(self, unit: str, indicator: str, value: Decimal | None) -> Indicator:
        """The unit's effective leaf item for a score; Refused if the item is unknown, not a leaf, not the unit's
        task, or the value is outside the item's floor…weight (value None: the unit does not take part)."""
        group = self.group_of(unit)
        if indicator not in group.items:
            raise Refused(f"unknown indicator {indicator!r} for group {group.name} "
                          f"(its items: {', '.join(i.id for i in group.indicators if i.leaf) or 'none'})")
        tree = group.tree_for(unit)
        if indicator not in tree:
            move = next(m for m in group.redistributions if unit in m.units and
                        (indicator == m.source or indicator.startswith(m.source + "/")))
            raise Refused(f"{unit} has no {move.source} task: its weight goes to {move.target}")
        item = tree[indicator]
        if not item.leaf:
            raise Refused(f"{indicator!r} is not a leaf item: score its parts "
                          f"({', '.join(i.id for i in tree.values() if i.parent == indicator)})")
        if value is None:
            if item.non_participants != "average":
                raise Refused(f"every unit takes part in {indicator!r}; record its score")
            return item
        if item.scoring == "target":
            if item.target_of(unit) is None:
                raise Refused(f"{indicator!r} has no target for {unit}")
            return item
        if not item.floor <= value <= item.weight:
            raise Refused(f"{show(value)} is outside {indicator!r}'s range {show(item.floor)}…{show(item.weight)}"
                          f" for {unit}")
        return item

    def component(self, name: str) -> Component:
        component = self.components.get(name)
        if component is None:
            raise Refused(f"unknown evaluation component {name!r} (the scheme has {', '.join(self.components)})")
        return component

    def check_evaluation(self, unit: str, component: str, round: str, value: Decimal | None, level: str | None,
                         votes: Mapping[str, int] | None) -> None:
        """Refuse an evaluation record that does not fit the component or the unit's group."""
        group = self.group_of(unit)
        spec = self.component(component)
        if component not in group.components:
            raise Refused(f"group {group.name} is not evaluated by {component}")
        spec.check(round, value, level, votes)

    def rule(self, rule_id: str) -> Rule:
        """The adjustment rule with this id; Refused if the scheme has none."""
        rule = self.rules.get(rule_id)
        if rule is None:
            raise Refused(f"unknown rule {rule_id!r} in the {self.year} scheme")
        return rule

    def check_adjustment(self, unit: str, rule_id: str, inputs: Mapping[str, str]) -> Rule:
        """The rule, once the unit may use it and the inputs are complete and well-formed; Refused otherwise."""
        group = self.group_of(unit)
        rule = self.rule(rule_id)
        problem = self.rule_problem(rule, unit)
        if problem:
            raise Refused(problem)
        parsed = rule.check_inputs(inputs)
        only = rule.params.get("area_groups", {}).get(parsed.get("area", ""))
        if only and group.name not in only:
            raise Refused(f"area {parsed['area']} of rule {rule.id} applies to {', '.join(only)}, not {group.name}")
        return rule

    def rule_problem(self, rule: Rule, unit: str) -> str:
        """Why `rule` cannot apply to `unit` at all, or "" when it can."""
        group = self.group_of(unit)
        if not group.terms:
            return f"group {group.name} is not scored in this ledger (it has no total formula)"
        if not rule.applies_to_group(group.name):
            return f"rule {rule.id} applies to {', '.join(rule.groups)}, not to {unit} ({group.name})"
        if rule.only_without_task and rule.only_without_task in group.tree_for(unit):
            return f"rule {rule.id} is for units without a {rule.only_without_task} task; {unit} has one"
        if rule.indicator and rule.indicator not in group.tree_for(unit):
            return f"rule {rule.id} scores {rule.indicator}, which {unit} has no task for"
        return ""


def load_scheme(text: str, file: str = "") -> Scheme:
    """Parse and validate a scheme's TOML text; SchemeError names the file, the key path and the problem."""
    return validated_scheme(text, parse_toml(text, file), file)


def validated_scheme(text: str, data: dict, file: str = "") -> Scheme:
    """The scheme of `text` from its parsed TOML `data`, with every check (what adoption requires)."""
    try:
        return _load(text, data, lazy=False)
    except SchemeError as exc:
        raise exc.in_file(file) from None


def adopted_scheme(text: str, data: dict, file: str = "") -> Scheme:
    """The scheme of a text that passed `validated_scheme` when its adoption was checked (read back from the log):
    the same objects, but each group is built on first use, and the checks across groups are not repeated."""
    try:
        return _load(text, data, lazy=True)
    except SchemeError as exc:
        raise exc.in_file(file) from None


def parse_toml(text: str, file: str = "") -> dict:
    """The TOML of a scheme as plain data; SchemeError if it is not TOML."""
    if not isinstance(text, str):
        raise SchemeError("a scheme is TOML text", file=file)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = f"not valid TOML: {exc}"
    except ValueError:  # tomllib converts integers itself: Python refuses one of more than 4300 digits
        problem = "not valid TOML: an integer with thousands of digits"
    except RecursionError:  # tomllib nests arrays and inline tables by recursion
        problem = "not valid TOML: arrays or tables nested too deeply"
    raise SchemeError(problem, file=file)


def _load(text: str, data: dict, lazy: bool) -> Scheme:
    top = Table(data, "")
    year = top.integer("year", required=True, minimum=1949, maximum=2200)
    name = top.name("name")
    top.text("note")
    roles = _roles(top)
    role_ids = set(BUILTIN_ROLES) | set(roles)
    closing = _role_list(top, "closing_roles", role_ids) or ("office",)
    default_approvers = _role_list(top, "default_approvers", role_ids) if top.has("default_approvers") else None
    components = {}
    raw = top.table("components")
    if raw is not None:
        components = {n: parse_component(n, Table(v, p)) for n, v, p in raw.entries()}
    groups, unit_groups, where = [], {}, {}
    raw = top.table("groups", required=True)
    for group_name, value, path in raw.entries():
        group = parse_group(group_name, Table(value, path), components, lazy)
        for i, unit in enumerate(group.units):
            if unit in unit_groups:
                raise SchemeError(f"unit {unit!r} is already in group {unit_groups[unit].name!r} "
                                  f"({where[unit]}.units)", f"{path}.units[{i}]")
            unit_groups[unit], where[unit] = group, path
        if not lazy:
            _check_grading(group, path, role_ids)
        groups.append(group)
    if not groups:
        raise SchemeError("a scheme needs at least one group", "groups")
    by_name = {g.name: g for g in groups}
    unit_groups = {u: by_name[g.name] for u, g in unit_groups.items()}
    caps = parse_caps(top.table("caps"))
    rules = _rules(top, role_ids, default_approvers, by_name, caps, lazy)
    appeals = _appeals(top.table("appeals"), role_ids)
    consequences = None
    raw_consequences = top.raw("consequences")
    if raw_consequences is not None:
        if not isinstance(raw_consequences, dict):
            raise SchemeError("expected a table", "consequences")
        # the grade names it uses were checked at adoption; reading them here would build every group
        grades = None if lazy else {g for group in groups for g in getattr(group.grading, "grades", ())}
        consequences = parse_consequences(raw_consequences, "consequences", grades) if parse_consequences \
            else raw_consequences
    top.done()
    decision_roles = _LazyDecisionRoles(groups) if lazy else _decision_roles(groups)
    return Scheme(year, name, text, roles, tuple(unit_groups), tuple(groups), closing, decision_roles,
                  components, rules, caps, consequences, unit_groups, appeals)


def _appeals(table: Table | None, role_ids: set[str]) -> AppealTerms:
    """The `[appeals]` table; its defaults (10 days, 10 days, the office) when absent."""
    if table is None:
        return AppealTerms()
    terms = AppealTerms(table.integer("days", default=10, minimum=1, maximum=366),
                        table.integer("answer_days", default=10, minimum=1, maximum=366),
                        _role_list(table, "answered_by", role_ids) or ("office",))
    table.done()
    return terms


def _roles(top: Table) -> dict[str, str]:
    raw = top.table("roles")
    roles: dict[str, str] = {}
    if raw is None:
        return roles
    for role, description, path in raw.entries():
        if role in BUILTIN_ROLES:
            raise SchemeError(f"{role!r} is a built-in role; do not declare it", path)
        if not isinstance(description, str) or not description.strip():
            raise SchemeError("describe the role in words (e.g. 分管领导 = \"市分管领导\")", path)
        roles[role] = description
    return roles


def _role_list(top: Table, key: str, known: set[str]) -> tuple[str, ...]:
    names = top.names(key)
    for i, role in enumerate(names):
        if role not in known:
            raise SchemeError(f"unknown role {role!r} (declare it under [roles])", f"{top.at(key)}[{i}]")
    if top.has(key) and not names:
        raise SchemeError("name at least one role", top.at(key))
    return names


def _check_grading(group: Group, path: str, roles: set[str]) -> None:
    grading = group.grading
    if grading is None or isinstance(grading, dict):
        return
    at = f"{path}.grading"
    for kind, names in grading.decision_roles.items():
        for role in names:
            if role not in roles:
                raise SchemeError(f"unknown role {role!r} (declare it under [roles])", f"{at}.roles.{kind}")
    for unit in getattr(grading.outside, "units", ()):
        if unit not in group.units:
            raise SchemeError(f"{unit!r} is not a unit of group {group.name!r}", f"{at}.outside.units")
    for name in grading.tie_breakers:
        if name not in group.components:
            raise SchemeError(f"tie-breaker {name!r} is not one of the group's components", f"{at}.tie_breakers")


class _LazyDecisionRoles(abc.Mapping):
    """`_decision_roles` computed on first use (it reads every group's grading)."""

    def __init__(self, groups: list[Group]):
        self._groups = groups

    @cached_property
    def _roles(self) -> dict[str, tuple[str, ...]]:
        return _decision_roles(self._groups)

    def __getitem__(self, kind: str) -> tuple[str, ...]:
        return self._roles[kind]

    def __iter__(self):
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)


def _decision_roles(groups: list[Group]) -> dict[str, tuple[str, ...]]:
    """Per decision kind, every role some group allows (the unit's own group is checked by decision_roles_for)."""
    merged: dict[str, dict[str, None]] = {}
    for group in groups:
        for kind, names in getattr(group.grading, "decision_roles", {}).items():
            merged.setdefault(kind, {}).update(dict.fromkeys(names))
    return {kind: tuple(names) for kind, names in merged.items()}


def _rules(top: Table, roles: set[str], default_approvers: tuple[str, ...] | None, groups: Mapping[str, Group],
           caps: Caps, lazy: bool) -> dict[str, Rule]:
    raw = top.table("rules")
    rules: dict[str, Rule] = {}
    if raw is None:
        return rules
    for rule_id, value, path in raw.entries():
        table = Table(value, path)
        rule = parse_rule(rule_id, table, roles, default_approvers, groups)
        applicable = [] if lazy else [groups[g] for g in (rule.groups or groups)]  # lazy: checked at adoption
        if rule.indicator:
            for group in applicable:
                item = group.items.get(rule.indicator)
                if item is None or not item.leaf:
                    raise SchemeError(f"{rule.indicator!r} is not a leaf item of group {group.name!r}",
                                      table.at("indicator"))
        if rule.only_without_task and not lazy and not any(rule.only_without_task in g.items for g in groups.values()):
            raise SchemeError(f"no group has an item {rule.only_without_task!r}", table.at("only_without_task"))
        for area, names in rule.params.get("area_groups", {}).items():
            for name in names:
                if name not in groups:
                    raise SchemeError(f"unknown group {name!r}", f"{table.at('area_groups')}.{area}")
        if rule.category and rule.category not in caps.categories:
            raise SchemeError(f"unknown category {rule.category!r} (declare its cap under [caps.categories])",
                              table.at("category"))
        rules[rule_id] = rule
    for category in caps.categories:
        if not any(r.category == category for r in rules.values()):
            raise SchemeError(f"no rule is in category {category!r}", f"caps.categories.{category}")
    return rules

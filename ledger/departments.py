"""The departments a scheme names (who assesses its items and rules, who organises its components), and the names
closest to one it does not: a `department` signatory's department decides what it may sign."""
from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import NamedTuple

from .scheme_rules import ANY_DEPARTMENT


class Departments(NamedTuple):
    """The departments a scheme names, the wildcards that mean any department ("*", 市相关部门) left out."""

    assessing: frozenset[str]  # assess an item or a rule; none when every one is open to any department
    named: frozenset[str]  # those and the components' organisers


def departments_of(scheme) -> Departments:
    """The departments `scheme` names (every group is built: a third of a second for a province's 700)."""
    names = {name for group in scheme.groups for item in group.indicators for name in item.departments}
    names.update(name for rule in scheme.rules.values() for name in rule.departments)
    assessing = frozenset(names.difference(ANY_DEPARTMENT))
    organising = {component.department for component in scheme.components.values() if component.department}
    return Departments(assessing, assessing | organising.difference(ANY_DEPARTMENT))


def closest(name: str, names: Collection[str]) -> str:
    """The names of `names` most like `name`, for a message: "closest: A, B", or how many there are when none is."""
    near = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.5)
    return f"closest: {', '.join(near)}" if near else f"none is close among the {len(names)} named"

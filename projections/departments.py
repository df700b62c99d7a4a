"""Which departments the adopted schemes name: a `department` signatory's department that none of them names (nor
is the office's own) is most likely a typo, and a registered key's department cannot be changed (only revoked and
registered anew). Only the `department` role signs by its department; other roles' departments are descriptive."""
from __future__ import annotations

from collections.abc import Iterable

from ledger.departments import closest, departments_of

from .readstate import registry_and_years


def unnamed_department_problem(store, department: str, roles: Iterable[str]) -> str | None:
    """Why registering a `department` signatory of `department` is refused once an adopted scheme names
    departments (no adopted scheme names it, and it is not the office's), or None."""
    if "department" not in roles or not department:
        return None
    known = _known(registry_and_years(store))
    if known is None or department in known:
        return None  # before a scheme names an assessing department, there is nothing to check it against
    return (f"department {department} is named by no adopted scheme ({closest(department, known)}): check the "
            "spelling, or pass --unlisted for a department the schemes do not name (one that records only what "
            "any department may, or one of a scheme still to be adopted)")


def holders_of_unnamed_departments(store) -> list[str]:
    """A line for each `department` signatory, not revoked, whose department no adopted scheme names and which is
    not the office's (what adopting a scheme warns of: a department misspelt when it was registered)."""
    state = registry_and_years(store)
    known = _known(state)
    if known is None:
        return []
    return [f"{sig.person} ({sig.key_id}) signs for {sig.department}, which no adopted scheme names "
            f"({closest(sig.department, known)})"
            for sig in state.registry.people_with_role("department") if sig.department not in known]


def template_department_problem(store, year: int, department: str) -> str | None:
    """Why a template for `department` is refused (the year's scheme names departments, not this one, and neither
    the office nor a `department` signatory signs for it: a typo would get only the items open to any), or None."""
    state = registry_and_years(store)
    ystate = state.years.get(year)
    departments = departments_of(ystate.scheme) if ystate is not None and ystate.adopted else None
    if departments is None or not departments.assessing:
        return None  # every item and rule is open to any department: there is nothing to check it against
    known = departments.named | _office_departments(state) | {
        sig.department for sig in state.registry.people_with_role("department")}
    if department in known:
        return None
    return f"unknown department {department}: the {year} scheme does not name it ({closest(department, known)})"


def _known(state) -> set[str] | None:
    """The departments the adopted schemes name and the office's own; None while no adopted scheme names one that
    assesses an item or a rule (until then every one is open to any department)."""
    named = [departments_of(y.scheme) for y in state.years.values() if y.adopted]
    if not any(departments.assessing for departments in named):
        return None
    return set().union(*(departments.named for departments in named)) | _office_departments(state)


def _office_departments(state) -> set[str]:
    return {sig.department for sig in state.registry.signatories.values() if "office" in sig.roles}

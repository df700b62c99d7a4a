"""Adjustment rules (加减分项) of a scheme: who assesses and approves each, where it applies, its caps and deadline.

The arithmetic of each rule kind is in rule_kinds.py; this module holds what every rule shares and the caps over
categories and over a unit's whole adjustment.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping

from .clock import parse_time
from .errors import LedgerError, Refused, SchemeError
from .numbers import round_half_up, show
from .rule_kinds import KINDS, Kind
from .scheme_reader import Table

GENERIC_INPUTS = ("matter", "date")  # any rule takes them; same_matter / deadline_days make them required
ANY_DEPARTMENT = ("*", "市相关部门")
BEIJING = timezone(timedelta(hours=8))  # a deadline is a day in local (Beijing) time
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Cap:
    """Limits on a sum of points: bonuses at most `bonus`, deductions at most `deduction` (a size, so −deduction
    is the floor), and the net sum within ±`net`. Any may be None (no limit)."""

    bonus: Decimal | None = None
    deduction: Decimal | None = None
    net: Decimal | None = None

    def describe(self) -> str:
        parts = [f"bonuses ≤ {show(self.bonus)}" if self.bonus is not None else "",
                 f"deductions ≤ {show(self.deduction)}" if self.deduction is not None else "",
                 f"net within ±{show(self.net)}" if self.net is not None else ""]
        return ", ".join(p for p in parts if p)


def parse_cap(table: Table | None) -> Cap | None:
    """A cap table {bonus, deduction, net}: each a size of 0 or more."""
    if table is None:
        return None
    values = {}
    for key in ("bonus", "deduction", "net"):
        value = table.decimal(key)
        if value is not None and value < 0:
            raise SchemeError(f"a cap is a size and cannot be negative ({value}); write deduction = "
                              f"\"{-value}\" to allow at most {value}", table.at(key))
        values[key] = value
    table.done()
    if all(v is None for v in values.values()):
        raise SchemeError("a cap needs bonus, deduction or net", table.path)
    return Cap(**values)


@dataclass(frozen=True)
class Rule:
    """One adjustment rule. `department` is who assesses it as written ("" = the office, "*" = any department);
    `approvers` are the roles that must all sign before it counts."""

    id: str
    kind: str
    title: str
    department: str
    departments: tuple[str, ...]
    approvers: tuple[str, ...]
    groups: tuple[str, ...]  # () = every group
    category: str = ""
    cap: Cap | None = None
    per_area_cap: Cap | None = None
    places: int | None = None
    deadline: date | None = None
    deadline_days: int | None = None
    requires_document: bool = False
    # "highest": a matter counts once, at its highest level (or largest points); "across_levels": once at its highest
    # level when it was reported at different levels, each report counting when all are at one level (BP 附2-14)
    same_matter: str = ""
    once_per_unit: bool = False
    only_without_task: str = ""  # applies only to units whose effective tree lacks this indicator
    indicator: str = ""  # the leaf the points go into (kept within its floor and weight), "" = the adjustment term
    combine: str = "each"  # "sum": a year's figures add up before points are computed
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> Kind:
        return KINDS[self.kind]

    def assessed_by(self, department: str) -> bool:
        """Whether a signatory of `department` may propose under this rule."""
        return self.department in ("",) + ANY_DEPARTMENT or department in self.departments

    def applies_to_group(self, group: str) -> bool:
        return not self.groups or group in self.groups

    def check_inputs(self, inputs: Mapping[str, str]) -> dict:
        """Parse one adjustment's inputs strictly; Refused names the first problem."""
        if not isinstance(inputs, Mapping):
            raise Refused("adjustment inputs must be an object of text values")
        spec = self.spec
        allowed = spec.required + spec.optional + GENERIC_INPUTS
        for key, value in inputs.items():
            if key not in allowed:
                raise Refused(f"rule {self.id} ({self.kind}) takes inputs {', '.join(spec.required + spec.optional)}"
                              f"{', matter' if self.same_matter else ''}{', date' if self.deadline_days else ''}; "
                              f"unknown input {key!r}")
            if not isinstance(value, str):
                raise Refused(f"input {key!r} must be text")
        needed = spec.required + (("matter",) if self.same_matter else ()) + (("date",) if self.deadline_days else ())
        for key in needed:
            if key not in inputs:
                raise Refused(f"rule {self.id} needs input {key!r}")
        parsed = spec.check(self.params, inputs)
        if "matter" in inputs:
            if not inputs["matter"].strip():
                raise Refused("matter is empty: name the matter (e.g. the document or the issue)")
            parsed["matter"] = inputs["matter"].strip()
        if "date" in inputs:
            parsed["date"] = parse_day(inputs["date"], "date")
        return parsed

    def points(self, parsed: Mapping[str, Any]) -> tuple[Decimal, str]:
        """Points for one adjustment's parsed inputs (rounded at the rule's places), with how they were reached."""
        points, how = self.spec.points(self.params, parsed)
        return self._rounded(points, how)

    def points_for_sum(self, total: Decimal) -> tuple[Decimal, str]:
        """Points for a year's summed figure (combine = "sum")."""
        points, how = self.spec.points(self.params, {self.spec.summable: total})
        return self._rounded(points, how)

    def _rounded(self, points: Decimal, how: str) -> tuple[Decimal, str]:
        if self.places is None:
            return points, how
        done = round_half_up(points, self.places)
        return done, (f"{how} = {show(points)} → {show(done)} ({self.places} places, half up)" if done != points
                      else how)

    def lateness(self, submitted_at: str, parsed: Mapping[str, Any]) -> str:
        """Why a submission is past the rule's deadline, or "" when it is in time (the deadline day included)."""
        if self.deadline is None and self.deadline_days is None:
            return ""
        try:
            day = parse_time(submitted_at, "submitted_at").astimezone(BEIJING).date()
        except LedgerError:
            return f"submission time {submitted_at!r} is unreadable, so the deadline cannot be met"
        if self.deadline is not None and day > self.deadline:
            return f"late: submitted {day.isoformat()}, deadline {self.deadline.isoformat()}"
        if self.deadline_days is not None and "date" in parsed:
            last = parsed["date"] + timedelta(days=self.deadline_days)
            if day > last:
                return (f"late: submitted {day.isoformat()}, due within {self.deadline_days} days of "
                        f"{parsed['date'].isoformat()} (by {last.isoformat()})")
        return ""


def parse_day(text: str, what: str) -> date:
    """A calendar day written YYYY-MM-DD; Refused otherwise."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise Refused(f"{what} {text!r} must be a day written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{what} {text!r} is not a calendar day") from None


def parse_rule(rule_id: str, table: Table, roles: set[str], default_approvers: tuple[str, ...] | None,
               groups: Mapping[str, Any]) -> Rule:
    """One `[rules.<id>]` table, checked against the scheme's roles and groups."""
    kind = table.text("kind", required=True)
    if kind not in KINDS:
        raise SchemeError(f"unknown rule kind {kind!r} (known: {', '.join(KINDS)})", table.at("kind"))
    title = table.text("title")
    table.text("note")
    departments = _departments(table)
    approvers = table.names("approvers") if table.has("approvers") else default_approvers
    if approvers is None:
        raise SchemeError("missing (or set default_approvers at the top of the scheme)", table.at("approvers"))
    for i, role in enumerate(approvers):
        if role not in roles:
            raise SchemeError(f"unknown role {role!r} (declare it under [roles])", f"{table.at('approvers')}[{i}]")
    applies = table.names("groups")
    for i, name in enumerate(applies):
        if name not in groups:
            raise SchemeError(f"unknown group {name!r}", f"{table.at('groups')}[{i}]")
    places = table.integer("places", minimum=0, maximum=10)
    deadline = table.text("deadline")
    try:
        deadline_day = parse_day(deadline, "deadline") if deadline else None
    except Refused as exc:
        raise SchemeError(str(exc), table.at("deadline")) from None
    spec = KINDS[kind]
    combine = table.text("combine", default="sum" if spec.summable else "each")
    if combine not in ("each", "sum") or (combine == "sum" and not spec.summable):
        raise SchemeError(f"combine {combine!r}: " + ("\"each\" or \"sum\"" if spec.summable else
                                                       f"a {kind} rule counts each adjustment (\"each\")"),
                          table.at("combine"))
    same_matter = table.text("same_matter")
    if same_matter not in ("", "highest", "across_levels"):
        raise SchemeError(f"same_matter {same_matter!r} must be \"highest\" or \"across_levels\"",
                          table.at("same_matter"))
    if same_matter == "across_levels" and kind != "level":
        raise SchemeError("same_matter \"across_levels\" is for a level rule", table.at("same_matter"))
    per_area_cap = parse_cap(table.table("per_area_cap"))
    if per_area_cap is not None and kind != "area":
        raise SchemeError("only an area rule has a per-area cap", table.at("per_area_cap"))
    rule = Rule(rule_id, kind, title, "、".join(departments), departments, tuple(approvers), applies,
                category=table.text("category"), cap=parse_cap(table.table("cap")), per_area_cap=per_area_cap,
                places=places, deadline=deadline_day,
                deadline_days=table.integer("deadline_days", minimum=0, maximum=366),
                requires_document=table.boolean("requires_document"), same_matter=same_matter,
                once_per_unit=table.boolean("once_per_unit"), only_without_task=table.text("only_without_task"),
                indicator=table.text("indicator"), combine=combine, params=spec.parse(table))
    table.done()
    return rule


def _departments(table: Table) -> tuple[str, ...]:
    value = table.raw("department")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (table.name("department"),)
    return table.names("department")


@dataclass(frozen=True)
class Caps:
    """Caps above the rules: per category (表彰加分 ≤ 5) and over a unit's whole adjustment term (HY ±10)."""

    unit: Cap | None = None
    categories: Mapping[str, Cap] = field(default_factory=dict)


def parse_caps(table: Table | None) -> Caps:
    """The top-level `[caps]` table."""
    if table is None:
        return Caps()
    unit = parse_cap(table.table("unit"))
    categories = {}
    raw = table.table("categories")
    if raw is not None:
        categories = {name: parse_cap(Table(value, path)) for name, value, path in raw.entries()}
    table.done()
    return Caps(unit, categories)

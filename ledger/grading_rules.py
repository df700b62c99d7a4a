"""A group's grading rules (等次评定) and the cross-year consequence rules, parsed from a scheme's TOML tables.

Numbers are TOML strings ("0.30", "95") or integers; TOML floats are refused so that no binary fraction ever reaches
a quota or threshold. Every problem raises `SchemeError(problem, key_path)`. See docs/grading.md for the table format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, Inexact
from typing import Any, Collection, Mapping

from .errors import SchemeError

ROUNDINGS = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "ceiling": ROUND_CEILING}
TIE_POLICIES = ("better", "withhold")
UNUSED_SEATS = ("lapse", "pass_down")
DECISION_KINDS = ("fault", "direct_grade", "tie", "withhold", "assign", "falsification", "leading_group",
                  "outside_rank")
CONDITIONS = ("grade", "last_place")
STAFF_SHARE_RULE = "staff_excellent_share"  # the rule name under which the staff share is reported
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_DIGITS = 20
# count × share must be exact before it is rounded to seats, whatever the caller's decimal context: a 20-digit share
# times any realistic count fits in 60 digits, and Inexact traps the impossible rest
_EXACT = Context(prec=60, traps=[Inexact])


@dataclass(frozen=True)
class Band:
    """Outside ranks `first`..`last` (None: and below) give `grade`."""

    first: int
    last: int | None
    grade: str


@dataclass(frozen=True)
class OutsideRanking:
    """Units graded from their rank in an outside assessment (BP: 朝阳市考核) instead of the group's quota."""

    source: str
    units: tuple[str, ...]
    bands: tuple[Band, ...]

    def grade_for(self, rank: int) -> str:
        """The grade an outside rank gives (bands cover 1 and every rank below)."""
        return next(b.grade for b in self.bands if b.first <= rank and (b.last is None or rank <= b.last))


@dataclass(frozen=True)
class FaultCount:
    """A unit with `at_least` distinct faults gets `grade` (HY: 3 or more → 不合格)."""

    at_least: int
    grade: str


@dataclass(frozen=True)
class GradingRules:
    """How one group's units are graded; grades are ordered best → worst. Mappings are read-only by convention."""

    grades: tuple[str, ...]
    shares: Mapping[str, Decimal] = field(default_factory=dict)
    from_bottom: tuple[str, ...] = ()
    min_total: Mapping[str, Decimal] = field(default_factory=dict)
    rounding: str = "floor"
    faults: Mapping[str, str] = field(default_factory=dict)  # fault name -> the best grade it still allows
    fault_count: tuple[FaultCount, ...] = ()
    achievements: Mapping[str, str] = field(default_factory=dict)  # achievement name -> grade it gives directly
    outside: OutsideRanking | None = None
    falsification_steps: int = 1
    tie_breakers: tuple[str, ...] = ()
    tie_policy: str = "better"
    unused_seats: str = "lapse"
    decisions_take_seats: bool = True
    decision_roles: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {kind: ("office",) for kind in DECISION_KINDS})

    def index(self, grade: str) -> int:
        """Position of a grade, 0 = best."""
        return self.grades.index(grade)

    @property
    def rest(self) -> str:
        """The grade that takes every unit the quota grades leave (the best grade without a share)."""
        return next(g for g in self.grades if g not in self.shares)

    def seats(self, grade: str, count: int) -> int | None:
        """Quota seats of a grade for `count` units: count × share under the scheme's rounding; None: no quota."""
        share = self.shares.get(grade)
        if share is None:
            return None
        product = _EXACT.multiply(Decimal(count), share)
        return int(product.quantize(Decimal(1), rounding=ROUNDINGS[self.rounding], context=Context(prec=60)))

    def threshold(self, grade: str) -> Decimal | None:
        """The least total a unit needs for `grade`: a better grade never asks less than a worse one."""
        limits = [self.min_total[g] for g in self.grades[self.index(grade):] if g in self.min_total]
        return max(limits) if limits else None

    def roles(self) -> set[str]:
        """Every role named in `roles`, for the scheme loader to check against the declared ones."""
        return {role for roles in self.decision_roles.values() for role in roles}

    def decision_problem(self, kind: str, value: str, unit: str | None = None) -> str | None:
        """Why a decision of this kind and value (about `unit`, if given) cannot apply to this group, or None."""
        if kind not in DECISION_KINDS:
            return f"unknown decision kind {kind!r}"
        if kind == "fault" and value not in self.faults:
            return f"unknown fault {value!r}; the scheme lists {_listing(self.faults)}"
        if kind == "direct_grade" and value not in self.achievements:
            return f"unknown achievement {value!r}; the scheme lists {_listing(self.achievements)}"
        if kind in ("tie", "assign", "leading_group") and value not in self.grades:
            return f"unknown grade {value!r}; the grades are {_listing(self.grades)}"
        if kind == "outside_rank":
            # ASCII digits only: '１' or '²' pass isdigit(), and a rank is stored as written
            if not (value.isascii() and value.isdigit()) or value.startswith("0") or len(value) > 6:
                return f"an outside rank is a whole number from 1, not {value!r}"
            if self.outside is None:
                return "this group is not graded from an outside rank (its grading has no outside table)"
            if unit is not None and unit not in self.outside.units:
                return f"{unit} is not graded from the {self.outside.source} rank"
        return None

    def to_dict(self) -> dict:
        """Plain form (decimals as strings), recorded with a result so the reading used can be shown."""
        return {"grades": list(self.grades), "shares": {g: str(s) for g, s in self.shares.items()},
                "from_bottom": list(self.from_bottom), "min_total": {g: str(t) for g, t in self.min_total.items()},
                "rounding": self.rounding, "faults": dict(self.faults),
                "fault_count": [{"at_least": f.at_least, "grade": f.grade} for f in self.fault_count],
                "achievements": dict(self.achievements),
                "outside": None if self.outside is None else {
                    "source": self.outside.source, "units": list(self.outside.units),
                    "bands": [{"from": b.first, "to": b.last, "grade": b.grade} for b in self.outside.bands]},
                "falsification_steps": self.falsification_steps, "tie_breakers": list(self.tie_breakers),
                "tie_policy": self.tie_policy, "unused_seats": self.unused_seats,
                "decisions_take_seats": self.decisions_take_seats,
                "roles": {k: list(v) for k, v in self.decision_roles.items()}}


@dataclass(frozen=True)
class ConsequenceRule:
    """`when` holds (a grade among `grades`, or last place in the group) for `years` consecutive years → text."""

    name: str
    when: str
    grades: tuple[str, ...]
    years: int
    consequence: str


@dataclass(frozen=True)
class ConsequenceRules:
    """Cross-year consequences, and the share of a unit's staff who may be rated 优秀 by the unit's grade (HY)."""

    rules: tuple[ConsequenceRule, ...] = ()
    staff_excellent_share: Mapping[str, Decimal] = field(default_factory=dict)


# ---- parsing -----------------------------------------------------------------------------------------------------

_GRADING_KEYS = ("grades", "shares", "from_bottom", "min_total", "rounding", "faults", "fault_count", "achievements",
                 "outside", "falsification_steps", "tie_breakers", "tie_policy", "unused_seats",
                 "decisions_take_seats", "roles")


def parse_grading(table: dict, path: str) -> GradingRules:
    """Validate a `[groups.<group>.grading]` table and build the group's rules; SchemeError names the bad key."""
    _known(table, _GRADING_KEYS, path)
    if "grades" not in table:
        raise SchemeError("missing key 'grades' (the grade names, best first)", path)
    grades = _names(table["grades"], f"{path}.grades", "grade")
    if len(grades) < 2:
        raise SchemeError("at least two grades are needed", f"{path}.grades")

    def grade(value: Any, at: str) -> str:
        if not isinstance(value, str):
            raise SchemeError("must be a grade name (a string)", at)
        if value not in grades:
            raise SchemeError(f"unknown grade {value!r}; the grades are {_listing(grades)}", at)
        return value

    shares = {grade(g, f"{path}.shares.{g}"): _decimal(v, f"{path}.shares.{g}")
              for g, v in _table(table.get("shares", {}), f"{path}.shares").items()}
    for g, share in shares.items():
        if not 0 <= share <= 1:
            raise SchemeError(f"share {share} is outside 0–1", f"{path}.shares.{g}")
    if sum(shares.values(), Decimal(0)) > 1:
        raise SchemeError(f"shares sum to {sum(shares.values())}, over 1", f"{path}.shares")
    bottom = _names(table.get("from_bottom", []), f"{path}.from_bottom", "grade")
    for i, g in enumerate(bottom):
        grade(g, f"{path}.from_bottom[{i}]")
        if g not in shares:
            raise SchemeError(f"{g!r} is filled from the bottom but has no share", f"{path}.from_bottom[{i}]")
    if tuple(sorted(bottom, key=grades.index)) != grades[len(grades) - len(bottom):]:
        raise SchemeError("from_bottom grades must be the worst grades", f"{path}.from_bottom")
    unshared = [g for g in grades if g not in shares]
    if not unshared:
        raise SchemeError("every grade has a share; leave it off the grade that takes the remaining units "
                          "(BP: 一般, HY: 合格)", f"{path}.shares")
    rest = grades.index(unshared[0])
    for g in grades[rest + 1:]:
        if g in shares and g not in bottom:
            raise SchemeError(f"{g!r} comes after the remainder grade {grades[rest]!r}: its share must be "
                              "filled from the bottom (from_bottom)", f"{path}.shares.{g}")
    minimum = {}
    for g, v in _table(table.get("min_total", {}), f"{path}.min_total").items():
        at = f"{path}.min_total.{g}"
        minimum[grade(g, at)] = _decimal(v, at)
        if minimum[g] < 0:
            raise SchemeError(f"threshold {minimum[g]} is negative", at)
        if g == grades[-1] or g in bottom:
            raise SchemeError(f"the worst grades ({g!r}) cannot have a minimum total: a unit below it would have "
                              "no grade", at)
    faults = {_text(f, f"{path}.faults"): grade(c, f"{path}.faults.{f}")
              for f, c in _table(table.get("faults", {}), f"{path}.faults").items()}
    counts = []
    for i, rule in enumerate(_list(table.get("fault_count", []), f"{path}.fault_count")):
        at = f"{path}.fault_count[{i}]"
        _known(_table(rule, at), ("at_least", "grade"), at)
        for key in ("at_least", "grade"):
            if key not in rule:
                raise SchemeError(f"missing key {key!r}", at)
        counts.append(FaultCount(_int(rule["at_least"], f"{at}.at_least", 1), grade(rule["grade"], f"{at}.grade")))
    achievements = {_text(a, f"{path}.achievements"): grade(g, f"{path}.achievements.{a}")
                    for a, g in _table(table.get("achievements", {}), f"{path}.achievements").items()}
    outside = _outside(table["outside"], f"{path}.outside", grade) if "outside" in table else None
    steps = _int(table.get("falsification_steps", 1), f"{path}.falsification_steps", 0)
    if steps >= len(grades):
        raise SchemeError(f"falsification_steps {steps} is more than the grades allow", f"{path}.falsification_steps")
    roles = {kind: ("office",) for kind in DECISION_KINDS}
    for kind, names in _table(table.get("roles", {}), f"{path}.roles").items():
        if kind not in DECISION_KINDS:
            raise SchemeError(f"unknown decision kind {kind!r}; the kinds are {_listing(DECISION_KINDS)}",
                              f"{path}.roles.{kind}")
        roles[kind] = _names(names, f"{path}.roles.{kind}", "role")
        if not roles[kind]:
            raise SchemeError("at least one role must be able to sign this decision", f"{path}.roles.{kind}")
    return GradingRules(
        grades=grades, shares=shares, from_bottom=tuple(sorted(bottom, key=grades.index)), min_total=minimum,
        rounding=_choice(table.get("rounding", "floor"), tuple(ROUNDINGS), f"{path}.rounding"),
        faults=faults, fault_count=tuple(counts), achievements=achievements, outside=outside,
        falsification_steps=steps, tie_breakers=_names(table.get("tie_breakers", []), f"{path}.tie_breakers",
                                                       "component"),
        tie_policy=_choice(table.get("tie_policy", "better"), TIE_POLICIES, f"{path}.tie_policy"),
        unused_seats=_choice(table.get("unused_seats", "lapse"), UNUSED_SEATS, f"{path}.unused_seats"),
        decisions_take_seats=_bool(table.get("decisions_take_seats", True), f"{path}.decisions_take_seats"),
        decision_roles=roles)


def _outside(table: Any, path: str, grade) -> OutsideRanking:
    _known(_table(table, path), ("source", "units", "bands"), path)
    for key in ("source", "units", "bands"):
        if key not in table:
            raise SchemeError(f"missing key {key!r}", path)
    bands, expect = [], 1
    for i, band in enumerate(_list(table["bands"], f"{path}.bands")):
        at = f"{path}.bands[{i}]"
        _known(_table(band, at), ("from", "to", "grade"), at)
        if "from" not in band or "grade" not in band:
            raise SchemeError("a band needs 'from' and 'grade'", at)
        if expect is None:
            raise SchemeError("a band follows the open-ended band", at)
        first = _int(band["from"], f"{at}.from", 1)
        if first != expect:
            raise SchemeError(f"bands must cover every rank: expected from = {expect}", f"{at}.from")
        last = _int(band["to"], f"{at}.to", first) if "to" in band else None
        bands.append(Band(first, last, grade(band["grade"], f"{at}.grade")))
        expect = None if last is None else last + 1
    if expect is not None:
        raise SchemeError("the last band must be open-ended (no 'to'), so every rank has a grade", f"{path}.bands")
    return OutsideRanking(_text(table["source"], f"{path}.source"), _names(table["units"], f"{path}.units", "unit"),
                          tuple(bands))


def parse_consequences(table: dict, path: str, grades: Collection[str] | None = None) -> ConsequenceRules:
    """Validate a `[consequences]` table; `grades` (every grade name of the scheme) checks the grades it names."""
    _known(table, ("rules", "staff_excellent_share"), path)

    def grade(value: Any, at: str) -> str:
        name = _text(value, at)
        if grades is not None and name not in grades:
            raise SchemeError(f"unknown grade {name!r}; the grades are {_listing(grades)}", at)
        return name

    rules, seen = [], set()
    for i, rule in enumerate(_list(table.get("rules", []), f"{path}.rules")):
        at = f"{path}.rules[{i}]"
        _known(_table(rule, at), ("name", "when", "grades", "years", "consequence"), at)
        for key in ("name", "when", "consequence"):
            if key not in rule:
                raise SchemeError(f"missing key {key!r}", at)
        name, when = _text(rule["name"], f"{at}.name"), _choice(rule["when"], CONDITIONS, f"{at}.when")
        if name in seen or name == STAFF_SHARE_RULE:
            raise SchemeError(f"rule name {name!r} is taken", f"{at}.name")
        seen.add(name)
        names = _names(rule.get("grades", []), f"{at}.grades", "grade")
        if (when == "grade") != bool(names):
            raise SchemeError("'grades' is required with when = \"grade\" and not allowed with \"last_place\"",
                              f"{at}.grades")
        rules.append(ConsequenceRule(name, when, tuple(grade(g, f"{at}.grades") for g in names),
                                     _int(rule.get("years", 1), f"{at}.years", 1), _text(rule["consequence"],
                                                                                         f"{at}.consequence")))
    shares = {}
    for g, v in _table(table.get("staff_excellent_share", {}), f"{path}.staff_excellent_share").items():
        at = f"{path}.staff_excellent_share.{g}"
        shares[grade(g, at)] = _decimal(v, at)
        if not 0 <= shares[g] <= 1:
            raise SchemeError(f"share {shares[g]} is outside 0–1", at)
    return ConsequenceRules(tuple(rules), shares)


# ---- value checks ------------------------------------------------------------------------------------------------

def _known(table: dict, allowed: tuple[str, ...], path: str) -> None:
    for key in table:
        if key not in allowed:
            raise SchemeError(f"unknown key {key!r}; allowed: {', '.join(allowed)}", f"{path}.{key}")


def _table(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise SchemeError("must be a table", path)
    return value


def _list(value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise SchemeError("must be an array", path)
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise SchemeError("must be a non-empty string without leading or trailing spaces", path)
    return value


def _names(value: Any, path: str, what: str) -> tuple[str, ...]:
    names = tuple(_text(v, f"{path}[{i}]") for i, v in enumerate(_list(value, path)))
    dup = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if dup is not None:
        raise SchemeError(f"{what} {dup!r} is listed twice", path)
    return names


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, float):
        raise SchemeError(f"write the number {value!r} as a string (\"{value}\"): binary floats are not accepted",
                          path)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        if len(value.lstrip("-").replace(".", "").lstrip("0")) > MAX_DIGITS:
            raise SchemeError(f"number {value!r} has more than {MAX_DIGITS} significant digits", path)
        return Decimal(value)
    raise SchemeError(f"malformed number {value!r}: write a decimal string such as \"0.30\"", path)


def _int(value: Any, path: str, least: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise SchemeError(f"must be an integer, not {value!r}", path)
    if value < least:
        raise SchemeError(f"must be at least {least}, not {value}", path)
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SchemeError(f"must be true or false, not {value!r}", path)
    return value


def _choice(value: Any, choices: tuple[str, ...], path: str) -> str:
    if value not in choices:
        raise SchemeError(f"unknown value {value!r}; choose one of {', '.join(choices)}", path)
    return value


def _listing(names: Collection[str]) -> str:
    return ", ".join(names) or "none"

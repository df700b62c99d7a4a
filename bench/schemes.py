"""Synthetic schemes for the benchmarks: the BP 2017 example as one county, and a province of many counties.

A province is modelled as one ledger whose one scheme per year holds every county's groups: county k's copy of a
BP group is the group `Cnnn·<group>` and its units are `Cnnn·<unit>` (unit names must be unique in a scheme). So
each county is ranked and graded on its own, exactly as BP ranks its own groups, and "one county-year" is the set
of groups with the county's prefix. Rules that name groups name every county's copy. The generated text is TOML
written by a small emitter (the example's comments are not kept); it is validated by the ledger's own parser.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEP = "·"


def county_prefix(county: int) -> str:
    """The prefix of county `county` (0-based): C001, C002, …"""
    return f"C{county + 1:03d}"


def scoped(county: int | None, name: str) -> str:
    """A group or unit name inside county `county` (None: the county scheme, names as in the example)."""
    return name if county is None else f"{county_prefix(county)}{SEP}{name}"


def base_scheme(year: int = 2017) -> dict:
    """The BP 2017 example as a TOML document (dict), for `year`."""
    data = tomllib.loads((EXAMPLES / "bp-2017.toml").read_text(encoding="utf-8"))
    data["year"] = year
    return data


def province_scheme(counties: int, year: int = 2017) -> dict:
    """`counties` copies of every BP group, each county's groups and units prefixed (see the module doc)."""
    base = base_scheme(year)
    if counties <= 0:
        return base
    doc = {k: v for k, v in base.items() if k not in ("groups", "rules")}
    doc["name"] = f"合成省{year}年度实绩考核({counties}个县)"
    groups = {}
    for county in range(counties):
        for name, group in base["groups"].items():
            groups[scoped(county, name)] = _scope_group(county, group)
    doc["groups"] = groups
    rules = {}
    for rid, rule in base["rules"].items():
        rule = dict(rule)
        if "groups" in rule:
            rule["groups"] = [scoped(c, g) for c in range(counties) for g in rule["groups"]]
        if "area_groups" in rule:
            rule["area_groups"] = {area: [scoped(c, g) for c in range(counties) for g in names]
                                   for area, names in rule["area_groups"].items()}
        rules[rid] = rule
    doc["rules"] = rules
    return doc


def _scope_group(county: int, group: dict) -> dict:
    out = dict(group)
    out["units"] = [scoped(county, u) for u in group["units"]]
    if "title" in out:
        out["title"] = scoped(county, out["title"])
    if "redistribute" in out:
        out["redistribute"] = [{**move, "units": [scoped(county, u) for u in move["units"]]}
                               for move in out["redistribute"]]
    grading = out.get("grading")
    if grading and "outside" in grading:
        outside = dict(grading["outside"])
        outside["units"] = [scoped(county, u) for u in outside["units"]]
        out["grading"] = {**grading, "outside": outside}
    return out


def county_groups(scheme, county: int | None) -> list[str]:
    """The names of one county's groups in a (parsed) scheme; every group for the county scheme."""
    if county is None:
        return [g.name for g in scheme.groups]
    prefix = county_prefix(county) + SEP
    return [g.name for g in scheme.groups if g.name.startswith(prefix)]


# ---- a small TOML writer (the standard library reads TOML but does not write it) --------------------------------

def to_toml(doc: dict) -> str:
    """TOML text for a document of tables, arrays, strings, integers and booleans (no floats: schemes refuse them)."""
    lines = []
    for key, value in doc.items():
        if not isinstance(value, dict):
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append("")
            lines.extend(_table([key], value))
    return "\n".join(lines) + "\n"


def _table(path: list[str], table: dict) -> list[str]:
    # a table whose values are all tables (groups, rules, components) gets a header per child, so that the text
    # reads like the hand-written examples; anything deeper is written inline
    if table and all(isinstance(v, dict) for v in table.values()):
        out = []
        for key, value in table.items():
            out.append(f"[{'.'.join(_key(p) for p in path + [key])}]")
            out.extend(f"{_key(k)} = {_value(v)}" for k, v in value.items())
            out.append("")
        return out
    return [f"[{'.'.join(_key(p) for p in path)}]"] + [f"{_key(k)} = {_value(v)}" for k, v in table.items()]


def _key(key: str) -> str:
    if key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
        return key
    return _string(key)


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")

"""The kinds of adjustment rule (加减分) a scheme can state, each with its settings, its inputs and its arithmetic.

A kind reads its settings from the rule's TOML table, checks one adjustment's inputs (text, parsed strictly) and
turns them into points. Kinds whose figures add up over a year (rate, threshold with combine = "sum") also turn a
summed figure into points. Everything is Decimal; a rule's `places` rounds half-up where the scheme says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Callable, Mapping

from .errors import Refused, SchemeError
from .numbers import CONTEXT, parse_count, parse_decimal, show
from .scheme_reader import Table, check_name, to_decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Kind:
    """One rule kind: which inputs it takes and how its settings and inputs become points."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    parse: Callable[[Table], dict]
    check: Callable[[Mapping[str, Any], Mapping[str, str]], dict]
    points: Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[Decimal, str]]
    summable: str = ""  # the input a year's adjustments may add up before points are computed (combine = "sum")


def _options(table: Table, key: str = "options", required: bool = True) -> dict[str, Decimal]:
    raw = table.table(key, required)
    if raw is None:
        return {}
    out = {name: to_decimal(value, path) for name, value, path in raw.entries()}
    if not out:
        raise SchemeError("needs at least one entry", table.at(key))
    return out


def _pick(what: str, name: str, choices: Mapping[str, Any]) -> Any:
    if name not in choices:
        raise Refused(f"{what} {name!r} is not one of the rule's: {', '.join(choices)}")
    return choices[name]


def _multiples(amount: Decimal, step: Decimal, mode: str) -> Decimal:
    quotient = CONTEXT.divide(amount, step)
    return quotient.to_integral_value(rounding=ROUND_FLOOR) if mode == "whole" else quotient


def _mode(table: Table) -> str:
    mode = table.text("mode", required=True)
    if mode not in ("whole", "proportional"):
        raise SchemeError(f"mode {mode!r} must be \"whole\" (only complete multiples count) or \"proportional\"",
                          table.at("mode"))
    return mode


def _positive(table: Table, key: str) -> Decimal:
    value = table.decimal(key, required=True)
    if value <= 0:
        raise SchemeError(f"{value} must be greater than 0", table.at(key))
    return value


# ---- outcome / grade: a fixed number of points per named outcome ------------------------------------------------

def _parse_choice(table: Table) -> dict:
    return {"options": _options(table)}


def _check_choice(params, inputs) -> dict:
    return {"option": _pick("option", inputs["option"], params["options"])}


def _points_choice(params, parsed) -> tuple[Decimal, str]:
    return parsed["option"], ""


# ---- range: the assessor chooses points within the option's range --------------------------------------------

def _parse_range(table: Table) -> dict:
    raw = table.table("options")
    ranges: dict[str, tuple[Decimal, Decimal]] = {}
    if raw is not None:
        for name, value, path in raw.entries():
            if not isinstance(value, list) or len(value) != 2:
                raise SchemeError("expected [least, most], e.g. [\"1\", \"3\"]", path)
            ranges[name] = (to_decimal(value[0], path + "[0]"), to_decimal(value[1], path + "[1]"))
    if table.has("min") or table.has("max") or raw is None:
        if raw is not None:
            raise SchemeError("give either options with ranges or min and max, not both", table.at("min"))
        ranges[""] = (table.decimal("min", required=True), table.decimal("max", required=True))
    for name, (low, high) in ranges.items():
        if low > high:
            raise SchemeError(f"range {low}…{high} is empty", table.at("options" if name else "min"))
    return {"ranges": ranges}


def _check_range(params, inputs) -> dict:
    ranges = params["ranges"]
    if "" in ranges:
        if "option" in inputs:
            raise Refused("this rule has no options; give only points")
        option = ""
    else:
        if "option" not in inputs:
            raise Refused(f"missing input 'option' (one of {', '.join(ranges)})")
        option = inputs["option"]
    low, high = _pick("option", option, ranges)
    points = parse_decimal(inputs["points"], "points")
    if not low <= points <= high:
        raise Refused(f"points {show(points)} are outside the rule's range {show(low)}…{show(high)}"
                      + (f" for {option}" if option else ""))
    return {"option": option, "points": points}


def _points_range(params, parsed) -> tuple[Decimal, str]:
    return parsed["points"], f"chosen within {'…'.join(map(show, params['ranges'][parsed['option']]))}"


# ---- count: points per item, e.g. each project or each late report --------------------------------------------

def _parse_count(table: Table) -> dict:
    if table.has("per_item") == table.has("options"):
        raise SchemeError("give either per_item (one price) or options (a price per kind of item)", table.at("per_item"))
    if table.has("per_item"):
        return {"options": {"": table.decimal("per_item", required=True)}}
    return {"options": _options(table)}


def _check_count(params, inputs) -> dict:
    options = params["options"]
    option = inputs.get("option", "")
    if "" in options and option:
        raise Refused("this rule has one price per item; give no option")
    if "" not in options and not option:
        raise Refused(f"missing input 'option' (one of {', '.join(options)})")
    per = _pick("option", option, options)
    return {"option": option, "per": per, "count": parse_count(inputs["count"], "count")}


def _points_count(params, parsed) -> tuple[Decimal, str]:
    return CONTEXT.multiply(parsed["per"], parsed["count"]), f"{parsed['count']} × {show(parsed['per'])}"


# ---- area: deductions per listed area, each area capped ------------------------------------------------------

def _parse_area(table: Table) -> dict:
    areas = table.names("areas", required=True)
    if not areas:
        raise SchemeError("list at least one area", table.at("areas"))
    only: dict[str, tuple[str, ...]] = {}
    raw = table.table("area_groups")
    if raw is not None:
        for name, value, path in raw.entries():
            if name not in areas:
                raise SchemeError(f"{name!r} is not one of the rule's areas", path)
            if not isinstance(value, list) or not value or not all(isinstance(g, str) for g in value):
                raise SchemeError("expected an array of group names", path)
            only[name] = tuple(check_name(g, path) for g in value)
    low = table.decimal("min", required=True)
    high = table.decimal("max", default=ZERO)
    if low > high:
        raise SchemeError(f"range {low}…{high} is empty", table.at("min"))
    return {"areas": areas, "area_groups": only, "range": (low, high)}


def _check_area(params, inputs) -> dict:
    area = inputs["area"]
    if area not in params["areas"]:
        raise Refused(f"area {area!r} is not one of the rule's areas")
    low, high = params["range"]
    points = parse_decimal(inputs["points"], "points")
    if not low <= points <= high:
        raise Refused(f"points {show(points)} are outside the rule's range {show(low)}…{show(high)}")
    return {"area": area, "points": points}


def _points_area(params, parsed) -> tuple[Decimal, str]:
    return parsed["points"], f"area {parsed['area']}"


# ---- rate: a reported figure at so many points per step ------------------------------------------------------

def _parse_rate(table: Table) -> dict:
    return {"per": _positive(table, "per"), "points": table.decimal("points", required=True), "mode": _mode(table),
            "minimum": table.decimal("minimum", default=ZERO, minimum=0), "unit": table.text("unit")}


def _check_amount(params, inputs) -> dict:
    amount = parse_decimal(inputs["amount"], "amount")
    if amount < 0:
        raise Refused(f"amount {show(amount)} must not be negative")
    return {"amount": amount}


def _points_rate(params, parsed) -> tuple[Decimal, str]:
    amount, unit = parsed["amount"], params["unit"]
    if amount < params["minimum"]:
        return ZERO, f"{show(amount)}{unit} is below the minimum {show(params['minimum'])}{unit}"
    steps = _multiples(amount, params["per"], params["mode"])
    how = "whole multiples" if params["mode"] == "whole" else "proportional"
    return CONTEXT.multiply(steps, params["points"]), \
        f"{show(amount)}{unit} ÷ {show(params['per'])}{unit} → {show(steps)} ({how}) × {show(params['points'])}"


# ---- threshold: points on reaching a figure, then an increment per further step --------------------------------

def _parse_threshold(table: Table) -> dict:
    return {"threshold": table.decimal("threshold", required=True, minimum=0),
            "base": table.decimal("base", required=True), "step": _positive(table, "step"),
            "per_step": table.decimal("per_step", required=True), "mode": _mode(table), "unit": table.text("unit")}


def _points_threshold(params, parsed) -> tuple[Decimal, str]:
    amount, unit = parsed["amount"], params["unit"]
    if amount < params["threshold"]:
        return ZERO, f"{show(amount)}{unit} is below the threshold {show(params['threshold'])}{unit}"
    steps = _multiples(CONTEXT.subtract(amount, params["threshold"]), params["step"], params["mode"])
    points = CONTEXT.add(params["base"], CONTEXT.multiply(steps, params["per_step"]))
    return points, (f"{show(amount)}{unit} reaches {show(params['threshold'])}{unit}: {show(params['base'])} + "
                    f"{show(steps)} × {show(params['per_step'])} per further {show(params['step'])}{unit}")


# ---- level: points by the level of whoever issued the commendation or criticism -------------------------------

def _parse_level(table: Table) -> dict:
    return {"levels": _options(table, "levels")}


def _check_level(params, inputs) -> dict:
    level = inputs["level"]
    _pick("level", level, params["levels"])
    return {"level": level, "rank_of_level": list(params["levels"]).index(level)}


def _points_level(params, parsed) -> tuple[Decimal, str]:
    return params["levels"][parsed["level"]], f"level {parsed['level']}"


# ---- rank: place in an outside ranking, tied places sharing the place's points ---------------------------------

def _parse_rank(table: Table) -> dict:
    raw = table.raw("by_rank", required=True)
    if not isinstance(raw, list) or not raw:
        raise SchemeError("expected an array of points for rank 1, 2, …", table.at("by_rank"))
    by_rank = tuple(to_decimal(v, f"{table.at('by_rank')}[{i}]") for i, v in enumerate(raw))
    ties = table.text("ties", default="split")
    beyond = table.text("beyond", default="refuse")
    if ties not in ("split", "full"):
        raise SchemeError(f"ties {ties!r} must be \"split\" (the rank's points ÷ number tied) or \"full\"",
                          table.at("ties"))
    if beyond not in ("refuse", "last", "zero"):
        raise SchemeError(f"beyond {beyond!r} must be \"refuse\", \"last\" or \"zero\"", table.at("beyond"))
    return {"by_rank": by_rank, "ties": ties, "beyond": beyond}


def _check_rank(params, inputs) -> dict:
    rank = parse_count(inputs["rank"], "rank")
    tied = parse_count(inputs.get("tied", "1"), "tied")
    if rank < 1 or tied < 1:
        raise Refused("rank and tied must be 1 or more")
    if rank > len(params["by_rank"]) and params["beyond"] == "refuse":
        raise Refused(f"rank {rank} is not in the rule's table (ranks 1…{len(params['by_rank'])})")
    return {"rank": rank, "tied": tied}


def _points_rank(params, parsed) -> tuple[Decimal, str]:
    table, rank, tied = params["by_rank"], parsed["rank"], parsed["tied"]
    if rank <= len(table):
        base = table[rank - 1]
    else:
        base = table[-1] if params["beyond"] == "last" else ZERO
    if tied == 1 or params["ties"] == "full":
        return base, f"rank {rank}: {show(base)}" + (f" ({tied} tied, each in full)" if tied > 1 else "")
    return CONTEXT.divide(base, tied), f"rank {rank}, {tied} tied: {show(base)} ÷ {tied}"


# ---- derived: points for the unit from the ranks of its sub-entities (villages…) -----------------------------

def _parse_derived(table: Table) -> dict:
    bands = []
    for band in table.tables("bands"):
        low = band.integer("from", required=True, minimum=1)
        high = band.integer("to", required=True, minimum=1)
        if low > high:
            raise SchemeError(f"band {low}…{high} is empty", band.at("from"))
        for other in bands:
            if low <= other[1] and other[0] <= high:
                raise SchemeError(f"band {low}…{high} overlaps band {other[0]}…{other[1]}", band.path)
        bands.append((low, high, band.decimal("points", required=True)))
        band.done()
    if not bands:
        raise SchemeError("list at least one band", table.at("bands"))
    return {"bands": tuple(bands), "entity": table.text("entity", default="entity")}


def _check_derived(params, inputs) -> dict:
    entity = inputs["entity"]
    if not entity.strip() or entity != entity.strip():
        raise Refused(f"entity {entity!r} is empty or has leading or trailing spaces")
    rank = parse_count(inputs["rank"], "rank")
    band = next((b for b in params["bands"] if b[0] <= rank <= b[1]), None)
    if band is None:
        raise Refused(f"rank {rank} of {inputs['entity']} earns nothing under this rule")
    return {"entity": inputs["entity"], "rank": rank, "points": band[2], "band": f"{band[0]}–{band[1]}"}


def _points_derived(params, parsed) -> tuple[Decimal, str]:
    return parsed["points"], f"{params['entity']} {parsed['entity']} ranked {parsed['rank']} (band {parsed['band']})"


# ---- task: a number of items against an assigned task (more, fewer, or no task at all) ------------------------

def _parse_task(table: Table) -> dict:
    params = {key: table.decimal(key, required=True) for key in
              ("met", "per_extra", "per_missing", "no_task_per_item")}
    params["extra_cap"] = table.decimal("extra_cap", minimum=0)
    params["no_task_cap"] = table.decimal("no_task_cap", minimum=0)
    if params["per_missing"] > 0:
        raise SchemeError("per_missing is a deduction: write it as a negative number or 0", table.at("per_missing"))
    return params


def _check_task(params, inputs) -> dict:
    return {"count": parse_count(inputs["count"], "count"), "target": parse_count(inputs["target"], "target")}


def _capped(value: Decimal, cap: Decimal | None) -> Decimal:
    return value if cap is None else min(value, cap)


def _points_task(params, parsed) -> tuple[Decimal, str]:
    count, target = parsed["count"], parsed["target"]
    if target == 0:
        points = _capped(CONTEXT.multiply(params["no_task_per_item"], count), params["no_task_cap"])
        cap = "" if params["no_task_cap"] is None else f", at most {show(params['no_task_cap'])}"
        return points, f"no task: {count} × {show(params['no_task_per_item'])}{cap}"
    if count >= target:
        extra = _capped(CONTEXT.multiply(params["per_extra"], count - target), params["extra_cap"])
        return CONTEXT.add(params["met"], extra), \
            f"task {target} met with {count}: {show(params['met'])} + {show(extra)} for {count - target} more"
    return CONTEXT.multiply(params["per_missing"], target - count), \
        f"task {target}, {count} done: {target - count} × {show(params['per_missing'])}"


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("outcome", ("option",), (), _parse_choice, _check_choice, _points_choice),
    Kind("grade", ("option",), (), _parse_choice, _check_choice, _points_choice),
    Kind("range", ("points",), ("option",), _parse_range, _check_range, _points_range),
    Kind("count", ("count",), ("option",), _parse_count, _check_count, _points_count),
    Kind("area", ("area", "points"), (), _parse_area, _check_area, _points_area),
    Kind("rate", ("amount",), (), _parse_rate, _check_amount, _points_rate, summable="amount"),
    Kind("threshold", ("amount",), (), _parse_threshold, _check_amount, _points_threshold, summable="amount"),
    Kind("level", ("level",), (), _parse_level, _check_level, _points_level),
    Kind("rank", ("rank",), ("tied",), _parse_rank, _check_rank, _points_rank),
    Kind("derived", ("entity", "rank"), (), _parse_derived, _check_derived, _points_derived),
    Kind("task", ("count", "target"), (), _parse_task, _check_task, _points_task),
)}

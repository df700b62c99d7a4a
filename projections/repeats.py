"""Acts that would change nothing, found in the read models once the write path's checks pass and before they are
stored: a decision identical to one in force, a correction to the value in force. The log would keep them for good;
scores would not move."""
from __future__ import annotations

from ledger.errors import LedgerError
from ledger.numbers import parse_decimal, show

from .readstate import year_state


def repeated_decision_problem(store, act: dict, separate_matter: bool) -> str | None:
    """Why recording decision `act` is refused: a decision of the same year, unit, kind and value is in force
    (unless `separate_matter`: then only one that gives the same reason and evidence too), or None."""
    state = year_state(store, act["year"], units=[act["unit"]])
    same = [d for d in state.decisions.values() if d.revoked is None and d.act["year"] == act["year"]
            and d.act["unit"] == act["unit"] and d.act["kind"] == act["kind"] and d.act["value"] == act["value"]]
    if not same:
        return None
    what = f"{act['unit']} has {act['kind']} {act['value']} in force for {act['year']} already"
    if not separate_matter:
        last = same[-1]
        return (f"{what} (decision {last.id}, event {last.event_id[:12]}): undecide it to replace it, or pass "
                "--separate-matter if this is another matter")
    twin = next((d for d in same if (d.act["reason"], d.act.get("evidence", "")) ==
                 (act["reason"], act.get("evidence", ""))), None)
    if twin is None:
        return None
    return (f"{what} with this reason and evidence (decision {twin.id}, event {twin.event_id[:12]}): a separate "
            "matter says in --reason or --evidence how it differs")


def unchanged_value_problem(store, kind: str, act: dict) -> str | None:
    """Why recording score or evaluation `act` (`kind` "score" or "evaluation") is refused: it would correct the
    value in force to that same value; None when it changes it, or there is none yet."""
    state = year_state(store, act["year"], units=[act["unit"]])
    if kind == "score":
        thing, recorded = act["indicator"], state.scores.get((act["year"], act["unit"], act["indicator"]))
    else:
        thing = act["component"] + (f" ({act['round']})" if act["round"] else "")
        recorded = state.evaluations.get((act["year"], act["unit"], act["component"], act["round"]))
    if recorded is None:
        return None
    shown = _same(recorded.act, act)
    if shown is None:
        return None
    return f"nothing to correct: {act['unit']} {thing} is {shown} already (event {recorded.event_id[:12]})"


def _same(recorded: dict, act: dict) -> str | None:
    """The recorded result as shown, when `act` records the very same one (numbers as numbers: 85 is 85.0)."""
    if recorded.get("participates", True) is False or act.get("participates", True) is False:
        same = recorded.get("participates", True) == act.get("participates", True)
        return "recorded as not taking part" if same else None
    if recorded.get("value") is not None or act.get("value") is not None:
        try:
            number = parse_decimal(recorded.get("value"), "recorded value")
            return show(number) if number == parse_decimal(act.get("value"), "value") else None
        except LedgerError:  # a value that is not a number is the write path's to refuse
            return None
    if recorded.get("level") is not None or act.get("level") is not None:
        return recorded.get("level") if recorded.get("level") == act.get("level") else None
    votes = {level: n for level, n in (recorded.get("votes") or {}).items() if n}
    if votes != {level: n for level, n in (act.get("votes") or {}).items() if n}:
        return None
    return ", ".join(f"{level}={n}" for level, n in votes.items())

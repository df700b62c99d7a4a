"""Importing a score sheet or adjustment list: every row checked first, by the write path's own checks, and only if
every row is good, each row signed and appended as one act.

All or nothing is the point: a department that sends 130 rows with three typing mistakes gets the three mistakes
back with their row numbers, and the ledger holds none of the 130 until the sheet is right. The checks are not
re-implemented here: each row's act goes through the same field checks and the same act check (`ACTS[type].check`)
that `Ledger.submit` runs, against the same state; only what a single act cannot see is added — two rows about
the same thing in one file, a row that repeats an adjustment already proposed, and look-alike unit names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence
from uuid import UUID

from .acts import Context, check_act_fields, stream_of
from .adjustments import fold_adjustment
from .clock import signing_time
from .errors import LedgerError, Refused
from .keys import PrivateKey
from .numbers import parse_decimal
from .sheets import INPUT_FIELDS, SCORES, Row, suggest
from .writer import Ledger


@dataclass(frozen=True)
class RowProblem:
    """Why one row cannot be imported."""

    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass(frozen=True)
class PlannedAct:
    """The act a good row becomes."""

    row: int
    act_type: str
    act: dict


@dataclass
class Plan:
    """What a file would append: the acts of its good rows, the problems of its bad rows, and the score rows that
    repeat the value already recorded (nothing to append for them)."""

    acts: list[PlannedAct] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


class BadRows(Refused):
    """Some rows of a file are bad: nothing was appended."""


def check_rows(ledger: Ledger, year: int, key_id: str, rows: Sequence[Row],
               signed_at: str | None = None) -> list[RowProblem]:
    """Every bad row of a sheet with its reason, in row order ([] when all are good).

    Raises Refused for what is wrong with the whole import rather than a row: an unknown or revoked signer, or a
    year without a scheme."""
    return plan_rows(ledger, year, key_id, rows, signed_at).problems


def import_rows(ledger: Ledger, key: PrivateKey, year: int, rows: Sequence[Row],
                progress: Callable[[int], None] | None = None, signed_at: str | None = None) -> int:
    """Check every row, then sign and append one act per row; returns how many acts were appended.

    Raises BadRows (appending nothing) if any row is bad. Score rows that repeat the recorded value append nothing.
    If the ledger changes under the import (another writer closes the year mid-way), the act that is refused stops
    it, and the message says which rows were appended before."""
    plan = plan_rows(ledger, year, key.key_id, rows, signed_at)
    if plan.problems:
        raise BadRows(f"{len(plan.problems)} of {len(rows)} rows are bad; nothing was appended")
    done = 0
    for planned in plan.acts:
        try:
            ledger.act(planned.act_type, planned.act, key, signed_at)
        except LedgerError as exc:
            raise Refused(f"row {planned.row}: {exc}; the {done} act(s) of the rows before it were appended, "
                          "the rest were not") from None
        done += 1
        if progress is not None:
            progress(done)
    return done


def plan_rows(ledger: Ledger, year: int, key_id: str, rows: Sequence[Row], signed_at: str | None = None) -> Plan:
    """Check every row and build the act of each good one, without signing or storing anything."""
    registry = ledger.registry()
    signer = registry.signer(key_id, signing_time(signed_at))
    state = ledger.year(year, registry)
    if not state.adopted:
        raise Refused(f"no scheme has been adopted for {year}")
    checker = _Checker(ledger, registry, signer, state)
    plan = Plan()
    for row in rows:
        try:
            planned = checker.row(row)
        except LedgerError as exc:
            plan.problems.append(RowProblem(row.number, str(exc)))
            continue
        if planned is None:
            plan.unchanged.append(row.number)
        else:
            plan.acts.append(planned)
    return plan


class _Checker:
    """Checks rows one by one against the ledger's state, remembering what earlier rows of the file named."""

    def __init__(self, ledger: Ledger, registry, signer, state):
        self.ledger, self.registry, self.signer, self.state = ledger, registry, signer, state
        self.scheme = state.scheme
        self.seen: dict[tuple, int] = {}
        self._proposed: dict[tuple, str] | None = None

    def row(self, row: Row) -> PlannedAct | None:
        if row.problem:
            raise Refused(row.problem)
        return self.score(row) if row.kind == SCORES else self.adjustment(row)

    # ---- scores ----------------------------------------------------------------------------------------------------

    def score(self, row: Row) -> PlannedAct | None:
        unit = self.unit(row)
        indicator, points, reason = row.get("indicator"), row.get("points"), row.get("reason")
        if not indicator:
            raise Refused("indicator is empty")
        items = self.scheme.group_of(unit).items
        if indicator not in items:
            meant = suggest(indicator, items)
            if meant:
                raise Refused(f"unknown indicator {indicator!r} (did you mean {meant!r}?)")
        if not points.strip():
            raise Refused("points are empty")
        self.once((unit, indicator), row, f"{unit} / {indicator}")
        act = {"year": self.state.year, "unit": unit, "indicator": indicator, "value": points}
        if reason:
            act["note"] = reason
        stream = stream_of(self.ledger.ledger_id, "score", self.state.year, unit, indicator)
        recorded = self.ledger.stream_acts(stream)
        if recorded and _same_value(recorded[-1][0]["act"], points):
            # nothing to correct; still checked as a record of the value (the year may have closed since)
            self.check("score.recorded", act, [])
            return None
        if recorded:
            act["corrects"] = recorded[-1][1]  # as `ledger score record` does: a second value corrects the last
        self.check("score.recorded", act, recorded)
        return PlannedAct(row.number, "score.recorded", act)

    # ---- adjustments -----------------------------------------------------------------------------------------------

    def adjustment(self, row: Row) -> PlannedAct:
        unit = self.unit(row)
        rule = row.get("rule")
        if not rule:
            raise Refused("rule is empty")
        if rule not in self.scheme.rules:
            meant = suggest(rule, self.scheme.rules)
            raise Refused(f"unknown rule {rule!r}" + (f" (did you mean {meant!r}?)" if meant else
                                                       f" in the {self.state.year} scheme"))
        inputs = {name: row.get(name) for name in INPUT_FIELDS if row.get(name) != ""}
        act = {"year": self.state.year, "unit": unit, "rule": rule, "inputs": inputs, "reason": row.get("reason")}
        if row.get("document"):
            act["document"] = row.get("document")
        key = (unit, rule, tuple(sorted(inputs.items())), act["reason"], act.get("document", ""))
        self.once(key, row, "the same adjustment")
        earlier = self.proposed().get(key)
        if earlier:
            raise Refused(f"the same adjustment is proposed already as {earlier}")
        self.check("adjustment.proposed", act, [])
        return PlannedAct(row.number, "adjustment.proposed", act)

    def proposed(self) -> dict[tuple, str]:
        """Adjustments of the year already in the ledger and still in play, by what a row would say."""
        if self._proposed is None:
            self._proposed = {}
            for stream in self.ledger.index.streams_of_type("adjustment.proposed"):
                acts = self.ledger.stream_acts(UUID(stream))
                adj = fold_adjustment(stream, acts, self.registry)
                if adj.year != self.state.year or adj.rejected or adj.rescinded:
                    continue
                key = (adj.unit, adj.rule, tuple(sorted(adj.inputs.items())), adj.reason, adj.document)
                approvers = self.scheme.rules[adj.rule].approvers if adj.rule in self.scheme.rules else ()
                self._proposed.setdefault(key, f"{adj.id} ({adj.status(approvers)})")
        return self._proposed

    # ---- shared ----------------------------------------------------------------------------------------------------

    def unit(self, row: Row) -> str:
        unit = row.get("unit")
        if not unit:
            raise Refused("unit is empty")
        if unit not in self.scheme.unit_groups:
            meant = suggest(unit, self.scheme.units)
            if meant:
                # a trailing space or a full-width letter is a typing slip, but only the office may say so: report it
                raise Refused(f"unknown unit {unit!r} (did you mean {meant!r}?)")
            self.scheme.group_of(unit)  # raises the write path's own "unknown unit" refusal
        return unit

    def once(self, key: tuple, row: Row, what: str) -> None:
        first = self.seen.setdefault(key, row.number)
        if first != row.number:
            raise Refused(f"{what} is in row {first} already")

    def check(self, act_type: str, act: dict, stream_acts: list) -> None:
        """The checks `Ledger.submit` runs on this act (all but the signature, which does not exist yet)."""
        envelope = {"type": act_type, "act": act, "signer": self.signer.key_id}
        spec = check_act_fields(envelope)
        spec.check(Context(envelope, self.registry, self.signer, stream_acts, year=self.state))


def _same_value(recorded: dict, text: str) -> bool:
    """Whether a row's points repeat the value recorded last (as numbers: "80" repeats "80.0")."""
    if recorded.get("value") is None or recorded.get("participates", True) is False:
        return False
    try:
        return parse_decimal(text, "points") == parse_decimal(recorded["value"], "recorded value")
    except LedgerError:
        return False

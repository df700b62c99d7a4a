"""Evaluation components (评议评价): a score on a scale, a level mapped to points, or an anonymous vote tally,
possibly in rounds whose weights add up to 1 (DY: half-year 1/4, year-end 3/4)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

from .errors import Refused, SchemeError
from .numbers import CONTEXT, show
from .scheme_reader import Table, check_range, to_decimal

ZERO, ONE = Decimal(0), Decimal(1)


@dataclass(frozen=True)
class Component:
    """One evaluation component; `rounds` is () for a single round (recorded with round "")."""

    name: str
    scale: Decimal
    levels: Mapping[str, Decimal] = field(default_factory=dict)
    votes: bool = False
    rounds: tuple[tuple[str, Decimal], ...] = ()
    places: int | None = None
    title: str = ""
    department: str = ""

    @property
    def round_ids(self) -> tuple[str, ...]:
        return tuple(r for r, _ in self.rounds) or ("",)

    def weight_of(self, round_id: str) -> Decimal:
        return dict(self.rounds).get(round_id, ONE) if self.rounds else ONE

    def check(self, round_id: str, value: Decimal | None, level: str | None,
              votes: Mapping[str, int] | None) -> None:
        """Refuse a record that does not fit: unknown round, not exactly one of value/level/votes, off the scale."""
        if round_id not in self.round_ids:
            raise Refused(f"{self.name} has " + (f"rounds {', '.join(self.round_ids)}" if self.rounds else
                                                 "a single round (give round \"\")") + f", not {round_id!r}")
        given = [name for name, v in (("value", value), ("level", level), ("votes", votes)) if v is not None]
        if len(given) != 1:
            raise Refused(f"an evaluation gives exactly one of value, level or votes (got {', '.join(given) or 'none'})")
        if value is not None and not ZERO <= value <= self.scale:
            raise Refused(f"{self.name}: {show(value)} is off the scale 0…{show(self.scale)}")
        if level is not None and level not in self.levels:
            raise Refused(f"{self.name}: level {level!r} is not one of "
                          f"{', '.join(self.levels) or 'none (this component is scored by value)'}")
        if votes is not None:
            if not self.votes:
                raise Refused(f"{self.name} is not decided by votes")
            for key, count in votes.items():
                if key not in self.levels:
                    raise Refused(f"{self.name}: votes for unknown level {key!r}")
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise Refused(f"{self.name}: votes for {key} must be a whole number of 0 or more")
            if sum(votes.values()) == 0:
                raise Refused(f"{self.name}: no votes were cast")

    def points(self, value: Decimal | None, level: str | None, votes: Mapping[str, int] | None) -> tuple[Decimal, str]:
        """One round's points from what was recorded, with how."""
        if value is not None:
            return value, ""
        if level is not None:
            return self.levels[level], f"{level} = {show(self.levels[level])}"
        assert votes is not None
        cast = sum(votes.values())
        total = sum((CONTEXT.multiply(self.levels[k], n) for k, n in votes.items()), ZERO)
        tally = " + ".join(f"{n}×{show(self.levels[k])}" for k, n in votes.items() if n)
        return CONTEXT.divide(total, cast), f"votes ({tally}) ÷ {cast}"


def parse_component(name: str, table: Table) -> Component:
    """One `[components.<name>]` table."""
    scale = table.decimal("scale", required=True)
    if scale <= 0:
        raise SchemeError(f"scale must be greater than 0, not {scale}", table.at("scale"))
    levels = {}
    raw = table.table("levels")
    if raw is not None:
        for level, number, path in raw.entries():
            levels[level] = check_range(to_decimal(number, path), path, ZERO, scale)
    votes = table.boolean("votes")
    if votes and not levels:
        raise SchemeError("a vote-based component needs levels (level = points)", table.at("votes"))
    rounds: list[tuple[str, Decimal]] = []
    for row in table.tables("rounds"):
        round_id = row.name("id")
        if any(round_id == r for r, _ in rounds):
            raise SchemeError(f"duplicate round {round_id!r}", row.at("id"))
        weight = row.decimal("weight", required=True)
        if not ZERO < weight <= ONE:
            raise SchemeError(f"a round's weight is a share, above 0 and at most 1, not {weight}", row.at("weight"))
        row.done()
        rounds.append((round_id, weight))
    if rounds and sum((w for _, w in rounds), ZERO) != ONE:
        raise SchemeError(f"round weights add up to {show(sum((w for _, w in rounds), ZERO))}, not 1",
                          table.at("rounds"))
    component = Component(name, scale, levels, votes, tuple(rounds), table.integer("places", minimum=0, maximum=10),
                          table.text("title"), table.text("department"))
    table.done()
    return component

"""The effective facts of one assessment year, as the scoring and grading functions take them.

Facts are plain frozen values built from the log by the replay; scoring and grading are pure functions of
(scheme, facts), so they are tested without a database. Every fact carries the id and log position of the event
that established it, so every number in a result can name its source.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping


@dataclass(frozen=True)
class IndicatorScore:
    """Points (or a reported figure) an assessing department recorded for one unit on one leaf indicator.

    `value` is the recorded number: points for a directly scored item, the reported figure for a target-based item
    (the scheme says which). `participates=False` marks a unit that does not take part in the item (DY: it then gets
    the average of those that do); `value` is None then.
    """

    unit: str
    indicator: str  # the indicator's id, as the scheme names it (e.g. "经济发展/税收收入")
    value: Decimal | None
    event: str
    position: int
    participates: bool = True
    note: str = ""


@dataclass(frozen=True)
class EvaluationScore:
    """An evaluation component's result for one unit in one round: a number on the component's scale or a level.

    For a vote-based component (anonymous 互评) `votes` maps level -> number of votes instead.
    """

    unit: str
    component: str
    round: str  # "" when the component has a single round
    value: Decimal | None
    level: str | None
    event: str
    position: int
    votes: Mapping[str, int] | None = None


@dataclass(frozen=True)
class Adjustment:
    """A proposed bonus, penalty, notice or reported figure, with its approval state at the moment of the view.

    `inputs` are the rule-specific values the proposer gave, as strings (the scheme's rule kind says which keys it
    takes: option, points, count, amount, rank, tied, matter, level, area, entity…). `status` is one of
    "approved" (every required role has signed), "pending", "rejected", "rescinded". `effective_position` is the log
    position of the approval that completed it (None unless approved). `origin_year` differs from the year being
    scored when the adjustment is carried over from a closed year. `submitted_at` is the proposal's signing time
    (ISO 8601), compared with the rule's deadline.
    """

    id: str
    unit: str
    rule: str
    inputs: Mapping[str, str]
    status: str
    reason: str
    proposed_by: str
    submitted_at: str
    position: int
    approvals: tuple[str, ...] = ()
    effective_position: int | None = None
    origin_year: int | None = None
    document: str = ""  # 文号 of the notice or evidence
    evidence_sha256: str = ""


@dataclass(frozen=True)
class Decision:
    """A signed grading decision: veto/fault finding, direct grade, tie settlement, withholding, falsification."""

    id: str
    unit: str
    kind: str  # "fault" | "direct_grade" | "tie" | "withhold" | "assign" | "falsification" | "leading_group"
    value: str  # the fault's name, the grade given, …
    reason: str
    event: str
    position: int
    evidence: str = ""
    revoked: bool = False


@dataclass(frozen=True)
class Facts:
    """Everything in effect for one year at one log position."""

    year: int
    scores: tuple[IndicatorScore, ...] = ()
    evaluations: tuple[EvaluationScore, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    decisions: tuple[Decision, ...] = ()
    outside_ranks: Mapping[str, int] = field(default_factory=dict)  # unit -> rank in an outside ranking (grading)
    position: int = 0

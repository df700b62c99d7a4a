"""The catalogue of acts: for each type, its fields, the stream it belongs to, who may sign it and what must hold.

A check reads only the ledger's own state (registry, the year's scheme and close, the act's stream) and raises
`Refused` with a one-line reason. See docs/architecture.md for the event catalogue in prose.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Callable
from uuid import NAMESPACE_URL, UUID, uuid5

from .adjustments import AdjustmentState
from .errors import Refused
from .registry import Registry, Signatory
from .shapes import check_fields, check_name, check_text
from .signing import key_id_of_text
from .years import YearState

NAMESPACE = uuid5(NAMESPACE_URL, "https://kaohe-ledger/streams")


def stream_of(ledger_id: str, *parts: object) -> UUID:
    """Deterministic stream id for things named by their parts (a year, a unit's score on an item…)."""
    return uuid5(NAMESPACE, "/".join([ledger_id, *map(str, parts)]))


@dataclass
class Context:
    """What a check may look at."""

    envelope: dict
    registry: Registry
    signer: Signatory
    stream_acts: list[tuple[dict, str]]  # (envelope, event id) of the stream so far
    year: YearState | None = None
    adjustment: AdjustmentState | None = None
    decision: dict | None = None  # the decision stream's first act
    log_size: int = 0  # events stored before this one
    root_at: Callable[[int], bytes] | None = None  # Merkle root of the log's first n events

    @property
    def act(self) -> dict:
        return self.envelope["act"]


@dataclass(frozen=True)
class ActSpec:
    required: dict
    optional: dict
    stream: Callable[[str, dict], UUID | None]  # None: a new random stream (proposal, decision)
    check: Callable[[Context], None]
    year_field: bool = True  # the act names the year it belongs to


def _need_role(ctx: Context, *roles: str) -> str:
    held = [r for r in roles if r in ctx.signer.roles]
    if not held:
        raise Refused(f"{ctx.signer.person} ({ctx.signer.key_id}) may not sign {ctx.envelope['type']}: "
                      f"needs role {' or '.join(roles)}, has {', '.join(ctx.signer.roles) or 'none'}")
    return held[0]


def _open_year(ctx: Context) -> YearState:
    year = ctx.year
    if year is None or not year.adopted:
        raise Refused(f"no scheme has been adopted for {ctx.act['year']}")
    if year.closing:
        state = "closed" if year.closed else "being closed"
        raise Refused(f"year {year.year} is {state}: its scores and evaluations can no longer change")
    return year


def _check_correction(ctx: Context) -> None:
    """A second act in a score stream must name the act it corrects (the stream's last)."""
    previous = ctx.stream_acts[-1][1] if ctx.stream_acts else None
    corrects = ctx.act.get("corrects")
    if previous is None and corrects:
        raise Refused("corrects names an event, but nothing has been recorded here yet")
    if previous is not None and corrects != previous:
        raise Refused(f"a value is recorded here already (event {previous[:12]}); a correction must name it in corrects"
                      " and give a reason")
    if previous is not None and not ctx.act.get("note"):
        raise Refused("a correction needs a reason (note)")


# ---- the ledger stream -------------------------------------------------------------------------------------------

def _check_genesis(ctx: Context) -> None:
    if ctx.stream_acts:
        raise Refused("this ledger has been initialised already")
    office = ctx.act["office"]
    check_fields(office, {"person": str, "department": str, "public_key": str, "roles": list}, what="office")
    if key_id_of_text(office["public_key"]) != ctx.envelope["signer"]:
        raise Refused("the genesis act must be signed by the office key it registers")
    if "office" not in office["roles"]:
        raise Refused("the office key registered at genesis must hold the office role")
    check_name(ctx.act["name"], "ledger name")


def _check_signatory_added(ctx: Context) -> None:
    _need_role(ctx, "office")
    act = ctx.act
    check_name(act["person"], "person")
    if act["department"]:
        check_name(act["department"], "department")
    if key_id_of_text(act["public_key"]) != act["key_id"]:
        raise Refused("key_id does not match the public key")
    if act["key_id"] in ctx.registry.signatories:
        raise Refused(f"key {act['key_id']} is registered already")
    if not act["roles"] or not all(isinstance(r, str) and r.strip() for r in act["roles"]):
        raise Refused("a signatory needs at least one role")
    if len(set(act["roles"])) != len(act["roles"]):
        raise Refused("a role is listed twice")
    for role in act["roles"]:
        check_name(role, "role")
    if "department" in act["roles"] and not act["department"]:
        raise Refused("a signatory with the department role must name the department")
    from .clock import parse_time  # local: only this check needs it

    parse_time(act["valid_from"], "valid_from")


def _check_signatory_revoked(ctx: Context) -> None:
    _need_role(ctx, "office")
    target = ctx.registry.signatories.get(ctx.act["key_id"])
    if target is None:
        raise Refused(f"unknown signatory {ctx.act['key_id']}")
    if target.revoked_at:
        raise Refused(f"signatory {ctx.act['key_id']} was revoked already at {target.revoked_at}")
    check_text(ctx.act["reason"], "reason")
    if not ctx.act["reason"].strip():
        raise Refused("a revocation needs a reason")


# ---- the year stream ---------------------------------------------------------------------------------------------

def _check_scheme_adopted(ctx: Context) -> None:
    _need_role(ctx, "office")
    year = ctx.year
    if year is not None and year.closing:
        raise Refused(f"year {year.year} is closed; its scheme can no longer change")
    from .years import scheme_from_text

    scheme = scheme_from_text(ctx.act["text"], ctx.act.get("file", ""))
    if scheme.year != ctx.act["year"]:
        raise Refused(f"the scheme is for {scheme.year}, not {ctx.act['year']}")
    if year is not None and year.adopted and not ctx.act.get("note"):
        raise Refused(f"a scheme is adopted for {scheme.year} already; replacing it needs a reason (note)")


def _check_close(ctx: Context) -> None:
    year = ctx.year
    if year is None or not year.adopted:
        raise Refused(f"no scheme has been adopted for {ctx.act['year']}")
    if year.closed:
        raise Refused(f"year {year.year} is closed already")
    roles = year.scheme.closing_roles or ("office",)
    role = ctx.act["role"]
    if role not in roles:
        raise Refused(f"closing {year.year} is signed by {', '.join(roles)}; {role} is not one of them")
    _need_role(ctx, role)
    if any(c.role == role for c in year.closes):
        raise Refused(f"role {role} has signed the close of {year.year} already")
    if any(c.person == ctx.signer.person for c in year.closes):
        raise Refused(f"{ctx.signer.person} has signed the close of {year.year} already, under another role")
    if year.closes:
        first = year.closes[0]
        if (ctx.act["position"], ctx.act["result_sha256"]) != (first.position, first.result_sha256):
            raise Refused(f"this close names position {ctx.act['position']} and result {ctx.act['result_sha256'][:12]}, "
                          f"but the close already signed names {first.position} and {first.result_sha256[:12]}")
    if len(ctx.act["result_sha256"]) != 64 or not all(c in "0123456789abcdef" for c in ctx.act["result_sha256"]):
        raise Refused("result_sha256 must be 64 lower-case hex digits")
    checkpoint = check_fields(ctx.act["checkpoint"], {"size": INT, "root": TEXT}, what="close checkpoint")
    if checkpoint["size"] != ctx.act["position"]:
        raise Refused("the close's checkpoint must be taken at the position it closes at")
    _check_tree_head(ctx, checkpoint["size"], checkpoint["root"])


def _check_tree_head(ctx: Context, size: int, root_b64: str) -> None:
    """A (size, root) an act states must be the log's own."""
    if not 1 <= size <= ctx.log_size:
        raise Refused(f"size {size} is outside the log, which holds {ctx.log_size} event(s)")
    try:
        root = base64.b64decode(root_b64, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("root is not base64") from None
    if ctx.root_at is None or root != ctx.root_at(size):
        raise Refused(f"root does not match the log's Merkle root at size {size}")


def _check_checkpoint(ctx: Context) -> None:
    _need_role(ctx, "office", "auditor", "inspector")
    from .clock import parse_time

    parse_time(ctx.act["time"], "checkpoint time")
    _check_tree_head(ctx, ctx.act["size"], ctx.act["root"])


# ---- scores and evaluations --------------------------------------------------------------------------------------

def _check_score(ctx: Context) -> None:
    from .numbers import parse_decimal

    year = _open_year(ctx)
    act = ctx.act
    value = None if act["value"] is None else parse_decimal(act["value"], "score")
    if act.get("participates", True) is False and value is not None:
        raise Refused("a unit that does not take part in an item has no score for it")
    if act.get("participates", True) and value is None:
        raise Refused("a score needs a value")
    indicator = year.scheme.check_score(act["unit"], act["indicator"], value)
    if "office" not in ctx.signer.roles:
        _need_role(ctx, "department")
        if not indicator.assessed_by(ctx.signer.department):
            raise Refused(f"{act['indicator']} is assessed by {indicator.department}, "
                          f"not by {ctx.signer.department or 'an unnamed department'}")
    _check_correction(ctx)


def _check_evaluation(ctx: Context) -> None:
    from .numbers import parse_decimal

    year = _open_year(ctx)
    _need_role(ctx, "office")
    act = ctx.act
    value = None if act.get("value") is None else parse_decimal(act["value"], "evaluation score")
    votes = act.get("votes")
    if votes is not None:
        if not isinstance(votes, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                  for v in votes.values()):
            raise Refused("votes must map each level to a whole number of votes")
    year.scheme.check_evaluation(act["unit"], act["component"], act["round"], value, act.get("level"), votes)
    _check_correction(ctx)


# ---- adjustments -------------------------------------------------------------------------------------------------

def _check_proposal(ctx: Context) -> None:
    if ctx.stream_acts:
        raise Refused("a proposal opens a new adjustment; this one exists already")
    year = ctx.year
    if year is None or not year.adopted:
        raise Refused(f"no scheme has been adopted for {ctx.act['year']}")
    act = ctx.act
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in act["inputs"].items()):
        raise Refused("adjustment inputs must be text")
    rule = year.scheme.check_adjustment(act["unit"], act["rule"], act["inputs"])
    if "office" not in ctx.signer.roles:
        _need_role(ctx, "department")
        if not rule.assessed_by(ctx.signer.department):
            raise Refused(f"rule {rule.id} is assessed by {rule.department}, not by {ctx.signer.department}")
    if not act["reason"].strip():
        raise Refused("an adjustment needs a reason")
    sha = act.get("evidence_sha256", "")
    if sha and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        raise Refused("evidence_sha256 must be 64 lower-case hex digits")


def _adjustment_in_play(ctx: Context) -> tuple[AdjustmentState, tuple[str, ...]]:
    adj = ctx.adjustment
    if adj is None:
        raise Refused("no such adjustment")
    approvers = ctx.year.scheme.rule(adj.rule).approvers
    status = adj.status(approvers)
    if status != "pending":
        raise Refused(f"adjustment {adj.id} is {status}; it can no longer be approved or rejected")
    return adj, approvers


def _check_approval(ctx: Context) -> None:
    adj, approvers = _adjustment_in_play(ctx)
    role = ctx.act["role"]
    if role not in approvers:
        raise Refused(f"rule {adj.rule} is approved by {', '.join(approvers) or 'nobody'}; {role} is not one of them")
    _need_role(ctx, role)
    if ctx.signer.person == adj.proposer_person:
        raise Refused(f"{ctx.signer.person} proposed adjustment {adj.id} and may not approve it")
    if any(a.role == role for a in adj.approvals):
        raise Refused(f"role {role} has approved adjustment {adj.id} already")
    if adj.approved_by(ctx.signer.person):
        raise Refused(f"{ctx.signer.person} has approved adjustment {adj.id} already (under another key or role)")


def _check_rejection(ctx: Context) -> None:
    adj, approvers = _adjustment_in_play(ctx)
    role = ctx.act["role"]
    if role not in approvers:
        raise Refused(f"rule {adj.rule} is approved by {', '.join(approvers)}; {role} may not reject it")
    _need_role(ctx, role)
    if not ctx.act["reason"].strip():
        raise Refused("a rejection needs a reason")


def _check_rescission(ctx: Context) -> None:
    adj = ctx.adjustment
    if adj is None:
        raise Refused("no such adjustment")
    if adj.rescinded or adj.rejected:
        raise Refused(f"adjustment {adj.id} is {adj.status(())} already")
    same_department = ctx.signer.department and ctx.signer.department == adj.proposer_department
    if "office" not in ctx.signer.roles and not (same_department and "department" in ctx.signer.roles):
        raise Refused(f"only the proposing department ({adj.proposer_department}) or the office may rescind {adj.id}")
    year = ctx.year
    approvers = year.scheme.rule(adj.rule).approvers
    if year.closing and adj.status(approvers) == "approved":
        raise Refused(f"adjustment {adj.id} counted in {adj.year}, which is closed; correct it by a new adjustment "
                      "in the next year")
    if not ctx.act["reason"].strip():
        raise Refused("a rescission needs a reason")


# ---- grading decisions -------------------------------------------------------------------------------------------

def _check_decision(ctx: Context) -> None:
    if ctx.stream_acts:
        raise Refused("a decision opens a new stream; this one exists already")
    year = ctx.year
    if year is None or not year.adopted:
        raise Refused(f"no scheme has been adopted for {ctx.act['year']}")
    if year.closing:
        raise Refused(f"year {year.year} is closed; its grades can no longer change")
    scheme, act = year.scheme, ctx.act
    group = scheme.group_of(act["unit"])
    _need_role(ctx, *scheme.decision_roles_for(act["unit"], act["kind"]))
    problem = group.grading.decision_problem(act["kind"], act["value"]) if group.grading else None
    if problem:
        raise Refused(problem)
    if not act["reason"].strip():
        raise Refused("a decision needs a reason")


def _check_decision_revoked(ctx: Context) -> None:
    if ctx.decision is None:
        raise Refused("no such decision")
    if any(env["type"] == "decision.revoked" for env, _ in ctx.stream_acts):
        raise Refused("this decision was revoked already")
    if ctx.year.closing:
        raise Refused(f"year {ctx.year.year} is closed; its grades can no longer change")
    _need_role(ctx, *ctx.year.scheme.decision_roles_for(ctx.decision["unit"], ctx.decision["kind"]))
    if not ctx.act["reason"].strip():
        raise Refused("revoking a decision needs a reason")


def _year_stream(ledger_id: str, act: dict) -> UUID:
    return stream_of(ledger_id, "year", act["year"])


TEXT, INT = str, int
ACTS: dict[str, ActSpec] = {
    "ledger.genesis": ActSpec({"name": TEXT, "office": dict}, {}, lambda lid, a: UUID(lid), _check_genesis, False),
    "signatory.added": ActSpec(
        {"key_id": TEXT, "public_key": TEXT, "person": TEXT, "department": TEXT, "roles": list, "valid_from": TEXT},
        {}, lambda lid, a: UUID(lid), _check_signatory_added, False),
    "signatory.revoked": ActSpec({"key_id": TEXT, "reason": TEXT}, {}, lambda lid, a: UUID(lid),
                                 _check_signatory_revoked, False),
    "scheme.adopted": ActSpec({"year": INT, "text": TEXT, "sha256": TEXT}, {"file": TEXT, "note": TEXT},
                              _year_stream, _check_scheme_adopted),
    "year.close.signed": ActSpec({"year": INT, "role": TEXT, "position": INT, "result_sha256": TEXT,
                                  "checkpoint": dict}, {}, _year_stream, _check_close),
    "checkpoint.signed": ActSpec({"size": INT, "root": TEXT, "time": TEXT}, {"note": TEXT},
                                 lambda lid, a: stream_of(lid, "checkpoints"), _check_checkpoint, False),
    "score.recorded": ActSpec({"year": INT, "unit": TEXT, "indicator": TEXT, "value": (str, type(None))},
                              {"participates": bool, "note": TEXT, "corrects": TEXT},
                              lambda lid, a: stream_of(lid, "score", a["year"], a["unit"], a["indicator"]),
                              _check_score),
    "evaluation.recorded": ActSpec({"year": INT, "unit": TEXT, "component": TEXT, "round": TEXT},
                                   {"value": (str, type(None)), "level": TEXT, "votes": dict, "note": TEXT,
                                    "corrects": TEXT},
                                   lambda lid, a: stream_of(lid, "evaluation", a["year"], a["unit"], a["component"],
                                                            a["round"]),
                                   _check_evaluation),
    "adjustment.proposed": ActSpec({"year": INT, "unit": TEXT, "rule": TEXT, "inputs": dict, "reason": TEXT},
                                   {"document": TEXT, "evidence_sha256": TEXT, "kind": TEXT},
                                   lambda lid, a: None, _check_proposal),
    "adjustment.approved": ActSpec({"role": TEXT}, {"note": TEXT}, lambda lid, a: None, _check_approval, False),
    "adjustment.rejected": ActSpec({"role": TEXT, "reason": TEXT}, {}, lambda lid, a: None, _check_rejection, False),
    "adjustment.rescinded": ActSpec({"reason": TEXT}, {}, lambda lid, a: None, _check_rescission, False),
    "decision.recorded": ActSpec({"year": INT, "unit": TEXT, "kind": TEXT, "value": TEXT, "reason": TEXT},
                                 {"evidence": TEXT}, lambda lid, a: None, _check_decision),
    "decision.revoked": ActSpec({"reason": TEXT}, {}, lambda lid, a: None, _check_decision_revoked, False),
}

# Acts that continue a stream opened by another act: they name no year; the stream's first act does.
CONTINUATIONS = {"adjustment.approved", "adjustment.rejected", "adjustment.rescinded", "decision.revoked"}


def check_act_fields(envelope: dict) -> ActSpec:
    """The spec of the envelope's act type, after checking the act's fields against it."""
    spec = ACTS.get(envelope["type"])
    if spec is None:
        raise Refused(f"unknown act type {envelope['type']!r}")
    check_fields(envelope["act"], spec.required, spec.optional, what=envelope["type"])
    act = envelope["act"]
    for name in ("unit", "indicator", "component", "rule"):
        if name in act:
            check_name(act[name], name)
    if "year" in act and not 1900 <= act["year"] <= 2999:
        raise Refused(f"year {act['year']} is out of range")
    return spec



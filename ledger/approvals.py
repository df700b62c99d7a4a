"""Who may propose, approve, reject and rescind an adjustment, and sign or revoke a grading decision."""
from __future__ import annotations

from .act_context import Context, adopted_year, need_role
from .adjustments import AdjustmentState
from .errors import Refused
from .shapes import check_text

KINDS = ("bonus", "penalty", "notice", "figure")  # an adjustment's optional `kind`, as an act file may give it


def check_proposal(ctx: Context) -> None:
    if ctx.stream_acts:
        raise Refused("a proposal opens a new adjustment; this one exists already")
    year = adopted_year(ctx)
    act = ctx.act
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in act["inputs"].items()):
        raise Refused("adjustment inputs must be text")
    for key, value in act["inputs"].items():
        check_text(key, "an input's name", limit=200)
        check_text(value, f"input {key!r}")
    if act.get("kind") not in (None, *KINDS):
        # a label only (the rule's points decide the sign), so it may not be anything but these
        raise Refused(f"kind must be one of {', '.join(KINDS)}")
    rule = year.scheme.check_adjustment(act["unit"], act["rule"], act["inputs"])
    if "office" not in ctx.signer.roles:
        need_role(ctx, "department")
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


def check_approval(ctx: Context) -> None:
    adj, approvers = _adjustment_in_play(ctx)
    role = ctx.act["role"]
    if role not in approvers:
        raise Refused(f"rule {adj.rule} is approved by {', '.join(approvers) or 'nobody'}; {role} is not one of them")
    need_role(ctx, role)
    if ctx.signer.person == adj.proposer_person:
        raise Refused(f"{ctx.signer.person} proposed adjustment {adj.id} and may not approve it")
    if any(a.role == role for a in adj.approvals):
        raise Refused(f"role {role} has approved adjustment {adj.id} already")
    if adj.approved_by(ctx.signer.person):
        raise Refused(f"{ctx.signer.person} has approved adjustment {adj.id} already (under another key or role)")


def check_rejection(ctx: Context) -> None:
    adj, approvers = _adjustment_in_play(ctx)
    role = ctx.act["role"]
    if role not in approvers:
        raise Refused(f"rule {adj.rule} is approved by {', '.join(approvers)}; {role} may not reject it")
    need_role(ctx, role)
    if not ctx.act["reason"].strip():
        raise Refused("a rejection needs a reason")


def check_rescission(ctx: Context) -> None:
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


def check_decision(ctx: Context) -> None:
    if ctx.stream_acts:
        raise Refused("a decision opens a new stream; this one exists already")
    year = adopted_year(ctx)
    if year.closing:
        raise Refused(f"year {year.year} is {'closed' if year.closed else 'being closed'}; its grades can no longer "
                      "change")
    scheme, act = year.scheme, ctx.act
    group = scheme.group_of(act["unit"])
    need_role(ctx, *scheme.decision_roles_for(act["unit"], act["kind"]))
    problem = group.grading.decision_problem(act["kind"], act["value"], act["unit"]) if group.grading else None
    if problem:
        raise Refused(problem)
    if not act["reason"].strip():
        raise Refused("a decision needs a reason")


def check_decision_revoked(ctx: Context) -> None:
    if ctx.decision is None:
        raise Refused("no such decision")
    if any(env["type"] == "decision.revoked" for env, _ in ctx.stream_acts):
        raise Refused("this decision was revoked already")
    if ctx.year.closing:
        raise Refused(f"year {ctx.year.year} is {'closed' if ctx.year.closed else 'being closed'}; its grades can no "
                      "longer change")
    need_role(ctx, *ctx.year.scheme.decision_roles_for(ctx.decision["unit"], ctx.decision["kind"]))
    if not ctx.act["reason"].strip():
        raise Refused("revoking a decision needs a reason")

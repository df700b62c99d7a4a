"""The catalogue of acts: for each type, its fields, the stream it belongs to, who may sign it and what must hold.

A check reads only the ledger's own state (registry, the year's scheme and close, the act's stream) and raises
`Refused` with a one-line reason. See docs/architecture.md for the event catalogue in prose.
"""
from __future__ import annotations

import base64
import binascii
from uuid import NAMESPACE_URL, UUID, uuid5

from .act_context import ActSpec, Context, check_correction, need_role, open_year
from .appeal_checks import check_answered, check_filed, check_published, close_problem
from .approvals import (check_approval, check_decision, check_decision_revoked, check_proposal, check_rejection,
                        check_rescission)
from .errors import Refused
from .shapes import check_fields, check_name, check_text, has_text
from .signing import key_id_of_text

NAMESPACE = uuid5(NAMESPACE_URL, "https://kaohe-ledger/streams")


def stream_of(ledger_id: str, *parts: object) -> UUID:
    """Deterministic stream id for things named by their parts (a year, a unit's score on an item…)."""
    return uuid5(NAMESPACE, "/".join([ledger_id, *map(str, parts)]))


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
    check_name(office["person"], "person")  # as `signatory.added` names its signatories
    check_name(office["department"], "department")


def _check_signatory_added(ctx: Context) -> None:
    need_role(ctx, "office")
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
    need_role(ctx, "office")
    target = ctx.registry.signatories.get(ctx.act["key_id"])
    if target is None:
        raise Refused(f"unknown signatory {ctx.act['key_id']}")
    if target.revoked_at:
        raise Refused(f"signatory {ctx.act['key_id']} was revoked already at {target.revoked_at}")
    if "office" in target.roles and not [s for s in ctx.registry.people_with_role("office") if s is not target]:
        # only the office registers and revokes keys: without an office key the ledger could never do either again
        raise Refused(f"signatory {ctx.act['key_id']} holds the ledger's last office key: register another office "
                      "key first, then revoke this one")
    check_text(ctx.act["reason"], "reason")
    if not ctx.act["reason"].strip():
        raise Refused("a revocation needs a reason")


# ---- the year stream ---------------------------------------------------------------------------------------------

def _check_scheme_adopted(ctx: Context) -> None:
    need_role(ctx, "office")
    year = ctx.year
    if year is not None and year.closing:
        raise Refused(f"year {year.year} is closed; its scheme can no longer change")
    from .years import scheme_from_text

    scheme = scheme_from_text(ctx.act["text"], ctx.act.get("file", ""))
    if scheme.year != ctx.act["year"]:
        raise Refused(f"the scheme is for {scheme.year}, not {ctx.act['year']}")
    if year is not None and year.adopted and not has_text(ctx.act.get("note")):
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
    need_role(ctx, role)
    if any(c.role == role for c in year.closes):
        raise Refused(f"role {role} has signed the close of {year.year} already")
    if any(c.person == ctx.signer.person for c in year.closes):
        raise Refused(f"{ctx.signer.person} has signed the close of {year.year} already, under another role")
    problem = None if year.closes else close_problem(year, ctx.envelope["signed_at"])
    if problem:
        raise Refused(f"{year.year} cannot be closed yet: {problem}")
    if year.closes:
        first = year.closes[0]
        if (ctx.act["position"], ctx.act["result_sha256"]) != (first.position, first.result_sha256):
            raise Refused(f"this close names position {ctx.act['position']} and result {ctx.act['result_sha256'][:12]}, "
                          f"but the close already signed names {first.position} and {first.result_sha256[:12]}")
        if ctx.act.get("groups") != first.groups:
            raise Refused("this close names other group results than the close already signed")
    if not _is_sha256(ctx.act["result_sha256"]):
        raise Refused("result_sha256 must be 64 lower-case hex digits")
    groups = ctx.act.get("groups", {})
    if not all(isinstance(v, str) and _is_sha256(v) for v in groups.values()):
        raise Refused("a close's group results must be 64 lower-case hex digits each")
    if not set(groups) <= {g.name for g in year.scheme.groups}:
        raise Refused(f"a close names a group the {year.year} scheme does not have")
    checkpoint = check_fields(ctx.act["checkpoint"], {"size": INT, "root": TEXT}, what="close checkpoint")
    if checkpoint["size"] != ctx.act["position"]:
        raise Refused("the close's checkpoint must be taken at the position it closes at")
    _check_tree_head(ctx, checkpoint["size"], checkpoint["root"])


class TreeHeadMismatch(Refused):
    """An act states a tree head (size, root) that the events before it do not give; `verify` says what that means
    for a stored act (events before it removed, reordered or inserted)."""

    def __init__(self, message: str, size: int, held: int):
        super().__init__(message)
        self.size, self.held = size, held


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _check_tree_head(ctx: Context, size: int, root_b64: str) -> None:
    """A (size, root) an act states must be the log's own."""
    if size < 1:
        raise Refused(f"size {size} is outside the log, which holds {ctx.log_size} event(s)")
    if size > ctx.log_size:
        raise TreeHeadMismatch(f"size {size} is outside the log, which holds {ctx.log_size} event(s)", size,
                               ctx.log_size)
    try:
        root = base64.b64decode(root_b64, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("root is not base64") from None
    if ctx.root_at is None or root != ctx.root_at(size):
        raise TreeHeadMismatch(f"root does not match the log's Merkle root at size {size}", size, ctx.log_size)


def _check_checkpoint(ctx: Context) -> None:
    need_role(ctx, "office", "auditor", "inspector")
    from .clock import parse_time

    parse_time(ctx.act["time"], "checkpoint time")
    _check_tree_head(ctx, ctx.act["size"], ctx.act["root"])


# ---- scores and evaluations --------------------------------------------------------------------------------------

def _check_score(ctx: Context) -> None:
    from .numbers import parse_decimal

    year = open_year(ctx)
    act = ctx.act
    value = None if act["value"] is None else parse_decimal(act["value"], "score")
    if act.get("participates", True) is False and value is not None:
        raise Refused("a unit that does not take part in an item has no score for it")
    if act.get("participates", True) and value is None:
        raise Refused("a score needs a value")
    indicator = year.scheme.check_score(act["unit"], act["indicator"], value)
    if "office" not in ctx.signer.roles:
        need_role(ctx, "department")
        if not indicator.assessed_by(ctx.signer.department):
            raise Refused(f"{act['indicator']} is assessed by {indicator.department}, "
                          f"not by {ctx.signer.department or 'an unnamed department'}")
    check_correction(ctx)


def _check_evaluation(ctx: Context) -> None:
    from .numbers import parse_decimal

    year = open_year(ctx)
    need_role(ctx, "office")
    act = ctx.act
    value = None if act.get("value") is None else parse_decimal(act["value"], "evaluation score")
    votes = act.get("votes")
    if votes is not None:
        if not isinstance(votes, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                  for v in votes.values()):
            raise Refused("votes must map each level to a whole number of votes")
    year.scheme.check_evaluation(act["unit"], act["component"], act["round"], value, act.get("level"), votes)
    check_correction(ctx)


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
                                  "checkpoint": dict}, {"groups": dict}, _year_stream, _check_close),
    "results.published": ActSpec({"year": INT, "position": INT, "result_sha256": TEXT}, {"note": TEXT},
                                 _year_stream, check_published),
    "appeal.filed": ActSpec({"year": INT, "unit": TEXT, "reason": TEXT}, {"document": TEXT, "evidence_sha256": TEXT},
                            _year_stream, check_filed),
    "appeal.answered": ActSpec({"year": INT, "appeal": TEXT, "role": TEXT, "outcome": TEXT, "reason": TEXT},
                               {"document": TEXT, "evidence_sha256": TEXT}, _year_stream, check_answered),
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
                                   lambda lid, a: None, check_proposal),
    "adjustment.approved": ActSpec({"role": TEXT}, {"note": TEXT}, lambda lid, a: None, check_approval, False),
    "adjustment.rejected": ActSpec({"role": TEXT, "reason": TEXT}, {}, lambda lid, a: None, check_rejection, False),
    "adjustment.rescinded": ActSpec({"reason": TEXT}, {}, lambda lid, a: None, check_rescission, False),
    "decision.recorded": ActSpec({"year": INT, "unit": TEXT, "kind": TEXT, "value": TEXT, "reason": TEXT},
                                 {"evidence": TEXT}, lambda lid, a: None, check_decision),
    "decision.revoked": ActSpec({"reason": TEXT}, {}, lambda lid, a: None, check_decision_revoked, False),
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
        raise Refused(f"year {act['year']} is out of range (1900 to 2999)")
    return spec



"""The review queue: adjustments waiting for a signatory's approval, and what an approval would sign."""
from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import Refused
from ledger.years import adopted_scheme_from_text

from .readstate import short_adjustments_state, year_state
from .replay import LogState

EVERY_YEAR = 9999  # a year view beyond every scheme's year: its rows hold the adjustments of every year


@dataclass(frozen=True)
class Waiting:
    """One adjustment in a review queue."""

    id: str
    stream: str
    year: int
    unit: str
    rule: str
    inputs: dict
    reason: str
    document: str
    proposer: str
    signed: tuple[str, ...]  # "role:person" already approved
    missing: tuple[str, ...]  # roles still required
    role: str = ""  # the role the signatory would approve in
    points: str = ""  # what the rule gives for these inputs, before caps and same-matter rules
    note: str = ""  # why it would not count as proposed (late, no document), if so
    evidence_sha256: str = ""

    def to_row(self) -> dict:
        """A flat row for tables."""
        return {"id": self.id, "year": self.year, "unit": self.unit, "rule": self.rule,
                "inputs": " ".join(f"{k}={v}" for k, v in sorted(self.inputs.items())), "points": self.points,
                "note": self.note, "reason": self.reason, "document": self.document,
                "evidence_sha256": self.evidence_sha256, "proposer": self.proposer, "signed": ", ".join(self.signed) or "-",
                "missing": ", ".join(self.missing), "role": self.role}


def _waiting(state: LogState, sid: str, stream: str) -> Waiting | None:
    adj = state.adjustments[sid]
    approvers = state.year(adj.year).scheme.rule(adj.rule).approvers
    if adj.status(approvers) != "pending":
        return None
    points, note = _points(state.year(adj.year).scheme.rule(adj.rule), adj)
    return Waiting(sid, stream, adj.year, adj.unit, adj.rule, adj.inputs, adj.reason, adj.document,
                   adj.proposer_person, tuple(f"{a.role}:{a.person}" for a in adj.approvals),
                   tuple(adj.missing(approvers)), points=points, note=note, evidence_sha256=adj.evidence_sha256)


def _points(rule, adj) -> tuple[str, str]:
    """The rule's points for the proposal's inputs, and why it would not count as proposed (if so)."""
    try:
        parsed = rule.check_inputs(adj.inputs)
        points, how = rule.points(parsed)
        late = rule.lateness(adj.proposed_at, parsed)
    except Refused as exc:
        return "", str(exc)
    note = late or ("no document (文号)" if rule.requires_document and not adj.document else "")
    return f"{points:+}" if points else "0", note


def review_state(ledger, year: int | None = None, groups: list[str] | None = None) -> LogState:
    """What a review reads, from the read models: the registry, the schemes and the adjustments of `year` and the
    years before it (of every year when None) that may still be pending; with `groups` of that year's scheme, all
    the adjustments of their units."""
    if groups is not None:
        state = year_state(ledger.store, EVERY_YEAR if year is None else year, groups=groups)
    else:
        state = short_adjustments_state(ledger.store, EVERY_YEAR if year is None else year, most_acts_pending)
    if year is not None and not state.year(year).adopted:
        raise Refused(f"no scheme has been adopted for {year}")
    return state


def most_acts_pending(scheme_texts: list[str]) -> int:
    """The most acts the stream of a pending adjustment can hold: as many as there are roles that approve any rule
    of any scheme ever adopted (each approval is by a role its rule named when it was signed, no role approves twice,
    a rejection or rescission settles it, and one role the rule names now is still missing)."""
    roles = set()
    for text in scheme_texts:
        for rule in adopted_scheme_from_text(text).rules.values():
            roles.update(rule.approvers)
    return len(roles)


def pending(state: LogState, key_id: str | None = None, year: int | None = None) -> list[Waiting]:
    """Pending adjustments (of `year`, or of every year); with a key, only those that signatory may approve now."""
    out = []
    signer = state.registry.signatories.get(key_id) if key_id else None
    if key_id and signer is None:
        raise Refused(f"unknown signer {key_id}")
    stream_of = {sid: stream for stream, sid in state.streams.items()}
    for sid in sorted(state.adjustments, key=lambda s: state.adjustment_positions[s][0][0]):
        if year is not None and state.adjustments[sid].year != year:
            continue  # an earlier year's, read for what it may carry over
        item = _waiting(state, sid, stream_of[sid])
        if item is None:
            continue
        if signer is not None:
            adj = state.adjustments[sid]
            roles = [r for r in item.missing if r in signer.roles]
            if not roles or adj.proposer_person == signer.person or adj.approved_by(signer.person):
                continue
            item = Waiting(**{**item.__dict__, "role": roles[0]})
        out.append(item)
    return out


def approval_plan(ledger, key_id: str, ids: list[str], role: str | None, verb: str = "approve") -> list[Waiting]:
    """What approving (or, `verb` "reject", rejecting) `ids` with this key would sign; refuses before anything is
    signed. Reads the read models' rows of each adjustment's unit only (a province holds hundreds of thousands of
    adjustments)."""
    plans, named, states = [], set(), {}
    for ref in ids:
        stream = ledger.resolve(ref, "adjustment.proposed", "adjustment")
        proposal = ledger.stream_acts(stream)[0][0]["act"]
        scope = (proposal["year"], proposal["unit"])
        if scope not in states:
            states[scope] = year_state(ledger.store, scope[0], units=[scope[1]])
        state = states[scope]
        signer = state.registry.signatories.get(key_id)
        if signer is None:
            raise Refused(f"unknown signer {key_id}: the key is not registered in this ledger")
        stream = str(stream)
        sid = state.streams[stream]
        if stream in named:
            raise Refused(f"adjustment {sid} is named twice")
        named.add(stream)
        item = _waiting(state, sid, stream)
        if item is None:
            adj = state.adjustments[sid]
            raise Refused(f"adjustment {sid} is {adj.status(state.year(adj.year).scheme.rule(adj.rule).approvers)}; "
                          f"nothing to {verb}")
        adj = state.adjustments[sid]
        if adj.proposer_person == signer.person:
            raise Refused(f"{signer.person} proposed adjustment {sid} and may not {verb} it"
                          + (" (a proposer withdraws it with `ledger adjust rescind`)" if verb == "reject" else ""))
        if adj.approved_by(signer.person):
            raise Refused(f"{signer.person} has approved adjustment {sid} already")
        candidates = [r for r in item.missing if r in signer.roles]
        if role is not None:
            if role not in item.missing:
                raise Refused(f"adjustment {sid} needs {', '.join(item.missing)}; not {role}")
            candidates = [role]
        if not candidates:
            raise Refused(f"adjustment {sid} still needs {', '.join(item.missing)}; "
                          f"{signer.person} holds {', '.join(signer.roles)}")
        if len(candidates) > 1:
            raise Refused(f"{signer.person} holds several roles adjustment {sid} needs ({', '.join(candidates)}): "
                          "choose one with --role")
        plans.append(Waiting(**{**item.__dict__, "role": candidates[0]}))
    return plans

"""Appeals as the office and 纪委 read them: each year's publications and every appeal with its deadline and answer;
and the act that publishes a year's results."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ledger.appeals import answer_due, appeal_window_end
from ledger.errors import Refused

from .readstate import registry_and_years


@dataclass(frozen=True)
class AppealRow:
    """One appeal: filed when and by whom, by when it is to be answered, and its answer if any."""

    id: str
    year: int
    unit: str
    status: str  # open, upheld, partly upheld, dismissed
    filed_at: str
    filed_by: str
    reason: str
    document: str
    evidence_sha256: str
    answer_due: str
    answered_at: str = ""
    answered_by: str = ""  # "role:person"
    answer: str = ""
    late: bool = False  # answered after answer_due
    event_id: str = ""

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class Notice:
    """A year's latest publication of results, and the end of the appeal window it opened."""

    year: int
    published_at: str
    position: int
    result_sha256: str
    published_by: str
    appeals_until: str
    times_published: int


def appeal_rows(ledger, year: int | None = None, open_only: bool = False) -> tuple[list[Notice], list[AppealRow]]:
    """The publications and appeals of `year` (of every year when None), in filing order; only unanswered ones with
    `open_only`."""
    return _rows(registry_and_years(ledger.store), year, open_only)


def _rows(state, year: int | None, open_only: bool = False) -> tuple[list[Notice], list[AppealRow]]:
    if year is not None and not state.year(year).adopted:
        raise Refused(f"no scheme has been adopted for {year}")
    notices, rows = [], []
    for y in sorted(state.years) if year is None else [year]:
        ystate = state.years[y]
        if not ystate.adopted:
            continue
        if ystate.publications:
            last = ystate.publications[-1]
            notices.append(Notice(y, last.signed_at, last.position, last.result_sha256, last.person,
                                  appeal_window_end(ystate), len(ystate.publications)))
        for appeal in ystate.appeals.values():
            if open_only and appeal.answer is not None:
                continue
            rows.append(_row(ystate, appeal))
    return notices, rows


def _row(ystate, appeal) -> AppealRow:
    due, answer = answer_due(ystate, appeal), appeal.answer
    row = AppealRow(appeal.id, ystate.year, appeal.unit, "open" if answer is None else answer.outcome,
                    appeal.signed_at, appeal.person, appeal.reason, appeal.document, appeal.evidence_sha256, due,
                    event_id=appeal.event_id)
    if answer is None:
        return row
    return AppealRow(**{**row.to_dict(), "answered_at": answer.signed_at, "answered_by": f"{answer.role}:{answer.person}",
                        "answer": answer.reason, "late": answer.signed_at > due})


def publish_act(ledger, year: int, note: str | None = None) -> dict:
    """The `results.published` act: the year's results as they stand now (from the read models), by position and
    hash, which opens the appeal window."""
    from .asof import year_view

    if not ledger.year(year).adopted:
        raise Refused(f"no scheme has been adopted for {year}")
    results = year_view(ledger, year)
    act = {"year": year, "position": results.position, "result_sha256": results.result_hash()}
    if note:
        act["note"] = note
    return act


def _resolve(state, ref: str) -> tuple[int, str]:
    """(year, event id) of the appeal whose filing's event id starts with `ref` (at least 8 hex digits)."""
    ref = ref.strip().lower()
    if len(ref) < 8 or any(c not in "0123456789abcdef" for c in ref):
        raise Refused(f"{ref!r} is not an appeal id (8 or more hex digits of the filing's event id)")
    found = [r for r in _rows(state, None)[1] if r.event_id.startswith(ref)]
    if not found:
        raise Refused(f"no appeal {ref}")
    if len(found) > 1:
        raise Refused(f"{ref} names {len(found)} appeals: give more digits")
    return found[0].year, found[0].event_id


def answer_act(ledger, ref: str, key_id: str, outcome: str, reason: str, role: str | None = None) -> dict:
    """The `appeal.answered` act for this signer, in the one role of the scheme's `answered_by` it holds (or `role`)."""
    state = registry_and_years(ledger.store)
    year, event_id = _resolve(state, ref)
    signer = state.registry.signatories.get(key_id)
    if signer is None:
        raise Refused(f"unknown signer {key_id}: the key is not registered in this ledger")
    roles = state.year(year).scheme.appeals.answered_by
    mine = [r for r in roles if r in signer.roles] if role is None else [role]
    if not mine:
        raise Refused(f"appeals of {year} are answered by {', '.join(roles)}; {signer.person} holds "
                      f"{', '.join(signer.roles)}")
    if len(mine) > 1:
        raise Refused(f"{signer.person} may answer as {', '.join(mine)}: choose one with --role")
    return {"year": year, "appeal": event_id, "role": mine[0], "outcome": outcome, "reason": reason}

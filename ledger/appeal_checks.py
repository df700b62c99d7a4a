"""Who may publish a year's results, record an appeal and answer it, and when (the state: ledger/appeals.py)."""
from __future__ import annotations

from .act_context import Context, adopted_year, need_role
from .appeals import OUTCOMES, appeal_window_end
from .errors import Refused
from .shapes import check_text, has_text


def check_published(ctx: Context) -> None:
    year = adopted_year(ctx)
    need_role(ctx, "office")
    _not_final(year, "its results can no longer be published")
    act = ctx.act
    if not 1 <= act["position"] <= ctx.log_size:
        raise Refused(f"position {act['position']} is outside the log, which holds {ctx.log_size} event(s)")
    _check_hex(act["result_sha256"], "result_sha256")


def check_filed(ctx: Context) -> None:
    year = adopted_year(ctx)
    need_role(ctx, "office")
    _not_final(year, "its results are final and can no longer be appealed")
    act = ctx.act
    year.scheme.group_of(act["unit"])  # an unknown unit refused by name
    if not year.publications:
        raise Refused(f"the results of {year.year} have not been published (`ledger year publish`): an appeal "
                      "follows the notice of results")
    ends = appeal_window_end(year)
    if ctx.envelope["signed_at"] > ends:
        raise Refused(f"the appeal period of {year.year} ended at {ends} ({year.scheme.appeals.days} days after the "
                      f"results were published at {year.publications[-1].signed_at})")
    open_one = next((a for a in year.appeals.values() if a.unit == act["unit"] and a.answer is None), None)
    if open_one is not None:
        raise Refused(f"{act['unit']} has an appeal open already ({open_one.id}): answer it first")
    check_text(act["reason"], "reason")
    if not act["reason"].strip():
        raise Refused("an appeal needs the unit's reason")
    if "evidence_sha256" in act:
        _check_hex(act["evidence_sha256"], "evidence_sha256")


def check_answered(ctx: Context) -> None:
    year = adopted_year(ctx)
    act = ctx.act
    appeal = year.appeals.get(act["appeal"])
    if appeal is None:
        raise Refused(f"no appeal {act['appeal'][:12]} in {year.year}")
    if appeal.answer is not None:
        raise Refused(f"appeal {appeal.id} was answered already ({appeal.answer.outcome}, "
                      f"{appeal.answer.signed_at})")
    _not_final(year, "its appeals can no longer be answered")
    roles = year.scheme.appeals.answered_by
    if act["role"] not in roles:
        raise Refused(f"appeals of {year.year} are answered by {', '.join(roles)}; {act['role']} is not one of them")
    need_role(ctx, act["role"])
    if act["outcome"] not in OUTCOMES:
        raise Refused(f"outcome must be one of {', '.join(OUTCOMES)}")
    check_text(act["reason"], "reason")
    if not has_text(act["reason"]):
        raise Refused("an answer needs a reason")
    if ctx.envelope["signed_at"] < appeal.signed_at:
        raise Refused(f"the answer is signed at {ctx.envelope['signed_at']}, before the appeal it answers "
                      f"({appeal.signed_at})")


def close_problem(year, signed_at: str) -> str | None:
    """Why the year's first close may not be signed at `signed_at` for its appeals; None if nothing stands in the way."""
    open_ones = [a for a in year.appeals.values() if a.answer is None]
    if open_ones:
        first = open_ones[0]
        more = f" (and {len(open_ones) - 1} more)" if len(open_ones) > 1 else ""
        return (f"the appeal of {first.unit} ({first.id}, filed {first.signed_at}) is not answered{more}: results "
                "are final only once every appeal is answered")
    ends = appeal_window_end(year)
    if ends is not None and signed_at <= ends:
        return (f"the results of {year.year} were published at {year.publications[-1].signed_at}; units may appeal "
                f"until {ends}, so the year can be closed only after that")
    return None


def _not_final(year, what: str) -> None:
    if year.closing:
        raise Refused(f"year {year.year} is {'closed' if year.closed else 'being closed'}: {what}")


def _check_hex(value: str, what: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise Refused(f"{what} must be 64 lower-case hex digits")

"""Appeals (复核): publishing a year's results, recording a unit's appeal, answering it, listing them."""
from __future__ import annotations

import click

from ledger.appeals import OUTCOMES

from .context import WHOLE, Env, add_evidence, evidence_option, format_option, not_empty, out_option, sign_with_option
from .emit import emit
from .render import render, render_json


@click.group("appeal")
def appeal() -> None:
    """A unit's request for review of its published results (复核), and its answer.

    The office publishes the year's results (`ledger year publish`); within the scheme's `[appeals] days` (default
    10) it records each unit's appeal, which is answered within `answer_days` (default 10). The year cannot be
    closed while an appeal is open or the appeal period runs.

    \b
    Example:
      ledger appeal file --year 2017 --unit 长皋乡 --reason "招商引资到位资金漏计" --sign-with office.key
      ledger appeal answer 3f9c2b1d0a4e --outcome upheld --reason "补计到位资金" --sign-with office.key
    """


@appeal.command("file")
@click.option("--year", type=WHOLE, required=True)
@click.option("--unit", required=True)
@click.option("--reason", required=True, callback=not_empty, help="The unit's grounds, as its letter states them.")
@click.option("--document", default="", help="Number (文号) of the unit's letter.")
@evidence_option("The letter or its scan")
@sign_with_option()
@out_option()
@click.pass_obj
def appeal_file(env: Env, year, unit, reason, document, evidence_path, key_path, out_path) -> None:
    """Record a unit's appeal against the year's published results (office).

    \b
    Example:
      ledger appeal file --year 2017 --unit 长皋乡 --reason "…" --document 长政〔2018〕3号 --sign-with office.key
    """
    act = {"year": year, "unit": unit, "reason": reason}
    add_evidence(act, document, evidence_path)
    emit(env, "appeal.filed", act, key_path, out_path)


@appeal.command("answer")
@click.argument("appeal_id")
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES))
@click.option("--reason", required=True, callback=not_empty, help="Why: what was re-checked and found.")
@click.option("--role", default=None, help="The role you answer in, when you hold several the scheme names.")
@click.option("--document", default="", help="Number (文号) of the written answer.")
@evidence_option("The written answer")
@sign_with_option()
@out_option()
@click.pass_obj
def appeal_answer(env: Env, appeal_id, outcome, reason, role, document, evidence_path, key_path, out_path) -> None:
    """Answer an appeal: upheld, partly upheld or dismissed, with the reason (the corrections themselves are
    recorded as usual: `score record --note`, `adjust propose`, `decide`).

    \b
    Example:
      ledger appeal answer 3f9c2b1d0a4e --outcome dismissed --reason "经复核，原评分无误" --sign-with office.key
    """
    from projections.appeals import answer_act

    key = env.key(key_path)
    act = answer_act(env.ledger(), appeal_id, key.key_id, outcome, reason, role)
    add_evidence(act, document, evidence_path)
    emit(env, "appeal.answered", act, key, out_path)


@appeal.command("list")
@click.option("--year", type=WHOLE, default=None, help="Only this year's (default: every year's).")
@click.option("--open", "open_only", is_flag=True, help="Only appeals not yet answered.")
@format_option()
@click.pass_obj
def appeal_list(env: Env, year, open_only, fmt) -> None:
    """The years' publications and their appeals: filed when, due by when, answered how.

    \b
    Example:
      ledger appeal list --year 2017 --open
    """
    from dataclasses import asdict

    from projections.appeals import appeal_rows

    ledger = env.ledger()
    ledger.ledger_id
    notices, rows = appeal_rows(ledger, year, open_only)
    if fmt == "json":
        render_json({"publications": [asdict(n) for n in notices], "appeals": [r.to_dict() for r in rows]})
        return
    if fmt == "table":
        for n in notices:
            click.echo(f"{n.year}: results published at {n.published_at} by {n.published_by} (position {n.position}, "
                       f"sha256 {n.result_sha256[:16]}…); appeals until {n.appeals_until}")
    rows_out = [{**r.to_dict(), "answered_at": r.answered_at + (" (late)" if r.late else "")} for r in rows]
    render(rows_out, ["id", "unit", "status", "filed_at", "answer_due", "answered_at", "reason", "answer"], fmt,
           title="appeals" if year is None else f"{year} appeals",
           headers={"id": "编号", "unit": "单位", "status": "状态", "reason": "理由", "answer": "答复"})


COMMANDS = [appeal]

"""`ledger adjust …`: bonuses, penalties, notices and reported figures, proposed and approved by signature."""
from __future__ import annotations

import json

import click

from .context import WHOLE, Env, add_evidence, evidence_option, out_option, sign_with_option, write_text
from .emit import emit
from .render import render

INPUT_OPTIONS = ("option", "points", "count", "amount", "target", "rank", "tied", "matter", "level", "area", "entity",
                 "date")


@click.group("adjust")
def adjust() -> None:
    """Propose, approve, reject and rescind adjustments (加减分).

    \b
    Example:
      ledger adjust propose --year 2017 --unit 长皋乡 --rule 附2-14表扬 --level 朝阳市及以上 \\
          --reason "朝阳市委通报表扬" --document 朝委发〔2017〕45号 --sign-with swb.key
      ledger adjust approve 3f9c2b1d --sign-with leader.key --yes
    """


def _input_options(func):
    for name in reversed(INPUT_OPTIONS):
        func = click.option(f"--{name}", default=None, help=f"Rule input '{name}' (see the scheme's rule kinds).")(func)
    return func


@adjust.command("propose")
@click.option("--year", type=WHOLE, required=True)
@click.option("--unit", required=True)
@click.option("--rule", required=True, help="The rule's id in the year's scheme.")
@_input_options
@click.option("--input", "extra", multiple=True, metavar="KEY=VALUE", help="Any other rule input.")
@click.option("--reason", required=True)
@click.option("--document", default="", help="Document number (文号) of the notice or evidence.")
@evidence_option()
@sign_with_option()
@out_option()
@click.pass_obj
def propose(env: Env, year, unit, rule, extra, reason, document, evidence_path, key_path, out_path, **inputs):
    """Propose an adjustment under a scheme rule; it counts once every required role has approved it.

    \b
    Example:
      ledger adjust propose --year 2017 --unit 财政局 --rule 附2-6 --amount 25000 --reason "完成融资2.5亿元" \\
          --document 北建投〔2017〕7号 --sign-with jtb.key
    """
    values = {k: v for k, v in inputs.items() if v is not None}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--input")
        if key.strip() in values:
            raise click.BadParameter(f"input {key.strip()!r} is given twice", param_hint="--input")
        values[key.strip()] = value
    act = {"year": year, "unit": unit, "rule": rule, "inputs": values, "reason": reason}
    add_evidence(act, document, evidence_path)
    emit(env, "adjustment.proposed", act, key_path, out_path)


@adjust.command("approve")
@click.argument("ids", nargs=-1, required=True)
@click.option("--role", default=None, help="The role you approve in, when you hold several the rule requires.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
@sign_with_option()
@out_option()
@click.pass_obj
def approve(env: Env, ids, role, yes, key_path, out_path) -> None:
    """Approve one or more adjustments, after showing what will be signed.

    \b
    Example:
      ledger adjust approve 3f9c2b1d 77aa0e12 --sign-with leader.key --yes
    """
    from projections.review import approval_plan

    ledger = env.ledger()
    key = env.key(key_path)
    plans = approval_plan(ledger, key.key_id, list(ids), role)
    render([p.to_row() for p in plans], ["id", "unit", "rule", "inputs", "points", "note", "reason", "role", "signed"],
           "table",
           title="To be signed")
    if not yes and not click.confirm(f"Sign {len(plans)} approval(s)?", err=True):
        raise click.exceptions.Abort()
    if len(plans) == 1:
        emit(env, "adjustment.approved", {"role": plans[0].role}, key, out_path, plans[0].stream)
    else:
        _approve_all(env, [("adjustment.approved", {"role": p.role}, p.stream) for p in plans], key, out_path)


def _approve_all(env: Env, acts: list, key, out_path: str | None) -> None:
    """Several approvals: all stored, or none (the first refusal stops the lot); with --out, all written to one
    JSON-lines file for `ledger submit --many`."""
    from ledger.bulk import act_together
    from projections import readmodel

    ledger = env.ledger()
    if out_path:
        lines = [json.dumps({"envelope": envelope, "signature": signature}, ensure_ascii=False)
                 for envelope, signature in (ledger.prepare_checked(t, a, key, env.signed_at, s)
                                                 for t, a, s in acts)]
        write_text(out_path, "\n".join(lines) + "\n")
        click.echo(f"{len(lines)} signed approvals written to {out_path}, one a line (not submitted: "
                   f"ledger submit --many {out_path})")
        return
    receipts = act_together(ledger, acts, key, env.signed_at)
    readmodel.catch_up(ledger.store)  # read-your-writes, as for one act
    for receipt in receipts:
        click.echo(f"Stored adjustment.approved as event {receipt.event_id[:12]} at position {receipt.position} "
                   f"(adjustment {ledger.display_id(receipt.stream, 'adjustment.proposed')})")


@adjust.command("reject")
@click.argument("adjustment_id")
@click.option("--reason", required=True)
@click.option("--role", default=None)
@sign_with_option()
@out_option()
@click.pass_obj
def reject(env: Env, adjustment_id, reason, role, key_path, out_path) -> None:
    """Reject a pending adjustment with a reason.

    \b
    Example:
      ledger adjust reject 3f9c2b1d --reason "无表彰文件" --sign-with leader.key
    """
    from projections.review import approval_plan

    ledger = env.ledger()
    key = env.key(key_path)
    plan = approval_plan(ledger, key.key_id, [adjustment_id], role, verb="reject")[0]
    emit(env, "adjustment.rejected", {"role": plan.role, "reason": reason}, key, out_path, plan.stream)


@adjust.command("rescind")
@click.argument("adjustment_id")
@click.option("--reason", required=True)
@sign_with_option()
@out_option()
@click.pass_obj
def rescind(env: Env, adjustment_id, reason, key_path, out_path) -> None:
    """Rescind an adjustment (the proposing department or the office), with a reason.

    \b
    Example:
      ledger adjust rescind 3f9c2b1d --reason "重复申报" --sign-with fgj.key
    """
    stream = env.ledger().resolve(adjustment_id, "adjustment.proposed", "adjustment")
    emit(env, "adjustment.rescinded", {"reason": reason}, key_path, out_path, stream=stream)


COMMANDS = [adjust]

"""History and time travel for discipline inspection (纪委) and auditors: a unit's acts, who changed its total, and
what changed between two views of the log."""
from __future__ import annotations

import json

import click

from .context import WHOLE, Env, format_option, groups_option, year_for_groups
from .render import render

AS_OF = click.option("--as-of", default=None, metavar="TIME|POSITION|CHECKPOINT",
                     help="Cut the log at a time (ISO 8601: the last act recorded by then), a log position, or the "
                          "size of a checkpoint file.")


def _store_and_position(env: Env, as_of: str | None):
    from projections.asof import view_position

    ledger = env.ledger()
    ledger.ledger_id  # refuses an empty database with a clear message
    return ledger.store, None if as_of is None else view_position(ledger, as_of, "--as-of")


def _echo_json(payload: dict) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=1))


def _flat(row: dict) -> dict:
    """A row for CSV: lists joined with '; '."""
    return {k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()}


def _signer(r: dict) -> str:
    return f"{r['person']} ({', '.join(x for x in (r['department'], r['role']) if x)})"


def _what(r: dict) -> str:
    text = f"{r['item']} {r['value']}".strip()
    if r["ref"]:
        text = f"{r['ref']} {text}"
    if r["corrects"]:
        text += f" (corrects {r['corrects'][:12]} at {r['corrects_position']})"
    return text


def _approval(r: dict) -> str:
    if not r["proposer"]:
        return r["status"]
    parts = [f"proposed by {r['proposer']}", "approved by " + ", ".join(r["approvers"]) if r["approvers"] else "",
             r["status"], f"counts {r['points']}" if r["points"] is not None else "",
             # a pending adjustment's "not yet approved" repeats its status: show why an approved one adds nothing
             f"not counted: {r['not_counted']}" if r["not_counted"] and r["status"].startswith("approved") else ""]
    return "; ".join(p for p in parts if p)


def _evidence(r: dict) -> str:
    return " ".join(x for x in (r["document"], r["evidence_sha256"] and "sha256 " + r["evidence_sha256"][:12]) if x)


@click.command("history")
@click.option("--unit", required=True)
@click.option("--year", type=WHOLE, default=None, help="Only this year (default: every year).")
@AS_OF
@format_option()
@click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="FILE.xlsx|FILE.csv",
              help="Write the history as a spreadsheet instead of printing it.")
@click.pass_obj
def history(env: Env, unit: str, year: int | None, as_of: str | None, fmt: str, out_path: str | None) -> None:
    """Every act that touched a unit, in log order, with who signed it, why, its evidence and the total after it.

    \b
    Example:
      ledger history --unit 办公室 --year 2017
      ledger history --unit 办公室 --as-of 2018-01-05T18:00:00+08:00 --format json
      ledger history --unit 办公室 --year 2017 --out 办公室-2017.xlsx
    """
    from projections.history import unit_history

    store, upto = _store_and_position(env, as_of)
    rows = [r.to_dict() for r in unit_history(store, unit, year, upto)]
    if fmt == "json":
        _echo_json({"unit": unit, "year": year, "as_of": upto, "rows": rows})
        return
    if fmt == "csv":
        render([_flat(r) for r in rows], list(rows[0]) if rows else ["position"], "csv")
        return
    table = [{"position": r["position"], "signed_at": r["signed_at"], "type": r["type"], "signer": _signer(r),
              "what": _what(r), "reason": r["reason"], "evidence": _evidence(r), "adjustment": _approval(r),
              "total": r["total"] if r["total_year"] == r["year"] or r["total"] is None
              else f"{r['total']} ({r['total_year']})"} for r in rows]
    title = f"{unit}" + (f", {year}" if year else "") + (f", as of position {upto}" if upto else "")
    columns = ["position", "signed_at", "type", "signer", "what", "reason", "evidence", "adjustment", "total"]
    if out_path:
        from ledger.sheets import Sheet

        from .sheets_cmd import _write

        _write(out_path, [Sheet(f"{unit}历史"[:31], columns, [[r[c] for c in columns] for r in table])])
        click.echo(f"Wrote {out_path}: {len(table)} acts ({title})")
        return
    render(table, ["position", "signed_at", "type", "signer", "what", "reason", "evidence", "adjustment", "total"],
           fmt, title=title, headers={"total": "total after"})


@click.command("who")
@click.option("--year", type=WHOLE, required=True)
@click.option("--unit", required=True)
@AS_OF
@format_option()
@click.pass_obj
def who(env: Env, year: int, unit: str, as_of: str | None, fmt: str) -> None:
    """Each change of a unit's total: from, to, the act that caused it, who signed it, who proposed and approved it.

    \b
    Example:
      ledger who --year 2017 --unit 办公室
    """
    from projections.history import who_changed

    store, upto = _store_and_position(env, as_of)
    rows = [c.to_dict() for c in who_changed(store, unit, year, upto)]
    if fmt == "json":
        _echo_json({"unit": unit, "year": year, "as_of": upto, "changes": rows})
        return
    if fmt == "csv":
        render([_flat(r) for r in rows], list(rows[0]) if rows else ["position"], "csv")
        return
    table = [{**r, "signer": _signer(r), "cause": _what(r) + ("; " + _approval(r) if r["proposer"] else "")
              + (f" (about {r['unit']})" if r["unit"] not in ("", unit) else "")} for r in rows]
    title = f"Changes of {unit}'s {year} total" + (f", as of position {upto}" if upto else "")
    render(table, ["position", "type", "signed_at", "signer", "from", "to", "delta", "cause"], fmt, title=title)


@click.command("diff")
@click.option("--from", "start", required=True, metavar="POSITION|TIME|CHECKPOINT",
              help="The old view: a log position, a time, or a checkpoint file.")
@click.option("--to", "end", required=True, metavar="POSITION|TIME|CHECKPOINT", help="The new view.")
@click.option("--year", type=WHOLE, default=None, help="Only this year (default: every adopted year).")
@groups_option()
@format_option()
@click.pass_obj
def diff(env: Env, start: str, end: str, year: int | None, groups: tuple[str, ...], fmt: str) -> None:
    """Units whose total, rank or grade differs between two views, with the acts in between that touched them.

    \b
    Example:
      ledger diff --from cp-2017-12-31.txt --to cp-2018-01-15.txt
      ledger diff --from 120 --to 2018-01-15 --year 2017 --format csv
      ledger diff --from 120 --to 2018-01-15 --year 2017 --group 乡镇
    """
    from projections.asof import view_position
    from projections.diff import diff as diff_views

    chosen = year_for_groups(groups, year)
    ledger = env.ledger()
    ledger.ledger_id
    a, b = view_position(ledger, start, "--from"), view_position(ledger, end, "--to")
    rows = [r.to_dict() for r in diff_views(ledger.store, a, b, year, chosen)]
    if fmt == "json":
        _echo_json({"from": a, "to": b, "year": year, "units": rows})
        return
    for r in rows:
        r["acts"] = ", ".join(f"{x['position']} {x['type']}" for x in r["acts"])
    render(rows, ["year", "group", "unit", "old_total", "old_rank", "old_grade", "new_total", "new_rank", "new_grade",
                  "acts"], fmt, title=f"Changes from position {a} to position {b}")


COMMANDS = [history, who, diff]

"""Scores, explanations, grades, and closing a year."""
from __future__ import annotations

import json

import click

from .context import WHOLE, Env, format_option, groups_option, out_option, sign_with_option
from .emit import emit
from .render import render, same_places

AS_OF = click.option("--as-of", default=None, metavar="TIME|POSITION",
                     help="Show the view as it stood at a time (ISO 8601) or log position.")


def read_year(env: Env, year: int, as_of: str | None, group: str | None = None, unit: str | None = None):
    """The year's results (or one group's, or one unit's group's), warning on stderr when the whole year's result
    is not the one its close signed."""
    from projections.asof import year_view

    ledger = env.ledger()
    ledger.ledger_id  # refuses an empty database with a clear message
    # one group's rows are the same computed alone (ranks and grades are per group): read only its units' facts
    results = year_view(ledger, year, as_of, None if group is None else [group], unit)
    if results.warning:
        click.echo(results.warning, err=True)
    return results


@click.command("scores")
@click.option("--year", type=WHOLE, required=True)
@click.option("--group", default=None, help="Only this group, read alone (one county of a province).")
@AS_OF
@format_option()
@click.pass_obj
def scores(env: Env, year: int, group: str | None, as_of: str | None, fmt: str) -> None:
    """Totals and ranks within group, with each formula term.

    \b
    Example:
      ledger scores --year 2017 --group 乡镇 --format csv
    """
    results = read_year(env, year, as_of, group)
    rows = []
    for unit in results.scores.units:
        if group is not None and unit.group != group:
            continue
        row = {"group": unit.group, "unit": unit.unit, "rank": unit.rank,
               "total": None if unit.total is None else str(unit.total)}
        row.update({k: str(v) for k, v in unit.terms.items() if k != "total"})
        row["adjustments"] = str(sum((e.points for e in unit.adjustments), start=0)) if unit.adjustments else "0"
        row["missing"] = len(unit.missing)
        rows.append(row)
    rows.sort(key=lambda r: (list(dict.fromkeys(u.group for u in results.scores.units)).index(r["group"]),
                             r["rank"] is None, r["rank"] or 0, r["unit"]))
    if fmt == "json":
        click.echo(json.dumps({"year": year, "position": results.position, "units": rows}, ensure_ascii=False,
                              indent=1))
        return
    terms = sorted({k for r in rows for k in r} - {"group", "unit", "rank", "total", "adjustments", "missing"})
    shown = same_places(rows, ["total", *terms, "adjustments"], _places(results))  # one column, one format
    render(shown, ["group", "unit", "rank", "total", *terms, "adjustments", "missing"], fmt,
           title=f"{year} scores at position {results.position}")


@click.command("explain")
@click.option("--year", type=WHOLE, required=True)
@click.option("--unit", required=True)
@AS_OF
@format_option()
@click.pass_obj
def explain(env: Env, year: int, unit: str, as_of: str | None, fmt: str) -> None:
    """The derivation of a unit's total, line by line, and the reasons of its grade.

    \b
    Example:
      ledger explain --year 2017 --unit 长皋乡
    """
    from ledger.errors import Refused

    results = read_year(env, year, as_of, unit=unit)  # the unit's group alone: its rank and grade are the same
    try:
        score = results.unit(unit)
    except StopIteration:
        raise Refused(f"unknown unit {unit!r} in {year}") from None
    row = next(r for r in results.rows() if r["unit"] == unit)
    if fmt == "json":
        click.echo(json.dumps({"score": score.to_dict(), "grade": row}, ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        render([{"line": line} for line in score.explain], ["line"], "csv")
        return
    click.echo(f"{unit} ({score.group}), {year}, as of position {results.position}")
    for line in score.explain:
        click.echo(f"  {line}")
    click.echo(f"  rank {row['rank']}, grade {row['grade'] or '-'}" + (" (pending)" if row["pending"] else ""))
    for reason in row["reasons"]:
        click.echo(f"    {reason}")


@click.command("grades")
@click.option("--year", type=WHOLE, required=True)
@click.option("--group", default=None, help="Only this group, read alone (the result hash, which covers every "
              "group, is then left out).")
@AS_OF
@format_option()
@click.pass_obj
def grades(env: Env, year: int, group: str | None, as_of: str | None, fmt: str) -> None:
    """Rank, total and grade per group, with the reason of every grade that is not the plain quota outcome; the whole
    year's table ends with its result hash, as a close signs it.

    \b
    Example:
      ledger grades --year 2017 --group 乡镇
    """
    results = read_year(env, year, as_of, group)
    rows = results.rows(group)
    title = f"{year} grades at position {results.position}" + (" (closed)" if results.closed else "")
    if fmt == "json":
        whole = {} if group is not None else {"result_sha256": results.result_hash()}
        click.echo(json.dumps({"year": year, "position": results.position, "closed": results.closed, **whole,
                               "units": rows}, ensure_ascii=False, indent=1))
        return
    for r in rows:
        r["reasons"] = "; ".join(r["reasons"])
    render(same_places(rows, ["total"], _places(results)), ["group", "rank", "unit", "total", "grade", "reasons"],
           fmt, title=title,
           headers={"group": "组", "rank": "排名", "unit": "单位", "total": "总分", "grade": "等次", "reasons": "说明"})
    if group is None and fmt == "table":
        click.echo(result_line(year, results.position, results.result_hash()))


def _places(results) -> int:
    """The places the shown groups publish totals at (保留两位小数: 2), the most of them when they differ."""
    return max((u.places for u in results.scores.units), default=2)


def result_line(year: int, position: int, digest: str) -> str:
    """How a whole year's result hash is shown: as the close signs it, and as `grades` shows it."""
    return f"Result table of {year} at position {position}: sha256 {digest}"


@click.group("year")
def year_group() -> None:
    """Publish an assessment year's results (公示) and close it.

    \b
    Example:
      ledger year publish 2017 --sign-with office.key
      ledger year close 2017 --sign-with office.key
    """


@year_group.command("publish")
@click.argument("year", type=WHOLE)
@click.option("--note", default=None, help="Where and how the results were made known (e.g. 公示 on the site).")
@sign_with_option()
@out_option()
@click.pass_obj
def year_publish(env: Env, year: int, note: str | None, key_path: str, out_path: str | None) -> None:
    """Sign the notice of a year's results as they stand now (position and result hash): units may appeal within
    the scheme's `[appeals] days` of it (default 10), and the year closes only after that period.

    \b
    Example:
      ledger year publish 2017 --note "区政府网站公示" --sign-with office.key
    """
    from ledger.appeals import appeal_window_end
    from projections.appeals import publish_act

    act = publish_act(env.ledger(), year, note)
    emit(env, "results.published", act, key_path, out_path)
    if not out_path:
        click.echo(f"{result_line(year, act['position'], act['result_sha256'])}; appeals until "
                   f"{appeal_window_end(env.ledger().year(year))}")


@year_group.command("close")
@click.argument("year", type=WHOLE)
@click.option("--role", default=None, help="The closing role you sign in, when you hold several.")
@sign_with_option()
@out_option()
@click.pass_obj
def year_close(env: Env, year: int, role: str | None, key_path: str, out_path: str | None) -> None:
    """Sign the close of a year: its position, result hash and tree head. Closed once every closing role signed.

    \b
    Example:
      ledger year close 2017 --sign-with office.key
      ledger year close 2017 --sign-with zuzhang.key
    """
    from projections.closing import close_act

    key = env.key(key_path)
    act = close_act(env.ledger(), year, key.key_id, role)
    emit(env, "year.close.signed", act, key, out_path)
    click.echo(result_line(year, act["position"], act["result_sha256"]))
    if not out_path:
        year_state = env.ledger().year(year)
        still = [r for r in year_state.scheme.closing_roles or ("office",)
                 if r not in {c.role for c in year_state.closes}]
        click.echo(f"{year} is closed." if not still else f"{year} is being closed; still to sign: {', '.join(still)}")


@click.command("consequences")
@click.option("--year", type=WHOLE, required=True)
@groups_option(needs_year=False)
@AS_OF
@format_option()
@click.pass_obj
def consequences(env: Env, year: int, groups: tuple[str, ...], as_of: str | None, fmt: str) -> None:
    """What the rules attach to consecutive results (约谈, 诫勉谈话, 调整岗位, staff-excellence share).

    \b
    Example:
      ledger consequences --year 2018
      ledger consequences --year 2018 --group 机关各部门、街道
    """
    from projections.asof import consequences_view

    ledger = env.ledger()
    ledger.ledger_id
    rows = [c.to_dict() for c in consequences_view(ledger, year, as_of, list(groups) or None)]
    for r in rows:
        r["years"] = "、".join(map(str, r["years"])) if fmt != "json" else r["years"]
    render(rows, ["unit", "rule", "consequence", "years", "share"], fmt, title=f"{year} consequences",
           headers={"unit": "单位", "rule": "规则", "consequence": "结果运用", "years": "年度", "share": "优秀比例"})


COMMANDS = [scores, explain, grades, year_group, consequences]

"""`ledger import`, `ledger template`, `ledger export`: spreadsheets in and out (.xlsx and .csv)."""
from __future__ import annotations

from pathlib import Path

import click

from .context import WHOLE, Env, sign_with_option, unwritable_refused
from .progress import progress_bar

KIND = click.option("--kind", type=click.Choice(["scores", "adjustments"]), default=None,
                    help="Score sheet or adjustment list (default: told by the header: 指标 or 规则).")
CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")  # a CSV text cell starting so is run as a formula by Excel


@click.command("import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--year", type=WHOLE, required=True)
@KIND
@sign_with_option()
@click.pass_obj
def import_cmd(env: Env, path: str, year: int, kind: str | None, key_path: str) -> None:
    """Import a score sheet or adjustment list (.xlsx or .csv): every row checked first, all appended or none.

    \b
    Columns (Chinese or English headers, any order):
      scores:       单位/unit 指标/indicator 得分/points [理由/reason: required to correct a recorded score]
      adjustments:  单位/unit 规则/rule 理由/reason [文号/document] and the rule's inputs: 选项/option
                    分值/points 数量/count 金额/amount 名次/rank 并列/tied 级别/level 领域/area 村/entity
                    目标/target 事项/matter 日期/date
    A CSV may be UTF-8 (with or without BOM) or GB18030. Bad rows are listed with their row numbers and nothing
    is appended; blank rows are skipped and counted.

    \b
    Example:
      ledger template --year 2017 --group 机关各部门、街道 --out 得分.xlsx
      ledger import 得分.xlsx --year 2017 --sign-with khb.key
      ledger import 加减分.csv --year 2017 --kind adjustments --sign-with khb.key
    """
    from ledger.errors import Refused
    from ledger.importer import check_rows, import_rows
    from ledger.sheets import read_rows

    sheet = read_rows(path, kind)
    rows = sheet.rows
    ledger = env.ledger()
    key = env.key(key_path)
    problems = check_rows(ledger, year, key.key_id, rows, env.signed_at)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise Refused(f"{len(problems)} of {len(rows)} rows are bad; nothing was appended")
    name = Path(path).name
    with progress_bar(f"Importing {name}", len(rows)) as advance:
        appended = import_rows(ledger, key, year, rows, advance, env.signed_at)
    unchanged = len(rows) - appended
    click.echo(f"Imported {name}: {appended} signed act(s) appended from {len(rows)} row(s)"
               + (f"; {unchanged} row(s) repeat the recorded score and were skipped" if unchanged else "")
               + (f"; skipped {sheet.blank} blank row(s)" if sheet.blank else ""))
    if rows[0].kind == "adjustments" and appended:
        click.echo("The adjustments count once approved: see `ledger pending`.")


@click.command("template")
@click.option("--year", type=WHOLE, required=True)
@click.option("--group", required=True, help="The group of the year's scheme.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), metavar="FILE.xlsx",
              help="Where to write (.xlsx; .csv writes the first sheet only).")
@click.option("--kind", type=click.Choice(["scores", "adjustments"]), default="scores", show_default=True)
@click.option("--department", default=None,
              help="Only the items or rules this department assesses (a name the scheme or a signatory gives).")
@click.pass_obj
def template(env: Env, year: int, group: str, out_path: str, kind: str, department: str | None) -> None:
    """Write a blank score sheet (one row per unit and leaf item) or adjustment list (with a sheet of the rules).

    \b
    Example:
      ledger template --year 2017 --group 机关各部门、街道 --out 得分.xlsx
      ledger template --year 2017 --group 机关各部门、街道 --kind adjustments --out 加减分.xlsx
    """
    from ledger.errors import Refused
    from ledger.sheets import template_sheets
    from projections.departments import template_department_problem

    _suffix(out_path)
    ledger = env.ledger()
    problem = template_department_problem(ledger.store, year, department) if department is not None else None
    if problem:
        raise Refused(problem)
    sheets = template_sheets(ledger.year(year).scheme, group, kind, department)
    _write(out_path, sheets)
    rows = len(sheets[0].rows)
    click.echo(f"Wrote {out_path}: " + (f"{rows} row(s) to fill" if kind == "scores" else
                                        f"the adjustment list's header and {len(sheets[1].rows)} rule(s)"))


@click.command("export")
@click.option("--year", type=WHOLE, required=True)
@click.option("--group", default=None, help="Only this group (required for CSV when the year has several).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), metavar="FILE.xlsx|FILE.csv")
@click.option("--as-of", default=None, metavar="TIME|POSITION",
              help="The result as it stood at a time (ISO 8601) or log position.")
@click.pass_obj
def export(env: Env, year: int, group: str | None, out_path: str, as_of: str | None) -> None:
    """Write the published result table: item points, 加分, 减分, 总分, 排名, 等次, 说明, and every adjustment.

    \b
    An .xlsx holds one sheet per group and the sheet 加减分明细 (each adjustment with counted points, status,
    proposer, approvers, document, evidence and reason). A .csv (UTF-8 with BOM) holds one group's table.

    \b
    Example:
      ledger export --year 2017 --out 2017年度考核结果.xlsx
      ledger export --year 2017 --group 机关各部门、街道 --as-of 2018-01-31 --out 结果.csv
    """
    from ledger.errors import Refused
    from projections.export import export_sheets

    from .results_cmd import read_year

    suffix = _suffix(out_path)
    results = read_year(env, year, as_of, group)  # only the group's facts read; warns as `grades` does
    sheets = export_sheets(results, group)
    if suffix == ".csv" and len(sheets) > 2:
        raise Refused(f"{year} has {len(sheets) - 1} groups and a CSV holds one table: give --group, or write .xlsx")
    _write(out_path, sheets)
    click.echo(f"Wrote {out_path}: {year} as of position {results.position}" + (" (closed)" if results.closed else ""))


# ---- writing files ------------------------------------------------------------------------------------------------

def _suffix(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise click.BadParameter(f"{path!r} must end in .xlsx or .csv", param_hint="--out")
    return suffix


def _write(path: str, sheets) -> None:
    with unwritable_refused(path):
        if _suffix(path) == ".csv":
            _write_csv(path, sheets[0])
        else:
            _write_xlsx(path, sheets)


def _write_csv(path: str, sheet) -> None:
    """UTF-8 with BOM, so that Excel opens the Chinese text correctly; CRLF rows as Excel writes them."""
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(sheet.header)
        for row in sheet.rows:
            writer.writerow([_csv_cell(v) for v in row])


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # text from signed acts (a reason, a document number) must not become a live formula in Excel
        return "'" + value if value.startswith(CSV_RISKY) else value
    return str(value)


def _write_xlsx(path: str, sheets) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for sheet in sheets:
        ws = book.create_sheet(_sheet_title(sheet.title, used))
        ws.append(sheet.header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for values in sheet.rows:
            ws.append(values)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula stays text
        for col, name in enumerate(sheet.header, 1):
            letter = openpyxl.utils.get_column_letter(col)
            if name in sheet.formats:
                for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                    cell.number_format = sheet.formats[name]
            widest = max([_width(name)] + [_width(v) for v in (r[col - 1] for r in sheet.rows)])
            ws.column_dimensions[letter].width = min(60, widest + 2)
            if widest > 60:
                for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "B2"
    book.save(path)


def _sheet_title(title: str, used: set[str]) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    clean = "".join("_" if c in "[]:*?/\\" else c for c in title)[:31] or "Sheet"
    name, n = clean, 2
    while name in used:
        suffix = f" ({n})"
        name, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _width(value) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


COMMANDS = [import_cmd, template, export]

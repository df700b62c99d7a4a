"""Rendering rows as an aligned table (wide Chinese characters counted as two columns), JSON or CSV."""
from __future__ import annotations

import csv
import io
import json
import sys
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

import click


def render(rows: list[dict], columns: list[str], fmt: str, title: str | None = None,
           headers: dict[str, str] | None = None) -> None:
    """Print rows in the chosen format; colours only when stdout is a terminal."""
    if fmt == "json":
        render_json(rows)
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
        click.echo(buf.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold" if sys.stdout.isatty() else None,
                  title_justify="left")
    for col in columns:
        table.add_column((headers or {}).get(col, col), overflow="fold")
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in columns])
    console = Console(width=max(120, min(200, _term_width())), no_color=not sys.stdout.isatty(),
                      highlight=False, soft_wrap=False)
    console.print(table)


def render_json(value) -> None:
    """Print a JSON document as every read command prints one."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=1))


# a value with more decimal places than this is a quotient kept exact (100 / 35 …, 37 places): no recorded figure
# has as many, and a table shows it at its column's places, half up (JSON and `explain` give it whole)
EXACT_PLACES = 8


def same_places(rows: list[dict], columns: list[str], places: int) -> list[dict]:
    """Copies of rows with each column's decimal text at one number of places: `places`, or more where a value of
    the column has more (a view's shape only: no value changes), except quotients kept exact (`EXACT_PLACES`)."""
    out = [dict(r) for r in rows]
    for col in columns:
        values = [_decimal(r.get(col)) for r in out]
        if all(v is None for v in values):
            continue
        digits = [d for d in (max(0, -v.as_tuple().exponent) for v in values if v is not None) if d <= EXACT_PLACES]
        quantum = Decimal(1).scaleb(-max(places, *digits))
        for row, value in zip(out, values):
            if value is not None:
                room = Context(prec=max(1, value.adjusted() + 1) + EXACT_PLACES + 2, rounding=ROUND_HALF_UP)
                row[col] = format(value.quantize(quantum, context=room), "f")
    return out


def _decimal(text) -> Decimal | None:
    if not isinstance(text, str):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _term_width() -> int:
    import shutil

    return shutil.get_terminal_size((160, 40)).columns


def verdict(report, fmt: str, ok_line: str, extra: dict | None = None, also: int | None = 9) -> None:
    """Print a verification report: as JSON, or its one-line verdict (on failure, on stderr: the first one and up to
    `also` more below it; with `also` None, how many and then every one, a line each); exit 1 if it failed."""
    import base64

    if fmt == "json":
        click.echo(json.dumps({"ok": report.ok, **(extra or {}), "size": report.size,
                               "root": base64.b64encode(report.root).decode(),
                               "signatures_checked": report.signatures_checked,
                               "checkpoints_checked": report.checkpoints_checked,
                               "closed_years_replayed": report.closed_years,
                               "failures": [str(f) for f in report.failures]}, ensure_ascii=False, indent=1))
    elif report.ok:
        click.echo(ok_line)
    elif also is None:
        count = len(report.failures)
        click.echo(f"FAILED: {count} failure{'s' if count > 1 else ''}", err=True)
        for failure in report.failures:
            click.echo(f"  {failure}", err=True)
    else:
        more = len(report.failures) - 1
        click.echo(f"FAILED: {report.failures[0]}", err=True)
        for failure in report.failures[1:1 + also]:
            click.echo(f"  also: {failure}", err=True)
        if more > also:  # the last ones (a missing tail, a checkpoint's root) may be the decisive ones
            click.echo(f"  and {more - also} more (--format json lists every one); the last: {report.failures[-1]}",
                       err=True)
    if not report.ok:
        sys.exit(1)

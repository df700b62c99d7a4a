"""Rendering rows as an aligned table (wide Chinese characters counted as two columns), JSON or CSV."""
from __future__ import annotations

import csv
import io
import json
import sys

import click


def render(rows: list[dict], columns: list[str], fmt: str, title: str | None = None,
           headers: dict[str, str] | None = None) -> None:
    """Print rows in the chosen format; colours only when stdout is a terminal."""
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
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


def _term_width() -> int:
    import shutil

    return shutil.get_terminal_size((160, 40)).columns

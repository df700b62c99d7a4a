"""Read commands: the log and the review queue (scores, grades and audit views are added beside them)."""
from __future__ import annotations

import json

import click

from .context import POSITIVE, WHOLE, Env, format_option, groups_option, year_for_groups
from .render import render


@click.command("log")
@click.option("--from", "start", type=POSITIVE, default=1, show_default=True, help="First position (1 or more).")
@click.option("--limit", type=POSITIVE, default=None, help="At most this many acts (1 or more).")
@format_option()
@click.pass_obj
def log(env: Env, start: int, limit: int | None, fmt: str) -> None:
    """Print the log's acts in order (`--format json`: one JSON object a line, with envelope and signature).

    \b
    Example:
      ledger log --from 100 --limit 20
      ledger log --format json > log.jsonl
    """
    from projections.logview import log_rows

    ledger = env.ledger()
    ledger.ledger_id  # refuses an empty database with a clear message
    upto = start + limit - 1 if limit else None
    rows = log_rows(ledger.store, start, upto)
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
        return
    columns = ["position", "event_id", "type", "person", "signed_at", "summary"]
    table_rows = [{**r, "event_id": r["event_id"][:12]} for r in rows]
    render(table_rows, columns, fmt)


@click.command("pending")
@click.option("--sign-with", "key_path", default=None, envvar="LEDGER_KEY", type=click.Path(dir_okay=False),
              help="Show only what waits for this signatory (private key file, or its .pub).")
@click.option("--year", type=WHOLE, default=None)
@groups_option()
@format_option()
@click.pass_obj
def pending(env: Env, key_path: str | None, year: int | None, groups: tuple[str, ...], fmt: str) -> None:
    """List adjustments waiting for approval, with rule, points, reason, evidence and who has signed.

    \b
    Example:
      ledger pending --sign-with leader.key
      ledger pending --year 2017 --group 乡镇 --format json
    """
    from projections.review import pending as waiting, review_state

    chosen = year_for_groups(groups, year)
    key_id = _key_id(key_path) if key_path else None
    rows = [w.to_row() for w in waiting(review_state(env.ledger(), year, chosen), key_id, year)]
    render(rows, ["id", "year", "unit", "rule", "inputs", "points", "note", "reason", "document", "proposer", "signed",
                  "missing"], fmt)


def _key_id(path: str) -> str:
    """The key id of a key file, read from its public half (no passphrase needed)."""
    from ledger.keys import load_public_text
    from ledger.signing import key_id_of_text

    pub = path if path.endswith(".pub") else path + ".pub"
    return key_id_of_text(load_public_text(pub))


COMMANDS = [log, pending]

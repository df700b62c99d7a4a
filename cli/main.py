"""The `ledger` command. Heavy libraries are imported inside commands so that `ledger --help` starts fast."""
from __future__ import annotations

import gc
import sys

import click

from .context import Env, LedgerGroup, not_empty, run_guarded

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


def _signing_time(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--signed-at` is checked as it is read, so that a bad time is refused naming the option."""
    if not_empty(ctx, param, value) is not None:
        from ledger.clock import parse_time

        parse_time(value, "--signed-at")
    return value


@click.group(cls=LedgerGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="kaohe-ledger", prog_name="ledger")
@click.option("--db", envvar="LEDGER_DB", default="ledger.db", show_default=True, metavar="URL", callback=not_empty,
              help="SQLite file or postgresql+psycopg://user@host:port/db (env LEDGER_DB).")
@click.option("--passphrase-env", envvar="LEDGER_PASSPHRASE_ENV", metavar="NAME", callback=not_empty,
              help="Read key passphrases from environment variable NAME instead of prompting.")
@click.option("--signed-at", envvar="LEDGER_SIGNED_AT", metavar="TIME", callback=_signing_time,
              help="Signing time to put on acts (ISO 8601), for acts signed earlier on paper; default now.")
@click.pass_context
def cli(ctx: click.Context, db: str, passphrase_env: str | None, signed_at: str | None) -> None:
    """kaohe-ledger: a signed, event-sourced ledger of the annual performance assessment (年度实绩考核).

    \b
    Example:
      ledger demo                      # build a signed sample year and print its grades
      ledger --db office.db scores --year 2017 --group 乡镇
    """
    ctx.obj = Env(db=db, passphrase_env=passphrase_env, signed_at=signed_at)


def _register() -> None:
    from . import (acts_cmd, adjust_cmd, appeal_cmd, audit_cmd, bundle_cmd, demo, history_cmd, keys_cmd,
                   maintenance_cmd, read_cmd, results_cmd, setup_cmd, sheets_cmd)

    for module in (keys_cmd, setup_cmd, acts_cmd, adjust_cmd, read_cmd, results_cmd, appeal_cmd, audit_cmd,
                   bundle_cmd, demo, history_cmd, sheets_cmd, maintenance_cmd):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console entry point: one-line errors, exit 1 for refusals, 2 for usage errors, never a traceback."""
    # A command allocates some 100,000 objects loading its libraries, nearly all of which live until it exits, and
    # with the default thresholds (700, 10, 10) the collector walks them over and over: 60-80 ms of a 400 ms
    # `ledger scores`. Young cycles are collected every 100,000 allocations instead; long commands still collect.
    gc.set_threshold(100_000, 10, 10)
    run_guarded(cli, sys.argv[1:])


if __name__ == "__main__":
    main()

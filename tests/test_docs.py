"""The docs stay true: the CLI reference is generated from the commands, and every command shows an example."""
from __future__ import annotations

from pathlib import Path

import click

from cli.main import cli
from cli.reference import reference

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current():
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == reference(cli), \
        "docs/cli.md is stale: run `python -m cli.reference > docs/cli.md`"


def _commands(group: click.Group, path=("ledger",)):
    for name, command in group.commands.items():
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))


def test_every_command_has_a_summary_and_an_example():
    missing = [" ".join(p) for p, c in _commands(cli) if not c.help or "Example:" not in c.help
               or not c.get_short_help_str().strip()]
    assert missing == []

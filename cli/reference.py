"""The CLI reference (docs/cli.md), generated from the commands themselves so that it stays true.

Regenerate with: python -m cli.reference > docs/cli.md   (tests/test_docs.py checks it is current)
"""
from __future__ import annotations

import inspect
import re
import textwrap

import click

HEADER = """# CLI reference

Generated from the commands by `python -m cli.reference > docs/cli.md`; a test keeps it current.

Global options come before the command: `ledger [--db URL] [--passphrase-env NAME] [--signed-at TIME] COMMAND …`.
Environment variables: `LEDGER_DB` (database), `LEDGER_KEY` (your key file for `--sign-with`),
`LEDGER_PASSPHRASE_ENV` (the name of the variable holding your passphrase), `LEDGER_SIGNED_AT`,
`LEDGER_SCHEME_CACHE` (where large adopted schemes' parsed text is cached, or `off`; docs/security.md).
Exit codes: 0 done; 1 refused (one line `Error: …` naming the problem, nothing appended); 2 usage error (one
line too: a missing or malformed option, or an option that takes one value given twice).
Every read command takes `--format table|json|csv` (`log --format json` prints one JSON object a line). A command
given `--format json` that fails prints its error as one JSON line on stderr instead, `{"error": "…", "exit": 1}`
(the message of `Error: …`; exit 2 for a usage error), and nothing on stdout.
Shell completion: `eval "$(_LEDGER_COMPLETE=bash_source ledger)"` (bash; `zsh_source`, `fish_source` likewise).
"""


def _walk(command: click.Command, path: list[str]):
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _walk(command.commands[name], path + [name])


def reference(root: click.Group) -> str:
    """Markdown for every command: usage, help, options."""
    out = [HEADER]
    for path, command in _walk(root, ["ledger"]):
        if len(path) == 1:
            continue
        ctx = click.Context(command, info_name=" ".join(path))
        out.append(f"\n## `{' '.join(path)}`\n")
        # click versions differ in how a group that runs without a subcommand shows it; keep one spelling
        usage = command.get_usage(ctx)
        if getattr(command, "invoke_without_command", False):
            usage = re.sub(r"\[?COMMAND\]? \[ARGS\]\.\.\.", "[COMMAND [ARGS]...]", usage)
        out.append(f"```\n{usage}\n```\n")
        text, _, example = inspect.cleandoc(command.help or "").replace("\b\n", "").partition("Example:")
        out.append(text.strip() + "\n")
        if example.strip():
            out.append("\n```sh\n" + textwrap.dedent(example).strip("\n") + "\n```\n")
        rows = []
        for param in command.get_params(ctx):
            if not isinstance(param, click.Option):
                continue  # arguments are in the usage line (and click versions differ on listing them)
            record = param.get_help_record(ctx)
            if record and record[0] not in ("-h, --help", "--help"):
                rows.append(f"| `{record[0]}` | {record[1].replace('|', '/')} |")
        if rows:
            out.append("\n| option | meaning |\n|---|---|\n" + "\n".join(rows) + "\n")
    return "".join(out)


if __name__ == "__main__":
    from .main import cli

    print(reference(cli), end="")

"""What every command shares: the database, how to unlock keys, and the one-line error guard."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import click


@dataclass
class Env:
    db: str
    passphrase_env: str | None = None
    signed_at: str | None = None
    _ledger: object = field(default=None, repr=False)

    def ledger(self):
        """The write side over `--db` (opened once per command)."""
        if self._ledger is None:
            from ledger.store import EventStore
            from ledger.writer import Ledger

            self._ledger = Ledger(EventStore(self.db))
        return self._ledger

    def passphrase(self, path: str, confirm: bool = False) -> bytes:
        """The passphrase for a key file: from the named environment variable, else prompted."""
        if self.passphrase_env:
            value = os.environ.get(self.passphrase_env)
            if value is None:
                raise click.UsageError(f"environment variable {self.passphrase_env} is not set")
            return value.encode("utf-8")
        if not sys.stdin.isatty():
            raise click.UsageError("no terminal to ask for the passphrase: use --passphrase-env NAME")
        return click.prompt(f"Passphrase for {path}", hide_input=True, confirmation_prompt=confirm,
                            err=True).encode("utf-8")

    def key(self, path: str):
        """Load and unlock a private key file."""
        from ledger.keys import load_private

        return load_private(path, self.passphrase(path))


def run_guarded(cli: click.Group, args: list[str]) -> None:
    """Run the click group; a refusal prints `Error: …` and exits 1, anything unexpected likewise (no traceback)."""
    from ledger.errors import LedgerError

    try:
        cli.main(args=args, prog_name="ledger", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except LedgerError as exc:
        click.echo(f"Error: {_one_line(str(exc))}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # never a traceback for the user; LEDGER_DEBUG=1 shows it
        if os.environ.get("LEDGER_DEBUG"):
            raise
        click.echo(f"Error: {exc.__class__.__name__}: {_one_line(str(exc))}", err=True)
        sys.exit(1)
    sys.exit(0)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines)[:2000] if lines else "failed"


def sign_with_option(required: bool = True):
    """The `--sign-with KEYFILE` option (env LEDGER_KEY)."""
    return click.option("--sign-with", "key_path", required=required, envvar="LEDGER_KEY", metavar="KEYFILE",
                        type=click.Path(dir_okay=False), help="Your private key file (env LEDGER_KEY).")


def format_option(default: str = "table"):
    return click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=default,
                        show_default=True, help="Output format.")


def out_option():
    return click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="FILE",
                        help="Write the signed act to FILE instead of submitting it (submit later with `ledger submit`).")

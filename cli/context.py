"""What every command shares: the database, how to unlock keys, and the one-line error guard."""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NoReturn

import click


@dataclass
class Env:
    db: str
    passphrase_env: str | None = None
    signed_at: str | None = None
    _ledger: object = field(default=None, repr=False)

    def ledger(self, create: bool = False):
        """The write side over `--db` (opened once per command); only with `create` may a new SQLite file be made."""
        if self._ledger is None:
            from ledger.store import EventStore
            from ledger.writer import Ledger

            from projections import readmodel

            store = EventStore(self.db)
            store.check_sqlite_file(create)  # before the recorder opens the file, which creates its tables
            self._ledger = Ledger(store)
            # a stored event the views cannot fold stops a signed act before it is appended, not after
            self._ledger.before_append = lambda: readmodel.catch_up(store)
        return self._ledger

    def damage(self, exc: Exception):
        """The refusal for a command that failed with `exc` after reading the store: the one naming the first stored
        event that is not the signed act the writer stored (`ledger.stored.Damaged`), if there is one; else, for a
        value that did not read (`ledger.stored.Unreadable`), its own one line; else None."""
        from ledger.errors import LedgerError
        from ledger.stored import Unreadable, may_be_damage

        if self._ledger is None or not may_be_damage(exc):
            return None
        try:
            found = self._ledger.damage()
        except Exception:  # the store cannot be read now: the command's own error stands
            found = None
        return LedgerError(str(exc)) if found is None and isinstance(exc, Unreadable) else found

    def passphrase(self, path: str, confirm: bool = False) -> bytes:
        """The passphrase for a key file: from the named environment variable, else prompted."""
        if self.passphrase_env:
            value = os.environ.get(self.passphrase_env)
            if value is None:
                raise click.UsageError(f"environment variable {self.passphrase_env} is not set",
                                       click.get_current_context(silent=True))
            return value.encode("utf-8")
        if not sys.stdin.isatty():
            raise click.UsageError("no terminal to ask for the passphrase: use --passphrase-env NAME",
                                   click.get_current_context(silent=True))
        return click.prompt(f"Passphrase for {path}", hide_input=True, confirmation_prompt=confirm,
                            err=True).encode("utf-8")

    def key(self, path: str):
        """Load and unlock a private key file."""
        from ledger.keys import load_private

        return load_private(path, self.passphrase(path))


class LedgerGroup(click.Group):
    """The `ledger` group: a command that fails reading a stored event that is not the signed act the writer stored
    fails naming that event (`Env.damage`) rather than with the error reading it raised. EAFP: nothing is checked
    ahead of a read."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            found = ctx.obj.damage(exc) if isinstance(ctx.obj, Env) else None
            if found is None:
                raise
            raise found from None


def run_guarded(cli: click.Group, args: list[str]) -> None:
    """Run the click group; a refusal prints `Error: …` and exits 1, a usage error likewise but exits 2, anything
    unexpected exits 1 (never a traceback). A command given `--format json` prints the error as one JSON line."""
    from ledger.errors import LedgerError

    # Read from the arguments, not from click's parsed options: a usage error or a refusal before click runs leaves
    # none, and a script that asked for JSON should get it for those too.
    fail = _Failure(_asks_json(cli, args))
    not_text = _not_utf8(args)
    if not_text:
        fail(f"{not_text} is not valid UTF-8 text", 2)
    twice = _given_twice(cli, args)
    if twice:
        fail(f"{twice} is given twice; give it once", 2)
    try:
        cli.main(args=args, prog_name="ledger", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted", 1)
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # a bare group (click 8.2+): its help
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # click prints Usage / Try / Error: one line instead, pointing at the help
        where = f" ({exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        fail(f"{_one_line(exc.format_message())}{where}", exc.exit_code)
    except click.ClickException as exc:
        fail(_one_line(exc.format_message()), exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except LedgerError as exc:
        fail(_one_line(str(exc)), 1)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:  # never a traceback for the user; LEDGER_DEBUG=1 shows it
        if os.environ.get("LEDGER_DEBUG"):
            raise
        fail(f"{exc.__class__.__name__}: {_one_line(str(exc))}", 1)
    sys.exit(0)


@dataclass(frozen=True)
class _Failure:
    """Ends the command with one line on stderr: `Error: …`, or under `--format json` `{"error": …, "exit": …}`."""

    as_json: bool

    def __call__(self, message: str, code: int) -> NoReturn:
        if self.as_json:
            import json

            click.echo(json.dumps({"error": message, "exit": code}, ensure_ascii=False), err=True)
        else:
            click.echo(f"Error: {message}", err=True)
        sys.exit(code)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines)[:2000] if lines else "failed"


def _not_utf8(args: list[str]) -> str | None:
    """Which argument is not UTF-8 text (bytes the shell passed that Python kept as surrogates), or None."""
    for n, arg in enumerate(args, 1):
        if _is_text(arg):
            continue
        name, eq, _ = arg.partition("=")
        if arg.startswith("--") and eq and _is_text(name):
            return f"the value of {name}"
        if n > 1 and args[n - 2].startswith("-") and _is_text(args[n - 2]):
            return f"argument {n} (after {args[n - 2]})"
        return f"argument {n}"
    return None


def _given_twice(group: click.Group, args: list[str]) -> str | None:
    """An option that takes one value and is given more than once (click keeps the last without a word: `--points
    5 --points 6` would sign 6), or None. Options of each level of the command path apart."""
    seen: dict[tuple[int, str], str] = {}
    for command, option, name, _ in _options_given(group, args):
        if option.is_flag or option.count or option.multiple:
            continue
        if (id(command), option.name) in seen:
            return seen[id(command), option.name]
        seen[id(command), option.name] = option.opts[-1] if option.opts[-1].startswith("--") else name
    return None


def _asks_json(group: click.Group, args: list[str]) -> bool:
    """Whether the arguments give the command's `--format` (the option `format_option` makes) as json."""
    return any(option.name == "fmt" and value == "json" for _, option, _, value in _options_given(group, args))


Given = tuple[click.Command, click.Option, str, str | None]


def _options_given(group: click.Group, args: list[str]) -> Iterator[Given]:
    """Each option the arguments give, as click will read them: (command, option, name as given, value; None for a
    flag or a value missing). Walks the command path as click will, options of each level apart."""
    command, i = group, 0
    while True:
        options = {name: p for p in command.params if isinstance(p, click.Option) for name in p.opts}
        while i < len(args) and args[i] != "--":
            arg, i = args[i], i + 1
            name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            option = options.get(name)
            if option is None:
                if not arg.startswith("-") and isinstance(command, click.Group):
                    break  # the subcommand's name: its own options follow
                continue
            if option.is_flag or option.count:
                yield command, option, name, None
                continue
            yield command, option, name, inline if eq else (args[i] if i < len(args) else None)
            i += 0 if eq else option.nargs
        else:
            return
        sub = command.get_command(click.Context(command), args[i - 1]) if isinstance(command, click.Group) else None
        if sub is None:
            return
        command = sub


def _is_text(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class WholeNumber(click.ParamType):
    """A whole number as people write one: ASCII digits, no sign, underscore, space or leading zero (click's int
    takes '２０１８', '2_018', '+2018' and ' 2018', since Python's int() does)."""

    name = "integer"
    _DIGITS = re.compile("0|[1-9][0-9]{0,17}")  # 18 digits: far beyond any year or position, and well inside int64

    def __init__(self, min: int = 0):
        self.min = min

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):  # a default
            return value
        if not isinstance(value, str) or not self._DIGITS.fullmatch(value):
            self.fail(f"{value!r} is not a whole number written in digits 0-9 without sign, spaces or leading zeros.",
                      param, ctx)
        if int(value) < self.min:
            self.fail(f"{value} is less than {self.min}.", param, ctx)
        return int(value)


WHOLE = WholeNumber()
POSITIVE = WholeNumber(min=1)


def not_empty(ctx: click.Context, param: click.Parameter, value):
    """Option callback: an empty value is refused rather than taken to mean the default."""
    if value == "":
        raise click.BadParameter("must not be empty.", ctx, param)
    return value


@contextmanager
def unwritable_refused(path: str) -> Iterator[None]:
    """A file the block writes at `path` that cannot be written refuses the command in one line."""
    from ledger.errors import Refused

    try:
        yield
    except OSError as exc:
        raise Refused(f"cannot write {path}: {exc.strerror or exc}") from None


def write_text(path: str, text: str) -> None:
    """Write a file the command produces (a signed act, say), refused in one line where it cannot be written."""
    with unwritable_refused(path), open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def sign_with_option(required: bool = True):
    """The `--sign-with KEYFILE` option (env LEDGER_KEY)."""
    return click.option("--sign-with", "key_path", required=required, envvar="LEDGER_KEY", metavar="KEYFILE",
                        type=click.Path(dir_okay=False), help="Your private key file (env LEDGER_KEY).")


def format_option(default: str = "table", choices: tuple[str, ...] = ("table", "json", "csv")):
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default,
                        show_default=True, help="Output format.")


def groups_option(needs_year: bool = True):
    """`--group G` (repeatable): one county of a province-wide ledger."""
    return click.option("--group", "groups", multiple=True, help="Only the units of this group of the year's scheme "
                        "(repeatable" + ("; needs --year" if needs_year else "") + "): one county of a province-wide "
                        "ledger.")


def year_for_groups(groups: tuple[str, ...], year: int | None) -> list[str] | None:
    """The groups as a list (None for none); groups without --year are a usage error (they are a year's scheme's)."""
    if groups and year is None:
        raise click.UsageError("--group needs --year (groups are the year's scheme's)")
    return list(groups) or None


def evidence_option(what: str = "An attached file"):
    """`--evidence FILE`: a file whose SHA-256 the act records (the file itself stays with the office)."""
    return click.option("--evidence", "evidence_path", default=None, type=click.Path(dir_okay=False, exists=True),
                        help=f"{what}; its SHA-256 is recorded.")


def add_evidence(act: dict, document: str, evidence_path: str | None) -> None:
    """Put the document number (文号) and the evidence file's SHA-256 into the act, where given."""
    import hashlib

    if document:
        act["document"] = document
    if evidence_path:
        with open(evidence_path, "rb") as fh:
            act["evidence_sha256"] = hashlib.file_digest(fh, "sha256").hexdigest()


def out_option():
    return click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="FILE",
                        help="Write the signed act to FILE instead of submitting it, after the checks a submit would "
                             "run now (submit later with `ledger submit`).")

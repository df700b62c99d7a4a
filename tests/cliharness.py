"""Run `ledger` commands in-process through the same guard as the console script (exit codes, one-line errors)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from cli.context import run_guarded
from cli.main import cli

PASS_ENV = "KAOHE_TEST_PASS"
PASSPHRASE = "test-passphrase"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def ok(self) -> "Result":
        assert self.code == 0, f"exit {self.code}: {self.out}{self.err}"
        return self


class Cli:
    """A `ledger` bound to one database and a folder of keys."""

    def __init__(self, db: str, keys: Path):
        self.db, self.keys = db, keys

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None) -> Result:
        runner = CliRunner()
        full = ["--db", self.db, "--passphrase-env", PASS_ENV, *map(str, args)]
        environ = {PASS_ENV: PASSPHRASE, **(env or {})}
        with runner.isolation(input=input, env=environ) as streams:
            code = 0
            try:
                run_guarded(cli, full)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            out = streams[0].getvalue().decode("utf-8")
            err = streams[1].getvalue().decode("utf-8")
        return Result(code, out, err)

    def key(self, name: str) -> str:
        """Path of a key pair `name` in the key folder, made on first use."""
        path = self.keys / f"{name}.key"
        if not path.exists():
            self("key", "new", "--out", path).ok()
        return str(path)

    def positions(self) -> int:
        """How many acts the log holds."""
        res = self("log", "--format", "json")
        return 0 if res.code else len([l for l in res.out.splitlines() if l.strip()])


def refused(result: Result, fragment: str, code: int = 1) -> None:
    """Assert a one-line refusal naming the problem, with no traceback."""
    assert result.code == code, f"expected exit {code}, got {result.code}: {result.out}{result.err}"
    text = result.err.strip()
    assert "Traceback" not in result.err + result.out
    assert len(text.splitlines()) == 1 or code == 2, text
    assert fragment in text, f"{fragment!r} not in {text!r}"

"""A command given `--format json` that fails prints its error as one line of JSON on stderr, the same message and
exit code as the text form, and nothing on stdout (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

import pytest

from tests.cliharness import Cli, Result
from tests.hy_ledger import UNIT, build


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


def json_error(res: Result, code: int) -> str:
    """Assert exit `code`, empty stdout and one stderr line `{"error": …, "exit": code}`; return the message."""
    assert res.code == code, f"expected exit {code}, got {res.code}: {res.out}{res.err}"
    assert res.out == "", res.out
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err
    error = json.loads(lines[0])
    assert set(error) == {"error", "exit"} and error["exit"] == code, error
    return error["error"]


def same_as_text(run: Cli, command: str, args: list[str], code: int) -> str:
    """The JSON error of `command` with --format json (before or after `args`), and the text error without it."""
    words = command.split()
    message = json_error(run(*words, *args, "--format", "json"), code)
    assert json_error(run(*words, "--format=json", *args), code) == message
    text = run(*words, *args)
    assert text.code == code and text.err.strip() == f"Error: {message}", text.err
    return message


@pytest.mark.parametrize("command, args, code, fragment", [
    # refusals of the read side
    ("scores", ["--year", "2016"], 1, "2016"),
    ("history", ["--unit", "不存在的单位", "--year", "2017"], 1, "不存在的单位"),
    ("pending", ["--sign-with", "no-such.key"], 1, "no-such.key"),
    ("appeal list", ["--year", "2016"], 1, "2016"),
    ("verify-proof", ["no-such-proof.json", "--checkpoint", "cp.txt"], 1, "no-such-proof.json"),
    # usage errors: exit 2 as in text, pointing at the help
    ("scores", ["--year", "abc"], 2, "'--year'"),
    ("scores", [], 2, "Missing option '--year'. (ledger scores --help)"),
    ("grades", ["--year", "2017", "--bogus"], 2, "No such option"),
    ("scores", ["--year", "2017", "--year", "2018"], 2, "--year is given twice"),
])
def test_errors_of_commands_given_format_json(run, tmp_path, command, args, code, fragment):
    build(run, tmp_path)
    before = run.positions()
    assert fragment in same_as_text(run, command, args, code)
    assert run.positions() == before


def test_a_ledger_that_does_not_exist(run):
    assert "create one with `ledger init`" in same_as_text(run, "grades", ["--year", "2017"], 1)
    assert "create one with `ledger init`" in same_as_text(run, "signatory list", [], 1)


def test_only_the_commands_format_asks_for_json(run, tmp_path):
    build(run, tmp_path)
    # --format json as the value of another option, or on a command without --format: the text error
    res = run("scores", "--year", "2017", "--group", "--format", "json")
    assert res.code == 2 and res.err.startswith("Error: ") and "json" in res.err
    res = run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "70",
              "--format", "json")
    assert res.code == 2 and res.err.strip() .startswith("Error: No such option '--format'.")
    res = run("scores", "--year", "2016", "--format", "csv")
    assert res.code == 1 and res.err.startswith("Error: ") and res.out == ""
    # --format given twice, once as json: asked for JSON, refused for the repetition
    assert json_error(run("scores", "--year", "2017", "--format", "csv", "--format", "json"), 2) == \
        "--format is given twice; give it once"
    # an argument that is not UTF-8 text, refused before click reads anything
    assert json_error(run("history", "--unit=\udcff", "--format", "json"), 2) == \
        "the value of --unit is not valid UTF-8 text"

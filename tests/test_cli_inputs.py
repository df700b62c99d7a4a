"""Bad command-line input of every kind: one `Error:` line naming the problem, a non-zero exit, no traceback, nothing
appended to the log, and no database created or altered by a command that only reads it."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cliharness import PASS_ENV, Cli, Result
from tests.hy_ledger import UNIT, build

ROOT = Path(__file__).resolve().parents[1]
SCORE = ["score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估"]


@dataclass
class Hy:
    run: Cli
    keys: dict
    dir: Path


@pytest.fixture(scope="module")
def hy(tmp_path_factory) -> Hy:
    tmp = tmp_path_factory.mktemp("inputs")
    run = Cli(str(tmp / "ledger.db"), tmp)
    keys = build(run, tmp)
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    return Hy(run, keys, tmp)


def one_line(res: Result, fragment: str, code: int = 1) -> str:
    """Assert exit `code` with exactly one stderr line, `Error: …` containing `fragment`; return the line."""
    assert res.code == code, f"expected exit {code}, got {res.code}: {res.out}{res.err}"
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), res.err
    assert "Traceback" not in res.out + res.err
    assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def refused_unchanged(hy: Hy, args: list, fragment: str, code: int = 1, env: dict | None = None) -> str:
    before = hy.run.positions()
    line = one_line(hy.run(*args, env=env), fragment, code)
    assert hy.run.positions() == before, f"a refused command appended: {args}"
    return line


# ---- 1. usage errors: one line, exit 2 ------------------------------------------------------------------------------

def test_missing_option_is_one_line_pointing_at_the_help(hy):
    res = hy.run("scores")
    assert one_line(res, "", 2) == "Error: Missing option '--year'. (ledger scores --help)"


@pytest.mark.parametrize("args, fragment", [
    (["scores", "--year", "abc"], "'--year'"),
    (["scores", "--year", "2017", "--format", "xml"], "'--format'"),
    (["key", "show", "."], "is a directory"),
    (["evaluation", "record", "--year", "2017", "--unit", UNIT, "--component", "班子成员评议",
      "--votes", "优秀"], "--votes"),
    (["adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "重大创新", "--reason", "r", "--input", "x"],
     "--input"),
])
def test_usage_errors_are_one_line(hy, args, fragment):
    key = ["--sign-with", hy.keys["office" if args[0] == "evaluation" else "kh"]] if args[0] in ("evaluation",
                                                                                              "adjust") else []
    line = refused_unchanged(hy, [*args, *key], fragment, code=2)
    assert "Usage:" not in line and "Try" not in line


def test_passphrase_variable_not_set_is_one_line(hy):
    refused_unchanged(hy, [*SCORE, "--points", "71", "--note", "n", "--sign-with", hy.keys["kh"]],
                      f"environment variable {PASS_ENV} is not set", code=2, env={PASS_ENV: None})


def test_no_terminal_for_the_passphrase_is_one_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "cli.main", "key", "new", "--out", str(tmp_path / "k.key")],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={k: v for k, v in os.environ.items() if k != "LEDGER_PASSPHRASE_ENV"})
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("Error: no terminal to ask for the passphrase"), res.stderr


# ---- 2. whole numbers: ASCII digits only ---------------------------------------------------------------------------

LOOSE = ["２０１７", "2_017", "+2017", " 2017", "2017 ", "02017", "-1", "2017.0", "1" * 30]


@pytest.mark.parametrize("value", LOOSE)
def test_loose_whole_numbers_are_refused_naming_the_option(hy, value):
    one_line(hy.run("scores", "--year", value), "Invalid value for '--year'", 2)
    one_line(hy.run("log", "--from", value), "Invalid value for '--from'", 2)
    refused_unchanged(hy, ["year", "close", "--sign-with", hy.keys["office"], "--", value],
                      "Invalid value for 'YEAR'", 2)
    # the acts that carry a year: a score, and a proposal
    refused_unchanged(hy, ["score", "record", "--year", value, "--unit", "办公室", "--indicator", "指标评估",
                           "--points", "70", "--sign-with", hy.keys["office"]], "Invalid value for '--year'", 2)
    refused_unchanged(hy, ["adjust", "propose", "--year", value, "--unit", "办公室", "--rule", "荣誉", "--level",
                           "省级", "--matter", "m", "--reason", "r", "--sign-with", hy.keys["office"]],
                      "Invalid value for '--year'", 2)


def test_plain_whole_numbers_still_work(hy):
    assert hy.run("log", "--from", "1", "--limit", "2", "--format", "json").ok().out.count("\n") == 2
    one_line(hy.run("log", "--from", "0"), "'--from'", 2)


@pytest.mark.parametrize("value", ["²", "６", "1²"])  # ６: the last position, were it read as 6
def test_non_ascii_digits_are_no_position(hy, value):
    one_line(hy.run("scores", "--year", "2017", "--as-of", value), "--as-of", 1)
    one_line(hy.run("diff", "--from", value, "--to", "1"), "--from", 1)


# ---- 3. empty values are not the default --------------------------------------------------------------------------

def test_empty_signed_at_and_valid_from_are_refused(hy):
    add = ["signatory", "add", "--person", "王五", "--role", "department", "--public-key", hy.keys["cz"] + ".pub",
           "--sign-with", hy.keys["office"]]
    refused_unchanged(hy, ["--signed-at", "", *add], "'--signed-at'", 2)
    refused_unchanged(hy, [*add, "--valid-from", ""], "'--valid-from'", 2)


def test_empty_db_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line(Cli("", tmp_path)("log"), "'--db'", 2)
    assert not (tmp_path / "ledger.db").exists()


# ---- 4. times out of range -----------------------------------------------------------------------------------------

def test_times_out_of_range_name_the_option_and_the_value(hy):
    one_line(hy.run("scores", "--year", "2017", "--as-of", "0001-01-01"),
             "--as-of: '0001-01-01' is out of range")
    add = ["signatory", "add", "--person", "王五", "--role", "department", "--public-key", hy.keys["cz"] + ".pub",
           "--sign-with", hy.keys["office"]]
    refused_unchanged(hy, [*add, "--valid-from", "0001-01-01"], "--valid-from: '0001-01-01' is out of range")
    refused_unchanged(hy, ["--signed-at", "0001-01-01T00:00:00Z", *add],
                      "--signed-at: '0001-01-01T00:00:00Z' is out of range")


# ---- 5. --out that cannot be written -------------------------------------------------------------------------------

def test_unwritable_out_says_cannot_write(hy):
    missing = str(hy.dir / "nodir" / "file")
    for args in (["template", "--year", "2017", "--group", "机关各部门、街道", "--out", missing + ".xlsx"],
                 ["export", "--year", "2017", "--out", missing + ".csv", "--group", "机关各部门、街道"],
                 ["history", "--unit", UNIT, "--out", missing + ".xlsx"],
                 [*SCORE, "--points", "71", "--note", "n", "--sign-with", hy.keys["kh"], "--out", missing + ".json"],
                 ["checkpoint", "--sign-with", hy.keys["office"], "--out", missing + ".txt"]):
        refused_unchanged(hy, args, f"cannot write {missing}")


def test_a_failed_checkpoint_leaves_no_file(hy):
    out = hy.dir / "cp-new.txt"
    refused_unchanged(hy, ["checkpoint", "--sign-with", hy.dir / "no.key", "--out", out], "no.key")
    assert not out.exists()


def test_a_year_out_of_range_names_the_range(hy):
    refused_unchanged(hy, ["score", "record", "--year", "17", *SCORE[4:], "--points", "1", "--sign-with", hy.keys["kh"]],
                      "year 17 is out of range (1900 to 2999)")


def test_a_checkpoint_file_held_is_not_overwritten_unless_asked(hy):
    out = hy.dir / "cp-held.txt"
    out.write_text("a checkpoint an auditor cosigned\n", encoding="utf-8")
    refused_unchanged(hy, ["checkpoint", "--sign-with", hy.keys["office"], "--out", out],
                      "exists already; name a new file, or pass --replace to write over it")
    assert out.read_text(encoding="utf-8") == "a checkpoint an auditor cosigned\n"
    before = hy.run.positions()
    hy.run("checkpoint", "--sign-with", hy.keys["office"], "--out", out, "--replace").ok()
    assert out.read_text(encoding="utf-8").startswith("kaohe-ledger/") and hy.run.positions() == before + 1


# ---- 6. arguments that are not UTF-8 -------------------------------------------------------------------------------

def test_an_argument_that_is_not_utf8_is_named(hy):
    bad = b"\xed\xa0\x80".decode("utf-8", "surrogateescape")  # as Python hands such bytes over from argv
    refused_unchanged(hy, [*SCORE[:4], f"--unit={bad}", *SCORE[6:], "--points", "1", "--sign-with", hy.keys["kh"]],
                      "the value of --unit is not valid UTF-8 text", 2)
    refused_unchanged(hy, ["explain", "--year", "2017", "--unit", bad], "(after --unit) is not valid UTF-8 text", 2)


def test_an_argument_that_is_not_utf8_from_the_shell(hy):
    res = subprocess.run([sys.executable, "-m", "cli.main", "--db", hy.run.db, "explain", "--year", "2017", "--unit",
                          os.fsdecode(b"\xed\xa0\x80")], capture_output=True, timeout=60, cwd=ROOT)
    assert res.returncode == 2 and res.stderr.decode().endswith("(after --unit) is not valid UTF-8 text\n"), res.stderr


# ---- 7. binary files given as keys --------------------------------------------------------------------------------

def test_a_binary_file_is_no_public_key_and_is_not_echoed(hy):
    binary = hy.dir / "binary.pub"
    binary.write_bytes(bytes(range(256)) * 8)
    line = one_line(hy.run("key", "show", binary), "is not a public key file")
    assert len(line) < 200
    line = refused_unchanged(hy, ["signatory", "add", "--person", "王五", "--role", "department", "--public-key",
                                  binary, "--sign-with", hy.keys["office"]], "is not a public key file")
    assert len(line) < 200


# ---- 8. databases are not created or altered by commands that do not make a ledger ----------------------------------

@pytest.mark.parametrize("args", [["scores", "--year", "2017"], ["log"], ["verify"], ["signatory", "list"]])
def test_a_missing_database_is_not_created(tmp_path, args):
    db = tmp_path / "typo.db"
    one_line(Cli(str(db), tmp_path)(*args), f"no ledger in {db}")
    assert not db.exists()


def test_an_empty_file_is_not_given_tables(tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    one_line(Cli(str(db), tmp_path)("log"), "no ledger in")
    assert db.stat().st_size == 0


def test_another_applications_database_is_left_alone(tmp_path):
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    before = db.read_bytes()
    run = Cli(str(db), tmp_path)
    office = run.key("office")
    for args in (["log"], ["scores", "--year", "2017"], ["init", "--name", "x", "--office-key", office]):
        one_line(run(*args), f"{db} is not a kaohe-ledger database")
    assert db.read_bytes() == before
    with sqlite3.connect(db) as conn:
        assert [name for (name,) in conn.execute("SELECT name FROM sqlite_master")] == ["customers"]


def test_an_unreachable_postgresql_server_is_named_in_the_drivers_words(tmp_path):
    # port 1 on the loopback: nothing listens there, so the connection is refused at once
    line = one_line(Cli("postgresql+psycopg://kaohe@127.0.0.1:1/kaohe", tmp_path)("log"),
                    "cannot open the event store at postgresql+psycopg://kaohe@127.0.0.1:1/kaohe: ")
    assert "Connection refused" in line and "psycopg." not in line and "Error)" not in line


def test_init_still_makes_a_new_file(tmp_path):
    run = Cli(str(tmp_path / "new.db"), tmp_path)
    run("init", "--name", "x", "--office-key", run.key("office")).ok()
    assert run.positions() == 1


def test_submitting_a_genesis_act_still_makes_a_new_file(tmp_path):
    import json

    run = Cli(str(tmp_path / "first.db"), tmp_path)
    run("init", "--name", "x", "--office-key", run.key("office")).ok()
    genesis = tmp_path / "genesis.jsonl"
    genesis.write_text(json.dumps({k: v for k, v in json.loads(run("log", "--format", "json").out).items()
                                   if k in ("envelope", "signature")}, ensure_ascii=False) + "\n", encoding="utf-8")
    other = Cli(str(tmp_path / "copy.db"), tmp_path)
    other("submit", "--many", genesis).ok()
    assert other.positions() == 1


# ---- options given twice ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, name", [
    (["--db", "a.db", "--db", "b.db", "log"], "--db"),
    (["score", "record", "--year", "2017", "--year", "2018", "--unit", "办公室", "--indicator", "指标评估",
      "--points", "70"], "--year"),
    (["score", "record", "--year", "2017", "--unit", "办公室", "--indicator", "指标评估", "--points", "70",
      "--points=71"], "--points"),
])
def test_an_option_given_twice_is_refused(hy, args, name):
    # click keeps the last value without a word: the signer would sign what the first value did not say
    refused_unchanged(hy, [*args, "--sign-with", hy.keys["office"]] if args[0] == "score" else args,
                      f"{name} is given twice", 2)


def test_an_input_given_by_its_option_and_by_input_is_refused(hy):
    refused_unchanged(hy, ["adjust", "propose", "--year", "2017", "--unit", "办公室", "--rule", "荣誉", "--level", "省级",
                           "--input", "level=国家级", "--matter", "m", "--reason", "r",
                           "--sign-with", hy.keys["office"]], "given twice", 2)


def test_repeatable_options_and_flags_may_repeat(hy):
    assert hy.run("pending", "--year", "2017", "--group", "机关各部门、街道", "--group", "机关各部门、街道",
                  "--format", "json").code == 0

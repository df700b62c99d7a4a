"""Appeals (复核, domain.md §8): results published, a unit's appeal within the window, its answer, and a close that
waits for both; end to end on both backends, and through `verify`."""
from __future__ import annotations

import json

import pytest

from tests.cliharness import Cli, refused
from tests.hy_ledger import OTHER, UNIT, build, hy_text, total


def at(day: str, time: str = "10:00:00") -> list[str]:
    """Sign as of a day of January 2018, Beijing time."""
    return ["--signed-at", f"2018-01-{day}T{time}+08:00"]


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture()
def keys(run, tmp_path) -> dict:
    keys = build(run, tmp_path)
    for unit, points in ((UNIT, "70"), (OTHER, "75")):
        run("score", "record", "--year", "2017", "--unit", unit, "--indicator", "指标评估", "--points", points,
            "--sign-with", keys["kh"]).ok()
    return keys


def _appeals(run, *args) -> dict:
    return json.loads(run("appeal", "list", "--format", "json", *args).ok().out)


def _filed_id(res) -> str:
    return res.out.split("event ")[1].split()[0]


def test_an_appeal_is_filed_in_its_window_answered_and_only_then_the_year_closes(run, keys, tmp_path):
    out = run(*at("05"), "year", "publish", "2017", "--note", "区政府网站公示", "--sign-with", keys["office"]).ok().out
    assert "appeals until 2018-01-15T02:00:00Z" in out
    published = json.loads(run("grades", "--year", "2017", "--format", "json").ok().out)["result_sha256"]
    assert f"sha256 {published}" in out

    evidence = tmp_path / "letter.pdf"
    evidence.write_bytes(b"%PDF letter")
    filed = run(*at("10"), "appeal", "file", "--year", "2017", "--unit", UNIT, "--reason", "指标评估漏计",
                "--document", "办〔2018〕1号", "--evidence", evidence, "--sign-with", keys["office"]).ok()
    appeal_id = _filed_id(filed)
    listed = _appeals(run, "--year", "2017")
    assert listed["publications"][0]["appeals_until"] == "2018-01-15T02:00:00Z"
    [row] = listed["appeals"]
    assert (row["unit"], row["status"], row["answer_due"], row["document"]) == \
        (UNIT, "open", "2018-01-20T02:00:00Z", "办〔2018〕1号")
    assert len(row["evidence_sha256"]) == 64

    before = run.positions()
    refused(run(*at("11"), "appeal", "file", "--year", "2017", "--unit", UNIT, "--reason", "again",
                "--sign-with", keys["office"]), f"{UNIT} has an appeal open already ({appeal_id[:12]})")
    refused(run(*at("16"), "appeal", "file", "--year", "2017", "--unit", OTHER, "--reason", "late",
                "--sign-with", keys["office"]),
            "the appeal period of 2017 ended at 2018-01-15T02:00:00Z (10 days after the results were published at "
            "2018-01-05T02:00:00Z)")
    refused(run(*at("16"), "year", "close", "2017", "--sign-with", keys["office"]),
            f"2017 cannot be closed yet: the appeal of {UNIT} ({appeal_id[:12]}, filed 2018-01-10T02:00:00Z) is not "
            "answered")
    refused(run(*at("12"), "appeal", "answer", appeal_id, "--outcome", "upheld", "--reason", "r",
                "--sign-with", keys["kh"]), "appeals of 2017 are answered by office; 李勇 holds department")
    assert run.positions() == before

    # upheld: the correction is an ordinary signed act, and the answer records why
    run(*at("12"), "score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "74",
        "--note", f"复核 {appeal_id[:12]}: 漏计", "--sign-with", keys["kh"]).ok()
    run(*at("12"), "appeal", "answer", appeal_id, "--outcome", "upheld", "--reason", "补计漏计指标",
        "--sign-with", keys["office"]).ok()
    [row] = _appeals(run, "--year", "2017")["appeals"]
    assert (row["status"], row["answered_by"], row["late"]) == ("upheld", "office:" + row["filed_by"], False)
    assert _appeals(run, "--open")["appeals"] == []
    refused(run(*at("13"), "appeal", "answer", appeal_id, "--outcome", "dismissed", "--reason", "r",
                "--sign-with", keys["office"]), f"appeal {appeal_id[:12]} was answered already (upheld")
    assert total(run) == "74.00"

    refused(run(*at("14"), "year", "close", "2017", "--sign-with", keys["office"]),
            "units may appeal until 2018-01-15T02:00:00Z, so the year can be closed only after that")
    run(*at("16"), "year", "close", "2017", "--sign-with", keys["office"]).ok()
    refused(run(*at("16"), "appeal", "file", "--year", "2017", "--unit", OTHER, "--reason", "r",
                "--sign-with", keys["office"]), "year 2017 is being closed: its results are final")
    refused(run(*at("16"), "year", "publish", "2017", "--sign-with", keys["office"]), "being closed")
    run(*at("17"), "year", "close", "2017", "--sign-with", keys["zz"]).ok()

    history = json.loads(run("history", "--unit", UNIT, "--year", "2017", "--format", "json").ok().out)
    kinds = [r["type"] for r in history["rows"]]
    assert {"results.published", "appeal.filed", "appeal.answered"} <= set(kinds)
    answered = next(r for r in history["rows"] if r["type"] == "appeal.answered")
    assert (answered["value"], answered["reason"], answered["ref"]) == ("upheld", "补计漏计指标", appeal_id[:12])
    report = json.loads(run("verify", "--format", "json").ok().out)
    assert report["ok"], report
    run("checkpoint", "--sign-with", keys["office"], "--out", tmp_path / "cp.txt").ok()
    run("bundle", "export", tmp_path / "b.zip").ok()
    assert json.loads(run("bundle", "verify", tmp_path / "b.zip", "--checkpoint", tmp_path / "cp.txt",
                          "--format", "json").ok().out)["ok"]


def test_appeals_need_a_publication_a_known_unit_and_an_answer_in_a_known_outcome(run, keys):
    before = run.positions()
    refused(run(*at("06"), "appeal", "file", "--year", "2017", "--unit", UNIT, "--reason", "r",
                "--sign-with", keys["office"]), "the results of 2017 have not been published")
    run(*at("05"), "year", "publish", "2017", "--sign-with", keys["office"]).ok()
    refused(run(*at("06"), "appeal", "file", "--year", "2017", "--unit", "无此单位", "--reason", "r",
                "--sign-with", keys["office"]), "unknown unit '无此单位'")
    refused(run(*at("06"), "appeal", "file", "--year", "2017", "--unit", UNIT, "--reason", "r",
                "--sign-with", keys["kh"]), "needs role office")
    refused(run(*at("06"), "appeal", "file", "--year", "2017", "--unit", UNIT, "--reason", " ",
                "--sign-with", keys["office"]), "an appeal needs the unit's reason")
    refused(run("appeal", "answer", "zz", "--outcome", "upheld", "--reason", "r", "--sign-with", keys["office"]),
            "'zz' is not an appeal id")
    refused(run("appeal", "answer", "0123456789ab", "--outcome", "upheld", "--reason", "r",
                "--sign-with", keys["office"]), "no appeal 0123456789ab")
    appeal_id = _filed_id(run(*at("06"), "appeal", "file", "--year", "2017", "--unit", UNIT, "--reason", "r",
                              "--sign-with", keys["office"]).ok())
    refused(run("appeal", "answer", appeal_id, "--outcome", "granted", "--reason", "r", "--sign-with",
                keys["office"]), "'granted' is not one of", code=2)
    refused(run(*at("05", "09:00:00"), "appeal", "answer", appeal_id, "--outcome", "dismissed", "--reason", "r",
                "--sign-with", keys["office"]), "before the appeal it answers (2018-01-06T02:00:00Z)")
    assert run.positions() == before + 2
    # answered after its ten days: accepted (the year must not stay blocked), and shown as late
    run(*at("20", "11:00:00"), "appeal", "answer", appeal_id, "--outcome", "dismissed", "--reason", "经复核无误",
        "--sign-with", keys["office"]).ok()
    [row] = _appeals(run)["appeals"]
    assert (row["status"], row["late"], row["answer_due"]) == ("dismissed", True, "2018-01-16T02:00:00Z")
    table = run("appeal", "list", env={"COLUMNS": "200"}).ok().out
    assert "2018-01-20T03:00:00Z (late)" in table and "dismissed" in table
    assert "appeals until 2018-01-15T02:00:00Z" in table


def test_a_republication_opens_a_new_window_and_the_scheme_sets_the_terms(run, keys, tmp_path):
    scheme = tmp_path / "hy-2018.toml"
    scheme.write_text(hy_text(2018).replace("[roles]\n", '[appeals]\ndays = 5\nanswer_days = 3\n'
                                            'answered_by = ["组长"]\n\n[roles]\n', 1), encoding="utf-8")
    run("scheme", "adopt", scheme, "--sign-with", keys["office"]).ok()
    run("--signed-at", "2019-01-05T10:00:00+08:00", "year", "publish", "2018", "--sign-with", keys["office"]).ok()
    out = run("--signed-at", "2019-01-12T10:00:00+08:00", "year", "publish", "2018", "--note", "更正后重新公示",
              "--sign-with", keys["office"]).ok().out
    assert "appeals until 2019-01-17T02:00:00Z" in out
    filed = run("--signed-at", "2019-01-13T10:00:00+08:00", "appeal", "file", "--year", "2018", "--unit", UNIT,
                "--reason", "r", "--sign-with", keys["office"]).ok()
    appeal_id = _filed_id(filed)
    [row] = _appeals(run, "--year", "2018")["appeals"]
    assert row["answer_due"] == "2019-01-16T02:00:00Z"
    assert _appeals(run, "--year", "2018")["publications"][0]["times_published"] == 2
    refused(run("appeal", "answer", appeal_id, "--outcome", "dismissed", "--reason", "r",
                "--sign-with", keys["office"]), "appeals of 2018 are answered by 组长; ")
    run("--signed-at", "2019-01-14T10:00:00+08:00", "appeal", "answer", appeal_id, "--outcome", "partly upheld",
        "--reason", "部分采纳", "--sign-with", keys["zz"]).ok()
    assert _appeals(run, "--year", "2018")["appeals"][0]["answered_by"] == "组长:欧杏"
    assert _appeals(run, "--year", "2017") == {"publications": [], "appeals": []}
    assert json.loads(run("verify", "--format", "json").ok().out)["ok"]


@pytest.mark.parametrize("table, problem", [
    ("days = 0", "appeals.days"),
    ('answered_by = ["书记"]', "unknown role '书记'"),
    ("hours = 3", "unknown key 'hours'"),
])
def test_a_scheme_refuses_bad_appeal_terms(table, problem):
    from ledger.errors import SchemeError
    from ledger.scheme import load_scheme

    with pytest.raises(SchemeError, match=problem):
        load_scheme(hy_text().replace("[roles]\n", f"[appeals]\n{table}\n\n[roles]\n", 1))


def test_signed_acts_that_skip_the_cli_are_refused_by_the_log_rules(run, keys):
    # what `ledger submit` of a hand-made act file meets: the same checks, with nothing appended
    from ledger.errors import Refused
    from ledger.keys import load_private
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from tests.cliharness import PASSPHRASE

    ledger = Ledger(EventStore(run.db))
    office = load_private(keys["office"], PASSPHRASE.encode())
    size = ledger.log_size()
    publish = {"year": 2017, "position": size, "result_sha256": "a" * 64}
    for act_type, act, problem in (
            ("results.published", {**publish, "position": size + 5}, "outside the log"),
            ("results.published", {**publish, "result_sha256": "A" * 64}, "64 lower-case hex digits"),
            ("results.published", {**publish, "year": 2019}, "no scheme has been adopted for 2019"),
            ("appeal.answered", {"year": 2017, "appeal": "b" * 64, "role": "office", "outcome": "upheld",
                                 "reason": "r"}, "no appeal bbbbbbbbbbbb in 2017")):
        with pytest.raises(Refused, match=problem):
            ledger.act(act_type, act, office, "2018-01-05T02:00:00Z")
    ledger.act("results.published", publish, office, "2018-01-05T02:00:00Z")
    filed = {"year": 2017, "unit": UNIT, "reason": "r"}
    with pytest.raises(Refused, match="evidence_sha256 must be 64 lower-case hex digits"):
        ledger.act("appeal.filed", {**filed, "evidence_sha256": "zz"}, office, "2018-01-06T02:00:00Z")
    receipt = ledger.act("appeal.filed", filed, office, "2018-01-06T02:00:00Z")
    with pytest.raises(Refused, match="outcome must be one of upheld, partly upheld, dismissed"):
        ledger.act("appeal.answered", {"year": 2017, "appeal": receipt.event_id, "role": "office",
                                       "outcome": "granted", "reason": "r"}, office, "2018-01-07T02:00:00Z")
    assert ledger.log_size() == size + 2

"""Closing a year, carry-over into the next, and grading decisions, end to end on both backends."""
from __future__ import annotations

import json

import pytest

from tests.cliharness import Cli, refused
from tests.hy_ledger import OTHER, UNIT, build, hy_text, total

PAPER = ["--signed-at", "2017-12-20T10:00:00+08:00"]


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


def _propose(run, keys, matter):
    res = run(*PAPER, "adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "荣誉", "--level", "省级",
              "--matter", matter, "--reason", "省级表彰", "--document", "湘〔2017〕1号", "--sign-with", keys["kh"]).ok()
    return res.out.split("(adjustment ")[1].split(")")[0]


def _grades(run, year=2017):
    return json.loads(run("grades", "--year", str(year), "--format", "json").ok().out)


def test_close_freezes_the_year_and_carries_late_approvals_over(run, keys, tmp_path):
    early, late = _propose(run, keys, "文明单位"), _propose(run, keys, "平安单位")
    run("adjust", "approve", early, "--sign-with", keys["zz"], "--yes").ok()
    assert total(run) == "72.00"

    out = run("year", "close", "2017", "--sign-with", keys["office"]).ok().out
    digest = out.split("sha256 ")[1].split()[0]
    before = run.positions()
    refused(run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "79",
                "--note", "n", "--sign-with", keys["kh"]), "being closed")
    refused(run("year", "close", "2017", "--sign-with", keys["office"]), "still needs 组长")
    refused(run("decide", "--year", "2017", "--unit", UNIT, "--kind", "fault", "--value",
                "工作未落实被党中央、国务院通报批评", "--reason", "r", "--sign-with", keys["office"]),
            "year 2017 is being closed; its grades can no longer change")  # as scores say it
    refused(run("year", "close", "2017", "--sign-with", keys["office"], "--role", "组长"),
            "does not hold it (it still needs 组长)")
    refused(run("year", "close", "2017", "--sign-with", keys["office"], "--role", "office"),
            "cannot sign the close of 2017 as office: it has signed already (it still needs 组长)")
    assert run.positions() == before
    run("year", "close", "2017", "--sign-with", keys["zz"]).ok()
    published = _grades(run)
    assert published["closed"] and published["result_sha256"] == digest

    # approved after the close: counted in 2018, shown there as carried over, never in 2017
    scheme_2018 = tmp_path / "hy-2018.toml"
    scheme_2018.write_text(hy_text(2018), encoding="utf-8")
    run("scheme", "adopt", scheme_2018, "--sign-with", keys["office"]).ok()
    run("adjust", "approve", late, "--sign-with", keys["zz"], "--yes").ok()
    assert _grades(run) == published
    assert total(run) == "72.00"
    explain_2017 = run("explain", "--year", "2017", "--unit", UNIT).ok().out
    assert "carried over to 2018" in explain_2017
    explain_2018 = run("explain", "--year", "2018", "--unit", UNIT).ok().out
    assert "2017" in explain_2018 and late in explain_2018
    assert total(run, UNIT, 2018) == "2.00"
    assert total(run, OTHER, 2018) == "0.00"

    refused(run("decide", "--year", "2017", "--unit", UNIT, "--kind", "fault", "--value",
                "工作未落实被党中央、国务院通报批评", "--reason", "r", "--sign-with", keys["office"]),
            "year 2017 is closed; its grades can no longer change")
    refused(run("year", "close", "2017", "--sign-with", keys["office"]), "closed already")
    report = json.loads(run("verify", "--format", "json").ok().out)
    assert report["ok"] and report["closed_years_replayed"] == [2017]


def test_close_needs_distinct_people_and_matching_terms(run, keys, tmp_path):
    both = run.key("both")
    run("signatory", "add", "--person", "李勇", "--role", "组长", "--public-key", both + ".pub",
        "--valid-from", "2017-01-01", "--sign-with", keys["office"]).ok()
    run("year", "close", "2017", "--sign-with", keys["office"]).ok()
    refused(run("year", "close", "2017", "--sign-with", keys["kh"]), "still needs 组长")
    refused(run("year", "close", "2017", "--sign-with", keys["cz"]), "still needs 组长")


def test_fault_caps_the_grade(run, keys):
    assert {u["unit"]: u["grade"] for u in _grades(run)["units"]}[OTHER] == "优秀"
    run("decide", "--year", "2017", "--unit", OTHER, "--kind", "fault", "--value",
        "工作未落实被党中央、国务院通报批评", "--reason", "国办通报", "--evidence", "国办发〔2017〕9号",
        "--sign-with", keys["office"]).ok()
    rows = {u["unit"]: u for u in _grades(run)["units"]}
    assert rows[OTHER]["grade"] == "合格"
    assert any("工作未落实" in r for r in rows[OTHER]["reasons"]), rows[OTHER]["reasons"]
    refused(run("decide", "--year", "2017", "--unit", OTHER, "--kind", "fault", "--value", "没有这个问题",
                "--reason", "r", "--sign-with", keys["office"]), "unknown fault")
    refused(run("decide", "--year", "2017", "--unit", OTHER, "--kind", "fault", "--value",
                "安全生产、综治维稳、计划生育工作被一票否决", "--reason", "r", "--sign-with", keys["kh"]),
            "needs role office")


def test_two_year_consequence_chain(run, keys, tmp_path):
    scheme_2018 = tmp_path / "hy-2018.toml"
    scheme_2018.write_text(hy_text(2018), encoding="utf-8")
    run("scheme", "adopt", scheme_2018, "--sign-with", keys["office"]).ok()
    units = [u["unit"] for u in json.loads(run("scores", "--year", "2017", "--format", "json").ok().out)["units"]]
    for year in ("2017", "2018"):
        for i, unit in enumerate(units):
            points = "50" if unit == "高岭办事处" else str(61 + i % 19)
            args = ["score", "record", "--year", year, "--unit", unit, "--indicator", "指标评估", "--points", points]
            if year == "2017" and unit in (UNIT, OTHER):
                args += ["--note", "复核"]
            run(*args, "--sign-with", keys["kh"]).ok()
    found = json.loads(run("consequences", "--year", "2018", "--format", "json").ok().out)
    assert json.loads(run("consequences", "--year", "2018", "--group", "机关各部门、街道", "--format", "json")
                      .ok().out) == found
    refused(run("consequences", "--year", "2018", "--group", "没有这组"), "unknown group '没有这组' in 2018")
    refused(run("consequences", "--year", "2030", "--group", "机关各部门、街道"), "no scheme has been adopted for 2030")
    last = {c["rule"]: c for c in found if c["unit"] == "高岭办事处"}
    assert set(last) >= {"排名最后", "连续两年排名最后", "不合格", "连续两年不合格"}
    assert last["连续两年不合格"]["years"] == [2017, 2018]
    assert last["staff_excellent_share"]["share"] == "0"
    assert not any(c["unit"] == UNIT and c["rule"] != "staff_excellent_share" for c in found)
    # the command reads each year as a view of the read models; a replay of the whole log gives the same, now and
    # at a past position (before 2018's scores)
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from projections.asof import consequences_view
    from projections.replay import replay
    from projections.results import year_consequences

    ledger = Ledger(EventStore(run.db))
    try:
        size = ledger.log_size()
        for upto in (None, size - len(units)):
            viewed = consequences_view(ledger, 2018, None if upto is None else str(upto))
            assert viewed == year_consequences(replay(ledger.store, upto), 2018)
        assert [c.to_dict() for c in consequences_view(ledger, 2018)] == found
        # one group's: each year read for the groups its units were in then
        assert [c.to_dict() for c in consequences_view(ledger, 2018, None, ["机关各部门、街道"])] == found
    finally:
        ledger.store.close()


def test_a_close_signs_each_groups_result_and_cosigners_must_name_the_same(run, keys):
    from ledger.errors import Refused
    from ledger.keys import load_private
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from projections.closing import close_act
    from tests.cliharness import PASSPHRASE

    ledger = Ledger(EventStore(run.db))
    office, zz = (load_private(keys[k], PASSPHRASE.encode()) for k in ("office", "zz"))
    act = close_act(ledger, 2017, office.key_id)
    group = "机关各部门、街道"
    assert set(act["groups"]) == {group} and act["groups"][group] != act["result_sha256"]
    size = ledger.log_size()
    for groups, problem in (({group: "x" * 64}, "64 lower-case hex digits"), ({"无此组": "a" * 64}, "does not have")):
        with pytest.raises(Refused, match=problem):
            ledger.act("year.close.signed", {**act, "groups": groups}, office, None)
    ledger.act("year.close.signed", act, office, None)
    second = close_act(ledger, 2017, zz.key_id)
    assert second["groups"] == act["groups"]
    with pytest.raises(Refused, match="other group results than the close already signed"):
        ledger.act("year.close.signed", {**second, "groups": {group: "a" * 64}}, zz, None)
    assert ledger.log_size() == size + 1
    ledger.act("year.close.signed", second, zz, None)
    assert json.loads(run("verify", "--format", "json").ok().out)["ok"]

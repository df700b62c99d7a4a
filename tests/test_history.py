"""`ledger history`, `who` and `diff`: a unit's timeline with the total after every act, attributed changes, as-of
views and differences between two published checkpoints, end to end on both backends (HY 2017 example)."""
from __future__ import annotations

import json
import time

import pytest

from tests.cliharness import Cli, refused
from tests.hy_ledger import OTHER, UNIT, build, hy_text
from tests.test_tamper import sign_note

PAPER = ["--signed-at", "2017-12-20T10:00:00+08:00"]  # bonuses are applied for before the 2018-01-10 deadline


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


def _js(res) -> dict:
    return json.loads(res.ok().out)


def _adjustment_id(res) -> str:
    return res.ok().out.split("(adjustment ")[1].split(")")[0]


def _build_year(run: Cli, tmp_path) -> dict:
    """Positions: 1–4 genesis and signatories, 5 scheme, 6 score 70, 7–8 evaluations, 9 another unit's score,
    10 checkpoint (cp1, size 9), 11 correction to 72, 12 proposal, 13 approval, 14 proposal, 15 rejection,
    16 checkpoint (cp2, size 15)."""
    keys = build(run, tmp_path)
    score = ["score", "record", "--year", "2017", "--indicator", "指标评估", "--sign-with", keys["kh"]]
    run(*score, "--unit", UNIT, "--points", "70").ok()
    for component in ("班子成员评议", "部门互评"):
        run("evaluation", "record", "--year", "2017", "--unit", UNIT, "--component", component, "--votes",
            "优秀=5,良好=3", "--sign-with", keys["office"]).ok()
    time.sleep(1.05 - time.time() % 1)  # the next act is recorded in a later second than position 8
    run(*score, "--unit", OTHER, "--points", "75").ok()
    run("checkpoint", "--sign-with", keys["office"], "--out", tmp_path / "cp1.txt").ok()
    run(*score, "--unit", UNIT, "--points", "72", "--note", "复核更正").ok()
    honour = _adjustment_id(run(*PAPER, "adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "荣誉",
                                "--level", "省级", "--matter", "文明单位", "--reason", "r", "--document", "文号",
                                "--sign-with", keys["kh"]))
    run("adjust", "approve", honour, "--sign-with", keys["zz"], "--yes").ok()
    idea = _adjustment_id(run(*PAPER, "adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "重大创新",
                              "--points", "3", "--reason", "创新", "--sign-with", keys["kh"]))
    run("adjust", "reject", idea, "--reason", "无依据", "--sign-with", keys["zz"]).ok()
    run("checkpoint", "--sign-with", keys["office"], "--out", tmp_path / "cp2.txt").ok()
    assert run.positions() == 16
    return {"keys": keys, "honour": honour, "idea": idea}


def test_history_who_as_of_and_diff(run, tmp_path):
    built = _build_year(run, tmp_path)
    history = _js(run("history", "--unit", UNIT, "--format", "json"))
    rows = history["rows"]
    assert [(r["position"], r["type"], r["total"]) for r in rows] == [
        (5, "scheme.adopted", "0.00"), (6, "score.recorded", "70.00"), (7, "evaluation.recorded", "79.25"),
        (8, "evaluation.recorded", "88.50"), (11, "score.recorded", "90.50"), (12, "adjustment.proposed", "90.50"),
        (13, "adjustment.approved", "92.50"), (14, "adjustment.proposed", "92.50"),
        (15, "adjustment.rejected", "92.50")]
    by = {r["position"]: r for r in rows}
    assert by[5]["context"] and by[5]["role"] == "office" and by[5]["item"] == "scheme.toml"
    assert (by[6]["person"], by[6]["department"], by[6]["role"], by[6]["item"], by[6]["value"]) == \
        ("李勇", "考核办", "department", "指标评估", "70")
    assert (by[7]["role"], by[7]["item"], by[7]["value"]) == ("office", "班子成员评议", "优秀=5,良好=3")
    assert (by[11]["corrects"], by[11]["corrects_position"], by[11]["reason"]) == \
        (by[6]["event_id"], 6, "复核更正")
    assert (by[12]["ref"], by[12]["item"], by[12]["value"], by[12]["reason"], by[12]["document"]) == \
        (built["honour"], "荣誉", "level=省级 matter=文明单位", "r", "文号")
    assert (by[12]["proposer"], by[12]["approvers"], by[12]["status"]) == ("李勇", [], "pending: waiting for 组长")
    assert (by[13]["person"], by[13]["role"], by[13]["approvers"], by[13]["status"], by[13]["points"]) == \
        ("欧杏", "组长", ["组长:欧杏"], "approved", "2.00")
    assert (by[15]["ref"], by[15]["status"], by[15]["reason"], by[15]["role"]) == \
        (built["idea"], "rejected", "无依据", "组长")
    assert all(r["unit"] in ("", UNIT) for r in rows)  # 财政局's score (9) is not 办公室's history
    table = run("history", "--unit", UNIT, "--year", "2017").ok().out
    assert "92.50" in table and "复核更正" in table
    csv_lines = run("history", "--unit", UNIT, "--format", "csv").ok().out.splitlines()
    assert csv_lines[0].startswith("position,event_id,type") and len(csv_lines) == 10

    # who: only the acts that moved the total; the approval that completes an adjustment names its proposer
    changes = _js(run("who", "--year", "2017", "--unit", UNIT, "--format", "json"))["changes"]
    assert [(c["position"], c["from"], c["to"], c["delta"]) for c in changes] == [
        (5, None, "0.00", None), (6, "0.00", "70.00", "+70.00"), (7, "70.00", "79.25", "+9.25"),
        (8, "79.25", "88.50", "+9.25"), (11, "88.50", "90.50", "+2.00"), (13, "90.50", "92.50", "+2.00")]
    approval = changes[-1]
    assert (approval["type"], approval["person"], approval["proposer"], approval["approvers"]) == \
        ("adjustment.approved", "欧杏", "李勇", ["组长:欧杏"])
    assert "proposed by 李勇" in run("who", "--year", "2017", "--unit", UNIT).ok().out

    # as of a middle position, and of a time (the last act recorded by then)
    cut = _js(run("history", "--unit", UNIT, "--as-of", "9", "--format", "json"))
    assert cut["as_of"] == 9 and [(r["position"], r["total"]) for r in cut["rows"]] == \
        [(5, "0.00"), (6, "70.00"), (7, "79.25"), (8, "88.50")]
    log = [json.loads(line) for line in run("log", "--format", "json").ok().out.splitlines()]
    when = log[7]["recorded_at"]  # position 8, recorded a second before position 9
    by_time = _js(run("history", "--unit", UNIT, "--as-of", when, "--format", "json"))
    assert by_time["as_of"] == 8 and by_time["rows"] == cut["rows"]
    assert _js(run("history", "--unit", UNIT, "--as-of", tmp_path / "cp1.txt", "--format", "json")) == cut
    who_cut = _js(run("who", "--year", "2017", "--unit", UNIT, "--as-of", "12", "--format", "json"))["changes"]
    assert [c["to"] for c in who_cut][-1] == "90.50"

    # diff between positions, both ways, and between two published checkpoints
    forward = _js(run("diff", "--from", "9", "--to", "15", "--format", "json"))
    assert (forward["from"], forward["to"]) == (9, 15)
    assert forward["units"] == [{
        "year": 2017, "group": "机关各部门、街道", "unit": UNIT, "old_total": "88.50", "old_rank": 1,
        "old_grade": "优秀", "new_total": "92.50", "new_rank": 1, "new_grade": "优秀",
        "acts": [{"position": p, "type": t} for p, t in ((11, "score.recorded"), (12, "adjustment.proposed"),
                                                         (13, "adjustment.approved"), (14, "adjustment.proposed"),
                                                         (15, "adjustment.rejected"))]}]
    by_checkpoints = _js(run("diff", "--from", tmp_path / "cp1.txt", "--to", tmp_path / "cp2.txt", "--format",
                             "json"))
    assert (by_checkpoints["from"], by_checkpoints["to"]) == (9, 15)
    assert by_checkpoints["units"] == forward["units"]
    backward = _js(run("diff", "--from", "15", "--to", "9", "--year", "2017", "--format", "json"))["units"]
    assert [(u["old_total"], u["new_total"]) for u in backward] == [("92.50", "88.50")]

    early = {u["unit"]: u for u in _js(run("diff", "--from", "5", "--to", "9", "--format", "json"))["units"]}
    assert (early[UNIT]["old_total"], early[UNIT]["new_total"], early[UNIT]["new_rank"]) == ("0.00", "88.50", 1)
    assert [a["position"] for a in early[UNIT]["acts"]] == [6, 7, 8]
    assert (early[OTHER]["old_total"], early[OTHER]["new_total"], early[OTHER]["new_rank"]) == ("0.00", "75.00", 2)
    assert [a["position"] for a in early[OTHER]["acts"]] == [9]
    # a unit nobody touched still moved down the ranking: listed, with no acts of its own
    assert (early["信访局"]["old_rank"], early["信访局"]["new_rank"], early["信访局"]["acts"]) == (1, 3, [])
    assert len(early) == 25
    assert "文明单位" not in run("diff", "--from", "9", "--to", "15").ok().out  # table: acts by position and type
    assert _js(run("diff", "--from", "9", "--to", "9", "--format", "json"))["units"] == []
    group = _js(run("diff", "--from", "5", "--to", "9", "--year", "2017", "--group", "机关各部门、街道", "--format",
                    "json"))["units"]
    assert {u["unit"]: u for u in group} == early
    refused(run("diff", "--from", "5", "--to", "9", "--year", "2017", "--group", "没有这组"), "unknown group '没有这组'")
    refused(run("diff", "--from", "5", "--to", "9", "--group", "机关各部门、街道"), "--group needs --year", code=2)
    refused(run("diff", "--from", "5", "--to", "9", "--year", "2030", "--group", "机关各部门、街道"),
            "no scheme has been adopted for 2030")


def test_carry_over_shows_in_the_year_it_counts_in(run, tmp_path):
    keys = build(run, tmp_path)
    scheme_2018 = tmp_path / "hy-2018.toml"
    scheme_2018.write_text(hy_text(2018), encoding="utf-8")
    run("scheme", "adopt", scheme_2018, "--sign-with", keys["office"]).ok()  # 6
    run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "70",
        "--sign-with", keys["kh"]).ok()  # 7
    late = _adjustment_id(run(*PAPER, "adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "荣誉",
                              "--level", "省级", "--matter", "文明单位", "--reason", "r", "--document", "文号",
                              "--sign-with", keys["kh"]))  # 8
    run("year", "close", "2017", "--sign-with", keys["office"]).ok()  # 9
    run("year", "close", "2017", "--sign-with", keys["zz"]).ok()  # 10
    run("adjust", "approve", late, "--sign-with", keys["zz"], "--yes").ok()  # 11: counts in 2018

    rows = _js(run("history", "--unit", UNIT, "--format", "json"))["rows"]
    assert [(r["position"], r["year"], r["total_year"], r["total"]) for r in rows] == [
        (5, 2017, 2017, "0.00"), (6, 2018, 2018, "0.00"), (7, 2017, 2017, "70.00"), (8, 2017, 2017, "70.00"),
        (9, 2017, 2017, "70.00"), (10, 2017, 2017, "70.00"), (11, 2017, 2018, "2.00")]
    assert rows[-1]["status"] == "approved, counts in 2018 (carried over)"
    assert [r["status"] for r in rows if r["type"] == "year.close.signed"] == ["closing", "closed"]
    assert [r["position"] for r in _js(run("history", "--unit", UNIT, "--year", "2018", "--format",
                                           "json"))["rows"]] == [6, 11]
    changes_2017 = _js(run("who", "--year", "2017", "--unit", UNIT, "--format", "json"))["changes"]
    assert [(c["position"], c["to"]) for c in changes_2017] == [(5, "0.00"), (7, "70.00")]
    changes_2018 = _js(run("who", "--year", "2018", "--unit", UNIT, "--format", "json"))["changes"]
    assert [(c["position"], c["from"], c["to"], c["proposer"], c["approvers"]) for c in changes_2018] == [
        (6, None, "0.00", "", []), (11, "0.00", "2.00", "李勇", ["组长:欧杏"])]
    moved = _js(run("diff", "--from", "10", "--to", "11", "--format", "json"))["units"]
    assert [(u["year"], u["unit"], u["old_total"], u["new_total"]) for u in moved if u["unit"] == UNIT] == \
        [(2018, UNIT, "0.00", "2.00")]
    assert all(u["year"] == 2018 for u in moved)  # the closed year does not move


def test_another_units_score_moves_a_non_participants_average(run, tmp_path):
    keys = build(run, tmp_path)
    averaged = tmp_path / "hy-average.toml"
    averaged.write_text(hy_text().replace('department = "考核办", title = "听、查、看',
                                          'department = "考核办", non_participants = "average", title = "听、查、看', 1),
                        encoding="utf-8")
    run("scheme", "adopt", averaged, "--note", "不参与指标评估的部门取平均分", "--sign-with", keys["office"]).ok()  # 6
    score = ["score", "record", "--year", "2017", "--indicator", "指标评估", "--sign-with", keys["kh"]]
    run(*score, "--unit", UNIT, "--not-participating").ok()  # 7
    run(*score, "--unit", OTHER, "--points", "75").ok()  # 8
    run(*score, "--unit", "信访局", "--points", "65").ok()  # 9
    rows = _js(run("history", "--unit", UNIT, "--format", "json"))["rows"]
    assert [(r["position"], r["type"], r["item"], r["reason"], r["total"]) for r in rows] == [
        (5, "scheme.adopted", "scheme.toml", "", "0.00"),
        (6, "scheme.adopted", "hy-average.toml", "不参与指标评估的部门取平均分", "0.00"),
        (7, "score.recorded", "指标评估", "", "0.00")]
    assert rows[2]["value"] == "not taking part" and rows[1]["value"] != rows[0]["value"]  # the scheme's sha256
    changes = _js(run("who", "--year", "2017", "--unit", UNIT, "--format", "json"))["changes"]
    assert [(c["position"], c["unit"], c["from"], c["to"], c["delta"]) for c in changes] == [
        (5, "", None, "0.00", None), (8, OTHER, "0.00", "75.00", "+75.00"), (9, "信访局", "75.00", "70.00", "-5.00")]


def test_refusals(run, tmp_path):
    refused(run("history", "--unit", UNIT), "no ledger")
    keys = build(run, tmp_path)
    run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "70",
        "--sign-with", keys["kh"]).ok()
    cp = tmp_path / "cp.txt"
    run("checkpoint", "--sign-with", keys["office"], "--out", cp).ok()
    refused(run("history", "--unit", "不存在"), "unknown unit '不存在'")
    refused(run("who", "--year", "2017", "--unit", "不存在"), "unknown unit '不存在'")
    refused(run("history", "--unit", UNIT, "--year", "2019"), "no scheme has been adopted for 2019")
    refused(run("history", "--unit", UNIT, "--as-of", "yesterday"), "--as-of: 'yesterday' is neither a position")
    refused(run("history", "--unit", UNIT, "--as-of", "0"), "--as-of: position 0 is outside the log (1…7)")
    refused(run("who", "--year", "2017", "--unit", UNIT, "--as-of", "99"), "position 99 is outside the log")
    refused(run("history", "--unit", UNIT, "--as-of", "2016-01-01"), "nothing recorded")
    refused(run("diff", "--from", "nowhere.txt", "--to", "3"), "neither a position")
    refused(run("diff", "--from", "1", "--to", "99"), "--to: position 99 is outside the log")
    # an altered checkpoint is refused, not silently used: its signature no longer verifies
    lines = cp.read_text(encoding="utf-8").split("\n")
    lines[2] = ("A" if lines[2][0] != "A" else "B") + lines[2][1:]
    forged = tmp_path / "forged.txt"
    forged.write_text("\n".join(lines), encoding="utf-8")
    refused(run("diff", "--from", forged, "--to", "3"), f"--from: checkpoint {forged}: signature by ")
    # and so is one the office signed whose root is not this log's
    other = tmp_path / "other-root.txt"
    other.write_text(sign_note(keys, cp.read_text(encoding="utf-8"), 3, bytes(32)), encoding="utf-8")
    refused(run("diff", "--from", other, "--to", "3"), f"--from: checkpoint {other} (size 3) does not match this log")


def test_history_as_a_spreadsheet(run, tmp_path):
    import openpyxl

    keys = build(run, tmp_path)
    run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "70",
        "--sign-with", keys["kh"]).ok()
    out = tmp_path / "h.xlsx"
    assert "2 acts" in run("history", "--unit", UNIT, "--year", "2017", "--out", out).ok().out
    sheet = openpyxl.load_workbook(out).active
    assert [c.value for c in sheet[1]][:3] == ["position", "signed_at", "type"]
    assert sheet.cell(3, 3).value == "score.recorded" and sheet.cell(3, 9).value == "70.00"
    res = run("history", "--unit", UNIT, "--out", tmp_path / "h.txt")
    assert res.code == 2 and "must end in .xlsx or .csv" in res.err

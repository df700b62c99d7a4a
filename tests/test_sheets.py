"""Spreadsheets in and out through the CLI, on SQLite and PostgreSQL: `ledger import`, `ledger template`,
`ledger export` on a small HY 2017 ledger (one group of 25 units, one leaf item 指标评估 of 80, rules 荣誉 and
单项考核 approved by the 组长)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from tests.cliharness import Cli, refused

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hy-2017.toml"
GROUP = "机关各部门、街道"
ITEM = "指标评估"
SCORE_HEADER = ["单位", "指标", "得分", "理由"]
DECEMBER = "2017-12-20T10:00:00+08:00"
ADJ_HEADER = ["单位", "规则", "级别", "事项", "选项", "理由", "文号"]


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture()
def keys(run) -> dict:
    """The office, a 考核办 department officer (李勇), a 财政局 officer (张财) and the 组长 (欧杏); HY 2017 adopted."""
    keys = {name: run.key(name) for name in ("office", "kh", "cz", "zz")}
    run("--signed-at", "2017-01-01T09:00:00+08:00", "init", "--name", "高新区考核", "--office-key",
        keys["office"]).ok()
    add = ["signatory", "add", "--valid-from", "2017-01-01", "--sign-with", keys["office"]]
    run(*add, "--person", "李勇", "--department", "考核办", "--role", "department", "--public-key",
        keys["kh"] + ".pub").ok()
    run(*add, "--person", "张财", "--department", "财政局", "--role", "department", "--public-key",
        keys["cz"] + ".pub").ok()
    run(*add, "--person", "欧杏", "--role", "组长", "--public-key", keys["zz"] + ".pub").ok()
    run("scheme", "adopt", EXAMPLE, "--sign-with", keys["office"]).ok()
    return keys


def write_xlsx(path: Path, header: list, rows: list[list], title_rows: int = 0) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(title_rows):
        sheet.append(["2017年度目标任务考核得分表"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, header: list, rows: list[list], encoding: str) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def import_(run: Cli, path: Path, key: str, *extra: str):
    return run("import", path, "--year", "2017", "--sign-with", key, *extra)


def totals(run: Cli) -> dict[str, str]:
    rows = json.loads(run("scores", "--year", "2017", "--format", "json").ok().out)["units"]
    return {r["unit"]: r["total"] for r in rows}


def log_acts(run: Cli) -> list[dict]:
    return [json.loads(line) for line in run("log", "--format", "json").ok().out.splitlines()]


def bad_lines(result) -> list[str]:
    """The listed bad rows (every stderr line but the final `Error:` line)."""
    assert result.code == 1, result.out + result.err
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "Traceback" not in result.err
    return lines[:-1]


# ---- import: scores ------------------------------------------------------------------------------------------------

def test_import_scores_xlsx_then_unchanged_then_correction(run, keys, tmp_path):
    # a title row above the header, a number cell, a text cell and a float cell that is not exactly binary
    sheet = write_xlsx(tmp_path / "得分.xlsx", SCORE_HEADER,
                       [["办公室", ITEM, 70.5, None], ["财政局", ITEM, "75", None], ["统计局", ITEM, 0.1 + 0.2, None]],
                       title_rows=1)
    before = run.positions()
    res = import_(run, sheet, keys["kh"]).ok()
    assert "3 signed act(s) appended" in res.out
    assert run.positions() == before + 3
    assert {k: totals(run)[k] for k in ("办公室", "财政局", "统计局")} == {"办公室": "70.50", "财政局": "75.00",
                                                                       "统计局": "0.30"}
    # the same sheet again: every value is recorded already, nothing to append
    res = import_(run, sheet, keys["kh"]).ok()
    assert "0 signed act(s) appended" in res.out and "3 row(s) repeat" in res.out
    assert run.positions() == before + 3
    # a changed value corrects the recorded one, and a correction needs its reason
    fix = write_xlsx(tmp_path / "更正.xlsx", SCORE_HEADER, [["办公室", ITEM, 72, None], ["财政局", ITEM, 75, None]])
    lines = bad_lines(import_(run, fix, keys["kh"]))
    assert lines == ["row 2: a correction needs a reason (note)"]
    assert run.positions() == before + 3
    fix = write_xlsx(tmp_path / "更正.xlsx", SCORE_HEADER, [["办公室", ITEM, 72, "复核更正"], ["财政局", ITEM, 75, None]])
    assert "1 signed act(s) appended" in import_(run, fix, keys["kh"]).ok().out
    acts = log_acts(run)
    first = next(a for a in acts if a["envelope"]["act"].get("unit") == "办公室")
    last = acts[-1]["envelope"]["act"]
    assert last == {"year": 2017, "unit": "办公室", "indicator": ITEM, "value": "72", "note": "复核更正",
                    "corrects": first["event_id"]}
    assert totals(run)["办公室"] == "72.00"


def test_import_scores_csv_in_each_encoding(run, keys, tmp_path):
    files = [("utf-8", "办公室", "61"), ("utf-8-sig", "财政局", "62.5"), ("gb18030", "华兴街道", "63")]
    for encoding, unit, points in files:
        path = write_csv(tmp_path / f"{encoding}.csv", ["unit", "indicator", "points"], [[unit, ITEM, points]],
                         encoding)
        import_(run, path, keys["kh"]).ok()
    got = totals(run)
    assert (got["办公室"], got["财政局"], got["华兴街道"]) == ("61.00", "62.50", "63.00")
    # the Chinese headers decoded from GB18030 map like the English ones
    path = write_csv(tmp_path / "gb.csv", SCORE_HEADER, [["蒸水办事处", ITEM, "64", ""]], "gb18030")
    import_(run, path, keys["kh"]).ok()
    assert totals(run)["蒸水办事处"] == "64.00"


def test_every_bad_score_row_is_listed_and_nothing_appended(run, keys, tmp_path):
    rows = [
        ["办公室", ITEM, "70", ""],           # 2: good
        ["不存在局", ITEM, "70", ""],          # 3: unknown unit
        ["财政局", "指标考核", "70", ""],        # 4: unknown indicator
        ["统计局", ITEM, "80.5", ""],         # 5: over the item's weight
        ["建设局", ITEM, "1,5", ""],          # 6: comma decimal
        ["信访局", ITEM, "NaN", ""],          # 7: NaN
        ["区纪委", ITEM, "", ""],             # 8: empty
        ["办公室", ITEM, "71", ""],           # 9: the same unit and item as row 2
        ["财政局 ", ITEM, "70", ""],          # 10: trailing space
        ["⼯会联合会", ITEM, "70", ""],         # 11: KANGXI RADICAL WORK (U+2F2F), not 工 (U+5DE5)
        ["华兴街道\u3000", ITEM, "70", ""],     # 12: ideographic (full-width) space
        ["机关党委", ITEM, "-1", ""],          # 13: below the item's floor
        ["教育文化体育局", "指标 评估", "70", ""],  # 14: a space inside the item's name
        ["城市管理执法大队", ITEM, "60", ""],     # 15: good
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", SCORE_HEADER, rows)
    before = run.positions()
    res = import_(run, path, keys["kh"])
    lines = bad_lines(res)
    assert res.err.strip().splitlines()[-1] == "Error: 12 of 14 rows are bad; nothing was appended"
    assert [line.split(":", 1)[0] for line in lines] == [f"row {n}" for n in range(3, 15)]
    expect = {
        3: "unknown unit '不存在局': the 2017 scheme has no such unit",
        4: "unknown indicator '指标考核' for group 机关各部门、街道",
        5: "80.5 is outside '指标评估''s range 0…80",
        6: "'1,5' is not a decimal number",
        7: "'NaN' is not a decimal number",
        8: "points are empty",
        9: "办公室 / 指标评估 is in row 2 already",
        10: "unknown unit '财政局 ' (did you mean '财政局'?)",
        11: "unknown unit '⼯会联合会' (did you mean '工会联合会'?)",
        12: "unknown unit '华兴街道\\u3000' (did you mean '华兴街道'?)",  # an invisible character is shown escaped
        13: "-1 is outside",
        14: "unknown indicator '指标 评估' (did you mean '指标评估'?)",
    }
    for line, (number, fragment) in zip(lines, expect.items()):
        assert line.startswith(f"row {number}: ") and fragment in line, (line, fragment)
    assert run.positions() == before


def test_signer_role_and_department_are_checked_per_row(run, keys, tmp_path):
    path = write_csv(tmp_path / "s.csv", SCORE_HEADER, [["办公室", ITEM, "70", ""], ["财政局", ITEM, "71", ""]],
                     "utf-8")
    before = run.positions()
    assert bad_lines(import_(run, path, keys["cz"])) == [
        "row 2: 指标评估 is assessed by 考核办, not by 财政局", "row 3: 指标评估 is assessed by 考核办, not by 财政局"]
    lines = bad_lines(import_(run, path, keys["zz"]))
    assert len(lines) == 2 and all("needs role department" in line for line in lines)
    refused(import_(run, path, run.key("stranger")), "unknown signer")
    refused(run("import", path, "--year", "2018", "--sign-with", keys["kh"]), "no scheme has been adopted for 2018")
    assert run.positions() == before
    import_(run, path, keys["office"]).ok()  # the office may record any item
    assert run.positions() == before + 2


def test_rows_for_a_closed_year_are_refused(run, keys, tmp_path):
    # distinct totals for every unit, so that no tie leaves a grade pending and the year can close
    template = tmp_path / "t.csv"
    run("template", "--year", "2017", "--group", GROUP, "--out", template).ok()
    rows = list(csv.reader(io.StringIO(template.read_text(encoding="utf-8-sig"))))
    for i, row in enumerate(rows[1:]):
        row[4] = str(50 + i)
    filled = write_csv(tmp_path / "filled.csv", rows[0], rows[1:], "utf-8-sig")
    assert "25 signed act(s)" in import_(run, filled, keys["kh"]).ok().out
    run("year", "close", "2017", "--sign-with", keys["office"]).ok()
    run("year", "close", "2017", "--sign-with", keys["zz"]).ok()
    before = run.positions()
    late = write_csv(tmp_path / "late.csv", SCORE_HEADER, [["办公室", ITEM, "79", "补报"], ["财政局", ITEM, "78", "补报"]],
                     "utf-8")
    lines = bad_lines(import_(run, late, keys["kh"]))
    assert [line.split(":")[0] for line in lines] == ["row 2", "row 3"]
    assert all("year 2017 is closed" in line for line in lines)
    assert run.positions() == before


# ---- import: adjustments -------------------------------------------------------------------------------------------

def test_import_adjustments_xlsx_and_gb18030_csv(run, keys, tmp_path):
    sheet = write_xlsx(tmp_path / "加减分.xlsx", ADJ_HEADER, [
        ["办公室", "荣誉", "省级", "文明单位", None, "获省级文明单位", "湘文明〔2017〕3号"],
        ["财政局", "单项考核", None, None, "优秀", "市财政工作考核优秀", None],
    ])
    before = run.positions()
    import_(run, sheet, keys["kh"]).ok()
    gb = write_csv(tmp_path / "加减分.csv", ["单位", "规则", "选项", "理由"],
                   [["统计局", "单项考核", "不合格", "市统计工作考核不合格"]], "gb18030")
    import_(run, gb, keys["kh"]).ok()
    assert run.positions() == before + 3
    proposals = [a["envelope"]["act"] for a in log_acts(run)[-3:]]
    assert proposals[0] == {"year": 2017, "unit": "办公室", "rule": "荣誉", "inputs": {"level": "省级", "matter": "文明单位"},
                            "reason": "获省级文明单位", "document": "湘文明〔2017〕3号"}
    assert proposals[2]["inputs"] == {"option": "不合格"} and "document" not in proposals[2]
    waiting = json.loads(run("pending", "--format", "json").ok().out)
    assert sorted(w["unit"] for w in waiting) == ["办公室", "统计局", "财政局"]
    # the same list again would propose every adjustment twice
    lines = bad_lines(import_(run, sheet, keys["kh"]))
    assert len(lines) == 2 and all("is proposed already as" in line for line in lines)
    assert run.positions() == before + 3


def test_every_bad_adjustment_row_is_listed(run, keys, tmp_path):
    header = ["单位", "规则", "级别", "事项", "选项", "分值", "理由", "文号"]
    rows = [
        ["办公室", "荣誉", "省级", "文明单位", "", "", "获省级文明单位", "文1"],  # 2: good
        ["办公室", "荣誉", "省级", "文明单位", "", "", "获省级文明单位", "文1"],  # 3: duplicate of row 2
        ["财政局", "表彰", "省级", "x", "", "", "r", ""],                      # 4: unknown rule
        ["财政局", "荣 誉", "省级", "x", "", "", "r", ""],                     # 5: look-alike rule
        ["财政局", "荣誉", "区级", "x", "", "", "r", ""],                      # 6: level not in the rule
        ["财政局", "荣誉", "省级", "", "", "", "r", ""],                       # 7: same_matter rule without matter
        ["财政局", "单项考核", "", "", "优秀", "", "", ""],                    # 8: no reason
        ["财政局", "重大创新", "", "", "", "5", "创新", ""],                    # 9: points outside 1…3
        ["财政局", "重大创新", "", "", "", "1,5", "创新", ""],                  # 10: malformed points
        ["财政局　", "单项考核", "", "", "优秀", "", "r", ""],                 # 11: look-alike unit
        ["统计局", "单项考核", "", "", "优秀", "", "市统计考核优秀", ""],          # 12: good
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", header, rows)
    before = run.positions()
    res = import_(run, path, keys["kh"])
    lines = bad_lines(res)
    assert res.err.strip().splitlines()[-1] == "Error: 9 of 11 rows are bad; nothing was appended"
    expect = {3: "the same adjustment is in row 2 already", 4: "unknown rule '表彰' in the 2017 scheme",
              5: "unknown rule '荣 誉' (did you mean '荣誉'?)", 6: "level '区级' is not one of the rule's",
              7: "rule 荣誉 needs input 'matter'", 8: "an adjustment needs a reason",
              9: "points 5 are outside the rule's range 1…3", 10: "'1,5' is not a decimal number",
              11: "unknown unit '财政局\\u3000' (did you mean '财政局'?)"}
    assert [line.split(":", 1)[0] for line in lines] == [f"row {n}" for n in expect]
    for line, fragment in zip(lines, expect.values()):
        assert fragment in line, (line, fragment)
    assert run.positions() == before


# ---- templates and export ------------------------------------------------------------------------------------------

def test_template_round_trip_and_export(run, keys, tmp_path):
    template = tmp_path / "得分.xlsx"
    run("template", "--year", "2017", "--group", GROUP, "--out", template).ok()
    book = openpyxl.load_workbook(template)
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["分组", "单位", "指标", "满分", "得分", "理由"]
    assert sheet.max_row == 26 and sheet["C2"].value == ITEM and sheet["D2"].value == 80
    units = [sheet.cell(r, 2).value for r in range(2, 27)]
    mine = tmp_path / "mine.csv"
    assert "25 row(s)" in run("template", "--year", "2017", "--group", GROUP, "--department", "考核办",
                              "--out", mine).ok().out
    # a department the scheme does not name is refused by name, unless a registered signatory signs for it
    refused(run("template", "--year", "2017", "--group", GROUP, "--department", "考核力", "--out", mine),
            "unknown department 考核力: the 2017 scheme does not name it (closest: 考核办")
    refused(run("template", "--year", "2017", "--group", GROUP, "--department", "财政局", "--out", mine),
            "no leaf item of group 机关各部门、街道 is assessed by 财政局")
    for r in range(2, 27):  # the first unit 40, the others 56 … 79: the last unit ranks first, no ties
        sheet.cell(r, 5).value = 40 if r == 2 else 53 + r
    book.save(template)
    assert "25 signed act(s)" in import_(run, template, keys["kh"]).ok().out

    adjustments = tmp_path / "加减分.xlsx"
    run("template", "--year", "2017", "--group", GROUP, "--kind", "adjustments", "--out", adjustments).ok()
    book = openpyxl.load_workbook(adjustments)
    assert book.sheetnames == ["加减分", "规则"]
    rules = {r[0]: r for r in book["规则"].iter_rows(min_row=2, values_only=True)}
    assert set(rules) == {"荣誉", "重大创新", "发表", "单项考核"}
    assert rules["荣誉"][4] == "级别、事项" and rules["单项考核"][6] == "优秀=1; 良好=0.5; 合格=0; 不合格=-1"
    header = [c.value for c in book["加减分"][1]]
    row = dict.fromkeys(header)
    row.update({"单位": units[0], "规则": "荣誉", "级别": "省级", "事项": "文明单位", "理由": "获省级文明单位",
                "文号": "湘文明〔2017〕3号"})
    book["加减分"].append([row[h] for h in header])
    book.save(adjustments)
    # signed before the rule's deadline (2018-01-10), as the department would have
    run("--signed-at", DECEMBER, "import", adjustments, "--year", "2017", "--sign-with", keys["kh"]).ok()
    adj_id = json.loads(run("pending", "--format", "json").ok().out)[0]["id"]
    proposed_at = run.positions()
    run("--signed-at", DECEMBER, "adjust", "approve", adj_id, "--sign-with", keys["zz"], "--yes").ok()

    out = tmp_path / "结果.xlsx"
    run("export", "--year", "2017", "--out", out).ok()
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [GROUP, "加减分明细"]
    table = list(book[GROUP].iter_rows(values_only=True))
    assert table[0] == ("单位", ITEM, "班子成员评议", "部门互评", "加分", "减分", "总分", "排名", "等次", "说明")
    by_unit = {r[0]: r for r in table[1:]}
    assert [r[0] for r in table[1:3]] == [units[-1], units[-2]] and table[-1][0] == units[0]
    assert by_unit[units[-1]][6:9] == (79, 1, "优秀")
    assert by_unit[units[0]][4:9] == (2, 0, 42, 25, "不合格")  # 40 + 2 for the 省级 honour
    assert by_unit[units[7]][6:9] == (62, 18, "合格") and by_unit[units[4]][6:9] == (59, 21, "不合格")
    assert book[GROUP].cell(2, 7).number_format == "0.00"
    grades = [r[8] for r in table[1:]]
    assert (grades.count("优秀"), grades.count("良好"), grades.count("合格"), grades.count("不合格")) == (7, 10, 3, 5)
    detail = list(book["加减分明细"].iter_rows(values_only=True))
    assert detail[0][:8] == ("编号", "单位", "规则", "输入", "计分", "状态", "提出人", "审批人")
    assert detail[1][:9] == (adj_id, units[0], "荣誉", "级别=省级; 事项=文明单位", 2, "已生效", "李勇", "组长:欧杏",
                             "湘文明〔2017〕3号")
    assert detail[1][10] == "获省级文明单位" and len(detail) == 2

    # CSV: UTF-8 with BOM, the group's table only; as of before the approval the bonus does not count yet
    csv_out = tmp_path / "结果.csv"
    run("export", "--year", "2017", "--group", GROUP, "--as-of", str(proposed_at), "--out", csv_out).ok()
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0][0] == "单位" and len(lines) == 26
    first = {r[0]: r for r in lines[1:]}[units[0]]
    assert first[4:9] == ["0", "0", "40.00", "25", "不合格"]
    refused(run("export", "--year", "2017", "--group", "乡镇", "--out", csv_out), "unknown group '乡镇'")
    res = run("export", "--year", "2017", "--out", tmp_path / "结果.txt")
    assert res.code == 2 and "must end in .xlsx or .csv" in res.err


# ---- files that cannot be read -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, content, fragment", [
    ("cut.xlsx", "truncated", "not a readable .xlsx file"),
    ("noise.xlsx", b"\x00\x01not a zip at all", "not a readable .xlsx file"),
    ("utf16.csv", "单位,指标,得分\n办公室,指标评估,70\n".encode("utf-16"), "UTF-16"),
    ("bad.csv", b"\xe5\x8d\x95\xff\xff,x\n", "neither UTF-8 nor GB18030"),
    ("big5.csv", "單位,指標,得分\n辦公室,指標評估,70\n".encode("big5"), "no header row with a 单位/unit column"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "old .xls format"),
    ("book.csv", "xlsx-bytes", "an .xlsx workbook named .csv"),
    ("header.csv", "单位,指标,得份\n办公室,指标评估,70\n".encode(), "unknown column '得份'"),
    ("both.csv", "单位,指标,规则,得分\n".encode(), "cannot tell a score sheet"),
    ("empty.csv", "单位,指标,得分\n,,\n".encode(), "no data rows"),
])
def test_unreadable_files_give_one_line(tmp_path, name, content, fragment):
    run = Cli(str(tmp_path / "none.db"), tmp_path)  # nothing is read from the database before the file
    key = run.key("k")
    if content in ("truncated", "xlsx-bytes"):
        whole = write_xlsx(tmp_path / "whole.xlsx", SCORE_HEADER, [["办公室", ITEM, 70, None]]).read_bytes()
        content = whole[: len(whole) // 2] if content == "truncated" else whole
    (tmp_path / name).write_bytes(content)
    refused(run("import", tmp_path / name, "--year", "2017", "--sign-with", key), fragment)


def test_stray_value_without_header_is_a_bad_row(run, keys, tmp_path):
    path = write_csv(tmp_path / "s.csv", ["单位", "指标", "得分", ""],
                     [["办公室", ITEM, "70", ""], ["财政局", ITEM, "70", "加2分"]], "utf-8")
    before = run.positions()
    assert bad_lines(import_(run, path, keys["kh"])) == ["row 3: a value in column D ('加2分'), which has no header"]
    assert run.positions() == before

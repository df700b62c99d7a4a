"""How `ledger import` reads cells, on SQLite and PostgreSQL: rows with nothing to import are skipped and counted
(not listed as bad rows), and a number typed as text with spaces around it is read without them, while any other
malformed number stays a bad row. The HY 2017 ledger of tests/test_sheets.py."""
from __future__ import annotations

from tests.test_sheets import (ITEM, SCORE_HEADER, bad_lines, import_, keys, log_acts, run, totals,  # noqa: F401
                               write_csv, write_xlsx)


def test_blank_rows_are_skipped_and_counted(run, keys, tmp_path):
    blank = [[None, None, None, None], ["", " ", "\u3000", "\t"], ["\u200b", "", "\ufeff", None]]
    # a numbered form: its 序号 runs on below the last entry, 432 rows with nothing else in them
    rows = [[1, "办公室", ITEM, 70, None], *[[None, *r] for r in blank], [5, "财政局", ITEM, 71, None],
            *[[n, None, None, None, None] for n in range(6, 438)]]
    sheet = write_xlsx(tmp_path / "得分.xlsx", ["序号", *SCORE_HEADER], rows)
    before = run.positions()
    res = import_(run, sheet, keys["kh"]).ok()
    assert res.out.splitlines()[-1] == ("Imported 得分.xlsx: 2 signed act(s) appended from 2 row(s); "
                                        "skipped 435 blank row(s)")
    assert res.err == "" and run.positions() == before + 2
    # a CSV's empty lines and rows of commas alike; a sheet without blank rows says nothing of them
    path = tmp_path / "s.csv"
    path.write_text(f"单位,指标,得分,理由\n统计局,{ITEM},72,\n\n,,,\n , ,\u3000,\n", encoding="utf-8")
    assert "skipped 3 blank row(s)" in import_(run, path, keys["kh"]).ok().out
    plain = write_csv(tmp_path / "p.csv", SCORE_HEADER, [["建设局", ITEM, "73", ""]], "utf-8")
    assert "blank" not in import_(run, plain, keys["kh"]).ok().out


def test_blank_rows_are_not_listed_among_bad_rows(run, keys, tmp_path):
    rows = [["办公室", ITEM, "70", ""], *[["", "", "", ""]] * 30, ["不存在局", ITEM, "70", ""], ["", "", "", ""]]
    path = write_xlsx(tmp_path / "bad.xlsx", SCORE_HEADER, rows)
    before = run.positions()
    res = import_(run, path, keys["kh"])
    assert bad_lines(res) == ["row 33: unknown unit '不存在局': the 2017 scheme has no such unit"]
    assert res.err.strip().splitlines()[-1] == "Error: 1 of 2 rows are bad; nothing was appended"
    assert run.positions() == before


def test_spaces_around_a_number_are_dropped(run, keys, tmp_path):
    rows = [["办公室", ITEM, " 4.5 ", ""], ["财政局", ITEM, "\u300070\u3000", ""], ["统计局", ITEM, "\t 61.25\xa0", ""]]
    path = write_xlsx(tmp_path / "s.xlsx", SCORE_HEADER, rows)
    import_(run, path, keys["kh"]).ok()
    values = {a["envelope"]["act"]["unit"]: a["envelope"]["act"]["value"] for a in log_acts(run)[-3:]}
    assert values == {"办公室": "4.5", "财政局": "70", "统计局": "61.25"}
    assert {u: totals(run)[u] for u in values} == {"办公室": "4.50", "财政局": "70.00", "统计局": "61.25"}
    # the same values again, spaced otherwise: they repeat the recorded ones
    again = write_csv(tmp_path / "again.csv", SCORE_HEADER, [["办公室", ITEM, "4.5\u3000", ""]], "utf-8")
    assert "1 row(s) repeat the recorded score" in import_(run, again, keys["kh"]).ok().out
    # an adjustment list's number columns alike (分值 of a range rule)
    adj = write_csv(tmp_path / "a.csv", ["单位", "规则", "分值", "理由"], [["建设局", "重大创新", "\u3000 2 ", "创新"]],
                    "gb18030")
    import_(run, adj, keys["kh"]).ok()
    assert log_acts(run)[-1]["envelope"]["act"]["inputs"] == {"points": "2"}


def test_a_malformed_number_stays_a_bad_row(run, keys, tmp_path):
    rows = [["办公室", ITEM, "4.5分", ""], ["财政局", ITEM, "7 0", ""], ["统计局", ITEM, "\u200b70", ""],
            ["建设局", ITEM, "\u3000", ""], ["信访局", ITEM, " 70 ", ""]]
    path = write_xlsx(tmp_path / "bad.xlsx", SCORE_HEADER, rows)
    before = run.positions()
    lines = bad_lines(import_(run, path, keys["kh"]))
    assert [line.split(": ", 1)[0] for line in lines] == ["row 2", "row 3", "row 4", "row 5"]
    assert "'4.5分' is not a decimal number" in lines[0] and "'7 0' is not a decimal number" in lines[1]
    assert "contains an invisible or reordering character (U+200B)" in lines[2]
    assert lines[3] == "row 5: points are empty"
    assert run.positions() == before

"""What `ledger scores` and `ledger grades` print, on SQLite and PostgreSQL: each column of points in one format (the
group's two places, more only where a value has more), while `--format json` keeps every value as computed; and the
whole year's grades table ends with the result hash, as `--format json` and `ledger year close` give it."""
from __future__ import annotations

import csv
import io
import json

import pytest

from tests.cliharness import Cli
from tests.hy_ledger import UNIT, build, hy_text, pending_ids

ITEM = "指标评估"
# HY's formula with a named term, so that a term column shows: dept = indicators + adjustments
SCHEME = hy_text().replace('total = "indicators + 班子成员评议 + 部门互评 + adjustments"',
                           'dept = "indicators + adjustments"\ntotal = "dept + 班子成员评议 + 部门互评"', 1)


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


def table(text: str, unit: int = 1) -> dict[str, list[str]]:
    """The rows of a printed table by unit (the cell at index `unit`), each as its stripped cells."""
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines() if line.startswith("│")]
    return {r[unit]: r for r in rows}


def test_points_columns_in_one_format_and_the_whole_years_hash(run, tmp_path):
    assert "dept =" in SCHEME
    keys = build(run, tmp_path, text=SCHEME)
    template = tmp_path / "t.csv"
    run("template", "--year", "2017", "--group", "机关各部门、街道", "--out", template).ok()
    rows = list(csv.reader(io.StringIO(template.read_text(encoding="utf-8-sig"))))
    typed = {1: "74.50", 2: "52.5", 3: "76.0"}  # as departments type them; the others 53 … 74, all distinct
    for i, row in enumerate(rows[1:], 1):
        row[4] = typed.get(i, str(49 + i))
    sheet = tmp_path / "s.csv"
    sheet.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    run("import", sheet, "--year", "2017", "--sign-with", keys["kh"]).ok()
    first, second, third = (rows[i][1] for i in (1, 2, 3))
    adjustment = tmp_path / "a.csv"
    adjustment.write_text(f"单位,规则,选项,理由\n{first},单项考核,良好,市单项考核良好\n", encoding="utf-8")
    run("import", adjustment, "--year", "2017", "--sign-with", keys["kh"]).ok()
    run("adjust", "approve", pending_ids(run)[0], "--sign-with", keys["zz"], "--yes").ok()

    # JSON: the values as computed, untouched
    units = {r["unit"]: r for r in json.loads(run("scores", "--year", "2017", "--format", "json").ok().out)["units"]}
    assert [units[u]["dept"] for u in (first, second, third)] == ["75.00", "52.5", "76.0"]
    assert [units[u]["adjustments"] for u in (first, second)] == ["0.5", "0"]
    # the table: total, dept and adjustments each at two places, the rank and missing count as they are
    shown = table(run("scores", "--year", "2017").ok().out)
    assert shown[first][2:] == ["2", "75.00", "75.00", "0.50", "2"]  # 74.50 + 0.5
    assert shown[second][3:6] == ["52.50", "52.50", "0.00"] and shown[third][3:6] == ["76.00", "76.00", "0.00"]
    assert shown[rows[4][1]][3:6] == ["53.00", "53.00", "0.00"]
    lines = list(csv.reader(io.StringIO(run("scores", "--year", "2017", "--format", "csv").ok().out)))
    assert lines[0] == ["group", "unit", "rank", "total", "dept", "adjustments", "missing"]
    assert {r[1]: r[3:6] for r in lines[1:]}[second] == ["52.50", "52.50", "0.00"]

    # the whole year's grades end with its result hash; one group's (which it does not cover) and CSV do not
    digest = json.loads(run("grades", "--year", "2017", "--format", "json").ok().out)["result_sha256"]
    position = run.positions()
    out = run("grades", "--year", "2017").ok().out
    assert out.splitlines()[-1] == f"Result table of 2017 at position {position}: sha256 {digest}"
    assert table(out, 2)[second][3] == "52.50"
    assert "sha256" not in run("grades", "--year", "2017", "--group", "机关各部门、街道").ok().out
    assert "sha256" not in run("grades", "--year", "2017", "--format", "csv").ok().out

    # a value with three places: its column shows three everywhere, the total stays at the group's two
    run("score", "record", "--year", "2017", "--unit", second, "--indicator", ITEM, "--points", "52.125",
        "--note", "复核", "--sign-with", keys["kh"]).ok()
    shown = table(run("scores", "--year", "2017").ok().out)
    assert shown[second][3:6] == ["52.13", "52.125", "0.00"] and shown[first][3:6] == ["75.00", "75.000", "0.50"]
    units = {r["unit"]: r for r in json.loads(run("scores", "--year", "2017", "--format", "json").ok().out)["units"]}
    assert (units[second]["total"], units[second]["dept"]) == ("52.13", "52.125")

    # the close signs the hash the grades table shows
    closed = run("year", "close", "2017", "--sign-with", keys["office"]).ok().out.splitlines()[1]
    run("year", "close", "2017", "--sign-with", keys["zz"]).ok()
    assert run("grades", "--year", "2017").ok().out.splitlines()[-1] == closed


# a term that divides: carried as an exact quotient (37 places), which a table cannot show digit for digit
QUOTIENT = hy_text().replace('total = "indicators + 班子成员评议 + 部门互评 + adjustments"',
                             'dept = "indicators * 100 / 7"\ntotal = "dept * 7 / 100 + 班子成员评议 + 部门互评 + adjustments"',
                             1)


def test_a_quotient_term_is_shown_at_the_columns_places(run, tmp_path):
    assert "/ 7" in QUOTIENT
    keys = build(run, tmp_path, text=QUOTIENT)
    run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", ITEM, "--points", "74.5",
        "--sign-with", keys["kh"]).ok()
    units = {r["unit"]: r for r in json.loads(run("scores", "--year", "2017", "--format", "json").ok().out)["units"]}
    assert units[UNIT]["dept"].startswith("1064.28571428571428571")  # 7450 / 7, as computed
    for args in ([], ["--group", "机关各部门、街道"]):
        shown = table(run("scores", "--year", "2017", *args).ok().out)
        assert shown[UNIT][3:5] == [units[UNIT]["total"], "1064.29"]  # half up at the group's two places
    lines = list(csv.reader(io.StringIO(run("scores", "--year", "2017", "--format", "csv").ok().out)))
    assert {r[1]: r[4] for r in lines[1:]}[UNIT] == "1064.29"

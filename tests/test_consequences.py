"""Consequences across years: BP 较差 two years running, HY last place and 不合格 chains, HY staff-excellence share."""
from __future__ import annotations

import json
import tomllib
from decimal import Decimal

from ledger.grading_rules import parse_consequences, parse_grading
from projections.consequences import Consequence, UnitOutcome, consequences
from projections.grading import GradeInput, grade_group

BP = parse_consequences(tomllib.loads("""
[[rules]]
name = "较差约谈"
when = "grade"
grades = ["较差"]
consequence = "取消评先选优资格，约谈主要负责人"
[[rules]]
name = "连续两年较差"
when = "grade"
grades = ["较差"]
years = 2
consequence = "调整主要负责人工作岗位"
"""), "consequences", {"好", "较好", "一般", "较差"})

HY = parse_consequences(tomllib.loads("""
[[rules]]
name = "排名最后约谈"
when = "last_place"
consequence = "约谈"
[[rules]]
name = "连续两年排名最后"
when = "last_place"
years = 2
consequence = "诫勉谈话"
[[rules]]
name = "不合格诫勉"
when = "grade"
grades = ["不合格"]
consequence = "诫勉谈话"
[[rules]]
name = "连续两年不合格"
when = "grade"
grades = ["不合格"]
years = 2
consequence = "调整岗位"
[[rules]]
name = "连续三年排名最后"
when = "last_place"
years = 3
consequence = "调整岗位"
[staff_excellent_share]
"优秀" = "0.20"
"良好" = "0.15"
"合格" = "0.10"
"不合格" = "0"
"""), "consequences")


def o(grade: str | None, last: bool = False) -> UnitOutcome:
    return UnitOutcome(grade, last)


def triples(found: list[Consequence]) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(c.unit, c.rule, c.years) for c in found]


def test_bp_较差_two_years_running_moves_the_head():
    history = {2016: {"甲乡": o("较差"), "乙乡": o("一般")}, 2017: {"甲乡": o("较差"), "乙乡": o("较差")}}
    found = consequences(BP, history, 2017)
    assert triples(found) == [("乙乡", "较差约谈", (2017,)), ("甲乡", "较差约谈", (2017,)),
                              ("甲乡", "连续两年较差", (2016, 2017))]
    assert found[2].consequence == "调整主要负责人工作岗位"
    assert triples(consequences(BP, history, 2016)) == [("甲乡", "较差约谈", (2016,))]
    assert consequences(BP, history) == found  # the latest year by default


def test_a_gap_a_missing_unit_or_a_pending_grade_breaks_the_run():
    gap = {2015: {"甲乡": o("较差")}, 2017: {"甲乡": o("较差")}}
    assert triples(consequences(BP, gap, 2017)) == [("甲乡", "较差约谈", (2017,))]
    missing = {2016: {"乙乡": o("较差")}, 2017: {"甲乡": o("较差")}}
    assert [c.rule for c in consequences(BP, missing, 2017)] == ["较差约谈"]
    pending = {2016: {"甲乡": o(None)}, 2017: {"甲乡": o("较差")}}
    assert [c.rule for c in consequences(BP, pending, 2017)] == ["较差约谈"]


def test_hy_last_place_three_years_running():
    history = {year: {"A局": o("合格", last=True), "B局": o("优秀")} for year in (2015, 2016, 2017)}
    found = consequences(HY, history, 2017)
    assert triples(found) == [
        ("A局", "排名最后约谈", (2017,)), ("A局", "连续两年排名最后", (2016, 2017)),
        ("A局", "连续三年排名最后", (2015, 2016, 2017)), ("A局", "staff_excellent_share", (2017,)),
        ("B局", "staff_excellent_share", (2017,))]
    assert [c.consequence for c in found[:3]] == ["约谈", "诫勉谈话", "调整岗位"]
    assert (found[3].share, found[3].consequence) == (Decimal("0.10"), "工作人员年度考核优秀比例 10% (grade 合格)")
    assert (found[4].share, found[4].consequence) == (Decimal("0.20"), "工作人员年度考核优秀比例 20% (grade 优秀)")
    # two years in: 约谈 and 诫勉谈话, not yet 调整岗位
    assert [c.rule for c in consequences(HY, history, 2016) if c.unit == "A局"] == [
        "排名最后约谈", "连续两年排名最后", "staff_excellent_share"]


def test_hy_不合格_once_and_twice():
    history = {2016: {"C局": o("不合格")}, 2017: {"C局": o("不合格")}}
    assert [c.rule for c in consequences(HY, history, 2016)] == ["不合格诫勉", "staff_excellent_share"]
    found = consequences(HY, history, 2017)
    assert [c.rule for c in found] == ["不合格诫勉", "连续两年不合格", "staff_excellent_share"]
    assert found[-1].share == Decimal(0) and found[-1].consequence.startswith("工作人员年度考核优秀比例 0%")


def test_no_history_and_no_rules():
    assert consequences(HY, {}) == []
    assert consequences(parse_consequences({}, "consequences"), {2017: {"A": o("较差", True)}}) == []


def test_to_dict_is_plain():
    found = consequences(HY, {2017: {"A局": o("良好", last=True)}})
    plain = [c.to_dict() for c in found]
    assert json.loads(json.dumps(plain, ensure_ascii=False)) == plain
    assert plain[-1] == {"unit": "A局", "rule": "staff_excellent_share",
                         "consequence": "工作人员年度考核优秀比例 15% (grade 良好)", "years": [2017], "share": "0.15"}


def test_grades_over_three_years_feed_the_chain():
    rules = parse_grading({"grades": ["优秀", "良好", "合格", "不合格"], "shares": {"优秀": "0.30", "良好": "0.40"},
                           "min_total": {"合格": "60"}}, "groups.部门.grading")
    yearly = {2015: ["90", "80", "70", "55"], 2016: ["85", "75", "65", "58"], 2017: ["88", "77", "66", "66"]}
    history = {}
    for year, totals in yearly.items():
        entries = [GradeInput(unit, Decimal(t)) for unit, t in zip(["甲", "乙", "丙", "丁"], totals)]
        history[year] = grade_group(rules, entries, [], {}).outcomes()
    # 丁 is last (and 不合格) in 2015 and 2016; in 2017 it shares the last rank with 丙
    assert history[2017]["丙"].last_place and history[2017]["丁"].last_place
    assert history[2016]["丁"] == UnitOutcome("不合格", True)
    found = [c for c in consequences(HY, history, 2017) if c.unit == "丁"]
    assert [(c.rule, c.years) for c in found] == [
        ("排名最后约谈", (2017,)), ("连续两年排名最后", (2016, 2017)), ("连续三年排名最后", (2015, 2016, 2017)),
        ("staff_excellent_share", (2017,))]
    assert [c.rule for c in consequences(HY, history, 2016) if c.unit == "丁"] == [
        "排名最后约谈", "连续两年排名最后", "不合格诫勉", "连续两年不合格", "staff_excellent_share"]

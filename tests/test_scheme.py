"""Scheme files: the examples adopt cleanly, and every kind of mistake is refused naming file, key path and problem."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import Refused, SchemeError
from ledger.scheme import load_scheme

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
D = Decimal


def example(name: str):
    path = EXAMPLES / name
    return load_scheme(path.read_text(encoding="utf-8"), str(path))

# bp, hy and dy (the example schemes, loaded once per module) are fixtures in conftest.py


# ---- the examples ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,year,units", [("bp-2017.toml", 2017, 135), ("hy-2017.toml", 2017, 25),
                                             ("xz-2017.toml", 2017, 8), ("dq-2023.toml", 2023, 9),
                                             ("dy-2013.toml", 2013, 12)])
def test_every_example_adopts(name, year, units):
    scheme = example(name)
    assert scheme.year == year and len(scheme.units) == units
    assert scheme.text == (EXAMPLES / name).read_text(encoding="utf-8")
    assert len(set(scheme.units)) == len(scheme.units)


def test_bp_has_the_130_units_of_appendix_1_in_six_groups_plus_the_zones(bp):
    sizes = {g.name: len(g.units) for g in bp.groups}
    assert sizes == {"乡镇": 29, "管理区": 7, "市直部门第一组": 27, "市直部门第二组": 17, "市直部门第三组": 28,
                     "市直部门第四组": 22, "开发区园区景区": 5}
    assert sum(sizes.values()) - 5 == 130
    assert bp.units[0] == "长皋乡" and bp.units[-1] == "南山中心商贸集聚区"
    assert bp.group_of("检察院").name == "市直部门第三组"


def test_bp_rules_cover_appendix_2_items_1_to_14_and_item_8(bp):
    ids = set(bp.rules)
    for n in range(1, 14):
        assert f"附2-{n}" in ids
    assert {"附2-14表扬", "附2-14批评", "市直-8"} <= ids
    assert bp.rule("附2-5").department == "市发展改革局" and bp.rule("附2-6").department == "市建投办"
    assert bp.rule("附2-1").approvers == ("分管领导", "常务副市长", "市委副书记")
    assert bp.rule("市直-8").groups == ("市直部门第一组", "市直部门第二组", "市直部门第三组")
    assert bp.rule("附2-14表扬").assessed_by("市政府办") and not bp.rule("附2-14表扬").assessed_by("财政局")
    assert bp.rule("附2-11").assessed_by("任何部门")  # 市相关部门


def test_bp_roles_closing_and_decisions(bp):
    assert set(bp.roles) == {"分管领导", "常务副市长", "市委副书记", "组长"}
    assert bp.closing_roles == ("office", "组长")
    assert bp.decision_roles["direct_grade"] == ("组长",)
    assert bp.decision_roles_for("长皋乡", "fault") == ("office",)
    assert bp.group("开发区园区景区").grading.outside.grade_for(3) == "较好"
    assert bp.group("乡镇").grading.seats("好", 29) == 8


def test_bp_group_four_formula_and_tree(bp):
    group = bp.group("市直部门第四组")
    assert [name for name, _ in group.terms] == ["dept", "total"]
    assert group.components == ("领导评价", "社会评价")
    assert sum(i.weight for i in group.indicators if not i.parent) == 35


# ---- checks the write side relies on -------------------------------------------------------------------------------

def test_group_of_refuses_an_unknown_unit(bp):
    with pytest.raises(Refused, match="unknown unit '北京市'"):
        bp.group_of("北京市")


def test_check_score_uses_the_units_effective_tree(bp, dy):
    # 统计局 has neither a 招商引资 nor a 向上争取资金 task: both 20s go to 主要职能工作; 粮食局 lacks only the second
    assert bp.check_score("统计局", "主要职能工作", D(60)).weight == 60
    assert bp.check_score("粮食局", "主要职能工作", D(40)).weight == 40
    assert bp.check_score("粮食局", "招商引资", D(20)).weight == 20
    assert bp.check_score("财政局", "主要职能工作", D(20)).weight == 20
    with pytest.raises(Refused, match="outside '主要职能工作''s range 0…20 for 财政局"):
        bp.check_score("财政局", "主要职能工作", D(21))
    with pytest.raises(Refused, match="统计局 has no 招商引资 task: its weight goes to 主要职能工作"):
        bp.check_score("统计局", "招商引资", D(10))
    assert dy.check_score("档案局", "职能工作/完成年度工作要点", D(35)).weight == 35
    with pytest.raises(Refused, match="range 0…30"):
        dy.check_score("司法局", "职能工作/完成年度工作要点", D(35))


def test_check_score_refusals(bp, dy):
    with pytest.raises(Refused, match="unknown indicator '招商引资' for group 乡镇"):
        bp.check_score("长皋乡", "招商引资", D(1))
    with pytest.raises(Refused, match="not a leaf item"):
        bp.check_score("长皋乡", "经济发展", D(1))
    with pytest.raises(Refused, match="every unit takes part"):
        bp.check_score("长皋乡", "经济发展/税收收入", None)
    # deduction-only item: 0 down to its floor
    assert dy.check_score("司法局", "中心工作/五城同创", D(-5)).floor == -5
    with pytest.raises(Refused, match="range -5…0"):
        dy.check_score("司法局", "中心工作/五城同创", D("-5.5"))
    with pytest.raises(Refused, match="range -5…0"):
        dy.check_score("司法局", "中心工作/五城同创", D("0.5"))
    # an item with an average for non-participants accepts "does not take part"
    assert dy.check_score("司法局", "中心工作/服务经济发展/工业竞赛", None).non_participants == "average"


def test_check_evaluation(hy, dy, bp):
    hy.check_evaluation("办公室", "部门互评", "", None, None, {"优秀": 10, "良好": 3})
    hy.check_evaluation("办公室", "班子成员评议", "", None, "良好", None)
    dy.check_evaluation("司法局", "市级领导评议", "半年", D("4.5"), None, None)
    with pytest.raises(Refused, match="rounds 半年, 年终, not '全年'"):
        dy.check_evaluation("司法局", "市级领导评议", "全年", D("4.5"), None, None)
    with pytest.raises(Refused, match="off the scale 0…5"):
        dy.check_evaluation("司法局", "市级领导评议", "年终", D("5.1"), None, None)
    with pytest.raises(Refused, match="exactly one of value, level or votes"):
        hy.check_evaluation("办公室", "部门互评", "", D(9), "优秀", None)
    with pytest.raises(Refused, match="votes for unknown level '很好'"):
        hy.check_evaluation("办公室", "部门互评", "", None, None, {"很好": 3})
    with pytest.raises(Refused, match="no votes were cast"):
        hy.check_evaluation("办公室", "部门互评", "", None, None, {"优秀": 0})
    with pytest.raises(Refused, match="level '及格' is not one of"):
        hy.check_evaluation("办公室", "部门互评", "", None, "及格", None)
    with pytest.raises(Refused, match="not evaluated by 民主测评"):
        bp.check_evaluation("人行", "民主测评", "", D(90), None, None)
    with pytest.raises(Refused, match="unknown evaluation component"):
        bp.check_evaluation("人行", "群众评议", "", D(90), None, None)
    with pytest.raises(Refused, match="single round"):
        bp.check_evaluation("人行", "领导评价", "年终", D(90), None, None)


def test_check_adjustment_accepts_each_kind(bp, hy):
    assert bp.check_adjustment("长皋乡", "附2-1", {"option": "完成", "points": "2.5"}).kind == "range"
    assert bp.check_adjustment("财政局", "附2-2", {"option": "新建", "count": "2"}).cap.bonus == 5
    assert bp.check_adjustment("财政局", "附2-3", {"count": "4", "target": "3"}).kind == "task"
    assert bp.check_adjustment("财政局", "附2-4", {"option": "未完成"}).kind == "outcome"
    assert bp.check_adjustment("财政局", "附2-5", {"amount": "1500"}).kind == "rate"
    assert bp.check_adjustment("统计局", "附2-8", {"amount": "800"}).kind == "threshold"
    # 没有招商引资/向上争取资金任务的单位: a 乡镇's or 管理区's tree has neither item
    assert bp.check_adjustment("长皋乡", "附2-8", {"amount": "800"}).kind == "threshold"
    assert bp.check_adjustment("南山管理区", "附2-9", {"amount": "150"}).kind == "rate"
    assert bp.check_adjustment("长皋乡", "附2-11", {"area": "劳务经济", "points": "-1.5"}).kind == "area"
    assert bp.check_adjustment("长皋乡", "附2-12", {"entity": "东村", "rank": "12"}).kind == "derived"
    assert bp.check_adjustment("长皋乡", "附2-13", {"option": "介绍经验", "count": "1", "date": "2017-06-01"})
    assert bp.check_adjustment("长皋乡", "附2-14批评", {"level": "市", "matter": "秸秆焚烧"}).same_matter
    assert bp.check_adjustment("财政局", "市直-8", {"rank": "2", "tied": "2"}).kind == "rank"
    assert hy.check_adjustment("财政局", "单项考核", {"option": "良好"}).kind == "grade"
    assert hy.check_adjustment("财政局", "荣誉", {"level": "省级", "matter": "文明单位"}).deadline.isoformat() == \
        "2018-01-10"


@pytest.mark.parametrize("unit,rule,inputs,message", [
    ("长皋乡", "附2-99", {}, "unknown rule '附2-99'"),
    ("长皋乡", "附2-1", {"option": "完成", "points": "4"}, r"outside the rule's range 1…3 for 完成"),
    ("长皋乡", "附2-1", {"option": "工作不力", "points": "-1"}, r"range -2…-2"),
    ("长皋乡", "附2-1", {"option": "优秀", "points": "1"}, "option '优秀' is not one of the rule's"),
    ("长皋乡", "附2-1", {"points": "1"}, "missing input 'option'"),
    ("长皋乡", "附2-4", {}, "needs input 'option'"),
    ("长皋乡", "附2-4", {"option": "完成", "amount": "3"}, "unknown input 'amount'"),
    ("长皋乡", "附2-2", {"option": "新建", "count": "1.5"}, "whole number"),
    ("长皋乡", "附2-2", {"option": "新建", "count": "-1"}, "whole number"),
    ("长皋乡", "附2-5", {"amount": "1,500"}, "not a decimal number"),
    ("长皋乡", "附2-5", {"amount": "NaN"}, "not a decimal number"),
    ("长皋乡", "附2-5", {"amount": "1e309"}, "not a decimal number"),
    ("长皋乡", "附2-5", {"amount": "-5"}, "must not be negative"),
    ("长皋乡", "附2-5", {"amount": 1500}, "must be text"),
    ("长皋乡", "附2-12", {"entity": "东村", "rank": "25"}, "earns nothing"),
    ("管理区" and "南山管理区", "附2-12", {"entity": "东村", "rank": "2"}, "applies to 乡镇, not to 南山管理区"),
    ("南山管理区", "附2-11", {"area": "劳务经济", "points": "-1"}, "applies to 乡镇, not 管理区"),
    ("长皋乡", "附2-11", {"area": "扶贫", "points": "-1"}, "not one of the rule's areas"),
    ("长皋乡", "附2-11", {"area": "防汛", "points": "-2.5"}, "range -2…0"),
    ("长皋乡", "附2-13", {"option": "会议现场", "count": "1"}, "needs input 'date'"),
    ("长皋乡", "附2-13", {"option": "会议现场", "count": "1", "date": "2017-6-1"}, "YYYY-MM-DD"),
    ("长皋乡", "附2-14批评", {"level": "市"}, "needs input 'matter'"),
    ("长皋乡", "附2-14批评", {"level": "省", "matter": "x"}, "level '省' is not one of"),
    ("长皋乡", "市直-8", {"rank": "1"}, "applies to 市直部门第一组"),
    ("财政局", "市直-8", {"rank": "0"}, "1 or more"),
    ("财政局", "附2-8", {"amount": "800"}, "for units without a 招商引资 task; 财政局 has one"),
    ("经济开发区", "附2-1", {"option": "完成", "points": "1"}, "not scored in this ledger"),
])
def test_check_adjustment_refusals(bp, unit, rule, inputs, message):
    with pytest.raises(Refused, match=message):
        bp.check_adjustment(unit, rule, inputs)


# ---- validation: every error names file, key path and problem -----------------------------------------------------

BASE = """
year = 2017
name = "测试"
default_approvers = ["分管领导"]
[roles]
"分管领导" = "市分管领导"
[components."领导评价"]
scale = 100
[groups."甲"]
units = ["A", "B"]
indicators = [
  { id = "经济", weight = 40 },
  { id = "经济/税收", weight = 30 },
  { id = "经济/招商", weight = 10 },
  { id = "党建", weight = 60 },
]
[groups."甲".formula]
total = "indicators * 90% + 领导评价 * 10% + adjustments"
[rules.r1]
kind = "outcome"
options = { "完成" = "2" }
"""


def refused(text: str) -> SchemeError:
    with pytest.raises(SchemeError) as info:
        load_scheme(text, "t.toml")
    return info.value


def test_the_base_of_these_cases_is_valid():
    assert load_scheme(BASE).rule("r1").approvers == ("分管领导",)


@pytest.mark.parametrize("old,new,path,problem", [
    ('{ id = "经济/招商", weight = 10 }', '{ id = "经济/招商", weight = 11 }', "groups.甲.indicators[0].weight",
     "the children of '经济' add up to 41 (税收 30 + 招商 11), but '经济' weighs 40"),
    ('units = ["A", "B"]', 'units = ["A", "A"]', "groups.甲.units[1]", "'A' is listed twice"),
    ('units = ["A", "B"]', 'units = ["A", ""]', "groups.甲.units[1]", "empty name"),
    ('units = ["A", "B"]', 'units = ["A", " B"]', "groups.甲.units[1]", "leading or trailing spaces"),
    ('kind = "outcome"', 'kind = "bonus"', "rules.r1.kind", "unknown rule kind 'bonus'"),
    ('options = { "完成" = "2" }', 'options = { "完成" = "2" }\nsame_matter = "across_levels"', "rules.r1.same_matter",
     'same_matter "across_levels" is for a level rule'),
    ('options = { "完成" = "2" }', 'options = { "完成" = "2" }\nsame_matter = "lowest"', "rules.r1.same_matter",
     'must be "highest" or "across_levels"'),
    ('default_approvers = ["分管领导"]', 'default_approvers = ["市长"]', "default_approvers[0]", "unknown role '市长'"),
    ('total = "indicators * 90% + 领导评价 * 10% + adjustments"', 'total = "indicators * 90% + 社会评价 * 10%"',
     "groups.甲.formula.total", "unknown component or term '社会评价'"),
    ('total = "indicators * 90% + 领导评价 * 10% + adjustments"', 'total = "indicators / 领导评价"',
     "groups.甲.formula.total", "divide only by a constant"),
    ('total = "indicators * 90% + 领导评价 * 10% + adjustments"', 'total = "eval(1)"',
     "groups.甲.formula.total", "unknown function 'eval'"),
    ('total = "indicators * 90% + 领导评价 * 10% + adjustments"', 'sub = "indicators"',
     "groups.甲.formula", "the formula's last term must be `total`"),
    ('options = { "完成" = "2" }', 'options = { "完成" = "2" }\ncap = { bonus = "-5" }', "rules.r1.cap.bonus",
     "a cap is a size and cannot be negative"),
    ('scale = 100', 'scale = 100\nrounds = [{ id = "半年", weight = "1.25" }, { id = "年终", weight = "-0.25" }]',
     "components.领导评价.rounds[0].weight", "a round's weight is a share, above 0 and at most 1, not 1.25"),
    ('scale = 100', 'scale = 100\nrounds = [{ id = "半年", weight = "0.25" }, { id = "年终", weight = "0.7" }]',
     "components.领导评价.rounds", "round weights add up to 0.95, not 1"),
    ('{ id = "党建", weight = 60 }', '{ id = "党建", weight = "6O" }', "groups.甲.indicators[3].weight",
     "not a decimal number"),
    ('{ id = "党建", weight = 60 }', '{ id = "党建", weight = "1,5" }', "groups.甲.indicators[3].weight",
     "not a decimal number"),
    ('{ id = "党建", weight = 60 }', '{ id = "党建", weight = 60.0 }', "groups.甲.indicators[3].weight",
     "TOML floats are binary"),
    ('{ id = "党建", weight = 60 }', '{ id = "党建", wieght = 60 }', "groups.甲.indicators[3].weight",
     "missing (the table also has 'wieght': a typo?)"),
    ('{ id = "党建", weight = 60 }', '{ id = "党建", weight = 60, departmnet = "x" }',
     "groups.甲.indicators[3].departmnet", "unknown key 'departmnet'"),
    ('scale = 100', 'scale = 100\nlevles = { "好" = "100" }', "components.领导评价.levles", "unknown key 'levles'"),
    ('name = "测试"', 'name = "测试"\nyaer = 2017', "yaer", "unknown key 'yaer'"),
    ('kind = "outcome"', 'kind = "outcome"\ncapp = { bonus = "1" }', "rules.r1.capp", "unknown key 'capp'"),
    ('{ id = "经济/招商", weight = 10 }', '{ id = "经济/招商", weight = 10 },\n  { id = "经济/招商", weight = 0 }',
     "groups.甲.indicators[3].id", "duplicate indicator '经济/招商'"),
    ('{ id = "经济", weight = 40 },', '', "groups.甲.indicators[0].id", "parent '经济' of '经济/税收' is not declared"),
    ('{ id = "党建", weight = 60 }', '{ id = "党建", weight = 60, floor = "1" }', "groups.甲.indicators[3].floor",
     "must be 0 or below"),
    ('{ id = "党建", weight = 60 }', '{ id = "党建", weight = -60 }', "groups.甲.indicators[3].weight",
     "below the least allowed value 0"),
    ('[rules.r1]', '[groups."甲".grading]\ngrades = ["好", "差"]\nshares = { "好" = "1.2" }\n[rules.r1]',
     "groups.甲.grading.shares.好", "outside 0–1"),
    ('[rules.r1]', '[groups."甲".grading]\ngrades = ["好", "差"]\nroles = { tie = ["市长"] }\n[rules.r1]',
     "groups.甲.grading.roles.tie", "unknown role '市长'"),
    ('year = 2017', 'year = "2017"', "year", "expected an integer"),
    ('[roles]', '[roles]\n"office" = "考核办"', "roles.office", "built-in role"),
    ('kind = "outcome"', 'kind = "outcome"\napprovers = ["组长"]', "rules.r1.approvers[0]", "unknown role '组长'"),
    ('kind = "outcome"', 'kind = "outcome"\ngroups = ["乙"]', "rules.r1.groups[0]", "unknown group '乙'"),
    ('kind = "outcome"', 'kind = "outcome"\ncategory = "表彰"', "rules.r1.category", "unknown category '表彰'"),
    ('kind = "outcome"', 'kind = "outcome"\nindicator = "经济"', "rules.r1.indicator", "not a leaf item"),
    ('kind = "outcome"', 'kind = "outcome"\ndeadline = "2018-02-30"', "rules.r1.deadline", "not a calendar day"),
])
def test_validation_errors_name_file_path_and_problem(old, new, path, problem):
    assert old in BASE
    error = refused(BASE.replace(old, new, 1))
    assert error.file == "t.toml"
    assert error.path == path, str(error)
    assert problem in error.problem, str(error)
    assert str(error).startswith(f"t.toml: {path}: ")


def test_a_unit_in_two_groups_is_refused():
    text = BASE + '[groups."乙"]\nunits = ["C", "B"]\n'
    error = refused(text)
    assert error.path == "groups.乙.units[1]"
    assert "unit 'B' is already in group '甲' (groups.甲.units)" in error.problem


def test_redistribution_errors():
    move = 'redistribute = [ { from = "经济/招商", to = "党建", units = ["C"] } ]\n[groups."甲".formula]'
    error = refused(BASE.replace('[groups."甲".formula]', move))
    assert error.path == "groups.甲.redistribute[0].units[0]" and "'C' is not a unit of this group" in error.problem
    move = 'redistribute = [ { from = "经济/招商", to = "经济", units = ["A"] } ]\n[groups."甲".formula]'
    assert "has children" in refused(BASE.replace('[groups."甲".formula]', move)).problem


def test_category_caps_must_be_used_and_not_negative():
    error = refused(BASE + '[caps.categories."表彰"]\nbonus = "5"\n')
    assert error.path == "caps.categories.表彰" and "no rule is in category" in error.problem
    error = refused(BASE + '[caps.unit]\nnet = "-10"\n')
    assert error.path == "caps.unit.net" and "cannot be negative" in error.problem


def test_not_toml_and_empty_scheme():
    assert "not valid TOML" in refused("year = \n").problem
    error = refused('year = 2017\nname = "x"\n')
    assert error.path == "groups" and error.problem == "missing"


def test_group_weight_must_match_its_tree():
    error = refused(BASE.replace('units = ["A", "B"]', 'units = ["A", "B"]\nweight = 99'))
    assert error.path == "groups.甲.weight" and "add up to 100, but the group weighs 99" in error.problem


def test_target_scoring_needs_a_target_for_every_unit():
    text = BASE.replace('{ id = "党建", weight = 60 }',
                        '{ id = "党建", weight = 60, scoring = "target", targets = { "A" = "100" } }')
    error = refused(text)
    assert error.path == "groups.甲.indicators[3].targets" and "missing for B" in error.problem
    text = BASE.replace('{ id = "党建", weight = 60 }', '{ id = "党建", weight = 60, scoring = "target", target = "0" }')
    assert "a target must be greater than 0" in refused(text).problem

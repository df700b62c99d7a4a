"""Seed 001 (HY, 高新区2017年度目标任务考核工作实施方案, 衡高新发〔2017〕189号) against examples/hy-2017.toml.

Each case quotes the seed's sentence it checks and works out the expected numbers by hand in its comment; the engine's
output is asserted against them. Pure functions only (no database). Pinned elsewhere and not repeated: votes for
both components and the ±10 cap on bonuses alone and deductions alone (test_scoring.py), honours of one matter and
the 2018-01-10 deadline for 重大创新 (test_scoring_rules.py), the grading rules on a copy of the seed's table
(test_grading.py) and the consequence chains on a copy of its rules (test_consequences.py).
"""
from __future__ import annotations

import pytest

from ledger.errors import Refused
from projections.consequences import consequences
from projections.facts import Adjustment, EvaluationScore, Facts, IndicatorScore
from projections.grading import GradeInput, grade_group
from projections.scoring import score_year
from tests.grading_cases import HY_TOTALS, by_grade, d
from tests.scoring_cases import D, adj, ev, score

GROUP = "机关各部门、街道"
FALSIFIED = "自评指标完成情况存在虚报、瞒报、谎报等弄虚作假行为"
FAULTS = ("工作未落实被党中央、国务院通报批评", "安全生产、综治维稳、计划生育工作被一票否决",
          "部门负责人发生重大腐败案件或部门内部不团结造成重大损失或恶劣影响", FALSIFIED,
          "因工作出现严重失误影响高新区在全市评估等次")


def year(hy, *facts):
    """The year's scores from a mix of scores, evaluations and adjustments."""
    def of(kind):
        return tuple(f for f in facts if isinstance(f, kind))
    return score_year(hy, Facts(2017, scores=of(IndicatorScore), evaluations=of(EvaluationScore),
                                adjustments=of(Adjustment)))


def unit_result(hy, unit, *facts):
    return year(hy, *facts).unit(unit)


def adjustment_sum(result):
    return sum((e.counted for e in result.adjustments), D(0))


def graded(hy, totals, decisions=()):
    group = hy.group(GROUP)
    return grade_group(group.grading, [GradeInput(u, D(t)) for u, t in zip(group.units, totals)], list(decisions), {})


def places(hy, result) -> dict[str, list[int]]:
    units = hy.group(GROUP).units
    return {g: [units.index(u) + 1 for u in names] for g, names in by_grade(result).items()}


# ---- 二、考评范围; 三、考评内容 ------------------------------------------------------------------------------------------

def test_the_25_units_as_listed(hy):
    # 机关各部门、街道(办事处)(共25个): the seed's list, in its order
    assert hy.group(GROUP).units == (
        "办公室", "组织人事局", "机关党委", "工会联合会", "机关工会", "区纪委", "招商合作局", "规划管理部", "建设局",
        "经济发展局", "财政局", "环境保护局", "教育文化体育局", "民政和社会保障局", "统计局", "安全生产监督管理局",
        "卫生和计划生育局", "信访局", "创业服务中心", "城市管理执法大队", "国有土地上房屋征收管理办公室", "建设工程质量监督站",
        "华兴街道", "蒸水办事处", "高岭办事处")


def test_a_whole_unit_by_hand(hy):
    # 综合得分 = 指标评估得分 + 内部评估得分 + 加(减)分. 财政局:
    #   指标评估 72.5 (of 80);
    #   班子成员评议 (优秀、良好、及格、不及格, READING 10/8/6/0): 7 members 3 优秀, 3 良好, 1 及格 → 60 ÷ 7 = 8.5714… → 8.57;
    #   部门互评 (无记名投票, 合格 6): 16 votes 5 优秀, 10 良好, 1 不合格 → 130 ÷ 16 = 8.125 → 8.13 (half up; banker's 8.12);
    #   加分: 国家级荣誉 +3 (the 省级 honour for the same matter does not count: 以最高级别荣誉计分), two 市级 articles +1 +1,
    #   单项考核 优秀 +1, 合格 0, 不合格 −1 → 3 + 2 + 1 + 0 − 1 = 5
    #   total 72.5 + 8.57 + 8.13 + 5 = 94.20
    result = unit_result(hy, "财政局", score("财政局", "指标评估", "72.5"),
                         ev("财政局", "班子成员评议", votes={"优秀": 3, "良好": 3, "及格": 1}),
                         ev("财政局", "部门互评", votes={"优秀": 5, "良好": 10, "不合格": 1}),
                         adj("财政局", "荣誉", level="国家级", matter="文明单位", document="国发1"),
                         adj("财政局", "荣誉", level="省级", matter="文明单位", document="省发1"),
                         adj("财政局", "发表", level="市级", document="衡阳日报2017-3"),
                         adj("财政局", "发表", level="市级", document="衡阳日报2017-9"),
                         *[adj("财政局", "单项考核", option=o) for o in ("优秀", "合格", "不合格")])
    assert result.component_values == {"班子成员评议": D("8.57"), "部门互评": D("8.13")}
    assert adjustment_sum(result) == 5 and len(result.not_counted) == 1
    assert result.total == D("94.20")


@pytest.mark.parametrize("option, points", [("优秀", "1"), ("良好", "0.5"), ("合格", "0"), ("不合格", "-1")])
def test_city_single_item_grades(hy, option, points):
    # 在市级单项工作考核中,获得优秀的加1分,获得良好的加0.5分,合格的不加分,考核不合格的,减1分
    result = unit_result(hy, "统计局", adj("统计局", "单项考核", option=option))
    assert adjustment_sum(result) == D(points)


@pytest.mark.parametrize("rule, level, points", [
    # 获得市级荣誉的,加1分;获得省级荣誉的,加2分;获得国家级荣誉的,加3分
    ("荣誉", "市级", 1), ("荣誉", "省级", 2), ("荣誉", "国家级", 3),
    # 部门或个人在各级报刊发表工作研究或经验材料的,市级加1分,省级加2分,国家级加3分
    ("发表", "市级", 1), ("发表", "省级", 2), ("发表", "国家级", 3),
])
def test_honours_and_articles_by_level(hy, rule, level, points):
    result = unit_result(hy, "统计局", adj("统计局", rule, level=level, matter="m", document="文1"))
    assert adjustment_sum(result) == points


def test_innovation_range_1_to_3(hy):
    # 有重大创新且成效显著的 … 酌情加1-3分: 1 and 3 are allowed, 0.5 and 3.5 are not
    for points in ("1", "3"):
        assert hy.check_adjustment("统计局", "重大创新", {"points": points}).kind == "range"
    for points in ("0.5", "3.5", "-1"):
        with pytest.raises(Refused, match="outside the rule's range 1…3"):
            hy.check_adjustment("统计局", "重大创新", {"points": points})


def test_the_10_point_limit_is_on_the_net(hy):
    # 单个部门加(减)分最多不超过10分 (READING: the net within ±10). +3 × 4 = 12 and 单项考核 不合格 × 3 = −3: net 9,
    # within 10, all counted (a limit on bonuses alone would give 10 − 3 = 7). One more +2: net 11 → 10, the latest
    # bonus gives way (2 → 1)
    deductions = [adj("统计局", "单项考核", option="不合格") for _ in range(3)]
    bonuses = [adj("统计局", "重大创新", points="3") for _ in range(4)]
    assert adjustment_sum(unit_result(hy, "统计局", *bonuses, *deductions)) == 9
    more = unit_result(hy, "统计局", *bonuses, adj("统计局", "重大创新", points="2"), *deductions)
    assert adjustment_sum(more) == 10
    assert [(e.points, e.counted) for e in more.adjustments if e.rule.id == "重大创新"][-1] == (2, 1)


def test_the_application_deadline_applies_to_bonuses_applied_for(hy):
    # 各部门申请加分的,须在2018年1月10日前向考核办申报 (READING: the 10th included, Beijing time): an article signed
    # 2018-01-10 23:00 counts, one at 2018-01-11 00:00 does not; an honour likewise. READING: 单项考核 grades come from
    # the city's results and have no deadline: one recorded in March counts. 2 + 0.5 + 3 = 5.5
    result = unit_result(hy, "统计局",
                         adj("统计局", "发表", level="省级", document="刊1", submitted="2018-01-10T15:00:00Z"),
                         adj("统计局", "发表", level="省级", document="刊2", submitted="2018-01-10T16:00:00Z"),
                         adj("统计局", "荣誉", level="国家级", matter="a", document="d", submitted="2018-01-10T15:59:59Z"),
                         adj("统计局", "荣誉", level="国家级", matter="b", document="d", submitted="2018-01-11T01:00:00Z"),
                         adj("统计局", "单项考核", option="良好", submitted="2018-03-01T02:00:00Z"))
    assert adjustment_sum(result) == D("5.5")
    assert sorted(n.reason for n in result.not_counted) == ["late: submitted 2018-01-11, deadline 2018-01-10"] * 2


def test_an_honour_without_its_document_counts_nothing(hy):
    # READING (no evidence, no points): an honour and an article count with the 文号 / 刊名期号 of their evidence
    result = unit_result(hy, "统计局", adj("统计局", "荣誉", level="省级", matter="a"), adj("统计局", "发表", level="市级"))
    assert adjustment_sum(result) == 0 and len(result.not_counted) == 2


# ---- 四、考评等次及名额 ---------------------------------------------------------------------------------------------

def test_quota_7_优秀_10_良好_then_60(hy):
    # 优秀 名额占…30%, 共评出优秀等次的部门7个; 良好 40%, 共评出良好等次的部门10个; 合格: 其余 60分以上;
    # 60分(不含)以下 不合格. Totals 96 … 60, 59.99, 55, 50: places 1–7 优秀, 8–17 良好, 18–22 合格 (60 itself is
    # 合格), 23–25 不合格
    rules = hy.group(GROUP).grading
    assert [rules.seats(g, 25) for g in ("优秀", "良好")] == [7, 10]  # 7.5 and 10 rounded down
    result = graded(hy, HY_TOTALS)
    assert places(hy, result) == {"优秀": list(range(1, 8)), "良好": list(range(8, 18)), "合格": list(range(18, 23)),
                                  "不合格": [23, 24, 25]}


def test_the_published_total_decides_the_60_line(hy):
    # READING: grades read the published total. 指标评估 41.995 + 班子 良好 8 + 互评 合格 6 + 单项考核 良好 0.5 =
    # 56.495 → 56.50; 41.995 + 8 + 10 = 59.995 → 60.00, which is not "60分(不含)以下". The other 23 units have
    # nothing yet (0): 统计局 ranks 1st and takes an 优秀 seat (the 60 binds every better grade, and it has 60.00);
    # 信访局, 2nd, is below 60: 不合格 although an 优秀 seat is left
    def one(unit, indicator, banzi, huping):
        return [score(unit, "指标评估", indicator), ev(unit, "班子成员评议", level=banzi), ev(unit, "部门互评", level=huping)]
    scores = year(hy, *one("统计局", "41.995", "良好", "优秀"), *one("信访局", "41.995", "良好", "合格"),
                  adj("信访局", "单项考核", option="良好"))
    assert scores.unit("统计局").published == "60.00" and scores.unit("信访局").published == "56.50"
    entries = [GradeInput(u.unit, u.total) for u in scores.units]
    result = grade_group(hy.group(GROUP).grading, entries, [], {})
    assert result.unit("统计局").grade == "优秀" and result.unit("信访局").grade == "不合格"


def test_each_disqualifying_fault_caps_at_合格(hy):
    # (四)有下列情形之一的单位,取消评为优秀、良好等次资格: the five, each capping at 合格. 自评虚报瞒报 at place 2:
    # place 8 moves up to 优秀, place 18 to 良好
    rules = hy.group(GROUP).grading
    assert dict(rules.faults) == {f: "合格" for f in FAULTS}
    units = hy.group(GROUP).units
    result = graded(hy, HY_TOTALS, [d(units[1], "fault", FALSIFIED)])
    assert places(hy, result) == {"优秀": [1] + list(range(3, 9)), "良好": list(range(9, 19)),
                                  "合格": [2] + list(range(19, 23)), "不合格": [23, 24, 25]}


def test_three_faults_make_不合格_and_a_ruling_too(hy):
    # (五)有上述…情形中3种及以上情形的 → 不合格 (place 1 with three distinct faults); two distinct faults only cap
    # (place 2: 合格); 因工作失职渎职…经考核领导小组研究后,认定为不合格的 (the 组长 rules place 3 不合格)
    units = hy.group(GROUP).units
    decisions = [d(units[0], "fault", f) for f in FAULTS[:3]] + [d(units[1], "fault", f) for f in FAULTS[3:]]
    decisions.append(d(units[2], "leading_group", "不合格"))
    assert hy.group(GROUP).grading.decision_roles["leading_group"] == ("组长",)
    result = graded(hy, HY_TOTALS, decisions)
    assert [result.unit(u).grade for u in units[:3]] == ["不合格", "合格", "不合格"]
    assert [result.unit(u).basis for u in units[:3]] == ["fault_count", "quota", "leading_group"]
    assert places(hy, result)["优秀"] == list(range(4, 11))


# ---- 五、考评结果运用 -------------------------------------------------------------------------------------------------

def test_last_place_and_不合格_over_three_years(hy):
    # 评估得分排名最后的部门 … 约谈; 连续两年排名最后,或者当年被评为不合格等次的 … 诫勉谈话; 连续2年被评为不合格,或连续3年
    # 排名最后1位的 … 调整其部门主要负责人的工作岗位. 高岭办事处 (place 25, 50: 不合格) is last in 2015, 2016 and 2017
    outcomes = graded(hy, HY_TOTALS).outcomes()
    history = {2015: outcomes, 2016: outcomes, 2017: outcomes}
    found = [(c.rule, c.years) for c in consequences(hy.consequences, history, 2017) if c.unit == "高岭办事处"]
    assert found == [("排名最后", (2017,)), ("连续两年排名最后", (2016, 2017)), ("不合格", (2017,)),
                     ("连续两年不合格", (2016, 2017)), ("连续三年排名最后", (2015, 2016, 2017)),
                     ("staff_excellent_share", (2017,))]
    # 蒸水办事处 (55, 不合格, not last): 诫勉谈话 for 不合格 only, in one year
    once = [c.rule for c in consequences(hy.consequences, {2017: outcomes}, 2017) if c.unit == "蒸水办事处"]
    assert once == ["不合格", "staff_excellent_share"]


def test_staff_excellence_share_follows_the_grade(hy):
    # 优秀、良好、合格的部门,其工作人员年度考核优秀比例分别确定为20%、15%、10% … 不合格的部门 … 不得评为优秀等次
    outcomes = graded(hy, HY_TOTALS).outcomes()
    shares = {c.unit: c.share for c in consequences(hy.consequences, {2017: outcomes}, 2017)
              if c.rule == "staff_excellent_share"}
    units = hy.group(GROUP).units
    assert [shares[units[i]] for i in (0, 7, 17, 24)] == [D("0.20"), D("0.15"), D("0.10"), D("0")]


def test_units_sharing_the_last_place_are_all_last(hy):
    # READING: 排名最后 is every unit holding the last rank: places 24 and 25 both at 55
    totals = HY_TOTALS[:24] + ["55"]
    outcomes = graded(hy, totals).outcomes()
    units = hy.group(GROUP).units
    last = sorted(c.unit for c in consequences(hy.consequences, {2017: outcomes}, 2017) if c.rule == "排名最后")
    assert last == sorted([units[23], units[24]])


def test_a_tie_at_the_优秀_boundary(hy):
    # places 7 and 8 both at 83 (READING: all tied units get the better grade, the quota exceeded and said): 8 优秀;
    # 良好 keeps its 10 seats (places 9–18), 合格 19–22, 不合格 23–25
    totals = HY_TOTALS[:6] + ["83", "83"] + HY_TOTALS[8:]
    result = graded(hy, totals)
    assert places(hy, result) == {"优秀": list(range(1, 9)), "良好": list(range(9, 19)), "合格": list(range(19, 23)),
                                  "不合格": [23, 24, 25]}
    assert result.notes[-1] == "优秀: 8 units for 7 seat(s), quota exceeded: tie at the boundary (all tied units get " \
                               "the better grade)"

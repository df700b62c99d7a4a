"""Scoring from the seeds, computed by hand: formulas, rounding, every rule kind, caps, deadlines, carry-over, ranks."""
from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.scheme import load_scheme
from projections.facts import Adjustment, EvaluationScore, Facts, IndicatorScore
from projections.scoring import score_year

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
D = Decimal
_positions = itertools.count(1)


def example(name: str):
    return load_scheme((EXAMPLES / name).read_text(encoding="utf-8"), name)


@pytest.fixture(scope="module")
def bp():
    return example("bp-2017.toml")


@pytest.fixture(scope="module")
def hy():
    return example("hy-2017.toml")


@pytest.fixture(scope="module")
def dy():
    return example("dy-2013.toml")


def score(unit, indicator, value, participates=True):
    n = next(_positions)
    return IndicatorScore(unit, indicator, None if value is None else D(value), f"s{n}", n, participates)


def ev(unit, component, value=None, level=None, votes=None, round=""):
    n = next(_positions)
    return EvaluationScore(unit, component, round, None if value is None else D(value), level, f"v{n}", n, votes)


def adj(unit, rule, status="approved", submitted="2017-12-01T02:00:00Z", document="", origin=None, **inputs):
    n = next(_positions)
    return Adjustment(f"a{n}", unit, rule, {k: str(v) for k, v in inputs.items()}, status, "reason", "proposer",
                      submitted, n, (), n if status == "approved" else None, origin, document)


def fill(unit, items, value):
    """A score for each of the unit's items, all at `value` (or at the item's weight when value is None)."""
    return [score(unit, i, value) for i in items]


BP_TOWN_ITEMS = {  # 乡镇: weight of each leaf (105 in all, as printed)
    "经济发展/税收收入": 12, "经济发展/民营经济发展": 5, "经济发展/村集体经济收入": 3, "生态环境和生态农业建设": 12,
    "农村环境卫生综合整治": 10, "脱贫攻坚": 12, "脱贫攻坚重点民生工作": 10, "农村土地“三权分置”改革工作": 6,
    "社会安全稳定/社会治安综合治理": 5, "社会安全稳定/信访工作": 5, "软环境建设": 5, "党的建设/党建工作责任制": 6,
    "党的建设/党风廉洁建设责任制": 3, "党的建设/作风建设": 3, "党的建设/宣传工作和意识形态工作责任制": 3,
    "党的建设/“德耀北票”行动": 5}


def town_scores(unit, lost: dict[str, str]):
    """Full marks on every 乡镇 item except those in `lost` (item → points)."""
    return [score(unit, item, lost.get(item, str(weight))) for item, weight in BP_TOWN_ITEMS.items()]


def evaluations(unit, 领导评价, 民主测评, 社会评价):
    return [ev(unit, "领导评价", 领导评价), ev(unit, "民主测评", 民主测评), ev(unit, "社会评价", 社会评价)]


# ---- formulas and rounding --------------------------------------------------------------------------------------

def test_bp_town_total_half_up_on_a_5_in_the_third_decimal(bp):
    # items 105 − 14.5 = 90.5; total = 90.5 × 80% + 85.45 × 10% + 90 × 5% + 88 × 5% = 72.4 + 8.545 + 4.5 + 4.4
    #                                 = 89.845 → 89.85 (banker's rounding would give 89.84)
    facts = Facts(2017, scores=tuple(town_scores("长皋乡", {"经济发展/税收收入": "2", "脱贫攻坚": "7.5"})),
                  evaluations=tuple(evaluations("长皋乡", "85.45", "90", "88")))
    result = score_year(bp, facts).unit("长皋乡")
    assert result.terms["dept"] == D("90.5")
    assert result.exact_total == D("89.845")
    assert result.total == D("89.85") and str(result.total) == "89.85"
    assert "total = dept * 80% + 领导评价 * 10% + 民主测评 * 5% + 社会评价 * 5% = 90.5 * 80% + 85.45 * 10% + " \
           "90 * 5% + 88 * 5% = 89.845 → 89.85 (half up, 2 places)" in result.explain


def test_bp_group_four_formula(bp):
    # 第四组: (dept × 100/35 + adjustments) × 30% + 领导评价 × 40% + 社会评价 × 30%
    items = {"扶贫(驻村帮扶)工作": "9", "软环境建设": "4", "党的建设/党建工作责任制": "5", "党的建设/党风廉洁建设责任制": "3",
             "党的建设/作风建设": "3", "党的建设/宣传工作和意识形态工作责任制": "1", "党的建设/“德耀北票”行动": "3"}
    facts = Facts(2017, scores=tuple(score("人行", k, v) for k, v in items.items()) +  # 28 of 35
                  tuple(score("工行", k, v) for k, v in {**items, "党的建设/“德耀北票”行动": "5"}.items()),  # 30 of 35
                  evaluations=(ev("人行", "领导评价", "88"), ev("人行", "社会评价", "91"),
                               ev("工行", "领导评价", "88"), ev("工行", "社会评价", "91")),
                  adjustments=(adj("人行", "附2-4", option="未完成"), adj("人行", "附2-1", option="完成", points="2.5")))
    scores = score_year(bp, facts)
    # 人行: (28 × 100/35 + (−1 + 2.5)) × 30% + 88 × 40% + 91 × 30% = 81.5 × 0.3 + 35.2 + 27.3 = 86.95
    one = scores.unit("人行")
    assert one.terms["dept"] == D("81.5") and one.total == D("86.95")
    # 工行: 30 × 100/35 = 85.714285…; × 30% = 25.714285… + 35.2 + 27.3 = 88.2142857… → 88.21
    two = scores.unit("工行")
    assert two.exact_total.quantize(D("1E-10")) == D("88.2142857143") and two.total == D("88.21")
    assert "民主测评" not in two.terms and [c.name for c in two.components] == ["领导评价", "社会评价"]


def test_hy_total_votes_and_the_plus_minus_10_cap(hy):
    # 部门互评 by anonymous vote: (10×10 + 12×8 + 2×6 + 0×0) ÷ 24 = 8.666… → 8.67 (the component's 2 places)
    # 班子成员评议 from the members' levels: (3×10 + 4×8) ÷ 7 = 8.857… → 8.86
    facts = Facts(2017, scores=(score("财政局", "指标评估", "72.5"), score("统计局", "指标评估", "70")),
                  evaluations=(ev("财政局", "部门互评", votes={"优秀": 10, "良好": 12, "合格": 2, "不合格": 0}),
                               ev("财政局", "班子成员评议", votes={"优秀": 3, "良好": 4}),
                               ev("统计局", "部门互评", level="良好"), ev("统计局", "班子成员评议", level="及格")),
                  adjustments=(adj("财政局", "荣誉", level="国家级", matter="全国文明单位", document="文1"),
                               adj("财政局", "重大创新", points="3"),
                               adj("财政局", "发表", level="国家级", document="刊1"),
                               adj("财政局", "发表", level="省级", document="刊2"),   # +11 in all → capped at +10
                               *[adj("统计局", "单项考核", option="不合格") for _ in range(12)]))  # −12 → −10
    scores = score_year(hy, facts)
    fin = scores.unit("财政局")
    assert [c.value for c in fin.components] == [D("8.86"), D("8.67")]
    assert fin.terms["total"] == D("72.5") + D("8.86") + D("8.67") + 10
    assert fin.total == D("100.03")
    last = fin.adjustments[-1]
    assert last.points == 2 and last.counted == 1
    assert "cap of the unit's adjustments (net within ±10): 2 → 1" in last.notes
    stat = scores.unit("统计局")
    assert sum(e.counted for e in stat.adjustments) == -10
    assert len(stat.adjustments) == 10 and len(stat.not_counted) == 2
    assert all(n.reason.startswith("cap reached: cap of the unit's adjustments") for n in stat.not_counted)
    assert stat.total == D("70") + 6 + 8 - 10


def test_xz_thousand_point_conversion():
    xz = example("xz-2017.toml")
    items = [i.id for i in xz.group("行政村").leaves_for("村1")]
    marks = ["95", "90", "88", "92", "96", "94", "85", "90", "91", "93", "89", "87", "92", "90", "88"]  # 1360
    facts = Facts(2017, scores=tuple(score("村1", i, v) for i, v in zip(items, marks)),
                  evaluations=(ev("村1", "党政班子成员打分", "88.5"), ev("村1", "民主测评", level="较好")))
    result = score_year(xz, facts).unit("村1")
    # 1360 × 1000/1500 = 906.666…; × 90% = 816; 88.5 × 10 × 10% = 88.5; total 904.50
    assert result.terms["现场考核"].quantize(D("0.001")) == D("906.667")
    assert result.total == D("904.50")
    assert result.missing == []


def test_dq_base_score_indicators():
    dq = example("dq-2023.toml")
    facts = Facts(2023, scores=(score("镇1", "经济运行情况/税收收入", "4500"),  # 12 × 4500/5000 = 10.80
                                score("镇1", "经济运行情况/农民人均纯收入增长率", "8"),  # 8 × 8/10 = 6.40
                                score("镇1", "经济运行情况/固定资产投资增长率", "18"),  # target 15 met: 10
                                score("镇1", "经济运行情况/招商引资", "0")),  # 0
                  evaluations=(ev("镇1", "干部群众评价", "90"),),
                  adjustments=(adj("镇1", "增项", points="1.5"), adj("镇1", "减项", points="-0.5")))
    result = score_year(dq, facts).unit("镇1")
    points = {i.id: i.points for i in result.items}
    assert points["经济运行情况/税收收入"] == D("10.80")
    assert points["经济运行情况/农民人均纯收入增长率"] == D("6.40")
    assert points["经济运行情况/固定资产投资增长率"] == 10
    assert points["经济运行情况/招商引资"] == 0
    # (27.2 + 1) × 80% + 90 × 20% = 22.56 + 18 = 40.56
    assert result.total == D("40.56")
    assert len(result.missing) == 16  # the 16 items not yet scored are listed, and count 0


# ---- DY: deduction-only floors, average for non-participants, rounds, redistribution -----------------------------

def test_dy_deduction_floor_and_deductions_into_items(dy):
    facts = Facts(2013, scores=(score("司法局", "中心工作/五城同创", "-5"),),
                  adjustments=(adj("司法局", "保密-失泄密", option="绝密", count="2"),   # −4, item floor −2
                               adj("司法局", "作风-投诉查实", count="3"),             # 10 − 0.6
                               adj("司法局", "作风-违反作风规定", count="12")))       # a later −12 stops at 0
    result = score_year(dy, facts).unit("司法局")
    points = {i.id: i for i in result.items}
    assert points["中心工作/五城同创"].points == -5
    secret = points["作风建设/自身建设/保密工作"]
    assert secret.points == -2 and "kept within -2…0 (扣完为止)" in secret.how
    style = points["作风建设/机关作风建设"]
    assert style.points == 0 and "adjustments -12.6 → -2.6" in style.how
    assert result.terms.get("adjustments") is None and result.adjustments[0].rule.indicator


def test_dy_average_for_non_participants_rounds_and_redistribution(dy):
    item = "中心工作/服务经济发展/工业竞赛"
    facts = Facts(2013, scores=(score("司法局", item, "2"), score("信访局", item, "1.5"), score("安监局", item, "1.8"),
                                score("公安局", item, None, participates=False),
                                score("档案局", "职能工作/完成年度工作要点", "34")),
                  evaluations=(ev("公安局", "市级领导评议", "4.2", round="半年"),
                               ev("公安局", "市级领导评议", "4.6", round="年终")))
    scores = score_year(dy, facts)
    police = scores.unit("公安局")
    got = next(i for i in police.items if i.id == item)
    # (2 + 1.5 + 1.8) ÷ 3 = 1.7666… → 1.77
    assert got.points == D("1.77") and "average of the 3 units taking part" in got.how
    # 4.2 × 1/4 + 4.6 × 3/4 = 1.05 + 3.45 = 4.50
    assert police.component_values["市级领导评议"] == D("4.50")
    assert "component 镇乡街道评议 (a round)" in police.missing
    archive = scores.unit("档案局")
    assert not any(i.id == "职能工作/完成金华市下达目标责任制考核任务" for i in archive.items)
    assert next(i for i in archive.items if i.id == "职能工作/完成年度工作要点").weight == 35
    assert "  item 职能工作/完成年度工作要点 [0…35]: 34 — recorded 34" in archive.explain


# ---- every rule kind, by hand ------------------------------------------------------------------------------------

def counted(result) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for entry in result.adjustments:
        out[entry.rule.id] = out.get(entry.rule.id, D(0)) + entry.counted
    return out


def test_bp_rule_kinds(bp):
    facts = Facts(2017, adjustments=(
        adj("财政局", "附2-1", option="完成", points="2.5"),            # range: +2.5
        adj("财政局", "附2-2", option="新建", count="2"),               # count: 4
        adj("财政局", "附2-2", option="续建", count="3"),               # + 1.5 → 5.5, capped at 5
        adj("财政局", "附2-3", count="6", target="3"),                  # task: 2 + min(3, 2) = 4
        adj("财政局", "附2-4", option="完成"),                          # outcome: +2
        adj("财政局", "附2-5", amount="600"),                           # rate, whole: 600 + 1700 = 2300 → 2
        adj("财政局", "附2-5", amount="1700"),
        adj("财政局", "附2-6", amount="25000"),                         # 2 whole 1亿 → 4
        adj("财政局", "附2-7", option="迟报", count="3"),               # −0.3
        adj("财政局", "附2-7", option="漏报", count="1"),               # −0.2
        adj("财政局", "附2-11", area="保密工作", points="-1.5"),        # area: −1.5 − 1 → capped at −2
        adj("财政局", "附2-11", area="保密工作", points="-1"),
        adj("财政局", "附2-11", area="防汛", points="-0.5"),            # another area: −0.5
        adj("财政局", "附2-14表扬", level="朝阳市及以上", document="朝委发〔2017〕1号"),  # level: +2
        adj("财政局", "市直-8", rank="1", tied="3"),                    # rank: 5 ÷ 3 = 1.67
        adj("统计局", "附2-8", amount="1250"),                          # threshold: 2 + 7 × 0.1 = 2.7
        adj("统计局", "附2-8", amount="1290"),                          # 2.7 again (whole steps) → sum 5.4, cap 5
        adj("统计局", "附2-9", amount="250"),                           # rate, proportional: 2.50
        adj("统计局", "市直-8", rank="4", tied="2"),                    # −2 ÷ 2 = −1.00
        adj("粮食局", "附2-9", amount="650"),                           # 6.5 → cap 5
        adj("粮食局", "附2-3", count="1", target="3"),                  # task missed by 2: −2
        adj("粮食局", "市直-8", rank="7"),                              # beyond the table: as 5th, −3
        adj("地震局", "附2-9", amount="50"),                            # below the minimum 100: 0
        adj("地震局", "附2-3", count="5", target="0"),                  # no task: min(5 × 1, 2) = 2
        adj("地震局", "市直-8", rank="1", tied="2"),                    # 5 ÷ 2 = 2.50
    ))
    scores = score_year(bp, facts)
    assert counted(scores.unit("财政局")) == {
        "附2-1": D("2.5"), "附2-2": 5, "附2-3": 4, "附2-4": 2, "附2-5": 2, "附2-6": 4, "附2-7": D("-0.5"),
        "附2-11": D("-2.5"), "附2-14表扬": 2, "市直-8": D("1.67")}
    assert scores.unit("财政局").terms["dept"] == D("20.17")  # 2.5+5+4+2+2+4-0.5-2.5+2+1.67
    assert counted(scores.unit("统计局")) == {"附2-8": 5, "附2-9": D("2.50"), "市直-8": D("-1.00")}
    assert counted(scores.unit("粮食局")) == {"附2-9": 5, "附2-3": -2, "市直-8": -3}
    zhen = scores.unit("地震局")
    assert counted(zhen) == {"附2-3": 2, "市直-8": D("2.50"), "附2-9": 0}
    funds = next(e for e in scores.unit("财政局").adjustments if e.rule.id == "附2-5")
    assert funds.how.startswith("600 + 1700 = 2300: 2300万元 ÷ 1000万元 → 2 (whole multiples)")
    assert [a.id for a in funds.adjustments] == [a.id for a in facts.adjustments if a.rule == "附2-5"]
    rank = next(e for e in scores.unit("财政局").adjustments if e.rule.id == "市直-8")
    assert "rank 1, 3 tied: 5 ÷ 3 = 1.666" in rank.how and rank.how.endswith("→ 1.67 (2 places, half up)")
    threshold = [e for e in scores.unit("统计局").adjustments if e.rule.id == "附2-8"]
    assert [e.points for e in threshold] == [D("2.7"), D("2.7")] and [e.counted for e in threshold] == [D("2.7"),
                                                                                                         D("2.3")]


def test_same_matter_counts_once_at_its_highest_level(bp, hy):
    facts = Facts(2017, adjustments=(
        adj("长皋乡", "附2-14批评", level="朝阳市及以上", matter="秸秆焚烧", document="朝委通〔2017〕3号"),
        adj("长皋乡", "附2-14批评", level="市", matter="秸秆焚烧", document="北委通〔2017〕9号"),
        adj("长皋乡", "附2-14批评", level="市", matter="安全检查", document="北委通〔2017〕12号"),
    ))
    result = score_year(bp, facts).unit("长皋乡")
    assert sorted(e.counted for e in result.adjustments) == [-3, -2]
    assert result.not_counted[0].reason.startswith("same matter '秸秆焚烧' counts once, at its highest level")
    facts = Facts(2017, adjustments=(
        adj("财政局", "荣誉", level="市级", matter="文明单位", document="d1"),
        adj("财政局", "荣誉", level="国家级", matter="文明单位", document="d2"),
        adj("财政局", "荣誉", level="省级", matter="文明单位", document="d3"),
        adj("财政局", "荣誉", level="省级", matter="综治先进", document="d4"),
    ))
    result = score_year(hy, facts).unit("财政局")
    assert sorted(e.counted for e in result.adjustments) == [2, 3] and len(result.not_counted) == 2


def test_bp_village_ranks_give_the_township_its_bonus(bp):
    facts = Facts(2017, adjustments=(
        adj("龙潭镇", "附2-12", entity="东村", rank="3"),     # top 10: +0.5
        adj("龙潭镇", "附2-12", entity="西村", rank="8"),     # +0.5
        adj("龙潭镇", "附2-12", entity="南村", rank="15"),    # 11–20: +0.2
        adj("龙潭镇", "附2-12", entity="东村", rank="3"),     # the same village again: counted once
    ))
    result = score_year(bp, facts).unit("龙潭镇")
    assert result.terms["dept"] == D("1.2")
    assert len(result.not_counted) == 1 and "东村 counts once" in result.not_counted[0].reason


def test_statuses_deadlines_documents_and_carry_over(bp, hy):
    facts = Facts(2017, adjustments=(
        adj("财政局", "附2-4", status="pending", option="完成"),
        adj("财政局", "附2-4", status="rejected", option="完成"),
        adj("财政局", "附2-4", status="rescinded", option="完成"),
        adj("财政局", "附2-4", status="carried over to 2018", option="完成"),
        adj("财政局", "附2-14表扬", level="市"),                                   # no document: nothing
        adj("财政局", "附2-13", option="会议现场", count="1", date="2017-06-01", document="朝办通〔2017〕5号",
            submitted="2017-06-04T09:00:00+08:00"),                               # within 3 days: +2
        adj("财政局", "附2-13", option="介绍经验", count="1", date="2017-06-01", document="朝办通〔2017〕5号",
            submitted="2017-06-04T16:00:00Z"),                                    # 06-05 in Beijing: late
        adj("财政局", "市直-8", rank="2", origin=2016),                            # carried over from 2016: +2
    ))
    result = score_year(bp, facts).unit("财政局")
    reasons = {n.id: n.reason for n in result.not_counted}
    ids = [a.id for a in facts.adjustments]
    assert reasons[ids[0]] == "not yet approved: waiting for 分管领导, 常务副市长, 市委副书记"
    assert reasons[ids[1]] == "rejected" and reasons[ids[2]] == "rescinded"
    assert reasons[ids[3]].startswith("carried over to 2018")
    assert reasons[ids[4]].startswith("no document (文号)")
    assert reasons[ids[6]] == "late: submitted 2017-06-05, due within 3 days of 2017-06-01 (by 2017-06-04)"
    assert result.terms["dept"] == 4
    carried = next(e for e in result.adjustments if e.rule.id == "市直-8")
    assert carried.carried_from == 2016 and "(carried over from 2016)" in " ".join(result.explain)
    facts = Facts(2017, adjustments=(
        adj("财政局", "重大创新", points="2", submitted="2018-01-10T15:59:59Z"),   # 23:59:59 on the 10th: in time
        adj("财政局", "重大创新", points="3", submitted="2018-01-10T16:00:00Z"),   # 00:00 on the 11th: late
    ))
    result = score_year(hy, facts).unit("财政局")
    assert [e.counted for e in result.adjustments] == [2]
    assert result.not_counted[0].reason == "late: submitted 2018-01-11, deadline 2018-01-10"


def test_carried_over_adjustment_uses_its_own_years_rule_when_given(bp):
    older = load_scheme(bp.text.replace('by_rank = ["5", "2", "0", "-2", "-3"]', 'by_rank = ["6", "3", "0", "-2", "-3"]'))
    facts = Facts(2017, adjustments=(adj("财政局", "市直-8", rank="1", origin=2016),))
    assert score_year(bp, facts).unit("财政局").terms["dept"] == 5
    assert score_year(bp, facts, {2016: older}).unit("财政局").terms["dept"] == 6


def test_ranks_share_places_for_equal_totals(hy):
    values = {"办公室": "70", "财政局": "75", "统计局": "75", "信访局": "74", "建设局": "75.004"}
    facts = Facts(2017, scores=tuple(score(u, "指标评估", v) for u, v in values.items()))
    scores = score_year(hy, facts)
    ranks = {u: scores.unit(u).rank for u in values}
    # 75.004 rounds to 75.00 and ties with 75: ranks follow the rounded total
    assert ranks == {"建设局": 1, "财政局": 1, "统计局": 1, "信访局": 4, "办公室": 5}
    assert scores.unit("华兴街道").rank == 6  # 20 units with no score share the last place, 0
    ordered = scores.group("机关各部门、街道")
    assert {u.unit for u in ordered[:3]} == {"建设局", "统计局", "财政局"} and ordered[3].unit == "信访局"


def test_unscored_group_and_ignored_facts(bp):
    facts = Facts(2017, scores=(score("经济开发区", "招商引资", "3"), score("长皋乡", "招商引资", "3")),
                  evaluations=(ev("人行", "民主测评", "90"),),
                  adjustments=(adj("北京市", "附2-4", option="完成"),))
    scores = score_year(bp, facts)
    zone = scores.unit("经济开发区")
    assert zone.total is None and zone.rank is None
    assert len(scores.ignored) == 4


def test_explanation_accounts_for_every_point(bp):
    facts = Facts(2017, scores=tuple(town_scores("龙潭镇", {"脱贫攻坚": "10.25"})),
                  evaluations=tuple(evaluations("龙潭镇", "91.3", "88", "79.9")),
                  adjustments=(adj("龙潭镇", "附2-12", entity="东村", rank="3"),
                               adj("龙潭镇", "附2-11", area="防汛", points="-1.75"),
                               adj("龙潭镇", "附2-4", status="pending", option="完成")))
    result = score_year(bp, facts).unit("龙潭镇")
    items = [D(line.split("]: ")[1].split(" —")[0]) for line in result.explain if line.startswith("  item ")]
    moves = [D(line.split()[1]) for line in result.explain if line.startswith("  adjustment ")]
    assert sum(items) == result.terms["dept"] - sum(moves) == D("103.25")
    assert sum(moves) == D("-1.25")
    terms = {line.split(" = ")[0]: line for line in result.explain if " = " in line and not line.startswith(" ")}
    assert terms["dept"] == "dept = indicators + adjustments = 103.25 + (-1.25) = 102"
    # 102 × 80% + 91.3 × 10% + 88 × 5% + 79.9 × 5% = 81.6 + 9.13 + 4.4 + 3.995 = 99.125 → 99.13
    assert result.total == D("99.13") and terms["total"].endswith("= 99.125 → 99.13 (half up, 2 places)")
    assert any("not counted" in line and "waiting for" in line for line in result.explain)


def test_results_serialise_deterministically(bp):
    facts = Facts(2017, scores=tuple(town_scores("龙潭镇", {})), evaluations=tuple(evaluations("龙潭镇", "90", "90", "90")),
                  adjustments=(adj("龙潭镇", "附2-12", entity="东村", rank="3"),))
    plain = score_year(bp, facts).to_dict()
    again = score_year(bp, facts).to_dict()
    assert json.dumps(plain, ensure_ascii=False, sort_keys=True) == json.dumps(again, ensure_ascii=False, sort_keys=True)

    def kinds(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            return set().union(*map(kinds, value.values())) if value else set()
        if isinstance(value, list):
            return set().union(*map(kinds, value)) if value else set()
        return {type(value)}

    assert kinds(plain) <= {str, int, bool, type(None)}
    unit = next(u for u in plain["units"] if u["unit"] == "龙潭镇")
    # 105.5 × 80% + 90 × 20% = 84.4 + 18 = 102.40, published with its two places
    assert unit["total"] == "102.40" and unit["terms"]["dept"] == "105.5"


@pytest.mark.parametrize("name,year,full", [
    ("bp-2017.toml", 2017, {"乡镇": "104.00", "管理区": "100.00", "市直部门第一组": "100.00", "市直部门第二组": "100.00",
                            "市直部门第三组": "100.00", "市直部门第四组": "100.00", "开发区园区景区": None}),
    ("hy-2017.toml", 2017, {"机关各部门、街道": "100.00"}),
    ("xz-2017.toml", 2017, {"行政村": "1000.00"}),
    ("dq-2023.toml", 2023, {g: "100.00" for g in ("镇", "区直党群部门", "社会管理服务部门", "经济管理部门")}),
    ("dy-2013.toml", 2013, {"市级机关部门": "100.00"}),
])
def test_every_example_scores_full_marks_to_its_maximum(name, year, full):
    scheme = example(name)
    scores, evals = [], []
    for group in scheme.groups:
        for unit in group.units:
            for item in group.leaves_for(unit):
                value = item.target_of(unit) if item.scoring == "target" else item.weight
                scores.append(score(unit, item.id, str(value)))
            for component in group.components:
                spec = scheme.components[component]
                for round_id in spec.round_ids:
                    evals.append(ev(unit, component, str(spec.scale), round=round_id))
    result = score_year(scheme, Facts(year, scores=tuple(scores), evaluations=tuple(evals)))
    assert result.ignored == []
    for unit in result.units:
        assert unit.to_dict()["total"] == full[unit.group], unit.unit
        assert unit.missing == [] and (unit.rank == 1 or unit.total is None)

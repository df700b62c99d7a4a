"""Scoring from the seeds, computed by hand: formulas, rounding, every rule kind, caps, deadlines, carry-over, ranks."""
from __future__ import annotations

import json

import pytest

from projections.facts import Facts
from projections.scoring import score_year
from tests.scoring_cases import D, adj, ev, evaluations, example, score, town_scores

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


def test_dy_average_counts_units_taking_part_with_no_deduction(dy):
    # 不进驻中心的部门单位得进驻部门单位考核的平均分: 信访局 is not in the centre; of the 11 that are, 司法局 lost 2 and
    # ten had no deduction (a deduction-only item needs no record): (−2 + 0 × 10) ÷ 11 = −0.1818… → −0.18
    item = "作风建设/行政服务中心"
    facts = Facts(2013, scores=(score("司法局", item, "-2"), score("信访局", item, None, participates=False)))
    scores = score_year(dy, facts)
    got = next(i for i in scores.unit("信访局").items if i.id == item)
    assert got.points == D("-0.18")
    assert "average of the 11 units taking part, 10 of them with no deduction recorded (-2 ÷ 11)" in got.how
    # an explicit 0 for one of them is the same fact as no record: the average does not move
    again = score_year(dy, Facts(2013, scores=facts.scores + (score("安监局", item, "0"),)))
    assert next(i for i in again.unit("信访局").items if i.id == item).points == D("-0.18")



def test_dy_average_takes_the_deductions_scored_into_the_item():
    # a scheme whose centre deducts 0.5 a case into the item: 安监局's 3 cases are −1.5 of its points there, and of
    # the average: (−2 − 1.5 + 0 × 9) ÷ 11 = −0.3181… → −0.32
    from ledger.scheme import load_scheme
    from tests.scoring_cases import EXAMPLES

    text = (EXAMPLES / "dy-2013.toml").read_text(encoding="utf-8") + (
        '\n[rules."中心-违规"]\nkind = "count"\ntitle = "进驻中心违规"\ndepartment = "行政服务中心"\n'
        'indicator = "作风建设/行政服务中心"\nper_item = "-0.5"\n')
    item = "作风建设/行政服务中心"
    facts = Facts(2013, scores=(score("司法局", item, "-2"), score("信访局", item, None, participates=False)),
                  adjustments=(adj("安监局", "中心-违规", count="3"),))
    scores = score_year(load_scheme(text, "dy-variant.toml"), facts)
    assert next(i for i in scores.unit("安监局").items if i.id == item).points == D("-1.5")
    assert next(i for i in scores.unit("信访局").items if i.id == item).points == D("-0.32")
    # one unit scored alone (a history's path) is the same score, averages and all, only unranked
    from projections.scoring import score_unit

    scheme = load_scheme(text, "dy-variant.toml")
    for unit in ("安监局", "信访局", "司法局"):
        alone, whole = score_unit(scheme, facts, unit).to_dict(), scores.unit(unit).to_dict()
        assert alone["rank"] is None and whole["rank"] is not None
        assert alone == {**whole, "rank": None, "explain": [line for line in whole["explain"]
                                                            if not line.startswith("rank ")]}


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

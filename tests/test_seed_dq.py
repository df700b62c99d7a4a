"""Seed audit DQ (seed 003, 2023年度实绩考核实施方案): hand-computed cases run through examples/dq-2023.toml.

Every expected value below is computed by hand from the seed's text and the file's placeholder weights and targets
(镇: 经济运行情况 40 = 税收收入 12 + 农民人均纯收入增长率 8 + 固定资产投资增长率 10 + 招商引资 10, the other 60 in points;
区直: 经济工作情况 40 = 招商引资 10 (target-scored) + 履行职能职责及创本行业一流 30, the other 60 in points).
"""
from __future__ import annotations

import pytest

from ledger.errors import Refused
from ledger.scheme import load_scheme
from projections.facts import Facts
from projections.scoring import score_year
from scoring_cases import EXAMPLES, D, adj, ev, score

TEXT = (EXAMPLES / "dq-2023.toml").read_text(encoding="utf-8")
TAX, FARM, INVEST, ATTRACT = ("经济运行情况/税收收入", "经济运行情况/农民人均纯收入增长率", "经济运行情况/固定资产投资增长率",
                              "经济运行情况/招商引资")
DEPT_ATTRACT, DUTY = "经济工作情况/招商引资", "经济工作情况/履行职能职责及创本行业一流"


@pytest.fixture(scope="module")
def dq():
    return load_scheme(TEXT, "dq-2023.toml")


def scores(scheme, unit, skip=(), **values):
    """A score for each of the unit's leaves: `values` (item → recorded value) where given, else the item's weight;
    target-scored items must be given; items in `skip` get no record."""
    out = []
    for item in scheme.group_of(unit).leaves_for(unit):
        if item.id in skip:
            continue
        if item.id in values:
            out.append(score(unit, item.id, values[item.id]))
        else:
            assert item.scoring == "points", f"give a figure for {item.id}"
            out.append(score(unit, item.id, str(item.weight)))
    return out


def town(scheme, unit, tax, farm, invest, attract, **others):
    return scores(scheme, unit, **{TAX: tax, FARM: farm, INVEST: invest, ATTRACT: attract}, **others)


def one(scheme, unit, facts_scores, evaluation=None, adjustments=()):
    evaluations = () if evaluation is None else (ev(unit, "干部群众评价", evaluation),)
    return score_year(scheme, Facts(2023, scores=tuple(facts_scores), evaluations=evaluations,
                                    adjustments=tuple(adjustments))).unit(unit)


def points(result):
    return {i.id: i.points for i in result.items}


def test_base_score_met_exactly_and_exceeded_earns_the_base_only(dq):
    # 各项经济指标达到考核指标要求的得基础分 (reached or exceeded: the base, never more).
    # 镇1: 税收收入 5200 ≥ 5000 → 12; 增长率 10 = 10 → 8 (met exactly); 固投 16.5 ≥ 15 → 10; 招商引资 20000 = 20000 → 10.
    # indicators = 40 + 60 = 100; total = 100 × 80% + 92 × 20% = 80 + 18.4 = 98.40
    result = one(dq, "镇1", town(dq, "镇1", "5200", "10", "16.5", "20000"), "92")
    got = points(result)
    assert (got[TAX], got[FARM], got[INVEST], got[ATTRACT]) == (12, 8, 10, 10)
    assert result.total == D("98.40") and result.missing == []


def test_shortfall_deducted_in_proportion(dq):
    # 差额部分按比例减分: points = base × figure / target.
    # 镇2: 12 × 2700/3000 = 10.80; 8 × 7.5/10 = 6.00; 10 × 12/15 = 8.00; 10 × 9000/12000 = 7.50 → 32.30
    # 新农村建设 4.5 of 5 → the other items 59.5; indicators = 91.80
    # total = 91.8 × 0.8 + 85 × 0.2 = 73.44 + 17 = 90.44
    result = one(dq, "镇2", town(dq, "镇2", "2700", "7.5", "12", "9000", **{"社会发展情况/新农村建设": "4.5"}), "85")
    got = points(result)
    assert (got[TAX], got[FARM], got[INVEST], got[ATTRACT]) == (D("10.80"), D("6.00"), D("8.00"), D("7.50"))
    assert result.total == D("90.44")


def test_negative_growth_rate_and_zero_figure_give_zero_not_negative(dq):
    # 按比例减分 stops at 0 (READING: never below 0): 8 × (−2)/10 = −1.6 → 0; 固投 10 × 0/15 = 0.
    # 镇3: 12 (4200 = target) + 0 + 0 + 10 (15000 = target) + 60 = 82; total = 82 × 0.8 + 80 × 0.2 = 65.6 + 16 = 81.60
    result = one(dq, "镇3", town(dq, "镇3", "4200", "-2", "0", "15000"), "80")
    got = points(result)
    assert got[FARM] == 0 and got[INVEST] == 0
    assert result.total == D("81.60")


def test_target_score_rounded_half_up_at_005(dq):
    # READING: a target score is kept at 2 places, half up. 镇2 税收收入 12 × 2876.25/3000 = 11.505 → 11.51
    # (banker's rounding would give 11.50). indicators = 11.51 + 8 + 10 + 10 + 60 = 99.51
    # total = 99.51 × 0.8 + 90 × 0.2 = 79.608 + 18 = 97.608 → 97.61
    result = one(dq, "镇2", town(dq, "镇2", "2876.25", "10", "15", "12000"), "90")
    assert points(result)[TAX] == D("11.51")
    assert result.total == D("97.61")


def test_target_score_below_half_rounds_down_and_above_rounds_up(dq):
    # 镇3 招商引资 10 × 11111/15000 = 7.40733… → 7.41; indicators = 12 + 8 + 10 + 7.41 + 60 = 97.41
    # total = 97.41 × 0.8 + 90 × 0.2 = 77.928 + 18 = 95.928 → 95.93
    result = one(dq, "镇3", town(dq, "镇3", "4200", "10", "15", "11111"), "90")
    assert points(result)[ATTRACT] == D("7.41")
    assert result.total == D("95.93")


def test_total_rounded_half_up_at_005(dq):
    # 保留两位小数, half up. 经济管理部门1: 履行职能职责 20 of 30, the rest full → 90; 干部群众评价 88.825 (a ballot mean)
    # total = 90 × 0.8 + 88.825 × 0.2 = 72 + 17.765 = 89.765 → 89.77 (banker's: 89.76)
    dq.check_evaluation("经济管理部门1", "干部群众评价", "", D("88.825"), None, None)  # accepted, 0…100
    result = one(dq, "经济管理部门1", scores(dq, "经济管理部门1", **{DEPT_ATTRACT: "3000", DUTY: "20"}), "88.825")
    assert result.exact_total == D("89.765")
    assert result.total == D("89.77") and result.published == "89.77"


def test_evaluation_off_its_100_scale_is_refused(dq):
    with pytest.raises(Refused):
        dq.check_evaluation("镇1", "干部群众评价", "", D("100.5"), None, None)


def test_bonus_and_penalty_count_inside_the_80_percent(dq):
    # 设立增项和减项指标考核内容,给予奖分和减分 (READING: part of 工作实绩目标, × 80%).
    # 党群部门1: 招商引资 10 × 240/300 = 8 → indicators 98; 增项 +3 (its maximum) + 1.5, 减项 −0.5 → adjustments +4
    # total = (98 + 4) × 0.8 + 90 × 0.2 = 81.6 + 18 = 99.60
    adjustments = [adj("党群部门1", "增项", points="3"), adj("党群部门1", "增项", points="1.5"),
                   adj("党群部门1", "减项", points="-0.5")]
    result = one(dq, "党群部门1", scores(dq, "党群部门1", **{DEPT_ATTRACT: "240"}), "90", adjustments)
    assert points(result)[DEPT_ATTRACT] == D("8.00")
    assert sum(e.counted for e in result.adjustments) == 4
    assert result.total == D("99.60")


def test_work_part_is_not_capped_at_100(dq):
    # READING: 百分制 is the items' scale; 奖分 come on top. 镇1 full marks (100) + 增项 3:
    # total = (100 + 3) × 0.8 + 100 × 0.2 = 82.4 + 20 = 102.40
    result = one(dq, "镇1", town(dq, "镇1", "5000", "10", "15", "20000"), "100", [adj("镇1", "增项", points="3")])
    assert result.total == D("102.40")


@pytest.mark.parametrize("rule, value, fits", [
    ("增项", "3", True), ("增项", "3.01", False), ("增项", "0.5", True), ("增项", "0.4", False),
    ("减项", "-3", True), ("减项", "-3.5", False), ("减项", "-0.5", True), ("减项", "-0.49", False),
    ("增项", "-1", False), ("减项", "1", False),
])
def test_bonus_and_penalty_ranges_reached_exactly_and_exceeded(dq, rule, value, fits):
    # READING: 增项 +0.5…+3, 减项 −3…−0.5 per adjustment; the bounds themselves are allowed, beyond them refused.
    if fits:
        assert dq.check_adjustment("镇1", rule, {"points": value}).id == rule
    else:
        with pytest.raises(Refused):
            dq.check_adjustment("镇1", rule, {"points": value})


def test_unit_with_no_score_on_an_item_gets_zero_and_is_listed(dq):
    # READING: no score at the year's end counts 0 (no redistribution in the seed). 经济管理部门1: 精神文明建设 (7) not
    # recorded → indicators 93; total = 93 × 0.8 + 80 × 0.2 = 74.4 + 16 = 90.40
    result = one(dq, "经济管理部门1", scores(dq, "经济管理部门1", skip=("社会发展情况/精神文明建设",),
                                         **{DEPT_ATTRACT: "3000"}), "80")
    assert result.total == D("90.40")
    assert result.missing == ["item 社会发展情况/精神文明建设"]


def test_unit_with_no_evaluation_gets_zero_for_the_20_percent(dq):
    # 经济管理部门2: 招商引资 10 × 1875/2500 = 7.50 → indicators 97.5; no 干部群众评价 → 0
    # total = 97.5 × 0.8 + 0 = 78.00
    result = one(dq, "经济管理部门2", scores(dq, "经济管理部门2", **{DEPT_ATTRACT: "1875"}))
    assert result.total == D("78.00")
    assert result.missing == ["component 干部群众评价"]


def test_equal_totals_share_a_rank(dq):
    # 社会管理服务部门1: 100 × 0.8 + 80 × 0.2 = 96.00
    # 社会管理服务部门2: 招商引资 10 × 450/600 = 7.5, 人才队伍建设 4.5 of 5 → 97; 97 × 0.8 + 92 × 0.2 = 77.6 + 18.4 = 96.00
    # equal totals: both rank 1 (the seed names no tie-breaker and no grades)
    facts = Facts(2023, scores=tuple(scores(dq, "社会管理服务部门1", **{DEPT_ATTRACT: "800"}) +
                                     scores(dq, "社会管理服务部门2", **{DEPT_ATTRACT: "450", "党的建设情况/人才队伍建设": "4.5"})),
                  evaluations=(ev("社会管理服务部门1", "干部群众评价", "80"), ev("社会管理服务部门2", "干部群众评价", "92")))
    ranked = [(u.unit, u.total, u.rank) for u in score_year(dq, facts).group("社会管理服务部门")]
    assert ranked == [("社会管理服务部门1", D("96.00"), 1), ("社会管理服务部门2", D("96.00"), 1)]


def test_ranks_are_per_group_with_a_gap_after_a_tie(dq):
    # 镇1: 100 → 80 + 90 × 0.2 = 98.00; 镇2: 100 → 80 + 90 × 0.2 = 98.00; 镇3: 税收 12 × 2100/4200 = 6 → 94;
    # 94 × 0.8 + 90 × 0.2 = 75.2 + 18 = 93.20 → ranks 1, 1, 3
    facts = Facts(2023, scores=tuple(town(dq, "镇1", "5000", "10", "15", "20000") +
                                     town(dq, "镇2", "3000", "10", "15", "12000") +
                                     town(dq, "镇3", "2100", "10", "15", "15000")),
                  evaluations=tuple(ev(u, "干部群众评价", "90") for u in ("镇1", "镇2", "镇3")))
    ranked = [(u.unit, u.total, u.rank) for u in score_year(dq, facts).group("镇")]
    assert ranked == [("镇1", D("98.00"), 1), ("镇2", D("98.00"), 1), ("镇3", D("93.20"), 3)]


def test_only_approved_adjustments_count(dq):
    # 区分管领导把关: an 增项 waiting for 分管领导 and a rejected 减项 add nothing; an approved 增项 +1 counts.
    # 镇1 full marks: (100 + 1) × 0.8 + 90 × 0.2 = 80.8 + 18 = 98.80
    adjustments = [adj("镇1", "增项", status="pending", points="2"), adj("镇1", "减项", status="rejected", points="-1"),
                   adj("镇1", "增项", points="1")]
    result = one(dq, "镇1", town(dq, "镇1", "5000", "10", "15", "20000"), "90", adjustments)
    assert result.total == D("98.80")
    reasons = sorted(n.reason for n in result.not_counted)
    assert reasons == ["not yet approved: waiting for 分管领导", "rejected"]


def test_latest_score_counts_after_the_review(dq):
    # 考核组…对出入较大的指标进行复核: the 考核组's later score replaces the department's. 党群部门2: 履行职能职责 30, then 25
    # → indicators 95 (招商引资 200 = target → 10); total = 95 × 0.8 + 95 × 0.2 = 76 + 19 = 95.00
    facts_scores = scores(dq, "党群部门2", **{DEPT_ATTRACT: "200"}) + [score("党群部门2", DUTY, "25")]
    result = one(dq, "党群部门2", facts_scores, "95")
    assert points(result)[DUTY] == 25
    assert result.total == D("95.00")


def test_late_bonus_is_carried_over_to_the_next_year(dq):
    # READING (the seed is silent): an 增项 of 2023 that took effect after 2023's close counts in 2024, by 2023's rule.
    # 2023: shown as carried over, nothing counted. 2024 (the same scheme for 2024): 镇1 full marks + 2 carried over:
    # (100 + 2) × 0.8 + 90 × 0.2 = 81.6 + 18 = 99.60
    in_2023 = one(dq, "镇1", (), None, [adj("镇1", "增项", status="carried over to 2024", points="2")])
    assert in_2023.adjustments == []
    assert in_2023.not_counted[0].reason.startswith("carried over to 2024")
    dq24 = load_scheme(TEXT.replace("year = 2023", "year = 2024", 1), "dq-2024.toml")
    facts = Facts(2024, scores=tuple(town(dq24, "镇1", "5000", "10", "15", "20000")),
                  evaluations=(ev("镇1", "干部群众评价", "90"),), adjustments=(adj("镇1", "增项", points="2", origin=2023),))
    result = score_year(dq24, facts, {2023: dq}).unit("镇1")
    assert result.total == D("99.60")
    assert [(e.counted, e.carried_from) for e in result.adjustments] == [(D("2"), 2023)]


def test_who_approves_and_who_closes(dq):
    # 区分管领导把关 (adjustments); 办公室拟出初步考核结果,经区分管领导审核后呈报区委审定 (the close).
    assert dq.rule("增项").approvers == ("分管领导",) and dq.rule("减项").approvers == ("分管领导",)
    assert dq.closing_roles == ("office", "分管领导", "区委")
    # 四种类型, 百分制, no grades in the seed's text
    assert [g.name for g in dq.groups] == ["镇", "区直党群部门", "社会管理服务部门", "经济管理部门"]
    assert all(g.grading is None for g in dq.groups)


PARTY = ["基层党组织建设和党员队伍建设", "人才队伍建设", "改善经济发展软环境", "党风廉政建设", "干部作风建设"]
CONTENTS = {
    # 1、镇领导班子考核内容: 经济运行情况 … 社会发展情况 … 党的建设情况 … 目标责任书执行情况 (the seed's 平安生产 and 方案生育
    # are the scan's 安全生产 and 计划生育, as in its 人口与方案生育)
    "镇": {"经济运行情况": ["税收收入", "农民人均纯收入增长率", "固定资产投资增长率", "招商引资"],
           "社会发展情况": ["新农村建设", "精神文明建设", "农村劳动力转移培训"], "党的建设情况": PARTY,
           "目标责任书执行情况": ["人口与计划生育", "社会治安综合治理", "信访稳定", "安全生产", "村镇建设管理", "环境保护",
                              "通村水泥路建设", "人均耕地面积变动率"]},
    # 2、区直单位领导班子考核内容: 经济工作情况。招商引资、本单位履行职能职责及创本行业一流状况 …
    "区直": {"经济工作情况": ["招商引资", "履行职能职责及创本行业一流"], "社会发展情况": ["新农村建设", "精神文明建设"],
             "党的建设情况": PARTY, "目标责任书执行情况": ["人口与计划生育", "社会治安综合治理", "信访稳定"]},
}


@pytest.mark.parametrize("group", ["镇", "区直党群部门", "社会管理服务部门", "经济管理部门"])
def test_each_groups_contents_as_the_seed_lists_them(dq, group):
    # 领导班子分镇、区直党群部门、社会管理服务部门、经济管理部门四种类型; the three 区直 types share the 区直 contents;
    # 对经济指标的考核实行基础分制: the economic figures (镇: the four 经济运行 items; 区直: 招商引资) are target-scored
    grp = dq.group(group)
    unit = grp.units[0]
    expected = CONTENTS["镇" if group == "镇" else "区直"]
    leaves = grp.leaves_for(unit)
    assert [i.id for i in leaves] == [f"{part}/{item}" for part, items in expected.items() for item in items]
    assert sum(i.weight for i in leaves) == 100  # 考核实行百分制
    economic = {TAX, FARM, INVEST, ATTRACT} if group == "镇" else {DEPT_ATTRACT}
    assert {i.id for i in leaves if i.scoring == "target"} == economic

"""Seed 000 (BP, 北票市2017年度乡镇区、市直部门领导班子和领导干部工作实绩考核实施方案) against examples/bp-2017.toml.

Each case quotes the seed's sentence it checks and works out the expected numbers by hand in its comment; the engine's
output is asserted against them. Pure functions only (no database). Rules already pinned elsewhere are not repeated:
the 乡镇 and 第四组 formulas and rounding (test_scoring.py), every 附件2 kind once, same matter, village ranks,
deadlines and carry-over (test_scoring_rules.py), the zones' bands and a direct 好 for them (test_grading.py).
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import Refused
from projections.consequences import consequences
from projections.facts import Facts
from projections.grading import GradeInput, grade_group
from projections.scoring import score_year
from tests.grading_cases import by_grade, d
from tests.scoring_cases import D, adj, ev, score

ACCIDENT = "发生重大安全生产责任事故"
FIVE_ONE = "在服务“五个一工程”建设中做出突出贡献"


def counted(scheme, unit: str, *adjustments) -> dict[str, Decimal]:
    """Rule id → the unit's counted points under it, for these adjustments alone."""
    out: dict[str, Decimal] = {}
    for entry in score_year(scheme, Facts(2017, adjustments=adjustments)).unit(unit).adjustments:
        out[entry.rule.id] = out.get(entry.rule.id, D(0)) + entry.counted
    return out


def weights(scheme, group: str, unit: str) -> dict[str, Decimal]:
    return {i.id: i.weight for i in scheme.group(group).tree_for(unit).values()}


def full_marks(scheme, unit: str, **lost) -> list:
    """A score for each of the unit's leaves: its weight, or the points given in `lost` (item → points)."""
    return [score(unit, leaf.id, lost.get(leaf.id, str(leaf.weight))) for leaf in scheme.group_of(unit).leaves_for(unit)]


def ranked(group, totals: list[str]) -> list[GradeInput]:
    """The group's units in order with these totals (as many units as totals)."""
    return [GradeInput(u, D(t)) for u, t in zip(group.units, totals)]


def places(result, group) -> dict[str, list[int]]:
    """Grade → the 1-based places (in the group's unit order) of the units holding it."""
    return {g: sorted(group.units.index(u) + 1 for u in units) for g, units in by_grade(result).items()}


# ---- 一、考核内容: the trees as printed --------------------------------------------------------------------------

PARTY = {"党的建设": 20, "党的建设/党建工作责任制": 6, "党的建设/党风廉洁建设责任制": 3, "党的建设/作风建设": 3,
         "党的建设/宣传工作和意识形态工作责任制": 3, "党的建设/“德耀北票”行动": 5}
TREES = {
    # (一)乡镇 1.经济发展(20分) 1)税收收入(12分) 2)民营经济发展(5分) 3)村集体经济收入(3分) … 9.党的建设(20分)
    "乡镇": {"经济发展": 20, "经济发展/税收收入": 12, "经济发展/民营经济发展": 5, "经济发展/村集体经济收入": 3,
             "生态环境和生态农业建设": 12, "农村环境卫生综合整治": 10, "脱贫攻坚": 12, "脱贫攻坚重点民生工作": 10,
             "农村土地“三权分置”改革工作": 6, "社会安全稳定": 10, "社会安全稳定/社会治安综合治理": 5,
             "社会安全稳定/信访工作": 5, "软环境建设": 5, **PARTY},
    # (二)管理区 1.社区建设和管理(25分) 2.民生工作(40分) 1)创业就业(15分) 2)环境和卫生管理(20分) 3)社区爱心家园建设(5分) …
    "管理区": {"社区建设和管理": 25, "民生工作": 40, "民生工作/创业就业": 15, "民生工作/环境和卫生管理": 20,
              "民生工作/社区爱心家园建设": 5, "社会安全稳定": 10, "社会安全稳定/社会治安综合治理": 5,
              "社会安全稳定/信访工作": 5, "软环境建设": 5, **PARTY},
    # (三)第一组至第三组 1.招商引资(20分) 2.向上争取资金(20分) 3.主要职能工作(20分) 4.扶贫(驻村帮扶)工作(10分)
    # 5.社会安全稳定(5分) 1)社会治安综合治理(3分) 2)信访工作(2分) 6.软环境建设(5分) 7.党的建设(20分)
    "市直部门第一组": {"招商引资": 20, "向上争取资金": 20, "主要职能工作": 20, "扶贫(驻村帮扶)工作": 10, "社会安全稳定": 5,
                   "社会安全稳定/社会治安综合治理": 3, "社会安全稳定/信访工作": 2, "软环境建设": 5, **PARTY},
    # 第四组(垂管部门) 1.扶贫(驻村帮扶)工作(10分) 2.软环境建设(5分 3.党的建设(20分
    "市直部门第四组": {"扶贫(驻村帮扶)工作": 10, "软环境建设": 5, **PARTY},
}


@pytest.mark.parametrize("group, unit", [("乡镇", "长皋乡"), ("管理区", "南山管理区"), ("市直部门第一组", "财政局"),
                                         ("市直部门第四组", "人行")])
def test_each_tree_has_the_seeds_items_and_points(bp, group, unit):
    # the top-level items add up to 乡镇 20+12+10+12+10+6+10+5+20 = 105 (READING: kept as printed), 管理区
    # 25+40+10+5+20 = 100, 市直 20+20+20+10+5+5+20 = 100, 第四组 10+5+20 = 35 (× 100/35 in its formula)
    assert weights(bp, group, unit) == {k: D(v) for k, v in TREES[group].items()}
    top = sum(w for k, w in TREES[group].items() if "/" not in k)
    assert top == {"乡镇": 105, "管理区": 100, "市直部门第一组": 100, "市直部门第四组": 35}[group]


def test_groups_two_and_three_have_group_ones_tree(bp):
    assert weights(bp, "市直部门第二组", "公安局") == weights(bp, "市直部门第三组", "宣传部") == \
        {k: D(v) for k, v in TREES["市直部门第一组"].items()}


def test_a_unit_without_either_task_scores_its_main_work_on_60(bp):
    # 没有招商引资任务的单位此权重加到主要职能工作中 (and likewise 向上争取资金): 统计局 has neither, so 主要职能工作
    # weighs 20 + 20 + 20 = 60 and its tree still adds up to 100. 统计局 scores 52 of 60, full marks elsewhere:
    # indicators 52 + 10 + 5 + 5 + 20 = 92; total 92 × 80% + 90 × 10% + 90 × 5% + 90 × 5% = 73.6 + 9 + 4.5 + 4.5 = 91.60
    assert weights(bp, "市直部门第一组", "统计局")["主要职能工作"] == 60
    assert sum(w for k, w in weights(bp, "市直部门第一组", "统计局").items() if "/" not in k) == 100
    facts = Facts(2017, scores=tuple(full_marks(bp, "统计局", 主要职能工作="52")),
                  evaluations=(ev("统计局", "领导评价", "90"), ev("统计局", "民主测评", "90"), ev("统计局", "社会评价", "90")))
    result = score_year(bp, facts).unit("统计局")
    assert result.terms["dept"] == 92 and result.total == D("91.60") and result.missing == []


def test_the_management_zone_formula_is_the_townships(bp):
    # 管理区 评议评价 同乡镇; 考核得分 = 部门考核得分(含加减分) × 80% + 领导评价 × 10% + 民主测评 × 5% + 社会评价 × 5%
    # (保留两位小数). 南山管理区: 社区建设和管理 22.5 of 25, the rest full → 97.5; 附2-11 新增限上服务业企业 −1.5 → 96.
    # 96 × 80% = 76.8; 88.35 × 10% = 8.835; 92 × 5% = 4.6; 86.2 × 5% = 4.31 → 94.545 → 94.55 (banker's: 94.54)
    unit = "南山管理区"
    facts = Facts(2017, scores=tuple(full_marks(bp, unit, 社区建设和管理="22.5")),
                  evaluations=(ev(unit, "领导评价", "88.35"), ev(unit, "民主测评", "92"), ev(unit, "社会评价", "86.2")),
                  adjustments=(adj(unit, "附2-11", area="新增限上服务业企业", points="-1.5"),))
    result = score_year(bp, facts).unit(unit)
    assert result.terms["dept"] == 96
    assert result.exact_total == D("94.545") and result.total == D("94.55")


# ---- 8.承担朝阳市考核任务指标 (市直第一组至第三组) ------------------------------------------------------------------

@pytest.mark.parametrize("rank, tied, points", [
    # 综合考评在朝阳取得第1名加5分,第2名加2分,第3名记0分,第4名减2分,第5名减3分
    ("1", "1", "5"), ("2", "1", "2"), ("3", "1", "0"), ("4", "1", "-2"), ("5", "1", "-3"),
    # 出现并列时,加分=按名次应加分数÷并列个数(保留两位小数): 5 ÷ 2 = 2.50; 2 ÷ 3 = 0.666… → 0.67; 0 ÷ 2 = 0;
    # READING: a deduction is split alike: −2 ÷ 3 = −0.666… → −0.67 (half up on the size); −3 ÷ 2 = −1.50
    ("1", "2", "2.50"), ("2", "3", "0.67"), ("3", "2", "0"), ("4", "3", "-0.67"), ("5", "2", "-1.50"),
])
def test_chaoyang_rank_points_and_ties(bp, rank, tied, points):
    assert counted(bp, "财政局", adj("财政局", "市直-8", rank=rank, tied=tied)) == {"市直-8": D(points)}


def test_chaoyang_rank_is_for_groups_one_to_three_only(bp):
    # item 8 is listed under 第一组至第三组; 第四组 (垂管部门) and the 乡镇 have no such item
    assert bp.check_adjustment("宣传部", "市直-8", {"rank": "1"}).kind == "rank"
    with pytest.raises(Refused, match="applies to 市直部门第一组"):
        bp.check_adjustment("人行", "市直-8", {"rank": "1"})


# ---- 附件2: the caps and clauses not pinned elsewhere --------------------------------------------------------------

def test_fund_and_financing_capped_at_10_in_whole_multiples(bp):
    # 5.争取专项建设基金每1000万元加1分,最高加10分: 12500万元 → 12 whole 1000万 → 12 → 10; 1999万元 → 1.
    # 6.完成融资每1亿元加2分,最高加10分: 60000万元 = 6亿 → 12 → 10; 19999万元 → 1 whole 亿 → 2
    assert counted(bp, "财政局", adj("财政局", "附2-5", amount="12500"), adj("财政局", "附2-6", amount="60000")) == \
        {"附2-5": 10, "附2-6": 10}
    assert counted(bp, "环保局", adj("环保局", "附2-5", amount="1999"), adj("环保局", "附2-6", amount="19999")) == \
        {"附2-5": 1, "附2-6": 2}


def test_continuing_projects_alone_reach_the_cap_of_5(bp):
    # 2.承担续建重点实施项目的,完成一个为责任单位加0.5分 … 加分之和不超过5分: 12 × 0.5 = 6 → 5
    assert counted(bp, "财政局", adj("财政局", "附2-2", option="续建", count="12")) == {"附2-2": 5}


def test_reserve_projects_met_exactly_and_none_done(bp):
    # 3.完成任务加2分 (4 of 4: 2 + 0 more); 未完成任务的,每少完成一个减1分 (0 of 2: −2);
    # 没有储备项目任务的单位完成1个加1分 (target 0, 1 done: +1)
    assert counted(bp, "财政局", adj("财政局", "附2-3", count="4", target="4")) == {"附2-3": 2}
    assert counted(bp, "环保局", adj("环保局", "附2-3", count="0", target="2")) == {"附2-3": -2}
    assert counted(bp, "交通局", adj("交通局", "附2-3", count="1", target="0")) == {"附2-3": 1}


def test_key_tasks_bonus_capped_at_5_deductions_not(bp):
    # 10.完成一项加0.5-1分,未完成减1分。完成房屋征收(拆迁)工作任务加1.5-3分,未完成减1分 … 加分之和不超过5分.
    # 财政局: 完成 1 + 0.5 + 1, 房屋征收 3 → 5.5, capped at 5; 未完成一项 −1 and 未完成房屋征收 −1 still count: 5 − 2 = 3
    moves = [adj("财政局", "附2-10", option="完成一项", points=p) for p in ("1", "0.5")]
    moves += [adj("财政局", "附2-10", option="完成房屋征收任务", points="3"), adj("财政局", "附2-10", option="完成一项", points="1"),
              adj("财政局", "附2-10", option="未完成一项", points="-1"),
              adj("财政局", "附2-10", option="未完成房屋征收任务", points="-1")]
    assert counted(bp, "财政局", *moves) == {"附2-10": 3}
    for option, points in (("完成一项", "1.2"), ("完成一项", "0.4"), ("完成房屋征收任务", "1.4"), ("未完成一项", "-0.5")):
        with pytest.raises(Refused, match="outside the rule's range"):
            bp.check_adjustment("财政局", "附2-10", {"option": option, "points": points})


def test_the_nineteen_deduction_areas(bp):
    # 11.重要信息报送、保密工作 … 护林防火等工作实行减分制 … 每项最高减2分: the 19 areas as listed
    assert bp.rule("附2-11").params["areas"] == (
        "重要信息报送", "保密工作", "统战工作", "群团工作", "征兵工作", "依法行政", "政务公开", "电子政务", "应急管理",
        "公共行政服务", "群众诉求办理", "安全生产", "新增限上服务业企业", "劳务经济", "社会抚养费征收和孕优", "畜牧防疫",
        "防汛", "封山禁牧", "护林防火")


def test_investment_threshold_each_project_and_its_bounds(bp):
    # 8.当年固定资产投资达到500万元加2分,再每增加100万元加0.1分,最高加5分 (units without a 招商引资 task: a 乡镇):
    # 500 exactly → 2; 499 → 0; 3500 → 2 + 30 × 0.1 = 5 (the cap reached exactly); 3550 → 30 whole steps → 5.
    # READING (combine = "each"): two projects of 800 and 600 → (2 + 0.3) + (2 + 0.1) = 4.4, not the sum 1400's 2.9
    for amount, points in (("500", "2"), ("499", "0"), ("3500", "5"), ("3550", "5")):
        assert counted(bp, "长皋乡", adj("长皋乡", "附2-8", amount=amount)) == {"附2-8": D(points)}, amount
    assert counted(bp, "长皋乡", adj("长皋乡", "附2-8", amount="800"), adj("长皋乡", "附2-8", amount="600")) == \
        {"附2-8": D("4.4")}


def test_funds_without_a_task_minimum_and_the_years_sum(bp):
    # 9.争取资金达到100万元的,按每100万元加1分的标准计算加分: 100 → 1.00; 99.99 → 0; 150 → 1.50 (proportional).
    # READING (combine = "sum"): the minimum is the year's total: 60 + 60 = 120 → 1.20, though each alone is below 100
    for amount, points in (("100", "1.00"), ("99.99", "0"), ("150", "1.50")):
        assert counted(bp, "长皋乡", adj("长皋乡", "附2-9", amount=amount)) == {"附2-9": D(points)}, amount
    assert counted(bp, "长皋乡", adj("长皋乡", "附2-9", amount="60"), adj("长皋乡", "附2-9", amount="60")) == \
        {"附2-9": D("1.20")}


def test_meetings_every_clause_and_no_cap(bp):
    # 13.选定为会议现场的加2分,会上介绍经验的加1分,选定为观摩现场的每处加0.5分。被选定为省“大禹杯”迎检现场的,每处加0.3分
    # (以会议通知等相关材料为准, 会后3日内报送): 2 + 1 + 3 × 0.5 + 2 × 0.3 = 5.1 (no cap in the item); without the
    # meeting notice nothing counts
    def meeting(option, count, document="朝办通〔2017〕5号"):
        return adj("龙潭镇", "附2-13", option=option, count=count, date="2017-06-01", document=document,
                   submitted="2017-06-03T09:00:00+08:00")
    got = counted(bp, "龙潭镇", meeting("会议现场", "1"), meeting("介绍经验", "1"), meeting("观摩现场", "3"),
                  meeting("大禹杯迎检现场", "2"))
    assert got == {"附2-13": D("5.1")}
    assert counted(bp, "龙潭镇", meeting("会议现场", "1", document="")) == {}


def test_commendations_each_count_at_their_level(bp):
    # 14.受到市委、市政府通报表扬的加1分;受到朝阳市委、市政府及以上通报表扬的加2分 (以文件为准; the rule that counts a
    # problem once is for criticism only): 市 + 市 + 朝阳 = 1 + 1 + 2 = 4
    moves = [adj("龙潭镇", "附2-14表扬", level=lvl, matter="秸秆禁烧", document=f"文{i}")
             for i, lvl in enumerate(("市", "市", "朝阳市及以上"))]
    assert counted(bp, "龙潭镇", *moves) == {"附2-14表扬": 4}


# ---- 三(二)等次评价: the example's grading tables -------------------------------------------------------------------

# 29 townships: 99, 98.5 … 95 (9 units reach 95), then 94.5, then 94, 93 … 76
TOWNS = [str(D(99) - D("0.5") * i) for i in range(10)] + [str(94 - i) for i in range(19)]


@pytest.mark.parametrize("group, units, seats", [
    # 好、较好、一般和较差等次数额比例分别按组内单位数的30%、50%、15%和5%确定. READING: seats = floor(units × share),
    # 一般 takes the rest: 29 → 8.7, 14.5, 1.45 → 8, 14, (6), 1; 管理区 7 → 2.1, 3.5, 0.35 → 2, 3, (2), 0;
    # 27 → 8, 13, (5), 1; 17 → 5.1, 8.5, 0.85 → 5, 8, (4), 0; 28 → 8, 14, (5), 1; 22 → 6.6, 11, 1.1 → 6, 11, (4), 1
    ("乡镇", 29, [8, 14, 1]), ("管理区", 7, [2, 3, 0]), ("市直部门第一组", 27, [8, 13, 1]),
    ("市直部门第二组", 17, [5, 8, 0]), ("市直部门第三组", 28, [8, 14, 1]), ("市直部门第四组", 22, [6, 11, 1]),
])
def test_quota_seats_of_every_group(bp, group, units, seats):
    rules = bp.group(group).grading
    assert len(bp.group(group).units) == units
    assert [rules.seats(g, units) for g in ("好", "较好", "较差")] == seats
    assert rules.rest == "一般" and rules.from_bottom == ("较差",)


def test_townships_graded_by_rank_with_the_95_threshold(bp):
    # 按考核得分排序 … 考核得分在95分以上的可评定为好等次: 9 reach 95 (READING: 95 itself counts), 8 seats → places 1–8 好,
    # the 95.00 of place 9 is 较好 with places 10–22 (14), 一般 23–28 (6), 较差 29 (the bottom 5%, filled from the bottom)
    group = bp.group("乡镇")
    result = grade_group(group.grading, ranked(group, TOWNS), [], {})
    assert places(result, group) == {"好": list(range(1, 9)), "较好": list(range(9, 23)), "一般": list(range(23, 29)),
                                     "较差": [29]}
    assert result.notes == []


def test_townships_seats_lapse_when_few_reach_95(bp):
    # only 98, 97, 96, 95.5, 95 reach 95: 5 好; READING (unused seats lapse): 较好 keeps its own 14 (places 6–19),
    # 一般 takes 20–28 (9), 较差 29
    group = bp.group("乡镇")
    totals = ["98", "97", "96", "95.5", "95", "94.99"] + [str(94 - i) for i in range(23)]
    result = grade_group(group.grading, ranked(group, totals), [], {})
    assert places(result, group) == {"好": list(range(1, 6)), "较好": list(range(6, 20)), "一般": list(range(20, 29)),
                                     "较差": [29]}
    assert result.notes == ["好: 3 of 8 seat(s) left unused: only 5 eligible unit(s) reach 95"]


def test_a_veto_caps_at_一般_and_the_next_moves_up(bp):
    # 年度内出现下列问题之一的,不能评为较好以上等次: 8.发生重大安全生产责任事故 at place 1 → 一般 (at most);
    # place 9 (95.00) moves up to 好 and place 23 to 较好; the bottom place is still 较差
    group = bp.group("乡镇")
    result = grade_group(group.grading, ranked(group, TOWNS), [d(group.units[0], "fault", ACCIDENT)], {})
    assert places(result, group) == {"一般": [1] + list(range(24, 29)), "好": list(range(2, 10)),
                                     "较好": list(range(10, 24)), "较差": [29]}


def test_each_groups_faults_are_the_seeds_nine(bp):
    # the nine 问题; item 7 reads "信访工作考核排名后3名的乡镇、后1管理区", so the 乡镇 and the 管理区 have it as a fault of
    # their own beside its collective-petition half; the 市直 groups have the nine
    nine = {"党建工作不达标", "党风廉洁建设和作风建设出现严重问题", "软环境建设出现问题被追责", "因工作出现重大失误造成严重后果产生恶劣影响",
            "脱贫攻坚(扶贫或驻村帮扶)工作年度不达标", "发生重大刑事案件、重大治安事件和重大伤亡事故",
            "发生集体访造成有影响事件或进京非正常上访造成极端事件", ACCIDENT, "发生食品安全、农产品安全责任事故"}
    extra = {"乡镇": {"信访工作考核排名后3名"}, "管理区": {"信访工作考核排名后1名"}}
    for group in bp.groups:
        faults = group.grading.faults
        assert set(faults) == nine | extra.get(group.name, set()), group.name
        assert set(faults.values()) == {"一般"}


def test_management_zones_have_no_较差_seat_and_their_petition_fault(bp):
    # 管理区 7 units: 2 好, 3 较好, the other 2 一般 (5% of 7 rounded down is 0: nobody is 较差 by quota). The fault
    # 信访工作考核排名后1名 on the best unit caps it at 一般, and the 3rd moves up
    group = bp.group("管理区")
    totals = ["97", "96", "95.5", "90", "85", "80", "60"]
    plain = grade_group(group.grading, ranked(group, totals), [], {})
    assert places(plain, group) == {"好": [1, 2], "较好": [3, 4, 5], "一般": [6, 7]}
    vetoed = grade_group(group.grading, ranked(group, totals), [d("南山管理区", "fault", "信访工作考核排名后1名")], {})
    assert places(vetoed, group) == {"一般": [1, 7], "好": [2, 3], "较好": [4, 5, 6]}


def test_a_direct_好_takes_one_of_the_seats(bp):
    # 下列情况之一的,可直接确定为好等次: 1.在服务“五个一工程”建设中做出突出贡献 for place 20 (total 85, below 95: the
    # achievement is the reason). READING: it holds one of the 8 好 seats, so place 8 moves down to 较好
    group = bp.group("乡镇")
    result = grade_group(group.grading, ranked(group, TOWNS), [d(group.units[19], "direct_grade", FIVE_ONE)], {})
    assert places(result, group) == {"好": list(range(1, 8)) + [20], "较好": list(range(8, 20)) + [21, 22],
                                     "一般": list(range(23, 29)), "较差": [29]}
    assert result.unit(group.units[19]).basis == "direct_grade"


def test_a_veto_stops_a_direct_好(bp):
    # 不能评为较好以上等次 is a prohibition (READING): place 20 with the achievement and a 重大安全生产责任事故 stays 一般
    group = bp.group("乡镇")
    decisions = [d(group.units[19], "direct_grade", FIVE_ONE), d(group.units[19], "fault", ACCIDENT)]
    result = grade_group(group.grading, ranked(group, TOWNS), decisions, {})
    assert result.unit(group.units[19]).grade == "一般"
    assert places(result, group)["好"] == list(range(1, 9))


def test_a_leading_group_ruling_is_final_and_takes_a_seat(bp):
    # 特殊情况由考评工作领导小组合议: the 组长 rules place 5 较差. READING: the ruling holds the group's one 较差 seat,
    # so place 29 is 一般; place 9 (95.00) takes the 好 seat place 5 leaves and place 23 the 较好 one
    group = bp.group("乡镇")
    assert group.grading.decision_roles["leading_group"] == ("组长",)
    result = grade_group(group.grading, ranked(group, TOWNS), [d(group.units[4], "leading_group", "较差")], {})
    assert places(result, group) == {"好": [1, 2, 3, 4, 6, 7, 8, 9], "较差": [5], "较好": list(range(10, 24)),
                                     "一般": list(range(24, 30))}


def test_a_tie_at_the_好_boundary_gives_both_the_better_grade(bp):
    # places 8 and 9 both at 95.5 (READING: every tied unit gets the better grade, the quota exceeded and said):
    # 9 好; 较好 keeps its 14 seats (places 10–23), 一般 24–28, 较差 29
    group = bp.group("乡镇")
    totals = list(TOWNS)
    totals[8] = totals[7]
    result = grade_group(group.grading, ranked(group, totals), [], {})
    assert places(result, group) == {"好": list(range(1, 10)), "较好": list(range(10, 24)), "一般": list(range(24, 29)),
                                     "较差": [29]}
    assert result.notes[-1] == "好: 9 units for 8 seat(s), quota exceeded: tie at the boundary (all tied units get " \
                               "the better grade)"


def test_a_group_from_scores_to_grades(bp):
    # 管理区, end to end: full marks but for the points below; 领导评价, 民主测评, 社会评价 all 90 (9 + 4.5 + 4.5 = 18):
    #   南山 100 → 80 + 18 = 98.00; 城关 社区建设和管理 24 → 99 × 0.8 = 79.2 + 18 = 97.20; 冠山 22 → 77.6 + 18 = 95.60;
    #   桥北 20 → 76 + 18 = 94.00; 台吉 15 → 72 + 18 = 90.00; 三宝 5 → 64 + 18 = 82.00; 双河 0 and 软环境建设 0 →
    #   70 × 0.8 = 56 + 18 = 74.00. Grades: 2 好 (98, 97.2), 3 较好 (95.6, 94, 90), 2 一般
    lower = {"城关管理区": {"社区建设和管理": "24"}, "冠山管理区": {"社区建设和管理": "22"},
             "桥北管理区": {"社区建设和管理": "20"}, "台吉管理区": {"社区建设和管理": "15"},
             "三宝管理区": {"社区建设和管理": "5"}, "双河管理区": {"社区建设和管理": "0", "软环境建设": "0"}}
    group = bp.group("管理区")
    scores = [s for unit in group.units for s in full_marks(bp, unit, **lower.get(unit, {}))]
    evals = [ev(unit, c, "90") for unit in group.units for c in ("领导评价", "民主测评", "社会评价")]
    result = score_year(bp, Facts(2017, scores=tuple(scores), evaluations=tuple(evals)))
    assert [result.unit(u).published for u in group.units] == ["98.00", "97.20", "95.60", "94.00", "90.00", "82.00",
                                                               "74.00"]
    entries = [GradeInput(u.unit, u.total, u.component_values) for u in result.units if u.group == "管理区"]
    assert by_grade(grade_group(group.grading, entries, [], {})) == {
        "好": ["南山管理区", "城关管理区"], "较好": ["冠山管理区", "桥北管理区", "台吉管理区"], "一般": ["三宝管理区", "双河管理区"]}


# ---- 四、考核结果运用 --------------------------------------------------------------------------------------------------

def test_较差_and_two_years_running(bp):
    # 评为较差等次的领导班子 … 由市领导与其主要负责人约谈 …; 连续两年被评为较差等次的,调整其主要负责人的工作岗位.
    # 2017: place 29 is last (较差). 2016 with places 28 and 29 swapped: place 28 was 较差, so place 29 has one year;
    # 2016 as 2017: place 29 has two years running
    group = bp.group("乡镇")
    last, before = group.units[28], group.units[27]
    swapped = TOWNS[:27] + [TOWNS[28], TOWNS[27]]
    years = {2016: grade_group(group.grading, ranked(group, swapped), [], {}).outcomes(),
             2017: grade_group(group.grading, ranked(group, TOWNS), [], {}).outcomes()}
    assert years[2016][before].grade == "较差" and years[2017][last].grade == "较差"
    assert [(c.unit, c.rule, c.years) for c in consequences(bp.consequences, years, 2017)] == [(last, "较差", (2017,))]
    years[2016] = years[2017]
    found = consequences(bp.consequences, years, 2017)
    assert [(c.unit, c.rule, c.years) for c in found] == [(last, "较差", (2017,)), (last, "连续两年较差", (2016, 2017))]
    assert found[1].consequence == "调整其主要负责人的工作岗位"


def test_a_tie_at_the_较差_boundary_gives_neither_较差(bp):
    # places 28 and 29 both at 77 (READING: the better grade for every tied unit): neither is 较差, the share is short
    group = bp.group("乡镇")
    totals = TOWNS[:28] + [TOWNS[27]]
    result = grade_group(group.grading, ranked(group, totals), [], {})
    assert places(result, group) == {"好": list(range(1, 9)), "较好": list(range(9, 23)), "一般": list(range(23, 30))}
    assert result.notes[-1].endswith("none takes 较差; the 较差 share is short by 1 (tie policy better)")

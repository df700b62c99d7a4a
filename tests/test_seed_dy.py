"""Seed 004 (DY, 东阳市2013年度市级机关部门工作目标责任制考核细则) against examples/dy-2013.toml: cases computed by hand
from the seed's own clauses. Each test quotes the clause it checks and writes out the arithmetic; the expected values
are the hand results. Pure functions only (no database)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import Refused
from ledger.scheme import load_scheme
from projections.facts import Facts
from projections.scoring import score_year
from tests.scoring_cases import EXAMPLES, adj, ev, score

D = Decimal
GROUP = "市级机关部门"
COMPONENTS = ("市级领导评议", "镇乡街道评议", "群众评机关")

CENTRE = "作风建设/行政服务中心"
STYLE = "作风建设/机关作风建设"
INDUSTRY = "中心工作/服务经济发展/工业竞赛"
GUIDES = "中心工作/联系帮扶镇乡街道、村工作/农村“两富”局级指导员工作"
CADRES = "作风建设/领导班子和干部队伍建设/干部管理"
SECRETS = "作风建设/自身建设/保密工作"
FOOD = "作风建设/自身建设/食品药品安全"
HEALTH = "作风建设/自身建设/“卫生强市”创建"


def item(scores, unit, item_id):
    return next(i for i in scores.unit(unit).items if i.id == item_id)


def recorded_items(dy, unit, lost=None):
    """A score for each of the unit's recorded items: its full weight, or the points in `lost`; deduction-scored items
    (starts_full, or weight 0) get a score only when `lost` names them."""
    lost = lost or {}
    out = []
    for leaf in dy.group_of(unit).leaves_for(unit):
        if leaf.starts_full or leaf.weight == 0:
            if leaf.id in lost:
                out.append(score(unit, leaf.id, lost[leaf.id]))
        else:
            out.append(score(unit, leaf.id, lost.get(leaf.id, str(leaf.weight))))
    return out


def both_rounds(unit, pairs):
    """The half-year and year-end rounds of the three 综合评议 components: pairs = ((半年, 年终), …) in order."""
    out = []
    for name, (half, year_end) in zip(COMPONENTS, pairs):
        out += [ev(unit, name, half, round="半年"), ev(unit, name, year_end, round="年终")]
    return out


# ---- weights -------------------------------------------------------------------------------------------------------

def test_weights_add_up_to_100_and_full_marks_give_100(dy):
    # 一 25 (the missing (一)(二) 15 + 服务经济发展 5 + 联系帮扶 5; 五城同创, 人才工作 倒扣分 only) + 二 职能工作 35
    # + 三 作风建设 40 (机关作风建设 10 + 领导班子 8 + 宣传和机关党建 7 + 综合评议 15 = 市级领导 5 + 镇乡街道 5 + 群众 5;
    # 党风廉政, 行政服务中心, 自身建设 倒扣分 only) = 100
    tree = dy.group(GROUP).tree_for("司法局")
    assert tree["中心工作"].weight == 25 and tree["职能工作"].weight == 35 and tree["作风建设"].weight == 25
    assert tree["中心工作/服务经济发展"].weight == 5 and tree["中心工作/联系帮扶镇乡街道、村工作"].weight == 5
    assert tree["作风建设/机关作风建设"].weight == 10 and tree["作风建设/领导班子和干部队伍建设"].weight == 8
    assert tree["作风建设/宣传和机关党建工作"].weight == 7
    assert [dy.components[c].scale for c in COMPONENTS] == [5, 5, 5]
    # every item at its weight, no deduction, every round 5: 85 + 5 × 1/4 + 5 × 3/4 (× 3 components) = 85 + 15 = 100
    unit = "司法局"
    facts = Facts(2013, scores=tuple(recorded_items(dy, unit)),
                  evaluations=tuple(both_rounds(unit, [("5", "5")] * 3)))
    result = score_year(dy, facts).unit(unit)
    assert result.total == D("100.00") and result.published == "100.00" and result.missing == []


def test_deduction_only_floors_of_the_seed(dy):
    # 五城同创(倒扣分5分), 人才工作(倒扣分3分), 党风廉政建设(倒扣分8分), 行政服务中心(倒扣分8分), 两富指导员(倒扣分1分),
    # 自身建设(每小项倒扣分2分): weight 0, floor −N
    tree = dy.group(GROUP).tree_for("司法局")
    floors = {"中心工作/五城同创": -5, "中心工作/人才工作": -3, "作风建设/党风廉政建设": -8, CENTRE: -8, GUIDES: -1}
    for item_id, floor in floors.items():
        assert (tree[item_id].weight, tree[item_id].floor) == (0, floor), item_id
    rows = [i for i in tree.values() if i.id.startswith("作风建设/自身建设/")]
    assert len(rows) == 20 and all((r.weight, r.floor) == (0, -2) for r in rows)
    # 五城同创: −5 is the floor, −5.5 is past it, +0.5 above a deduction-only item
    assert dy.check_score("司法局", "中心工作/五城同创", D("-5")).floor == -5
    for beyond in ("-5.5", "0.5"):
        with pytest.raises(Refused):
            dy.check_score("司法局", "中心工作/五城同创", D(beyond))
    # a recorded −3.2 counts −3.2; a unit with nothing recorded on a 倒扣分 item has 0 there and is not missing
    scores = score_year(dy, Facts(2013, scores=(score("司法局", "中心工作/五城同创", "-3.2"),)))
    assert item(scores, "司法局", "中心工作/五城同创").points == D("-3.2")
    untouched = item(scores, "安监局", "中心工作/五城同创")
    assert untouched.points == 0 and not untouched.missing


# ---- averages for units that do not take part -----------------------------------------------------------------------

def test_competition_average_for_a_non_participant_rounds_half_up_at_005(dy):
    # 三(服务经济发展): 不参加的部门单位得参加部门单位考核得分的平均分. 工业竞赛 (2分): 司法局 1.84 and 信访局 1.85 take
    # part, the other ten do not: (1.84 + 1.85) ÷ 2 = 3.69 ÷ 2 = 1.845 → 1.85 (half up; banker's or a binary float
    # would give 1.84)
    units = list(dy.group(GROUP).units)
    facts = Facts(2013, scores=(score("司法局", INDUSTRY, "1.84"), score("信访局", INDUSTRY, "1.85"),
                                *(score(u, INDUSTRY, None, participates=False) for u in units[2:])))
    scores = score_year(dy, facts)
    assert item(scores, "公安局", INDUSTRY).points == D("1.85")
    assert item(scores, "法制办", INDUSTRY).points == D("1.85")
    assert item(scores, "司法局", INDUSTRY).points == D("1.84")


def test_centre_average_counts_units_with_no_deduction_and_rounds_a_negative_half_away_from_zero(dy):
    # 行政服务中心(倒扣分8分): 不进驻中心的部门单位得进驻部门单位考核的平均分. 信访局 and 公安局 are not in the centre; of
    # the 10 that are, 司法局 lost 1.5, 安监局 0.75, eight nothing: (−1.5 − 0.75 + 0 × 8) ÷ 10 = −2.25 ÷ 10 = −0.225
    # → −0.23 (四舍五入 on the magnitude)
    facts = Facts(2013, scores=(score("司法局", CENTRE, "-1.5"), score("安监局", CENTRE, "-0.75"),
                                score("信访局", CENTRE, None, participates=False),
                                score("公安局", CENTRE, None, participates=False)))
    scores = score_year(dy, facts)
    assert item(scores, "信访局", CENTRE).points == D("-0.23")
    assert item(scores, "公安局", CENTRE).points == D("-0.23")
    assert item(scores, "环保局", CENTRE).points == 0


# ---- weight redistribution ---------------------------------------------------------------------------------------

def test_a_unit_without_a_jinhua_task_has_35_for_its_work_plan(dy):
    # 二: 没有金华市考核任务的部门单位,年度工作要点权重35分. 档案局 (listed without one) records 33.5 of 35 and may record
    # 35; a 金华市 score for it is refused. 司法局 keeps 5 + 30: 4.5 + 28 = 32.5
    assert dy.check_score("档案局", "职能工作/完成年度工作要点", D("35")).weight == 35
    with pytest.raises(Refused):
        dy.check_score("档案局", "职能工作/完成金华市下达目标责任制考核任务", D("5"))
    with pytest.raises(Refused):
        dy.check_score("司法局", "职能工作/完成年度工作要点", D("35"))
    facts = Facts(2013, scores=(score("档案局", "职能工作/完成年度工作要点", "33.5"),
                                score("司法局", "职能工作/完成金华市下达目标责任制考核任务", "4.5"),
                                score("司法局", "职能工作/完成年度工作要点", "28")))
    scores = score_year(dy, facts)
    archive = {i.id: i.points for i in scores.unit("档案局").items if i.id.startswith("职能工作/")}
    justice = {i.id: i.points for i in scores.unit("司法局").items if i.id.startswith("职能工作/")}
    assert archive == {"职能工作/完成年度工作要点": D("33.5")}
    assert sum(justice.values()) == D("32.5")


# ---- 扣分 clauses, 扣完为止 ----------------------------------------------------------------------------------------

def test_style_deductions_and_the_item_stopping_at_zero(dy):
    # 三(一) 机关作风建设 (10分): 投诉问题经查实的每起扣0.2分; 违反作风与效能建设规定被查实的每起扣1分; 违反《实施意见》
    # 规定的每起扣0.2分. 司法局: 3 complaints, 2 violations, 1 breach: 10 − 0.6 − 2 − 0.2 = 7.2.
    # 信访局: 10 violations: 10 − 10 = 0 (reached exactly). 安监局: 12: 10 − 12 = −2 → 0 (扣完为止)
    facts = Facts(2013, adjustments=(adj("司法局", "作风-投诉查实", count="3"), adj("司法局", "作风-违反作风规定", count="2"),
                                     adj("司法局", "作风-违反实施意见", count="1"),
                                     adj("信访局", "作风-违反作风规定", count="10"),
                                     adj("安监局", "作风-违反作风规定", count="12")))
    scores = score_year(dy, facts)
    assert item(scores, "司法局", STYLE).points == D("7.2")
    assert item(scores, "信访局", STYLE).points == 0
    assert item(scores, "安监局", STYLE).points == 0


def test_more_style_rows(dy):
    # 三(一) 机关作风建设: 行政审批电子监察系统应用管理考核不合格的扣2分; 部门领导未按规定上线的每人次扣1分 (2 人次);
    # 不及时反馈办理结果的每次扣0.6分 (1); 工作制度每少一项扣0.1分 (3); 组织领导 班子专题研究少一次扣0.1分 (1);
    # 检查教育 教育活动少一次扣0.1分 (1): 10 − 2 − 2 − 0.6 − 0.3 − 0.1 − 0.1 = 4.9
    facts = Facts(2013, adjustments=(
        adj("司法局", "作风-服务中心窗口", option="行政审批电子监察系统应用管理考核不合格", count="1"),
        adj("司法局", "作风-行风热线", option="部门领导未按规定上线(每人次)", count="2"),
        adj("司法局", "作风-行风热线", option="交办工作和群众投诉问题不及时反馈办理结果(每次)", count="1"),
        adj("司法局", "作风-工作制度", count="3"),
        adj("司法局", "作风-组织领导", option="班子专题研究服务效能和作风建设少一次", count="1"),
        adj("司法局", "作风-检查教育", option="效能与作风建设教育活动少一次(不少于两次)", count="1")))
    scores = score_year(dy, facts)
    assert item(scores, "司法局", STYLE).points == D("4.9")
    assert scores.unit("司法局").not_counted == []


def test_cadre_management_deductions_stop_at_its_own_zero(dy):
    # 三(二)5 干部管理 (2分): 干部管理制度不健全的扣0.5分; 集中学习每少一次扣0.2分 (3 次); 干部违反规定去企业兼职的
    # 每人次扣1分 (1): 2 − 0.5 − 0.6 − 1 = −0.1 → 0 (the sub-item's own points; it does not reach the other sub-items).
    # A recorded 1.4 counts 1.4; nothing recorded: full 2 (scored by deduction)
    facts = Facts(2013, scores=(score("信访局", CADRES, "1.4"),), adjustments=(
        adj("司法局", "班子-干部管理", option="干部管理制度不健全", count="1"),
        adj("司法局", "班子-干部管理", option="干部集中学习每少一次", count="3"),
        adj("司法局", "班子-干部管理", option="干部违反规定去企业兼职(每人次)", count="1")))
    scores = score_year(dy, facts)
    assert item(scores, "司法局", CADRES).points == 0
    assert item(scores, "司法局", "作风建设/领导班子和干部队伍建设/干部选拔任用").points == 2
    assert item(scores, "信访局", CADRES).points == D("1.4")
    assert item(scores, "安监局", CADRES).points == 2


def test_guides_item_floor_minus_one(dy):
    # 一(四)4 两富指导员 (倒扣分1分): 未按要求做好指导员选派工作的扣0.5分; 每月到村未落实的每人次扣0.1分; 党课未落实的
    # 每人次扣0.1分. 司法局: 0.5 + 4 × 0.1 + 2 × 0.1 = 1.1 → −1 (floor). 信访局: 3 人次 → −0.3
    facts = Facts(2013, adjustments=(
        adj("司法局", "两富-指导员", option="未按要求做好指导员选派工作", count="1"),
        adj("司法局", "两富-指导员", option="指导员未按要求到村开展工作(人次)", count="4"),
        adj("司法局", "两富-指导员", option="指导员未给全体党员上党课(人次)", count="2"),
        adj("信访局", "两富-指导员", option="指导员未按要求到村开展工作(人次)", count="3")))
    scores = score_year(dy, facts)
    assert item(scores, "司法局", GUIDES).points == -1
    assert item(scores, "信访局", GUIDES).points == D("-0.3")


def test_secrecy_row_reaches_its_cap_exactly_and_past_it(dy):
    # 三(六) 保密工作 (每小项倒扣分2分): 失泄绝密、机密、秘密文件的各扣2分、1分、0.5分; 未做好保密教育、检查的每次扣0.5分.
    # 司法局: 机密 1 + 秘密 2 = 1 + 1 = −2 (exactly the cap). 信访局: the same and one 教育检查: −2.5 → −2
    facts = Facts(2013, adjustments=(
        adj("司法局", "保密-失泄密", option="机密", count="1"), adj("司法局", "保密-失泄密", option="秘密", count="2"),
        adj("信访局", "保密-失泄密", option="机密", count="1"), adj("信访局", "保密-失泄密", option="秘密", count="2"),
        adj("信访局", "保密-教育检查", option="未做好保密教育、检查(每次)", count="1")))
    scores = score_year(dy, facts)
    assert item(scores, "司法局", SECRETS).points == -2
    assert item(scores, "信访局", SECRETS).points == -2
    assert "扣完为止" in item(scores, "信访局", SECRETS).how


def test_health_city_both_clauses_exceed_the_row_cap(dy):
    # 三(六) “卫生强市”创建: 未建立创强工作领导小组…的倒扣1分; 不能通过暗访考核验收的倒扣2分: −1 − 2 = −3 → −2 (每小项
    # 倒扣分2分). 安监局: only the first: −1
    facts = Facts(2013, adjustments=(
        adj("卫生局", "卫生-卫生强市", option="未建立创强工作领导小组等", count="1"),
        adj("卫生局", "卫生-卫生强市", option="不能通过创建卫生强市暗访考核验收", count="1"),
        adj("安监局", "卫生-卫生强市", option="未建立创强工作领导小组等", count="1")))
    scores = score_year(dy, facts)
    assert item(scores, "卫生局", HEALTH).points == -2
    assert item(scores, "安监局", HEALTH).points == -1


def test_food_and_drug_parts_capped_at_their_points_and_the_row_at_two(dy):
    # 三(六) 食品药品安全: 3.食品安全信息报送(0.5分) 每少1条扣0.05分: 12 条 → 0.6 → capped at 0.5;
    # 4.事件防控(2分) 食品药品安全事件每起扣0.5分: 1 起 → 0.5; 1.示范创建(1分) 每扣2分相应扣0.1分: 验收扣5分 → 2 whole
    # steps → 0.2 (READING: whole steps). Row: −0.5 − 0.5 − 0.2 = −1.2.
    # Add 重大食品药品安全事故 扣2分: 事件防控 0.5 + 2 = 2.5 → its 2; −0.5 − 2 − 0.2 = −2.7 → −2 (每小项倒扣分2分)
    first = (adj("司法局", "食品药品-信息报送", count="12"),
             adj("司法局", "食品药品-事件", option="食品药品安全事件", count="1"),
             adj("司法局", "食品药品-示范创建", amount="5"))
    scores = score_year(dy, Facts(2013, adjustments=first))
    assert item(scores, "司法局", FOOD).points == D("-1.2")
    worse = first + (adj("司法局", "食品药品-事件", option="重大食品药品安全事故", count="1"),)
    assert item(score_year(dy, Facts(2013, adjustments=worse)), "司法局", FOOD).points == -2
    # 10 条 missing is exactly the part's 0.5; 2.综合评价(0.5分) 按比例折算: the assessor's −0.35 counts, −0.6 is refused
    exact = (adj("安监局", "食品药品-信息报送", count="10"), adj("安监局", "食品药品-综合评价", points="-0.35"))
    assert item(score_year(dy, Facts(2013, adjustments=exact)), "安监局", FOOD).points == D("-0.85")
    with pytest.raises(Refused):
        dy.check_adjustment("安监局", "食品药品-综合评价", {"points": "-0.6"})


def test_range_clause_per_reply_and_its_bounds(dy):
    # 三(六) 人大议案政协提案: 办理答复件不认真、格式和程序不规范,每件扣0.1分—0.5分 (one adjustment a reply: 0.3 and
    # 0.5); 未在规定时间完成书面答复的每件扣0.5分 (2 件); 会办材料不及时扣0.2分: −0.3 − 0.5 − 1 − 0.2 = −2.0 → −2 exactly
    row = "作风建设/自身建设/人大议案政协提案"
    facts = Facts(2013, adjustments=(
        adj("司法局", "人大政协-答复不规范", points="-0.3"), adj("司法局", "人大政协-答复不规范", points="-0.5"),
        adj("司法局", "人大政协-议案提案", option="未在规定时间完成书面答复并寄送反馈,或代表委员不满意不重新办理(每件)",
            count="2"),
        adj("司法局", "人大政协-议案提案", option="会办材料不及时、不认真和承诺未及时落实", count="1")))
    assert item(score_year(dy, facts), "司法局", row).points == -2
    for outside in ("-0.05", "-0.6", "0"):
        with pytest.raises(Refused):
            dy.check_adjustment("司法局", "人大政协-答复不规范", {"points": outside})


# ---- 综合评议 rounds, rounding of the total, missing data, ranks -----------------------------------------------

def test_half_year_and_year_end_rounds_and_the_total_rounded_at_005(dy):
    # 综合评议: 半年初评分值占年度的1/4, 年终3/4. 市级领导 4.41 / 4.43: 1.1025 + 3.3225 = 4.425; 镇乡街道 4.6 / 4.6: 4.6;
    # 群众 4.2 / 4.2: 4.2. Items full except 年度工作要点 25 of 30: 85 − 5 = 80. 80 + 4.425 + 4.6 + 4.2 = 93.225 → 93.23
    unit = "信访局"
    facts = Facts(2013, scores=tuple(recorded_items(dy, unit, {"职能工作/完成年度工作要点": "25"})),
                  evaluations=tuple(both_rounds(unit, [("4.41", "4.43"), ("4.6", "4.6"), ("4.2", "4.2")])))
    result = score_year(dy, facts).unit(unit)
    assert result.component_values["市级领导评议"] == D("4.425")
    assert result.exact_total == D("93.225") and result.total == D("93.23") and result.published == "93.23"


def test_a_missing_round_and_a_missing_item_count_zero_and_are_listed(dy):
    # 群众评机关 with only the year-end round 4.8: 4.8 × 3/4 = 3.6 (the half-year round counts 0 until recorded).
    # 宣传工作 (4分, scored by 得分 lines) not recorded: 0, listed; all else full: 100 − 4 = 96.00
    unit = "公安局"
    scores = score_year(dy, Facts(2013, evaluations=(ev(unit, "群众评机关", "4.8", round="年终"),)))
    assert scores.unit(unit).component_values["群众评机关"] == D("3.6")
    assert "component 群众评机关 (a round)" in scores.unit(unit).missing
    unit = "司法局"
    recorded = [s for s in recorded_items(dy, unit) if s.indicator != "作风建设/宣传和机关党建工作/宣传工作"]
    facts = Facts(2013, scores=tuple(recorded), evaluations=tuple(both_rounds(unit, [("5", "5")] * 3)))
    result = score_year(dy, facts).unit(unit)
    assert result.total == D("96.00") and result.missing == ["item 作风建设/宣传和机关党建工作/宣传工作"]


def test_equal_rounded_totals_share_a_rank(dy):
    # the seed states no grades or quotas; ranks are by the rounded total. 司法局: 要点 30 + 机关作风 10 + 领导班子 8 = 48;
    # 信访局: 29.995 + 18 = 47.995 → 48.00; 安监局: 29 + 18 = 47; 公安局: 18 → ranks 1, 1, 3, 4
    facts = Facts(2013, scores=(score("司法局", "职能工作/完成年度工作要点", "30"),
                                score("信访局", "职能工作/完成年度工作要点", "29.995"),
                                score("安监局", "职能工作/完成年度工作要点", "29")))
    scores = score_year(dy, facts)
    got = {u: (scores.unit(u).published, scores.unit(u).rank) for u in ("司法局", "信访局", "安监局", "公安局")}
    assert got == {"司法局": ("48.00", 1), "信访局": ("48.00", 1), "安监局": ("47.00", 3), "公安局": ("18.00", 4)}
    assert dy.group(GROUP).grading is None


def test_a_whole_unit_by_hand(dy):
    # 司法局, every part of the seed at once:
    #   一: (一)(二) 13.5; 服务经济发展 1.8 + 0.9 + 0.85 + 1 = 4.55; 联系帮扶 2 + 1.5 + 0.7 + 两富 (3 人次 × −0.1 = −0.3)
    #       = 3.9; 五城同创 −0.8; 人才工作 −0.5                                   → 13.5 + 4.55 + 3.9 − 1.3 = 20.65
    #   二: 金华市 4.6 + 要点 28.5                                                → 33.1
    #   三: 机关作风 10 − 2 × 0.2 (投诉) − 0.2 (信息少一篇) = 9.4; 领导班子 8 − 0.2 (学习少一次) = 7.8; 宣传 3.5 +
    #       党建 2.75 = 6.25; 党风廉政 −1.2; 行政服务中心 −0.3; 自身建设: 保密 秘密 1 件 −0.5, 档案 2 项 × −0.5 = −1
    #                                                                            → 9.4 + 7.8 + 6.25 − 1.5 − 1.5 = 20.45
    #   indicators 20.65 + 33.1 + 20.45 = 74.2
    #   综合评议: 4.5 × 1/4 + 4.6 × 3/4 = 1.125 + 3.45 = 4.575; 4.4 / 4.5: 1.1 + 3.375 = 4.475;
    #             4.3 / 4.35: 1.075 + 3.2625 = 4.3375                                 → 13.3875
    #   total 74.2 + 13.3875 = 87.5875 → 87.59
    unit = "司法局"
    lost = {"中心工作/第(一)(二)项": "13.5", "中心工作/服务经济发展/工业竞赛": "1.8",
            "中心工作/服务经济发展/浙商回归": "0.9", "中心工作/服务经济发展/农业竞赛": "0.85",
            "中心工作/联系帮扶镇乡街道、村工作/共建新农村": "1.5", "中心工作/联系帮扶镇乡街道、村工作/帮扶工作": "0.7",
            "中心工作/五城同创": "-0.8", "中心工作/人才工作": "-0.5",
            "职能工作/完成金华市下达目标责任制考核任务": "4.6", "职能工作/完成年度工作要点": "28.5",
            "作风建设/宣传和机关党建工作/宣传工作": "3.5", "作风建设/宣传和机关党建工作/机关党建": "2.75",
            "作风建设/党风廉政建设": "-1.2", CENTRE: "-0.3"}
    moves = (adj(unit, "两富-指导员", option="指导员未按要求到村开展工作(人次)", count="3"),
             adj(unit, "作风-投诉查实", count="2"),
             adj(unit, "作风-督办信息", option="每月报送信息少一篇(每月至少两篇)", count="1"),
             adj(unit, "班子-干部管理", option="干部集中学习每少一次", count="1"),
             adj(unit, "保密-失泄密", option="秘密", count="1"), adj(unit, "档案-档案工作", count="2"))
    facts = Facts(2013, scores=tuple(recorded_items(dy, unit, lost)), adjustments=moves,
                  evaluations=tuple(both_rounds(unit, [("4.5", "4.6"), ("4.4", "4.5"), ("4.3", "4.35")])))
    result = score_year(dy, facts).unit(unit)
    assert sum(i.points for i in result.items) == D("74.2")
    assert sum(result.component_values.values()) == D("13.3875")
    assert result.exact_total == D("87.5875") and result.published == "87.59"
    assert result.not_counted == [] and result.missing == []


def test_a_deduction_confirmed_after_the_close_counts_once_in_the_next_year(dy):
    # The seed states no carry-over; the ledger's rule for every scheme holds: a 2013 deduction that takes effect after
    # 2013 was closed counts in 2014 (by 2013's rule) and not in 2013. 2 complaints: 2014's 机关作风 10 − 0.4 = 9.6;
    # 2013's stays 10
    text = (EXAMPLES / "dy-2013.toml").read_text(encoding="utf-8").replace("year = 2013", "year = 2014", 1)
    dy2014 = load_scheme(text, "dy-2014.toml")
    late = adj("司法局", "作风-投诉查实", status="carried over to 2014", count="2")
    closed = score_year(dy, Facts(2013, adjustments=(late,)))
    assert item(closed, "司法局", STYLE).points == 10
    assert "carried over to 2014" in closed.unit("司法局").not_counted[0].reason
    carried = adj("司法局", "作风-投诉查实", origin=2013, count="2")
    scores = score_year(dy2014, Facts(2014, adjustments=(carried,)), origin_schemes={2013: dy})
    assert item(scores, "司法局", STYLE).points == D("9.6")
    assert scores.unit("司法局").adjustments[0].carried_from == 2013


def test_every_rule_scores_into_a_leaf_its_department_may_assess(dy):
    # the seed states 扣分 only (no 加分 item in the visible text): every rule deducts, into an item of the tree
    tree = dy.group(GROUP).tree_for("司法局")
    for rule in dy.rules.values():
        assert rule.indicator in tree and tree[rule.indicator].leaf, rule.id
    assert dy.rule("保密-失泄密").assessed_by("保密办") and not dy.rule("保密-失泄密").assessed_by("市纪委")
    assert dy.rule("作风-投诉查实").assessed_by("市纪委")
    assert dy.rule("两富-指导员").assessed_by("农办") and dy.rule("两富-指导员").assessed_by("组织部")

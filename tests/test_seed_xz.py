"""Seed 002 (新庄镇2017年度党务政务工作目标管理综合考核实施方案) against examples/xz-2017.toml, case by case.

Every expected value is computed by hand from the seed's text (the arithmetic is in the comments). The seed's own
rules: 8 行政村; 考核组现场考核 15 items of 100 each (党建综合目标类 5, 政府工作目标类 10); 党政班子成员考核 100
(15 lines, 50 + 50); "考核组现场考核的15项总得分折合成千分制*90%+党政班子成员打分*10%为最终得分"; 民主测评 in four
levels; 评分表 signed by the 考核组长 and sealed. It has no grades, quotas, vetoes, bonus or deduction items, caps
beyond the items' own 100, carry-over, redistribution or averages. Readings (the file's READING comments): the members'
part is also on 1000 (× 10); it is their average out of 100; the total is rounded half-up at 2 places only at the end.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from ledger.errors import Refused
from projections.facts import Facts
from projections.scoring import score_year
from tests.scoring_cases import D, ev, example, score

GROUP = "行政村"
BANZI = "党政班子成员打分"
XZ = example("xz-2017.toml")
ITEMS = [i.id for i in XZ.group(GROUP).leaves_for("村1")]
# 党建工作 92, 党风廉政建设 95, 精神文明建设 88, 社会治安综合治理 90, 精准扶贫帮扶工作 93 (= 458);
# 精准扶贫 94, 农业经济 86, 社会保险 97, 民政工作 91, 安全生产 89, 村级财务 85, 林业管理 90, 电子商务 80, 劳务输转 92,
# 食品药品安全 95 (= 899); in all 1357
TYPICAL = ["92", "95", "88", "90", "93", "94", "86", "97", "91", "89", "85", "90", "80", "92", "95"]


def unit_facts(unit: str, marks, banzi: str | None = None) -> list:
    """Scores of `unit` on the 15 items in order (None: not recorded) and, unless None, its members' score."""
    facts = [score(unit, item, mark) for item, mark in zip(ITEMS, marks) if mark is not None]
    return facts + ([] if banzi is None else [ev(unit, BANZI, banzi)])


def scored(*facts):
    scores = tuple(f for f in facts if hasattr(f, "indicator"))
    evaluations = tuple(f for f in facts if not hasattr(f, "indicator"))
    return score_year(XZ, Facts(2017, scores=scores, evaluations=evaluations))


def village(marks, banzi: str | None, unit: str = "村1"):
    return scored(*unit_facts(unit, marks, banzi)).unit(unit)


# ---- 二、考核标准及内容: the tree ----------------------------------------------------------------------------------

def test_eight_villages_fifteen_items_of_100_in_two_classes():
    # 一、考核对象: 8个行政村; (一) 1 党建综合目标类 (1)–(5) and 2 政府工作目标类 (1)–(10), each "(100分)"
    group = XZ.group(GROUP)
    assert len(group.units) == 8 and XZ.units == group.units
    assert len(ITEMS) == 15
    weights = {i.id: i.weight for i in group.leaves_for("村1")}
    assert set(weights.values()) == {D(100)}
    assert sum(1 for i in ITEMS if i.startswith("党建综合目标类/")) == 5
    assert sum(1 for i in ITEMS if i.startswith("政府工作目标类/")) == 10
    assert sum(weights.values()) == 1500


def test_an_item_is_capped_at_its_heading_100_even_where_its_lines_add_up_to_more():
    # (一)1(1) 党建工作(100分): its lines 19 + 5.5 + 13 + 5 + 9 + 6 + 6 + 4 + 4 + 3 + 2 + 1 + 5 + 2 + 8 + 3 + 5 = 100.5;
    # (一)1(4) 社会治安综合治理(100分): 10 + 45 + 15 + 5 + 13 + 16 = 104. READING: an item scores at most 100.
    assert XZ.check_score("村1", "党建综合目标类/党建工作", D("100")).weight == 100  # the cap reached exactly
    with pytest.raises(Refused):
        XZ.check_score("村1", "党建综合目标类/党建工作", D("100.5"))  # exceeded
    with pytest.raises(Refused):
        XZ.check_score("村1", "党建综合目标类/社会治安综合治理(平安建设)", D("104"))
    with pytest.raises(Refused):
        XZ.check_score("村1", "政府工作目标类/食品药品安全", D("-1"))  # no item goes below 0


def test_the_members_score_is_out_of_100():
    # (二)党政班子成员考核(100分): 党建综合 50 (20 + 10 + 5 + 10 + 5) + 政府工作 50 (15 + 10 + 5 + 5 + 5 + 4 + 1 + 1 + 2 + 2)
    XZ.check_evaluation("村1", BANZI, "", D("100"), None, None)
    with pytest.raises(Refused):
        XZ.check_evaluation("村1", BANZI, "", D("100.5"), None, None)


# ---- (三)评分标准: 15项总得分折合成千分制*90% + 党政班子成员打分*10% ------------------------------------------------

def test_full_marks_give_1000():
    # 1500 × 1000/1500 = 1000; × 90% = 900. 100 × 10 (READING: also on 1000) × 10% = 100. Total 1000.00
    result = village(["100"] * 15, "100")
    assert result.terms["现场考核"] == 1000
    assert result.total == D("1000.00") and result.published == "1000.00"


def test_a_typical_village():
    # 1357 × 1000/1500 = 904.666…; × 90% = 814.2 (= 1357 × 0.6). 87.6 × 10 × 10% = 87.6. 814.2 + 87.6 = 901.80
    result = village(TYPICAL, "87.6")
    assert result.terms["total"] == D("901.8")
    assert result.total == D("901.80") and result.missing == ["component 民主测评"]


def test_the_literal_reading_is_not_taken():
    # read literally (members' 100 × 10%), the typical village would have 814.2 + 8.76 = 822.96; the file takes the
    # reading in which the two parts weigh 90 : 10, so the members' 87.6 adds 87.6 points, not 8.76
    assert village(TYPICAL, "87.6").total != D("822.96")
    assert village(TYPICAL, "87.6").total - village(TYPICAL, "0").total == D("87.6")


def test_half_up_on_a_5_in_the_third_decimal_after_the_thousand_point_conversion():
    # 14 × 91 + 87 = 1361; 1361 × 1000/1500 = 907.333…; × 90% = 816.6. 816.6 + 88.405 = 905.005 → 905.01
    result = village(["91"] * 14 + ["87"], "88.405")
    assert result.exact_total == D("905.005") and result.total == D("905.01")


def test_members_average_of_eight_rounds_half_up_at_the_end_only():
    # 8 members: 90 + 88 + 85 + 92 + 87 + 89 + 91 + 87 = 709, average 88.625 (READING: kept unrounded).
    # 1357 × 0.6 = 814.2; + 88.625 = 902.825 → 902.83 (banker's rounding would give 902.82)
    result = village(TYPICAL, "88.625")
    assert result.exact_total == D("902.825") and result.total == D("902.83")


def test_half_points_on_an_item():
    # 食品药品安全 95.5 instead of 95: 1357.5 × 0.6 = 814.5; members 88.375 (707 ÷ 8); 902.875 → 902.88
    result = village(TYPICAL[:-1] + ["95.5"], "88.375")
    assert result.exact_total == D("902.875") and result.total == D("902.88")


def test_exact_even_where_forty_digits_of_the_conversion_would_round_down():
    # two items entered so far, 80 + 72 = 152: 152 × 1000/1500 = 101.333…; × 90% = 91.2 exactly; members 1.625:
    # 91.2 + 1.625 = 92.825 → 92.83. (Had the total read 现场考核 as 101.333…3 to 40 digits, it would be
    # 92.82499…97 → 92.82: a term's exact value is what the next term reads.)
    result = village(["80", "72"] + [None] * 13, "1.625")
    assert result.exact_total == D("92.825") and result.total == D("92.83")


@pytest.mark.parametrize("on_site", ["150", "152", "155", "158", "161", "1357", "1361", "1499.99"])
@pytest.mark.parametrize("members", ["1.625", "4.875", "8.125", "88.005", "88.625", "99.995"])
def test_total_is_the_half_up_of_the_exact_fraction(on_site, members):
    # the seed's formula in exact fractions: on_site × 1000/1500 × 9/10 + members × 10 × 1/10, then half up at 2
    exact = Fraction(on_site) * 1000 / 1500 * Fraction(9, 10) + Fraction(members)
    expected = Decimal((exact * 100 + Fraction(1, 2)).__floor__()) / 100
    whole, rest = divmod(D(on_site), 100)  # the sum spread over the 15 items: 100s, the rest, then 0s
    marks = ["100"] * int(whole) + [str(rest)] + ["0"] * (14 - int(whole))
    assert len(marks) == 15 and sum(D(m) for m in marks) == D(on_site)
    assert village(marks, members).total == expected


# ---- a unit with no score on an item; the latest record counts --------------------------------------------------

def test_an_item_without_a_score_counts_0_and_is_listed_missing():
    # 五、考核方式: 全覆盖实地考核, every village on every item. 劳务输转 not recorded: 14 × 90 = 1260;
    # 1260 × 0.6 = 756; + 90 = 846.00, and the missing item is named
    result = village(["90"] * 13 + [None, "90"], "90")
    assert result.total == D("846.00")
    assert result.missing == ["item 政府工作目标类/劳务输转", "component 民主测评"]


def test_no_members_score_counts_0_and_is_listed_missing():
    # 15 × 90 = 1350 × 0.6 = 810; members not recorded: 0; total 810.00
    result = village(["90"] * 15, None)
    assert result.total == D("810.00")
    assert "component 党政班子成员打分" in result.missing


def test_nothing_recorded_is_0_with_every_item_missing():
    result = scored().unit("村8")
    assert result.total == D("0.00") and len(result.missing) == 15 + 2


def test_a_corrected_item_score_replaces_the_earlier_one():
    # 六、工作要求3: 业务人员对单项考核成绩进行及时汇总. 党建工作 first 92, then corrected to 95:
    # 1357 − 92 + 95 = 1360; × 0.6 = 816; + 87.6 = 903.60
    facts = unit_facts("村1", TYPICAL, "87.6") + [score("村1", "党建综合目标类/党建工作", "95")]
    assert scored(*facts).unit("村1").total == D("903.60")


# ---- 民主测评: collected, not a term of the total ---------------------------------------------------------------

def test_democratic_evaluation_is_recorded_but_not_added():
    # 六、工作要求2: 民主测评 "好、较好、一般、较差". READING: it is the 民主测评(5分) line inside 党建工作, so its own
    # record does not enter the total. Votes 20 好, 8 较好, 2 一般 → (20 × 5 + 8 × 4 + 2 × 3) ÷ 30 = 138 ÷ 30 = 4.6;
    # total still 814.2 + 87.6 = 901.80
    facts = unit_facts("村1", TYPICAL, "87.6") + [ev("村1", "民主测评", votes={"好": 20, "较好": 8, "一般": 2})]
    result = scored(*facts).unit("村1")
    assert result.component_values["民主测评"] == D("4.6")
    assert result.total == D("901.80") and result.missing == []


# ---- ranks among the 8 villages ---------------------------------------------------------------------------------

def test_villages_are_ranked_by_total_and_equal_totals_share_a_rank():
    # 村1: 10 × 100 + 5 × 80 = 1400 × 0.6 = 840 + 90 = 930.00
    # 村2: 15 × 94 = 1410 × 0.6 = 846 + 84 = 930.00 (equal to 村1)
    # 村3: 15 × 92 = 1380 × 0.6 = 828 + 95 = 923.00
    # 村4: 15 × 90 = 1350 × 0.6 = 810 + 12 = 822.00
    result = scored(*unit_facts("村1", ["100"] * 10 + ["80"] * 5, "90"), *unit_facts("村2", ["94"] * 15, "84"),
                    *unit_facts("村3", ["92"] * 15, "95"), *unit_facts("村4", ["90"] * 15, "12"))
    assert [(u.unit, u.total, u.rank) for u in result.group(GROUP)[:4]] == [
        ("村1", D("930.00"), 1), ("村2", D("930.00"), 1), ("村3", D("923.00"), 3), ("村4", D("822.00"), 4)]


# ---- what the seed does not have --------------------------------------------------------------------------------

def test_no_grades_no_adjustments_and_the_sheet_is_signed_by_the_team_leader():
    # the seed has no 等次, no 加分/减分 items (so no caps, deadlines or carry-over of adjustments);
    # 六、工作要求3: 评分表 "经考核组长签字后,密封保存管理,当日交镇政府进行汇总" → the close needs the office and the 组长
    assert XZ.group(GROUP).grading is None
    assert len(XZ.rules) == 0
    with pytest.raises(Refused):
        XZ.check_adjustment("村1", "加分", {"points": "1"})
    assert XZ.closing_roles == ("office", "组长")


def test_the_fifteen_items_by_name():
    # (一)1 党建综合目标类 (1)党建工作 (2)党风廉政建设 (3)精神文明建设 (4)社会治安综合治理(平安建设) (5)精准扶贫帮扶工作;
    # 2 政府工作目标类 (1)精准扶贫 (2)农业经济 (3)社会保险 (4)民政工作 (5)安全生产 (6)村级财务 (7)林业管理 (8)电子商务
    # (9)劳务输转 (10)食品药品安全
    assert ITEMS == [f"党建综合目标类/{n}" for n in ("党建工作", "党风廉政建设", "精神文明建设", "社会治安综合治理(平安建设)",
                                                 "精准扶贫帮扶工作")] + \
        [f"政府工作目标类/{n}" for n in ("精准扶贫", "农业经济", "社会保险", "民政工作", "安全生产", "村级财务", "林业管理",
                                        "电子商务", "劳务输转", "食品药品安全")]

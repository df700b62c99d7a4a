"""Grading one group, hand-computed on the seeds' rules (HY 25 units, BP 29 townships) and under every decision kind."""
from __future__ import annotations

import json
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.grading_rules import parse_grading
from projections.facts import Decision
from projections.grading import GradeInput, competition_ranks, grade_group

HY = """
grades = ["优秀", "良好", "合格", "不合格"]
shares = { "优秀" = "0.30", "良好" = "0.40" }
min_total = { "合格" = "60" }
[faults]
"通报批评" = "合格"
"一票否决" = "合格"
"腐败或不团结" = "合格"
"虚报瞒报" = "合格"
"严重失误" = "合格"
[[fault_count]]
at_least = 3
grade = "不合格"
"""

BP = """
grades = ["好", "较好", "一般", "较差"]
shares = { "好" = "0.30", "较好" = "0.50", "较差" = "0.05" }
from_bottom = ["较差"]
min_total = { "好" = "95" }
[faults]
"党建工作不达标" = "一般"
"重大安全生产责任事故" = "一般"
[achievements]
"服务五个一工程建设突出贡献" = "好"
"""

OUTSIDE = """
[outside]
source = "朝阳市考核"
units = ["下府经济开发区", "五间房镇"]
bands = [{ from = 1, to = 2, grade = "好" }, { from = 3, to = 4, grade = "较好" }, { from = 5, grade = "一般" }]
"""

# HY: 25 units; 60 exactly is 合格 ("60分(不含)以下" is 不合格), 59.99 is not
HY_TOTALS = ["96", "94", "92", "90", "88", "86", "84", "82", "80", "78", "77", "76", "75", "74", "73", "72", "71",
             "70", "68", "65", "62", "60", "59.99", "55", "50"]
# BP: 29 townships, only 5 reach 95 (95.00 itself counts), then 94.99, 94.5, 94, 93 … 73
BP_FEW = ["98", "97", "96", "95.5", "95.00", "94.99", "94.5", "94"] + [str(93 - k) for k in range(21)]
# BP: 29 townships, 9 reach 95: 99, 98.5 … 95, then 94 … 75
BP_HIGH = [str(Decimal(99) - Decimal("0.5") * k) for k in range(9)] + [str(94 - k) for k in range(20)]


def rules(text: str, **overrides):
    table = tomllib.loads(text)
    table.update(overrides)
    return parse_grading(table, "groups.g.grading")


def units(prefix: str, totals: list[str], components: dict[str, dict[str, str]] | None = None) -> list[GradeInput]:
    components = components or {}
    return [GradeInput(f"{prefix}{i:02d}", Decimal(t),
                       {k: Decimal(v) for k, v in components.get(f"{prefix}{i:02d}", {}).items()})
            for i, t in enumerate(totals, 1)]


_ids = iter(range(10**6))


def d(unit: str, kind: str, value: str, position: int = 10, revoked: bool = False) -> Decision:
    return Decision(f"d{next(_ids)}", unit, kind, value, "理由", "event", position, revoked=revoked)


def by_grade(result) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    for u in result.units:
        out.setdefault(u.grade, []).append(u.unit)
    return out


def names(prefix: str, first: int, last: int) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(first, last + 1)]


def quota(result, grade: str) -> tuple[int | None, int]:
    q = next(q for q in result.quotas if q.grade == grade)
    return q.seats, q.given


# ---- HY ----------------------------------------------------------------------------------------------------------

def test_hy_plain_quota_7_10_rest_and_below_60():
    result = grade_group(rules(HY), units("H", HY_TOTALS), [], {})
    assert by_grade(result) == {"优秀": names("H", 1, 7), "良好": names("H", 8, 17), "合格": names("H", 18, 22),
                                "不合格": names("H", 23, 25)}
    assert quota(result, "优秀") == (7, 7) and quota(result, "良好") == (10, 10)
    assert result.unit("H01").reasons == [] and result.unit("H22").reasons == []  # 60 is 合格, nothing to explain
    assert result.unit("H23").reasons == ["total 59.99 is below the minimum 60 for 合格: 不合格"]
    assert not result.pending and result.notes == [] and result.counted == 25


def test_hy_fault_caps_at_合格_and_the_next_moves_up():
    result = grade_group(rules(HY), units("H", HY_TOTALS), [d("H03", "fault", "虚报瞒报")], {})
    assert by_grade(result) == {"优秀": ["H01", "H02"] + names("H", 4, 8), "良好": names("H", 9, 18),
                                "合格": ["H03"] + names("H", 19, 22), "不合格": names("H", 23, 25)}
    h03 = result.unit("H03")
    assert h03.grade == "合格" and h03.reasons[0].startswith("fault 虚报瞒报 (decision d") \
        and h03.reasons[0].endswith("at most 合格")
    assert result.unit("H08").reasons == [
        "moves up from 良好 (its rank alone) to 优秀: units ranked above do not hold their rank's seat (H03)"]
    assert "moves up from 合格" in result.unit("H18").reasons[0]
    assert quota(result, "优秀") == (7, 7)


def test_hy_three_faults_make_不合格_two_only_cap():
    decisions = [d("H01", "fault", f) for f in ("通报批评", "一票否决", "严重失误")]
    decisions += [d("H02", "fault", "通报批评"), d("H02", "fault", "虚报瞒报"), d("H02", "fault", "通报批评")]
    result = grade_group(rules(HY), units("H", HY_TOTALS), decisions, {})
    h01, h02 = result.unit("H01"), result.unit("H02")
    assert (h01.grade, h01.basis) == ("不合格", "fault_count")
    assert h01.reasons[-1] == "3 faults (一票否决, 严重失误, 通报批评): 不合格 (3 or more faults)"
    assert (h02.grade, h02.basis) == ("合格", "quota")  # the same fault twice counts once: 2 distinct faults
    assert by_grade(result)["优秀"] == names("H", 3, 9)


def test_hy_leading_group_ruling_is_final():
    decisions = [d("H05", "leading_group", "不合格", 5), d("H05", "falsification", "虚报", 9)]
    result = grade_group(rules(HY), units("H", HY_TOTALS), decisions, {})
    h05 = result.unit("H05")
    assert (h05.grade, h05.basis) == ("不合格", "leading_group")
    assert h05.reasons[0].startswith("leading-group ruling d") and "not applied" in h05.reasons[-1]
    assert by_grade(result)["优秀"] == names("H", 1, 4) + names("H", 6, 8)


# ---- BP ----------------------------------------------------------------------------------------------------------

def test_bp_fewer_than_8_reach_95_seats_lapse():
    result = grade_group(rules(BP), units("T", BP_FEW), [], {})
    assert [quota(result, g) for g in ("好", "较好", "一般", "较差")] == [(8, 5), (14, 14), (None, 9), (1, 1)]
    assert by_grade(result) == {"好": names("T", 1, 5), "较好": names("T", 6, 19), "一般": names("T", 20, 28),
                                "较差": ["T29"]}
    for unit, total in (("T06", "94.99"), ("T07", "94.5"), ("T08", "94")):
        assert result.unit(unit).reasons == [f"threshold not met: 好 needs a total of at least 95, has {total}"]
    assert result.unit("T09").reasons == []
    assert result.notes == ["好: 3 of 8 seat(s) left unused: only 5 eligible unit(s) reach 95"]


def test_bp_fewer_than_8_reach_95_pass_down_reading():
    result = grade_group(rules(BP, unused_seats="pass_down"), units("T", BP_FEW), [], {})
    assert by_grade(result) == {"好": names("T", 1, 5), "较好": names("T", 6, 22), "一般": names("T", 23, 28),
                                "较差": ["T29"]}
    assert result.quotas[1].to_dict() == {"grade": "较好", "share": "0.50", "seats": 14, "received": 3, "given": 17}
    assert result.notes == ["好: 3 of 8 seat(s) passed down to the next grade: only 5 eligible unit(s) reach 95"]


def test_bp_veto_on_the_top_unit():
    result = grade_group(rules(BP), units("T", BP_HIGH), [d("T01", "fault", "党建工作不达标")], {})
    assert by_grade(result) == {"好": names("T", 2, 9), "较好": names("T", 10, 23),
                                "一般": ["T01"] + names("T", 24, 28), "较差": ["T29"]}
    assert result.unit("T01").rank == 1 and "at most 一般" in result.unit("T01").reasons[0]
    assert "moves up from 较好 (its rank alone) to 好" in result.unit("T09").reasons[0]  # T09 has exactly 95
    assert "moves up from 一般 (its rank alone) to 较好" in result.unit("T23").reasons[0]


def test_bp_direct_grade_takes_a_seat():
    result = grade_group(rules(BP), units("T", BP_HIGH), [d("T20", "direct_grade", "服务五个一工程建设突出贡献")], {})
    assert by_grade(result) == {"好": names("T", 1, 7) + ["T20"], "较好": names("T", 8, 19) + ["T21", "T22"],
                                "一般": names("T", 23, 28), "较差": ["T29"]}
    t20 = result.unit("T20")
    assert (t20.basis, t20.total) == ("direct_grade", Decimal(84))  # below 95: the achievement is the reason
    assert t20.reasons[0].startswith("direct grade 好: achievement 服务五个一工程建设突出贡献 (decision d")
    assert result.unit("T08").reasons == ["its rank alone gives 好; the seats shift because units are graded apart "
                                          "from the ranking: T20 (direct_grade)"]
    assert quota(result, "好") == (8, 8) and result.notes == []


def test_bp_direct_grade_outside_the_quota_reading():
    result = grade_group(rules(BP, decisions_take_seats=False), units("T", BP_HIGH),
                         [d("T20", "direct_grade", "服务五个一工程建设突出贡献")], {})
    assert by_grade(result)["好"] == names("T", 1, 8) + ["T20"]
    assert quota(result, "好") == (8, 9)
    assert result.notes == ["好: 9 units for 8 seat(s), quota exceeded: direct_grade decision"]


def test_bp_direct_grade_is_not_applied_to_a_capped_unit():
    decisions = [d("T20", "direct_grade", "服务五个一工程建设突出贡献"), d("T20", "fault", "重大安全生产责任事故")]
    result = grade_group(rules(BP), units("T", BP_HIGH), decisions, {})
    t20 = result.unit("T20")
    assert (t20.grade, t20.basis) == ("一般", "quota")
    assert "not applied: a fault allows at most 一般" in t20.reasons[1]
    assert by_grade(result)["较好"] == names("T", 9, 19) + names("T", 21, 23)


def test_bp_direct_grade_on_the_bottom_unit_moves_较差_up_one():
    result = grade_group(rules(BP), units("T", BP_HIGH), [d("T29", "direct_grade", "服务五个一工程建设突出贡献")], {})
    assert by_grade(result)["较差"] == ["T28"]
    assert result.unit("T28").reasons == ["its rank alone gives 一般; the seats shift because units are graded apart "
                                          "from the ranking: T29 (direct_grade)"]


def test_a_fault_capping_at_the_bottom_grade_is_reported_when_it_exceeds_the_share():
    table = tomllib.loads(BP)
    table["faults"]["严重失职渎职"] = "较差"
    result = grade_group(parse_grading(table, "g"), units("T", BP_HIGH), [d("T05", "fault", "严重失职渎职")], {})
    assert by_grade(result)["较差"] == ["T05", "T29"]
    assert result.notes == ["较差: 2 units for 1 seat(s), quota exceeded: capped below the remainder grade by a fault"]


def test_bp_outside_ranking_units_are_not_counted_for_the_quota():
    totals = [str(Decimal(99) - Decimal("0.5") * k) for k in range(8)] + [str(94 - k) for k in range(19)]
    entries = units("B", totals) + [GradeInput("下府经济开发区", Decimal("99.5")), GradeInput("五间房镇", Decimal(80))]
    result = grade_group(rules(BP + OUTSIDE), entries, [], {"下府经济开发区": 5, "五间房镇": 2})
    assert result.counted == 27 and [quota(result, g)[0] for g in ("好", "较好", "较差")] == [8, 13, 1]
    grades = by_grade(result)
    assert grades["好"] == ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "五间房镇"]
    assert grades["较好"] == names("B", 9, 21) and grades["较差"] == ["B27"]
    assert grades["一般"] == ["下府经济开发区"] + names("B", 22, 26)
    zone = result.unit("下府经济开发区")
    assert (zone.rank, zone.basis, zone.reasons) == (1, "outside", ["outside ranking 朝阳市考核: rank 5 gives 一般"])
    assert quota(result, "好") == (8, 8)  # 五间房镇's 好 comes from 朝阳, not from the group's seats


def test_bp_outside_ranking_missing_rank_pending_and_fault_caps():
    entries = units("B", BP_HIGH[:27]) + [GradeInput("下府经济开发区", Decimal(90)), GradeInput("五间房镇", Decimal(80))]
    result = grade_group(rules(BP + OUTSIDE), entries, [d("五间房镇", "fault", "党建工作不达标")], {"五间房镇": 1})
    zone, town = result.unit("下府经济开发区"), result.unit("五间房镇")
    assert (zone.grade, zone.pending) == (None, True) and "has no rank for it yet" in zone.reasons[0]
    assert town.grade == "一般" and town.reasons[-1] == "capped by a fault: 一般 instead of 好"
    assert result.pending


# ---- ties --------------------------------------------------------------------------------------------------------

TIED = HY_TOTALS[:6] + ["83", "83"] + HY_TOTALS[8:]  # H07 and H08 share rank 7 across the 优秀 boundary


def test_tie_broken_by_a_component():
    entries = units("H", TIED, {"H07": {"班子成员评议": "9.0"}, "H08": {"班子成员评议": "9.5"}})
    result = grade_group(rules(HY, tie_breakers=["班子成员评议"]), entries, [], {})
    assert result.unit("H08").grade == "优秀" and result.unit("H07").grade == "良好"
    assert result.unit("H07").rank == result.unit("H08").rank == 7
    assert result.unit("H07").reasons == ["tie at total 83 across the 优秀 boundary (H07, H08: 2 units for 1 seat(s)); "
                                          "broken by 班子成员评议 (班子成员评议 9.0): does not take 优秀"]
    assert by_grade(result)["良好"] == ["H07"] + names("H", 9, 17)
    assert quota(result, "优秀") == (7, 7) and result.notes == []


def test_tie_better_policy_exceeds_the_quota_and_says_why():
    result = grade_group(rules(HY), units("H", TIED), [], {})
    grades = by_grade(result)
    assert grades["优秀"] == names("H", 1, 8) and grades["良好"] == names("H", 9, 18)
    assert quota(result, "优秀") == (7, 8)
    assert "all tied units get the better grade 优秀: quota exceeded by 1" in result.unit("H07").reasons[0]
    assert result.notes == [
        "tie at total 83 across the 优秀 boundary (H07, H08: 2 units for 1 seat(s)): all get 优秀; the 优秀 quota is "
        "exceeded by 1 (tie policy better)",
        "优秀: 8 units for 7 seat(s), quota exceeded: tie at the boundary (all tied units get the better grade)"]


def test_tie_breaker_missing_for_a_unit_falls_back_to_the_policy():
    entries = units("H", TIED, {"H08": {"班子成员评议": "9.5"}})
    result = grade_group(rules(HY, tie_breakers=["班子成员评议"]), entries, [], {})
    assert result.unit("H07").grade == result.unit("H08").grade == "优秀"
    assert result.notes[0].endswith("tie-breaker 班子成员评议 is missing for H07 and is not used")


def test_tie_withhold_then_a_tie_decision_settles_it():
    withhold = rules(HY, tie_policy="withhold")
    waiting = grade_group(withhold, units("H", TIED), [], {})
    assert waiting.pending
    assert by_grade(waiting) == {"优秀": names("H", 1, 6), None: names("H", 7, 25)}
    assert waiting.unit("H07").reasons[0].endswith("grade withheld until a signed tie decision settles it")
    assert waiting.unit("H20").reasons == ["grade pending: it depends on the unsettled tie at the 优秀 boundary"]
    assert "pending until signed tie decisions settle it (tie policy withhold)" in waiting.notes[0]

    settled = grade_group(withhold, units("H", TIED), [d("H08", "tie", "优秀")], {})
    assert not settled.pending
    assert by_grade(settled) == {"优秀": names("H", 1, 6) + ["H08"], "良好": ["H07"] + names("H", 9, 17),
                                 "合格": names("H", 18, 22), "不合格": names("H", 23, 25)}
    assert settled.unit("H08").reasons[0].endswith(": takes 优秀") and "tie decision d" in settled.unit("H08").reasons[0]
    assert settled.unit("H07").reasons[0].endswith("settled by the tie decisions for the others: does not take 优秀")

    other_way = grade_group(withhold, units("H", TIED), [d("H08", "tie", "良好")], {})
    assert other_way.unit("H07").grade == "优秀" and other_way.unit("H08").grade == "良好"


def test_tie_decisions_giving_both_the_seat_are_reported():
    decisions = [d("H07", "tie", "优秀"), d("H08", "tie", "优秀")]
    result = grade_group(rules(HY, tie_policy="withhold"), units("H", TIED), decisions, {})
    assert quota(result, "优秀") == (7, 8)
    assert "the tie decisions give 优秀 to 2 units, 1 more than its seats" in result.notes[0]
    assert result.notes[-1] == "优秀: 8 units for 7 seat(s), quota exceeded: tie decision"


def test_three_way_tie_partly_broken_by_component():
    totals = HY_TOTALS[:5] + ["85", "85", "85"] + HY_TOTALS[8:]  # H06–H08 tied for 2 优秀 seats
    comps = {"H06": {"班子成员评议": "9.8"}, "H07": {"班子成员评议": "9"}, "H08": {"班子成员评议": "9.0"}}
    result = grade_group(rules(HY, tie_breakers=["班子成员评议"]), units("H", totals, comps), [], {})
    assert [result.unit(u).grade for u in ("H06", "H07", "H08")] == ["优秀", "优秀", "优秀"]
    assert "broken by 班子成员评议 (班子成员评议 9.8): takes 优秀" in result.unit("H06").reasons[0]
    assert "quota exceeded by 1" in result.unit("H07").reasons[0]
    assert quota(result, "优秀") == (7, 8)


BP_BOTTOM_TIE = BP_FEW[:27] + ["73", "73"]  # T28 and T29 share the last rank


def test_bottom_tie_better_policy_leaves_the_较差_share_short():
    result = grade_group(rules(BP), units("T", BP_BOTTOM_TIE), [], {})
    assert result.unit("T28").grade == result.unit("T29").grade == "一般"
    assert quota(result, "较差") == (1, 0)
    assert any(n.endswith("none takes 较差; the 较差 share is short by 1 (tie policy better)") for n in result.notes)


def test_bottom_tie_breaker_puts_the_lower_component_in_较差():
    comps = {"T28": {"领导评价": "8"}, "T29": {"领导评价": "9"}}
    result = grade_group(rules(BP, tie_breakers=["领导评价"]), units("T", BP_BOTTOM_TIE, comps), [], {})
    assert (result.unit("T28").grade, result.unit("T29").grade) == ("较差", "一般")


def test_bottom_tie_withheld_then_decided():
    withhold = rules(BP, tie_policy="withhold")
    waiting = grade_group(withhold, units("T", BP_BOTTOM_TIE), [], {})
    assert by_grade(waiting)[None] == ["T28", "T29"] and waiting.pending
    assert by_grade(waiting)["一般"] == names("T", 20, 27)  # the top-down grades do not wait for the bottom
    settled = grade_group(withhold, units("T", BP_BOTTOM_TIE), [d("T29", "tie", "较差")], {})
    assert (settled.unit("T28").grade, settled.unit("T29").grade) == ("一般", "较差") and not settled.pending


def test_tie_decision_without_a_tie_is_noted():
    result = grade_group(rules(HY), units("H", HY_TOTALS), [d("H03", "tie", "优秀")], {})
    assert result.unit("H03").grade == "优秀"
    assert result.notes == [f"tie decision {result.notes[0].split()[2]} for H03 is not used: H03 is in no tie at a "
                            "quota boundary"]


# ---- falsification, withholding, decision bookkeeping ------------------------------------------------------------

def test_falsification_lowers_one_step_and_hands_no_seat_on():
    result = grade_group(rules(HY), units("H", HY_TOTALS), [d("H02", "falsification", "虚报")], {})
    assert result.unit("H02").grade == "良好" and "lowered from 优秀 to 良好" in result.unit("H02").reasons[0]
    assert by_grade(result)["优秀"] == ["H01"] + names("H", 3, 7)
    assert quota(result, "优秀") == (7, 6) and quota(result, "良好") == (10, 11)
    assert result.notes == ["良好: 11 units for 10 seat(s), quota exceeded: lowered by a falsification finding"]


def test_falsification_steps_and_the_lowest_grade():
    two = grade_group(rules(HY, falsification_steps=2), units("H", HY_TOTALS), [d("H02", "falsification", "x")], {})
    assert two.unit("H02").grade == "合格"
    last = grade_group(rules(HY), units("H", HY_TOTALS), [d("H25", "falsification", "x")], {})
    assert last.unit("H25").grade == "不合格" and "already the lowest grade" in last.unit("H25").reasons[-1]


def test_withheld_unit_then_assigned():
    withheld = [d("H03", "withhold", "立案调查", 5)]
    waiting = grade_group(rules(HY), units("H", HY_TOTALS), withheld, {})
    h03 = waiting.unit("H03")
    assert (h03.grade, h03.pending, h03.basis) == (None, True, "withheld") and waiting.pending
    assert "withheld (不定等次)" in h03.reasons[0]
    assert by_grade(waiting)["优秀"] == ["H01", "H02"] + names("H", 4, 8)
    assert waiting.counted == 25 and quota(waiting, "优秀") == (7, 7)

    assigned = grade_group(rules(HY), units("H", HY_TOTALS), withheld + [d("H03", "assign", "良好", 8)], {})
    h03 = assigned.unit("H03")
    assert (h03.grade, h03.pending, h03.basis) == ("良好", False, "assign") and not assigned.pending
    assert h03.reasons[-1].startswith("assigned 良好 by decision d")
    assert by_grade(assigned)["优秀"] == by_grade(waiting)["优秀"]  # the others do not move when it is assigned
    assert assigned.notes == ["良好: 11 units for 10 seat(s), quota exceeded: assign decision"]


def test_assign_before_the_withholding_leaves_it_pending_and_revocation_undoes_it():
    early = [d("H03", "assign", "优秀", 3), d("H03", "withhold", "再次立案", 5)]
    assert grade_group(rules(HY), units("H", HY_TOTALS), early, {}).unit("H03").pending
    revoked = [d("H03", "withhold", "x", 5, revoked=True)]
    assert grade_group(rules(HY), units("H", HY_TOTALS), revoked, {}).unit("H03").grade == "优秀"


def test_unknown_values_and_other_units_are_ignored():
    decisions = [d("H01", "fault", "迟到"), d("某外单位", "fault", "通报批评"), d("H02", "assign", "合格")]
    result = grade_group(rules(HY), units("H", HY_TOTALS), decisions, {})
    assert by_grade(result) == by_grade(grade_group(rules(HY), units("H", HY_TOTALS), [], {}))
    assert "(fault '迟到' for H01) is ignored: unknown fault '迟到'" in result.notes[0]
    assert "(assign 合格 for H02) is ignored: H02 is not withheld" in result.notes[1]


def test_duplicate_units_are_refused():
    with pytest.raises(ValueError, match="units listed twice: A"):
        grade_group(rules(HY), [GradeInput("A", Decimal(1)), GradeInput("A", Decimal(2))], [], {})


def test_competition_ranks_share_equal_totals():
    ranks = competition_ranks([GradeInput(u, Decimal(t)) for u, t in zip("abcde", ["90", "85", "85.00", "80", "95"])])
    assert ranks == {"e": 1, "a": 2, "b": 3, "c": 3, "d": 5}


def test_to_dict_is_plain_and_ordered_by_rank_then_name():
    result = grade_group(rules(HY), units("H", TIED)[::-1], [d("H03", "fault", "虚报瞒报")], {})
    plain = result.to_dict()
    json.dumps(plain, ensure_ascii=False)  # no Decimal, no tuple surprises

    def kinds(value):
        if isinstance(value, dict):
            return {type(value)} | set().union(*map(kinds, value.values()), *map(kinds, value.keys()))
        if isinstance(value, list):
            return {type(value)} | set().union(*map(kinds, value))
        return {type(value)}
    assert kinds(plain) <= {dict, list, str, int, bool, type(None)}
    assert [u["unit"] for u in plain["units"]][5:8] == ["H06", "H07", "H08"]
    assert plain["units"][0]["total"] == "96" and plain["rounding"] == "floor"
    # H03 is capped, so the tied H07 and H08 both fit in the 7 seats
    assert plain["quotas"][0] == {"grade": "优秀", "share": "0.30", "seats": 7, "received": 0, "given": 7}


def test_outcomes_mark_every_unit_sharing_the_last_rank():
    outcomes = grade_group(rules(BP), units("T", BP_BOTTOM_TIE), [], {}).outcomes()
    assert [u for u, o in outcomes.items() if o.last_place] == ["T28", "T29"]
    assert outcomes["T01"].grade == "好"


# ---- properties --------------------------------------------------------------------------------------------------

RULESETS = {"HY": HY, "BP": BP}
FAULTS = {"HY": ["通报批评", "一票否决", "腐败或不团结", "虚报瞒报"], "BP": ["党建工作不达标", "重大安全生产责任事故"]}


@st.composite
def groups(draw):
    kind = draw(st.sampled_from(sorted(RULESETS)))
    overrides = {"rounding": draw(st.sampled_from(["floor", "half_up", "ceiling"])),
                 "tie_policy": draw(st.sampled_from(["better", "withhold"])),
                 "unused_seats": draw(st.sampled_from(["lapse", "pass_down"])),
                 "tie_breakers": draw(st.sampled_from([[], ["c"]]))}
    count = draw(st.integers(1, 30))
    # totals drawn from a narrow range of halves, so that ties at boundaries are frequent
    totals = draw(st.lists(st.integers(110, 200).map(lambda k: Decimal(k) / 2), min_size=count, max_size=count))
    comps = draw(st.lists(st.sampled_from([None, Decimal(8), Decimal(9)]), min_size=count, max_size=count))
    entries = [GradeInput(f"u{i}", t, {} if c is None else {"c": c}) for i, (t, c) in enumerate(zip(totals, comps))]
    faulted = draw(st.lists(st.tuples(st.integers(0, count - 1), st.sampled_from(FAULTS[kind])), max_size=6))
    decisions = [Decision(f"f{i}", f"u{u}", "fault", name, "r", "e", i) for i, (u, name) in enumerate(faulted)]
    return rules(RULESETS[kind], **overrides), entries, decisions


@st.composite
def decided_groups(draw):
    """A group with decisions of every kind, values valid or not, some revoked."""
    rules_, entries, decisions = draw(groups())
    kinds = {"direct_grade": list(rules_.achievements) + ["未知成绩"], "leading_group": list(rules_.grades),
             "tie": list(rules_.grades), "withhold": ["调查"], "assign": list(rules_.grades),
             "falsification": ["虚报"], "fault": list(rules_.faults)}
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(sorted(kinds)))
        decisions.append(Decision(f"x{i}", draw(st.sampled_from([e.unit for e in entries])), kind,
                                  draw(st.sampled_from(kinds[kind])), "r", "e", draw(st.integers(0, 20)),
                                  revoked=draw(st.booleans())))
    return rules_, entries, decisions


@settings(max_examples=300, deadline=None)
@given(decided_groups(), st.randoms(use_true_random=False))
def test_grades_do_not_depend_on_input_order(group, rnd):
    rules_, entries, decisions = group
    shuffled_entries, shuffled_decisions = list(entries), list(decisions)
    rnd.shuffle(shuffled_entries)
    rnd.shuffle(shuffled_decisions)
    first = grade_group(rules_, entries, decisions, {}).to_dict()
    assert grade_group(rules_, shuffled_entries, shuffled_decisions, {}).to_dict() == first


@settings(max_examples=300, deadline=None)
@given(groups())
def test_no_grade_exceeds_its_quota_except_by_a_reported_tie(group):
    rules_, entries, decisions = group
    result = grade_group(rules_, entries, decisions, {})
    for q in result.quotas:
        if q.seats is not None and q.given > q.seats + q.received:
            assert any(n.startswith(f"{q.grade}: {q.given} units for {q.seats + q.received} seat(s), "
                                         "quota exceeded: tie")
                       for n in result.notes)
            assert any(f"the {q.grade} quota is exceeded" in n for n in result.notes)
    for u in result.units:
        assert (u.grade is None) == u.pending
        if u.pending:  # only an unsettled tie leaves a unit without a grade here
            assert rules_.tie_policy == "withhold" and any("pending until signed tie decisions" in n
                                                           for n in result.notes)

"""Grading one group, hand-computed on the seeds' rules (HY 25 units, BP 29 townships) and under every decision kind."""

import json
import tomllib
from decimal import Decimal

import pytest

from ledger.grading_rules import parse_grading
from projections.grading import GradeInput, competition_ranks, grade_group
from tests.grading_cases import (
    BP,
    BP_BOTTOM_TIE,
    BP_FEW,
    BP_HIGH,
    HY,
    HY_TOTALS,
    OUTSIDE,
    TIED,
    by_grade,
    d,
    names,
    quota,
    rules,
    units,
)

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




def test_bp_zones_graded_from_the_outside_rank_may_be_made_good_directly(bp):
    # 可直接确定为好等次 follows the 朝阳 paragraph, and its item 2 names 园(景)区: the zones' group lists the achievements
    group = bp.group("开发区园区景区")
    entries = [GradeInput(u, Decimal(0)) for u in group.units]
    ranks = {u: place for place, u in enumerate(group.units, 1)}
    plain = grade_group(group.grading, entries, [], ranks)
    assert plain.unit("大黑山景区").grade == "较好"  # 4th in 朝阳
    achieved = grade_group(group.grading, entries, [d("大黑山景区", "direct_grade", "在服务“五个一工程”建设中做出突出贡献")],
                           ranks)
    assert achieved.unit("大黑山景区").grade == "好"
    vetoed = grade_group(group.grading, entries, [d("大黑山景区", "direct_grade", "在服务“五个一工程”建设中做出突出贡献"),
                                                  d("大黑山景区", "fault", "党建工作不达标")], ranks)
    assert vetoed.unit("大黑山景区").grade == "一般"


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

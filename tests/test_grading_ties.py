"""Ties at a quota boundary under each tie policy: tie-breakers, better grade for all, withheld until decided."""



from projections.grading import grade_group
from tests.grading_cases import BP, BP_BOTTOM_TIE, HY, HY_TOTALS, TIED, by_grade, d, names, quota, rules, units

# ---- ties --------------------------------------------------------------------------------------------------------



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

"""Parsing a group's grading table and the consequences table: the seeds' rules, and every refusal with its key path."""
from __future__ import annotations

import copy
import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import SchemeError
from ledger.grading_rules import DECISION_KINDS, parse_consequences, parse_grading

DOC = Path(__file__).resolve().parent.parent / "docs" / "grading.md"
P = "groups.乡镇.grading"


def doc_examples() -> list[dict]:
    """The TOML examples of docs/grading.md, parsed."""
    return [tomllib.loads(block) for block in re.findall(r"```toml\n(.*?)```", DOC.read_text("utf-8"), re.S)]


def bp() -> dict:
    return copy.deepcopy(doc_examples()[0]["groups"]["乡镇"]["grading"])


def hy() -> dict:
    return copy.deepcopy(doc_examples()[1]["groups"]["部门"]["grading"])


def refused(table: dict, path: str = P) -> SchemeError:
    with pytest.raises(SchemeError) as info:
        parse_grading(table, path)
    return info.value


# ---- the seeds, as the documentation states them -----------------------------------------------------------------

def test_bp_example_parses_to_the_seed_rules():
    rules = parse_grading(bp(), P)
    assert rules.grades == ("好", "较好", "一般", "较差")
    assert rules.rest == "一般"
    assert [rules.seats(g, 29) for g in rules.grades] == [8, 14, None, 1]  # 8.7, 14.5, —, 1.45 floored
    assert rules.threshold("好") == Decimal("95") and rules.threshold("较好") is None
    assert rules.from_bottom == ("较差",)
    assert len(rules.faults) == 9 and set(rules.faults.values()) == {"一般"}
    assert len(rules.achievements) == 3 and set(rules.achievements.values()) == {"好"}
    assert [rules.outside.grade_for(r) for r in (1, 2, 3, 4, 5, 17)] == ["好", "好", "较好", "较好", "一般", "一般"]
    assert rules.tie_policy == "withhold" and rules.unused_seats == "lapse" and rules.decisions_take_seats
    assert rules.decision_roles["fault"] == ("office", "inspector")
    assert rules.roles() == {"office", "inspector", "secretary"}


def test_hy_example_parses_to_the_seed_rules():
    rules = parse_grading(hy(), "groups.部门.grading")
    assert [rules.seats(g, 25) for g in rules.grades] == [7, 10, None, None]
    assert rules.rest == "合格"
    # 合格 needs 60, and so does every better grade; 不合格 has no minimum
    assert [rules.threshold(g) for g in rules.grades] == [Decimal(60), Decimal(60), Decimal(60), None]
    assert len(rules.faults) == 5 and set(rules.faults.values()) == {"合格"}
    assert [(f.at_least, f.grade) for f in rules.fault_count] == [(3, "不合格")]
    assert rules.tie_breakers == ("班子成员评议",)
    # kinds the table does not name may be signed by the office
    assert rules.decision_roles["leading_group"] == ("leading_group_head",)
    assert rules.decision_roles["tie"] == ("office",)


def test_consequence_examples_parse():
    bp_rules = parse_consequences(doc_examples()[0]["consequences"], "consequences", {"好", "较好", "一般", "较差"})
    assert [(r.name, r.when, r.grades, r.years) for r in bp_rules.rules] == [
        ("较差约谈", "grade", ("较差",), 1), ("连续两年较差", "grade", ("较差",), 2)]
    hy_rules = parse_consequences(doc_examples()[1]["consequences"], "consequences")
    assert [(r.when, r.years) for r in hy_rules.rules] == [
        ("last_place", 1), ("last_place", 2), ("grade", 1), ("grade", 2), ("last_place", 3)]
    assert hy_rules.staff_excellent_share == {"优秀": Decimal("0.20"), "良好": Decimal("0.15"),
                                              "合格": Decimal("0.10"), "不合格": Decimal(0)}


@pytest.mark.parametrize("rounding, expected", [("floor", [7, 10]), ("half_up", [8, 10]), ("ceiling", [8, 10])])
def test_rounding_of_count_times_share(rounding, expected):
    table = hy()
    table["rounding"] = rounding
    rules = parse_grading(table, P)
    assert [rules.seats("优秀", 25), rules.seats("良好", 25)] == expected  # 7.5 and exactly 10


def test_half_up_rounds_half_away_from_zero_not_to_even():
    table = {"grades": ["A", "B"], "shares": {"A": "0.5"}, "rounding": "half_up"}
    rules = parse_grading(table, P)
    assert [rules.seats("A", n) for n in (1, 3, 5)] == [1, 2, 3]  # 0.5, 1.5, 2.5 → 1, 2, 3 (banker's: 0, 2, 2)
    table["rounding"] = "ceiling"
    assert parse_grading(table, P).seats("A", 3) == 2


def test_numbers_as_integers_and_strings_are_exact():
    rules = parse_grading({"grades": ["A", "B"], "shares": {"A": 1}, "min_total": {"A": 95}}, P)
    assert rules.shares["A"] == Decimal(1) and rules.threshold("A") == Decimal(95)
    rules = parse_grading({"grades": ["A", "B", "C"], "shares": {"A": "0.1"}}, P)
    assert rules.seats("A", 30) == 3  # 30 × 0.1 is exactly 3 (a binary 0.1 gives 3.0000000000000004)


def test_seats_are_exact_whatever_the_decimal_context():
    import decimal

    rules = parse_grading({"grades": ["A", "B"], "shares": {"A": "0." + "9" * 20}}, P)
    with decimal.localcontext(decimal.Context(prec=5)):
        assert rules.seats("A", 1) == 0 and rules.seats("A", 10**9) == 999999999


def test_minimal_table_has_documented_defaults():
    rules = parse_grading({"grades": ["合格", "不合格"]}, P)
    assert rules.rest == "合格" and rules.rounding == "floor" and rules.tie_policy == "better"
    assert rules.falsification_steps == 1 and rules.decisions_take_seats and rules.unused_seats == "lapse"
    assert set(rules.decision_roles) == set(DECISION_KINDS)
    assert all(roles == ("office",) for roles in rules.decision_roles.values())


def test_rules_to_dict_is_plain_json():
    plain = parse_grading(bp(), P).to_dict()
    text = json.dumps(plain, ensure_ascii=False, sort_keys=True)
    assert '"好": "0.30"' in text and '"from": 5, "grade": "一般", "to": null' in text


def test_decision_problem_names_unknown_values():
    rules = parse_grading(bp(), P)
    assert rules.decision_problem("fault", "党建工作不达标") is None
    assert "unknown fault '迟到'" in rules.decision_problem("fault", "迟到")
    assert "unknown achievement" in rules.decision_problem("direct_grade", "好")
    assert "unknown grade '优秀'" in rules.decision_problem("leading_group", "优秀")
    assert rules.decision_problem("tie", "较好") is None and rules.decision_problem("withhold", "任何理由") is None
    assert "unknown decision kind" in rules.decision_problem("veto", "x")
    # an outside rank: ASCII digits from 1, for a unit the group grades from that rank
    assert rules.decision_problem("outside_rank", "2", "五间房镇") is None
    for odd in ("0", "02", "１", "²", "-1", "1.5", ""):
        assert "whole number from 1" in rules.decision_problem("outside_rank", odd, "五间房镇"), odd
    assert "not graded from the 朝阳市考核 rank" in rules.decision_problem("outside_rank", "1", "长皋乡")
    hy_rules = parse_grading(hy(), "groups.部门.grading")
    assert "no outside table" in hy_rules.decision_problem("outside_rank", "1", "办公室")


# ---- refusals: message and key path ------------------------------------------------------------------------------

def _set(table: dict, key: str, value) -> dict:
    table[key] = value
    return table


@pytest.mark.parametrize("table, path, message", [
    (_set(bp(), "share", {"好": "0.3"}), f"{P}.share", "unknown key 'share'"),
    (_set(bp(), "tie_breaker", ["领导评价"]), f"{P}.tie_breaker", "unknown key 'tie_breaker'"),
    (_set(bp(), "shares", {"好": "1.5", "较差": "0.05"}), f"{P}.shares.好", "share 1.5 is outside 0–1"),
    (_set(bp(), "shares", {"好": "-0.1", "较差": "0.05"}), f"{P}.shares.好", "share -0.1 is outside 0–1"),
    (_set(bp(), "shares", {"好": "0.60", "较好": "0.50"}), f"{P}.shares", "shares sum to 1.10, over 1"),
    (_set(bp(), "shares", {"优秀": "0.30"}), f"{P}.shares.优秀", "unknown grade '优秀'"),
    (_set(bp(), "shares", {"好": 0.3}), f"{P}.shares.好", 'write the number 0.3 as a string ("0.3")'),
    (_set(bp(), "shares", {"好": "30%"}), f"{P}.shares.好", "malformed number '30%'"),
    (_set(bp(), "shares", {"好": "3e-1"}), f"{P}.shares.好", "malformed number '3e-1'"),
    (_set(bp(), "shares", {"好": True}), f"{P}.shares.好", "malformed number True"),
    (_set(bp(), "shares", {"好": "0." + "3" * 21}), f"{P}.shares.好", "more than 20 significant digits"),
    (_set(bp(), "min_total", {"好": "-95"}), f"{P}.min_total.好", "threshold -95 is negative"),
    (_set(bp(), "min_total", {"较差": "10"}), f"{P}.min_total.较差", "cannot have a minimum total"),
    (_set(bp(), "min_total", {"特好": "99"}), f"{P}.min_total.特好", "unknown grade '特好'"),
    (_set(bp(), "rounding", "banker"), f"{P}.rounding",
     "unknown value 'banker'; choose one of floor, half_up, ceiling"),
    (_set(bp(), "tie_policy", "random"), f"{P}.tie_policy", "unknown value 'random'; choose one of better, withhold"),
    (_set(bp(), "unused_seats", "give_away"), f"{P}.unused_seats", "unknown value 'give_away'"),
    (_set(bp(), "tie_breakers", ["领导评价", "领导评价"]), f"{P}.tie_breakers", "component '领导评价' is listed twice"),
    (_set(bp(), "falsification_steps", 4), f"{P}.falsification_steps", "more than the grades allow"),
    (_set(bp(), "falsification_steps", -1), f"{P}.falsification_steps", "must be at least 0"),
    (_set(bp(), "falsification_steps", True), f"{P}.falsification_steps", "must be an integer"),
    (_set(bp(), "decisions_take_seats", "yes"), f"{P}.decisions_take_seats", "must be true or false"),
    (_set(bp(), "faults", {"党建工作不达标": "中等"}), f"{P}.faults.党建工作不达标", "unknown grade '中等'"),
    (_set(bp(), "achievements", {"招商": "优秀"}), f"{P}.achievements.招商", "unknown grade '优秀'"),
    (_set(bp(), "roles", {"veto": ["office"]}), f"{P}.roles.veto", "unknown decision kind 'veto'"),
    (_set(bp(), "roles", {"tie": []}), f"{P}.roles.tie", "at least one role"),
    (_set(bp(), "roles", {"tie": [7]}), f"{P}.roles.tie[0]", "must be a non-empty string"),
    (_set(bp(), "roles", {"tie": "secretary"}), f"{P}.roles.tie", "must be an array"),
    (_set(bp(), "from_bottom", ["一般"]), f"{P}.from_bottom[0]", "'一般' is filled from the bottom but has no share"),
    (_set(bp(), "grades", ["好", "好", "一般", "较差"]), f"{P}.grades", "grade '好' is listed twice"),
    (_set(bp(), "grades", ["好"]), f"{P}.grades", "at least two grades"),
    (_set(bp(), "grades", "好,较好"), f"{P}.grades", "must be an array"),
])
def test_refusals(table, path, message):
    error = refused(table)
    assert error.path == path
    assert message in error.problem
    assert str(error) == f"{path}: {error.problem}"


def test_missing_grades_is_refused():
    error = refused({"shares": {"好": "0.3"}})
    assert error.path == P and "missing key 'grades'" in error.problem


def test_every_grade_shared_leaves_no_remainder_grade():
    error = refused({"grades": ["A", "B"], "shares": {"A": "0.5", "B": "0.5"}})
    assert error.path == f"{P}.shares" and "leave it off the grade that takes the remaining units" in error.problem


def test_top_down_share_after_the_remainder_grade_is_refused():
    error = refused({"grades": ["A", "B", "C"], "shares": {"A": "0.3", "C": "0.1"}})
    assert error.path == f"{P}.shares.C" and "must be filled from the bottom" in error.problem


def test_from_bottom_must_be_the_worst_grades():
    error = refused({"grades": ["A", "B", "C", "D"], "shares": {"A": "0.3", "C": "0.1", "D": "0.1"},
                     "from_bottom": ["C"]})
    assert error.path == f"{P}.from_bottom" and "must be the worst grades" in error.problem


@pytest.mark.parametrize("bands, path, message", [
    ([{"from": 2, "grade": "好"}], ".bands[0].from", "expected from = 1"),
    ([{"from": 1, "to": 2, "grade": "好"}, {"from": 4, "grade": "一般"}], ".bands[1].from", "expected from = 3"),
    ([{"from": 1, "to": 2, "grade": "好"}], ".bands", "the last band must be open-ended"),
    ([{"from": 1, "grade": "好"}, {"from": 2, "grade": "一般"}], ".bands[1]", "follows the open-ended band"),
    ([{"from": 1, "to": 0, "grade": "好"}], ".bands[0].to", "must be at least 1"),
    ([{"to": 2, "grade": "好"}], ".bands[0]", "needs 'from' and 'grade'"),
    ([{"from": 1, "grade": "第一"}], ".bands[0].grade", "unknown grade '第一'"),
    ([{"from": 1, "grade": "好", "upto": 3}], ".bands[0].upto", "unknown key 'upto'"),
])
def test_outside_band_refusals(bands, path, message):
    table = bp()
    table["outside"]["bands"] = bands
    error = refused(table)
    assert error.path == f"{P}.outside{path}" and message in error.problem


def test_outside_needs_source_units_and_bands():
    table = bp()
    del table["outside"]["source"]
    assert "missing key 'source'" in refused(table).problem


@pytest.mark.parametrize("rule, path, message", [
    ({"at_least": 0, "grade": "较差"}, ".at_least", "must be at least 1"),
    ({"at_least": 3}, "", "missing key 'grade'"),
    ({"at_least": 3, "grade": "差"}, ".grade", "unknown grade '差'"),
    ({"at_least": 3, "grade": "较差", "then": "x"}, ".then", "unknown key 'then'"),
])
def test_fault_count_refusals(rule, path, message):
    error = refused(_set(bp(), "fault_count", [rule]))
    assert error.path == f"{P}.fault_count[0]{path}" and message in error.problem


def test_error_names_the_file_when_the_loader_adds_it():
    error = refused(_set(bp(), "rounding", "up")).in_file("scheme-2017.toml")
    assert str(error).startswith(f"scheme-2017.toml: {P}.rounding: unknown value 'up'")


# ---- consequences refusals ---------------------------------------------------------------------------------------

def _rule(**fields) -> dict:
    base = {"name": "r", "when": "grade", "grades": ["较差"], "consequence": "约谈"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("table, path, message", [
    ({"rule": []}, "consequences.rule", "unknown key 'rule'"),
    ({"rules": [_rule(when="first_place")]}, "consequences.rules[0].when", "unknown value 'first_place'"),
    ({"rules": [_rule(when="last_place")]}, "consequences.rules[0].grades", "not allowed with \"last_place\""),
    ({"rules": [_rule(grades=None)]}, "consequences.rules[0].grades", "'grades' is required"),
    ({"rules": [_rule(years=0)]}, "consequences.rules[0].years", "must be at least 1"),
    ({"rules": [_rule(grades=["差"])]}, "consequences.rules[0].grades", "unknown grade '差'"),
    ({"rules": [_rule(), _rule()]}, "consequences.rules[1].name", "rule name 'r' is taken"),
    ({"rules": [_rule(name="staff_excellent_share")]}, "consequences.rules[0].name", "is taken"),
    ({"rules": [_rule(consequence=None)]}, "consequences.rules[0]", "missing key 'consequence'"),
    ({"rules": [_rule(consequnce="x")]}, "consequences.rules[0].consequnce", "unknown key 'consequnce'"),
    ({"staff_excellent_share": {"优秀": "1.2"}}, "consequences.staff_excellent_share.优秀", "outside 0–1"),
    ({"staff_excellent_share": {"优秀": 0.2}}, "consequences.staff_excellent_share.优秀", "as a string"),
])
def test_consequence_refusals(table, path, message):
    with pytest.raises(SchemeError) as info:
        parse_consequences(table, "consequences", {"好", "较好", "一般", "较差", "优秀"})
    assert info.value.path == path and message in info.value.problem

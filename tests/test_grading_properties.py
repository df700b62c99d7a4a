"""Properties of grading: no dependence on input order, no grade over its quota except by a reported tie."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.facts import Decision
from projections.grading import GradeInput, grade_group
from tests.grading_cases import BP, HY, rules

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

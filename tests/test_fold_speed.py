"""What the county-year view's speed-ups must not change: remembered parses and texts equal fresh ones, the
explanation rendered on first access is the one every number is accounted by, and folding keeps its meaning."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest

from ledger.adjustments import fold_adjustment
from ledger.errors import Refused
from ledger.numbers import parse_decimal, show
from ledger.registry import Registry
from projections import adjustment_rules
from projections.facts import Facts
from projections.scoring import score_year
from tests.scoring_cases import adj, evaluations, town_scores


def _plain_show(value: Decimal) -> str:  # show() as it was written before it remembered anything
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def test_show_remembered_equals_computed_for_equal_values_in_any_form():
    rng = random.Random(6)
    texts = ["2.50", "2.5", "-0", "0E+3", "1E+2", "100.0", "-0.00", "0.000", "12.3450", "-7"]
    texts += [f"{rng.randint(-10**6, 10**6)}.{rng.randint(0, 999):03d}" for _ in range(500)]
    for text in texts * 2:  # the second round reads what the first remembered
        value = Decimal(text)
        assert show(value) == _plain_show(value)
        assert show(value) == show(Decimal(_plain_show(value)))  # equal values, one text


def test_parse_decimal_remembered_still_refuses_what_it_refused():
    assert parse_decimal("12.50", "x") == Decimal("12.50") and parse_decimal("12.50", "x") == Decimal("12.5")
    for bad in ("1,5", "NaN", "1e3", "", " 1", "1" * 21):
        for _ in range(2):
            with pytest.raises(Refused):
                parse_decimal(bad, "x")
    with pytest.raises(Refused):
        parse_decimal(12, "x")


def test_remembered_inputs_are_a_fresh_dict_and_refusals_are_not_remembered(bp):
    rule, inputs = bp.rule("附2-2"), {"option": "新建", "count": "2"}
    for _ in range(2):
        with pytest.raises(Refused):
            adjustment_rules._parsed_inputs(rule, {"option": "新建", "no such input": "1"})
    first = adjustment_rules._parsed_inputs(rule, inputs)
    first["tampered"] = True
    again = adjustment_rules._parsed_inputs(rule, inputs)
    assert "tampered" not in again and again == rule.check_inputs(inputs)
    assert adjustment_rules._points(rule, adj("财政局", "附2-2", **inputs), again) == rule.points(again)


def test_explanation_rendered_on_access_is_stable_and_complete(bp):
    facts = Facts(2017, scores=tuple(town_scores("长皋乡", {"经济发展/税收收入": "2", "脱贫攻坚": "7.5"})),
                  evaluations=tuple(evaluations("长皋乡", "85.45", "90", "88")))
    first = score_year(bp, facts)
    second = score_year(bp, facts)
    unit = first.unit("长皋乡")
    lines = unit.explain
    assert lines is unit.explain  # rendered once
    assert lines[0] == f"长皋乡 ({unit.group})"
    assert lines[-1].startswith(f"rank {unit.rank} of ")
    assert first.to_dict() == second.to_dict()
    assert unit.to_dict()["explain"] == lines


def test_fold_adjustment_still_refuses_a_stream_without_a_proposal():
    with pytest.raises(ValueError):
        fold_adjustment("s", [({"type": "adjustment.approved", "act": {"role": "r"}, "signer": "k",
                                "signed_at": "t"}, "e")], Registry())

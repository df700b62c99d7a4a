"""The strict number parser and the formula language (parsed by our own parser, evaluated in Decimal)."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, getcontext, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import Refused, SchemeError
from ledger.formula import as_decimal, half_up, parse_formula, render
from ledger.numbers import fixed, parse_count, parse_decimal, round_half_up, show

D = Decimal


@pytest.mark.parametrize("text,value", [("12", D(12)), ("-0.2", D("-0.2")), ("+3.50", D("3.50")), ("007", D(7)),
                                        ("0.00000000000000000001", D("1E-20")),
                                        ("12345678901234567890", D(12345678901234567890))])
def test_parse_decimal_accepts_plain_decimals(text, value):
    parsed = parse_decimal(text, "points")
    assert parsed == value and isinstance(parsed, Decimal)


@pytest.mark.parametrize("text", ["1,5", "NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "1E3", "", " 1",
                                  "1 ", ".5", "5.", "1..2", "--1", "0x10", "１２", "½", "1_000",
                                  "123456789012345678901", "1.23456789012345678901"])
def test_parse_decimal_refuses_everything_else(text):
    with pytest.raises(Refused):
        parse_decimal(text, "points")


def test_parse_decimal_names_what_it_parses():
    with pytest.raises(Refused, match="amount '1,5' is not a decimal number"):
        parse_decimal("1,5", "amount")
    with pytest.raises(Refused, match="more than 20 significant digits"):
        parse_decimal("1" * 21, "amount")
    with pytest.raises(Refused, match="must be written as text"):
        parse_decimal(1.5, "amount")


def test_parse_count():
    assert parse_count("3", "count") == 3
    for bad in ("3.0", "-1", "1.5", "x"):
        with pytest.raises(Refused):
            parse_count(bad, "count")


def test_round_half_up_never_bankers_or_float():
    assert round_half_up(D("2.345"), 2) == D("2.35")
    assert round_half_up(D("89.845"), 2) == D("89.85")
    assert D("89.845").quantize(D("0.01"), rounding=ROUND_HALF_EVEN) == D("89.84")  # what banker's would give
    assert round_half_up(D("-2.345"), 2) == D("-2.35")
    assert round_half_up(D("1.005"), 2) == D("1.01")  # a float 1.005 is 1.00499…, and rounds to 1.0
    assert fixed(D("86"), 2) == "86.00" and fixed(D("86.455"), 2) == "86.46"


def test_rounding_ignores_the_callers_decimal_context():
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_HALF_EVEN
        assert round_half_up(D("89.845"), 2) == D("89.85")
        value = as_decimal(parse_formula("x * 100 / 35").evaluate({"x": D(30)}))
    assert getcontext().prec == 28
    assert value == D("85.71428571428571428571428571428571428571")  # 40 digits, whatever the caller's context


def test_a_term_that_reads_a_dividing_term_reads_its_exact_value():
    on_site = parse_formula("x * 1000 / 1500").evaluate({"x": D(152)})
    assert on_site == Fraction(304, 3)  # 101.333…, not 40 digits of it
    total = parse_formula("t * 90% + m").evaluate({"t": on_site, "m": D("1.625")})
    assert total == Fraction("92.825") and half_up(total, 2) == D("92.83")
    # from 40 digits of the first term the total would be 92.82499…97, which rounds down
    assert half_up(parse_formula("t * 90% + m").evaluate({"t": as_decimal(on_site), "m": D("1.625")}), 2) == D("92.82")
    assert half_up(Fraction(-185, 8), 2) == D("-23.13") and half_up(D("2.345"), 2) == D("2.35")


def test_show_is_plain_canonical_text():
    assert show(D("1E+1")) == "10" and show(D("-0.00")) == "0" and show(D("0.50")) == "0.5"
    assert show(D("100")) == "100" and show(D("-1.20")) == "-1.2" and show(D("1E-20")) == "0.00000000000000000001"


# ---- formulas ------------------------------------------------------------------------------------------------------

def test_formula_precedence_percent_and_names():
    f = parse_formula("dept * 80% + 领导评价 * 10% + 民主测评 * 5% + 社会评价 * 5%")
    assert f.names == {"dept", "领导评价", "民主测评", "社会评价"}
    values = {"dept": D("90.5"), "领导评价": D("85.45"), "民主测评": D(90), "社会评价": D(88)}
    assert f.evaluate(values) == D("89.845")
    assert f.substituted(values) == "90.5 * 80% + 85.45 * 10% + 90 * 5% + 88 * 5%"


def test_formula_left_associative_and_parentheses():
    assert parse_formula("10 - 4 - 3").evaluate({}) == 3
    assert parse_formula("100 / 10 / 5").evaluate({}) == 2
    assert parse_formula("2 * (3 + 4)").evaluate({}) == 14
    assert parse_formula("-x + 2").evaluate({"x": D(5)}) == -3
    assert render(parse_formula("a - (b - c)")) == "a - (b - c)"
    assert render(parse_formula("(a - b) - c")) == "a - b - c"


def test_formula_functions():
    values = {"a": D("-12.5"), "b": D(3)}
    assert parse_formula("min(a, b, 0)").evaluate(values) == D("-12.5")
    assert parse_formula("max(a, b)").evaluate(values) == 3
    assert parse_formula("abs(a)").evaluate(values) == D("12.5")
    assert parse_formula("half_up(b / 8, 2)").evaluate(values) == D("0.38")
    assert parse_formula("half_up(a, 0)").evaluate(values) == D(-13)


def test_a_formula_that_divides_is_exact_so_a_half_rounds_up():
    # XZ: 15项总得分折合成千分制*90% + 班子*10%. 154.37 × 1000/1500 × 90% + 0.643 = 92.622 + 0.643 = 93.265 exactly;
    # 1000/1500 to 40 digits would give 93.26499…97 and half up 93.26
    xz = parse_formula("items * 1000 / 1500 * 90% + team * 10%")
    total = xz.evaluate({"items": D("154.37"), "team": D("6.43")})
    assert total == D("93.265") and half_up(total, 2) == D("93.27")
    # BP 第四组: (28 × 100/35 + 1.5) × 30% = 81.5 × 0.3 = 24.45; a remainder that never ends stays at 40 digits
    four = parse_formula("(dept * 100 / 35 + adj) * 30%")
    assert four.evaluate({"dept": D(28), "adj": D("1.5")}) == D("24.45")
    assert str(as_decimal(four.evaluate({"dept": D(30), "adj": D(0)}))) == "25.71428571428571428571428571428571428571"
    # half_up inside an exact formula: halves away from zero, either sign
    halves = parse_formula("half_up(x / 3, 2) * 100 + half_up(0 - x / 3, 2)")
    assert halves.evaluate({"x": D("0.045")}) == D("1.98")  # 0.015 → 0.02 (× 100 = 2); −0.015 → −0.02


def test_substituted_shows_negative_values_in_parentheses():
    assert parse_formula("a - b").substituted({"a": D(1), "b": D(-2)}) == "1 - (-2)"


@pytest.mark.parametrize("text,problem", [
    ("a +", "expected a number, a name or '('"), ("a / b", "divide only by a constant"),
    ("a / (2 - 2)", "division by zero"), ("a ** 2", "expected a number"), ("__import__('os')", "unexpected character"),
    ("open(1)", "unknown function 'open'"), ("min", "min is a function"), ("half_up(a, 2.5)", "whole number"),
    ("half_up(a)", "takes 2 arguments"), ("1..2", "malformed number"), ("(a", "expected ')'"), ("a b", "unexpected 'b'"),
    ("-" * 60 + "a", "nested too deeply"), ("a $ b", "unexpected character '$'"), ("x" * 2001, "longer than"),
])
def test_formula_errors(text, problem):
    with pytest.raises(SchemeError) as info:
        parse_formula(text, "groups.甲.formula.total")
    assert problem in info.value.problem and info.value.path == "groups.甲.formula.total"


@given(st.lists(st.decimals(min_value=-1000, max_value=1000, places=2), min_size=3, max_size=3))
def test_formula_matches_decimal_arithmetic(values):
    a, b, c = values
    f = parse_formula("(a + b) * 30% - c / 4")
    assert f.evaluate({"a": a, "b": b, "c": c}) == (a + b) * D("0.30") - c / 4

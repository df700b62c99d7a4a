"""The scheme's formula language: + - * / with parentheses, decimal literals (80% = 0.80), named terms, and the
functions min, max, abs and half_up(x, places). Parsed here into a tiny AST and evaluated in Decimal; never eval().

Division is only by a constant expression (35, 100/35…), so no data can make a formula divide by zero. A formula
that divides is evaluated in exact fractions: 154.37 × 1000/1500 × 90% + 0.643 is 93.265, which 40 digits of
1000/1500 would make 93.26499…97, and half up at 2 places 93.26 instead of 93.27. A term's exact value is what
later terms read: 现场考核 = S × 1000/1500, then total = 现场考核 × 90% + … is exact too.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Mapping, Union

from .errors import SchemeError
from .numbers import CONTEXT, round_half_up, show

FUNCTIONS = {"min": (1, None), "max": (1, None), "abs": (1, 1), "half_up": (2, 2)}  # name -> (least, most) args
MAX_FORMULA = 2000
MAX_DEPTH = 50


@dataclass(frozen=True)
class Number:
    value: Decimal
    text: str


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Expr"


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple["Expr", ...]


Expr = Union[Number, Name, Unary, Binary, Call]


@dataclass(frozen=True)
class Formula:
    """One parsed expression with its source text."""

    text: str
    expr: Expr

    @property
    def names(self) -> frozenset[str]:
        """Every term the formula reads."""
        return frozenset(_names(self.expr))

    @property
    def names_in_order(self) -> tuple[str, ...]:
        """The terms the formula reads, in the order they are written, each once."""
        return tuple(dict.fromkeys(_walk_names(self.expr)))

    def evaluate(self, values: Mapping[str, Decimal | Fraction]) -> Decimal | Fraction:
        """The value with every name looked up in `values`: a Decimal (to 40 digits, which sums and products of the
        scores' decimals never reach), or the exact Fraction where the formula divides or reads a value that is one,
        so that a later term is computed from a term's exact value, not from 40 digits of it."""
        if not _divides(self.expr) and not any(type(values[name]) is Fraction for name in self.names):
            return _eval(self.expr, values)
        return _eval(self.expr, {name: Fraction(values[name]) for name in self.names}, exact=True)

    def substituted(self, values: Mapping[str, Decimal]) -> str:
        """The formula with each name replaced by its value, for an explanation line."""
        return _render(self.expr, lambda n: f"({show(values[n])})" if values[n] < 0 else show(values[n]))


def parse_formula(text: str, path: str = "") -> Formula:
    """Parse a formula; SchemeError names the position of the problem."""
    if not isinstance(text, str):
        raise SchemeError("a formula is written as text", path)
    if len(text) > MAX_FORMULA:
        raise SchemeError(f"formula longer than {MAX_FORMULA} characters", path)
    parser = _Parser(_tokens(text, path), text, path)
    expr = parser.expression(0)
    if parser.peek()[0] != "end":
        raise parser.error(f"unexpected {parser.peek()[1]!r}")
    return Formula(text, expr)


def _tokens(text: str, path: str) -> list[tuple[str, str, int]]:
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c in "+-*/(),":
            tokens.append(("op", c, i))
            i += 1
        elif "0" <= c <= "9":
            j = i
            while j < len(text) and ("0" <= text[j] <= "9" or text[j] == "."):
                j += 1
            literal = text[i:j]
            if literal.count(".") > 1 or literal.endswith("."):
                raise SchemeError(f"malformed number {literal!r} at character {i + 1}", path)
            if j < len(text) and text[j] == "%":
                literal, j = literal + "%", j + 1
            tokens.append(("number", literal, i))
            i = j
        elif c == "_" or c.isalpha():
            j = i
            while j < len(text) and (text[j] == "_" or text[j].isalnum()):
                j += 1
            tokens.append(("name", text[i:j], i))
            i = j
        else:
            raise SchemeError(f"unexpected character {c!r} at character {i + 1}", path)
    tokens.append(("end", "end of formula", len(text)))
    return tokens


_BINARY = {"+": 1, "-": 1, "*": 2, "/": 2}


class _Parser:
    """Precedence climbing over the token list."""

    def __init__(self, tokens: list[tuple[str, str, int]], text: str, path: str):
        self.tokens, self.i, self.text, self.path, self.depth = tokens, 0, text, path, 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, problem: str) -> SchemeError:
        return SchemeError(f"formula {self.text!r}: {problem} at character {self.peek()[2] + 1}", self.path)

    def expect(self, op: str) -> None:
        if self.peek()[:2] != ("op", op):
            raise self.error(f"expected {op!r}, found {self.peek()[1]!r}")
        self.take()

    def expression(self, least: int) -> Expr:
        left = self.operand()
        while self.peek()[0] == "op" and _BINARY.get(self.peek()[1], 0) > least:
            op = self.take()[1]
            right = self.expression(_BINARY[op])
            if op == "/":
                if _names(right):
                    raise self.error("divide only by a constant (a number or an expression of numbers)")
                if _eval(right, {}) == 0:
                    raise self.error("division by zero")
            left = Binary(op, left, right)
        return left

    def operand(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("nested too deeply")
        try:
            return self._operand()
        finally:
            self.depth -= 1

    def _operand(self) -> Expr:
        kind, value, _ = self.peek()
        if kind == "op" and value in "+-":
            self.take()
            return Unary(value, self.operand())
        if kind == "op" and value == "(":
            self.take()
            inner = self.expression(0)
            self.expect(")")
            return inner
        if kind == "number":
            self.take()
            if value.endswith("%"):
                return Number(Decimal(value[:-1]).scaleb(-2), value)
            return Number(Decimal(value), value)
        if kind == "name":
            self.take()
            if self.peek()[:2] == ("op", "("):
                return self.call(value)
            if value in FUNCTIONS:
                raise self.error(f"{value} is a function: write {value}(…)")
            return Name(value)
        raise self.error(f"expected a number, a name or '(', found {value!r}")

    def call(self, function: str) -> Expr:
        if function not in FUNCTIONS:
            raise self.error(f"unknown function {function!r} (known: {', '.join(sorted(FUNCTIONS))})")
        self.expect("(")
        args = [self.expression(0)]
        while self.peek()[:2] == ("op", ","):
            self.take()
            args.append(self.expression(0))
        self.expect(")")
        least, most = FUNCTIONS[function]
        if len(args) < least or (most is not None and len(args) > most):
            raise self.error(f"{function} takes {least if least == most else f'at least {least}'} arguments")
        if function == "half_up":
            places = args[1]
            if not isinstance(places, Number) or places.value != places.value.to_integral_value() \
                    or not 0 <= places.value <= 10 or "%" in places.text:
                raise self.error("half_up(x, places) needs places as a whole number from 0 to 10")
        return Call(function, tuple(args))


def _names(expr: Expr) -> set[str]:
    if isinstance(expr, Name):
        return {expr.name}
    if isinstance(expr, Unary):
        return _names(expr.operand)
    if isinstance(expr, Binary):
        return _names(expr.left) | _names(expr.right)
    if isinstance(expr, Call):
        return set().union(*(_names(a) for a in expr.args))
    return set()


def _walk_names(expr: Expr):
    if isinstance(expr, Name):
        yield expr.name
    elif isinstance(expr, Unary):
        yield from _walk_names(expr.operand)
    elif isinstance(expr, Binary):
        yield from _walk_names(expr.left)
        yield from _walk_names(expr.right)
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from _walk_names(arg)


def _eval(expr: Expr, values: Mapping, exact: bool = False):
    """The value: in Decimal (the ledger's context), or, `exact`, in fractions with no rounding but half_up's
    (`values` then holds fractions)."""
    ops = _OPS[exact]
    if isinstance(expr, Number):
        return Fraction(expr.value) if exact else expr.value
    if isinstance(expr, Name):
        return values[expr.name]
    if isinstance(expr, Unary):
        inner = _eval(expr.operand, values, exact)
        return ops["neg"](inner) if expr.op == "-" else inner
    if isinstance(expr, Binary):
        return ops[expr.op](_eval(expr.left, values, exact), _eval(expr.right, values, exact))
    args = [_eval(a, values, exact) for a in expr.args]
    if expr.function == "min":
        return min(args)
    if expr.function == "max":
        return max(args)
    if expr.function == "abs":
        return abs(args[0]) if exact else args[0].copy_abs()
    return _half_up_exact(args[0], int(args[1])) if exact else round_half_up(args[0], int(args[1]))


def as_decimal(value: Decimal | Fraction) -> Decimal:
    """A formula's value as a Decimal: itself, or a Fraction to 40 digits (exactly, when it terminates there)."""
    if type(value) is not Fraction:
        return value
    return CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def half_up(value: Decimal | Fraction, places: int) -> Decimal:
    """A formula's value at `places` decimals, halves away from zero; a Fraction is rounded from its exact value."""
    if type(value) is not Fraction:
        return round_half_up(value, places)
    return round_half_up(as_decimal(_half_up_exact(value, places)), places)


def _half_up_exact(value: Fraction, places: int) -> Fraction:
    scale = 10 ** places
    halves_up = (abs(value) * scale + Fraction(1, 2)).__floor__()  # halves away from zero
    return Fraction(halves_up if value >= 0 else -halves_up, scale)


_OPS = {False: {"+": CONTEXT.add, "-": CONTEXT.subtract, "*": CONTEXT.multiply, "/": CONTEXT.divide,
                "neg": CONTEXT.minus},
        True: {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "neg": operator.neg}}


def _divides(expr: Expr) -> bool:
    if isinstance(expr, Binary):
        return expr.op == "/" or _divides(expr.left) or _divides(expr.right)
    if isinstance(expr, Unary):
        return _divides(expr.operand)
    return isinstance(expr, Call) and any(_divides(a) for a in expr.args)


def _render(expr: Expr, name: Callable[[str], str], outer: int = 0) -> str:
    if isinstance(expr, Number):
        return expr.text
    if isinstance(expr, Name):
        return name(expr.name)
    if isinstance(expr, Unary):
        return expr.op + _render(expr.operand, name, 3)
    if isinstance(expr, Binary):
        level = _BINARY[expr.op]
        # the right operand of - and / binds tighter, so it keeps its parentheses at equal precedence
        text = f"{_render(expr.left, name, level)} {expr.op} " \
               f"{_render(expr.right, name, level + (1 if expr.op in '-/' else 0))}"
        return f"({text})" if level < outer else text
    return f"{expr.function}({', '.join(_render(a, name) for a in expr.args)})"


def render(formula: Formula) -> str:
    """The formula in a normal written form (names as written)."""
    return _render(formula.expr, lambda n: n)

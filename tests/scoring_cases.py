"""Schemes, fact builders and fixtures shared by the scoring tests."""
from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

from ledger.scheme import load_scheme
from projections.facts import Adjustment, EvaluationScore, IndicatorScore

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
D = Decimal
_positions = itertools.count(1)


def example(name: str):
    return load_scheme((EXAMPLES / name).read_text(encoding="utf-8"), name)


def score(unit, indicator, value, participates=True):
    n = next(_positions)
    return IndicatorScore(unit, indicator, None if value is None else D(value), f"s{n}", n, participates)


def ev(unit, component, value=None, level=None, votes=None, round=""):
    n = next(_positions)
    return EvaluationScore(unit, component, round, None if value is None else D(value), level, f"v{n}", n, votes)


def adj(unit, rule, status="approved", submitted="2017-12-01T02:00:00Z", document="", origin=None, **inputs):
    n = next(_positions)
    return Adjustment(f"a{n}", unit, rule, {k: str(v) for k, v in inputs.items()}, status, "reason", "proposer",
                      submitted, n, (), n if status == "approved" else None, origin, document)


def fill(unit, items, value):
    """A score for each of the unit's items, all at `value` (or at the item's weight when value is None)."""
    return [score(unit, i, value) for i in items]


BP_TOWN_ITEMS = {  # 乡镇: weight of each leaf (105 in all, as printed)
    "经济发展/税收收入": 12, "经济发展/民营经济发展": 5, "经济发展/村集体经济收入": 3, "生态环境和生态农业建设": 12,
    "农村环境卫生综合整治": 10, "脱贫攻坚": 12, "脱贫攻坚重点民生工作": 10, "农村土地“三权分置”改革工作": 6,
    "社会安全稳定/社会治安综合治理": 5, "社会安全稳定/信访工作": 5, "软环境建设": 5, "党的建设/党建工作责任制": 6,
    "党的建设/党风廉洁建设责任制": 3, "党的建设/作风建设": 3, "党的建设/宣传工作和意识形态工作责任制": 3,
    "党的建设/“德耀北票”行动": 5}


def town_scores(unit, lost: dict[str, str]):
    """Full marks on every 乡镇 item except those in `lost` (item → points)."""
    return [score(unit, item, lost.get(item, str(weight))) for item, weight in BP_TOWN_ITEMS.items()]


def evaluations(unit, 领导评价, 民主测评, 社会评价):
    return [ev(unit, "领导评价", 领导评价), ev(unit, "民主测评", 民主测评), ev(unit, "社会评价", 社会评价)]

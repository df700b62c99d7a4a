"""Grading rules and unit totals shared by the grading tests (HY 25 units, BP 29 townships)."""

import tomllib
from decimal import Decimal

from ledger.grading_rules import parse_grading
from projections.facts import Decision
from projections.grading import GradeInput

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

TIED = HY_TOTALS[:6] + ["83", "83"] + HY_TOTALS[8:]  # H07 and H08 share rank 7 across the 优秀 boundary
BP_BOTTOM_TIE = BP_FEW[:27] + ["73", "73"]  # T28 and T29 share the last rank

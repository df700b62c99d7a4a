"""The tables an assessment office publishes, built from a year's results: per group one sheet with every unit's item
points, evaluation components, bonuses, deductions, total, rank, grade and the reason of its grade; and a sheet
加减分明细 listing every adjustment with what it counted, who proposed and approved it, and its evidence.

Pure: results in, `Sheet`s out; writing files is the CLI's job. Numbers stay Decimal (totals at the group's
published places), so a spreadsheet gets numbers it can sort and sum, and a CSV gets the published text.
"""
from __future__ import annotations

from decimal import Decimal

from ledger.errors import Refused
from ledger.numbers import fixed, show
from ledger.sheets import ADJUSTMENTS, FIELDS, Sheet, header_of

from .adjustment_rules import Entry
from .results import YearResults
from .scoring import UnitScore

ZERO = Decimal(0)
DETAIL_TITLE = "加减分明细"
DETAIL_HEADER = ["编号", "单位", "规则", "输入", "计分", "状态", "提出人", "审批人", "文号", "证据SHA-256", "理由", "说明"]
STATUS = {"approved": "已生效", "pending": "待审批", "rejected": "已驳回", "rescinded": "已撤销"}


def export_sheets(results: YearResults, group: str | None = None) -> list[Sheet]:
    """One result sheet per group (or only `group`), then the adjustment detail sheet."""
    groups = list(dict.fromkeys(u.group for u in results.scores.units))
    if group is not None:
        if group not in groups:
            raise Refused(f"unknown group {group!r} in {results.year}")
        groups = [group]
    return [result_sheet(results, name) for name in groups] + [adjustment_sheet(results, groups)]


def result_sheet(results: YearResults, group: str) -> Sheet:
    """The published table of one group: 单位, item points, components, 加分, 减分, 总分, 排名, 等次, 说明."""
    rows = results.rows(group)
    units = {u.unit: u for u in results.scores.units if u.group == group}
    # every leaf any unit of the group has, in scheme order (a unit whose item moved elsewhere leaves it blank)
    items = list(dict.fromkeys(i.id for u in units.values() for i in u.items))
    components = list(dict.fromkeys(c.name for u in units.values() for c in u.components))
    header = ["单位", *items, *components, "加分", "减分", "总分", "排名", "等次", "说明"]
    places = next(iter(units.values())).places if units else 2
    sheet = Sheet(group, header, formats={"总分": "0." + "0" * places if places else "0"})
    for row in rows:
        score = units[row["unit"]]
        points = {i.id: _number(i.points) for i in score.items}
        values = {c.name: _number(c.value) for c in score.components}
        bonus, deduction = _bonus_deduction(score)
        grade = row["grade"] or ("待定" if row["pending"] else "")
        sheet.rows.append([score.unit, *[points.get(i) for i in items], *[values.get(c) for c in components],
                           bonus, deduction, _published(score), row["rank"], grade, "; ".join(row["reasons"])])
    return sheet


def adjustment_sheet(results: YearResults, groups: list[str]) -> Sheet:
    """Every adjustment bearing on the groups' units: counted points (after caps), status, proposer, approvers,
    document and evidence, reason, and why it counts less or nothing."""
    units = [u for u in results.scores.units if u.group in groups]
    counted: dict[str, tuple[Decimal | None, list[str]]] = {}
    for score in units:
        for entry in score.adjustments:
            _count_entry(entry, counted)
        for dropped in score.not_counted:
            counted[dropped.id] = (ZERO, [f"未计入: {dropped.reason}"])
    names = {u.unit for u in units}
    sheet = Sheet(DETAIL_TITLE, list(DETAIL_HEADER))
    for adj in sorted(results.facts.adjustments, key=lambda a: (a.position, a.id)):
        if adj.unit not in names:
            continue
        points, notes = counted.get(adj.id, (None, []))
        if adj.origin_year is not None:
            notes = [f"转自{adj.origin_year}年度", *notes]
        status = STATUS.get(adj.status) or _carried(adj.status)
        sheet.rows.append([adj.id, adj.unit, adj.rule, _inputs(adj.inputs), points, status, adj.proposed_by,
                           "、".join(adj.approvals), adj.document, adj.evidence_sha256, adj.reason,
                           "; ".join(notes)])
    return sheet


def _count_entry(entry: Entry, counted: dict) -> None:
    notes = list(entry.notes)
    if entry.rule.indicator:
        notes.insert(0, f"计入指标 {entry.rule.indicator}")
    first, *rest = entry.adjustments
    if rest:
        notes.append(f"与 {', '.join(a.id for a in rest)} 合计计分 (how: {entry.how})")
    counted[first.id] = (_number(entry.counted), notes)
    for adj in rest:
        # a summed figure counts once: its points stand on the first adjustment, so the column adds up
        counted[adj.id] = (None, [f"计入 {first.id} 的合计"])


def _bonus_deduction(score: UnitScore) -> tuple[Decimal, Decimal]:
    """Counted bonuses and deductions of the adjustment term (rules scoring into an item are in that item)."""
    term = [e.counted for e in score.adjustments if not e.rule.indicator]
    return _number(sum((c for c in term if c > 0), ZERO)), _number(sum((c for c in term if c < 0), ZERO))


def _published(score: UnitScore) -> Decimal | None:
    return None if score.total is None else Decimal(fixed(score.total, score.places))


def _number(value: Decimal) -> Decimal:
    """The value in canonical form (80, not 80.000), so that cells show what `ledger explain` shows."""
    return Decimal(show(value))


def _inputs(inputs) -> str:
    """Rule inputs labelled with the import sheet's column names: 级别=省级; 事项=文明单位."""
    label = lambda k: header_of(k, ADJUSTMENTS) if k in FIELDS else k  # noqa: E731
    return "; ".join(f"{label(k)}={v}" for k, v in sorted(inputs.items()))


def _carried(status: str) -> str:
    if status.startswith("carried over to "):
        return f"转入{status.rsplit(' ', 1)[-1]}年度"
    return status

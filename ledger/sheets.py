"""Spreadsheets in: a department's score sheet or adjustment list read from .xlsx or .csv into numbered rows, and the
layout of the blank templates the office hands out.

Reading is faithful, never helpful: cell text is kept exactly as typed (a unit name with a trailing space or a
full-width letter stays wrong and is reported by the importer), numbers typed as numbers become the decimal text
Excel shows, and a file that cannot be read is refused in one line. Two things only are let pass: a number typed
as text with spaces around it (" 4.5 ", full-width spaces too) is read without them, since the spaces mean no
other number; and a row with nothing to import (blank, or only the template's reference columns) is skipped and
counted. Columns are found by their header, Chinese or English, in any order; a header nobody knows is refused,
because a misspelled input column would otherwise be dropped without a word.
"""
from __future__ import annotations

import csv
import io
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import LedgerError
from .numbers import show

SCORES, ADJUSTMENTS = "scores", "adjustments"
KINDS = (SCORES, ADJUSTMENTS)
HEADER_SEARCH = 20  # a sheet may carry a title and notes above its header row

# field -> (the header a template writes, other accepted headers). "points" is 得分 on a score sheet and 分值 on an
# adjustment list (the points chosen under a range or area rule); either header is read as either.
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unit": ("单位", ("unit", "考核对象", "被考核单位")),
    "indicator": ("指标", ("indicator",)),
    "points": ("得分", ("分值", "points")),
    "rule": ("规则", ("rule",)),
    "option": ("选项", ("option",)),
    "count": ("数量", ("count",)),
    "amount": ("金额", ("amount",)),
    "rank": ("名次", ("rank",)),
    "tied": ("并列", ("tied",)),
    "matter": ("事项", ("matter",)),
    "level": ("级别", ("level",)),
    "area": ("领域", ("area",)),
    "entity": ("村", ("entity",)),
    "target": ("目标", ("target",)),
    "date": ("日期", ("date",)),
    "reason": ("理由", ("reason", "note")),
    "document": ("文号", ("document",)),
}
# Columns a template adds for the reader's benefit; an importer reads past them.
INFO_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "group": ("分组", ("group", "组")),
    "weight": ("满分", ("weight",)),
    "no": ("序号", ("no",)),
    "department": ("考核部门", ("department",)),
    "title": ("名称", ("title",)),
}
SCORE_FIELDS = ("unit", "indicator", "points", "reason")
INPUT_FIELDS = ("option", "points", "count", "amount", "rank", "tied", "level", "area", "entity", "target",
                "matter", "date")  # what an adjustment row passes to its rule as inputs (when not empty)
ADJUSTMENT_FIELDS = ("unit", "rule") + INPUT_FIELDS + ("reason", "document")
NUMBER_FIELDS = ("points", "count", "amount", "rank", "tied", "target")  # parsed as numbers: spaces around dropped


def header_of(name: str, kind: str = SCORES) -> str:
    """The header a template writes for a field (points: 得分 on a score sheet, 分值 on an adjustment list)."""
    if name == "points" and kind == ADJUSTMENTS:
        return "分值"
    return (FIELDS.get(name) or INFO_FIELDS[name])[0]


def _fold_header(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


_HEADERS = {_fold_header(h): name for table in (FIELDS, INFO_FIELDS)
            for name, (first, more) in table.items() for h in (first, *more)}


@dataclass(frozen=True)
class Row:
    """One data row: its row number as the spreadsheet shows it, the sheet's kind, and its cells by field name.

    `values` holds every column the sheet has ("" for an empty cell); `problem` is set when the row itself could
    not be read cleanly (a value in a column without a header)."""

    number: int
    kind: str
    values: Mapping[str, str]
    problem: str = ""

    def get(self, name: str) -> str:
        return self.values.get(name, "")


@dataclass(frozen=True)
class SheetRows:
    """The data rows of a sheet, and how many rows below its header had nothing to import and were skipped."""

    rows: list[Row]
    blank: int = 0


@dataclass
class Sheet:
    """A table to write: a title, a header row and data rows (str, int, Decimal or None cells).

    `formats` maps a header to an Excel number format (e.g. "0.00" for a published total)."""

    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)


# ---- reading --------------------------------------------------------------------------------------------------------

def read_rows(path: str | Path, kind: str | None = None) -> SheetRows:
    """The data rows of a score sheet or adjustment list (.xlsx: its first worksheet; .csv: UTF-8 or GB18030).

    `kind` is scores or adjustments; without it the header decides (指标 → scores, 规则 → adjustments)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if kind is not None and kind not in KINDS:
        raise LedgerError(f"kind {kind!r} must be one of {', '.join(KINDS)}")
    if not path.is_file():
        raise LedgerError(f"{path.name}: no such file")
    if suffix in (".xlsx", ".xlsm"):
        table, note = _xlsx_cells(path), ""
    elif suffix == ".csv":
        table, note = _csv_cells(path)
    elif suffix == ".xls":
        raise LedgerError(f"{path.name}: the old .xls format cannot be read; save it as .xlsx or CSV")
    else:
        raise LedgerError(f"{path.name}: not a spreadsheet (.xlsx or .csv)")
    return _rows(path.name, table, kind, note)


def _xlsx_cells(path: Path) -> list[tuple[int, list[str]]]:
    import openpyxl

    try:
        # data_only: a formula cell is read as the value Excel computed and saved with it
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged workbook fails in zip, XML or openpyxl code alike
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise LedgerError(f"{path.name}: not a readable .xlsx file ({detail}); is it truncated or another "
                          "format?") from None
    try:
        sheet = book.worksheets[0]
        return [(cells[0].row, [cell_text(c.value) for c in cells]) for cells in sheet.iter_rows() if cells]
    finally:
        book.close()


def _csv_cells(path: Path) -> tuple[list[tuple[int, list[str]]], str]:
    data = path.read_bytes()
    text, note = decode_csv(data, path.name)
    try:
        return [(n, cells) for n, cells in enumerate(csv.reader(io.StringIO(text, newline="")), 1)], note
    except csv.Error as exc:
        raise LedgerError(f"{path.name}: not a readable CSV file ({exc})") from None


def decode_csv(data: bytes, name: str = "file") -> tuple[str, str]:
    """CSV bytes as text: UTF-8 (with or without BOM) if they decode strictly, else GB18030 (what Chinese Excel
    writes by default). Returns the text and a note naming the encoding when it was not UTF-8."""
    if data.startswith(b"PK\x03\x04"):
        raise LedgerError(f"{name}: this is an .xlsx workbook named .csv; rename it to .xlsx")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LedgerError(f"{name}: the file is UTF-16 (Excel's 'Unicode text'); save it as 'CSV UTF-8' instead")
    if b"\x00" in data:
        raise LedgerError(f"{name}: the file holds NUL bytes: it is not CSV text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "read as GB18030"
    except UnicodeDecodeError as exc:
        raise LedgerError(f"{name}: the text is neither UTF-8 nor GB18030 (bad byte at offset {exc.start}); "
                          "save it as 'CSV UTF-8'") from None


def cell_text(value: Any) -> str:
    """A cell's value as the text the ledger parses: numbers as Excel shows them (15 significant digits, no
    exponent), days as YYYY-MM-DD, text exactly as typed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)  # refused later as not a decimal number
        # Excel keeps 15 significant digits; the binary tail beyond them (0.30000000000000004) is not what was typed
        try:
            return show(Decimal(format(value, ".15g")))
        except InvalidOperation:  # pragma: no cover - format() of a finite float always parses
            return str(value)
    if isinstance(value, Decimal):
        return show(value) if value.is_finite() else str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _rows(name: str, table: list[tuple[int, list[str]]], kind: str | None, note: str) -> list[Row]:
    start = next((i for i, (_, cells) in enumerate(table[:HEADER_SEARCH])
                  if any(_HEADERS.get(_fold_header(c)) == "unit" for c in cells)), None)
    if start is None:
        hint = f" ({note}; if the text looks garbled, save the file as 'CSV UTF-8')" if note else ""
        raise LedgerError(f"{name}: no header row with a 单位/unit column in the first {HEADER_SEARCH} rows{hint}")
    header_row, header = table[start]
    columns = _columns(name, header_row, header)
    kind = _kind(name, columns, kind)
    rows, blank = [], 0
    for number, cells in table[start + 1:]:
        values = {f: (cells[i] if i < len(cells) else "") for i, f in columns.items() if f in FIELDS}
        stray = [i for i, c in enumerate(cells) if not _empty(c) and i not in columns]
        if not stray and all(_empty(v) for v in values.values()):
            # blank rows separate blocks in hand-made sheets, and a numbered form (序号) runs on below its last
            # entry: they carry nothing, and listing each as a bad row would bury the real ones
            blank += 1
            continue
        for f in NUMBER_FIELDS:
            if f in values:
                values[f] = values[f].strip()  # str.strip: every Unicode space, U+3000 included
        problem = (f"a value in column {_column_letter(stray[0])} ({cells[stray[0]][:40]!r}), which has no header"
                   if stray else "")
        rows.append(Row(number, kind, values, problem))
    if not rows:
        raise LedgerError(f"{name}: no data rows below the header (row {header_row})")
    return SheetRows(rows, blank)


def _empty(text: str) -> bool:
    """Nothing but spaces and invisible format characters (a zero-width space, a BOM): nothing a reader sees."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def _columns(name: str, number: int, header: Sequence[str]) -> dict[int, str]:
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    for i, text in enumerate(header):
        if not text.strip():
            continue
        field_name = _HEADERS.get(_fold_header(text))
        if field_name is None:
            known = ", ".join(f"{first}/{next(h for h in more if h.isascii())}" for first, more in FIELDS.values())
            raise LedgerError(f"{name}: unknown column {text.strip()!r} in header row {number} (known: {known})")
        if field_name in seen:
            raise LedgerError(f"{name}: columns {_column_letter(seen[field_name])} and {_column_letter(i)} both "
                              f"hold {field_name} ({header_of(field_name)})")
        seen[field_name] = i
        columns[i] = field_name
    return columns


def _kind(name: str, columns: Mapping[int, str], kind: str | None) -> str:
    present = set(columns.values())
    if kind is None:
        if ("indicator" in present) == ("rule" in present):
            raise LedgerError(f"{name}: cannot tell a score sheet (指标 column) from an adjustment list (规则 column); "
                              "give --kind")
        kind = SCORES if "indicator" in present else ADJUSTMENTS
    allowed = set(SCORE_FIELDS if kind == SCORES else ADJUSTMENT_FIELDS) | set(INFO_FIELDS)
    wrong = [f for f in columns.values() if f not in allowed]
    if wrong:
        other = "an adjustment list" if kind == SCORES else "a score sheet"
        raise LedgerError(f"{name}: column {header_of(wrong[0], kind)} belongs to {other}, not to "
                          f"{'a score sheet' if kind == SCORES else 'an adjustment list'}")
    needed = ("unit", "indicator", "points") if kind == SCORES else ("unit", "rule", "reason")
    missing = [header_of(f, kind) for f in needed if f not in present]
    if missing:
        raise LedgerError(f"{name}: a {'score sheet' if kind == SCORES else 'adjustment list'} needs column(s) "
                          f"{', '.join(missing)}")
    return kind


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ---- templates ------------------------------------------------------------------------------------------------------

def template_sheets(scheme, group_name: str, kind: str, department: str | None = None) -> list[Sheet]:
    """Blank sheets for a group of the scheme: a score sheet with one row per (unit, leaf item), or an adjustment
    list's header with a second sheet describing every rule that applies to the group and the inputs it takes.

    `department` keeps only the items or rules that department assesses."""
    group = scheme.group(group_name)
    if kind == SCORES:
        header = [header_of(f) for f in ("group", "unit", "indicator", "weight", "points", "reason")]
        sheet = Sheet("得分", header, formats={"满分": "0.##"})
        for unit in group.units:
            for item in group.leaves_for(unit):
                if department is None or item.assessed_by(department):
                    sheet.rows.append([group.name, unit, item.id, item.weight, None, None])
        if not sheet.rows:
            raise LedgerError(f"no leaf item of group {group.name} is assessed by {department}")
        return [sheet]
    if kind != ADJUSTMENTS:
        raise LedgerError(f"kind {kind!r} must be one of {', '.join(KINDS)}")
    rules = [r for r in scheme.rules.values() if r.applies_to_group(group.name)
             and (department is None or r.assessed_by(department))]
    if not rules:
        raise LedgerError(f"no rule applies to group {group.name}" + (f" for {department}" if department else ""))
    listing = Sheet("规则", ["规则", "名称", "类型", "考核部门", "必填列", "可填列", "取值", "审批", "截止", "需文号"])
    for rule in rules:
        listing.rows.append([rule.id, rule.title, rule.kind, rule.department or "考核办", *_input_columns(rule),
                             _describe_params(rule.params), "、".join(rule.approvers) or "无需审批", _deadline(rule),
                             "是" if rule.requires_document else ""])
    return [Sheet("加减分", [header_of(f, ADJUSTMENTS) for f in ADJUSTMENT_FIELDS]), listing]


def _input_columns(rule) -> tuple[str, str]:
    spec = rule.spec
    needed = list(spec.required) + (["matter"] if rule.same_matter else []) + (["date"] if rule.deadline_days else [])
    optional = [k for k in spec.optional + ("matter", "date") if k not in needed]
    choices = rule.params.get("options", rule.params.get("ranges", {}))
    if "" in choices:  # one price or one range for the whole rule: there is no option to give
        optional.remove("option")
    label = lambda keys: "、".join(header_of(k, ADJUSTMENTS) if k in FIELDS else k for k in keys)  # noqa: E731
    return label(needed), label(optional)


def _deadline(rule) -> str:
    parts = [rule.deadline.isoformat()] if rule.deadline else []
    if rule.deadline_days is not None:
        parts.append(f"{rule.deadline_days}日内")
    return "; ".join(parts)


def _describe_params(params: Mapping[str, Any]) -> str:
    """A rule's settings: the one that matters alone ("市级=1; 省级=2"), several as "name: value | …"."""
    shown = {k: _describe(v) for k, v in params.items() if v not in (None, "", {}, ())}
    if len(shown) == 1:
        return next(iter(shown.values()))
    return " | ".join(f"{k}: {v}" for k, v in shown.items())


def _describe(value: Any) -> str:
    """A rule's settings as short text: "市级=1; 省级=2", "1…3", bands "1–10: 0.5"."""
    if isinstance(value, Decimal):
        return show(value)
    if isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            if item in (None, "", {}, ()):
                continue
            text = _describe(item)
            parts.append(text if key == "" else f"{key}={text}")
        return "; ".join(parts)
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and all(isinstance(v, Decimal) for v in value):
            return f"{show(value[0])}…{show(value[1])}"
        if len(value) == 3 and isinstance(value[0], int) and isinstance(value[2], Decimal):
            return f"{value[0]}–{value[1]}: {show(value[2])}"
        return ", ".join(_describe(v) for v in value)
    return str(value)


def fold_name(text: str) -> str:
    """A name with look-alike differences removed (NFKC full-width → half-width, all whitespace and invisible format
    characters dropped): only for suggesting the name that was meant, never for matching."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def suggest(name: str, known: Iterable[str]) -> str | None:
    """The known name `name` matches after folding, if exactly one does."""
    folded = fold_name(name)
    hits = [k for k in known if fold_name(k) == folded and k != name]
    return hits[0] if len(hits) == 1 else None

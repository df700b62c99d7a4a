"""Commands over a stored event edited in the database into something that is not the signed act it was (the SQL row
of the ledger of tests/test_tamper.py, edited with SQL): each command that reads it stops with one line naming its
position and pointing to `ledger verify`, exit 1, nothing appended; `verify` reports it as before; a rebuild that
meets it leaves the read models as they were, and they answer again once the row is put back, without a rebuild."""
from __future__ import annotations

import json
import re
import uuid

import pytest

from ledger.store import EventStore
from ledger.stored import Damaged
from projections import readmodel
from tests.hy_ledger import UNIT
from tests.test_crash import snapshot
from tests.test_tamper import SIZE, case, failed  # noqa: F401 (case is the fixture)

POSITION = 6  # the first score (办公室 70, stream version 1), folded into the read models when the copy was made
ADJUSTMENT = 9  # the adjustment's proposal (its approval is at 10)


def _state(change):
    """An edit of the stored state's JSON object."""
    def edit(raw, position: int) -> None:
        (state,) = raw.sql(f"SELECT state FROM {raw.table} WHERE {raw.id} = ?", (position,))[0]
        doc = json.loads(bytes(state))
        change(doc)
        _set(raw, position, "state", json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return edit


def _bytes(change):
    def edit(raw, position: int) -> None:
        (state,) = raw.sql(f"SELECT state FROM {raw.table} WHERE {raw.id} = ?", (position,))[0]
        _set(raw, position, "state", change(bytes(state)))
    return edit


def _column(name: str, value):
    def edit(raw, position: int) -> None:
        _set(raw, position, name, value(raw) if callable(value) else value)
    return edit


def _set(raw, position: int, column: str, value) -> None:
    raw.sql(f"UPDATE {raw.table} SET {column} = ? WHERE {raw.id} = ?", (value, position))


def _new_stream(raw):
    stream = uuid.uuid4()
    return stream if raw.pg else stream.hex


# the kind of corruption -> (the edit, what the one line says is wrong, in verify's words where it has them)
EDITS = {
    "state not JSON": (_bytes(lambda s: s[:-3]), "stored event is not a signed act (its stored state is not JSON)"),
    "state a JSON array": (_bytes(lambda s: b"[1, 2]"), "(its stored state is not a JSON object)"),
    "no envelope": (_state(lambda d: d.pop("envelope")), "(its stored state holds no envelope object)"),
    "envelope as text": (_state(lambda d: d.update(envelope="x")), "(its stored state holds no envelope object)"),
    "no signature": (_state(lambda d: d.pop("signature")), "(its stored state holds no signature object)"),
    "no record time": (_state(lambda d: d.pop("timestamp")), "(its stored state holds no record time)"),
    "envelope without its type": (_state(lambda d: d["envelope"].pop("type")), "envelope: missing field 'type'"),
    "envelope without its act": (_state(lambda d: d["envelope"].pop("act")), "envelope: missing field 'act'"),
    "act as a list": (_state(lambda d: d["envelope"].update(act=[1])), "envelope: field 'act' has the wrong type"),
    "type a number": (_state(lambda d: d["envelope"].update(type=5)), "envelope: field 'type' has the wrong type"),
    "version as text": (_state(lambda d: d["envelope"].update(version="1")),
                        "stored as version 1 but signed as version '1'"),
    "act without its year": (_state(lambda d: d["envelope"]["act"].pop("year")),
                             "score.recorded: missing field 'year'"),
    "stream column": (_column("originator_id", _new_stream), "but signed for stream "),
    "version column": (_column("originator_version", 2), "stored as version 2 but signed as version 1"),
    "topic column": (_column("topic", "kaohe:Stream.Appended"),
                     "stored with topic kaohe:Stream.Appended, expected kaohe:Stream.Opened"),
}
ENVELOPE_KEPT = {"no signature", "envelope without its type", "envelope without its act", "act as a list",
                 "type a number", "version as text", "act without its year", "stream column", "version column",
                 "topic column"}  # the line names the event by the id verify gives its envelope
TIME_LOST = {"state not JSON", "state a JSON array", "no record time"}  # `history` and `who` read the record time
ACT_ONLY = {"act without its year"}  # the envelope is whole: `log` lists it as it is, `diff` cannot fold it

LINE = re.compile(r"Error: event at position (\d+)( \(([0-9a-f]{12})\))?: (.+); the event store was edited or "
                  r"damaged \(`ledger verify` checks every event\)")


def error_line(result) -> str:
    """The one stderr line of a failed command as `Error: …`, also when `--format json` gave it as JSON."""
    text = result.err.strip()
    if text.startswith("{"):
        error = json.loads(text)
        assert error["exit"] == result.code, text
        return f"Error: {error['error']}"
    return text


def refused_at(result, position: int, problem: str = "", event_id: bool | None = None) -> str:
    """Assert exit 1 with one stderr line in the shape of `ledger.stored.Damaged`, naming `position` and `problem`
    (and an event id, if `event_id`), and no exception's name or traceback anywhere."""
    assert result.code == 1, f"exit {result.code}: {result.out}{result.err}"
    text = error_line(result)
    assert "\n" not in text and "Traceback" not in result.out + result.err, result.err
    match = LINE.fullmatch(text)
    assert match and int(match[1]) == position, text
    assert problem in match[4], f"{problem!r} not in {text!r}"
    assert not re.search(r"[a-z](Error|Exception)\b", match[4]), text
    if event_id is not None:
        assert bool(match[3]) == event_id, text
    return text


def _views(tmp) -> dict[str, list[str]]:
    """The commands that read the read models (and the catch-up before them), with their arguments."""
    return {"scores": ["scores", "--year", "2017", "--format", "json"],
            "grades": ["grades", "--year", "2017", "--format", "json"],
            "explain": ["explain", "--year", "2017", "--unit", UNIT],
            "history": ["history", "--unit", UNIT, "--format", "json"],
            "who": ["who", "--year", "2017", "--unit", UNIT, "--format", "json"],
            "as-of": ["scores", "--year", "2017", "--as-of", "10", "--format", "json"],
            "pending": ["pending", "--format", "json"],
            "consequences": ["consequences", "--year", "2017", "--format", "json"],
            "export": ["export", "--year", "2017", "--out", str(tmp / "2017.csv")]}


def _answers(case, tmp, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    out = {}
    for name, args in _views(tmp).items():
        if name in skip:
            continue
        res = case.run(*args)
        assert res.code == 0, f"{name}: {res.err}"
        out[name] = (res.out.replace(str(tmp), "<tmp>"), (tmp / "2017.csv").read_bytes() if name == "export" else b"")
    return out


_UNTOUCHED: dict[str, dict[str, tuple]] = {}


def _untouched(case, tmp) -> dict[str, tuple]:
    """The views of the untouched copy: every test starts from the same base ledger, so they are read once a
    backend (each view run costs a fifth of a second on PostgreSQL, and there are 9 a test)."""
    if case.base.url not in _UNTOUCHED:
        _UNTOUCHED[case.base.url] = _answers(case, tmp)
    return _UNTOUCHED[case.base.url]


def _count(case) -> int:
    return case.raw.sql(f"SELECT count(*) FROM {case.raw.table}")[0][0]


def _correction(case) -> list[str]:
    """A correction of the score at POSITION: the writer loads its stream before any check."""
    return ["score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "71",
            "--note", "复核", "--sign-with", case.base.keys["kh"]]


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_event_stops_every_command_that_reads_it_and_a_failed_rebuild_keeps_the_views(case, tmp_path,
                                                                                              edit):
    change, problem = EDITS[edit]
    before, (state,) = _untouched(case, tmp_path), case.raw.sql(
        f"SELECT originator_id, originator_version, topic, state FROM {case.raw.table} WHERE {case.raw.id} = ?",
        (POSITION,))
    change(case.raw, POSITION)
    with_id = edit in ENVELOPE_KEPT
    line = refused_at(case.run("rebuild"), POSITION, problem, with_id)
    if edit not in ACT_ONLY:
        refused_at(case.run("log"), POSITION, problem, with_id)
    refused_at(case.run("diff", "--year", "2017", "--from", "5", "--to", "10"), POSITION, problem, with_id)
    rows = _count(case)
    correction = case.run(*_correction(case))
    if edit in ACT_ONLY | {"stream column"}:
        # the writer reads an act's fields as it checks them (here the closed year comes first), and does not see
        # an event moved out of the stream, as it does not see a deleted one (verify and bundle export do)
        assert correction.code == 1 and "is closed" in correction.err
    else:
        refused_at(correction, POSITION, problem, with_id)
    bundle = case.run("bundle", "export", str(tmp_path / "b.zip"))
    assert bundle.code == 1 and f"event at position {POSITION}" in bundle.err and "edited or damaged" in bundle.err
    assert not (tmp_path / "b.zip").exists()
    assert _count(case) == rows  # nothing appended
    # verify reports it as it did, with its other failures (a state edit also breaks the leaf and the tree heads)
    reported = failed(case.verify(), f"position {POSITION}")
    if with_id:
        assert LINE.fullmatch(line)[3] in reported
    # the read models are those the failed rebuild found: every view answers as before (but those that read the
    # stored record time), a second rebuild stops alike
    reading = ("history", "who") if edit in TIME_LOST else ()
    for name in reading:
        refused_at(case.run(*_views(tmp_path)[name]), POSITION, problem, with_id)
    assert _answers(case, tmp_path, skip=reading) == {k: v for k, v in before.items() if k not in reading}
    assert refused_at(case.run("rebuild"), POSITION, problem) == line
    # the row put back: the views answer without a rebuild, and a rebuild holds
    case.raw.sql(f"UPDATE {case.raw.table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? "
                 f"WHERE {case.raw.id} = ?", (*state, POSITION))
    assert _answers(case, tmp_path) == before
    case.run("rebuild").ok()
    assert _answers(case, tmp_path, skip=tuple(set(before) - {"scores", "history"})) == \
        {k: before[k] for k in ("scores", "history")}
    case.verify().ok()


@pytest.mark.parametrize("edit", ["state not JSON", "no envelope", "no signature", "envelope without its type",
                                  "act without its year", "stream column", "version column"])
def test_an_edited_event_the_views_have_not_folded_stops_every_view_until_it_is_put_back(case, tmp_path, edit):
    change, problem = EDITS[edit]
    before = _untouched(case, tmp_path)
    (state,) = case.raw.sql(f"SELECT originator_id, originator_version, state FROM {case.raw.table} "
                            f"WHERE {case.raw.id} = ?", (POSITION,))
    _views_behind(case, POSITION - 1)  # as a restore or a crash leaves them: every view folds the rest first
    change(case.raw, POSITION)
    for args in _views(tmp_path).values():
        refused_at(case.run(*args), POSITION, problem)
    refused_at(case.run("rebuild"), POSITION, problem)
    assert _views_at(case) == POSITION - 1
    # a signed act brings the views up to date before it is checked, so it stops there, before it is appended
    refused_at(case.run("checkpoint", "--sign-with", case.base.keys["office"], "--out", str(tmp_path / "cp.txt")),
               POSITION, problem)
    assert _count(case) == SIZE and not (tmp_path / "cp.txt").exists()
    case.raw.sql(f"UPDATE {case.raw.table} SET originator_id = ?, originator_version = ?, state = ? "
                 f"WHERE {case.raw.id} = ?", (*state, POSITION))
    assert _answers(case, tmp_path) == before


def _views_at(case) -> int:
    (position,) = case.raw.sql("SELECT position FROM rm_state WHERE name = 'views'")[0]
    return int(position)


def _views_behind(case, position: int) -> None:
    """Take the read models back to `position`, as if the events after it had not been folded yet."""
    for table in readmodel.TABLES:
        case.raw.sql(f"DELETE FROM {table.name} WHERE pos > ?", (position,))
    case.raw.sql("UPDATE rm_values SET until_pos = NULL WHERE until_pos > ?", (position,))
    (nid,) = case.raw.sql("SELECT notification_id FROM kaohe_log WHERE seq = ?", (position,))[0]
    case.raw.sql("UPDATE rm_state SET position = ?, notification_id = ? WHERE name = 'views'", (position, nid))


SIGNATORY = 3  # 财政局's officer: every signed act reads the registry
REGISTRY_EDITS = {name: EDITS[name] for name in ("state not JSON", "no signature", "type a number",
                                                  "envelope without its act")}
REGISTRY_EDITS["topic column"] = (_column("topic", "kaohe:Stream.Opened"),
                                  "stored with topic kaohe:Stream.Opened, expected kaohe:Stream.Appended")


@pytest.mark.parametrize("edit", list(REGISTRY_EDITS))
def test_a_signed_act_is_refused_before_it_is_checked_against_a_stream_with_an_edited_event(case, tmp_path, edit):
    keys = case.base.keys
    change, problem = REGISTRY_EDITS[edit]
    new_key = case.run.key("ww") + ".pub"
    change(case.raw, SIGNATORY)
    rows = _count(case)
    refused_at(case.run("checkpoint", "--sign-with", keys["office"], "--out", str(tmp_path / "cp.txt")), SIGNATORY,
               problem)
    refused_at(case.run("signatory", "add", "--person", "王五", "--role", "组长", "--valid-from", "2017-01-01",
                        "--public-key", new_key, "--sign-with", keys["office"]), SIGNATORY, problem)
    assert _count(case) == rows and not (tmp_path / "cp.txt").exists()


def test_an_adjustment_with_an_edited_event_is_refused_by_position(case):
    EDITS["envelope without its act"][0](case.raw, ADJUSTMENT)
    refused_at(case.run("adjust", "rescind", _adjustment_id(case), "--reason", "撤回",
                        "--sign-with", case.base.keys["kh"]), ADJUSTMENT, "envelope: missing field 'act'", True)


def _adjustment_id(case) -> str:
    (row,) = [r for r in case.raw.rows() if r.state["envelope"]["type"] == "adjustment.proposed"]
    return row.stream[:8]


def test_the_genesis_edited_stops_every_command_that_opens_the_ledger(case, tmp_path):
    EDITS["state a JSON array"][0](case.raw, 1)
    for args in (["scores", "--year", "2017"], ["log"], ["rebuild"],
                 ["checkpoint", "--sign-with", case.base.keys["office"], "--out", str(tmp_path / "cp.txt")]):
        refused_at(case.run(*args), 1, "(its stored state is not a JSON object)", False)


def test_a_rebuild_stopped_by_an_edited_event_leaves_every_read_model_row_and_raises_damaged(case):
    store = EventStore(case.url)
    try:
        held, at = snapshot(store), readmodel.position(store.engine)
        EDITS["act without its year"][0](case.raw, POSITION)
        with pytest.raises(Damaged) as refused:
            readmodel.rebuild(store, batch=4)  # batches before the event's were folded: rolled back with it
        assert (refused.value.position, refused.value.problem) == (POSITION, "score.recorded: missing field 'year'")
        assert snapshot(store) == held and readmodel.position(store.engine) == at
    finally:
        store.close()


def test_a_value_edited_past_the_fold_is_named_when_a_view_reads_it_and_the_views_say_so_once_it_is_put_back(
        case, tmp_path):
    # the rebuild folds a score without reading its value: the views that score it find it, by EAFP
    scores = _views(tmp_path)["scores"]
    before = case.run(*scores).ok().out
    (state,) = case.raw.sql(f"SELECT state FROM {case.raw.table} WHERE {case.raw.id} = ?", (POSITION,))[0]
    _state(lambda d: d["envelope"]["act"].update(value=[70]))(case.raw, POSITION)
    case.run("rebuild").ok()
    for name in ("scores", "grades", "explain", "history", "as-of", "export"):
        refused_at(case.run(*_views(tmp_path)[name]), POSITION, "score.recorded: field 'value' has the wrong type",
                   True)
    _set(case.raw, POSITION, "state", state)
    res = case.run(*scores)
    assert res.code == 1 and error_line(res).startswith("Error: the read models hold a recorded value that does not "
                                                        "read (recorded value must be written as text")
    assert "`ledger rebuild` refills them" in res.err and "Traceback" not in res.err and "\n" not in res.err.strip()
    case.run("rebuild").ok()
    assert case.run(*scores).ok().out == before

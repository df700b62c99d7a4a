"""The read models: folded incrementally or rebuilt they hold the same rows; a view of them equals a replay; an older
table layout is replaced; and `view_problems` names every edited, missing, misplaced or extra row."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.test_crash import _signed_county

PART = 4000  # acts stored before the first catch-up: the county's scores, evaluations and some adjustments


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> tuple[str, list]:
    """A SQLite ledger of the generated county, folded in two catch-ups; and its signed acts."""
    from ledger.bulk import append_many
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from projections import readmodel

    acts = _signed_county()
    db = str(tmp_path_factory.mktemp("rm") / "ledger.db")
    ledger = Ledger(EventStore(db))
    append_many(ledger, acts[:PART])
    readmodel.catch_up(ledger.store, batch=997)
    append_many(ledger, acts[PART:])  # corrections and approvals of values and adjustments folded before
    readmodel.catch_up(ledger.store, batch=997)
    ledger.store.close()
    return db, acts


@pytest.fixture
def store(county, tmp_path):
    from ledger.store import EventStore

    copy = str(tmp_path / "copy.db")
    with sqlite3.connect(county[0]) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    opened = EventStore(copy)
    yield opened
    opened.close()


def _tables(store) -> dict:
    from projections import readmodel

    with store.engine.connect() as conn:
        out = {t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.pos))] for t in readmodel.TABLES}
        out["rm_state"] = conn.execute(select(readmodel.rm_state.c.name, readmodel.rm_state.c.position)).all()
    return out


def test_incremental_folds_equal_a_rebuild(store):
    from projections import readmodel

    folded = _tables(store)
    assert sum(len(rows) for rows in folded.values()) > 9000
    assert any(r[6] is not None for r in folded["rm_values"])  # corrections superseded earlier values
    readmodel.rebuild(store)
    assert _tables(store) == folded


def test_views_equal_a_replay_at_past_positions(store):
    from projections.readstate import year_state
    from projections.replay import replay
    from projections.results import year_results

    size = readmodel_size(store)
    for at in (PART - 1, PART + 500, size):
        read = year_results(year_state(store, 2017, at), 2017)
        replayed = year_results(replay(store, at), 2017)
        assert read.result_hash() == replayed.result_hash()
        assert read.rows() == replayed.rows()


def test_the_review_queue_equals_a_replays(store):
    # the queue reads only the adjustments whose streams are short enough to be waiting (projections.review)
    from ledger.writer import Ledger
    from projections.replay import replay
    from projections.review import pending, review_state

    ledger = Ledger(store)
    replayed = pending(replay(store))
    assert len(replayed) > 10
    assert pending(review_state(ledger)) == replayed
    assert pending(review_state(ledger, 2017)) == replayed


def test_a_units_history_from_its_groups_rows_equals_a_replays(store):
    # history and who read only the rows of the unit's group (projections.readstate.unit_scope_acts)
    from projections.history import unit_history, who_changed

    size = readmodel_size(store)
    for unit, upto in (("巴图营乡", None), ("三宝管理区", PART + 500), ("司法局", None), ("邮储银行", PART - 1)):
        scoped = unit_history(store, unit, None, upto)
        assert len(scoped) > 5 and all(r.recorded_at for r in scoped)
        assert scoped == unit_history(store, unit, None, upto, replayed=True)
        assert who_changed(store, unit, 2017, upto) == who_changed(store, unit, 2017, upto, replayed=True)
    assert unit_history(store, "司法局", 2017, size)[-1].position <= size


def test_a_groups_export_from_its_rows_equals_the_whole_years(store):
    # `ledger export --group` reads only the group's rows
    from ledger.writer import Ledger
    from projections.asof import year_view
    from projections.export import export_sheets

    ledger = Ledger(store)
    whole = year_view(ledger, 2017)
    for group in dict.fromkeys(u.group for u in whole.scores.units):
        scoped = export_sheets(year_view(ledger, 2017, None, [group]), group)
        assert [(s.header, s.rows) for s in scoped] == [(s.header, s.rows) for s in export_sheets(whole, group)]


def test_a_groups_diff_from_its_rows_equals_the_whole_logs(store):
    # `ledger diff --year Y --group G` folds only the group's rows
    from ledger.errors import Refused
    from projections.diff import diff

    size = readmodel_size(store)
    for a, b in ((PART, size), (size, PART - 1), (PART, PART), (100, PART + 500)):
        whole = diff(store, a, b, 2017)
        for groups in (["乡镇"], ["市直部门第一组", "管理区"]):
            assert diff(store, a, b, 2017, groups) == [r for r in whole if r.group in groups]
    assert len(diff(store, PART, size, 2017, ["乡镇"])) > 10
    with pytest.raises(Refused, match="unknown group '没有' in 2017"):
        diff(store, PART, size, 2017, ["没有"])


def test_a_groups_consequences_are_the_whole_years_of_its_units(store):
    from ledger.errors import Refused
    from ledger.writer import Ledger
    from projections.asof import consequences_view
    from projections.readstate import registry_and_years

    ledger = Ledger(store)
    whole = consequences_view(ledger, 2017)
    assert len(whole) >= 4  # BP: a 较差 grade is one year's consequence already
    found = []
    for group in registry_and_years(store).year(2017).scheme.groups:
        part = consequences_view(ledger, 2017, None, [group.name])
        assert part == [c for c in whole if c.unit in group.units]
        found += part
    assert sorted(found, key=lambda c: c.unit) == sorted(whole, key=lambda c: c.unit)
    with pytest.raises(Refused, match="unknown group '没有' in 2017"):
        consequences_view(ledger, 2017, None, ["没有"])


def test_one_unit_scored_alone_is_its_score_in_the_year(store):
    from projections.replay import replay
    from projections.results import unit_score, year_results

    state = replay(store)
    whole = year_results(state, 2017)
    for unit in whole.scores.units:
        ranked = unit.to_dict()
        assert unit_score(state, 2017, unit.unit).to_dict() == {
            **ranked, "rank": None, "explain": [line for line in ranked["explain"] if not line.startswith("rank ")]}


def readmodel_size(store) -> int:
    from projections import readmodel

    return readmodel.catch_up(store)


def test_an_older_layout_is_dropped_and_refilled(store):
    from projections import readmodel

    folded = _tables(store)
    path = Path(store.target.display)
    store.close()
    with sqlite3.connect(path) as conn:  # the layout before envelopes were stored as bytes, and whole
        conn.execute("DROP TABLE rm_values")
        conn.execute("CREATE TABLE rm_values (pos BIGINT NOT NULL, year INTEGER NOT NULL, stream VARCHAR(36) NOT NULL,"
                     " event_id VARCHAR(64) NOT NULL, envelope TEXT NOT NULL, until_pos BIGINT, unit VARCHAR(200) "
                     "NOT NULL, PRIMARY KEY (pos))")
    from ledger.store import EventStore

    reopened = EventStore(str(path))
    try:
        assert readmodel.position(reopened.engine) == (0, 0)
        readmodel.catch_up(reopened)
        assert _tables(reopened) == folded
    finally:
        reopened.close()


def test_an_untouched_view_has_no_problems(store, county):
    from projections.viewcheck import view_problems

    assert view_problems(store) == []
    acts = [(a.stream, a.version, a.envelope, eid) for a, eid in zip(store.read(batch=2000), _ids(store))]
    assert view_problems(store, acts=acts) == []


def _ids(store) -> list[str]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT event_id FROM kaohe_log ORDER BY seq")]


def _edit(store, sql: str, params: tuple = ()) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(sql, params)


def _value_row(store, superseded: bool) -> tuple:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT pos, until_pos FROM rm_values WHERE until_pos IS "
                                    f"{'NOT ' if superseded else ''}NULL ORDER BY pos LIMIT 1").one()


@pytest.mark.parametrize("edit", ["body", "unit", "year", "event_id", "stream"])
def test_an_edited_column_is_named(store, edit):
    from projections.viewcheck import view_problems

    pos, _until = _value_row(store, False)
    value = {"body": b'{"type":"score.recorded"}', "unit": "别的单位", "year": 2016, "event_id": "0" * 64,
             "stream": "00000000-0000-0000-0000-000000000000"}[edit]
    _edit(store, f"UPDATE rm_values SET {edit} = ? WHERE pos = ?", (value, pos))
    assert view_problems(store) == [(pos, "view rm_values differs from the event")]


def test_an_edited_event_id_is_found_even_when_the_log_index_agrees(store):
    from projections.viewcheck import view_problems

    with store.engine.connect() as conn:
        pos, eid = conn.exec_driver_sql("SELECT pos, event_id FROM rm_adjustments ORDER BY pos LIMIT 1").one()
    _edit(store, "UPDATE rm_adjustments SET event_id = ? WHERE pos = ?", ("f" * 64, pos))
    _edit(store, "DROP TRIGGER IF EXISTS kaohe_no_update_kaohe_log")
    _edit(store, "UPDATE kaohe_log SET event_id = ? WHERE seq = ?", ("f" * 64, pos))
    assert view_problems(store) == [(pos, "view rm_adjustments differs from the event")]


def test_a_changed_supersession_is_named(store):
    from projections.viewcheck import view_problems

    pos, until = _value_row(store, True)
    other, _ = _value_row(store, False)
    _edit(store, "UPDATE rm_values SET until_pos = NULL WHERE pos = ?", (pos,))
    assert view_problems(store) == [(pos, f"view rm_values says this value was superseded at None, the log at "
                                          f"{until}")]
    _edit(store, "UPDATE rm_values SET until_pos = ? WHERE pos = ?", (other + 1, other))
    assert (other, f"view rm_values says this value was superseded at {other + 1}, the log at None") \
        in view_problems(store)


def test_missing_misplaced_and_extra_rows_are_named(store):
    from projections import readmodel
    from projections.viewcheck import view_problems

    head, _ = readmodel.position(store.engine)
    with store.engine.connect() as conn:
        adj = conn.exec_driver_sql("SELECT * FROM rm_adjustments ORDER BY pos LIMIT 2").all()
    _edit(store, "DELETE FROM rm_adjustments WHERE pos = ?", (adj[0][0],))
    _edit(store, "DELETE FROM rm_adjustments WHERE pos = ?", (adj[1][0],))
    _edit(store, "INSERT INTO rm_decisions VALUES (?, ?, ?, ?, ?, ?, ?)", (*adj[1][:6], adj[1][3][:8]))  # wrong table
    _edit(store, "INSERT INTO rm_adjustments VALUES (?, ?, ?, ?, ?, ?, ?)", (head + 5, *adj[0][1:]))  # beyond the log
    assert view_problems(store) == [(adj[0][0], "the views lack this event"),
                                    (adj[1][0], "view rm_decisions differs from the event"),
                                    (head + 5, "view rm_adjustments holds a row beyond or outside the log")]


def _indexes(store) -> set[str]:
    with store.engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'rm_%' AND sql IS NOT NULL")}


def test_a_rebuild_that_stops_changes_nothing_and_a_first_load_that_stops_is_finished_by_the_next(store):
    """A rebuild runs in one transaction: one that stops after a batch (as if killed) leaves the read models as they
    were, indexes included. A first load from nothing writes without the secondary indexes; one that stops leaves
    its mark, and the next catch-up builds them first and then folds the rest."""
    from projections import readmodel

    folded, indexes = _tables(store), _indexes(store)
    head = readmodel.position(store.engine)
    assert indexes == {i.name for t in readmodel.TABLES for i in t.indexes}

    def stop(position):
        raise KeyboardInterrupt(position)

    with pytest.raises(KeyboardInterrupt):
        readmodel.rebuild(store, stop)
    assert (_indexes(store), _tables(store), readmodel.position(store.engine)) == (indexes, folded, head)
    readmodel._drop(store)  # as a restore into an empty database leaves them
    with pytest.raises(KeyboardInterrupt):
        readmodel.catch_up(store, stop)
    assert _indexes(store) == set()
    assert readmodel.position(store.engine)[0] == readmodel.BATCH
    readmodel.catch_up(store, batch=1000)
    assert _indexes(store) == indexes
    assert _tables(store) == folded


def test_a_view_of_one_group_or_unit_equals_its_rows_in_the_whole_year(store):
    """Ranks, grades and explanations are per group: a group's view (one county of a province) reads only its
    units' facts and gives the whole year's rows for it, at now and at a past position."""
    from ledger.writer import Ledger
    from projections.asof import year_view

    ledger = Ledger(store)
    for at in (None, str(PART + 500)):
        whole = year_view(ledger, 2017, at)
        groups = list(dict.fromkeys(u.group for u in whole.scores.units))
        assert len(groups) > 3
        for group in groups:
            alone = year_view(ledger, 2017, at, [group])
            assert alone.rows() == whole.rows(group)
            assert [u.to_dict() for u in alone.scores.group(group)] == [u.to_dict() for u in whole.scores.group(group)]
            assert {u.group for u in alone.scores.units} == {group}
        unit = whole.scores.group(groups[-1])[0]
        by_unit = year_view(ledger, 2017, at, unit=unit.unit)
        assert by_unit.unit(unit.unit).to_dict() == unit.to_dict() and by_unit.rows() == whole.rows(groups[-1])


@pytest.mark.parametrize("kwargs, message", [({"groups": ["乡镇", "无此组"]}, "unknown group '无此组' in 2017"),
                                             ({"unit": "无此单位"}, "unknown unit '无此单位' in 2017")])
def test_an_unknown_group_or_unit_is_refused_before_any_fact_is_read(store, kwargs, message):
    from ledger.errors import Refused
    from ledger.writer import Ledger
    from projections.asof import year_view

    with pytest.raises(Refused, match=message):
        year_view(Ledger(store), 2017, **kwargs)


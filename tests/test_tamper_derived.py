"""The derived tables edited with SQL (the log index, the Merkle nodes, the read models), on the ledger of
tests/test_tamper.py: `verify` names the edit, `prove` hands out no proof that would make an untouched event look
altered, and a closed year's whole view says its result is not the one the close signed."""
from __future__ import annotations

from tests.cliharness import refused
from tests.hy_ledger import UNIT

GROUP = "机关各部门、街道"  # HY's one group
from tests.test_tamper import case, failed  # noqa: F401 (case is the fixture)


def test_edited_event_id_in_the_log_index_is_named(case):
    # receipts and the read models take event ids from the index: an id edited there must not go unseen
    case.raw.sql("UPDATE kaohe_log SET event_id = ? WHERE seq = 6", ("ab" * 32,))
    failed(case.verify(), "position 6", "the log index names it abababababab", "index was edited")


def test_edited_merkle_nodes_yield_no_false_proof(case):
    # the proofs are built from the derived Merkle nodes: an edited node must not make an untouched event look altered
    good = case.run("prove", "inclusion", "2", "--checkpoint", case.cp("cp_full")).ok().out
    case.raw.sql("UPDATE merkle_nodes SET hash = ? WHERE level = 0 AND idx = 0", (bytes(32),))
    refused(case.run("prove", "inclusion", "2", "--checkpoint", case.cp("cp_full")),
            "the proof built from the log index and its Merkle nodes does not hold")
    case.raw.sql("UPDATE merkle_nodes SET hash = ? WHERE level = 1 AND idx = 4", (bytes(32),))  # leaves 9 and 10
    refused(case.run("prove", "consistency", "--old", case.cp("cp_a"), "--new", case.cp("cp_full")),
            "(size 10) does not match this log's Merkle root at that size, as the derived nodes give it")
    assert '"leafIdx": 1' in good
    failed(case.verify(), "the stored Merkle node over positions 1 to 1 (level 0) differs from the tree the events "
           "give: the node table was edited")


def test_a_closed_years_view_warns_when_the_read_models_disagree_with_its_close(case, tmp_path):
    # the whole year's result is what the close signed: a view computed from edited read models must say it differs
    clean = case.run("grades", "--year", "2017").ok()
    assert "warning" not in clean.err
    book = tmp_path / "结果.xlsx"
    assert case.run("export", "--year", "2017", "--out", book).ok().err == ""
    case.raw.sql("DELETE FROM rm_values WHERE pos = 6")  # the first score
    res = case.run("grades", "--year", "2017", "--format", "json").ok()
    assert res.err.startswith("warning: these 2017 results hash to") and "the read models differ from the log" in res.err
    assert "the read models differ" in case.run("scores", "--year", "2017").ok().err
    # one group's view and one unit's: each group's rows were signed by the close too
    one = case.run("scores", "--year", "2017", "--group", GROUP).ok().err
    assert one.startswith(f"warning: the 2017 results of {GROUP} hash to") and "the year's close signed" in one
    assert "the read models differ" in case.run("explain", "--year", "2017", "--unit", UNIT).ok().err
    # the published workbook as well: the same line (the file is still written: the office decides)
    exported = case.run("export", "--year", "2017", "--out", book).ok()
    assert exported.err == res.err and exported.out.startswith(f"Wrote {book}: 2017 as of position")
    failed(case.verify(), "position 6", "read models")

"""Acts that would change nothing are refused before they are stored, naming what is in force: a decision identical
to one in force, a correction to the value in force; the write path's own refusals (signer, revocation, role) come
first (CLI, SQLite and PostgreSQL)."""
from __future__ import annotations

import json

import pytest

from tests.cliharness import Cli, refused
from tests.hy_ledger import OTHER, UNIT, build, hy_text

FAULT = "工作未落实被党中央、国务院通报批评"
DECIDE = ["decide", "--year", "2017", "--unit", OTHER, "--kind", "fault", "--value", FAULT]
SCORE = ["score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估"]
VOTES = ["evaluation", "record", "--year", "2017", "--unit", UNIT, "--component", "班子成员评议"]


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture()
def keys(run, tmp_path) -> dict:
    return build(run, tmp_path)


def _last_event(run: Cli) -> str:
    return json.loads(run("log", "--format", "json").ok().out.splitlines()[-1])["event_id"]


def _grade(run: Cli, unit: str) -> str:
    units = json.loads(run("grades", "--year", "2017", "--format", "json").ok().out)["units"]
    return next(u["grade"] for u in units if u["unit"] == unit)


def test_a_decision_in_force_is_not_recorded_again(run, keys):
    office = ["--sign-with", keys["office"]]
    for unit, points in ((UNIT, "70"), (OTHER, "75")):  # 财政局 ranks first: 优秀 but for a fault
        run("score", "record", "--year", "2017", "--unit", unit, "--indicator", "指标评估", "--points", points,
            "--sign-with", keys["kh"]).ok()
    first = run(*DECIDE, "--reason", "国办通报", "--evidence", "国办发〔2017〕9号", *office).ok()
    decision, event = first.out.split("(decision ")[1].rstrip(")\n"), _last_event(run)
    before = run.positions()
    in_force = (f"{OTHER} has fault {FAULT} in force for 2017 already (decision {decision}, event {event[:12]}): "
                "undecide it to replace it, or pass --separate-matter if this is another matter")
    # the same decision again, or with other words for it: a duplicate unless the office says it is another matter
    refused(run(*DECIDE, "--reason", "国办通报", "--evidence", "国办发〔2017〕9号", *office), in_force)
    refused(run(*DECIDE, "--reason", "国务院办公厅通报", *office), in_force)
    refused(run(*DECIDE, "--reason", "国办通报", "--out", "later.json", *office), in_force)
    # a separate matter must be told apart by its reason or evidence
    refused(run(*DECIDE, "--reason", "国办通报", "--evidence", "国办发〔2017〕9号", "--separate-matter", *office),
            f"with this reason and evidence (decision {decision}, event {event[:12]}): a separate matter says in "
            "--reason or --evidence how it differs")
    assert run.positions() == before
    second = run(*DECIDE, "--reason", "国办第二次通报", "--evidence", "国办发〔2017〕15号", "--separate-matter",
                 *office).ok().out.split("(decision ")[1].rstrip(")\n")
    # two matters of one fault: revoking one leaves the other capping the grade
    run("undecide", decision, "--reason", "复核撤销", *office).ok()
    assert _grade(run, OTHER) == "合格"
    refused(run(*DECIDE, "--reason", "再次通报", *office), f"(decision {second}, event ")
    run("undecide", second, "--reason", "复核撤销", *office).ok()
    assert _grade(run, OTHER) == "优秀"
    # once none is in force, recording it is no repeat; another fault, another unit or another kind never was
    run(*DECIDE, "--reason", "国办通报", "--evidence", "国办发〔2017〕9号", *office).ok()
    run("decide", "--year", "2017", "--unit", OTHER, "--kind", "fault", "--value",
        "安全生产、综治维稳、计划生育工作被一票否决", "--reason", "安全生产一票否决", *office).ok()
    run("decide", "--year", "2017", "--unit", UNIT, "--kind", "fault", "--value", FAULT, "--reason", "国办通报",
        *office).ok()
    run("decide", "--year", "2017", "--unit", OTHER, "--kind", "withhold", "--value", FAULT, "--reason", "待查",
        "--sign-with", keys["zz"]).ok()
    assert run.positions() == before + 7


def test_a_correction_to_the_score_in_force_is_refused(run, keys):
    kh = ["--sign-with", keys["kh"]]
    run(*SCORE, "--points", "70.5", *kh).ok()
    event, before = _last_event(run), run.positions()
    unchanged = f"nothing to correct: {UNIT} 指标评估 is 70.5 already (event {event[:12]})"
    refused(run(*SCORE, "--points", "70.50", "--note", "复核", *kh), unchanged)  # numbers as numbers
    # the log's own refusals come first: a correction without its reason
    refused(run(*SCORE, "--points", "70.5", *kh), "a correction needs a reason (note)")
    refused(run(*SCORE, "--points", "70.5", "--note", "复核", "--sign-with", keys["office"]), unchanged)
    assert run.positions() == before
    run(*SCORE, "--points", "72", "--note", "复核更正", *kh).ok()
    refused(run(*SCORE, "--points", "72", "--note", "复核", *kh), f"{UNIT} 指标评估 is 72 already (event ")
    run(*SCORE, "--points", "70.5", "--note", "更正有误, 恢复原值", *kh).ok()  # back to an earlier value: a change
    run("score", "record", "--year", "2017", "--unit", OTHER, "--indicator", "指标评估", "--points", "70.5",
        *kh).ok()
    assert run.positions() == before + 3


def test_not_taking_part_twice_is_refused(run, keys, tmp_path):
    scheme = tmp_path / "hy-2018.toml"
    scheme.write_text(hy_text(2018).replace('department = "考核办", title', 'department = "考核办", '
                                            'non_participants = "average", title', 1), encoding="utf-8")
    run("scheme", "adopt", scheme, "--sign-with", keys["office"]).ok()
    record = ["score", "record", "--year", "2018", "--unit", UNIT, "--indicator", "指标评估", "--sign-with",
              keys["kh"]]
    run(*record, "--not-participating").ok()
    before = run.positions()
    refused(run(*record, "--not-participating", "--note", "复核"),
            f"nothing to correct: {UNIT} 指标评估 is recorded as not taking part already (event ")
    assert run.positions() == before
    run(*record, "--points", "60", "--note", "补报: 承担了该项任务").ok()


def test_a_correction_to_the_evaluation_in_force_is_refused(run, keys):
    office = ["--sign-with", keys["office"]]
    run(*VOTES, "--votes", "优秀=5,良好=3", *office).ok()
    event, before = _last_event(run), run.positions()
    refused(run(*VOTES, "--votes", "良好=3,优秀=5,及格=0", "--note", "复核", *office),
            f"nothing to correct: {UNIT} 班子成员评议 is 优秀=5, 良好=3 already (event {event[:12]})")
    assert run.positions() == before
    run(*VOTES, "--votes", "优秀=6,良好=2", "--note", "复核更正: 漏计一票", *office).ok()
    run(*VOTES, "--level", "优秀", "--note", "改按等次评定", *office).ok()
    refused(run(*VOTES, "--level", "优秀", "--note", "复核", *office), f"{UNIT} 班子成员评议 is 优秀 already")
    run(*VOTES, "--score", "10", "--note", "改按分值评定", *office).ok()  # the same points, recorded as a score
    refused(run(*VOTES, "--score", "10.0", "--note", "复核", *office), f"{UNIT} 班子成员评议 is 10 already")
    assert run.positions() == before + 3


def _revoked_office_key(run: Cli, keys: dict) -> str:
    """A key registered for the office and then revoked."""
    gone = run.key("gone")
    run("signatory", "add", "--person", "前任主任", "--role", "office", "--valid-from", "2017-01-01", "--public-key",
        gone + ".pub", "--sign-with", keys["office"]).ok()
    key_id = json.loads(run("key", "show", gone + ".pub", "--format", "json").ok().out)["key_id"]
    run("signatory", "revoke", key_id, "--reason", "调离", "--sign-with", keys["office"]).ok()
    return gone


@pytest.mark.parametrize("act, first, again, signer, without_role, role_message", [
    ("decision", [*DECIDE, "--reason", "国办通报"], [*DECIDE, "--reason", "国办通报"], "office", "kh",
     "may not sign decision.recorded: needs role"),
    ("score", [*SCORE, "--points", "70"], [*SCORE, "--points", "70", "--note", "复核"], "kh", "zz",
     "may not sign score.recorded: needs role department"),
    ("evaluation", [*VOTES, "--level", "优秀"], [*VOTES, "--level", "优秀", "--note", "复核"], "office", "kh",
     "may not sign evaluation.recorded: needs role office"),
])
def test_the_write_paths_refusal_comes_before_the_repeat(run, keys, act, first, again, signer, without_role,
                                                         role_message):
    run(*first, "--sign-with", keys[signer]).ok()
    revoked, before = _revoked_office_key(run, keys), run.positions()
    repeat = "--separate-matter" if act == "decision" else "nothing to correct"
    for out in ([], ["--out", "later.json"]):  # signed to a file, the same checks in the same order
        refused(run(*again, *out, "--sign-with", keys[without_role]), role_message)
        refused(run(*again, *out, "--sign-with", revoked), "was revoked at")
        refused(run(*again, *out, "--sign-with", run.key("stranger")), "the key is not registered in this ledger")
        refused(run(*again, *out, "--sign-with", keys[signer]), repeat)
    assert run.positions() == before


def test_a_misspelt_role_signed_without_the_office_role_is_refused_for_the_role(run, keys):
    add = ["signatory", "add", "--person", "王新", "--role", "督察组", "--public-key", run.key("new") + ".pub"]
    refused(run(*add, "--sign-with", keys["kh"]), "may not sign signatory.added: needs role office")
    refused(run(*add, "--sign-with", keys["office"]), "role 督察组 is declared by no adopted scheme")

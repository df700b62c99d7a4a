"""Every act of a year end to end through the CLI, and every refusal: exit code, message, nothing appended."""
from __future__ import annotations

import json

import pytest

from tests.cliharness import Cli, refused
from tests.hy_ledger import OTHER, UNIT, build, hy_text, pending_ids, total

SCORE = ["score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估"]


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture()
def keys(run, tmp_path) -> dict:
    return build(run, tmp_path)


def test_score_record_and_correction(run, keys):
    run(*SCORE, "--points", "70.5", "--sign-with", keys["kh"]).ok()
    assert total(run) == "70.50"
    before = run.positions()
    refused(run(*SCORE, "--points", "72", "--sign-with", keys["kh"]), "a correction needs a reason")
    assert run.positions() == before
    run(*SCORE, "--points", "72", "--note", "复核更正", "--sign-with", keys["kh"]).ok()
    assert total(run) == "72.00"
    last = json.loads(run("log", "--format", "json").out.splitlines()[-1])
    first = json.loads(run("log", "--format", "json").out.splitlines()[-2])
    assert last["envelope"]["act"]["corrects"] == first["event_id"]


@pytest.mark.parametrize("value, fragment", [
    ("1,5", "'1,5' is not a decimal number"), ("NaN", "'NaN' is not a decimal number"),
    ("Infinity", "'Infinity' is not a decimal number"), ("1e309", "'1e309' is not a decimal number"),
    ("", "'' is not a decimal number"), ("1" * 30, "digits"), ("-5", "outside"), ("80.01", "outside"),
    ("０", "not a decimal number"),
])
def test_malformed_numbers_are_refused(run, keys, value, fragment):
    before = run.positions()
    refused(run(*SCORE, "--points", value, "--sign-with", keys["kh"]), fragment)
    assert run.positions() == before


def test_unknown_unit_indicator_and_year(run, keys):
    before = run.positions()
    refused(run("score", "record", "--year", "2017", "--unit", "不存在局", "--indicator", "指标评估", "--points", "1",
                "--sign-with", keys["kh"]), "unknown unit")
    refused(run("score", "record", "--year", "2017", "--unit", UNIT + " ", "--indicator", "指标评估", "--points",
                "1", "--sign-with", keys["kh"]), "spaces")
    refused(run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "没有", "--points", "1",
                "--sign-with", keys["kh"]), "没有")
    refused(run("score", "record", "--year", "2016", "--unit", UNIT, "--indicator", "指标评估", "--points", "1",
                "--sign-with", keys["kh"]), "no scheme has been adopted for 2016")
    assert run.positions() == before


def test_wrong_role_and_wrong_department(run, keys):
    before = run.positions()
    refused(run(*SCORE, "--points", "70", "--sign-with", keys["zz"]), "needs role department")
    refused(run(*SCORE, "--points", "70", "--sign-with", keys["cz"]), "assessed by 考核办, not by 财政局")
    refused(run("evaluation", "record", "--year", "2017", "--unit", UNIT, "--component", "班子成员评议",
                "--votes", "优秀=5", "--sign-with", keys["kh"]), "needs role office")
    assert run.positions() == before


def test_evaluation_votes_count(run, keys):
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    run("evaluation", "record", "--year", "2017", "--unit", UNIT, "--component", "班子成员评议",
        "--votes", "优秀=5,良好=3", "--sign-with", keys["office"]).ok()
    assert total(run) == "79.25"  # 70 + (5×10 + 3×8) ÷ 8
    refused(run("evaluation", "record", "--year", "2017", "--unit", UNIT, "--component", "不存在",
                "--score", "5", "--sign-with", keys["office"]), "不存在")


def _propose(run, keys, key="kh", unit=UNIT, level="省级", matter="文明单位"):
    res = run("--signed-at", "2017-12-20T10:00:00+08:00", "adjust", "propose", "--year", "2017", "--unit", unit, "--rule", "荣誉", "--level", level,
              "--matter", matter, "--reason", "获得荣誉", "--document", "湘文明委〔2017〕3号", "--sign-with", keys[key])
    res.ok()
    return res.out.split("(adjustment ")[1].split(")")[0]


def test_adjustment_counts_only_when_approved(run, keys):
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    adj = _propose(run, keys)
    assert total(run) == "70.00"
    waiting = json.loads(run("pending", "--sign-with", keys["zz"], "--format", "json").ok().out)
    assert [w["id"] for w in waiting] == [adj] and waiting[0]["missing"] == "组长"
    proposed_at = run.positions()
    run("adjust", "approve", adj, "--sign-with", keys["zz"], "--yes").ok()
    assert total(run) == "72.00"
    assert pending_ids(run) == []
    assert total(run, UNIT, 2017, "--as-of", str(proposed_at)) == "70.00"
    assert total(run, UNIT, 2017, "--as-of", "2099-01-01T00:00:00Z") == "72.00"
    refused(run("scores", "--year", "2017", "--as-of", "2000-01-01"), "nothing recorded at or before")
    refused(run("scores", "--year", "2017", "--as-of", "soon"), "ISO 8601")
    before = run.positions()
    refused(run("adjust", "approve", adj, "--sign-with", keys["zz"], "--yes"), "is approved")
    assert run.positions() == before


def test_pending_of_a_group(run, keys):
    _propose(run, keys)
    everything = json.loads(run("pending", "--format", "json").ok().out)
    assert len(everything) == 1
    group = json.loads(run("pending", "--year", "2017", "--group", "机关各部门、街道", "--format", "json").ok().out)
    assert group == everything
    refused(run("pending", "--year", "2017", "--group", "没有这组"), "没有这组")
    refused(run("pending", "--group", "机关各部门、街道"), "--group needs --year", code=2)
    refused(run("pending", "--year", "2030"), "no scheme has been adopted for 2030")


def test_approving_several_stores_all_or_none(run, keys, tmp_path):
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    first, second = _propose(run, keys), _propose(run, keys, level="市级", matter="先进单位")
    before = run.positions()
    refused(run("adjust", "approve", first, first, "--sign-with", keys["zz"], "--yes"), f"{first} is named twice")
    run("adjust", "approve", first, "--sign-with", keys["zz"], "--yes").ok()
    # the second is waiting, the first approved already: the plan refuses before anything is signed
    refused(run("adjust", "approve", second, first, "--sign-with", keys["zz"], "--yes"), "is approved")
    assert run.positions() == before + 1
    third = _propose(run, keys, level="国家级", matter="示范单位")
    # an act the plan cannot foresee failing (here a role the rule does not ask for) stops the lot: nothing stored
    from ledger.bulk import act_together
    from ledger.errors import Refused
    from ledger.keys import load_private
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from tests.cliharness import PASSPHRASE

    ledger = Ledger(EventStore(run.db))
    streams = [ledger.resolve(ref, "adjustment.proposed", "adjustment") for ref in (second, third)]
    with pytest.raises(Refused, match="act 2"):
        act_together(ledger, [("adjustment.approved", {"role": "组长"}, streams[0]),
                              ("adjustment.approved", {"role": "不存在"}, streams[1])],
                     load_private(keys["zz"], PASSPHRASE.encode()))
    ledger.store.close()
    assert run.positions() == before + 2
    # several approvals to a file: one signed act a line, for `submit --many`; nothing stored until then
    out = tmp_path / "approvals.jsonl"
    res = run("adjust", "approve", second, third, "--sign-with", keys["zz"], "--yes", "--out", out).ok()
    assert "2 signed approvals written" in res.out and len(out.read_text("utf-8").splitlines()) == 2
    assert run.positions() == before + 2
    res = run("adjust", "approve", second, third, "--sign-with", keys["zz"], "--yes").ok()
    assert res.out.count("Stored adjustment.approved") == 2 and run.positions() == before + 4
    assert total(run) == "76.00"  # 70 + 2 (省级) + 1 (市级) + 3 (国家级), within the ±10 cap
    assert pending_ids(run) == []


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2028", "\ufeff", "\x85", "\U000e0041"])
def test_signed_text_that_does_not_read_as_signed_is_refused(run, keys, char):
    # a right-to-left override shows "扣分-2" as something else; zero-width and tag characters hide text
    before = run.positions()
    base = ["adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "荣誉", "--level", "省级",
            "--document", "d", "--sign-with", keys["kh"]]
    refused(run(*base, "--matter", "m", "--reason", f"获得{char}荣誉"), "reason")
    refused(run(*base, "--matter", f"m{char}", "--reason", "r"), "input 'matter'")
    assert run.positions() == before


def test_a_correction_needs_a_reason_that_says_something(run, keys):
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    before = run.positions()
    refused(run(*SCORE, "--points", "71", "--note", "  ", "--sign-with", keys["kh"]), "needs a reason")
    assert run.positions() == before
    run(*SCORE, "--points", "71", "--note", "复核更正", "--sign-with", keys["kh"]).ok()


def test_late_proposal_is_not_counted(run, keys):
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    res = run("adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "荣誉", "--level", "省级", "--matter",
              "m", "--reason", "r", "--document", "d", "--sign-with", keys["kh"]).ok()
    adj = res.out.split("(adjustment ")[1].split(")")[0]
    run("adjust", "approve", adj, "--sign-with", keys["zz"], "--yes").ok()
    assert total(run) == "70.00"
    assert "deadline 2018-01-10" in run("explain", "--year", "2017", "--unit", UNIT).ok().out


def test_proposal_refusals(run, keys):
    before = run.positions()
    base = ["adjust", "propose", "--year", "2017", "--unit", UNIT, "--reason", "r"]
    refused(run(*base, "--rule", "没有", "--sign-with", keys["kh"]), "unknown rule")
    refused(run(*base, "--rule", "荣誉", "--level", "县级", "--matter", "m", "--sign-with", keys["kh"]), "县级")
    refused(run(*base, "--rule", "荣誉", "--option", "x", "--sign-with", keys["kh"]), "option")
    refused(run(*base, "--rule", "荣誉", "--level", "省级", "--matter", "m", "--sign-with", keys["cz"]),
            "assessed by 考核办")
    refused(run(*base, "--rule", "荣誉", "--level", "省级", "--matter", "m", "--sign-with", keys["zz"]),
            "needs role department")
    assert run.positions() == before


def test_self_approval_refused(run, keys, tmp_path):
    both = run.key("both")
    run("signatory", "add", "--person", "王五", "--department", "考核办", "--role", "department", "--role", "组长",
        "--public-key", both + ".pub", "--valid-from", "2017-01-01", "--sign-with", keys["office"]).ok()
    adj = _propose(run, {"both": both}, key="both")
    before = run.positions()
    refused(run("adjust", "approve", adj, "--sign-with", both, "--yes"), "may not approve")
    refused(run("adjust", "reject", adj, "--reason", "撤回", "--sign-with", both),
            f"proposed adjustment {adj} and may not reject it (a proposer withdraws it with `ledger adjust rescind`)")
    assert run.positions() == before


def test_reject_and_rescind(run, keys):
    adj = _propose(run, keys)
    refused(run("adjust", "rescind", adj, "--reason", "x", "--sign-with", keys["zz"]),
            "only the proposing department")
    run("adjust", "reject", adj, "--reason", "无表彰文件", "--sign-with", keys["zz"]).ok()
    refused(run("adjust", "approve", adj, "--sign-with", keys["zz"], "--yes"), "rejected")
    adj2 = _propose(run, keys, matter="另一事项")
    run("adjust", "rescind", adj2, "--reason", "重复申报", "--sign-with", keys["kh"]).ok()
    refused(run("adjust", "rescind", adj2, "--reason", "again", "--sign-with", keys["kh"]), "rescinded already")
    refused(run("adjust", "approve", "ffffffff", "--sign-with", keys["zz"], "--yes"), "no adjustment")
    explain = run("explain", "--year", "2017", "--unit", UNIT).ok().out
    assert "rejected" in explain and "rescinded" in explain


def test_same_person_two_keys_two_roles(run, tmp_path):
    keys = build(run, tmp_path, approvers='["组长", "副组长"]', extra_roles='"副组长" = "考核工作领导小组副组长"')
    second = run.key("zz-second")
    run("signatory", "add", "--person", "欧杏", "--role", "副组长", "--public-key", second + ".pub",
        "--valid-from", "2017-01-01", "--sign-with", keys["office"]).ok()
    adj = _propose(run, keys)
    run("adjust", "approve", adj, "--sign-with", keys["zz"], "--yes").ok()
    before = run.positions()
    refused(run("adjust", "approve", adj, "--sign-with", second, "--yes"), "has approved adjustment")
    assert run.positions() == before


def test_pending_after_the_scheme_changed_its_approvers(run, tmp_path):
    # the queue reads only adjustments with few enough acts to be waiting: "few enough" must count the roles of
    # every scheme ever adopted, not only today's (an approval under the old scheme still sits in the stream)
    keys = build(run, tmp_path, approvers='["组长", "副组长"]', extra_roles='"副组长" = "考核工作领导小组副组长"')
    deputy = run.key("deputy")
    run("signatory", "add", "--person", "王副", "--role", "副组长", "--public-key", deputy + ".pub",
        "--valid-from", "2017-01-01", "--sign-with", keys["office"]).ok()
    waiting, settled = _propose(run, keys), _propose(run, keys, matter="另一事项")
    run("adjust", "approve", waiting, "--sign-with", keys["zz"], "--yes").ok()
    run("adjust", "approve", settled, "--sign-with", keys["zz"], "--yes").ok()
    run("adjust", "approve", settled, "--sign-with", deputy, "--yes").ok()
    assert pending_ids(run) == [waiting]
    scheme = tmp_path / "deputy-only.toml"
    scheme.write_text(hy_text(approvers='["副组长"]').replace('[roles]\n', '[roles]\n"副组长" = "副组长"\n', 1),
                      encoding="utf-8")
    run("scheme", "adopt", scheme, "--note", "只需副组长审批", "--sign-with", keys["office"]).ok()
    rows = json.loads(run("pending", "--format", "json").ok().out)
    assert [(r["id"], r["signed"], r["missing"]) for r in rows] == [(waiting, "组长:欧杏", "副组长")]
    assert json.loads(run("pending", "--sign-with", deputy, "--format", "json").ok().out) == [
        {**rows[0], "role": "副组长"}]
    assert json.loads(run("pending", "--year", "2017", "--format", "json").ok().out) == rows


def test_an_act_signed_to_a_file_is_checked_as_it_is_signed(run, keys, tmp_path):
    # what `submit` would refuse now is not written for later: a malformed number, a key the ledger does not know
    out = tmp_path / "act.json"
    refused(run(*SCORE, "--points", "1e3", "--sign-with", keys["kh"], "--out", out), "1e3")
    refused(run("adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "重大创新", "--points", "1e3",
                "--reason", "r", "--sign-with", keys["kh"], "--out", out), "1e3")
    refused(run(*SCORE, "--points", "70", "--sign-with", run.key("stranger"), "--out", out), "unknown signer")
    assert not out.exists()


def test_signed_act_files(run, keys, tmp_path):
    act = tmp_path / "act.json"
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"], "--out", act).ok()
    before = run.positions()
    doc = json.loads(act.read_text(encoding="utf-8"))

    def variant(name, mutate):
        path = tmp_path / name
        d = json.loads(json.dumps(doc))
        mutate(d)
        path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
        return path

    refused(run("submit", variant("unsigned.json", lambda d: d.pop("signature"))), "unsigned")
    refused(run("submit", variant("empty-sig.json", lambda d: d.update(signature={}))), "unsigned")
    refused(run("submit", variant("bad.json", lambda d: d["envelope"]["act"].update(value="79"))), "bad signature")
    refused(run("submit", variant("alg.json", lambda d: d["signature"].update(alg="rsa"))), "unknown signature algorithm")
    refused(run("submit", variant("who.json", lambda d: d["envelope"].update(signer="ed25519:0000000000000000"))),
            "unknown signer")
    refused(run("submit", variant("float.json", lambda d: d["envelope"].update(version=1.0))), "decimal string")
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    refused(run("submit", tmp_path / "junk.json"), "not valid JSON")
    assert run.positions() == before
    first = run("submit", act).ok()
    assert "Stored score.recorded" in first.out
    again = run("submit", act).ok()
    assert "Already stored" in again.out
    assert run.positions() == before + 1


def test_stale_act_must_be_signed_again(run, keys, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"], "--out", a).ok()
    run(*SCORE, "--points", "71", "--sign-with", keys["kh"], "--out", b).ok()
    run("submit", a).ok()
    before = run.positions()
    refused(run("submit", b), "sign again")
    assert run.positions() == before


def test_revoked_signer_signs_nothing_after(run, keys, tmp_path):
    run(*SCORE, "--points", "70", "--sign-with", keys["kh"]).ok()
    signed_before = tmp_path / "early.json"
    run("score", "record", "--year", "2017", "--unit", OTHER, "--indicator", "指标评估", "--points", "60",
        "--sign-with", keys["kh"], "--out", signed_before).ok()
    kh_id = next(s["key_id"] for s in json.loads(run("signatory", "list", "--format", "json").out)
                 if s["person"] == "李勇")
    run("signatory", "revoke", kh_id, "--reason", "调离", "--sign-with", keys["office"]).ok()
    before = run.positions()
    refused(run(*SCORE, "--points", "71", "--note", "n", "--sign-with", keys["kh"]), "revoked")
    refused(run("submit", signed_before), "revoked")
    assert run.positions() == before
    assert total(run) == "70.00"
    assert run("verify").code == 0  # what it signed before revocation stays valid


def test_future_signing_time_refused(run, keys):
    before = run.positions()
    refused(run("--signed-at", "2099-01-01T00:00:00Z", *SCORE, "--points", "70", "--sign-with", keys["kh"]),
            "later than the time it was recorded")
    refused(run("--signed-at", "2016-06-01T00:00:00Z", *SCORE, "--points", "70", "--sign-with", keys["kh"]),
            "valid from")
    assert run.positions() == before


def test_usage_errors_exit_2(run, keys):
    res = run("score", "record", "--year", "x")
    assert res.code == 2 and "Traceback" not in res.err
    res = run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--sign-with",
              keys["kh"])
    assert res.code == 2 and "--points" in res.err

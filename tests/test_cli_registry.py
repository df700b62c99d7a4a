"""Genesis and signatories end to end through the CLI, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cliharness import Cli, refused


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


def _init(run: Cli) -> str:
    office = run.key("office")
    run("init", "--name", "测试台账", "--office-key", office).ok()
    return office


def test_init_registers_office_key(run):
    office = _init(run)
    listing = json.loads(run("signatory", "list", "--format", "json").ok().out)
    assert [s["roles"] for s in listing] == ["office"]
    assert run.positions() == 1
    refused(run("init", "--name", "again", "--office-key", office), "holds a ledger already")
    assert run.positions() == 1


def test_commands_on_an_empty_database_are_refused(run):
    refused(run("signatory", "list"), "no ledger")


def test_add_and_revoke_signatory(run):
    office = _init(run)
    li = run.key("li")
    run("signatory", "add", "--person", "李明", "--department", "市发展改革局", "--role", "department",
        "--public-key", li + ".pub", "--sign-with", office).ok()
    listing = {s["person"]: s for s in json.loads(run("signatory", "list", "--format", "json").ok().out)}
    key_id = listing["李明"]["key_id"]
    run("signatory", "revoke", key_id, "--reason", "调离", "--sign-with", office).ok()
    listing = {s["person"]: s for s in json.loads(run("signatory", "list", "--format", "json").ok().out)}
    assert listing["李明"]["revoked_at"]
    before = run.positions()
    # a revoked key signs nothing after its revocation
    refused(run("signatory", "add", "--person", "X", "--role", "auditor", "--public-key", run.key("x") + ".pub",
                "--sign-with", li), "revoked")
    refused(run("signatory", "revoke", key_id, "--reason", "again", "--sign-with", office), "revoked already")
    assert run.positions() == before


def test_init_names_the_office_holder(run):
    office = run.key("office")
    refused(run("init", "--name", "测试台账", "--office-key", office, "--person", ""), "person")
    refused(run("init", "--name", "测试台账", "--office-key", office, "--department", " 考核办"), "department")
    assert run.positions() == 0


def test_the_last_office_key_is_not_revoked(run):
    office = _init(run)
    office_id = json.loads(run("signatory", "list", "--format", "json").ok().out)[0]["key_id"]
    before = run.positions()
    # with no office key left, no key could ever be registered or revoked again
    refused(run("signatory", "revoke", office_id, "--reason", "泄露", "--sign-with", office), "last office key")
    assert run.positions() == before
    # the way out of a lost office key: register the new one, then revoke the old one with it
    new = run.key("office2")
    run("signatory", "add", "--person", "王新", "--department", "高新区考核办", "--role", "office",
        "--public-key", new + ".pub", "--sign-with", office).ok()
    new_id = next(s["key_id"] for s in json.loads(run("signatory", "list", "--format", "json").ok().out)
                  if s["person"] == "王新")
    run("signatory", "revoke", office_id, "--reason", "泄露", "--sign-with", new).ok()
    refused(run("signatory", "revoke", new_id, "--reason", "x", "--sign-with", new), "last office key")


def test_only_office_registers(run):
    office = _init(run)
    li = run.key("li")
    run("signatory", "add", "--person", "李明", "--department", "市发展改革局", "--role", "department",
        "--public-key", li + ".pub", "--sign-with", office).ok()
    before = run.positions()
    refused(run("signatory", "add", "--person", "Y", "--role", "auditor", "--public-key", run.key("y") + ".pub",
                "--sign-with", li), "needs role office")
    assert run.positions() == before


def test_unknown_signer_is_refused(run):
    _init(run)
    stranger = run.key("stranger")
    refused(run("signatory", "add", "--person", "Y", "--role", "auditor", "--public-key", run.key("y") + ".pub",
                "--sign-with", stranger), "unknown signer")
    assert run.positions() == 1


def test_registration_refusals(run):
    office = _init(run)
    li = run.key("li")
    refused(run("signatory", "add", "--person", "李明", "--role", "department", "--public-key", li + ".pub",
                "--sign-with", office), "must name the department")
    refused(run("signatory", "add", "--person", " 李明", "--role", "auditor", "--public-key", li + ".pub",
                "--sign-with", office), "leading/trailing spaces")
    refused(run("signatory", "add", "--person", "李明", "--role", "auditor", "--public-key", li,
                "--sign-with", office), "private key")
    refused(run("signatory", "add", "--person", "李明", "--role", "auditor", "--public-key", li + ".pub",
                "--valid-from", "yesterday", "--sign-with", office), "ISO 8601")
    run("signatory", "add", "--person", "李明", "--role", "auditor", "--public-key", li + ".pub",
        "--sign-with", office).ok()
    refused(run("signatory", "add", "--person", "李明2", "--role", "auditor", "--public-key", li + ".pub",
                "--sign-with", office), "registered already")
    assert run.positions() == 2


def test_wrong_passphrase_and_missing_option(run):
    office = _init(run)
    res = run("signatory", "revoke", "ed25519:00", "--reason", "r", "--sign-with", office,
              env={"KAOHE_TEST_PASS": "wrong"})
    refused(res, "wrong passphrase")
    res = run("signatory", "revoke", "--reason", "r")
    assert res.code == 2 and "Traceback" not in res.err


def test_a_role_no_adopted_scheme_declares_is_refused_or_noted(run, tmp_path):
    from tests.hy_ledger import hy_text

    office = _init(run)
    before = run.key("before")
    # before any scheme nothing can be checked; adopting one names the holder of a role it does not declare
    run("signatory", "add", "--person", "欧杏", "--role", "组员", "--public-key", before + ".pub",
        "--sign-with", office).ok()
    scheme = tmp_path / "hy.toml"
    scheme.write_text(hy_text(), encoding="utf-8")
    adopted = run("scheme", "adopt", scheme, "--sign-with", office).ok()
    assert "note: 欧杏" in adopted.err and "holds 组员, which no adopted scheme declares" in adopted.err
    # once a scheme is adopted, a misspelt role is refused before it is signed (a key's roles cannot change)
    typo, size = run.key("typo"), run.positions()
    refused(run("signatory", "add", "--person", "刘分管", "--role", "组 长", "--public-key", typo + ".pub",
                "--sign-with", office), "role 组 长 is declared by no adopted scheme (they declare 组长; built in: "
            "office, department, auditor, inspector)")
    assert run.positions() == size
    run("signatory", "add", "--person", "刘分管", "--role", "组长", "--public-key", typo + ".pub",
        "--sign-with", office).ok()
    later = run.key("later")  # a role of a scheme still to be adopted, on purpose
    run("signatory", "add", "--person", "王新", "--role", "督查组", "--unlisted", "--public-key", later + ".pub",
        "--sign-with", office).ok()
    assert run.positions() == size + 2


BP = Path(__file__).resolve().parents[1] / "examples" / "bp-2017.toml"


def test_a_department_no_adopted_scheme_names_is_refused_or_noted(run):
    office = run.key("office")
    run("init", "--name", "北票", "--office-key", office, "--department", "北票市考核办").ok()
    add = ["signatory", "add", "--role", "department", "--sign-with", office]
    # before any scheme nothing can be checked; adopting one names the holder of a department it does not name
    run(*add, "--person", "李明", "--department", "市发改局", "--public-key", run.key("early") + ".pub").ok()
    adopted = run("scheme", "adopt", BP, "--sign-with", office).ok()
    assert ("note: 李明 (" in adopted.err and "signs for 市发改局, which no adopted scheme names (closest: 市发展改革局)"
            in adopted.err)
    # once a scheme is adopted, a misspelt department is refused before it is signed (a key cannot change)
    size = run.positions()
    refused(run(*add, "--person", "王强", "--department", "市发改局", "--public-key", run.key("typo") + ".pub"),
            "department 市发改局 is named by no adopted scheme (closest: 市发展改革局): check the spelling, or pass "
            "--unlisted")
    refused(run(*add, "--person", "王强", "--department", "统计局", "--role", "组长", "--public-key",
                run.key("typo") + ".pub"), "department 统计局 is named by no adopted scheme (none is close among")
    assert run.positions() == size
    # the scheme's departments, the office's own, other roles' departments and --unlisted pass
    run(*add, "--person", "王强", "--department", "市发展改革局", "--public-key", run.key("typo") + ".pub").ok()
    run(*add, "--person", "赵敏", "--department", "北票市考核办", "--public-key", run.key("kh") + ".pub").ok()
    run("signatory", "add", "--person", "吴审计", "--department", "市审计局", "--role", "auditor", "--public-key",
        run.key("audit") + ".pub", "--sign-with", office).ok()
    run(*add, "--person", "钱统计", "--department", "统计局", "--unlisted", "--public-key",
        run.key("stats") + ".pub").ok()
    assert run.positions() == size + 4


def test_departments_are_not_checked_while_no_scheme_names_one(run):
    office = _init(run)
    run("scheme", "adopt", Path(BP).with_name("dq-2023.toml"), "--sign-with", office).ok()  # every item: any department
    run("signatory", "add", "--person", "李明", "--department", "任一部门", "--role", "department", "--public-key",
        run.key("li") + ".pub", "--sign-with", office).ok()

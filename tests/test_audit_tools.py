"""The auditor's tools on real signed ledgers and real files: `verify-proof` ties a proof to the ledger of your
checkpoints and checks their signatures with the keys the proof carries, saying what it could not check; every
command that takes a checkpoint file (prove, cosign, diff, history) refuses one with a bad signature, or of another
ledger, with the same one line. Uses the ledger of tests/test_tamper.py and a second ledger on the same backend."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.checkpoint import add_signature, parse
from ledger.keys import load_private
from tests.cliharness import PASSPHRASE, Cli, refused
from tests.hy_ledger import UNIT, build
from tests.test_tamper import case  # noqa: F401 (the fixture)

_OTHERS: dict[str, Path] = {}


@pytest.fixture()
def other_cp(db_url, tmp_path_factory) -> Path:
    """A checkpoint file of a second ledger (another ledger id) on the same backend, built once per backend."""
    kind = "postgres" if db_url.startswith("postgresql") else "sqlite"
    if kind not in _OTHERS:
        from tests.conftest import _pg_database

        folder = tmp_path_factory.mktemp("other-ledger")
        run = Cli(_pg_database() if kind == "postgres" else str(folder / "other.db"), folder)
        keys = build(run, folder)
        run("checkpoint", "--sign-with", keys["office"], "--out", folder / "cp.txt").ok()
        _OTHERS[kind] = folder / "cp.txt"
    return _OTHERS[kind]


def ledger_of(path) -> str:
    return parse(Path(path).read_text(encoding="utf-8")).ledger_id


def signer_of(path) -> str:
    return parse(Path(path).read_text(encoding="utf-8")).signatures[0][0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def bad_signature(case, tmp_path: Path) -> Path:
    """cp_full with one character of the office's signature changed (still canonical base64)."""
    text = Path(case.cp("cp_full")).read_text(encoding="utf-8")
    head, sig = text.rstrip("\n").rsplit(" ", 1)
    sig = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    return write(tmp_path / "cp-bad.txt", f"{head} {sig}\n")


def signed_also_by(case, tmp_path: Path, name: str, source: str = "cp_full", alone: bool = False) -> Path:
    """A checkpoint file with one more signature line, by a key `name` the ledger never registered."""
    stranger = load_private(case.run.key(name), PASSPHRASE.encode())
    cp = parse(Path(case.cp(source)).read_text(encoding="utf-8"))
    if alone:
        cp = type(cp)(cp.ledger_id, cp.size, cp.root, cp.time)
    return write(tmp_path / f"cp-{name}.txt", add_signature(cp, stranger.key_id, stranger.key.sign).format())


def prove(case, tmp_path: Path, *args: str) -> Path:
    return write(tmp_path / f"proof-{args[0]}.json", case.run("prove", *args).ok().out)


def test_a_proof_of_one_ledger_against_a_checkpoint_of_another_is_refused(case, other_cp, tmp_path):
    ours, theirs = ledger_of(case.cp("cp_full")), ledger_of(other_cp)
    assert ours != theirs
    inclusion = prove(case, tmp_path, "inclusion", "6", "--checkpoint", case.cp("cp_full"))
    refused(case.run("verify-proof", inclusion, "--checkpoint", other_cp),
            f"the proof is of ledger {ours}, but checkpoint {other_cp} is for ledger {theirs}")
    consistency = prove(case, tmp_path, "consistency", "--old", case.cp("cp_a"), "--new", case.cp("cp_full"))
    refused(case.run("verify-proof", consistency, "--checkpoint", case.cp("cp_a"), "--checkpoint", other_cp),
            f"the proof is of ledger {ours}, but checkpoint {other_cp} is for ledger {theirs}")


def test_verify_proof_checks_the_signatures_it_has_keys_for_and_names_the_others(case, tmp_path):
    office = signer_of(case.cp("cp_full"))
    inclusion = prove(case, tmp_path, "inclusion", "6", "--checkpoint", case.cp("cp_full"))
    doc = json.loads(inclusion.read_text(encoding="utf-8"))
    assert list(doc["keys"]) == [office] and doc["keys"][office].startswith("ed25519:")
    out = case.run("verify-proof", inclusion, "--checkpoint", case.cp("cp_full")).ok().out
    assert out.startswith("OK: inclusion of leaf 5 in the tree of size 15 holds, and its root at size 15 matches")
    assert (f"your checkpoint's signatures by {office} verify with the public keys the proof carries (that the ledger "
            "registered these keys is not checked offline: `ledger verify --checkpoint FILE` checks it)") in out
    got = json.loads(case.run("verify-proof", inclusion, "--checkpoint", case.cp("cp_full"), "--format", "json")
                     .ok().out)
    assert got["signatures_checked"] == [office] and got["signatures_not_checked"] == []

    consistency = prove(case, tmp_path, "consistency", "--old", case.cp("cp_a"), "--new", case.cp("cp_full"))
    out = case.run("verify-proof", consistency, "--checkpoint", case.cp("cp_a"), "--checkpoint",
                   case.cp("cp_full")).ok().out
    assert f"your checkpoints' signatures by {office} verify" in out

    # a cosignature the proof has no key for is named as not checked, never passed over in silence
    cosigned = signed_also_by(case, tmp_path, "stranger")
    stranger = parse(cosigned.read_text(encoding="utf-8")).signatures[1][0]
    out = case.run("verify-proof", inclusion, "--checkpoint", cosigned).ok().out.rstrip("\n")
    assert out.endswith(f"; not checked (the proof carries no key for them): {stranger}")

    # a signature that does not verify with the key the proof carries fails
    refused(case.run("verify-proof", inclusion, "--checkpoint", bad_signature(case, tmp_path)),
            f"signature by {office} does not verify (with the public key the proof carries)")

    # a proof without keys (made before they were added): nothing about the signatures is claimed
    bare = write(tmp_path / "bare.json", json.dumps({k: v for k, v in doc.items() if k != "keys"}))
    out = case.run("verify-proof", bare, "--checkpoint", case.cp("cp_full")).ok().out
    assert ("your checkpoint's signatures were not checked: the proof carries no public key for them and there is "
            "no registry offline") in out and "verify with" not in out

    # a key slipped in under the office's key id is not that key
    other_key = Path(case.run.key("stranger") + ".pub").read_text(encoding="utf-8").strip()
    swapped = write(tmp_path / "swapped.json", json.dumps(dict(doc, keys={office: other_key})))
    refused(case.run("verify-proof", swapped, "--checkpoint", case.cp("cp_full")),
            f"the proof's key for {office} is the key {stranger}, not that one")


def test_every_command_refuses_a_checkpoint_with_a_bad_signature_alike(case, tmp_path):
    bad, office = bad_signature(case, tmp_path), signer_of(case.cp("cp_full"))
    size, before = case.run.positions(), bad.read_text(encoding="utf-8")
    expected = f"checkpoint {bad}: signature by {office} does not verify"
    for args in (["prove", "inclusion", "1", "--checkpoint", bad],
                 ["prove", "consistency", "--old", case.cp("cp_a"), "--new", bad],
                 ["prove", "consistency", "--old", bad, "--new", case.cp("cp_full")],
                 ["diff", "--from", bad, "--to", "3"],
                 ["history", "--unit", UNIT, "--as-of", bad],
                 ["checkpoint", "cosign", bad, "--sign-with", case.base.keys["zz"]],
                 ["checkpoint", "cosign", case.cp("cp_full"), "--previous", bad, "--sign-with",
                  case.base.keys["office"], "--out", tmp_path / "never.txt"]):
        refused(case.run(*args), expected)
    assert case.run.positions() == size and bad.read_text(encoding="utf-8") == before
    assert not (tmp_path / "never.txt").exists()

    # signed by no key this ledger registered: refused too, by prove as by the others
    stranger = signed_also_by(case, tmp_path, "stranger", alone=True)
    for args in (["prove", "inclusion", "1", "--checkpoint", stranger],
                 ["checkpoint", "cosign", stranger, "--sign-with", case.base.keys["office"]],
                 ["diff", "--from", stranger, "--to", "3"]):
        refused(case.run(*args), f"checkpoint {stranger} bears no signature by a key registered in this ledger")
    assert case.run.positions() == size


def test_a_checkpoint_of_another_ledger_is_named_as_such(case, other_cp, tmp_path):
    ours, theirs = ledger_of(case.cp("cp_full")), ledger_of(other_cp)
    expected = f"checkpoint {other_cp} is for ledger {theirs}, and this ledger is {ours}"
    size = case.run.positions()
    for args in (["checkpoint", "cosign", other_cp, "--sign-with", case.base.keys["office"], "--out",
                  tmp_path / "never.txt"],
                 ["checkpoint", "cosign", case.cp("cp_full"), "--previous", other_cp, "--sign-with",
                  case.base.keys["office"], "--out", tmp_path / "never.txt"],
                 ["prove", "inclusion", "1", "--checkpoint", other_cp],
                 ["diff", "--from", other_cp, "--to", "3"]):
        refused(case.run(*args), expected)
    assert case.run.positions() == size and not (tmp_path / "never.txt").exists()

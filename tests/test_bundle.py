"""Audit bundles: export, offline verification with no database, tampered and broken bundles, and restore into the
other backend with the same Merkle root and the same grades. Uses the ledger of tests/test_tamper.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ledger.bundle
import ledger.bundle_reader
from ledger.checkpoint import parse
from ledger.bundle_reader import read_bundle
from ledger.proofs import read_checkpoint
from projections.audit import verify_bundle
from tests.cliharness import Cli, refused
from tests.test_tamper import SIZE, Case, RawStore, base_for, copy_database

NO_DB = "/no/such/directory/ledger.db"  # cannot be opened, nor created: any use of a database fails at once


@pytest.fixture()
def case(db_url, tmp_path_factory):
    base = base_for(db_url, tmp_path_factory)
    copy_database(base.url, db_url)
    raw = RawStore(db_url)
    yield Case(Cli(db_url, base.dir), raw, base, db_url)
    raw.close()


@pytest.fixture()
def bundle(case, tmp_path) -> Path:
    path = tmp_path / "hy-2017.kaohe.zip"
    out = case.run("bundle", "export", path).ok().out
    assert f"Exported {SIZE} events" in out
    return path


def empty_database(kind: str, tmp_path: Path, name: str) -> str:
    """A new empty database of a backend ("sqlite" or "postgres")."""
    if kind == "sqlite":
        return str(tmp_path / f"{name}.db")
    if not os.environ.get("LEDGER_TEST_PG"):
        pytest.skip("no PostgreSQL server (run through tests/run_suite.py)")
    from tests.conftest import _pg_database

    return _pg_database()


def rewrite(src: Path, dst: Path, events=None, manifest=None, members: dict | None = None) -> Path:
    """A copy of a bundle with its event lines, manifest and/or other members edited (the ZIP rewritten, CRCs and
    all); `members` maps a name to its new bytes, or to None to leave it out."""
    members = dict(members or {})
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "events.jsonl" and events:
                data = "".join(events(data.decode("utf-8").splitlines(keepends=True))).encode("utf-8")
            if name == "manifest.json" and manifest:
                data = json.dumps(manifest(json.loads(data)), ensure_ascii=False).encode("utf-8")
            data = members.pop(name, data)
            if data is not None:
                zout.writestr(name, data)
        for name, data in members.items():
            zout.writestr(name, data)
    return dst


def listed(result, *fragments: str) -> list[str]:
    """Assert exit 1 with `FAILED: N failure(s)` on stderr and then the N failures, a line each, one of them naming
    every fragment; returns the failures."""
    assert result.code == 1, f"expected exit 1, got {result.code}: {result.out}{result.err}"
    head, *failures = result.err.rstrip("\n").split("\n")
    assert head == f"FAILED: {len(failures)} failure{'s' if len(failures) > 1 else ''}", result.err
    assert failures and all(f.startswith("  ") and f.strip() for f in failures), result.err
    failures = [f[2:] for f in failures]
    assert any(all(fragment in f for fragment in fragments) for f in failures), (fragments, failures)
    return failures


def offline(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`ledger …` in a fresh process whose only database is one that does not exist."""
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "LEDGER_DB": NO_DB}, timeout=60)


def test_export_then_verify_with_no_database(case, bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        lines = zf.read("events.jsonl").decode("utf-8").splitlines()
    assert names == {"manifest.json", "events.jsonl", "checkpoints/00000011.json", "checkpoints/00000013.json"}
    assert manifest["format"] == ledger.bundle.FORMAT and manifest["size"] == SIZE == len(lines)
    assert list(json.loads(lines[0])) == list(ledger.bundle.EVENT_FIELDS)
    report = json.loads(case.run("verify", "--format", "json").ok().out)
    assert manifest["root"] == report["root"]

    cps = [a for name in ("cp_a", "cp_b", "cp_full") for a in ("--checkpoint", case.cp(name))]
    done = offline("bundle", "verify", str(bundle), *cps, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ") and len(done.stdout.splitlines()) == 1
    assert f"{SIZE} events" in done.stdout and "closed years replayed: 2017" in done.stdout
    assert report["root"] in done.stdout
    # the same environment really has no database: a command that needs one fails
    assert offline("log", cwd=tmp_path).returncode == 1


def test_an_existing_file_is_not_overwritten_unless_asked(case, bundle):
    before = bundle.read_bytes()
    refused(case.run("bundle", "export", bundle), "exists already; name a new file, or pass --replace")
    assert bundle.read_bytes() == before
    out = case.run("bundle", "export", bundle, "--replace").ok().out
    assert f"Exported {SIZE} events" in out and zipfile.is_zipfile(bundle)
    assert not bundle.with_name(bundle.name + ".part").exists()


def test_tampered_bundle_names_the_event(case, bundle, tmp_path):
    def raise_score(lines):
        event = json.loads(lines[5])
        event["envelope"]["act"]["value"] = "95"
        lines[5] = json.dumps(event, ensure_ascii=False) + "\n"
        return lines

    edited = rewrite(bundle, tmp_path / "edited.zip", events=raise_score)
    res = case.run("bundle", "verify", edited, "--checkpoint", case.cp("cp_full"))
    assert listed(res, "event at position 6", "signature") == json.loads(
        case.run("bundle", "verify", edited, "--checkpoint", case.cp("cp_full"), "--format", "json").out)["failures"]

    cut = rewrite(bundle, tmp_path / "cut.zip", events=lambda lines: lines[:-1],
                  manifest=lambda m: dict(m, size=SIZE - 1))
    listed(case.run("bundle", "verify", cut, "--checkpoint", case.cp("cp_full")), f"position {SIZE}", "missing")
    # the manifest is checked against the events, but it is not an anchor: the checkpoint is
    wrong = rewrite(bundle, tmp_path / "manifest.zip", manifest=lambda m: dict(m, size=SIZE + 1))
    listed(case.run("bundle", "verify", wrong, "--checkpoint", case.cp("cp_a")), "manifest says")


def test_a_removed_or_moved_line_is_named_as_such(case, bundle, tmp_path):
    cp = ["--checkpoint", case.cp("cp_full")]
    # line 7 (a score) removed: the checkpoint act of size 10, once at position 11, now has 9 events before it
    cut = rewrite(bundle, tmp_path / "cut.zip", events=lambda lines: lines[:6] + lines[7:],
                  manifest=lambda m: dict(m, size=SIZE - 1))
    res = case.run("bundle", "verify", cut, *cp)
    got = listed(res, "event at position 10 (", "it signs the tree head of size 10, but only 9 events come before it: "
                 "an event at positions 1 to 10 was changed, removed, reordered or inserted")
    # every failure, in the order and words of the JSON form
    assert got == json.loads(case.run("bundle", "verify", cut, *cp, "--format", "json").out)["failures"]
    assert len(got) == 6 and got[0].startswith("event at position 10 (")
    assert ("checkpoints/00000011.json copies a checkpoint act at position 11, but the event there is a "
            "score.recorded; the log holds that act at position 10: events before it were removed or reordered") in got
    assert "the checkpoint act at position 10 has no copy checkpoints/00000010.json" in got
    # lines 7 and 8 swapped: each still verifies on its own, the tree head after them does not
    swapped = rewrite(bundle, tmp_path / "swapped.zip", events=lambda lines: lines[:6] + [lines[7], lines[6]] + lines[8:])
    listed(case.run("bundle", "verify", swapped, *cp), "event at position 11 (", "the tree head it signs (size 10) is "
           "not the root of the events before it: an event at positions 1 to 10 was changed, removed, reordered")


def test_edited_checkpoint_copies_are_named(case, bundle, tmp_path):
    cp = ["--checkpoint", case.cp("cp_full")]
    with zipfile.ZipFile(bundle) as zf:
        copy = json.loads(zf.read("checkpoints/00000011.json"))
    edited = rewrite(bundle, tmp_path / "edited.zip", members={"checkpoints/00000011.json": json.dumps(
        dict(copy, size=copy["size"] + 1, signed_at="2017-01-01T00:00:00Z")).encode()})
    listed(case.run("bundle", "verify", edited, *cp),
           "checkpoints/00000011.json differs from the checkpoint act at position 11 (signed_at, size): the copy was "
           "edited")
    dropped = rewrite(bundle, tmp_path / "dropped.zip", members={"checkpoints/00000013.json": None})
    listed(case.run("bundle", "verify", dropped, *cp), "the checkpoint act at position 13 has no copy "
                                                      "checkpoints/00000013.json")
    moved = rewrite(bundle, tmp_path / "moved.zip", members={"checkpoints/00000013.json": None,
                                                             "checkpoints/00000012.json": json.dumps(copy).encode()})
    listed(case.run("bundle", "verify", moved, *cp), "checkpoints/00000012.json copies a checkpoint act at position "
           "12, but the event there is a score.recorded; the log holds that act at position 11")
    extra = rewrite(bundle, tmp_path / "extra.zip", members={"README.txt": b"trust me\n"})
    listed(case.run("bundle", "verify", extra, *cp), "README.txt: a member the format does not define")


@pytest.mark.parametrize("damage, fragments", [
    ("removed", ("event at position 8 (", "the event indexed at position 8 was removed")),
    ("cut", (f"The event at position {SIZE} is missing: the log index",)),
    ("edited", ("event at position 6 (", "differs from the event indexed at this position: it was changed")),
    ("index rebuilt", ("event at position 12 (", "it signs the tree head of size 12, but only 11 events come before")),
])
def test_export_refuses_a_log_that_does_not_match_its_index_or_tree_heads(case, tmp_path, damage, fragments):
    if damage == "edited":
        row = case.raw.row(6)
        row.state["envelope"]["act"]["value"] = "90"
        case.raw.rewrite(row)
    else:
        case.raw.delete(case.raw.row({"removed": 8, "cut": SIZE, "index rebuilt": 12}[damage]).nid)
    if damage == "index rebuilt":  # whoever removed it also rebuilt the index: the tree head signed after it tells
        case.raw.drop_index()
    path = tmp_path / "damaged.zip"
    res = case.run("bundle", "export", path)
    refused(res, "Error: the log does not match its log index or the tree heads it signed: ")
    for fragment in fragments + ("nothing exported (`ledger verify` says more; --damaged exports the log as it is)",):
        assert fragment in res.err
    assert not path.exists() and not path.with_name(path.name + ".part").exists()
    # for forensics, exported as it is, with a warning
    res = case.run("bundle", "export", path, "--damaged").ok()
    assert res.out.startswith("Exported ") and res.err.startswith("warning: exported as it is (--damaged)")
    assert fragments[-1] in res.err and zipfile.is_zipfile(path)
    assert case.run("bundle", "verify", path, "--checkpoint", case.cp("cp_full")).code == 1


def test_export_of_a_log_whose_index_a_crash_left_behind(case, tmp_path):
    case.raw.drop_index(keep=SIZE - 4)  # not damage: the index is brought up to date first
    res = case.run("bundle", "export", tmp_path / "b.zip").ok()
    assert res.err == "" and f"Exported {SIZE} events" in res.out


def test_broken_bundles_fail_in_one_line(case, bundle, tmp_path, monkeypatch):
    cp = ["--checkpoint", case.cp("cp_a")]
    data = bundle.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    refused(case.run("bundle", "verify", truncated, *cp), "cut short")
    (tmp_path / "text.zip").write_text("not a zip\n")
    refused(case.run("bundle", "verify", tmp_path / "text.zip", *cp), "not a readable audit bundle")
    garbled = rewrite(bundle, tmp_path / "garbled.zip", events=lambda lines: lines[:3] + ["{oops\n"] + lines[4:])
    refused(case.run("bundle", "verify", garbled, *cp), "events.jsonl line 4")
    floats = rewrite(bundle, tmp_path / "floats.zip",
                     events=lambda lines: [lines[0].replace('"version":1', '"version":1.0', 1)] + lines[1:])
    refused(case.run("bundle", "verify", floats, *cp), "line 1")
    unended = rewrite(bundle, tmp_path / "unended.zip", events=lambda lines: lines[:-1] + [lines[-1].rstrip("\n")])
    refused(case.run("bundle", "verify", unended, *cp), "cut short")
    refused(case.run("bundle", "verify", tmp_path / "absent.zip", *cp), "cannot read bundle")
    monkeypatch.setattr(ledger.bundle_reader, "MAX_BUNDLE", 100)
    refused(case.run("bundle", "verify", bundle, *cp), "larger than 100 bytes")
    monkeypatch.setattr(ledger.bundle_reader, "MAX_BUNDLE", 1 << 32)
    monkeypatch.setattr(ledger.bundle_reader, "MAX_EVENTS", 100)
    refused(case.run("bundle", "verify", bundle, *cp), "events.jsonl is larger than 100 bytes")
    assert case.run("bundle", "verify", bundle).code == 2  # an outside checkpoint is required


def test_restore_into_the_other_backend_and_back(case, bundle, tmp_path):
    grades = case.run("grades", "--year", "2017", "--format", "json").ok().out
    root = json.loads(case.run("verify", "--format", "json").ok().out)["root"]
    kind = "postgres" if case.url.startswith("postgresql") else "sqlite"
    other = Cli(empty_database({"sqlite": "postgres", "postgres": "sqlite"}[kind], tmp_path, "other"), case.base.dir)
    out = other("bundle", "import", bundle, "--checkpoint", case.cp("cp_full")).ok().out
    assert f"Imported {SIZE} events" in out and root in out
    assert json.loads(other("verify", "--checkpoint", case.cp("cp_full"), "--format", "json").ok().out)["root"] == root
    assert other("grades", "--year", "2017", "--format", "json").ok().out == grades
    refused(other("bundle", "import", bundle), "holds events already")

    # and back into an empty database of the first backend, from a bundle the other one exported
    again = tmp_path / "again.zip"
    other("bundle", "export", again).ok()
    third = Cli(empty_database(kind, tmp_path, "third"), case.base.dir)
    assert "checked against itself only" in third("bundle", "import", again).ok().out
    refused(case.run("bundle", "import", again), "holds events already")
    # a database whose events were deleted still holds the derived tables of the old log: refused too
    case.raw.sql(f"DELETE FROM {case.raw.table}")
    refused(case.run("bundle", "import", again), "is not empty")
    back = Cli(empty_database(kind, tmp_path, "back"), case.base.dir)
    back("bundle", "import", again).ok()
    assert json.loads(back("verify", "--format", "json").ok().out)["root"] == root
    assert back("grades", "--year", "2017", "--format", "json").ok().out == grades


def test_tampered_bundle_is_not_imported(case, bundle, tmp_path):
    target = Cli(str(tmp_path / "empty.db"), case.base.dir)

    def forge(lines):
        event = json.loads(lines[6])
        event["signature"] = json.loads(lines[5])["signature"]
        lines[6] = json.dumps(event, ensure_ascii=False) + "\n"
        return lines

    forged = rewrite(bundle, tmp_path / "forged.zip", events=forge)
    refused(target("bundle", "import", forged), "position 7")
    refused(target("bundle", "import", bundle, "--checkpoint", case.cp("cp_fork_missing")), "cp_fork_missing")
    refused(target("log"), "no ledger")


def test_offline_verdicts_print_json(case, bundle, tmp_path):
    cp = case.cp("cp_full")
    done = offline("bundle", "verify", str(bundle), "--checkpoint", cp, "--format", "json", cwd=tmp_path)
    got = json.loads(done.stdout)
    assert done.returncode == 0 and got["ok"] and got["size"] == SIZE and got["failures"] == []
    assert got["root"] == json.loads(case.run("verify", "--format", "json").ok().out)["root"]
    cut = rewrite(bundle, tmp_path / "cut.zip", events=lambda lines: lines[:-1],
                  manifest=lambda m: dict(m, size=SIZE - 1))
    done = offline("bundle", "verify", str(cut), "--checkpoint", cp, "--format", "json", cwd=tmp_path)
    got = json.loads(done.stdout)
    assert done.returncode == 1 and not got["ok"] and any("missing" in f for f in got["failures"])

    proof = tmp_path / "proof.json"
    proof.write_text(case.run("prove", "inclusion", "1", "--checkpoint", cp).ok().out, encoding="utf-8")
    done = offline("verify-proof", str(proof), "--checkpoint", cp, "--format", "json", cwd=tmp_path)
    got = json.loads(done.stdout)
    assert done.returncode == 0 and got["ok"] and got["type"] == "inclusion" and got["checkpoint_sizes"] == [SIZE]
    assert f"its root at size {SIZE} matches your checkpoint; your checkpoint's signatures by " in got["verdict"]
    assert got["signatures_checked"] == [parse(Path(cp).read_text(encoding="utf-8")).signatures[0][0]]

    public = case.base.keys["office"] + ".pub"
    shown = json.loads(offline("key", "show", public, "--format", "json", cwd=tmp_path).stdout)
    assert shown["key_id"].startswith("ed25519:") and shown["public_key"] in Path(public).read_text()


def test_a_bundle_is_verified_as_it_was_first_read(case, bundle, tmp_path):
    # the events are read twice (checked as the file is opened, then verified, then replayed for the closed year)
    # from the file opened first: a file put in its place meanwhile is not read
    with read_bundle(bundle) as data:
        assert data.size == SIZE
        os.replace(rewrite(bundle, tmp_path / "cut.zip", events=lambda lines: lines[:-1]), bundle)
        report = verify_bundle(data, [read_checkpoint(case.cp("cp_full"))])
        assert sorted(data.checkpoints) == [11, 13]  # recorded as the events were verified
    assert report.ok and report.size == SIZE and report.closed_years == [2017], report.failures
    cut = offline("bundle", "verify", str(bundle), "--checkpoint", case.cp("cp_full"), cwd=tmp_path)
    assert cut.returncode == 1 and f"beyond the log, which holds {SIZE - 1} events" in cut.stderr, cut.stderr

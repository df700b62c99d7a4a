"""Hostile input (issue #8): property tests and a bounded fuzz over everything a user or an attacker hands the CLI —
scheme files, command arguments, signed act files, checkpoints, proofs, key files.

Invariants: never a traceback (every command runs with LEDGER_DEBUG=1, so an exception the guard would have turned
into a generic one-liner propagates here and fails the test); exit 1 with one stderr line starting "Error:" (or
"FAILED:" from verify), or exit 2 with click's usage text; nothing appended to the log unless the command said it
stored something; no input takes long (sizes are bounded). The database-touching properties share one ledger per
backend, built once for the module.
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.store import EventStore
from ledger.writer import Ledger
from tests.cliharness import PASS_ENV, PASSPHRASE, Cli
from tests.conftest import PG, _pg_database
from tests.hostile_inputs import FAST, LOOKALIKES, NASTY_NUMBERS, SLOW, mutated, mutated_scheme
from tests.hy_ledger import OTHER, UNIT, build

DEBUG = {"LEDGER_DEBUG": "1"}  # unexpected exceptions propagate instead of being printed as one line


@dataclass
class Hy:
    """The module's shared HY 2017 ledger on one backend, with signed files to mutate."""

    run: Cli
    keys: dict
    dir: Path
    ledger: Ledger
    act_file: Path      # a signed score, not submitted
    checkpoint: Path    # a signed checkpoint of the log
    proof: Path         # an inclusion proof against it
    consistency: Path   # a consistency proof between two checkpoints
    old_checkpoint: Path

    def size(self) -> int:
        return self.ledger.log_size()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hy(request, tmp_path_factory) -> Hy:
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    if request.param == "sqlite":
        url = str(tmp / "ledger.db")
    elif not PG:
        pytest.skip("no PostgreSQL server (run through tests/run_suite.py)")
    else:
        url = _pg_database()
    run = Cli(url, tmp)
    keys = build(run, tmp)
    run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "70",
        "--sign-with", keys["kh"]).ok()
    old_cp, cp = tmp / "cp-old.txt", tmp / "cp.txt"
    run("checkpoint", "--sign-with", keys["office"], "--out", old_cp).ok()
    run("adjust", "propose", "--year", "2017", "--unit", UNIT, "--rule", "重大创新", "--points", "2", "--reason", "创新",
        "--sign-with", keys["kh"]).ok()
    run("checkpoint", "--sign-with", keys["office"], "--out", cp).ok()
    proof, consistency, act = tmp / "proof.json", tmp / "consistency.json", tmp / "act.json"
    proof.write_text(run("prove", "inclusion", "3", "--checkpoint", cp).ok().out, encoding="utf-8")
    consistency.write_text(run("prove", "consistency", "--old", old_cp, "--new", cp).ok().out, encoding="utf-8")
    run("score", "record", "--year", "2017", "--unit", OTHER, "--indicator", "指标评估", "--points", "60",
        "--sign-with", keys["kh"], "--out", act).ok()
    ledger = Ledger(EventStore(url))
    yield Hy(run, keys, tmp, ledger, act, cp, proof, consistency, old_cp)
    ledger.store.close()


def check(res, stored_ok: tuple[str, ...] = ()) -> bool:
    """The outcome invariant; True if the command succeeded (only allowed when it says one of `stored_ok`)."""
    text = res.out + res.err
    assert "Traceback" not in text, text
    if res.code == 0:
        assert stored_ok and res.out.startswith(stored_ok), f"unexpected success: {res.out!r}"
        return True
    if res.code == 2:
        assert res.err.startswith(("Usage:", "Error:")), res.err
        return False
    assert res.code == 1, f"exit {res.code}: {text}"
    lines = res.err.strip().splitlines()
    assert lines and lines[0].startswith(("Error:", "FAILED:")), res.err
    assert len(lines) == 1 or lines[0].startswith("FAILED:"), res.err
    return False


def attempt(hy: Hy, *args, stored_ok: tuple[str, ...] = ("Stored",), env: dict | None = None):
    """Run a command against the shared ledger; check the invariants, including that a refusal appended nothing."""
    before = hy.size()
    started = time.monotonic()
    res = hy.run(*args, env={**DEBUG, **(env or {})})
    assert time.monotonic() - started < SLOW, f"{args[:3]} took {time.monotonic() - started:.1f} s"
    succeeded = check(res, stored_ok)
    after = hy.size()
    if succeeded and res.out.startswith("Stored"):
        assert after == before + 1, res.out
    else:
        assert after == before, f"a refused command appended: {args} → {res.err}"
    return res


# ---- scheme adoption through the CLI (file-level fuzz: test_hostile_schemes.py) -----------------------------------

@settings(max_examples=25, **FAST)
@given(data=mutated_scheme())
def test_mutated_scheme_adoption_through_the_cli(hy, data):
    path = hy.dir / "adopt.toml"
    path.write_bytes(data)
    attempt(hy, "scheme", "adopt", path, "--sign-with", hy.keys["office"])


# ---- command arguments --------------------------------------------------------------------------------------------

printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
numbers = st.one_of(st.sampled_from(NASTY_NUMBERS), printable,
                    st.from_regex(r"[+-]?\d{0,45}(\.\d{0,45})?([eE][+-]?\d{1,5})?", fullmatch=True))
HY_UNITS = ["组织人事局", "机关党委", "工会联合会", "区纪委", "招商合作局", "规划管理部", "建设局", "经济发展局"]
units = st.one_of(st.sampled_from(HY_UNITS), st.sampled_from(LOOKALIKES), st.text(max_size=40))
votes = st.one_of(printable, st.lists(st.tuples(st.sampled_from(["优秀", "良好", "及格", "不及格", "合格", "x", ""]),
                                                st.one_of(st.integers(-5, 10 ** 30).map(str), printable)),
                                      min_size=1, max_size=4)
                  .map(lambda pairs: ",".join(f"{k}={v}" for k, v in pairs)))


@settings(max_examples=60, **FAST)
@given(points=numbers, unit=units, note=st.one_of(st.none(), printable, st.text(max_size=30)))
def test_score_record_arguments(hy, points, unit, note):
    args = ["score", "record", "--year", "2017", f"--unit={unit}", "--indicator", "指标评估", f"--points={points}"]
    attempt(hy, *args, *([f"--note={note}"] if note is not None else []), "--sign-with", hy.keys["kh"])


@settings(max_examples=50, **FAST)
@given(unit=units, given_=st.sampled_from(["votes", "votes", "score", "level", "two"]), votes=votes, score=numbers,
       level=st.one_of(st.sampled_from(["优秀", "良好", "不及格", "优秀 "]), printable),
       component=st.sampled_from(["班子成员评议", "部门互评", "班子成员评议 ", "没有"]), round_=printable)
def test_evaluation_record_arguments(hy, unit, given_, votes, score, level, component, round_):
    args = ["evaluation", "record", "--year", "2017", f"--unit={unit}", f"--component={component}",
            f"--round={round_}"]
    args += [f"--votes={votes}"] if given_ in ("votes", "two") else []
    args += [f"--score={score}"] if given_ in ("score", "two") else []
    args += [f"--level={level}"] if given_ == "level" else []
    attempt(hy, *args, "--sign-with", hy.keys["office"])


@settings(max_examples=60, **FAST)
@given(unit=units, rule=st.one_of(st.sampled_from(["荣誉", "重大创新", "发表", "单项考核", "荣誉 ", "没有"]), printable),
       inputs=st.lists(st.tuples(st.sampled_from(["--points", "--level", "--option", "--matter", "--count",
                                                  "--amount", "--rank", "--date", "--input"]),
                                 st.one_of(numbers, printable,
                                           st.sampled_from(["市级", "省级", "国家级", "优秀", "level=市级", "2018-01-11",
                                                            "=x", "points=", "x=" + "9" * 60, "9" * 5000]))),
                       max_size=4),
       reason=st.one_of(printable, st.text(max_size=10)), document=printable)
def test_adjust_propose_arguments(hy, unit, rule, inputs, reason, document):
    args = ["adjust", "propose", "--year", "2017", f"--unit={unit}", f"--rule={rule}", f"--reason={reason}",
            f"--document={document}", *[f"{option}={value}" for option, value in inputs]]
    attempt(hy, *args, "--sign-with", hy.keys["kh"])


@settings(max_examples=30, **FAST)
@given(ref=st.one_of(st.text(max_size=20), st.from_regex(r"[0-9a-f-]{0,40}", fullmatch=True)),
       command=st.sampled_from(["approve", "reject", "rescind"]))
def test_adjustment_ids(hy, ref, command):
    extra = {"approve": ["--yes"], "reject": ["--reason", "r"], "rescind": ["--reason", "r"]}[command]
    key = hy.keys["kh" if command == "rescind" else "zz"]
    attempt(hy, "adjust", command, f"{ref}", *extra, "--sign-with", key)


# ---- signed act files for `ledger submit` -------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 30), 10 ** 30), st.text(max_size=20),
              st.sampled_from(["", "\x00", "1e400", "-0", "NaN", "_type_", "2017-12-20T02:00:00Z"])),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=12)
plausible = st.one_of(st.sampled_from(NASTY_NUMBERS + LOOKALIKES), st.integers(-3, 3), st.sampled_from([
    "2017-12-20T02:00:00Z", "2017-12-20T02:00:00+08:00", "2099-01-01T00:00:00Z", "0000-00-00T00:00:00Z",
    "ed25519:0000000000000000", "ed25519", "score.recorded", "adjustment.approved", "ledger.genesis",
    "00000000-0000-0000-0000-000000000000", "6A7D7CBB-06DC-48E6-B985-57A1B2C3D4E5", 2017, 1899, 3000, 2 ** 53,
    2 ** 63, -(2 ** 63)]))
PATHS = ["envelope", "signature", "envelope.act", "envelope.act.value", "envelope.act.unit", "envelope.act.year",
         "envelope.act.note", "envelope.act.corrects", "envelope.act.participates", "envelope.version",
         "envelope.stream", "envelope.type", "envelope.ledger", "envelope.signer", "envelope.signed_at",
         "signature.alg", "signature.sig", "envelope.extra", "extra", "envelope.act._type_"]


def _set(doc: dict, path: str, value=KeyError) -> dict:
    """Set (or, without a value, remove) a dotted path; a path whose parent is no longer an object is left alone."""
    *parents, last = path.split(".")
    node = doc
    for name in parents:
        node = node.get(name) if isinstance(node, dict) else None
    if isinstance(node, dict) and value is KeyError:
        node.pop(last, None)
    elif isinstance(node, dict):
        node[last] = value
    return doc


@settings(max_examples=80, **FAST)
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(json_values, plausible, plausible)),
                          min_size=1, max_size=3),
       drop=st.one_of(st.none(), st.sampled_from(PATHS[1:]).filter(lambda p: "." in p)))
def test_mutated_act_files(hy, mutations, drop):
    doc = json.loads(hy.act_file.read_text(encoding="utf-8"))
    for path, value in mutations:
        _set(doc, path, value)
    if drop:
        _set(doc, drop)
    path = hy.dir / "mutated.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    attempt(hy, "submit", path, stored_ok=("Stored", "Already stored"))


def _deep(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize("make", [
    lambda doc: json.dumps(doc)[:-1] + ', "x": ' + _deep(100_000) + "}",              # nesting beyond the parser
    lambda doc: _deep(990, json.dumps(doc)),                                            # just inside the parser
    lambda doc: json.dumps(_set(doc, "envelope.act.note", json.loads(_deep(900)))),   # deep value in a field
    lambda doc: json.dumps(_set(doc, "envelope.act.votes", {"优秀": json.loads(_deep(800))})),
    lambda doc: json.dumps(_set(doc, "envelope.act.note", "长" * 2_000_000), ensure_ascii=False),  # 6 MB field
    lambda doc: json.dumps(_set(doc, "envelope.act.value", "9" * 5000)),
    lambda doc: json.dumps(_set(doc, "envelope.version", 10 ** 4000)),
    lambda doc: json.dumps(doc).replace('"version": ', '"version": 1' + "0" * 5000 + ", \"v\": "),
    lambda doc: json.dumps(doc)[:-1] + ', "envelope": {}}',                              # duplicate key
    lambda doc: json.dumps(_set(doc, "signature.sig", "A" * 3_000_000)),
    lambda doc: " " * 9_000_000 + json.dumps(doc),                                      # over the size limit
    lambda doc: json.dumps(doc, ensure_ascii=False).encode("utf-16").decode("latin-1"),
], ids=["nesting-100000", "nesting-990", "deep-note", "deep-votes", "6mb-note", "long-number-text", "huge-version",
        "5000-digit-int", "duplicate-key", "3mb-signature", "9mb-file", "utf-16"])
def test_pathological_act_files(hy, make):
    doc = json.loads(hy.act_file.read_text(encoding="utf-8"))
    path = hy.dir / "pathological.json"
    path.write_text(make(doc), encoding="utf-8")
    attempt(hy, "submit", path)


def test_the_untouched_act_file_is_stored_once(hy):
    attempt(hy, "submit", hy.act_file, stored_ok=("Stored", "Already stored"))
    res = attempt(hy, "submit", hy.act_file, stored_ok=("Already stored",))
    assert res.out.startswith("Already stored")


# ---- checkpoints and proofs ---------------------------------------------------------------------------------------

@settings(max_examples=60, **FAST)
@given(data=st.data())
def test_mutated_checkpoints_offline(hy, data):
    original = hy.checkpoint.read_text(encoding="utf-8")
    path = hy.dir / "cp-mutated.txt"
    path.write_bytes(data.draw(mutated(original)))
    attempt(hy, "verify-proof", hy.proof, "--checkpoint", path, stored_ok=("OK:",))


@settings(max_examples=15, **FAST)
@given(data=st.data())
def test_mutated_checkpoints_against_the_log(hy, data):
    original = hy.checkpoint.read_text(encoding="utf-8")
    path = hy.dir / "cp-mutated.txt"
    path.write_bytes(data.draw(mutated(original)))
    attempt(hy, "verify", "--checkpoint", path, stored_ok=("OK:",))


proof_values = st.one_of(json_values, st.integers(-(2 ** 70), 2 ** 70), st.sampled_from(
    [2 ** 63, -1, 0, True, "AAAA", "=", "A" * 44, [], ["A" * 44] * 70]))


@settings(max_examples=80, **FAST)
@given(which=st.sampled_from(["proof", "consistency"]), data=st.data())
def test_mutated_proofs(hy, which, data):
    source = hy.proof if which == "proof" else hy.consistency
    doc = json.loads(source.read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(1, 3))):
        field = data.draw(st.sampled_from(sorted(doc) + ["extra"]))
        if data.draw(st.booleans()) and field in doc:
            doc.pop(field)
        else:
            doc[field] = data.draw(proof_values)
    path = hy.dir / "proof-mutated.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    cps = [hy.checkpoint] if which == "proof" else [hy.old_checkpoint, hy.checkpoint]
    attempt(hy, "verify-proof", path, *[a for cp in cps for a in ("--checkpoint", cp)], stored_ok=("OK:",))


@pytest.mark.parametrize("text", [
    "", "null", "[]", '"x"', "{", '{"type": "inclusion"}', _deep(100_000), _deep(995), "1" * 5000,
    '{"type": "inclusion", "leafIdx": ' + "9" * 5000 + "}", "\ufeff{}", '{"type": "consistency", "size1": 1e400}',
    '{"type": "inclusion", "proof": ' + json.dumps(["A" * 44] * 20_000) + "}",
])
def test_pathological_proofs(hy, text):
    path = hy.dir / "proof-pathological.json"
    path.write_text(text, encoding="utf-8")
    attempt(hy, "verify-proof", path, "--checkpoint", hy.checkpoint, stored_ok=("OK:",))


def test_both_checkpoints_and_proofs_pass_untouched(hy):
    """The mutations start from files that verify."""
    attempt(hy, "verify-proof", hy.proof, "--checkpoint", hy.checkpoint, stored_ok=("OK:",))
    attempt(hy, "verify-proof", hy.consistency, "--checkpoint", hy.old_checkpoint, "--checkpoint", hy.checkpoint,
            stored_ok=("OK:",))
    attempt(hy, "verify", "--checkpoint", hy.checkpoint, stored_ok=("OK:",))


# ---- a seeded, bounded byte-level fuzz of every file the CLI reads back ---------------------------------------------

FUZZ_TOKENS = [b"1e400", b"-0", b"null", b"true", b"[]", b"{}", b'"', b"\\u0000", b"\\ud800", b"9" * 30, b"0.5", b",",
               b"\xff", b"\xe5", b"NaN", b'"_type_"', b"-1", b"\n", b"\r\n", "—".encode()]


def test_bounded_fuzz(hy):
    """LEDGER_FUZZ_INPUTS (default 150) byte-level mutants of the act file, the checkpoint and the proof, from the
    seed LEDGER_FUZZ_SEED: flipped bits, spliced tokens, cut bytes."""
    rng = random.Random(int(os.environ.get("LEDGER_FUZZ_SEED", "8")))
    for _ in range(int(os.environ.get("LEDGER_FUZZ_INPUTS", "150"))):
        kind, source = rng.choice([("act", hy.act_file), ("checkpoint", hy.checkpoint), ("proof", hy.proof)])
        data = bytearray(source.read_bytes())
        for _ in range(rng.randint(1, 4)):
            at, op = rng.randrange(len(data)), rng.randrange(3)
            if op == 0:
                data[at] ^= 1 << rng.randrange(8)
            elif op == 1:
                data[at:at] = rng.choice(FUZZ_TOKENS)
            else:
                del data[at:at + rng.randint(1, 8)]
        path = hy.dir / "fuzz.bin"
        path.write_bytes(bytes(data))
        if kind == "act":
            attempt(hy, "submit", path, stored_ok=("Stored", "Already stored"))
        elif kind == "checkpoint":
            attempt(hy, "verify-proof", hy.proof, "--checkpoint", path, stored_ok=("OK:",))
        else:
            attempt(hy, "verify-proof", path, "--checkpoint", hy.checkpoint, stored_ok=("OK:",))


# ---- key files ----------------------------------------------------------------------------------------------------

SCORE_ARGS = ["score", "record", "--year", "2017", "--unit", "统计局", "--indicator", "指标评估", "--points", "65"]


def _key_file(hy: Hy, case: str) -> tuple[Path, dict]:
    """(the key file to sign with, extra environment) for one way a key can be unusable."""
    good = Path(hy.keys["kh"])
    special = {"wrong-passphrase": (good, {PASS_ENV: "not the passphrase"}), "public-key": (Path(f"{good}.pub"), {}),
               "missing": (hy.dir / "nope.key", {}), "directory": (hy.dir, {})}
    if case in special:
        return special[case]
    pem = good.read_bytes()
    bad = hy.dir / f"{case}.key"
    bad.write_bytes({"corrupted": pem[:60] + b"A" * 20 + pem[80:], "empty": b"", "zeros": b"\x00" * 100,
                     "pem-header-only": b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n\n", "public-text": b"ed25519:AAAA",
                     "70kb-random": os.urandom(70_000)}[case])
    bad.chmod(0o600)
    return bad, {}


@pytest.mark.parametrize("case, code, fragment", [
    ("wrong-passphrase", 1, "wrong passphrase"), ("corrupted", 1, "corrupted key file|wrong passphrase"),
    ("public-key", 1, "holds a public key; signing needs the private key file"), ("missing", 1, "not found"),
    ("directory", 2, "is a directory"), ("empty", 1, "not an encrypted private key"),
    ("zeros", 1, "not an encrypted private key"), ("pem-header-only", 1, "corrupted key file"),
    ("public-text", 1, "holds a public key"), ("70kb-random", 1, "too large to be a key file")])
def test_unusable_key_files(hy, case, code, fragment):
    path, env = _key_file(hy, case)
    res = attempt(hy, *SCORE_ARGS, "--sign-with", path, env=env)
    assert res.code == code and re.search(fragment, res.err), res.err


def test_private_key_given_where_public_needed(hy):
    res = attempt(hy, "signatory", "add", "--person", "某人", "--role", "auditor", "--public-key", hy.keys["kh"],
                  "--sign-with", hy.keys["office"])
    assert res.code == 1 and "is a private key" in res.err


def test_key_readable_by_others_warns_but_signs(hy):
    """In a real process (the harness's captured stderr is not flushed by a bare print, a terminal's is)."""
    loose = hy.dir / "loose.key"
    loose.write_bytes(Path(hy.keys["kh"]).read_bytes())
    loose.chmod(0o644)
    before = hy.size()
    res = subprocess.run([sys.executable, "-m", "cli.main", "--db", hy.run.db, "--passphrase-env", PASS_ENV,
                          "score", "record", "--year", "2017", "--unit", "信访局", "--indicator", "指标评估",
                          "--points", "65", "--sign-with", str(loose)], capture_output=True, text=True, timeout=60, check=False,
                         env={**os.environ, PASS_ENV: PASSPHRASE}, cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0 and res.stdout.startswith("Stored score.recorded"), res.stderr
    assert res.stderr == f"Warning: {loose} is readable by other users; run: chmod 600 {loose}\n"
    assert hy.size() == before + 1

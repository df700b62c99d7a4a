"""Signed checkpoints: exact text, strict parsing, signatures and cosignatures, consistency and fork detection."""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from dataclasses import replace

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from ledger.checkpoint import (MAX_BYTES, Checkpoint, CheckpointError, add_signature, check_consistent, parse,
                               verify_signatures)
from ledger.merkle import EMPTY_ROOT, MemoryNodeStore, consistency_proof, leaf_hash, root

LEDGER = "3f2a6c1e-8d4b-4e5f-9a7b-0c1d2e3f4a5b"
STORE = MemoryNodeStore(leaf_hash(b"act %d" % i) for i in range(64))
TIME = "2024-01-15T08:30:00Z"


class Key:
    """An Ed25519 key with a ledger-style key id, straight from `cryptography`."""

    def __init__(self, seed: int):
        self.private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
        raw = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.private.public_key().verify(signature, message)
            return True
        except InvalidSignature:
            return False


LOG, WITNESS, AUDITOR = Key(1), Key(2), Key(3)


def trusting(*keys: Key):
    table = {k.key_id: k.verify for k in keys}
    return table.get


def checkpoint(size: int, signers=(LOG,), ledger: str = LEDGER, root_hash: bytes | None = None) -> Checkpoint:
    cp = Checkpoint(ledger, size, root(STORE, size) if root_hash is None else root_hash, TIME)
    for key in signers:
        cp = add_signature(cp, key.key_id, key.sign)
    return cp


GOOD = checkpoint(13).format()
BODY, SIGS = GOOD.split("\n\n")
LINES = BODY.split("\n")


def test_text_layout_is_exact():
    cp = checkpoint(13)
    root64 = base64.b64encode(root(STORE, 13)).decode()
    assert cp.body_bytes() == f"kaohe-ledger/{LEDGER}\n13\n{root64}\n{TIME}\n".encode()
    sig64 = base64.b64encode(LOG.sign(cp.body_bytes())).decode()
    assert cp.format() == f"kaohe-ledger/{LEDGER}\n13\n{root64}\n{TIME}\n\n\u2014 {LOG.key_id} {sig64}\n"
    assert cp.origin == "kaohe-ledger/" + LEDGER


def test_round_trip():
    cp = checkpoint(13, (LOG, WITNESS))
    assert parse(cp.format()) == cp
    assert parse(cp.format().encode("utf-8")) == cp
    assert parse(GOOD).format() == GOOD


@settings(max_examples=100, deadline=None)
@given(ledger=st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._-]{0,40}", fullmatch=True),
       size=st.integers(1, (1 << 63) - 1), root_hash=st.binary(min_size=32, max_size=32),
       stamp=st.datetimes().map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")).filter(lambda s: len(s) == 20),
       sigs=st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9]{0,15}:[0-9a-f]{16}", fullmatch=True),
                               st.binary(min_size=1, max_size=100)),
                     min_size=1, max_size=5, unique_by=lambda s: s[0]))
def test_round_trip_property(ledger, size, root_hash, stamp, sigs):
    cp = Checkpoint(ledger, size, root_hash, stamp, tuple(sigs))
    text = cp.format()
    assert parse(text) == cp
    assert parse(text).format() == text


def test_cosignatures_cover_the_same_body_and_all_verify():
    cp = checkpoint(13)
    cosigned = add_signature(add_signature(cp, WITNESS.key_id, WITNESS.sign), AUDITOR.key_id, AUDITOR.sign)
    assert [k for k, _ in cosigned.signatures] == [LOG.key_id, WITNESS.key_id, AUDITOR.key_id]
    assert cosigned.body_bytes() == cp.body_bytes()
    text = cosigned.format()
    assert text.startswith(cp.format()) and text.count("\n\u2014 ") == 3
    back = parse(text)
    assert verify_signatures(back, trusting(LOG, WITNESS, AUDITOR)) == [LOG.key_id, WITNESS.key_id, AUDITOR.key_id]
    assert verify_signatures(back, trusting(WITNESS)) == [WITNESS.key_id]  # unknown signers are skipped


def test_signing_twice_by_one_key_is_refused():
    with pytest.raises(CheckpointError, match="already signed"):
        add_signature(checkpoint(13), LOG.key_id, LOG.sign)
    with pytest.raises(CheckpointError, match="key id"):
        add_signature(checkpoint(13), "Ed25519:ABC", LOG.sign)


def test_a_changed_body_breaks_every_signature():
    cp = checkpoint(13, (LOG, WITNESS))
    for changed in (replace(cp, size=14, root=root(STORE, 14)), replace(cp, time="2024-01-15T08:30:01Z"),
                    replace(cp, ledger_id="other")):
        with pytest.raises(CheckpointError, match=f"signature by {LOG.key_id} does not verify"):
            verify_signatures(changed, trusting(LOG, WITNESS))


def test_signature_swapped_between_signers_fails():
    cp = checkpoint(13, (LOG, WITNESS))
    (k1, s1), (k2, s2) = cp.signatures
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_signatures(replace(cp, signatures=((k1, s2), (k2, s1))), trusting(LOG, WITNESS))


def test_no_known_signer_is_refused():
    with pytest.raises(CheckpointError, match="no signature by a known key"):
        verify_signatures(checkpoint(13), trusting(WITNESS))
    with pytest.raises(CheckpointError, match="cannot be published"):
        checkpoint(13, signers=()).format()


def _swap_line(n: int, text: str) -> str:
    return "\n".join(LINES[:n] + [text] + LINES[n + 1:]) + "\n\n" + SIGS


SIG_LINE = SIGS.rstrip("\n")
MALFORMED = {
    "empty": "",
    "not text": 42,
    "no final newline": GOOD[:-1],
    "crlf": GOOD.replace("\n", "\r\n"),
    "stray carriage return": GOOD.replace(TIME, TIME + "\r"),
    "missing blank line": BODY + "\n" + SIGS,
    "no signature lines": BODY + "\n\n",
    "three body lines": "\n".join(LINES[:3]) + "\n\n" + SIGS,
    "five body lines": BODY + "\nextra\n\n" + SIGS,
    "blank line inside body": "\n".join(LINES[:2]) + "\n\n" + "\n".join(LINES[2:]) + "\n\n" + SIGS,
    "leading blank line": "\n" + GOOD,
    "wrong origin": _swap_line(0, "other-ledger/" + LEDGER),
    "empty ledger id": _swap_line(0, "kaohe-ledger/"),
    "space in origin": _swap_line(0, f"kaohe-ledger/{LEDGER} x"),
    "non-decimal size": _swap_line(1, "0x0d"),
    "leading zero size": _swap_line(1, "013"),
    "signed size": _swap_line(1, "+13"),
    "negative size": _swap_line(1, "-13"),
    "unicode digits in size": _swap_line(1, "\u0661\u0663"),
    "size over 2^63": _swap_line(1, str(1 << 63)),
    "empty size line": _swap_line(1, ""),
    "bad base64 root": _swap_line(2, "not base64!"),
    "unpadded root": _swap_line(2, LINES[2].rstrip("=")),
    "non-canonical root": _swap_line(2, LINES[2][:-2] + chr(ord(LINES[2][-2]) + 1) + "="),
    "root of 31 bytes": _swap_line(2, base64.b64encode(b"\x00" * 31).decode()),
    "root of 33 bytes": _swap_line(2, base64.b64encode(b"\x00" * 33).decode()),
    "hex root": _swap_line(2, root(STORE, 13).hex()),
    "time with offset": _swap_line(3, "2024-01-15T08:30:00+08:00"),
    "time with fraction": _swap_line(3, "2024-01-15T08:30:00.5Z"),
    "date only": _swap_line(3, "2024-01-15"),
    "impossible date": _swap_line(3, "2024-02-30T08:30:00Z"),
    "empty root for size 0": _swap_line(1, "0"),
    "duplicate signer": GOOD + SIG_LINE + "\n",
    "hyphen instead of em dash": GOOD.replace("\u2014", "-"),
    "two spaces after dash": GOOD.replace("\u2014 ", "\u2014  "),
    "missing signature": GOOD.replace(SIG_LINE, SIG_LINE.rsplit(" ", 1)[0]),
    "empty signature": GOOD.replace(SIG_LINE, SIG_LINE.rsplit(" ", 1)[0] + " "),
    "extra field on signature line": GOOD.replace(SIG_LINE, SIG_LINE + " extra"),
    "bad base64 signature": GOOD.replace(SIG_LINE, SIG_LINE + "!"),
    "upper-case key id": GOOD.replace(LOG.key_id, LOG.key_id.upper()),
    "short key id": GOOD.replace(LOG.key_id, LOG.key_id[:-1]),
    "trailing garbage": GOOD + "garbage\n",
    "trailing blank line": GOOD + "\n",
    "trailing garbage without newline": GOOD + "x",
    "preceding garbage": "garbage\n" + GOOD,
    "over 1 MB": BODY + "\n\n" + (SIG_LINE + "\n") * (MAX_BYTES // len(SIG_LINE) + 1),
    "over 1 MB as bytes": (BODY + "\n\n" + SIG_LINE + "\n" + "x" * MAX_BYTES).encode(),
    "not UTF-8": GOOD.encode("utf-8").replace("\u2014".encode(), b"\x97"),
    "over 100 signatures": BODY + "\n\n" + "".join(
        f"\u2014 ed25519:{i:016x} {SIG_LINE.rsplit(' ', 1)[1]}\n" for i in range(101)),
}


# why each is refused: the first words of the one-line reason
REASONS = {
    "empty": "does not end with a line feed", "not text": "not text",
    "no final newline": "does not end with a line feed", "crlf": "carriage return",
    "stray carriage return": "carriage return", "missing blank line": "no blank line",
    "no signature lines": "no signature lines", "three body lines": "body has 3 lines",
    "five body lines": "body has 5 lines", "blank line inside body": "body has 2 lines",
    "leading blank line": "body has 5 lines", "wrong origin": "origin line", "empty ledger id": "ledger id ''",
    "space in origin": "ledger id", "non-decimal size": "size line", "leading zero size": "size line",
    "signed size": "size line", "negative size": "size line", "unicode digits in size": "size line",
    "size over 2^63": r"2\^63-1", "empty size line": "body has 1 line before",
    "bad base64 root": "root line is not valid base64", "unpadded root": "root line is not valid base64",
    "non-canonical root": "root line is not canonical", "root of 31 bytes": "root is 31 bytes",
    "root of 33 bytes": "root is 33 bytes", "hex root": "root is 48 bytes", "time with offset": "time '",
    "time with fraction": "time '", "date only": "time '", "impossible date": "not a real date",
    "empty root for size 0": "empty-tree root", "duplicate signer": "two signatures by",
    "hyphen instead of em dash": "line 6 is not a signature line",
    "two spaces after dash": "line 6 is not a signature line", "missing signature": "line 6 is not a signature line",
    "empty signature": "is empty", "extra field on signature line": "line 6 is not a signature line",
    "bad base64 signature": "signature on line 6 is not valid base64", "upper-case key id": "key id 'ED25519",
    "short key id": "key id", "trailing garbage": "line 7 is not a signature line",
    "trailing blank line": "line 7 is not a signature line",
    "trailing garbage without newline": "does not end with a line feed", "preceding garbage": "body has 5 lines",
    "over 1 MB": "over 1048576 bytes", "over 1 MB as bytes": "over 1048576 bytes", "not UTF-8": "not UTF-8",
    "over 100 signatures": "at most 100",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_text_is_refused(name):
    with pytest.raises(CheckpointError, match=REASONS[name]) as err:
        parse(MALFORMED[name])
    message = str(err.value)
    assert "\n" not in message and len(message) < 200


def test_every_malformed_case_names_its_reason():
    assert set(REASONS) == set(MALFORMED)


def test_the_good_text_used_for_mutations_parses():
    assert parse(GOOD) == checkpoint(13)
    assert parse(BODY + "\n\n" + "".join(f"\u2014 ed25519:{i:016x} AA==\n" for i in range(100))).size == 13


@pytest.mark.parametrize("fields, reason", [
    (dict(ledger_id="a b"), "ledger id"),
    (dict(size=-1), "size"),
    (dict(size=True), "size"),
    (dict(root=b"\x00" * 31), "root"),
    (dict(size=0), "empty-tree root"),
    (dict(time="2024-01-15 08:30:00Z"), "time"),
    (dict(signatures=(("ed25519:0011223344556677", b""),)), "empty"),
    (dict(signatures=(("ed25519:0011223344556677", b"x"), ("ed25519:0011223344556677", b"y"))), "two signatures"),
])
def test_constructor_refuses_what_parse_refuses(fields, reason):
    base = dict(ledger_id=LEDGER, size=13, root=root(STORE, 13), time=TIME)
    with pytest.raises(CheckpointError, match=reason):
        Checkpoint(**{**base, **fields})


def test_empty_log_checkpoint():
    empty = checkpoint(0, root_hash=EMPTY_ROOT)
    assert parse(empty.format()) == empty
    check_consistent(empty, checkpoint(20), [])
    check_consistent(empty, empty, [])
    with pytest.raises(CheckpointError, match="must be empty"):
        check_consistent(empty, checkpoint(20), [EMPTY_ROOT])


@pytest.mark.parametrize("old, new", [(1, 1), (1, 2), (3, 7), (4, 8), (13, 13), (13, 50), (32, 64), (63, 64)])
def test_consistent_checkpoints_pass(old, new):
    check_consistent(checkpoint(old), checkpoint(new, (WITNESS,)), consistency_proof(STORE, old, new))


def test_fork_is_detected():
    honest = checkpoint(20)
    other_history = MemoryNodeStore([leaf_hash(b"forged")] + [leaf_hash(b"act %d" % i) for i in range(1, 20)])
    forked = checkpoint(20, root_hash=root(other_history, 20))
    with pytest.raises(CheckpointError, match="fork"):
        check_consistent(honest, forked, [])
    with pytest.raises(CheckpointError, match="fork"):
        check_consistent(forked, honest, [])


def test_rewritten_history_is_detected():
    # a log that rewrote entry 0 and grew on: the honest old checkpoint does not lead to its new root
    forged = MemoryNodeStore([leaf_hash(b"forged")] + [leaf_hash(b"act %d" % i) for i in range(1, 40)])
    with pytest.raises(CheckpointError, match="does not extend"):
        check_consistent(checkpoint(20), checkpoint(40, root_hash=root(forged, 40)), consistency_proof(forged, 20, 40))


def test_rollback_and_other_ledger_are_refused():
    with pytest.raises(CheckpointError, match="smaller"):
        check_consistent(checkpoint(20), checkpoint(13), [])
    with pytest.raises(CheckpointError, match="different ledgers"):
        check_consistent(checkpoint(13), checkpoint(20, ledger="another-ledger"), consistency_proof(STORE, 13, 20))


@pytest.mark.parametrize("proof_of", [(13, 21), (12, 20), (13, 20, "truncated"), (13, 20, "padded")])
def test_wrong_consistency_proof_is_refused(proof_of):
    proof = consistency_proof(STORE, proof_of[0], proof_of[1])
    if proof_of[2:] == ("truncated",):
        proof = proof[:-1]
    elif proof_of[2:] == ("padded",):
        proof = proof + [EMPTY_ROOT]
    with pytest.raises(CheckpointError, match="does not extend"):
        check_consistent(checkpoint(13), checkpoint(20), proof)
    with pytest.raises(CheckpointError, match="proof is not empty"):
        check_consistent(checkpoint(13), checkpoint(13), consistency_proof(STORE, 13, 20))


DOC_EXAMPLE = (
    "kaohe-ledger/3f2a6c1e-8d4b-4e5f-9a7b-0c1d2e3f4a5b\n3\nZLJJxOBgbj2XQsSb/VfNHj6xcPXM76JuoEXKGT1kp18=\n"
    "2024-01-15T08:30:00Z\n\n"
    "\u2014 ed25519:34750f98bd59fcfc "
    "gaNmyrBtfiZbwqpxGG/9H2NBXGLFy1aBtsZs98hJwXvPwrX9B+lBnSD3jmLN1uDZ2M1VePD8tRiuIJQCKj0ODw==\n"
    "\u2014 ed25519:6a3803d5f059902a "
    "WkFm0IqtHA49Pxs/aqt592N7bOdSiRRjcC8Ge93eUi7fRLCSPVmJbcRTve68kg2aEC3WOjFFaw27qCMvtuNeBA==\n")


def test_documented_example_is_frozen():
    # docs/checkpoint-format.md: leaves e0 e1 e2, keys with seeds 32 x 01 and 32 x 02; Ed25519 signing is
    # deterministic, so the same inputs must give this exact text in every later version
    store = MemoryNodeStore(leaf_hash(x) for x in (b"e0", b"e1", b"e2"))
    assert root(store, 3).hex() == "64b249c4e0606e3d9742c49bfd57cd1e3eb170f5ccefa26ea045ca193d64a75f"
    cp = Checkpoint("3f2a6c1e-8d4b-4e5f-9a7b-0c1d2e3f4a5b", 3, root(store, 3), "2024-01-15T08:30:00Z")
    cp = add_signature(add_signature(cp, LOG.key_id, LOG.sign), WITNESS.key_id, WITNESS.sign)
    assert cp.format() == DOC_EXAMPLE
    assert len(cp.body_bytes()) == 118
    assert verify_signatures(parse(DOC_EXAMPLE), trusting(LOG, WITNESS)) == [LOG.key_id, WITNESS.key_id]
    assert consistency_proof(store, 2, 3) == [leaf_hash(b"e2")]


def test_documented_example_matches_the_doc():
    doc = Path(__file__).resolve().parents[1] / "docs" / "checkpoint-format.md"
    assert "```\n" + DOC_EXAMPLE + "```" in doc.read_text(encoding="utf-8")


def test_a_proof_document_says_what_its_roots_were_checked_against():
    from ledger.proofs import b64, verify_proof_document

    doc = {"type": "consistency", "ledger": LEDGER, "size1": 13, "size2": 20, "root1": b64(root(STORE, 13)),
           "root2": b64(root(STORE, 20)), "proof": [b64(h) for h in consistency_proof(STORE, 13, 20)]}
    bare = verify_proof_document(doc).text
    # the arithmetic holds for the document's own roots, whoever made them: the verdict must not read as more
    assert bare.startswith("the tree of size 13 is a prefix of the tree of size 20") and "no checkpoint was given" in bare
    one = verify_proof_document(doc, [checkpoint(20)])
    assert "its root at size 20 matches your checkpoint; your checkpoint's signatures were not checked" in one.text
    assert one.signatures_checked == () and one.signatures_not_checked == (LOG.key_id,)
    both = verify_proof_document(doc, [checkpoint(13), checkpoint(20, (LOG, WITNESS))])
    assert "its roots at sizes 13 and 20 match your checkpoints; your checkpoints' signatures were not" in both.text


def test_a_proof_document_checks_the_signatures_it_carries_keys_for():
    from ledger.merkle import ProofError
    from ledger.proofs import b64, verify_proof_document

    public = "ed25519:" + b64(LOG.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                                     serialization.PublicFormat.Raw))
    doc = {"type": "consistency", "ledger": LEDGER, "size1": 13, "size2": 20, "root1": b64(root(STORE, 13)),
           "root2": b64(root(STORE, 20)), "proof": [b64(h) for h in consistency_proof(STORE, 13, 20)],
           "keys": {LOG.key_id: public}}
    held = verify_proof_document(doc, [checkpoint(13), checkpoint(20, (LOG, WITNESS))])
    assert held.signatures_checked == (LOG.key_id,) and held.signatures_not_checked == (WITNESS.key_id,)
    assert (f"signatures by {LOG.key_id} verify with the public keys the proof carries (that the ledger registered "
            "these keys is not checked offline") in held.text
    assert held.text.endswith(f"not checked (the proof carries no key for them): {WITNESS.key_id}")
    (k, sig), = checkpoint(13).signatures
    forged = replace(checkpoint(13), signatures=((k, sig[:-1] + bytes([sig[-1] ^ 1])),))
    with pytest.raises(ProofError, match=f"checkpoint of size 13: signature by {LOG.key_id} does not verify"):
        verify_proof_document(doc, [forged])
    with pytest.raises(ProofError, match=f"the proof's key for {LOG.key_id} is the key ed25519:"):
        verify_proof_document(dict(doc, keys={LOG.key_id: public[:-2] + ("A=" if public[-2] != "A" else "B=")}),
                              [checkpoint(13)])
    with pytest.raises(ProofError, match=f"the proof is of ledger {LEDGER}, but checkpoint of size 20 is for "
                                         "ledger another-ledger"):
        verify_proof_document(doc, [checkpoint(20, ledger="another-ledger")])
    with pytest.raises(ProofError, match="lacks ledger"):
        verify_proof_document({k: v for k, v in doc.items() if k != "ledger"}, [checkpoint(13)])

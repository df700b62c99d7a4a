"""Canonical encoding, signatures and key files: pure, no database."""
from __future__ import annotations

import os
import stat

import pytest

from ledger.canonical import canonical, loads_strict
from ledger.errors import LedgerError
from ledger.keys import load_private, load_public_text, new_key
from ledger.signing import (ED25519, key_id_of_text, parse_public_key, sign_envelope, verify_envelope)

PASS = b"correct horse"


def test_canonical_is_rfc8785_sorted_compact_utf8():
    assert canonical({"b": "北票", "a": [1, True, None], "c": {"z": "1.50", "y": ""}}) == \
        '{"a":[1,true,null],"b":"北票","c":{"y":"","z":"1.50"}}'.encode("utf-8")


def test_canonical_sorts_keys_by_utf16_code_units():
    # RFC 8785 §3.2.3: U+1F600 (surrogates D83D…) sorts before U+FB01 in UTF-16, after it in code points
    assert canonical({"\ufb01": 1, "\U0001f600": 2}) == '{"😀":2,"ﬁ":1}'.encode("utf-8")


def test_canonical_refuses_binary_floats():
    with pytest.raises(LedgerError, match="float"):
        canonical({"points": 1.5})


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": 1.5}', '{"a": 1e309}'])
def test_strict_json_refuses_non_decimal_numbers(text):
    with pytest.raises(LedgerError):
        loads_strict(text, "act")


@pytest.fixture()
def keypair(tmp_path):
    priv, pub, key_id = new_key(tmp_path / "k.key", PASS)
    return priv, pub, key_id


def test_new_key_files_and_modes(keypair):
    priv, pub, key_id = keypair
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in priv.read_bytes()
    text = load_public_text(pub)
    assert text.startswith("ed25519:") and key_id_of_text(text) == key_id
    assert key_id.startswith("ed25519:") and len(key_id) == len("ed25519:") + 16


def test_key_refuses_overwrite_and_empty_passphrase(keypair, tmp_path):
    with pytest.raises(LedgerError, match="exists already"):
        new_key(keypair[0], PASS)
    with pytest.raises(LedgerError, match="empty passphrase"):
        new_key(tmp_path / "other.key", b"")


def test_wrong_passphrase(keypair):
    with pytest.raises(LedgerError, match="wrong passphrase"):
        load_private(keypair[0], b"nope")


# A key encrypted with b"right" that b"wrong-1123" decrypts to well-padded garbage: the library then reports
# undecodable data rather than a bad decrypt, and the user must still hear "wrong passphrase".
PADDED_BY_CHANCE = b"""-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGjMF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBA5+sDlc3BpQNQe1CyI
lkfLAgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQJ+ko6fBJt+70ty9d
f/23lwRA3c4zYt5l6rpVAC/WSrZ0HXKdxbs2DVPcWBmhCPKUYmT0KRwqsEfIX+GC
KxsH/DY68KPaYMQLYXTqRW4Q7F4GUA==
-----END ENCRYPTED PRIVATE KEY-----
"""


def test_wrong_passphrase_that_decrypts_to_padded_garbage(tmp_path):
    path = tmp_path / "k.key"
    path.write_bytes(PADDED_BY_CHANCE)
    path.chmod(0o600)
    assert load_private(path, b"right").key_id.startswith("ed25519:")
    with pytest.raises(LedgerError, match="wrong passphrase"):
        load_private(path, b"wrong-1123")


def test_truncated_key_file_is_corrupted(tmp_path):
    path = tmp_path / "k.key"
    path.write_bytes(PADDED_BY_CHANCE.replace(b"KxsH/DY68KPaYMQLYXTqRW4Q7F4GUA==\n", b""))
    path.chmod(0o600)
    with pytest.raises(LedgerError, match="corrupted key file"):
        load_private(path, b"right")


def test_corrupted_key_file(keypair):
    data = bytearray(keypair[0].read_bytes())
    data[60:80] = b"A" * 20
    keypair[0].write_bytes(bytes(data))
    with pytest.raises(LedgerError, match="corrupted|wrong passphrase"):
        load_private(keypair[0], PASS)


def test_public_key_where_private_needed(keypair):
    with pytest.raises(LedgerError, match="public key"):
        load_private(keypair[1], PASS)


def test_private_key_where_public_needed(keypair):
    with pytest.raises(LedgerError, match="private key"):
        load_public_text(keypair[0])


def test_missing_and_garbage_key_files(tmp_path):
    with pytest.raises(LedgerError, match="not found"):
        load_private(tmp_path / "none.key", PASS)
    (tmp_path / "junk.key").write_bytes(b"\x00\x01garbage")
    with pytest.raises(LedgerError, match="not an encrypted private key"):
        load_private(tmp_path / "junk.key", PASS)


def test_key_readable_by_others_warns(keypair, capsys):
    os.chmod(keypair[0], 0o644)
    load_private(keypair[0], PASS)
    assert "readable by other users" in capsys.readouterr().err


def test_sign_and_verify_envelope(keypair):
    key = load_private(keypair[0], PASS)
    env = {"ledger": "x", "type": "score.recorded", "act": {"value": "1.5"}, "signer": key.key_id}
    sig = sign_envelope(key.key, env)
    assert sig["alg"] == ED25519
    assert verify_envelope(key.public_text, env, sig) is None
    tampered = {**env, "act": {"value": "2.5"}}
    assert verify_envelope(key.public_text, tampered, sig) == "bad signature"
    assert "unknown signature algorithm" in verify_envelope(key.public_text, env, {**sig, "alg": "sm2"})
    assert verify_envelope(key.public_text, env, {**sig, "sig": "!!"}) == "signature is not valid base64"
    assert verify_envelope(key.public_text, env, {"alg": "ed25519"}) == "signature record malformed"


@pytest.mark.parametrize("text", ["rsa:AAAA", "ed25519:!!!", "ed25519:AAAA", ""])
def test_bad_public_key_text(text):
    with pytest.raises(LedgerError):
        parse_public_key(text)

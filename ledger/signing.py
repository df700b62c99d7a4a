"""Signatures over acts. Every signature names its algorithm, so a second suite (SM2/SM3) can be added beside Ed25519
without touching stored events: `SUITES` maps an algorithm name to its verifier."""
from __future__ import annotations

import base64
import binascii
import hashlib
from functools import lru_cache
from typing import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import canonical
from .errors import LedgerError

ED25519 = "ed25519"


def public_key_text(public: Ed25519PublicKey) -> str:
    """`ed25519:<base64 of the 32 raw bytes>`: the text form stored in the registry."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{ED25519}:{base64.b64encode(raw).decode()}"


def key_id_of(public: Ed25519PublicKey) -> str:
    """The short fingerprint a signature names its key by: `ed25519:` + 16 hex of SHA-256(raw key)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{ED25519}:{hashlib.sha256(raw).hexdigest()[:16]}"


def parse_public_key(text: str, what: str = "public key") -> Ed25519PublicKey:
    """Parse `ed25519:<base64>`; a one-line error for anything else."""
    alg, _, b64 = text.strip().partition(":")
    if alg != ED25519:
        raise LedgerError(f"{what}: unknown key algorithm {alg!r} (expected {ED25519})")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise LedgerError(f"{what}: public key is not valid base64") from None
    if len(raw) != 32:
        raise LedgerError(f"{what}: an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id_of_text(text: str) -> str:
    """Key id of a public key given as text."""
    return key_id_of(parse_public_key(text))


def sign_bytes(private: Ed25519PrivateKey, message: bytes) -> dict:
    """A signature record `{"alg", "sig"}` over raw bytes."""
    return {"alg": ED25519, "sig": base64.b64encode(private.sign(message)).decode()}


def sign_envelope(private: Ed25519PrivateKey, envelope: dict) -> dict:
    """Sign the canonical bytes of an act envelope."""
    return sign_bytes(private, canonical(envelope))


@lru_cache(maxsize=4096)
def _verifier(public_text: str) -> Ed25519PublicKey:
    # a ledger has a few dozen keys and verify checks every act: loading the key each time cost a tenth of a verify
    return parse_public_key(public_text)


def _verify_ed25519(public_text: str, message: bytes, sig: bytes) -> bool:
    try:
        _verifier(public_text).verify(sig, message)
        return True
    except InvalidSignature:
        return False


SUITES: dict[str, Callable[[str, bytes, bytes], bool]] = {ED25519: _verify_ed25519}


def verify_bytes(public_text: str, message: bytes, signature: dict) -> str | None:
    """None when `signature` is a valid signature of `message` by the key; else the reason it is not."""
    if not isinstance(signature, dict) or set(signature) != {"alg", "sig"}:
        return "signature record malformed"
    alg, sig = signature["alg"], signature["sig"]
    suite = SUITES.get(alg) if isinstance(alg, str) else None
    if suite is None:
        return f"unknown signature algorithm {alg!r}"
    if not public_text.startswith(alg + ":"):
        return f"signature algorithm {alg} does not match the signer's key"
    try:
        raw = base64.b64decode(sig, validate=True) if isinstance(sig, str) else b""
    except (binascii.Error, ValueError):
        return "signature is not valid base64"
    if len(raw) != 64:
        return "signature has the wrong length"
    return None if suite(public_text, message, raw) else "bad signature"


def verifies(public_text: str, message: bytes, raw: bytes) -> bool:
    """Whether raw signature bytes (as a checkpoint line holds them) are a valid signature of `message` by the key."""
    alg = public_text.partition(":")[0]
    return verify_bytes(public_text, message, {"alg": alg, "sig": base64.b64encode(raw).decode()}) is None


def verify_envelope(public_text: str, envelope: dict, signature: dict) -> str | None:
    """None when the signature covers the envelope's canonical bytes; else why not."""
    return verify_bytes(public_text, canonical(envelope), signature)

"""Key files: Ed25519 key pairs, the private half encrypted with a passphrase and readable by its owner only."""
from __future__ import annotations

import base64
import binascii
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import LedgerError
from .signing import key_id_of, parse_public_key, public_key_text

MAX_KEY_FILE = 64 * 1024


@dataclass(frozen=True)
class PrivateKey:
    """A loaded private key with its public half's id and text."""

    key: Ed25519PrivateKey
    key_id: str
    public_text: str
    path: str


def new_key(out: str | Path, passphrase: bytes) -> tuple[Path, Path, str]:
    """Write `out` (encrypted private key, mode 0600) and `out.pub`; return both paths and the key id."""
    out = Path(out)
    pub_path = out.with_name(out.name + ".pub")
    for path in (out, pub_path):
        if path.exists():
            raise LedgerError(f"{path} exists already; refusing to overwrite a key file")
    if not passphrase:
        raise LedgerError("an empty passphrase is not allowed for a private key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise LedgerError(f"cannot write {out}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(out, 0o600)  # umask may have narrowed it already; never widen
    public = key.public_key()
    pub_path.write_text(public_key_text(public) + "\n", encoding="ascii")
    return out, pub_path, key_id_of(public)


def load_private(path: str | Path, passphrase: bytes | None) -> PrivateKey:
    """Load and decrypt a private key file, with a one-line error for every way it can be wrong."""
    path = Path(path)
    data = _read(path)
    if b"PUBLIC KEY" in data or data.strip().startswith(b"ed25519:"):
        raise LedgerError(f"{path} holds a public key; signing needs the private key file")
    if b"ENCRYPTED PRIVATE KEY" not in data:
        raise LedgerError(f"{path} is not an encrypted private key file")
    if _readable_by_others(path):
        print(f"Warning: {path} is readable by other users; run: chmod 600 {path}", file=sys.stderr)
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or b"")
    except TypeError:
        raise LedgerError(f"{path}: a passphrase is needed") from None
    except ValueError:
        # Without a MAC, a wrong passphrase sometimes decrypts to well-padded garbage (1 in ~300), which the library
        # reports as undecodable data; an intact envelope tells the two apart.
        reason = "wrong passphrase" if _envelope_intact(data) else "corrupted key file"
        raise LedgerError(f"{path}: {reason}") from None
    except UnsupportedAlgorithm:
        raise LedgerError(f"{path}: unsupported key type") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerError(f"{path}: not an Ed25519 key")
    public = key.public_key()
    return PrivateKey(key, key_id_of(public), public_key_text(public), str(path))


def load_public_text(path: str | Path) -> str:
    """The public key text (`ed25519:<base64>`) of a `.pub` file, or of a private key's `.pub` beside it."""
    path = Path(path)
    data = _read(path)
    if b"PRIVATE KEY" in data:
        raise LedgerError(f"{path} is a private key; give the public key file ({path}.pub)")
    text = data.decode("ascii", errors="replace").strip()
    try:
        parse_public_key(text, str(path))
    except LedgerError:
        if len(text) <= 200 and text.isprintable():
            raise  # what is wrong with a line that could be a key is worth saying; a binary file's content is not
        raise LedgerError(f"{path} is not a public key file (one line ed25519:<base64>)") from None
    return text


def _envelope_intact(pem: bytes) -> bool:
    """Whether the PEM armour, its base64 and the outer DER SEQUENCE of an encrypted key are whole."""
    match = re.search(rb"-----BEGIN ENCRYPTED PRIVATE KEY-----(.*?)-----END ENCRYPTED PRIVATE KEY-----", pem, re.S)
    if not match:
        return False
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except binascii.Error:
        return False
    if len(der) < 2 or der[0] != 0x30:
        return False
    if der[1] < 0x80:
        return 2 + der[1] == len(der)
    width = der[1] & 0x7F
    return 0 < width <= 4 and 2 + width + int.from_bytes(der[2:2 + width], "big") == len(der)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_FILE:
            raise LedgerError(f"{path} is too large to be a key file")
        return path.read_bytes()
    except FileNotFoundError:
        raise LedgerError(f"key file {path} not found") from None
    except IsADirectoryError:
        raise LedgerError(f"{path} is a directory, not a key file") from None
    except PermissionError:
        raise LedgerError(f"cannot read key file {path}: permission denied") from None


def _readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH))

"""Signed checkpoints: a C2SP-style signed note stating the log's size and Merkle root at a time.

Text (UTF-8, LF line ends, at most 1 MiB; docs/checkpoint-format.md has the byte layout and an example):

    kaohe-ledger/<ledger id>\n        origin
    <size>\n                          decimal, no sign, no leading zeros
    <root>\n                          standard base64 (with padding) of the 32-byte RFC 9162 root
    <time>\n                          UTC, `YYYY-MM-DDTHH:MM:SSZ`
    \n
    — <key id> <signature>\n          one line per signer: U+2014, space, key id, space, standard base64

The body is the first four lines; every signer, the log and each cosigner alike, signs exactly the body bytes. A key
id names its algorithm (`ed25519:<16 hex>`), so the algorithm is never guessed, and this module takes the signing
and verifying functions as callables rather than choosing one.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Sequence

from .errors import LedgerError
from .merkle import EMPTY_ROOT, HASH_SIZE, ProofError, verify_consistency

ORIGIN_PREFIX = "kaohe-ledger/"
MAX_BYTES = 1 << 20
MAX_SIGNATURES = 100
MAX_SIZE = (1 << 63) - 1  # the BIGINT a log position is stored in
SIG_DASH = "\u2014"

_LEDGER_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}")
_KEY_ID = re.compile(r"[a-z][a-z0-9]{0,15}:[0-9a-f]{16}")
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")

Verifier = Callable[[bytes, bytes], bool]


class CheckpointError(LedgerError):
    """A checkpoint that is malformed, not validly signed, or not consistent with another; one-line reason."""


@dataclass(frozen=True)
class Checkpoint:
    """The log `kaohe-ledger/<ledger_id>` had `size` entries with Merkle root `root` at `time`; signed by each of
    `signatures` ((key id, signature bytes), in line order). The constructor refuses any field `parse` would.
    `source` names the file it was read from, for messages; it is no part of the checkpoint."""

    ledger_id: str
    size: int
    root: bytes
    time: str
    signatures: tuple[tuple[str, bytes], ...] = field(default=())
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.ledger_id, str) or not _LEDGER_ID.fullmatch(self.ledger_id):
            raise CheckpointError(f"ledger id {self.ledger_id!r} is not 1-128 of A-Z a-z 0-9 . _ - (letter or digit "
                                  "first)")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_SIZE:
            raise CheckpointError(f"size {self.size!r} is not an integer from 0 to 2^63-1")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root is not {HASH_SIZE} bytes")
        if self.size == 0 and self.root != EMPTY_ROOT:
            raise CheckpointError("a checkpoint of size 0 must carry the empty-tree root SHA-256('')")
        _check_time(self.time)
        sigs = tuple(tuple(s) for s in self.signatures)
        if len(sigs) > MAX_SIGNATURES:
            raise CheckpointError(f"{len(sigs)} signatures; at most {MAX_SIGNATURES} are accepted")
        seen = set()
        for sig in sigs:
            if len(sig) != 2:
                raise CheckpointError("a signature is a (key id, signature bytes) pair")
            key_id, raw = sig
            _check_key_id(key_id)
            if not isinstance(raw, bytes) or not raw:
                raise CheckpointError(f"signature by {key_id} is empty or not bytes")
            if key_id in seen:
                raise CheckpointError(f"two signatures by {key_id}")
            seen.add(key_id)
        object.__setattr__(self, "signatures", sigs)

    @property
    def label(self) -> str:
        """How messages name it: by its file, or by its size."""
        return f"checkpoint {self.source}" if self.source else f"checkpoint of size {self.size}"

    @property
    def origin(self) -> str:
        """The first body line: `kaohe-ledger/<ledger id>`."""
        return ORIGIN_PREFIX + self.ledger_id

    def body_bytes(self) -> bytes:
        """The four body lines, each ending in LF: the bytes every signature covers."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n{self.time}\n".encode("ascii")

    def format(self) -> str:
        """The signed note text: body, blank line, one signature line per signer."""
        if not self.signatures:
            raise CheckpointError("a checkpoint without signatures cannot be published")
        lines = "".join(f"{SIG_DASH} {key_id} {base64.b64encode(raw).decode('ascii')}\n"
                        for key_id, raw in self.signatures)
        return self.body_bytes().decode("ascii") + "\n" + lines


def _check_time(value: object) -> None:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise CheckpointError(f"time {value!r} is not UTC in the form YYYY-MM-DDTHH:MM:SSZ")
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise CheckpointError(f"time {value!r} is not a real date and time") from None


def _check_key_id(value: object) -> None:
    if not isinstance(value, str) or not _KEY_ID.fullmatch(value):
        raise CheckpointError(f"key id {value!r} is not <algorithm>:<16 lower-case hex>")


def _strict_b64(text: str, what: str) -> bytes:
    """Standard base64 with padding, in its one canonical spelling (no spare bits set, no whitespace)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def parse(text: str | bytes) -> Checkpoint:
    """Parse a checkpoint's text strictly: anything but the exact layout is refused with a one-line reason."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_BYTES:
            raise CheckpointError(f"checkpoint is over {MAX_BYTES} bytes")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("checkpoint is not UTF-8") from None
    if not isinstance(text, str):
        raise CheckpointError("checkpoint is not text")
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise CheckpointError(f"checkpoint is over {MAX_BYTES} bytes")
    if "\r" in text:
        raise CheckpointError("checkpoint has a carriage return (line ends must be LF only)")
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint does not end with a line feed")
    body, blank, sig_text = text.partition("\n\n")
    if not blank:
        raise CheckpointError("checkpoint has no blank line between body and signatures")
    lines = body.split("\n")
    if len(lines) != 4:
        raise CheckpointError(f"checkpoint body has {len(lines)} line{'s' * (len(lines) != 1)} before the blank line, "
                              "not 4")
    origin, size_text, root_text, time_text = lines
    if not origin.startswith(ORIGIN_PREFIX):
        raise CheckpointError(f"origin line does not start with {ORIGIN_PREFIX!r}")
    if not _SIZE.fullmatch(size_text):
        raise CheckpointError("size line is not a decimal number without sign or leading zeros")
    root = _strict_b64(root_text, "root line")
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root is {len(root)} bytes, not {HASH_SIZE}")
    if not sig_text:
        raise CheckpointError("checkpoint has no signature lines")
    signatures = [_parse_signature_line(n, line) for n, line in enumerate(sig_text[:-1].split("\n"), start=6)]
    return Checkpoint(origin[len(ORIGIN_PREFIX):], int(size_text), root, time_text, tuple(signatures))


def _parse_signature_line(number: int, line: str) -> tuple[str, bytes]:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != SIG_DASH:
        raise CheckpointError(f"line {number} is not a signature line '{SIG_DASH} <key id> <base64 signature>'")
    _check_key_id(parts[1])
    return parts[1], _strict_b64(parts[2], f"signature on line {number}")


def add_signature(cp: Checkpoint, key_id: str, sign: Callable[[bytes], bytes]) -> Checkpoint:
    """The checkpoint with one more signature line: `sign(cp.body_bytes())` by the key `key_id` (a cosignature is
    the same: another key over the same body)."""
    _check_key_id(key_id)
    if any(k == key_id for k, _ in cp.signatures):
        raise CheckpointError(f"the checkpoint is already signed by {key_id}")
    return replace(cp, signatures=cp.signatures + ((key_id, bytes(sign(cp.body_bytes()))),))


def verify_signatures(cp: Checkpoint, verifier_for: Callable[[str], Verifier | None],
                      required: bool = True) -> list[str]:
    """Key ids whose signatures verify. `verifier_for(key_id)` gives `verify(message, signature) -> bool` for a
    trusted key, or None for a key the caller does not know, whose line is skipped as C2SP notes do. Raises if a
    known key's signature fails, or (when `required`) if no known key signed."""
    body, verified = cp.body_bytes(), []
    for key_id, raw in cp.signatures:
        verify = verifier_for(key_id)
        if verify is None:
            continue
        if not verify(body, raw):
            raise CheckpointError(f"signature by {key_id} does not verify")
        verified.append(key_id)
    if required and not verified:
        raise CheckpointError("no signature by a known key")
    return verified


def ledger_mismatch(cp: Checkpoint, ledger_id: str) -> str | None:
    """Why a checkpoint is not one of the ledger `ledger_id` (naming both), or None when it is."""
    if cp.ledger_id == ledger_id:
        return None
    return f"{cp.label} is for ledger {cp.ledger_id}, and this ledger is {ledger_id}"


def check_consistent(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise unless `new` extends `old`: same ledger, no smaller, no fork, and `proof` is a valid RFC 9162
    consistency proof from old to new (empty when the sizes are equal or `old` is empty). Signatures are not
    looked at here: check both checkpoints with `verify_signatures` first."""
    if old.ledger_id != new.ledger_id:
        raise CheckpointError(f"checkpoints of different ledgers ({old.ledger_id} and {new.ledger_id})")
    if new.size < old.size:
        raise CheckpointError(f"new checkpoint has size {new.size}, smaller than the old {old.size}: rolled back")
    if new.size == old.size and new.root != old.root:
        raise CheckpointError(f"fork: two checkpoints of size {old.size} with different roots")
    if old.size == 0:
        # every tree extends the empty tree; RFC 9162 has no proof for it, so only an empty one is accepted
        if proof:
            raise CheckpointError("the old checkpoint is empty, so the consistency proof must be empty")
        return
    try:
        verify_consistency(old.size, new.size, old.root, new.root, proof)
    except ProofError as exc:
        raise CheckpointError(f"checkpoint of size {new.size} does not extend the one of size {old.size}: {exc}") \
            from None

"""Checkpoints the ledger signs, and the RFC 9162 proofs it serves against them, as JSON documents.

Proof documents use the field names of the public RFC 9162 test vectors (leafIdx, treeSize, root, leafHash, proof;
size1, size2, root1, root2, proof), base64 hashes, so any RFC 9162 verifier can check them.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from .canonical import loads_strict
from .checkpoint import (Checkpoint, CheckpointError, add_signature, check_consistent, ledger_mismatch, parse,
                         verify_signatures)
from .clock import format_time, now
from .errors import LedgerError, Refused
from .keys import PrivateKey
from .merkle import ProofError, verify_consistency, verify_inclusion
from .signing import key_id_of_text, verifies

MAX_FILE = 1 << 20


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Parse a checkpoint file, naming the file in any error (and in the messages of later checks)."""
    try:
        data = Path(path).read_bytes()[: MAX_FILE + 1]
    except OSError as exc:
        raise LedgerError(f"cannot read checkpoint {path}: {exc.strerror}") from None
    try:
        return replace(parse(data), source=str(path))
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def check_signed(ledger, cp: Checkpoint) -> list[str]:
    """Refuse a checkpoint of another ledger, or one not validly signed by a key this ledger registered; return the
    key ids whose signatures verify."""
    other = ledger_mismatch(cp, ledger.ledger_id)
    if other:
        raise CheckpointError(other)
    try:
        signed = verify_signatures(cp, ledger.registry().verifier_for, required=False)
    except CheckpointError as exc:
        raise CheckpointError(f"{cp.label}: {exc}") from None
    if not signed:
        raise CheckpointError(f"{cp.label} bears no signature by a key registered in this ledger")
    return signed


def check_held(ledger, cp: Checkpoint) -> list[str]:
    """The one check of a checkpoint someone hands this ledger (cosign, prove, --as-of, diff): `check_signed`, and
    its root is this log's at its size. Returns the key ids whose signatures verify."""
    signed = check_signed(ledger, cp)
    size = ledger.log_size()
    if cp.size > size:
        raise CheckpointError(f"{cp.label} (size {cp.size}) is beyond the log, which holds {size} events (events "
                              "were removed or the store was rolled back)")
    if ledger.root_at(cp.size) != cp.root:
        raise CheckpointError(f"{cp.label} (size {cp.size}) does not match this log's Merkle root at that size, as "
                              "the derived nodes give it: `ledger verify --checkpoint FILE` tells whether events "
                              "changed")
    return signed


def _sign_line(key: PrivateKey):
    return lambda body: key.key.sign(body)


def make_checkpoint(ledger, key: PrivateKey, note: str = "") -> Checkpoint:
    """Sign the log's current (size, root) as a checkpoint note and record it in the log."""
    size = ledger.log_size()
    if size == 0:
        raise Refused("the log is empty")
    cp = Checkpoint(ledger.ledger_id, size, ledger.root_at(size), format_time(now()))
    cp = add_signature(cp, key.key_id, _sign_line(key))
    _record(ledger, key, cp, note)
    return cp


def cosign_checkpoint(ledger, key: PrivateKey, cp: Checkpoint, previous: Checkpoint | None) -> Checkpoint:
    """Check a checkpoint against this log (and consistency with the last one the cosigner holds); add a signature."""
    check_held(ledger, cp)
    if previous is not None:
        check_signed(ledger, previous)
        proof = ledger.index.consistency_proof(previous.size, cp.size) if 0 < previous.size < cp.size else []
        check_consistent(previous, cp, proof)
    if any(k == key.key_id for k, _ in cp.signatures):
        raise CheckpointError(f"{key.key_id} has signed this checkpoint already")
    signed = add_signature(cp, key.key_id, _sign_line(key))
    _record(ledger, key, cp, "cosigned")
    return signed


def _record(ledger, key: PrivateKey, cp: Checkpoint, note: str) -> None:
    act = {"size": cp.size, "root": base64.b64encode(cp.root).decode(), "time": cp.time}
    if note:
        act["note"] = note
    ledger.act("checkpoint.signed", act, key)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def prove_inclusion(ledger, event_ref: str, cp: Checkpoint) -> dict:
    """An inclusion proof of an event (by id prefix or position) in the tree a checkpoint states."""
    signed = check_held(ledger, cp)
    rows = ledger.index.by_event(event_ref) if not event_ref.isdigit() else [ledger.index.by_position(int(event_ref))]
    rows = [r for r in rows if r is not None]
    if not rows:
        raise Refused(f"no event {event_ref}")
    if len(rows) > 1:
        raise Refused(f"event id {event_ref} is ambiguous; give more digits")
    row = rows[0]
    if row.seq > cp.size:
        raise Refused(f"event {event_ref} is at position {row.seq}, after the checkpoint's size {cp.size}")
    leaf = ledger.index.leaf_hash(row.seq)
    return _holding({"type": "inclusion", "ledger": cp.ledger_id, "event_id": row.event_id, "position": row.seq,
                     "leafIdx": row.seq - 1, "treeSize": cp.size, "root": b64(cp.root), "leafHash": b64(leaf),
                     "proof": [b64(h) for h in ledger.index.inclusion_proof(row.seq - 1, cp.size)],
                     "keys": _public_keys(ledger, signed)})


def prove_consistency(ledger, old: Checkpoint, new: Checkpoint) -> dict:
    """A consistency proof from an older checkpoint to a newer one of this log."""
    signed = check_held(ledger, old) + check_held(ledger, new)
    if old.size > new.size:
        raise Refused("the old checkpoint is larger than the new one")
    proof = ledger.index.consistency_proof(old.size, new.size) if 0 < old.size < new.size else []
    return _holding({"type": "consistency", "ledger": new.ledger_id, "size1": old.size, "size2": new.size,
                     "root1": b64(old.root), "root2": b64(new.root), "proof": [b64(h) for h in proof],
                     "keys": _public_keys(ledger, signed)})


def _public_keys(ledger, key_ids: list[str]) -> dict[str, str]:
    """The registered public keys of the checkpoints' signers, so that `verify-proof` can check their signature
    lines offline (each key is checked there to have its key id)."""
    signatories = ledger.registry().signatories
    return {key_id: signatories[key_id].public_key for key_id in sorted(set(key_ids))}


def _holding(doc: dict) -> dict:
    """The proof, once it is checked to hold: a proof is built from the derived index and Merkle nodes, which an
    edit could make lead elsewhere; none is handed out that would make an untouched event look altered."""
    try:
        verify_proof_document(doc)
    except ProofError as exc:
        raise CheckpointError(f"the proof built from the log index and its Merkle nodes does not hold ({exc}): "
                              "they were edited or damaged, not necessarily the events; `ledger verify` checks the "
                              "events themselves") from None
    return doc


@dataclass(frozen=True)
class ProofVerdict:
    """What `verify_proof_document` found to hold, in one line, and which checkpoint signatures it could check."""

    text: str
    signatures_checked: tuple[str, ...] = ()
    signatures_not_checked: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


def verify_proof_document(doc: dict, checkpoints: list[Checkpoint] = ()) -> ProofVerdict:
    """Check a proof document: its arithmetic; that the given checkpoints are of its ledger and their roots its
    roots; and their signature lines, with the public keys the document carries. The verdict says which were not
    checked (no registry offline)."""
    if not isinstance(doc, dict) or doc.get("type") not in ("inclusion", "consistency"):
        raise ProofError("not a proof document (type must be inclusion or consistency)")
    try:
        if doc["type"] == "inclusion":
            proof, root = _hashes(doc["proof"]), _hash(doc["root"])
            verify_inclusion(_hash(doc["leafHash"]), _int(doc["leafIdx"]), _int(doc["treeSize"]), proof, root)
            sizes = {_int(doc["treeSize"]): root}
            verdict = f"inclusion of leaf {doc['leafIdx']} in the tree of size {doc['treeSize']} holds"
        else:
            root1, root2 = _hash(doc["root1"]), _hash(doc["root2"])
            verify_consistency(_int(doc["size1"]), _int(doc["size2"]), root1, root2, _hashes(doc["proof"]))
            sizes = {_int(doc["size1"]): root1, _int(doc["size2"]): root2}
            verdict = f"the tree of size {doc['size1']} is a prefix of the tree of size {doc['size2']}"
        keys = _carried_keys(doc.get("keys", {}))
        ledger_id = doc["ledger"] if checkpoints else None
    except KeyError as exc:
        raise ProofError(f"proof document lacks {exc.args[0]}") from None
    if not checkpoints:  # the arithmetic holds for any roots: only a checkpoint you hold ties them to the ledger
        return ProofVerdict(verdict + " for the proof's own roots; no checkpoint was given, so nothing ties them to "
                                      "the ledger")
    if not isinstance(ledger_id, str):
        raise ProofError("the proof's ledger is not text")
    for cp in checkpoints:
        if cp.ledger_id != ledger_id:
            raise ProofError(f"the proof is of ledger {ledger_id}, but {cp.label} is for ledger {cp.ledger_id}")
        if cp.size not in sizes:
            raise ProofError(f"{cp.label} (size {cp.size}) is not one the proof is about")
        if sizes[cp.size] != cp.root:
            raise ProofError(f"the proof's root at size {cp.size} is not that of {cp.label}")
    held = sorted({cp.size for cp in checkpoints})
    if len(held) == 1:
        verdict += f", and its root at size {held[0]} matches your checkpoint"
    else:
        verdict += f", and its roots at sizes {' and '.join(map(str, held))} match your checkpoints"
    return _signatures_verdict(verdict, checkpoints, keys)


def _signatures_verdict(verdict: str, checkpoints: list[Checkpoint], keys: dict[str, str]) -> ProofVerdict:
    """Check every signature line by a key the proof carries (one that fails refuses); say which were not checked,
    and that none is shown here to be a key the ledger registered."""
    checked: list[str] = []
    for cp in checkpoints:
        try:
            checked += verify_signatures(cp, lambda key_id: partial(verifies, keys[key_id]) if key_id in keys
                                         else None, required=False)
        except CheckpointError as exc:
            raise ProofError(f"{cp.label}: {exc} (with the public key the proof carries)") from None
    done = sorted(set(checked))
    missing = sorted({key_id for cp in checkpoints for key_id, _ in cp.signatures} - set(done))
    whose = "your checkpoints'" if len(checkpoints) > 1 else "your checkpoint's"
    if not done:
        verdict += (f"; {whose} signatures were not checked: the proof carries no public key for them and there is "
                    "no registry offline (`ledger verify --checkpoint FILE` checks them against the ledger)")
    else:
        verdict += (f"; {whose} signatures by {', '.join(done)} verify with the public keys the proof carries "
                    "(that the ledger registered these keys is not checked offline: `ledger verify --checkpoint "
                    "FILE` checks it)")
        if missing:
            verdict += f"; not checked (the proof carries no key for them): {', '.join(missing)}"
    return ProofVerdict(verdict, tuple(done), tuple(missing))


def _carried_keys(value) -> dict[str, str]:
    """The proof's `keys` (key id -> public key text), each key checked to have its key id (its fingerprint)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ProofError("the proof's keys must map key ids to public keys (text)")
    for key_id, public in value.items():
        try:
            actual = key_id_of_text(public)
        except LedgerError as exc:
            raise ProofError(f"the proof's key for {key_id[:40]}: {exc}") from None
        if actual != key_id:
            raise ProofError(f"the proof's key for {key_id[:40]} is the key {actual}, not that one")
    return value


def read_proof(path: str | Path) -> dict:
    try:
        data = Path(path).read_bytes()[: MAX_FILE + 1]
    except OSError as exc:
        raise LedgerError(f"cannot read proof {path}: {exc.strerror}") from None
    if len(data) > MAX_FILE:
        raise ProofError(f"{path}: larger than 1 MiB; not a proof")
    try:
        return loads_strict(data.decode("utf-8"), str(path))
    except UnicodeDecodeError:
        raise ProofError(f"{path}: not UTF-8") from None


def _hash(value) -> bytes:
    if not isinstance(value, str):
        raise ProofError("a hash must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError("a hash is not valid base64") from None
    return raw


def _hashes(values) -> list[bytes]:
    if not isinstance(values, list):
        raise ProofError("proof must be a list of base64 hashes")
    return [_hash(v) for v in values]


def _int(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProofError("sizes and indices must be integers")
    return value

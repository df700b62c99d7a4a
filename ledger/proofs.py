"""Checkpoints the ledger signs, and the RFC 9162 proofs it serves against them, as JSON documents.

Proof documents use the field names of the public RFC 9162 test vectors (leafIdx, treeSize, root, leafHash, proof;
size1, size2, root1, root2, proof), base64 hashes, so any RFC 9162 verifier can check them.
"""
from __future__ import annotations

import base64
import binascii
from pathlib import Path

from .canonical import loads_strict
from .checkpoint import Checkpoint, CheckpointError, add_signature, check_consistent, parse, verify_signatures
from .clock import format_time, now
from .errors import LedgerError, Refused
from .keys import PrivateKey
from .merkle import ProofError, verify_consistency, verify_inclusion
from .signing import verify_bytes

MAX_FILE = 1 << 20


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Parse a checkpoint file, naming the file in any error."""
    try:
        data = Path(path).read_bytes()[: MAX_FILE + 1]
    except OSError as exc:
        raise LedgerError(f"cannot read checkpoint {path}: {exc.strerror}") from None
    try:
        return parse(data)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def registry_verifier(registry):
    """verifier_for(key_id) over a registry's public keys, for checkpoint signature lines."""
    def verifier_for(key_id: str):
        sig = registry.signatories.get(key_id)
        if sig is None:
            return None
        return lambda message, raw: verify_bytes(
            sig.public_key, message, {"alg": key_id.split(":")[0], "sig": base64.b64encode(raw).decode()}) is None
    return verifier_for


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
    verify_signatures(cp, registry_verifier(ledger.registry()))
    if cp.ledger_id != ledger.ledger_id:
        raise CheckpointError(f"checkpoint is for ledger {cp.ledger_id}, not {ledger.ledger_id}")
    size = ledger.log_size()
    if cp.size > size or ledger.root_at(cp.size) != cp.root:
        raise CheckpointError(f"checkpoint of size {cp.size} does not match this log")
    if previous is not None:
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
    if cp.ledger_id != ledger.ledger_id:
        raise CheckpointError(f"checkpoint is for ledger {cp.ledger_id}, not {ledger.ledger_id}")
    ledger.log_size()
    rows = ledger.index.by_event(event_ref) if not event_ref.isdigit() else [ledger.index.by_position(int(event_ref))]
    rows = [r for r in rows if r is not None]
    if not rows:
        raise Refused(f"no event {event_ref}")
    if len(rows) > 1:
        raise Refused(f"event id {event_ref} is ambiguous; give more digits")
    row = rows[0]
    if row.seq > cp.size:
        raise Refused(f"event {event_ref} is at position {row.seq}, after the checkpoint's size {cp.size}")
    _matching(ledger, cp)
    leaf = ledger.index.leaf_hash(row.seq)
    return _holding({"type": "inclusion", "ledger": cp.ledger_id, "event_id": row.event_id, "position": row.seq,
                     "leafIdx": row.seq - 1, "treeSize": cp.size, "root": b64(cp.root), "leafHash": b64(leaf),
                     "proof": [b64(h) for h in ledger.index.inclusion_proof(row.seq - 1, cp.size)]})


def prove_consistency(ledger, old: Checkpoint, new: Checkpoint) -> dict:
    """A consistency proof from an older checkpoint to a newer one of this log."""
    for cp in (old, new):
        if cp.ledger_id != ledger.ledger_id:
            raise CheckpointError(f"checkpoint is for ledger {cp.ledger_id}, not {ledger.ledger_id}")
    if old.size > new.size:
        raise Refused("the old checkpoint is larger than the new one")
    for cp in (old, new):
        _matching(ledger, cp)
    proof = ledger.index.consistency_proof(old.size, new.size) if 0 < old.size < new.size else []
    return _holding({"type": "consistency", "ledger": new.ledger_id, "size1": old.size, "size2": new.size,
                     "root1": b64(old.root), "root2": b64(new.root), "proof": [b64(h) for h in proof]})


def _matching(ledger, cp: Checkpoint) -> None:
    """Refuse a checkpoint beyond the log, or whose root is not the log's at its size (as the Merkle nodes give it)."""
    size = ledger.log_size()
    if cp.size > size:
        raise CheckpointError(f"the checkpoint of size {cp.size} is beyond the log, which holds {size} events "
                              "(events were removed or the store was rolled back)")
    if ledger.root_at(cp.size) != cp.root:
        raise CheckpointError(f"checkpoint of size {cp.size} does not match this log's Merkle root at that size, as "
                              "the derived nodes give it: `ledger verify --checkpoint FILE` tells whether events "
                              "changed")


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


def verify_proof_document(doc: dict, checkpoints: list[Checkpoint] = ()) -> str:
    """Check a proof document (and that its roots are those of the given checkpoints); return a one-line verdict."""
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
    except KeyError as exc:
        raise ProofError(f"proof document lacks {exc.args[0]}") from None
    for cp in checkpoints:
        if cp.size not in sizes:
            raise ProofError(f"the checkpoint of size {cp.size} is not one the proof is about")
        if sizes[cp.size] != cp.root:
            raise ProofError(f"the proof's root at size {cp.size} is not the checkpoint's")
    if not checkpoints:  # the arithmetic holds for any roots: only a checkpoint you hold ties them to the ledger
        return verdict + " for the proof's own roots; no checkpoint was given, so nothing ties them to the ledger"
    held = sorted({cp.size for cp in checkpoints})
    if len(held) == 1:
        return verdict + f", and its root at size {held[0]} matches your checkpoint"
    return verdict + f", and its roots at sizes {' and '.join(map(str, held))} match your checkpoints"


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

"""RFC 9162 Merkle tree over SHA-256: hashing, an incremental frontier, proofs from a node store, and verification.

A node is addressed by (level, index): the perfect subtree of 2**level leaves that starts at leaf index * 2**level.
Every hash a proof needs is either such a perfect subtree or, on the right border of a tree whose size is not a power
of two, the fold of a few of them; so a proof costs O(log n) node look-ups, made in one `get_nodes` call.
"""
from __future__ import annotations

import hashlib
from typing import Iterable, Iterator, Mapping, Protocol, Sequence

from .errors import LedgerError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Key = tuple[int, int]
Node = tuple[int, int, bytes]


class ProofError(LedgerError):
    """A Merkle proof that cannot be made or does not verify; the message says why, in one line."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry."""
    return hashlib.sha256(LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes by the recursive definition of RFC 9162 §2.1.1 (reference, for small trees)."""
    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = _split(hi - lo)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    return mth(0, len(leaf_hashes)) if leaf_hashes else EMPTY_ROOT


def _split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise ProofError(f"{what} is not bytes")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} has {len(value)} bytes, not {HASH_SIZE}")
    return bytes(value)


def _check_count(value: object, what: str) -> int:
    # bool is an int subclass; a True leaf index is a caller bug, not index 1
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, not {value!r}")
    return value


def perfect_parts(lo: int, hi: int) -> list[Key]:
    """Keys of the perfect subtrees that make up the range [lo, hi) of an RFC 9162 tree, largest (leftmost) first.

    Holds for any range that is a subtree of some RFC 9162 tree (lo aligned to a power of two >= hi - lo), and for
    [0, n): the frontier of a tree of n leaves."""
    keys = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        keys.append((level, lo >> level))
        lo += 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Root of consecutive perfect subtrees, largest first: each split of RFC 9162 puts the largest on the left."""
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(h, result)
    return result


class Frontier:
    """The compact range [0, size): one perfect-subtree hash per set bit of size. O(log n) to append and to root."""

    __slots__ = ("_size", "_hashes")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()):
        _check_count(size, "frontier size")
        self._hashes = [_check_hash(h, "frontier hash") for h in hashes]
        if len(self._hashes) != size.bit_count():
            raise LedgerError(f"a frontier of size {size} has {size.bit_count()} hashes, not {len(self._hashes)}")
        self._size = size

    @property
    def size(self) -> int:
        """Number of leaves appended."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The perfect-subtree hashes, at the keys `perfect_parts(0, size)`."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf hash; returns every node it completes as (level, index, hash), the leaf first."""
        h, level, idx = _check_hash(leaf_hash, "leaf hash"), 0, self._size
        completed = [(0, idx, h)]
        while idx & 1:  # a right child: its left sibling is the last frontier hash
            h = node_hash(self._hashes.pop(), h)
            level, idx = level + 1, idx >> 1
            completed.append((level, idx, h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """The tree head of the leaves appended so far."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT

    def to_bytes(self) -> bytes:
        """8-byte big-endian size, then the hashes largest subtree first."""
        return self._size.to_bytes(8, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Frontier":
        """Inverse of `to_bytes`; refuses any other length."""
        if len(data) < 8:
            raise LedgerError("a serialised frontier has at least 8 bytes")
        size = int.from_bytes(data[:8], "big")
        if len(data) != 8 + HASH_SIZE * size.bit_count():
            raise LedgerError(f"a serialised frontier of size {size} has {8 + HASH_SIZE * size.bit_count()} bytes, "
                              f"not {len(data)}")
        return cls(size, [data[i:i + HASH_SIZE] for i in range(8, len(data), HASH_SIZE)])

    def copy(self) -> "Frontier":
        """An independent frontier with the same leaves."""
        return Frontier(self._size, self._hashes)


class NodeStore(Protocol):
    """Where perfect-subtree hashes live; the only thing proof generation reads."""

    def get_nodes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        """Hashes of the perfect subtrees at `keys` (level, index); keys the store does not hold are left out."""
        ...


class MemoryNodeStore:
    """A NodeStore in memory, one byte string per level (32 bytes a node: a million leaves hold 64 MB, where a
    bytes object per node held 146); fed leaf by leaf, or with the nodes a Frontier reports."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()):
        self._levels: list[bytearray] = []
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        """Number of leaves held."""
        return len(self._levels[0]) >> 5 if self._levels else 0

    def node(self, level: int, idx: int) -> bytes | None:
        """The hash of node (level, idx), or None where the store holds no such node."""
        if level < 0 or idx < 0 or level >= len(self._levels):
            return None
        h = self._levels[level][idx * HASH_SIZE:(idx + 1) * HASH_SIZE]
        return bytes(h) if h else None

    def nodes(self) -> Iterator[Node]:
        """Every node held, level by level."""
        for level, hashes in enumerate(self._levels):
            for idx in range(len(hashes) >> 5):
                yield level, idx, bytes(hashes[idx * HASH_SIZE:(idx + 1) * HASH_SIZE])

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf and every perfect subtree it completes."""
        levels, h = self._levels, _check_hash(leaf_hash, "leaf hash")
        if not levels:
            levels.append(bytearray())
        idx = len(levels[0]) >> 5
        levels[0] += h
        level = 0
        while idx & 1:  # a right child: hash it with its left sibling, one level up (verify does this per event)
            h = node_hash(levels[level][-2 * HASH_SIZE:-HASH_SIZE], h)
            level, idx = level + 1, idx >> 1
            if len(levels) == level:
                levels.append(bytearray())
            levels[level] += h

    def put(self, nodes: Iterable[Node]) -> None:
        """Store nodes in the order they complete, e.g. the list `Frontier.append` returns."""
        for level, idx, h in nodes:
            while len(self._levels) <= level:
                self._levels.append(bytearray())
            if idx != len(self._levels[level]) >> 5:
                raise LedgerError(f"merkle node {level}/{idx} stored out of order")
            self._levels[level] += _check_hash(h, "node hash")

    def get_nodes(self, keys: Sequence[Key]) -> dict[Key, bytes]:
        """See NodeStore."""
        found = ((key, self.node(*key)) for key in keys)
        return {key: h for key, h in found if h is not None}


def _range_hashes(store: NodeStore, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    parts = [perfect_parts(lo, hi) for lo, hi in ranges]
    keys = sorted({key for p in parts for key in p})
    nodes = store.get_nodes(keys) if keys else {}
    for key in keys:
        if key not in nodes:
            raise LedgerError(f"merkle node {key[0]}/{key[1]} is not in the node store (is it behind the log?)")
    return [_fold([nodes[key] for key in p]) for p in parts]


def root(store: NodeStore, size: int) -> bytes:
    """The tree head of the first `size` leaves in the store."""
    _check_count(size, "tree size")
    return _range_hashes(store, [(0, size)])[0] if size else EMPTY_ROOT


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf side first."""
    ranges, lo, hi = [], 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form PROOF(old, D[new]) = SUBPROOF(old, D[new], true) of RFC 9162 §2.1.4.1."""
    ranges, lo, hi, m, whole_old_tree = [], 0, new, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, whole_old_tree = lo + k, m - k, False
    if not whole_old_tree:  # the old tree's root is not itself a node here, so the proof starts from this subtree
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def inclusion_proof(store: NodeStore, index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1)."""
    _check_count(index, "leaf index")
    _check_count(size, "tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    return _range_hashes(store, _inclusion_ranges(index, size))


def consistency_proof(store: NodeStore, old: int, new: int) -> list[bytes]:
    """The proof that the tree of `old` leaves is a prefix of the tree of `new` leaves (RFC 9162 §2.1.4.1)."""
    _check_count(old, "old tree size")
    _check_count(new, "new tree size")
    if old == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing and is not made")
    if new < old:
        raise ProofError(f"new tree size {new} is smaller than old tree size {old}")
    return _range_hashes(store, _consistency_ranges(old, new)) if old < new else []


def _inclusion_length(index: int, size: int) -> int:
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old: int, new: int) -> int:
    shift = (old & -old).bit_length() - 1  # a power-of-two old tree is a node of the new one: its root is implicit
    inner = ((old - 1) ^ (new - 1)).bit_length()
    border = ((old - 1) >> inner).bit_count()
    return (0 if old == 1 << shift else 1) + inner - shift + border


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `proof` shows leaf `leaf_hash` at `index` in the tree `root` of `size` leaves
    (RFC 9162 §2.1.3.2)."""
    _check_count(index, "leaf index")
    _check_count(size, "tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    r = _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root")
    path = [_check_hash(p, f"proof hash {i}") for i, p in enumerate(proof or ())]
    want = _inclusion_length(index, size)
    if len(path) != want:
        raise ProofError(f"inclusion proof has {len(path)} hashes; leaf {index} of {size} needs {want}")
    fn, sn = index, size - 1
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if r != root:
        raise ProofError(f"inclusion proof does not lead to the root: leaf {index} of {size} is not that leaf")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raise ProofError unless `proof` shows the tree `old_root` of `old_size` leaves is a prefix of the tree
    `new_root` of `new_size` leaves (RFC 9162 §2.1.4.2)."""
    _check_count(old_size, "old tree size")
    _check_count(new_size, "new tree size")
    proof = list(proof or ())
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing and is refused")
    if new_size < old_size:
        raise ProofError(f"new tree size {new_size} is smaller than old tree size {old_size}")
    if old_size == new_size:
        # nothing to chain: the trees are the same iff the roots are; the RFC 9162 vectors pin exactly this check
        if proof:
            raise ProofError(f"tree sizes are equal ({old_size}) but the consistency proof is not empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the tree size {old_size}: the log forked")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    path = [_check_hash(p, f"proof hash {i}") for i, p in enumerate(proof)]
    want = _consistency_length(old_size, new_size)
    if len(path) != want:
        raise ProofError(f"consistency proof has {len(path)} hashes; {old_size} to {new_size} needs {want}")
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the new root")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the new root")
    if fr != old_root:
        raise ProofError(f"consistency proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the new root of size {new_size}")

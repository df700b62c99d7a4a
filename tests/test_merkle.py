"""RFC 9162 Merkle tree: the public test vectors, a naive reference against the optimised code, the SQL node table."""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings, strategies as st

from ledger import merkle, merkle_store
from ledger.errors import LedgerError
from ledger.merkle import (EMPTY_ROOT, Frontier, MemoryNodeStore, ProofError, consistency_proof, inclusion_proof,
                           leaf_hash, node_hash, root, root_of, verify_consistency, verify_inclusion)

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors" / "rfc9162"
VECTOR_FILES = sorted(VECTORS.rglob("*.json")) if VECTORS.is_dir() else []

N_BIG = 3000
LEAVES = [leaf_hash(b"entry %d" % i) for i in range(N_BIG)]
STORE = MemoryNodeStore(LEAVES)  # a store of n leaves answers for every size <= n: perfect subtrees never change


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _check_vector(case: dict) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    if "leafIdx" in case:
        verify_inclusion(_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b64(case["root"]))
    else:
        verify_consistency(case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof)


@pytest.mark.skipif(not VECTOR_FILES, reason=f"RFC 9162 vectors not found at {VECTORS}")
@pytest.mark.parametrize("path", VECTOR_FILES, ids=[str(p.relative_to(VECTORS)) for p in VECTOR_FILES])
def test_rfc9162_vector(path):
    case = json.loads(path.read_text())
    if case["wantErr"]:
        with pytest.raises(ProofError) as err:
            _check_vector(case)
        assert "\n" not in str(err.value)
    else:
        _check_vector(case)


def test_vector_set_is_complete():
    if not VECTORS.is_dir():
        pytest.skip(f"RFC 9162 vectors not found at {VECTORS}")
    assert len(VECTOR_FILES) == 196
    assert sum(json.loads(p.read_text())["wantErr"] is False for p in VECTOR_FILES) >= 10


# --- a naive reference: RFC 9162 §2.1.3.1 / §2.1.4.1 transcribed literally over lists ---

def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m < k:
        return ref_path(m, d[:k]) + [root_of(d[k:])]
    return ref_path(m - k, d[k:]) + [root_of(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [root_of(d)]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [root_of(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [root_of(d[:k])]


def test_hash_prefixes_and_empty_tree():
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == root_of([]) == root(STORE, 0) == Frontier().root()
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert root_of(LEAVES[:1]) == LEAVES[0]
    assert root_of(LEAVES[:3]) == node_hash(node_hash(LEAVES[0], LEAVES[1]), LEAVES[2])


def test_known_root_of_rfc6962_reference_tree():
    # the 8-leaf tree of the RFC 6962 / transparency-dev test data; its root appears in inclusion/1/happy-path.json
    data = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57", b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"]
    assert base64.b64encode(root_of([leaf_hash(x) for x in data])).decode() == \
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="


def test_frontier_root_equals_reference_for_every_size_to_300():
    frontier, store = Frontier(), MemoryNodeStore()
    for n in range(301):
        assert frontier.size == n
        assert frontier.root() == root_of(LEAVES[:n]) == root(STORE, n)
        assert Frontier.from_bytes(frontier.to_bytes()).root() == frontier.root()
        assert list(frontier.hashes) == [STORE.node(lv, i) for lv, i in merkle.perfect_parts(0, n)]
        store.put(frontier.append(LEAVES[n]))
    assert list(store.nodes()) == list(MemoryNodeStore(LEAVES[:301]).nodes())  # the frontier feeds a node store exactly


def test_frontier_append_reports_completed_nodes():
    f = Frontier()
    assert f.append(LEAVES[0]) == [(0, 0, LEAVES[0])]
    h01 = node_hash(LEAVES[0], LEAVES[1])
    assert f.append(LEAVES[1]) == [(0, 1, LEAVES[1]), (1, 0, h01)]
    assert f.append(LEAVES[2]) == [(0, 2, LEAVES[2])]
    h23 = node_hash(LEAVES[2], LEAVES[3])
    assert f.append(LEAVES[3]) == [(0, 3, LEAVES[3]), (1, 1, h23), (2, 0, node_hash(h01, h23))]
    copy = f.copy()
    copy.append(LEAVES[4])
    assert (f.size, copy.size) == (4, 5)


@pytest.mark.parametrize("data", [b"", b"\x00" * 7, (3).to_bytes(8, "big") + b"\x00" * 32,
                                  (1).to_bytes(8, "big") + b"\x00" * 33])
def test_frontier_from_bytes_refuses_wrong_length(data):
    with pytest.raises(LedgerError):
        Frontier.from_bytes(data)


def test_frontier_refuses_bad_hashes():
    with pytest.raises(LedgerError):
        Frontier(1, [b"short"])
    with pytest.raises(ProofError):
        Frontier().append(b"\x00" * 31)


def test_proofs_equal_reference_for_all_small_trees():
    for n in range(1, 70):
        tree = LEAVES[:n]
        for m in range(n):
            assert inclusion_proof(STORE, m, n) == ref_path(m, tree)
        for m in range(1, n):
            assert consistency_proof(STORE, m, n) == ref_subproof(m, tree, True)
        assert consistency_proof(STORE, n, n) == []


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_generated_proofs_verify(data):
    size = data.draw(st.integers(1, N_BIG), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    tree_root = root(STORE, size)
    assert tree_root == root_of(LEAVES[:size])
    verify_inclusion(LEAVES[index], index, size, inclusion_proof(STORE, index, size), tree_root)
    verify_consistency(old, size, root(STORE, old), tree_root, consistency_proof(STORE, old, size))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_proof_for_modified_leaf_or_wrong_claim_fails(data):
    size = data.draw(st.integers(1, N_BIG), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof, tree_root = inclusion_proof(STORE, index, size), root(STORE, size)
    forged = leaf_hash(b"entry %d" % index + b" (edited)")
    with pytest.raises(ProofError):
        verify_inclusion(forged, index, size, proof, tree_root)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1), label="proof hash")
        bit = data.draw(st.integers(0, 255), label="bit")
        bad = list(proof)
        bad[k] = bytes(b ^ (1 << (bit % 8)) if i == bit // 8 else b for i, b in enumerate(bad[k]))
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], index, size, bad, tree_root)
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], index, size, proof[:-1], tree_root)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[index], index, size, proof + [LEAVES[0]], tree_root)
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other") if size > 1 else None
    if other is not None:
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], other, size, proof, tree_root)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_consistency_with_a_rewritten_old_tree_fails(data):
    new = data.draw(st.integers(2, 600), label="new")
    old = data.draw(st.integers(1, new - 1), label="old")
    victim = data.draw(st.integers(0, old - 1), label="rewritten leaf")
    forged = list(LEAVES[:new])
    forged[victim] = leaf_hash(b"forged")
    proof = consistency_proof(STORE, old, new)
    with pytest.raises(ProofError):  # the honest proof does not link a rewritten old tree to the new one
        verify_consistency(old, new, root_of(forged[:old]), root(STORE, new), proof)
    with pytest.raises(ProofError):  # nor the old tree to a new one whose history was rewritten
        verify_consistency(old, new, root(STORE, old), root_of(forged), proof)
    with pytest.raises(ProofError):  # a proof must be consumed exactly
        verify_consistency(old, new, root(STORE, old), root(STORE, new), proof + [LEAVES[0]])


@pytest.mark.parametrize("call, reason", [
    (lambda: inclusion_proof(STORE, 5, 5), "not below"),
    (lambda: inclusion_proof(STORE, -1, 5), "non-negative"),
    (lambda: consistency_proof(STORE, 0, 5), "empty tree"),
    (lambda: consistency_proof(STORE, 6, 5), "smaller"),
    (lambda: verify_inclusion(LEAVES[0], True, 2, [LEAVES[1]], root_of(LEAVES[:2])), "non-negative integer"),
    (lambda: verify_inclusion(LEAVES[0], 0, 1, [], b"\x00" * 33), "33 bytes"),
    (lambda: verify_inclusion(LEAVES[0], 0, 2, [b"\x01" * 31], root_of(LEAVES[:2])), "proof hash 0 has 31"),
    (lambda: verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []), "empty tree"),
    (lambda: verify_consistency(3, 3, LEAVES[0], LEAVES[1], []), "forked"),
])
def test_refusals_name_the_reason(call, reason):
    with pytest.raises(ProofError, match=reason):
        call()


def test_store_behind_the_requested_size_is_reported():
    with pytest.raises(LedgerError, match="not in the node store"):
        inclusion_proof(MemoryNodeStore(LEAVES[:4]), 0, 5)
    with pytest.raises(LedgerError, match="out of order"):
        MemoryNodeStore().put([(0, 1, LEAVES[0])])


# --- the SQL node table, on SQLite and (through tests/run_suite.py) PostgreSQL ---

def _engine(db_url: str) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(db_url if "://" in db_url else "sqlite:///" + db_url)


def _reset(engine: sqlalchemy.Engine) -> None:
    merkle_store.metadata.drop_all(engine)
    merkle_store.metadata.create_all(engine)


def test_sql_store_matches_memory_store(db_url):
    engine = _engine(db_url)
    _reset(engine)

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.integers(0, 70), max_size=6), st.data())
    def check(batches, data):
        _reset(engine)
        size = 0
        for batch in batches:  # one transaction per batch, as the log index appends
            with engine.begin() as conn:
                frontier = merkle_store.append_leaves(conn, size, LEAVES[size:size + batch])
            size += batch
            assert (frontier.size, frontier.root()) == (size, root(STORE, size))
        with engine.connect() as conn:
            assert merkle_store.stored_size(conn) == size
            rows = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(merkle_store.merkle_nodes))
            assert rows.scalar() == 2 * size - size.bit_count()  # each perfect subtree written once, nothing else
            assert merkle_store.load_frontier(conn, size).to_bytes() == \
                Frontier(size, [STORE.get_nodes([k])[k] for k in merkle.perfect_parts(0, size)]).to_bytes()
            for n in range(size + 1):
                assert merkle_store.root(conn, n) == root(STORE, n)
            if size:
                n = data.draw(st.integers(1, size), label="n")
                m = data.draw(st.integers(0, n - 1), label="m")
                old = data.draw(st.integers(1, n), label="old")
                assert merkle_store.inclusion_proof(conn, m, n) == inclusion_proof(STORE, m, n)
                assert merkle_store.consistency_proof(conn, old, n) == consistency_proof(STORE, old, n)

    try:
        check()
    finally:
        engine.dispose()


def test_sql_append_refuses_gaps_and_collides_on_overlap(db_url):
    engine = _engine(db_url)
    _reset(engine)
    try:
        with engine.begin() as conn:
            merkle_store.append_leaves(conn, 0, LEAVES[:5])
        with pytest.raises(LedgerError, match="fewer than 7 leaves"), engine.begin() as conn:
            merkle_store.append_leaves(conn, 7, LEAVES[7:9])
        with pytest.raises(sqlalchemy.exc.IntegrityError), engine.begin() as conn:
            merkle_store.append_leaves(conn, 4, LEAVES[4:6])  # what a concurrent appender that lost the race sees
        with engine.begin() as conn:
            merkle_store.append_leaves(conn, 5, [])
            assert merkle_store.stored_size(conn) == 5
            with pytest.raises(LedgerError, match="not in the node store"):
                merkle_store.inclusion_proof(conn, 0, 6)
            proof = merkle_store.inclusion_proof(conn, 3, 5)
        verify_inclusion(LEAVES[3], 3, 5, proof, root_of(LEAVES[:5]))
    finally:
        engine.dispose()

"""What can be computed for each stored event apart from the others, spread over a process per core: its event id,
Merkle leaf, signature result and the checks that read nothing but the act (`validation.check_shape`). `verify` and
the bulk append fold the results in log order with the checks of the state (ledger.integrity, ledger.bulk).
"""
from __future__ import annotations

import hashlib
import os
from collections import deque
from itertools import islice
from typing import Callable, Iterable, Iterator, Union

from .canonical import canonical
from .clock import parse_time
from .errors import LedgerError
from .log_index import decode_state, id_and_leaf, leaf_bytes
from .merkle import leaf_hash
from .signing import verify_bytes
from .store import StoredAct
from .validation import check_shape

Item = Union[StoredAct, tuple]  # a StoredAct, or (StoredAct, the stored state bytes it was decoded from)

CHUNK = 2000  # events per task; a log shorter than one chunk is checked in-process (a pool takes ~0.1 s to start)
_POOLS: dict[int, object] = {}
_RESULT = 65  # bytes per event in a worker's answer: event id digest, leaf hash, flags
_HAS_ID, _HAS_LEAF, _VERIFIED = 1, 2, 4


def prechecked(acts: Iterable[Item], workers: int | None = None, keys: dict[str, str] | None = None
               ) -> Iterator[tuple[StoredAct, tuple]]:
    """Each act with (event id, Merkle leaf hash or None, why the leaf cannot be encoded, the public key its
    signature verified with or None, why `check_shape` refused it or None), computed on `workers` processes a few
    chunks ahead of the caller (an act not stored yet carries the time its caller will record it at).

    The key tried for an act is the one its signer's key id names in `keys` (key id -> public key text) or in a
    genesis or signatory.added act seen before it; `validate(..., checked_key=…)` trusts the result only if the
    registry names that same key when the act's turn comes. Memory stays bounded: at most 2 chunks per worker wait."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    known = dict(keys or {})
    source, pending, pool = iter(acts), deque(), None
    while True:
        chunk = [item if type(item) is tuple else (item, None) for item in islice(source, CHUNK)]
        if chunk:
            tasks = [(_key_for(act, known), state if state is not None else
                      (act.envelope, act.signature, act.recorded_at)) for act, state in chunk]
            if pool is None and (workers <= 1 or (len(chunk) < CHUNK and not pending)):
                pending.append((chunk, tasks, _precheck_many(tasks)))
            else:
                pool = pool or _pool(workers)
                pending.append((chunk, tasks, pool.apply_async(_precheck_many, (tasks,))))
        if not pending:
            return
        if not chunk or len(pending) > 2 * workers:
            done, tasks, result = pending.popleft()
            packed, problems, shapes = result if isinstance(result, tuple) else result.get()
            for i, ((act, _state), (key, _payload)) in enumerate(zip(done, tasks)):
                at = i * _RESULT
                flags = packed[at + 64]
                yield act, (packed[at:at + 32].hex() if flags & _HAS_ID else "",
                            packed[at + 32:at + 64] if flags & _HAS_LEAF else None,
                            problems.get(i, ""), key if flags & _VERIFIED else None, shapes.get(i))


def _pool(workers: int):
    """A process pool kept for the process's life (verify and bulk append may each run more than once)."""
    if workers not in _POOLS:
        import multiprocessing

        # forkserver: workers start from a clean process, not a fork of one holding database connections and threads
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ledger.precheck"])
        if not _POOLS:
            import atexit

            atexit.register(_close_pools)  # before interpreter teardown, when a pool's finaliser can no longer run
        _POOLS[workers] = context.Pool(workers)
    return _POOLS[workers]


def _close_pools() -> None:
    while _POOLS:
        pool = _POOLS.popitem()[1]
        pool.terminate()
        pool.join()


def _key_for(act: StoredAct, known: dict[str, str]) -> str | None:
    envelope = act.envelope
    try:
        if envelope["type"] == "ledger.genesis":
            known.setdefault(envelope["signer"], envelope["act"]["office"]["public_key"])
        key = known.get(envelope["signer"])
        if envelope["type"] == "signatory.added":
            known.setdefault(envelope["act"]["key_id"], envelope["act"]["public_key"])
        return key if isinstance(key, str) else None
    except (TypeError, KeyError):
        return None  # a malformed act: validate says what is wrong with it


def _precheck_many(tasks: list[tuple]) -> tuple[bytes, dict[int, str], dict[int, str]]:
    """For each (key, stored state bytes or (envelope, signature, recorded time)): event id digest, leaf hash and
    flags packed in `_RESULT` bytes, the leaf problems and the shape problems by index; runs in a worker. Compact on
    purpose: pickling dicts to the workers and tuples back cost as much as the hashing."""
    packed, problems, shapes = bytearray(), {}, {}
    for i, (key, payload) in enumerate(tasks):
        envelope, signature, recorded_at = decode_state(payload) if type(payload) is bytes else payload
        shape = shape_problem(envelope, recorded_at)
        if shape is not None:
            shapes[i] = shape
        digest, leaf, problem, verified = _precheck(key, envelope, signature, recorded_at)
        packed += digest or bytes(32)
        packed += leaf or bytes(32)
        packed.append((digest is not None) * _HAS_ID | (leaf is not None) * _HAS_LEAF | verified * _VERIFIED)
        if problem:
            problems[i] = problem
    return bytes(packed), problems, shapes


def shape_problem(envelope, recorded_at) -> str | None:
    """Why `check_shape` refuses the act at its record time, or None; worded as `_check` words it."""
    return problem_of(lambda: check_shape(envelope, parse_time(recorded_at, "recorded_at")))


def _precheck(key: str | None, envelope, signature, recorded_at) -> tuple:
    """(event id digest or None, leaf hash or None, leaf problem, whether `key` verified the signature)."""
    try:
        body = canonical(envelope) if isinstance(envelope, dict) else None
    except LedgerError:
        body = None  # not canonically encodable (a float, say): reported as such by the leaf
    digest = hashlib.sha256(body).digest() if body is not None else None
    if recorded_at is None:  # an act not stored yet (a bulk append): it has no leaf
        leaf, problem = None, ""
    else:
        leaf, problem = _leaf(body, envelope, signature, recorded_at)
    verified = key is not None and body is not None and verify_bytes(key, body, signature) is None
    return digest, leaf, problem, verified


def _leaf(body: bytes | None, envelope, signature, recorded_at) -> tuple[bytes | None, str]:
    try:
        if body is None:
            return leaf_hash(leaf_bytes(StoredAct(0, "", 0, "", envelope, signature, recorded_at))), ""
        return id_and_leaf(StoredAct(0, "", 0, "", envelope, signature, recorded_at), body)[1], ""
    except LedgerError as exc:
        return None, str(exc)


def problem_of(run: Callable[[], object]) -> str | None:
    """The one-line problem a check raises, or None; any other exception is reported, never raised (a tampered
    store must never crash the verifier)."""
    try:
        run()
    except LedgerError as exc:
        return str(exc)
    except Exception as exc:  # a tampered store must never crash the verifier: report the event instead
        return f"cannot be checked ({exc.__class__.__name__}: {exc})"
    return None

"""A stored event read back: whether its row is what was signed, and what is wrong with one that is not.

`ledger verify` reports every such event (ledger.integrity). Every other reader stops at the first it meets with
`Damaged`, one line naming it in verify's words. Readers check each row cheaply for what they use (`envelope_of`)
and leave the rest to EAFP: when a fold raises, `first_damaged` looks for the stored event that made it fail.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from .canonical import canonical, sha256_hex
from .errors import LedgerError
from .log_index import decode_state
from .store import StoredAct
from .validation import ENVELOPE_FIELDS

TOPICS = {1: "kaohe:Stream.Opened"}
APPENDED = "kaohe:Stream.Appended"
NOT_AN_ACT = "stored event is not a signed act"

Row = tuple[int, str, int, str, bytes]  # (notification id, stream, version, topic, state) as `stored_rows` gives


class Damaged(LedgerError):
    """A stored event that is not the signed act the writer stored: no reader goes past it."""

    def __init__(self, position: int, event_id: str, problem: str):
        self.position, self.event_id, self.problem = position, event_id, problem
        super().__init__(f"{event_at(position, event_id)}: {problem}; the event store was edited or damaged "
                         "(`ledger verify` checks every event)")


class Unreadable(ValueError):
    """A value read back from the store or the read models that does not read as the writer stored it: not a
    refusal but a failed read (a ValueError, not a LedgerError), for which a command names the damaged stored
    event if there is one, else says this (`cli.context.LedgerGroup`)."""


def event_at(position: int, event_id: str) -> str:
    """How a report names a stored event: its position, and its id where it has one."""
    return f"event at position {position}" + (f" ({event_id[:12]})" if event_id else "")


def signed_row(stream: str, version: int, topic: str, envelope, signature) -> bool:
    """Whether a stored row is the signed act it holds (`row_problem` finds nothing), for readers that ask it of
    every event they read."""
    return (type(envelope) is dict and type(signature) is dict and envelope.get("stream") == stream
            and envelope.get("version") == version and topic == TOPICS.get(version, APPENDED))


def plain(stream: str, version: int, topic: str, envelope, signature, recorded_at) -> bool:
    """`signed_row`, with a record time and an envelope of exactly its fields, of their types (a µs an event)."""
    return bool(recorded_at) and signed_row(stream, version, topic, envelope, signature) and typed(envelope)


def typed(envelope: dict) -> bool:
    """Whether an envelope holds exactly its fields, each of its type."""
    return envelope.keys() == ENVELOPE_FIELDS.keys() and all(type(envelope[name]) is kind
                                                             for name, kind in ENVELOPE_FIELDS.items())


def envelope_of(stream: str, version: int, topic: str, doc) -> dict:
    """The envelope of a decoded stored state (`doc`) if its row is the signed act it holds, with a signature and a
    record time; raises ValueError, KeyError or TypeError otherwise. A few hundred ns: a rebuild asks it of every
    event, since a fold keys its rows by the row's stream and version, and would take a moved event as it is.
    What the envelope holds is left to the fold, and to `first_damaged` if the fold raises."""
    envelope = doc["envelope"]
    if (envelope["stream"] != stream or envelope["version"] != version or topic != TOPICS.get(version, APPENDED)
            or type(doc["signature"]) is not dict or type(doc["timestamp"]) is not dict):
        raise ValueError("the stored row is not what was signed")
    return envelope


def refusal(position: int, row: Row) -> Damaged:
    """The refusal for a stored row a reader found not to be a signed act."""
    return first_damaged([row], position - 1) or Damaged(position, "", NOT_AN_ACT)


def may_be_damage(exc: Exception) -> bool:
    """Whether an exception a read of the store raised may come from a stored event that is not a signed act (not
    a refusal, nor the database's or the disk's own error): worth looking for one."""
    import sqlite3

    from eventsourcing.persistence import PersistenceError
    from sqlalchemy.exc import SQLAlchemyError

    return not isinstance(exc, (LedgerError, OSError, PersistenceError, SQLAlchemyError, sqlite3.Error)) \
        and type(exc).__module__.split(".")[0] != "psycopg"


def row_problem(act: StoredAct) -> str | None:
    """Why the stored row is not the signed act it holds (verify's first check of every event), or None."""
    env = act.envelope
    if not isinstance(env, dict) or not isinstance(act.signature, dict):
        return NOT_AN_ACT
    if env.get("stream") != act.stream:
        return f"stored in stream {act.stream} but signed for stream {env.get('stream')}"
    if env.get("version") != act.version:
        return f"stored as version {act.version} but signed as version {env.get('version')!r}"
    expected = TOPICS.get(act.version, APPENDED)
    if act.topic != expected:
        return f"stored with topic {act.topic}, expected {expected}"
    return None


def stored_problem(row: Row) -> tuple[str, str] | None:
    """(event id or "", what is wrong) for a stored row that is not a signed act as the writer stores it, in the
    words of verify's checks that read nothing but the event (its row, its shape, its encoding); None when none
    finds anything."""
    from .precheck import shape_problem  # the act checks: needed only once a fold has failed

    act = StoredAct(row[0], row[1], row[2], row[3], *decode_state(row[4]))
    try:
        eid = sha256_hex(canonical(act.envelope)) if isinstance(act.envelope, dict) else ""
        unencodable = None
    except LedgerError as exc:
        eid, unencodable = "", f"cannot be encoded: {exc}"
    found = row_problem(act)
    if found == NOT_AN_ACT:
        return eid, f"{found} ({_why_not_an_act(act, row[4])})"
    found = found or shape_problem(act.envelope, act.recorded_at) or unencodable
    return None if found is None else (eid, found)


def first_damaged(rows: Iterable[Row], start: int = 0) -> Damaged | None:
    """The refusal for the first of these stored rows (the first at position `start` + 1) that is not a signed act
    as the writer stores it, or None."""
    for position, row in enumerate(rows, start + 1):
        found = stored_problem(row)
        if found is not None:
            return Damaged(position, *found)
    return None


def damage_in(store, upto: int | None = None) -> Damaged | None:
    """The refusal for the first stored event of the log (up to position `upto`) that is not a signed act as the
    writer stores it, or None: what made a reader fail, looked for once it has. A first pass checks each row and its
    envelope's fields (a few µs an event); only if none is wrong, a second checks every act's fields (40 µs)."""
    for position, row in enumerate(_upto(store.stored_rows(batch=2000), upto), 1):
        if not plain(*row[1:4], *decode_state(row[4])):
            return refusal(position, row)
    return first_damaged(_upto(store.stored_rows(batch=2000), upto))


def _upto(rows: Iterator[Row], upto: int | None) -> Iterator[Row]:
    for position, row in enumerate(rows, 1):
        if upto is not None and position > upto:
            return
        yield row


def _why_not_an_act(act: StoredAct, state: bytes) -> str:
    """What a stored state lacks that makes it no signed act."""
    try:
        doc = json.loads(state)
    except (ValueError, RecursionError):
        return "its stored state is not JSON"
    if not isinstance(doc, dict):
        return "its stored state is not a JSON object"
    if not act.recorded_at:
        return "its stored state holds no record time"
    return "its stored state holds no envelope object" if not isinstance(act.envelope, dict) else \
        "its stored state holds no signature object"

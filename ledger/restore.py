"""Restoring an audit bundle into an empty database: every event stored verbatim, then indexed, so that the restored
log has the bundle's positions and Merkle root (docs/audit-bundle.md, "Restoring")."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import sqlalchemy
from eventsourcing.persistence import IntegrityError, Notification

from .bundle import manifest_problem
from .bundle_reader import Bundle
from .errors import LedgerError, Refused
from .integrity import Report, verify_log
from .log_index import LogIndex
from .store import EventStore, StoredAct, Stream
from .stored import APPENDED, TOPICS

_OPENED = TOPICS[1]

Checker = Callable[[Bundle], Report]


def default_checker(bundle: Bundle) -> Report:
    """The log-level verification (signatures, signers, roles, Merkle tree) of ledger.integrity."""
    return verify_log(bundle.events())[0]


def restore_bundle(store: EventStore, bundle: Bundle, check: Checker = default_checker) -> Report:
    """Verify a bundle with `check`, then store its events verbatim into an empty database and index them.

    Every event keeps its stream, version, signature and recorded time, so the restored log has the same positions
    and Merkle root; this is checked after the index is rebuilt. The insert is one transaction: a failure leaves
    the database empty."""
    _require_empty(store)
    report = check(bundle)
    if not report.ok:
        raise Refused(f"{bundle.path} does not verify, nothing imported: {report.failures[0]}")
    problem = manifest_problem(bundle.manifest, report, bundle.ledger_id)
    if problem:
        raise Refused(f"{bundle.path}: {problem}; nothing imported")
    events = [_stored_event(store, act) for act in bundle.events()]
    try:
        store.app.recorder.insert_events(events)
    except IntegrityError:
        raise Refused(f"{store.target.display} received other events during the import; nothing imported") \
            from None
    index = LogIndex(store)
    size = index.catch_up()
    if size != report.size or index.root(size) != report.root:
        raise LedgerError(f"after the import {store.target.display} holds {size} events whose root is not the "
                          "bundle's: do not use this database")
    return report


def _require_empty(store: EventStore) -> None:
    """Refuse a database with any row in any table: events, but also a log index or read models left from another
    log, which would otherwise be taken as describing the imported one."""
    if store.exists():
        raise Refused(f"{store.target.display} holds events already; a bundle is imported into an empty database")
    engine = store.engine
    for table in sorted(sqlalchemy.inspect(engine).get_table_names()):
        with engine.connect() as conn:
            if conn.execute(sqlalchemy.select(sqlalchemy.literal(1)).select_from(sqlalchemy.table(table))
                            .limit(1)).first():
                raise Refused(f"{store.target.display} is not empty (table {table} has rows); a bundle is imported "
                              "into an empty database")


def _stored_event(store: EventStore, act: StoredAct):
    """The recorder's row for a bundle event, built by the store's own mapper, and checked to read back as the
    same act (so its Merkle leaf cannot change on the way in)."""
    classes = {_OPENED: Stream.Opened, APPENDED: Stream.Appended}
    try:
        stream = UUID(act.stream)
        cls = classes[act.topic]
    except (KeyError, ValueError):
        raise Refused(f"the event at position {act.notification_id} has stream {act.stream!r} and topic "
                      f"{act.topic!r}, which the store cannot hold") from None
    state = {"originator_id": stream, "originator_version": act.version,
             "timestamp": datetime.fromisoformat(act.recorded_at)}
    if act.topic == _OPENED:
        state["originator_topic"] = Stream.TOPIC
    state.update(envelope=act.envelope, signature=act.signature)
    # the same attribute order an aggregate's own event has, so the stored state is laid out as the writer lays it
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    stored = store.app.mapper.to_stored_event(event)
    back = store.decode(Notification(id=act.notification_id, originator_id=stored.originator_id,
                                     originator_version=stored.originator_version, topic=stored.topic,
                                     state=stored.state))
    if back != act:
        raise Refused(f"the event at position {act.notification_id} would not be stored byte for byte")
    return stored

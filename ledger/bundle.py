"""The audit bundle: the whole log in one ZIP file that an auditor verifies offline or restores into a database.

Layout (docs/audit-bundle.md has the details and an example):

    manifest.json           {"format", "ledger_id", "size", "root" (base64), "exported_at"}
    events.jsonl            one stored event a line, in log order (line n is position n):
                            {"envelope", "signature", "recorded_at", "stream", "version", "topic"}
    checkpoints/<pos>.json  every stored `checkpoint.signed` act, extracted for reading (the event is the signed copy;
                            `note_problems` checks each copy against it)

The manifest is not signed and proves nothing by itself: verification recomputes size and root from the events and
compares them with checkpoints the auditor holds. Reading (ledger.bundle_reader) is strict and bounded; any malformed,
truncated or oversized bundle is refused with one line. Scheme files need no member of their own: each adopted scheme
is inside its event.
Export checks the log against its index as it writes (ledger.logcheck); restoring is ledger.restore.
"""
from __future__ import annotations

import base64
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .clock import format_time, now
from .errors import LedgerError, NotFound, Refused
from .integrity import Report
from .log_index import LogIndex, leaf_bytes
from .logcheck import LogCheck
from .merkle import Frontier, leaf_hash
from .store import EventStore, StoredAct

FORMAT = "kaohe-ledger-bundle/1"
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
CHECKPOINTS = "checkpoints/"
EVENT_FIELDS = ("envelope", "signature", "recorded_at", "stream", "version", "topic")
MANIFEST_FIELDS = {"format": str, "ledger_id": str, "size": int, "root": str, "exported_at": str}

MAX_BUNDLE = 4 << 30          # the ZIP file on disk
MAX_EVENTS = 16 << 30         # events.jsonl uncompressed: refuses a decompression bomb before it is read
MAX_LINE = 8 << 20            # one event; the same bound as a signed act file (ledger/actfile.py)
MAX_MANIFEST = 64 << 10       # the manifest, and each checkpoint copy


class BundleError(LedgerError):
    """A bundle that cannot be read (not a ZIP, cut short, oversized, malformed); one line naming the file."""


@dataclass(frozen=True)
class Manifest:
    """What the exporter says the bundle holds; checked against the events, never trusted on its own."""

    ledger_id: str
    size: int
    root: bytes
    exported_at: str
    format: str = FORMAT

    def to_dict(self) -> dict:
        return {"format": self.format, "ledger_id": self.ledger_id, "size": self.size,
                "root": base64.b64encode(self.root).decode("ascii"), "exported_at": self.exported_at}


# ---- writing -------------------------------------------------------------------------------------------------------

def export_bundle(store: EventStore, path: str | Path, replace: bool = False,
                  damaged: bool = False) -> tuple[Manifest, list[str]]:
    """Write every event of the store, in log order, to a bundle at `path`; return its manifest and how the log
    differs from its log index and signed tree heads (ledger.logcheck). A log that differs is refused, nothing
    written, unless `damaged` (a copy for forensics). An existing file is refused unless `replace` (a bundle
    handed to an auditor is evidence, not a scratch file).

    The file appears complete or not at all (written beside it, then renamed). Events appended while the export
    runs are left out: it reads up to the last event stored when it started."""
    path = Path(path)
    if path.exists() and not replace:
        raise BundleError(f"{path} exists already; name a new file, or pass --replace to write over it")
    index = LogIndex(store)
    index.catch_up()  # events a crash left unindexed are not damage: index them first
    indexed, _ = index.head()  # before the events are chosen: what it holds then, the store must hold too
    upto = store.max_notification_id()
    if upto == 0:
        raise NotFound(f"no events in {store.target.display}; nothing to export")
    part = path.with_name(path.name + ".part")
    check = LogCheck(store, indexed)
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            manifest, notes = _write_events(zf, store.read(batch=2000, upto=upto), check)
            zf.writestr(MANIFEST, _json_bytes(manifest.to_dict(), indent=1))
            for position, note in notes:
                zf.writestr(note_name(position), _json_bytes(note, indent=1))
        problems = check.problems()
        if problems and not damaged:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise Refused(f"the log does not match its log index or the tree heads it signed: {problems[0]}{more}; "
                          "the event store was edited or damaged, nothing exported (`ledger verify` says more; "
                          "--damaged exports the log as it is)")
        os.replace(part, path)
    except OSError as exc:
        raise BundleError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if part.exists():
            part.unlink()
    return manifest, problems


def note_name(position: int) -> str:
    """The member holding the reader's copy of the checkpoint act at a position."""
    return f"{CHECKPOINTS}{position:08d}.json"


def _write_events(zf: zipfile.ZipFile, acts: Iterator[StoredAct],
                  check: LogCheck) -> tuple[Manifest, list[tuple[int, dict]]]:
    frontier, ledger_id, notes, position = Frontier(), "", [], 0
    # zipfile allows one member open for writing at a time, so checkpoint notes are collected and written after
    info = zipfile.ZipInfo(EVENTS, date_time=now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as fh:
        for act in acts:
            position += 1
            fh.write(_json_bytes(event_record(act)) + b"\n")
            try:
                leaf = leaf_hash(leaf_bytes(act))
            except LedgerError as exc:
                raise BundleError(f"the event at position {position} cannot be encoded: {exc}") from None
            frontier.append(leaf)
            check.add(act, leaf)
            envelope = act.envelope if isinstance(act.envelope, dict) else {}
            if position == 1:
                ledger_id = str(envelope.get("ledger", ""))
            if envelope.get("type") == "checkpoint.signed":
                notes.append((position, checkpoint_note(position, ledger_id, envelope)))
    return Manifest(ledger_id, position, frontier.root(), format_time(now())), notes


def event_record(act: StoredAct) -> dict:
    """One `events.jsonl` line as a dict: what was signed, and where and when the store recorded it."""
    return {"envelope": act.envelope, "signature": act.signature, "recorded_at": act.recorded_at,
            "stream": act.stream, "version": act.version, "topic": act.topic}


def checkpoint_note(position: int, ledger_id: str, envelope: dict) -> dict:
    """A reader's copy of a stored checkpoint. The note's own signature line is not kept in the act (only the act's
    envelope signature is), so the signed C2SP note cannot be re-created; the body it signed can."""
    act = envelope.get("act") if isinstance(envelope.get("act"), dict) else {}
    note = {"position": position, "signer": envelope.get("signer"), "signed_at": envelope.get("signed_at"),
            "size": act.get("size"), "root": act.get("root"), "time": act.get("time")}
    if "note" in act:
        note["note"] = act["note"]
    note["note_body"] = f"kaohe-ledger/{ledger_id}\n{act.get('size')}\n{act.get('root')}\n{act.get('time')}\n"
    return note


def _json_bytes(obj, indent: int | None = None) -> bytes:
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(obj, ensure_ascii=False, indent=indent, separators=separators).encode("utf-8")


def manifest_problem(manifest: Manifest, report: Report, ledger_id: str | None) -> str | None:
    """Why the manifest does not describe the verified events, or None when it does."""
    if manifest.ledger_id != (ledger_id or ""):
        return f"the manifest names ledger {manifest.ledger_id}, the events are of ledger {ledger_id}"
    if manifest.size != report.size:
        return f"the manifest says {manifest.size} events, the bundle holds {report.size}"
    if manifest.root != report.root:
        return f"the manifest's root {base64.b64encode(manifest.root).decode()} is not the events' root"
    return None

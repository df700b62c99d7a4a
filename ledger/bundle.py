"""The audit bundle: the whole log in one ZIP file that an auditor verifies offline or restores into a database.

Layout (docs/audit-bundle.md has the details and an example):

    manifest.json           {"format", "ledger_id", "size", "root" (base64), "exported_at"}
    events.jsonl            one stored event a line, in log order (line n is position n):
                            {"envelope", "signature", "recorded_at", "stream", "version", "topic"}
    checkpoints/<pos>.json  every stored `checkpoint.signed` act, extracted for reading (the event is the signed copy;
                            `note_problems` checks each copy against it)

The manifest is not signed and proves nothing by itself: verification recomputes size and root from the events and
compares them with checkpoints the auditor holds. Reading is strict and bounded; any malformed, truncated or oversized
bundle is refused with one line. Scheme files need no member of their own: each adopted scheme is inside its event.
Export checks the log against its index as it writes (ledger.logcheck); restoring is ledger.restore.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .canonical import loads_strict
from .clock import format_time, now
from .errors import LedgerError, NotFound, Refused, first_line
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
_NOTE = re.compile(r"checkpoints/([0-9]{8,19})\.json")


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


@dataclass(frozen=True)
class Bundle:
    """A bundle read back: its manifest and its events as StoredActs (notification_id = position)."""

    path: str
    manifest: Manifest
    acts: list[StoredAct]
    notes: dict[int, object] = field(default_factory=dict)  # checkpoints/<position>.json, parsed
    unknown: list[str] = field(default_factory=list)  # members the format does not define


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
                notes.append((position, _checkpoint_note(position, ledger_id, envelope)))
    return Manifest(ledger_id, position, frontier.root(), format_time(now())), notes


def event_record(act: StoredAct) -> dict:
    """One `events.jsonl` line as a dict: what was signed, and where and when the store recorded it."""
    return {"envelope": act.envelope, "signature": act.signature, "recorded_at": act.recorded_at,
            "stream": act.stream, "version": act.version, "topic": act.topic}


def _checkpoint_note(position: int, ledger_id: str, envelope: dict) -> dict:
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


# ---- reading -------------------------------------------------------------------------------------------------------

def read_bundle(path: str | Path) -> Bundle:
    """Read and shape-check a bundle; every way it can be unreadable is one BundleError naming the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BUNDLE:
            raise BundleError(f"{path}: larger than {MAX_BUNDLE} bytes; not an audit bundle")
        with zipfile.ZipFile(path) as zf:
            manifest = _read_manifest(zf, path)
            acts = list(_read_events(zf, path))
            if not acts:
                raise BundleError(f"{path}: {EVENTS} holds no events")
            notes, unknown = _read_notes(zf, path, len(acts))
    except BundleError:
        raise
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # a cut-short file loses the ZIP directory at its end; a damaged member fails its CRC
        raise BundleError(f"{path}: not a readable audit bundle (damaged or cut short: {first_line(exc)})") from None
    return Bundle(str(path), manifest, acts, notes, unknown)


def _member(zf: zipfile.ZipFile, path: Path, name: str, limit: int) -> zipfile.ZipInfo:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise BundleError(f"{path}: not an audit bundle (no {name})") from None
    if info.file_size > limit:
        raise BundleError(f"{path}: {name} is larger than {limit} bytes")
    return info


def _read_manifest(zf: zipfile.ZipFile, path: Path) -> Manifest:
    _member(zf, path, MANIFEST, MAX_MANIFEST)
    with zf.open(MANIFEST) as fh:
        data = fh.read(MAX_MANIFEST + 1)
    doc = _parse_json(data, f"{path}: {MANIFEST}")
    if not isinstance(doc, dict) or set(doc) != set(MANIFEST_FIELDS):
        raise BundleError(f"{path}: {MANIFEST} must have exactly the fields {', '.join(MANIFEST_FIELDS)}")
    for key, kind in MANIFEST_FIELDS.items():
        if not isinstance(doc[key], kind) or isinstance(doc[key], bool):
            raise BundleError(f"{path}: {MANIFEST} field {key} is not a {kind.__name__}")
    if doc["format"] != FORMAT:
        raise BundleError(f"{path}: bundle format {doc['format']!r} is not {FORMAT!r}")
    try:
        root = base64.b64decode(doc["root"], validate=True)
    except (binascii.Error, ValueError):
        root = b""
    if len(root) != 32 or doc["size"] < 0:
        raise BundleError(f"{path}: {MANIFEST} root is not a base64 32-byte hash, or size is negative")
    return Manifest(doc["ledger_id"], doc["size"], root, doc["exported_at"], doc["format"])


def _read_events(zf: zipfile.ZipFile, path: Path) -> Iterator[StoredAct]:
    _member(zf, path, EVENTS, MAX_EVENTS)
    total = 0
    with zf.open(EVENTS) as fh:
        for position, line in enumerate(iter(lambda: fh.readline(MAX_LINE + 1), b""), start=1):
            total += len(line)
            where = f"{path}: {EVENTS} line {position}"
            if total > MAX_EVENTS:
                raise BundleError(f"{path}: {EVENTS} is larger than {MAX_EVENTS} bytes")
            if len(line) > MAX_LINE:
                raise BundleError(f"{where} is longer than {MAX_LINE} bytes")
            if not line.endswith(b"\n"):
                raise BundleError(f"{where} does not end with a line feed (the file is cut short)")
            yield _stored_act(position, _parse_json(line, where), where)


def _read_notes(zf: zipfile.ZipFile, path: Path, events: int) -> tuple[dict[int, object], list[str]]:
    """The checkpoints/ copies by position, and the names of members the format does not define (or repeats)."""
    names = zf.namelist()
    if len(names) > events + 2:  # a copy per event at most, the manifest and the events
        raise BundleError(f"{path}: {len(names)} members, more than a bundle of {events} events can hold")
    notes, unknown, seen = {}, [], set()
    for name in names:
        match = _NOTE.fullmatch(name)
        if name in seen or not (name in (MANIFEST, EVENTS) or match and note_name(int(match[1])) == name):
            unknown.append(name[:80])
        elif match:
            _member(zf, path, name, MAX_MANIFEST)
            with zf.open(name) as fh:
                notes[int(match[1])] = _parse_json(fh.read(MAX_MANIFEST + 1), f"{path}: {name}")
        seen.add(name)
    return notes, unknown


def _stored_act(position: int, doc, where: str) -> StoredAct:
    if not isinstance(doc, dict) or set(doc) != set(EVENT_FIELDS):
        raise BundleError(f"{where}: an event line must have exactly the fields {', '.join(EVENT_FIELDS)}")
    kinds = {"envelope": dict, "signature": dict, "recorded_at": str, "stream": str, "version": int, "topic": str}
    for key, kind in kinds.items():
        if not isinstance(doc[key], kind) or isinstance(doc[key], bool):
            raise BundleError(f"{where}: {key} is not a {kind.__name__}")
    recorded = doc["recorded_at"]
    try:
        parsed = datetime.fromisoformat(recorded)
    except ValueError:
        parsed = None
    # the Merkle leaf covers this exact text, and a restore must store it back byte for byte
    if parsed is None or parsed.tzinfo is None or parsed.isoformat() != recorded:
        raise BundleError(f"{where}: recorded_at {recorded[:40]!r} is not a store timestamp "
                          "(ISO 8601 with its UTC offset, as the store writes it)")
    return StoredAct(position, doc["stream"], doc["version"], doc["topic"], doc["envelope"], doc["signature"],
                     recorded)


def _parse_json(data: bytes, where: str):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{where}: not UTF-8") from None
    try:
        return loads_strict(text, where)
    except LedgerError as exc:
        raise BundleError(str(exc)) from None


def manifest_problem(manifest: Manifest, report: Report, ledger_id: str | None) -> str | None:
    """Why the manifest does not describe the verified events, or None when it does."""
    if manifest.ledger_id != (ledger_id or ""):
        return f"the manifest names ledger {manifest.ledger_id}, the events are of ledger {ledger_id}"
    if manifest.size != report.size:
        return f"the manifest says {manifest.size} events, the bundle holds {report.size}"
    if manifest.root != report.root:
        return f"the manifest's root {base64.b64encode(manifest.root).decode()} is not the events' root"
    return None


def note_problems(bundle: Bundle) -> list[str]:
    """The checkpoints/ copies against the checkpoint acts of the log: each must be the copy the exporter writes of
    the act at its position, and every checkpoint act must have one. Unsigned, they prove nothing; checked, they
    cannot mislead a reader, and a copy found at another position names where events were removed or inserted."""
    ledger_id = str(bundle.acts[0].envelope.get("ledger", ""))
    wanted = {a.notification_id: _checkpoint_note(a.notification_id, ledger_id, a.envelope)
              for a in bundle.acts if a.envelope.get("type") == "checkpoint.signed"}
    problems = [f"{name}: a member the format does not define (or a second one of that name): not checked"
                for name in bundle.unknown]
    for position, note in sorted(bundle.notes.items()):
        want, name = wanted.get(position), note_name(position)
        if note == want:
            continue
        if want is not None:
            fields = [k for k in want if not isinstance(note, dict) or note.get(k) != want[k]]
            extra = [] if not isinstance(note, dict) else sorted(set(note) - set(want))
            problems.append(f"{name} differs from the checkpoint act at position {position} "
                            f"({', '.join(fields + extra)}): the copy was edited")
            continue
        there = bundle.acts[position - 1].envelope.get("type") if position <= len(bundle.acts) else None
        problem = f"{name} copies a checkpoint act at position {position}, but " + (
            f"the event there is a {there}" if there else f"the log holds {len(bundle.acts)} events")
        moved = [p for p, w in wanted.items() if _same_act(w, note)]
        if moved:
            problem += (f"; the log holds that act at position {moved[0]}: events before it were "
                        + ("removed or reordered" if moved[0] < position else "inserted or reordered"))
        problems.append(problem)
    problems += [f"the checkpoint act at position {p} has no copy {note_name(p)}" for p in sorted(wanted.keys() -
                                                                                                   bundle.notes.keys())]
    return problems


def _same_act(want: dict, note) -> bool:
    """Whether a copy is of this act, wherever it stood."""
    return isinstance(note, dict) and {k: v for k, v in note.items() if k != "position"} == \
        {k: v for k, v in want.items() if k != "position"}

"""Reading an audit bundle (ledger.bundle has the format): strict and bounded, every way a bundle can be unreadable
one BundleError naming the file; its events are read from the open file as they are verified, never held at once."""
from __future__ import annotations

import base64
import binascii
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from .bundle import (EVENT_FIELDS, EVENTS, FORMAT, MANIFEST, MANIFEST_FIELDS, MAX_BUNDLE, MAX_EVENTS, MAX_LINE,
                     MAX_MANIFEST, BundleError, Manifest, checkpoint_note, note_name)
from .canonical import loads_strict
from .errors import LedgerError, first_line
from .store import StoredAct

_NOTE = re.compile(r"checkpoints/([0-9]{8,19})\.json")


class Bundle:
    """A bundle read back: its manifest and checkpoint copies, and its events read from the open file on demand
    (`events`), so that a province's million events are never held at once (they took 3.2 GB). The first reading
    of the events to their end also records what the checks of the copies and of the manifest read."""

    def __init__(self, path: Path, manifest: Manifest, size: int, notes: dict[int, object], unknown: list[str],
                 file: BinaryIO):
        self.path, self.manifest, self.size = str(path), manifest, size  # size: the lines of events.jsonl
        self.notes = notes  # checkpoints/<position>.json, parsed
        self.unknown = unknown  # members the format does not define
        self._file = file  # open since it was first read: a file put in its place is not read
        self._ledger_id: object = None
        self._checkpoints: dict[int, dict] | None = None
        self._types_at: dict[int, object] = {}

    def events(self) -> Iterator[StoredAct]:
        """Every event, in order, as StoredActs (notification_id = position), read and shape-checked."""
        path, first = Path(self.path), self._checkpoints is None
        checkpoints: dict[int, dict] = {}
        with _reading(path):
            self._file.seek(0)
            with zipfile.ZipFile(self._file) as zf:
                for act in _read_events(zf, path):
                    if first:
                        self._note(act, checkpoints)
                    yield act
        if first:
            self._checkpoints = checkpoints

    def _note(self, act: StoredAct, checkpoints: dict[int, dict]) -> None:
        position, kind = act.notification_id, act.envelope.get("type")
        if position == 1:
            self._ledger_id = act.envelope.get("ledger", "")
        if kind == "checkpoint.signed":
            checkpoints[position] = act.envelope
        if position in self.notes:
            self._types_at[position] = kind

    def _read_through(self) -> None:
        if self._checkpoints is None:
            raise RuntimeError("the bundle's events have not been read to their end yet")

    @property
    def ledger_id(self) -> object:
        """The first event's envelope's "ledger" ("" if it has none), as it is."""
        self._read_through()
        return self._ledger_id

    @property
    def checkpoints(self) -> dict[int, dict]:
        """position -> envelope, of every checkpoint.signed act."""
        self._read_through()
        return self._checkpoints

    def type_at(self, position: int) -> object:
        """The type of the event at a position a checkpoints/ copy names."""
        self._read_through()
        return self._types_at.get(position)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_bundle(path: str | Path) -> Bundle:
    """Open a bundle and read its manifest and checkpoint copies (its events are read by `Bundle.events`); every way
    it can be unreadable is one BundleError naming the file. The Bundle holds the file open (close it, or use it in
    a `with`)."""
    path = Path(path)
    with _reading(path):
        if path.stat().st_size > MAX_BUNDLE:
            raise BundleError(f"{path}: larger than {MAX_BUNDLE} bytes; not an audit bundle")
        file = open(path, "rb")
        try:
            with zipfile.ZipFile(file) as zf:
                manifest = _read_manifest(zf, path)
                size = _count_lines(zf, path)
                if not size:
                    raise BundleError(f"{path}: {EVENTS} holds no events")
                notes, unknown = _read_notes(zf, path, size)
        except BaseException:
            file.close()
            raise
    return Bundle(path, manifest, size, notes, unknown, file)


def _count_lines(zf: zipfile.ZipFile, path: Path) -> int:
    """The lines of events.jsonl, counted as it is decompressed (1–2 s a million; each is read and checked later)."""
    _member(zf, path, EVENTS, MAX_EVENTS)
    lines = total = 0
    with zf.open(EVENTS) as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
            if total > MAX_EVENTS:
                raise BundleError(f"{path}: {EVENTS} is larger than {MAX_EVENTS} bytes")
            lines += chunk.count(b"\n")
    return lines


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Every way reading the file fails, as one BundleError naming it."""
    try:
        yield
    except BundleError:
        raise
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # a cut-short file loses the ZIP directory at its end; a damaged member fails its CRC
        raise BundleError(f"{path}: not a readable audit bundle (damaged or cut short: {first_line(exc)})") from None


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


def note_problems(bundle: Bundle) -> list[str]:
    """The checkpoints/ copies against the checkpoint acts of the log: each must be the copy the exporter writes of
    the act at its position, and every checkpoint act must have one. Unsigned, they prove nothing; checked, they
    cannot mislead a reader, and a copy found at another position names where events were removed or inserted."""
    ledger_id = str(bundle.ledger_id)
    wanted = {position: checkpoint_note(position, ledger_id, envelope)
              for position, envelope in bundle.checkpoints.items()}
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
        there = bundle.type_at(position) if position <= bundle.size else None
        problem = f"{name} copies a checkpoint act at position {position}, but " + (
            f"the event there is a {there}" if there else f"the log holds {bundle.size} events")
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

"""Signed act files (`--out`, `ledger submit`): {"envelope": …, "signature": …} as JSON."""
from __future__ import annotations

from pathlib import Path

from .canonical import loads_strict
from .errors import Refused

MAX_ACT_FILE = 8 * 1024 * 1024


def read_act_file(path: str | Path) -> tuple[dict, dict]:
    """Read and shape-check a signed act file; the signature itself is checked on submission."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_ACT_FILE:
            raise Refused(f"{path}: larger than {MAX_ACT_FILE // (1024 * 1024)} MB; not a signed act")
        raw = path.read_bytes()
    except OSError as exc:
        raise Refused(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{path}: not UTF-8 text") from None
    doc = loads_strict(text, str(path))
    if not isinstance(doc, dict) or "envelope" not in doc:
        raise Refused(f"{path}: not a signed act (expected an object with envelope and signature)")
    if "signature" not in doc or doc["signature"] in (None, {}, ""):
        raise Refused(f"{path}: the act is unsigned")
    if set(doc) != {"envelope", "signature"}:
        raise Refused(f"{path}: unexpected fields beside envelope and signature")
    if not isinstance(doc["envelope"], dict) or not isinstance(doc["signature"], dict):
        raise Refused(f"{path}: envelope and signature must be objects")
    return doc["envelope"], doc["signature"]

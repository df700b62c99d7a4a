"""The log as people read it: one row per act, with who signed it and a short summary."""
from __future__ import annotations

from typing import Iterator

from .replay import LoggedAct, logged_acts
from ledger.registry import Registry

SUMMARY_FIELDS = ("year", "unit", "indicator", "component", "round", "value", "level", "rule", "role", "kind",
                  "outcome", "person", "key_id", "reason", "note", "name")


def summary(envelope: dict) -> str:
    """A one-line summary of an act's fields (long texts such as a scheme are left out)."""
    act = envelope["act"]
    parts = [f"{k}={act[k]}" for k in SUMMARY_FIELDS if k in act and act[k] not in (None, "")]
    if "inputs" in act:
        parts.extend(f"{k}={v}" for k, v in sorted(act["inputs"].items()))
    return " ".join(parts)


def log_rows(store, start: int = 1, upto: int | None = None) -> Iterator[dict]:
    """Rows of the log from position `start`, resolving signers to persons as the registry stood then."""
    registry = Registry()
    for item in logged_acts(store, upto):
        env = item.envelope
        if env["type"] in ("ledger.genesis", "signatory.added", "signatory.revoked"):
            registry.apply(env)
        if item.position < start:
            continue
        signer = registry.signatories.get(env["signer"])
        yield row_of(item, signer.person if signer else env["signer"])


def row_of(item: LoggedAct, person: str) -> dict:
    """The row of one act; `envelope` and `signature` are included for JSON output."""
    env = item.envelope
    return {"position": item.position, "event_id": item.event_id, "type": env["type"], "stream": item.stream,
            "version": item.version, "signer": env["signer"], "person": person, "signed_at": env["signed_at"],
            "recorded_at": item.recorded_at, "summary": summary(env), "envelope": env, "signature": item.signature}

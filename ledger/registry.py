"""Signatories: who may sign, with which roles, from when until revoked. Built from the ledger stream's acts."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable

from .errors import Refused
from .signing import verifies

BUILTIN_ROLES = ("office", "department", "auditor", "inspector")


@dataclass(frozen=True)
class Signatory:
    """A registered key and the person, department and roles it signs for."""

    key_id: str
    public_key: str
    person: str
    department: str
    roles: tuple[str, ...]
    valid_from: str
    revoked_at: str | None = None
    revoked_reason: str = ""

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return {"key_id": self.key_id, "public_key": self.public_key, "person": self.person,
                "department": self.department, "roles": list(self.roles), "valid_from": self.valid_from,
                "revoked_at": self.revoked_at, "revoked_reason": self.revoked_reason}


@dataclass
class Registry:
    """The ledger's identity and its signatories, as of some point in the log."""

    ledger_id: str = ""
    name: str = ""
    signatories: dict[str, Signatory] = field(default_factory=dict)

    def apply(self, envelope: dict) -> None:
        """Fold one ledger-stream act into the registry."""
        kind, act = envelope["type"], envelope["act"]
        if kind == "ledger.genesis":
            self.ledger_id, self.name = envelope["ledger"], act["name"]
            self._add(act["office"], envelope["signer"], envelope["signed_at"])
        elif kind == "signatory.added":
            self._add(act, act["key_id"], act["valid_from"])
        elif kind == "signatory.revoked":
            old = self.signatories[act["key_id"]]
            self.signatories[act["key_id"]] = replace(old, revoked_at=envelope["signed_at"], revoked_reason=act["reason"])

    def _add(self, act: dict, key_id: str, valid_from: str) -> None:
        self.signatories[key_id] = Signatory(key_id, act["public_key"], act["person"], act.get("department", ""),
                                             tuple(act["roles"]), valid_from)

    def signer(self, key_id: str, signed_at: str) -> Signatory:
        """The signatory for a new act: registered, not revoked, and valid at the act's signing time."""
        sig = self.signatories.get(key_id)
        if sig is None:
            raise Refused(f"unknown signer {key_id}: the key is not registered in this ledger")
        if sig.revoked_at is not None:
            raise Refused(f"signer {key_id} ({sig.person}) was revoked at {sig.revoked_at}: it signs nothing after revocation")
        if signed_at < sig.valid_from:
            raise Refused(f"signer {key_id} ({sig.person}) is valid from {sig.valid_from}, not at {signed_at}")
        return sig

    def verifier_for(self, key_id: str) -> Callable[[bytes, bytes], bool] | None:
        """`verify(message, raw signature)` by a registered key (revoked or not), or None for a key not registered:
        what `ledger.checkpoint.verify_signatures` asks for a checkpoint's signature lines."""
        sig = self.signatories.get(key_id)
        return None if sig is None else partial(verifies, sig.public_key)

    def holds(self, key_id: str, role: str) -> bool:
        """Whether the key is registered for the role."""
        sig = self.signatories.get(key_id)
        return sig is not None and role in sig.roles

    def people_with_role(self, role: str) -> list[Signatory]:
        """Active signatories holding a role."""
        return [s for s in self.signatories.values() if role in s.roles and s.revoked_at is None]

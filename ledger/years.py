"""The state of one assessment year, folded from its stream: adopted scheme and the signatures of its close."""
from __future__ import annotations

from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from .canonical import sha256_hex
from .errors import Refused

if TYPE_CHECKING:
    from .scheme import Scheme

_SCHEMES: dict[str, "Scheme"] = {}


def scheme_from_text(text: str, file: str = "") -> "Scheme":
    """Parse a scheme once per process per content (the year stream carries the text)."""
    from .scheme import load_scheme  # the scheme parser is only needed once a year is touched

    digest = sha256_hex(text.encode("utf-8"))
    if digest not in _SCHEMES:
        _SCHEMES[digest] = load_scheme(text, file)
    return _SCHEMES[digest]


@dataclass(frozen=True)
class CloseSignature:
    role: str
    person: str
    key_id: str
    position: int
    result_sha256: str
    event_id: str


@dataclass
class YearState:
    """What the year stream says: which scheme is in force, and who has signed the close."""

    year: int
    scheme_text: str | None = None
    scheme_event: str = ""
    closes: list[CloseSignature] = field(default_factory=list)

    @property
    def scheme(self) -> "Scheme":
        if self.scheme_text is None:
            raise Refused(f"no scheme has been adopted for {self.year}")
        return scheme_from_text(self.scheme_text, f"scheme {self.year}")

    @property
    def adopted(self) -> bool:
        return self.scheme_text is not None

    @property
    def closing(self) -> bool:
        """A close has been signed by at least one role: no new scores or evaluations."""
        return bool(self.closes)

    @property
    def closed(self) -> bool:
        """Every closing role the scheme names has signed."""
        if not self.closes or self.scheme_text is None:
            return False
        return set(self.scheme.closing_roles or ("office",)) <= {c.role for c in self.closes}

    @property
    def close_position(self) -> int | None:
        return self.closes[0].position if self.closes else None

    def apply(self, envelope: dict, event_id: str, person: str) -> None:
        """Fold one year-stream act."""
        act = envelope["act"]
        if envelope["type"] == "scheme.adopted":
            self.scheme_text, self.scheme_event = act["text"], event_id
        elif envelope["type"] == "year.close.signed":
            self.closes.append(CloseSignature(act["role"], person, envelope["signer"], act["position"],
                                              act["result_sha256"], event_id))

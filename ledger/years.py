"""The state of one assessment year, folded from its stream: adopted scheme and the signatures of its close."""
from __future__ import annotations

import gc
from dataclasses import dataclass, field, replace

from typing import TYPE_CHECKING

from . import scheme_cache
from .appeals import Answer, Appeal, Publication
from .canonical import sha256_hex
from .errors import Refused

if TYPE_CHECKING:
    from .scheme import Scheme

_SCHEMES: dict[str, "Scheme"] = {}  # by the SHA-256 of the text: schemes validated in full
_ADOPTED: dict[str, "Scheme"] = {}  # the same for schemes read back from the log, built as used


def scheme_from_text(text: str, file: str = "") -> "Scheme":
    """Parse and validate a scheme in full, once per process per content: what an adoption is checked with."""
    from .scheme import parse_toml, validated_scheme  # the scheme parser is only needed once a year is touched

    if _LAST.get("text") is text and _LAST["validated"]:
        return _LAST["scheme"]
    digest = sha256_hex(text.encode("utf-8"))
    if digest not in _SCHEMES:
        data = parse_toml(text, file)
        _SCHEMES[digest] = _keep(validated_scheme(text, data, file))
        if len(text) >= scheme_cache.MIN_TEXT:
            scheme_cache.store_toml(digest, data)  # the next processes that read this year find it
    _LAST.update(text=text, scheme=_SCHEMES[digest], validated=True)
    return _SCHEMES[digest]


def adopted_scheme_from_text(text: str, file: str = "") -> "Scheme":
    """The scheme of a year's stored scheme.adopted act, whose text was validated in full before it was stored:
    once per process per content, its TOML from the user's scheme cache when there (ledger/scheme_cache.py), its
    groups built as they are used. A scheme this process validated in full is used as it is."""
    from .scheme import adopted_scheme, parse_toml

    if _LAST.get("text") is text:  # the very string read last: no need to hash it again (megabytes for a province)
        return _LAST["scheme"]
    digest = sha256_hex(text.encode("utf-8"))
    scheme = _SCHEMES.get(digest) or _ADOPTED.get(digest)
    if scheme is None:
        large = len(text) >= scheme_cache.MIN_TEXT
        data = scheme_cache.cached_toml(digest) if large else None
        if data is None:
            data = parse_toml(text, file)
            if large:
                scheme_cache.store_toml(digest, data)
        scheme = _ADOPTED[digest] = _keep(adopted_scheme(text, data, file))
    _LAST.update(text=text, scheme=scheme, validated=digest in _SCHEMES)
    return scheme


def _keep(scheme: "Scheme") -> "Scheme":
    # The parsed scheme lives as long as the process (hundreds of thousands of objects for a province) and so do
    # the modules loaded by now: move them out of the collector's sight, or every full collection walks them
    # again — 40% of a county-year's view was spent so.
    gc.freeze()
    return scheme


_LAST: dict = {}  # the text object last asked for, its scheme, and whether that was validated in full


@dataclass(frozen=True)
class CloseSignature:
    role: str
    person: str
    key_id: str
    position: int
    result_sha256: str
    event_id: str
    groups: dict | None = None  # group -> the hash of its rows of the result, where the close signed them


@dataclass
class YearState:
    """What the year stream says: which scheme is in force, who has signed the close, when its results were
    published and which appeals were filed and answered."""

    year: int
    scheme_text: str | None = None
    scheme_event: str = ""
    closes: list[CloseSignature] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    appeals: dict[str, Appeal] = field(default_factory=dict)  # by the filing's event id, in filing order
    # (text, parsed scheme): adopted_scheme_from_text hashes the text to find its cache entry, which costs
    # milliseconds for a province-sized scheme, and checks read the scheme once per act
    _parsed: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def scheme(self) -> "Scheme":
        text = self.scheme_text
        if text is None:
            raise Refused(f"no scheme has been adopted for {self.year}")
        if self._parsed is None or self._parsed[0] is not text:
            self._parsed = (text, adopted_scheme_from_text(text, f"scheme {self.year}"))
        return self._parsed[1]

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

    def copy(self) -> "YearState":
        """A copy a check may read without changing this state (its parts are immutable)."""
        return YearState(self.year, self.scheme_text, self.scheme_event, list(self.closes), list(self.publications),
                         dict(self.appeals), self._parsed)

    def apply(self, envelope: dict, event_id: str, person: str) -> None:
        """Fold one year-stream act."""
        act, kind, at = envelope["act"], envelope["type"], envelope.get("signed_at", "")
        if kind == "scheme.adopted":
            self.scheme_text, self.scheme_event = act["text"], event_id
        elif kind == "year.close.signed":
            self.closes.append(CloseSignature(act["role"], person, envelope["signer"], act["position"],
                                              act["result_sha256"], event_id, act.get("groups")))
        elif kind == "results.published":
            self.publications.append(Publication(event_id, act["position"], act["result_sha256"], at, person))
        elif kind == "appeal.filed":
            self.appeals[event_id] = Appeal(event_id, act["unit"], act["reason"], at, person,
                                            self.publications[-1].event_id if self.publications else "",
                                            act.get("document", ""), act.get("evidence_sha256", ""))
        elif kind == "appeal.answered":
            appeal = self.appeals.get(act["appeal"])
            if appeal is not None:
                answer = Answer(event_id, act["outcome"], act["reason"], at, person, act["role"])
                self.appeals[act["appeal"]] = replace(appeal, answer=answer)


# the acts of a year's stream, which YearState folds
YEAR_STREAM_TYPES = ("scheme.adopted", "year.close.signed", "results.published", "appeal.filed", "appeal.answered")

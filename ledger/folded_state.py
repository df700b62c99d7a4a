"""The ledger's state folded in memory from acts that passed their checks: what `verify` and a bulk append check the
next act against (a StateSource for `validate`)."""
from __future__ import annotations

from uuid import UUID

from .acts import stream_of
from .adjustments import AdjustmentState, fold_adjustment, proposed
from .errors import LedgerError
from .merkle import MemoryNodeStore, root as tree_root
from .registry import Registry
from .years import YEAR_STREAM_TYPES, YearState

# the act's fields whose texts repeat from act to act (a few units, rules, roles, score values…)
_SHARED_ACT_FIELDS = frozenset({"unit", "role", "rule", "indicator", "component", "value", "round", "kind"})

# acts that a compact source keeps as a stub (see MemorySource): no check reads more of them once they are in their
# stream than their stream's length, the last event id, the first act's type (and a proposal's year), and an
# adjustment's state, which is kept folded
_STUBBED = frozenset({"score.recorded", "evaluation.recorded", "adjustment.proposed", "adjustment.approved",
                      "adjustment.rejected", "adjustment.rescinded"})


class MemorySource:
    """Ledger state folded from the acts admitted so far.

    `compact` (verify, which folds a whole log from its genesis): scores, evaluations and adjustments are kept as
    (stub, event id) in their streams, each adjustment's state folded as its acts are admitted. A kept act was
    700–1,300 bytes; at a million events those acts were most of verify's memory."""

    def __init__(self, compact: bool = False) -> None:
        self.ledger_id: str | None = None
        self._registry = Registry()
        # keyed by the envelope's stream text (checked to be the UUID's own form): parsing a UUID per admitted act
        # was a tenth of verify's sequential part
        self.streams: dict[str, list[tuple[dict, str]]] = {}
        # every perfect subtree of the log so far: a root at any size in O(log n) when a check or checkpoint asks
        # (a root kept for every size cost a dozen hashes an event at a million)
        self.nodes = MemoryNodeStore()
        # year -> its state, folded as year-stream acts are admitted: refolding it for every act would re-read (and
        # re-hash) the scheme text each time
        self._years: dict[int, YearState] = {}
        # the sizes of the tree heads admitted acts signed (checkpoints, closes), each shown to match the events
        self.heads: list[int] = []
        self._texts: dict[str, str] = {}  # each repeating text of the admitted acts, once (see `_share_texts`)
        self._compact = compact
        self._adjustments: dict[str, AdjustmentState] = {}  # compact: stream -> its state after its admitted acts
        self._stubs: dict[tuple[str, int | None], dict] = {}  # one shared stub per type (and a proposal's year)

    def current_ledger_id(self) -> str | None:
        return self.ledger_id

    def registry(self) -> Registry:
        return self._registry

    def year(self, year: int, registry: Registry) -> YearState:
        state = self._years.get(year)
        if state is None:
            state = self._years[year] = YearState(year)
            for envelope, eid in self.streams.get(str(stream_of(self.ledger_id, "year", year)), []):
                signer = registry.signatories.get(envelope["signer"])
                state.apply(envelope, eid, signer.person if signer else envelope["signer"])
        if state.adopted and state._parsed is None:
            try:
                state.scheme  # parsed once here, shared by the copies below (a Scheme is immutable)
            except LedgerError:
                pass  # the check that reads it says what is wrong
        # a copy: a check must not change the state it reads
        return state.copy()

    def stream_acts(self, stream: UUID) -> list[tuple[dict, str]]:
        return list(self.streams.get(str(stream), []))

    def adjustment_state(self, stream: str, acts: list[tuple[dict, str]], registry: Registry) -> AdjustmentState:
        """The adjustment's state after `acts` (its stream's acts so far): the one kept folded, as a copy."""
        state = self._adjustments.get(stream)
        if state is None:
            return fold_adjustment(stream, acts, registry)
        return state.copy()

    def log_size(self) -> int:
        return self.nodes.size

    def root_at(self, size: int) -> bytes:
        return tree_root(self.nodes, size)

    def admit(self, envelope: dict, eid: str) -> None:
        """Fold an act that passed its checks."""
        kind = envelope["type"]
        if kind == "ledger.genesis":
            self.ledger_id = envelope["ledger"]
        if kind in ("ledger.genesis", "signatory.added", "signatory.revoked"):
            self._registry.apply(envelope)
        self._share_texts(envelope)
        if self._compact and kind in _STUBBED and self._admit_stub(envelope, eid):
            return
        acts = self.streams.get(envelope["stream"])
        if acts is None:
            self.streams[envelope["stream"]] = [(envelope, eid)]
        else:
            envelope["stream"] = acts[0][0]["stream"]  # the text the stream's first act holds: one copy a stream
            acts.append((envelope, eid))
        if kind == "checkpoint.signed":
            self.heads.append(envelope["act"]["size"])
        elif kind == "year.close.signed":
            self.heads.append(envelope["act"]["checkpoint"]["size"])
        if kind in YEAR_STREAM_TYPES:
            state = self._years.get(envelope["act"]["year"])
            if state is not None:  # else folded from the stream when first asked for
                signer = self._registry.signatories.get(envelope["signer"])
                state.apply(envelope, eid, signer.person if signer else envelope["signer"])

    def _admit_stub(self, envelope: dict, eid: str) -> bool:
        """Keep a score, evaluation or adjustment act as a stub, folding an adjustment's state; False where the act
        continues a stream whose state is not kept here (kept whole then)."""
        kind, stream = envelope["type"], envelope["stream"]
        acts = self.streams.get(stream)
        year = None
        if kind == "adjustment.proposed":
            state = self._adjustments[stream] = proposed(stream, envelope, eid, self._registry)
            share = self._texts.setdefault  # an input's name and value repeat from adjustment to adjustment
            state.inputs = {share(k, k): share(v, v) for k, v in state.inputs.items()}
            year = envelope["act"]["year"]
        elif kind != "score.recorded" and kind != "evaluation.recorded":
            state = self._adjustments.get(stream)
            if state is None or acts is None:
                return False
            state.apply(envelope, eid, self._registry)
        stub = self._stubs.get((kind, year))
        if stub is None:
            stub = self._stubs[kind, year] = {"type": kind} if year is None else {"type": kind, "act": {"year": year}}
        if acts is None:
            self.streams[stream] = [(stub, eid)]
        else:
            acts.append((stub, eid))
        return True

    def _share_texts(self, envelope: dict) -> None:
        """Make the texts that repeat across admitted acts one object each. Decoding gives every act its own copy of
        the ledger id, its type, its signer, its unit…, and verify keeps every admitted act to the end: shared, an act
        holds a third less (1,090 B → 650, county). Texts that seldom repeat (times, reasons, ids) are not kept."""
        share = self._texts.setdefault
        envelope["ledger"] = self.ledger_id  # checked equal before the act was admitted
        envelope["type"] = share(envelope["type"], envelope["type"])
        envelope["signer"] = share(envelope["signer"], envelope["signer"])
        for key, value in envelope["act"].items():  # replacing values while iterating: the keys stay as they are
            if key in _SHARED_ACT_FIELDS and value.__class__ is str:
                envelope["act"][key] = share(value, value)

    def add_leaf(self, leaf: bytes) -> None:
        self.nodes.append(leaf)

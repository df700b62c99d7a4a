"""`verify` keeps scores, evaluations and adjustments as stubs with each adjustment's state folded
(`MemorySource(compact=True)`): every check must see the same state, and refuse the same acts with the same words,
as against the acts kept whole."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from ledger.adjustments import fold_adjustment
from ledger.folded_state import MemorySource
from ledger.keys import load_private
from ledger.log_index import event_id
from ledger.merkle import leaf_hash
from ledger.precheck import problem_of
from ledger.signing import sign_envelope
from ledger.store import EventStore
from ledger.validation import validate
from tests.cliharness import PASSPHRASE, Cli
from tests.hy_ledger import OTHER, UNIT, build

SCORE = ["score", "record", "--year", "2017", "--indicator", "指标评估"]
PROPOSE = ["adjust", "propose", "--year", "2017", "--rule", "荣誉", "--level", "省级", "--document", "d",
           "--reason", "获表彰"]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """A HY ledger with scores and a correction, adjustments approved, rejected, rescinded and pending, and a
    decision revoked; its acts as stored, and its keys."""
    folder = tmp_path_factory.mktemp("folded")
    run = Cli(str(folder / "l.db"), folder)
    keys = build(run, folder)
    run(*SCORE, "--unit", UNIT, "--points", "70", "--sign-with", keys["kh"]).ok()
    run(*SCORE, "--unit", UNIT, "--points", "71", "--note", "复核", "--sign-with", keys["kh"]).ok()
    run(*SCORE, "--unit", OTHER, "--points", "75", "--sign-with", keys["kh"]).ok()
    ids = {}
    for name, unit in (("approved", UNIT), ("rejected", UNIT), ("rescinded", OTHER), ("pending", OTHER),
                       ("approved_rescinded", OTHER)):
        out = run(*PROPOSE, "--unit", unit, "--matter", name, "--sign-with", keys["kh"]).ok().out
        ids[name] = out.split("(adjustment ")[1].split(")")[0]
    run("adjust", "approve", ids["approved"], "--sign-with", keys["zz"], "--yes").ok()
    run("adjust", "reject", ids["rejected"], "--reason", "无文件", "--sign-with", keys["zz"]).ok()
    run("adjust", "rescind", ids["rescinded"], "--reason", "重复", "--sign-with", keys["kh"]).ok()
    run("adjust", "approve", ids["approved_rescinded"], "--sign-with", keys["zz"], "--yes").ok()
    run("adjust", "rescind", ids["approved_rescinded"], "--reason", "撤销", "--sign-with", keys["kh"]).ok()
    store = EventStore(run.db)
    try:
        acts = list(store.read())
    finally:
        store.close()
    return acts, keys


def _sources(acts) -> tuple[MemorySource, MemorySource]:
    whole, compact = MemorySource(), MemorySource(compact=True)
    for act in acts:
        for source in (whole, compact):
            source.add_leaf(leaf_hash(b"%d" % act.notification_id))
            source.admit(copy.deepcopy(act.envelope), event_id(act.envelope))
    return whole, compact


def test_every_stream_reads_the_same(ledger):
    acts, _ = ledger
    whole, compact = _sources(acts)
    assert whole.streams.keys() == compact.streams.keys()
    adjustments = 0
    for stream, kept in whole.streams.items():
        stubs = compact.streams[stream]
        assert [eid for _, eid in stubs] == [eid for _, eid in kept]
        assert stubs[0][0]["type"] == kept[0][0]["type"]
        if kept[0][0]["type"] == "adjustment.proposed":
            adjustments += 1
            assert stubs[0][0]["act"]["year"] == kept[0][0]["act"]["year"]
            folded = compact.adjustment_state(stream, stubs, compact.registry())
            assert folded == fold_adjustment(stream, kept, whole.registry())
    assert adjustments == 5


def test_the_state_handed_to_a_check_is_a_copy(ledger):
    acts, _ = ledger
    _, compact = _sources(acts)
    stream = next(s for s, kept in compact.streams.items() if kept[0][0]["type"] == "adjustment.proposed")
    given = compact.adjustment_state(stream, compact.streams[stream], compact.registry())
    given.approvals.append(None)
    given.rescinded = ("x", "y")
    again = compact.adjustment_state(stream, compact.streams[stream], compact.registry())
    assert None not in again.approvals and again.rescinded is None


def _forged(acts, keys, name: str, kind: str, act: dict, target_type: str, nth: int = 0, version: int = 0) -> tuple:
    """A validly signed act by `name`'s key continuing the nth stream opened by `target_type`."""
    key = load_private(keys[name], PASSPHRASE.encode())
    firsts = [a for a in acts if a.envelope["type"] == target_type and a.envelope["version"] == 1]
    stream = firsts[nth].envelope["stream"]
    length = sum(1 for a in acts if a.envelope["stream"] == stream)
    envelope = {"ledger": acts[0].envelope["ledger"], "type": kind, "stream": stream,
                "version": version or length + 1, "act": act, "signer": key.key_id,
                "signed_at": "2017-12-21T02:00:00Z"}
    return envelope, sign_envelope(key.key, envelope)


FORGERIES = {
    "an approval of a score": ("zz", "adjustment.approved", {"role": "组长"}, "score.recorded", 0, 0,
                               "the stream is not an adjustment"),
    "a revocation of an adjustment": ("office", "decision.revoked", {"reason": "x"}, "adjustment.proposed", 0, 0,
                                      "the stream is not a decision"),
    "a second approval": ("zz", "adjustment.approved", {"role": "组长"}, "adjustment.proposed", 0, 0, "approved"),
    "an approval of a rejected one": ("zz", "adjustment.approved", {"role": "组长"}, "adjustment.proposed", 1, 0,
                                      "rejected"),
    "a rescission of a rescinded one": ("kh", "adjustment.rescinded", {"reason": "x"}, "adjustment.proposed", 2, 0,
                                        "rescinded already"),
    "a rescission by another department": ("cz", "adjustment.rescinded", {"reason": "x"}, "adjustment.proposed",
                                           3, 0, "only the proposing department"),
    "a stale version": ("zz", "adjustment.approved", {"role": "组长"}, "adjustment.proposed", 3, 1,
                        "does not follow stream"),
    "a correction naming no act": ("kh", "score.recorded", {"year": 2017, "unit": UNIT, "indicator": "指标评估",
                                                            "value": "72", "note": "再核"},
                                   "score.recorded", 0, 0, "must name it in corrects"),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_forged_act_is_refused_alike(ledger, case):
    acts, keys = ledger
    name, kind, act, target, nth, version, words = FORGERIES[case]
    envelope, signature = _forged(acts, keys, name, kind, act, target, nth, version)
    clock = datetime(2017, 12, 22, tzinfo=timezone.utc)
    problems = []
    for source in _sources(acts):
        problems.append(problem_of(lambda: validate(copy.deepcopy(envelope), signature, source, clock)))
    assert problems[0] == problems[1]
    assert problems[0] is not None and words in problems[0], problems[0]


def test_an_allowed_act_passes_both(ledger):
    acts, keys = ledger
    envelope, signature = _forged(acts, keys, "zz", "adjustment.approved", {"role": "组长"}, "adjustment.proposed", 3)
    clock = datetime(2017, 12, 22, tzinfo=timezone.utc)
    for source in _sources(acts):
        ctx = validate(copy.deepcopy(envelope), signature, source, clock)
        assert ctx.adjustment.status(("组长",)) == "pending"


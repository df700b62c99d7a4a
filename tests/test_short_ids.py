"""Adjustment and decision ids are the first 8 hex digits of a random stream id: a province's 200,000 adjustments
hold a few pairs that share them. Each keeps its own id (longer after the first), counts, and can be named.
(Decisions take their ids by the same rule, `unique_short_id`, in the replay and in the read models.)"""
from __future__ import annotations

import random
from uuid import UUID

import pytest

from ledger.adjustments import display_ids, unique_short_id
from tests.test_crash import SEED, _signed_county


def test_an_id_grows_by_four_digits_until_no_earlier_stream_has_it():
    first, second, third = ("26e87f2a-670e-4223-b2c8-ed57b1defbc6", "26e87f2a-1111-4223-b2c8-ed57b1defbc6",
                            "26e87f2a-670e-4000-8000-000000000000")
    assert unique_short_id(first, set()) == "26e87f2a"
    assert display_ids([first, second, third]) == {first: "26e87f2a", second: "26e87f2a1111",
                                                   third: "26e87f2a670e"}  # a prefix of the first stream too: ids are matched whole first


class _Drawn(random.Random):
    """A generator's random source that draws a chosen stream id, and lets every approval through."""

    def __init__(self, stream: UUID):
        super().__init__(SEED)
        self.stream = stream

    def getrandbits(self, k: int) -> int:
        return self.stream.int

    def random(self) -> float:
        return 0.5


def _collisions(county: list) -> tuple[list, list[str]]:
    """Two more adjustments of the county's first proposal's unit, their streams sharing its first 8 digits, their
    acts interleaved."""
    from bench.generate import TEMPLATES, _adjustment, make_keys
    from ledger.bulk import BulkSigner

    keys = make_keys(SEED)
    signer = BulkSigner(county[0][0]["ledger"])
    first = next(env for env, _sig in county if env["type"] == "adjustment.proposed")
    department = next(name for name, key in keys.items() if key.key_id == first["signer"])
    template = next(t for t in TEMPLATES if t[0] == first["act"]["rule"] and t[2] == department)
    streams = [first["stream"]] + [f"{first['stream'][:8]}-{tail}-4000-8000-000000000000" for tail in ("1111", "2222")]
    one, other = (_adjustment(signer, keys, first["act"]["unit"], template, _Drawn(UUID(s))) for s in streams[1:])
    return [act for pair in zip(one, other) for act in pair], streams  # their acts interleaved


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory):
    """The county with the colliding acts appended after a first catch-up; and the same acts folded at once."""
    from ledger.bulk import append_many
    from ledger.store import EventStore
    from ledger.writer import Ledger
    from projections import readmodel

    county = _signed_county()
    extra, streams = _collisions(county)
    folded, whole = (Ledger(EventStore(str(tmp_path_factory.mktemp("ids") / f"{name}.db"))) for name in "ab")
    append_many(folded, county)
    readmodel.catch_up(folded.store)
    append_many(folded, extra)
    readmodel.catch_up(folded.store)
    append_many(whole, county + extra)
    readmodel.catch_up(whole.store)
    yield folded, whole, streams
    folded.store.close()
    whole.store.close()


def test_each_adjustment_keeps_its_own_id_and_counts(ledgers):
    from projections.asof import year_view
    from projections.replay import replay
    from projections.results import year_results

    folded, whole, streams = ledgers
    ids = [streams[0][:8], streams[0][:8] + "1111", streams[0][:8] + "2222"]
    replayed = year_results(replay(folded.store), 2017)
    ours = [a for a in replayed.facts.adjustments if a.id in ids]
    assert sorted(a.id for a in ours) == ids and len({a.unit for a in ours}) == 1
    counted = {a.id for entry in replayed.scores.unit(ours[0].unit).adjustments for a in entry.adjustments}
    assert counted >= set(ids)  # all three approved and counted, none lost to another
    for ledger in (folded, whole):
        read = year_view(ledger, 2017)
        assert read.result_hash() == replayed.result_hash() and read.rows() == replayed.rows()
        assert [u.to_dict() for u in read.scores.units] == [u.to_dict() for u in replayed.scores.units]
        group = read.scores.unit(ours[0].unit).group
        alone = year_view(ledger, 2017, groups=[group])
        assert alone.scores.unit(ours[0].unit).to_dict() == read.scores.unit(ours[0].unit).to_dict()


def test_a_catch_up_and_a_rebuild_give_the_same_ids(ledgers):
    """The colliding streams came after a first catch-up: their ids were made with the ones in the tables."""
    from projections import readmodel
    from tests.test_readmodel_views import _tables

    folded, _whole, streams = ledgers
    caught_up = _tables(folded.store)
    assert sorted(r[6] for r in caught_up["rm_adjustments"] if r[3] in streams and r[0] == min(
        p[0] for p in caught_up["rm_adjustments"] if p[3] == r[3])) == [streams[0][:8], streams[0][:8] + "1111",
                                                                         streams[0][:8] + "2222"]
    readmodel.rebuild(folded.store, batch=2)
    assert _tables(folded.store) == caught_up


def test_an_id_names_its_own_adjustment(ledgers):
    from ledger.errors import NotFound

    folded, _whole, streams = ledgers
    assert str(folded.resolve(streams[0][:8], "adjustment.proposed", "adjustment")) == streams[0]
    assert str(folded.resolve(streams[0][:8] + "1111", "adjustment.proposed", "adjustment")) == streams[1]
    assert folded.adjustment(streams[0][:8] + "2222").id == streams[0][:8] + "2222"
    with pytest.raises(NotFound, match="ambiguous"):
        folded.resolve(streams[0][:6], "adjustment.proposed", "adjustment")


def test_a_new_adjustment_draws_a_stream_whose_8_digits_are_new(ledgers, monkeypatch):
    """The writer redraws a random stream id whose first 8 digits the log has already, so new ids stay 8 long."""
    import uuid

    folded, _whole, streams = ledgers
    drawn = iter([UUID(streams[0]), UUID(f"{streams[0][:8]}-9999-4000-8000-000000000000"),
                  UUID("0badc0de-0000-4000-8000-000000000000")])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    assert str(folded.new_stream()) == "0badc0de-0000-4000-8000-000000000000"

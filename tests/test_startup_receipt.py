"""An act's receipt names the position the log index gave it (found by the store's notification id, not by a
prefix search over every event id)."""
from __future__ import annotations

import re

import pytest

from ledger.keys import load_private
from ledger.store import EventStore
from ledger.writer import Ledger
from tests.cliharness import PASSPHRASE, Cli
from tests.hy_ledger import OTHER, UNIT, build


@pytest.fixture()
def run(db_url, tmp_path) -> Cli:
    return Cli(db_url, tmp_path)


def test_receipts_name_the_position_and_event_the_index_holds(run, tmp_path):
    keys = build(run, tmp_path)
    out = run("score", "record", "--year", "2017", "--unit", UNIT, "--indicator", "指标评估", "--points", "70",
              "--sign-with", keys["kh"]).ok().out
    shown = int(re.search(r"at position (\d+)", out).group(1))
    assert shown == run.positions()
    ledger = Ledger(EventStore(run.db))
    key = load_private(keys["kh"], PASSPHRASE.encode())
    receipt = ledger.act("score.recorded", {"year": 2017, "unit": OTHER, "indicator": "指标评估", "value": "71"}, key,
                         "2017-12-20T02:00:00Z")
    row = ledger.index.by_position(receipt.position)
    assert (row.event_id, row.stream, row.version) == (receipt.event_id, receipt.stream, receipt.version)
    assert receipt.position == ledger.log_size() == shown + 1
    ledger.store.close()

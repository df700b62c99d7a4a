"""A tiny run of every benchmark (bench/run.py --smoke: no timing is asserted, only that each runs and reports), and
the bulk signed append the benchmarks' generator stands on: all or nothing, refusals by index, repeated deliveries
skipped, `ledger submit --many`, and `ledger rebuild`."""
from __future__ import annotations

import json
import math
import random
import uuid

import pytest

from bench.generate import PAPER, county_acts, make_keys, scheme_text, setup_acts
from bench.run import run
from ledger.bulk import BulkRefused, BulkSigner, append_many
from ledger.scheme import load_scheme
from ledger.store import EventStore
from ledger.writer import Ledger
from tests.cliharness import Cli


def test_every_benchmark_runs_and_reports_a_figure(tmp_path):
    lines: list[str] = []
    figures = run("county", "sqlite", smoke=True, workdir=str(tmp_path), say=lines.append)
    names = " | ".join(f.name for f in figures)
    for expected in ("bulk signed append", "full rebuild", "peak memory", "county-year", "as-of", "--help",
                     "ledger scores", "one signed act", "verify", "inclusion proof", "consistency proof",
                     "ledger history --unit", "ledger pending (the whole ledger)", "ledger diff --group"):
        assert expected in names
    for figure in figures:
        assert figure.value > 0 and math.isfinite(figure.value), figure
        assert figure.floor is None or figure.floor > 0, figure
    assert "verification FAILED" not in "\n".join(lines)
    assert any(line.startswith("machine: ") for line in lines)


def _signed(n_county: int | None = None):
    rng = random.Random(1)
    keys = make_keys(1)
    signer = BulkSigner(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    text = scheme_text(0)
    setup = setup_acts(signer, keys, text)
    return setup, county_acts(signer, keys, load_scheme(text), None, rng)[:n_county], signer, keys


def test_bulk_append_checks_everything_first_and_refuses_by_index(db_url):
    setup, county, signer, keys = _signed(400)
    ledger = Ledger(EventStore(db_url))
    assert append_many(ledger, setup) == len(setup)
    bad = list(county)
    envelope, signature = bad[250]
    bad[250] = ({**envelope, "act": {**envelope["act"], "value": "99999"}}, signature)  # no longer what was signed
    with pytest.raises(BulkRefused) as refused:
        append_many(ledger, bad)
    assert refused.value.index == 251 and "act 251 (score.recorded)" in str(refused.value)
    assert "nothing was stored" in str(refused.value)
    assert ledger.log_size() == len(setup)  # the 250 good acts before it were not stored either
    assert append_many(ledger, county, batch=150) == len(county)  # three insert transactions
    assert append_many(ledger, county[:50]) == 0  # delivered again: recognised and skipped
    more = signer.sign("adjustment.approved", {"role": "组长"}, keys["周书记"], PAPER,
                       uuid.UUID(county[-1][0]["stream"]))
    with pytest.raises(BulkRefused, match="act 1 .*nothing was stored"):
        append_many(ledger, [more])  # a role the rule does not ask for: the same check as a single submit
    size = ledger.log_size()
    ledger.store.close()
    run = Cli(db_url, None)
    assert run("verify").ok().out.startswith(f"OK: {size} events")


def test_submit_many_and_rebuild_from_the_command_line(db_url, tmp_path):
    setup, county, _signer, _keys = _signed(120)
    lines = tmp_path / "acts.jsonl"
    lines.write_text("".join(json.dumps({"envelope": e, "signature": s}, ensure_ascii=False) + "\n"
                             for e, s in setup + county), encoding="utf-8")
    run = Cli(db_url, tmp_path)
    out = run("submit", "--many", lines).ok().out
    assert f"Stored {len(setup) + len(county)} of {len(setup) + len(county)} signed acts" in out
    again = run("submit", "--many", lines).ok().out
    assert "Stored 0 of" in again and "stored already" in again
    before = json.loads(run("scores", "--year", "2017", "--format", "json").ok().out)
    assert "Rebuilt the read models from" in run("rebuild").ok().out
    assert json.loads(run("scores", "--year", "2017", "--format", "json").ok().out) == before
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"envelope": {}}\n', encoding="utf-8")
    res = run("submit", "--many", broken)
    assert res.code == 1 and "line 1" in res.err


# ---- the fast canonical encoding the benchmarks brought (ledger/canonical.py) --------------------------------------

def test_the_fast_canonical_encoding_is_rfc_8785_byte_for_byte():
    """canonical() writes plain values with orjson (sorted keys); on any value it must give exactly the
    reference RFC 8785 bytes, or refuse what the reference refuses (lone surrogates, integers beyond 2**53, …)."""
    import rfc8785
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger.canonical import canonical
    from ledger.errors import LedgerError

    text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
    leaf = st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | text
    values = st.recursive(leaf, lambda children: st.lists(children, max_size=4)
                          | st.dictionaries(text, children, max_size=4), max_leaves=20)

    @settings(max_examples=3000, deadline=None)
    @given(values)
    def same(value):
        try:
            expected = rfc8785.dumps(value)
        except Exception:  # noqa: BLE001 - whatever the reference refuses, canonical refuses too
            with pytest.raises(LedgerError):
                canonical(value)
            return
        assert canonical(value) == expected

    same()

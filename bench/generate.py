"""Generate signed synthetic ledgers from the BP 2017 example: a county (~10,000 events) or a province of counties.

    python bench/generate.py --db county.db                      # one county, BP's 130 scored units, one year
    python bench/generate.py --db province.db --counties 100     # a province: ~1,000,000 events

Every act is signed by a registered key and stored through the bulk signed append (`ledger.bulk.append_many`), so
a generated ledger passes `ledger verify`. Per county, in this order: every leaf score of every scored unit, every
evaluation, ~1,950 adjustments (proposal, then the three leaders' approvals; some rejected, some left pending or
rescinded), 10% of the scores corrected, and the five outside ranks. Keys, stream ids and values come from a seeded
generator, so two runs sign the same acts (only the times the store records differ). See bench/schemes.py for how a
province is modelled.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.schemes import base_scheme, county_groups, province_scheme, to_toml  # noqa: E402

YEAR = 2017
PAPER = "2017-12-20T02:00:00Z"  # signed on paper in December 2017, entered later
VALID_FROM = "2017-01-01T00:00:00Z"
DEPARTMENTS = ["市考核办", "市发展改革局", "市政府督查室", "市建投办", "市外经贸局", "市委办", "市委督查室"]
LEADERS = [("刘分管", "分管领导"), ("赵常务", "常务副市长"), ("孙副书记", "市委副书记"), ("周书记", "组长")]
ADJUSTMENTS_PER_UNIT = 15  # with 4 acts for most, brings a county to ~10,000 events
# (rule, inputs, proposing department, document): inputs valid under BP's rules, tried in turn for a unit
TEMPLATES = [
    ("附2-1", {"option": "完成", "points": "2"}, "市考核办", ""),
    ("附2-2", {"option": "新建", "count": "1"}, "市发展改革局", "北发改〔2017〕88号"),
    ("附2-4", {"option": "完成"}, "市政府督查室", ""),
    ("附2-5", {"amount": "2000"}, "市发展改革局", ""),
    ("附2-6", {"amount": "20000"}, "市建投办", "北建投〔2017〕7号"),
    ("附2-7", {"option": "迟报", "count": "1"}, "市政府督查室", ""),
    ("附2-10", {"option": "完成一项", "points": "1"}, "市考核办", ""),
    ("附2-11", {"area": "保密工作", "points": "-1"}, "市考核办", "北保〔2017〕3号"),
    ("附2-14表扬", {"level": "市"}, "市委办", "北委发〔2017〕45号"),
]


@dataclass
class Generated:
    """What was generated: where, how many events, the keys (in memory) and the ledger id."""

    db: str
    ledger_id: str
    counties: int
    events: int
    keys: dict
    scheme_text: str
    seconds: dict = field(default_factory=dict)  # phase -> seconds (sign, append)
    setup_events: int = 0  # events before the first county's


def make_key(name: str, seed: int):
    """A deterministic Ed25519 key for a name (the same keys in every run of a seed)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.keys import PrivateKey
    from ledger.signing import key_id_of, public_key_text

    raw = hashlib.sha256(f"kaohe-bench/{seed}/{name}".encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(raw)
    return PrivateKey(key, key_id_of(key.public_key()), public_key_text(key.public_key()), f"<{name}>")


def make_keys(seed: int = YEAR) -> dict:
    return {name: make_key(name, seed) for name in ["office", *DEPARTMENTS, *(p for p, _ in LEADERS)]}


def scheme_text(counties: int) -> str:
    """The county scheme (the example, counties = 0) or a province scheme of `counties` counties."""
    return to_toml(province_scheme(counties, YEAR) if counties else base_scheme(YEAR))


def setup_acts(signer, keys: dict, text: str) -> list:
    """Genesis, the departments' and leaders' signatories, and the adopted scheme."""
    office = keys["office"]
    acts = [signer.sign("ledger.genesis", {"name": "合成考核账本", "office": {
        "person": "考核办主任", "department": "市考核办", "public_key": office.public_text, "roles": ["office"]}},
        office, PAPER)]
    people = [(d, f"{d}考核员", d, ["department"]) for d in DEPARTMENTS] + [(p, p, "", [r]) for p, r in LEADERS]
    for name, person, department, roles in people:
        key = keys[name]
        acts.append(signer.sign("signatory.added", {"key_id": key.key_id, "public_key": key.public_text,
                                                    "person": person, "department": department, "roles": roles,
                                                    "valid_from": VALID_FROM}, office, PAPER))
    acts.append(signer.sign("scheme.adopted", {"year": YEAR, "text": text, "file": "generated.toml",
                                               "sha256": hashlib.sha256(text.encode()).hexdigest()}, office, PAPER))
    return acts


def county_acts(signer, keys: dict, scheme, county: int | None, rng: random.Random) -> list:
    """One county's signed acts for the year, in the order described in the module doc."""
    office = keys["office"]
    groups = [scheme.group(name) for name in county_groups(scheme, county)]
    acts, scores = [], []
    for group in groups:
        for unit in group.units if group.terms else ():
            for item in group.leaves_for(unit) if group.indicators else ():
                share = Decimal(rng.randint(800, 1000)) / 1000
                value = str((item.weight * share).quantize(Decimal("0.1"), ROUND_HALF_UP))
                act = {"year": YEAR, "unit": unit, "indicator": item.id, "value": value}
                acts.append(signer.sign("score.recorded", act, office, PAPER))
                scores.append((act, item.weight))
            for component in group.components:
                value = str(Decimal(rng.randint(820, 990)) / 10)
                acts.append(signer.sign("evaluation.recorded", {"year": YEAR, "unit": unit, "component": component,
                                                                "round": "", "value": value}, office, PAPER))
    for group in groups:
        for unit in group.units if group.terms else ():
            usable = [t for t in TEMPLATES if not scheme.rule_problem(scheme.rule(t[0]), unit)]
            for _ in range(ADJUSTMENTS_PER_UNIT):
                acts.extend(_adjustment(signer, keys, unit, rng.choice(usable), rng))
    for act, weight in rng.sample(scores, len(scores) // 10):
        stream = _score_stream(signer, act)
        value = str((weight * Decimal(rng.randint(850, 1000)) / 1000).quantize(Decimal("0.1"), ROUND_HALF_UP))
        acts.append(signer.sign("score.recorded", {**act, "value": value, "corrects": signer.last_event(stream),
                                                   "note": "复核更正"}, office, PAPER))
    for group in groups:
        outside = getattr(group.grading, "outside", None)
        for rank, unit in enumerate(getattr(outside, "units", ()), 1):
            acts.append(signer.sign("decision.recorded", {"year": YEAR, "unit": unit, "kind": "outside_rank",
                                                          "value": str(rank), "reason": "朝阳市考核结果",
                                                          "evidence": "朝考〔2018〕1号"}, office, PAPER))
    return acts


def _score_stream(signer, act: dict):
    from ledger.acts import stream_of

    return stream_of(signer.ledger_id, "score", act["year"], act["unit"], act["indicator"])


def _adjustment(signer, keys: dict, unit: str, template, rng: random.Random) -> list:
    rule, inputs, department, document = template
    stream = uuid.UUID(int=rng.getrandbits(128), version=4)
    act = {"year": YEAR, "unit": unit, "rule": rule, "inputs": dict(inputs), "reason": f"{rule} 合成数据"}
    if document:
        act["document"] = document
    out = [signer.sign("adjustment.proposed", act, keys[department], PAPER, stream)]
    fate = rng.random()
    approvers = LEADERS[:3] if fate < 0.9 else LEADERS[:1]  # 10% stay pending after the first approval
    for person, role in approvers:
        out.append(signer.sign("adjustment.approved", {"role": role}, keys[person], PAPER, stream))
    if 0.95 <= fate:  # half of the pending ones are rejected by the next leader
        person, role = LEADERS[1]
        out.append(signer.sign("adjustment.rejected", {"role": role, "reason": "佐证不足"}, keys[person], PAPER,
                               stream))
    return out


def generate(db: str, counties: int = 0, seed: int = YEAR, progress=None, workers: int | None = None,
             limit: int | None = None) -> Generated:
    """Build a signed ledger in the empty database `db`: one county (counties = 0, the example's own names) or a
    province of `counties` counties; returns what was built, with the seconds spent signing and appending.
    `limit` keeps only each county's first acts (smoke runs)."""
    from ledger.bulk import BulkSigner, append_many
    from ledger.scheme import load_scheme
    from ledger.store import EventStore
    from ledger.writer import Ledger

    rng = random.Random(seed)
    keys = make_keys(seed)
    ledger_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    ledger = Ledger(EventStore(db))
    signer = BulkSigner(ledger_id)
    text = scheme_text(counties)
    scheme = load_scheme(text)
    seconds = {"sign": 0.0, "append": 0.0}
    total = setup = append_many(ledger, setup_acts(signer, keys, text), workers=workers)
    for county in range(counties) if counties else [None]:
        t0 = time.perf_counter()
        acts = county_acts(signer, keys, scheme, county, rng)[:limit]
        t1 = time.perf_counter()
        total += append_many(ledger, acts, workers=workers)
        seconds["sign"] += t1 - t0
        seconds["append"] += time.perf_counter() - t1
        if progress:
            progress(county, total)
    ledger.store.close()
    return Generated(db, ledger_id, counties, total, keys, text, seconds, setup)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="an empty SQLite file or postgresql+psycopg:// URL")
    parser.add_argument("--counties", type=int, default=0, help="0: one county (the example's names); N: a province")
    parser.add_argument("--seed", type=int, default=YEAR)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    def report(county, total):
        print(f"county {county if county is not None else 0}: {total} events, {time.perf_counter() - t0:.0f} s",
              file=sys.stderr, flush=True)

    built = generate(args.db, args.counties, args.seed, report)
    print(f"{built.events} events in {args.db} ({time.perf_counter() - t0:.1f} s: signing "
          f"{built.seconds['sign']:.1f} s, bulk append {built.seconds['append']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

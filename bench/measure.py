"""The benchmarks themselves: each returns its figure with the floor measured beside it (bench/floors.py).

Timings are wall-clock medians over `runs` runs unless a function says otherwise; figures are floats here (this is
benchmark code, not the ledger). `Figure.ratio` is figure/floor as a share of the floor's speed.
"""
from __future__ import annotations

import base64
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASS_ENV, PASSPHRASE = "KAOHE_BENCH_PASS", "bench"


@dataclass
class Figure:
    """One benchmark's result. `value` in `unit`; `floor` in the same unit when there is one; `target` in words and
    `met` whether this run meets it (None: no target)."""

    name: str
    value: float
    unit: str
    floor: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.floor is None or not self.floor:
            return None
        # for rates (per second) bigger is better; for times and memory smaller is better
        return self.value / self.floor if self.unit.endswith("/s") else self.floor / self.value


def median_time(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


# ---- bulk signed append --------------------------------------------------------------------------------------------

def bulk_append(built, store, backend: str, pg_base: str | None, sample: int = 10_000) -> Figure:
    """Signing and bulk-appending the generated counties (timed by the generator) against the floor: raw Ed25519
    sign + verify of the same canonical messages and an executemany of the same stored rows, on the first
    `sample` events after the setup (a per-event rate; the floor's rate does not depend on the ledger's size)."""
    from ledger.bulk import stored_event
    from ledger.canonical import canonical
    from ledger.writer import Ledger

    from bench.floors import insert_rows, sign_verify_one_core, verify_all_cores

    # the generated events only: a run's shell figures appended acts by a key of their own after them
    count = min(sample, built.events - built.setup_events)
    acts = [a for _, a in zip(range(count), store.read(after=_nid_at(store, built.setup_events), batch=2000))]
    by_id = {k.key_id: k.key for k in built.keys.values()}
    messages = [canonical(a.envelope) for a in acts]
    signers = [by_id[a.envelope["signer"]] for a in acts]
    sign_s, verify_s, sigs = sign_verify_one_core(signers, messages)
    ledger = Ledger(store)
    rows = []
    for a in acts:
        event = stored_event(ledger, a.envelope, a.signature)
        rows.append((str(event.originator_id) if backend == "postgres" else event.originator_id.hex,
                     event.originator_version, event.topic, event.state))
    insert_s = insert_rows(rows, backend, pg_base)
    raws = {id(k): k.public_key().public_bytes_raw() for k in set(signers)}
    all_cores_verify = verify_all_cores([(raws[id(k)], s, m) for k, s, m in zip(signers, sigs, messages)])
    n = len(acts)
    events = built.events - built.setup_events
    seconds = built.seconds["sign"] + built.seconds["append"]
    floor_1 = n / (sign_s + verify_s + insert_s)
    floor_all = n / (sign_s + all_cores_verify + insert_s)
    rate = events / seconds
    return Figure("bulk signed append (sign + append_many)", rate, "events/s", floor_1, "≥ 50% of floor",
                  rate >= 0.5 * floor_1,
                  f"floor = sign + verify + executemany on one core; with verification on all cores the floor is "
                  f"{floor_all:,.0f}/s ({rate / floor_all:.0%})",
                  {"events": events, "sign_s": built.seconds["sign"], "append_s": built.seconds["append"],
                   "append_only_per_s": events / built.seconds["append"], "floor_sample": n,
                   "floor_sign_s": sign_s, "floor_verify_s": verify_s, "floor_verify_all_cores_s": all_cores_verify,
                   "floor_insert_s": insert_s, "floor_all_cores_per_s": floor_all})


def _nid_at(store, position: int) -> int:
    from ledger.log_index import LogIndex

    row = LogIndex(store).by_position(position) if position else None
    return row.notification_id if row else 0


# ---- rebuild and its memory ----------------------------------------------------------------------------------------

def rebuild(store, runs: int) -> Figure:
    """`readmodel.rebuild` (what `ledger rebuild` runs after indexing) against raw SELECT + json.loads."""
    from projections import readmodel

    from bench.floors import select_decode

    n = store.max_notification_id() and readmodel.catch_up(store)
    took, times = median_time(lambda: readmodel.rebuild(store), runs)
    floors = [select_decode(store.target) for _ in range(runs)]
    floor_s = statistics.median(s for s, _ in floors)
    rate, floor = n / took, floors[0][1] / floor_s
    return Figure("full rebuild of the read models", rate, "events/s", floor, "≥ 20% of floor and ≥ 50,000/s",
                  rate >= 0.2 * floor and rate >= 50_000, extra={"events": n, "seconds": times})


CHILD = """
import resource, sys
from ledger.store import EventStore
from projections import readmodel

def peak_kb():  # this process's own peak: ru_maxrss also counts the parent's peak, inherited through fork and exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

store = EventStore(sys.argv[1])
store.max_notification_id()
base = peak_kb()
readmodel.rebuild(store)
print(base, peak_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def rebuild_memory(db: str) -> Figure:
    """Peak resident memory of a child process that opens the store and rebuilds the read models (VmHWM: the
    child's own high-water mark; getrusage's ru_maxrss is reported beside it)."""
    out = subprocess.run([sys.executable, "-c", CHILD, db], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    base, peak, maxrss = (int(v) / 1024 for v in out)
    return Figure("peak memory of a rebuild", peak, "MB", None, "≤ 500 MB", peak <= 500,
                  f"{base:.0f} MB before the rebuild (interpreter, libraries, open store); ru_maxrss {maxrss:.0f} MB")


# ---- views ---------------------------------------------------------------------------------------------------------

VIEWS_CHILD = """
import json, random, statistics, sys, time
from ledger.store import EventStore
from ledger.writer import Ledger
from projections.asof import year_view

url, groups = sys.argv[1], json.loads(sys.argv[2])
runs, first, size = (int(v) for v in sys.argv[3:6])
ledger = Ledger(EventStore(url))
year_view(ledger, 2017, None, groups)  # brings the read models up to date; parses the scheme once
now = []
for _ in range(runs):
    t0 = time.perf_counter()
    year_view(ledger, 2017, None, groups)
    now.append((time.perf_counter() - t0) * 1000)
rng = random.Random(6)
positions = sorted(rng.randint(first, size - 1) for _ in range(max(runs, 5)))
past = []
for position in positions:
    t0 = time.perf_counter()
    year_view(ledger, 2017, str(position), groups)
    past.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"now": now, "positions": positions, "past": past}))
"""


def views(url: str, groups: list[str], first: int, size: int, runs: int) -> tuple[Figure, Figure]:
    """One county-year's scores and grades (one computation: `year_view`) once the read models are current, and the
    same view at random past positions between the county's first event and the head. Measured in a process of its
    own that opens the store as a command or a server would: not in the benchmark's, whose heap holds the
    generator's hundreds of megabytes (they slowed this allocation-heavy work by a third)."""
    out = subprocess.run([sys.executable, "-c", VIEWS_CHILD, url, json.dumps(groups, ensure_ascii=False), str(runs),
                          str(first), str(size)], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    got = json.loads(out)
    ms, worst = statistics.median(got["now"]), max(got["past"])
    return (Figure("scores + grades of one county-year (in-process)", ms, "ms", None, "≤ 100 ms", ms <= 100,
                   extra={"runs_ms": got["now"], "groups": len(groups)}),
            Figure("as-of view of one county-year at a past position", statistics.median(got["past"]), "ms", None,
                   "≤ 200 ms at any past position", worst <= 200,
                   f"worst of {len(got['past'])} positions {worst:.0f} ms",
                   {"positions": got["positions"], "ms": got["past"]}))


# ---- verify --------------------------------------------------------------------------------------------------------

def verify(store, runs: int, sample: int = 200_000) -> Figure:
    """`verify_store` (what `ledger verify` runs) against raw Ed25519 verification of the same messages on every
    core (on the first `sample` events when the log is longer: a per-event rate)."""
    from ledger.canonical import canonical
    from ledger.signing import parse_public_key
    from projections.audit import verify_store

    from bench.floors import verify_all_cores

    reports = []
    took, times = median_time(lambda: reports.append(verify_store(store)), runs)
    report = reports[-1]
    keys, items = {}, []
    for act, _ in zip(store.read(batch=2000), range(sample)):
        env = act.envelope
        if env["type"] == "ledger.genesis":
            keys[env["signer"]] = env["act"]["office"]["public_key"]
        elif env["type"] == "signatory.added":
            keys[env["act"]["key_id"]] = env["act"]["public_key"]
        raw = parse_public_key(keys[env["signer"]]).public_bytes_raw()
        items.append((raw, base64.b64decode(act.signature["sig"]), canonical(env)))
    floor_s = verify_all_cores(items)
    rate, floor = report.size / took, len(items) / floor_s
    return Figure("verify (signatures, checks, Merkle tree, closed years)", rate, "events/s", floor,
                  "≥ 80% of the all-cores Ed25519 floor", rate >= 0.8 * floor and report.ok,
                  "" if report.ok else f"verification FAILED: {report.failures[0]}",
                  {"events": report.size, "seconds": times, "cores": os.cpu_count(), "floor_sample": len(items)})


# ---- proofs --------------------------------------------------------------------------------------------------------

def proofs(url: str, leaves: int, runs: int) -> tuple[Figure, Figure]:
    """Inclusion and consistency proofs from a Merkle node table of `leaves` leaves (random leaf hashes), in a
    database of its own: the proofs read O(log n) nodes whatever the log holds."""
    import hashlib

    from ledger import merkle_store
    from ledger.store import EventStore

    store = EventStore(url)
    engine = store.engine
    merkle_store.metadata.create_all(engine)
    with engine.begin() as conn:
        have = merkle_store.stored_size(conn)
    step = 50_000
    for start in range(have, leaves, step):
        with engine.begin() as conn:
            merkle_store.append_leaves(conn, start, [hashlib.sha256(i.to_bytes(8, "big")).digest()
                                                     for i in range(start, min(leaves, start + step))])
    rng = random.Random(9162)
    count = max(runs * 20, 50)
    results = []
    for kind, make in (("inclusion", lambda c: merkle_store.inclusion_proof(c, rng.randrange(leaves), leaves)),
                       ("consistency", lambda c: merkle_store.consistency_proof(c, rng.randrange(1, leaves), leaves))):
        times = []
        with engine.connect() as conn:
            for _ in range(count):
                t0 = time.perf_counter()
                make(conn)
                times.append((time.perf_counter() - t0) * 1000)
        worst = max(times)
        results.append(Figure(f"{kind} proof at {leaves:,} leaves", statistics.median(times), "ms", None, "≤ 10 ms",
                              statistics.median(times) <= 10, f"worst of {count}: {worst:.1f} ms"))
    store.close()
    return results[0], results[1]


# ---- the command line, end to end ----------------------------------------------------------------------------------

def installed_script() -> str:
    """The `ledger` script pip installed beside this interpreter (what a virtualenv or system install runs); the
    PATH's `ledger` otherwise. A version manager's shim on PATH (pyenv's: a bash script that finds the interpreter
    again) would add its own start-up to every figure; `cli_figures` reports it beside them."""
    beside = Path(sys.executable).with_name("ledger")
    return str(beside) if beside.exists() else shutil.which("ledger") or "ledger"


def cli(args: list[str], runs: int, env: dict | None = None, exe: str | None = None) -> tuple[float, list[float]]:
    """Median wall time of `ledger ARGS` run from the shell (a new interpreter each time), in ms."""
    exe = exe or installed_script()
    # as installed: bytecode cached after the first run (this machine's environment sets PYTHONDONTWRITEBYTECODE,
    # which makes every command compile the ledger's modules again; the caches go to a folder of their own)
    env = {**(env or {}), "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "kaohe-bench-pycache")}
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([exe, *args], capture_output=True, env={**base, **env})  # warm-up: writes the caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([exe, *args], capture_output=True, text=True, env={**base, **env})
        times.append((time.perf_counter() - t0) * 1000)
        if done.returncode:
            raise RuntimeError(f"ledger {' '.join(args[:4])}… failed: {done.stderr.strip()}")
    return statistics.median(times), times


def cli_figures(built, db: str, group: str, unit: str, runs: int) -> list[Figure]:
    """`ledger --help`, `ledger scores` of one group, and one signed act (an adjustment proposal) from the shell."""
    from ledger.bulk import BulkSigner, append_many
    from ledger.keys import load_private, new_key
    from ledger.store import EventStore
    from ledger.writer import Ledger

    from bench.generate import PAPER, VALID_FROM

    help_ms, _ = cli(["--help"], runs)
    on_path = shutil.which("ledger")
    shim = None if on_path is None or Path(on_path).resolve() == Path(installed_script()).resolve() else \
        cli(["--help"], runs, exe=on_path)[0]
    scores_ms, _ = cli(["--db", db, "scores", "--year", "2017", "--group", group, "--format", "json"], runs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.key"
        new_key(path, PASSPHRASE.encode())
        key = load_private(path, PASSPHRASE.encode())
        ledger = Ledger(EventStore(db))
        signer = BulkSigner(built.ledger_id, ledger)
        append_many(ledger, [signer.sign("signatory.added", {
            "key_id": key.key_id, "public_key": key.public_text, "person": "基准测试", "department": "市考核办",
            "roles": ["office"], "valid_from": VALID_FROM}, built.keys["office"], PAPER)])
        ledger.store.close()
        act_ms, _ = cli(["--db", db, "--passphrase-env", PASS_ENV, "adjust", "propose", "--year", "2017", "--unit",
                         unit, "--rule", "附2-1", "--option", "完成", "--points", "1", "--reason", "基准测试",
                         "--sign-with", str(path)], runs, {PASS_ENV: PASSPHRASE})
    shim_note = "" if shim is None else (f"the installed script; `ledger` on PATH is {on_path}, a shim that adds "
                                         f"{shim - help_ms:.0f} ms to every command")
    return [Figure("`ledger --help` from the shell", help_ms, "ms", None, "≤ 250 ms", help_ms <= 250, shim_note),
            Figure("`ledger scores --group` from the shell", scores_ms, "ms", None, "≤ 400 ms", scores_ms <= 400),
            Figure("one signed act from the shell (adjust propose)", act_ms, "ms", None, "≤ 400 ms", act_ms <= 400)]


def shell_reads(db: str, group: str, unit: str, first: int, size: int, runs: int) -> list[Figure]:
    """The other reads of one county from the shell (no target; the issue's 400 ms is `scores`'): a unit's history
    and changes, a group's grades, diff, export and consequences, the review queue of a group and of the whole
    ledger."""
    js, year = ["--format", "json"], ["--year", "2017"]
    with tempfile.TemporaryDirectory() as tmp:
        reads = {"history --unit": ["history", "--unit", unit, *js],
                 "who --unit": ["who", *year, "--unit", unit, *js],
                 "explain --unit": ["explain", *year, "--unit", unit, *js],
                 "grades --group": ["grades", *year, "--group", group, *js],
                 "diff --group": ["diff", *year, "--group", group, "--from", str(first), "--to", str(size), *js],
                 "export --group": ["export", *year, "--group", group, "--out", str(Path(tmp) / "group.csv")],
                 "consequences --group": ["consequences", *year, "--group", group, *js],
                 "pending --group": ["pending", *year, "--group", group, *js],
                 "pending (the whole ledger)": ["pending", *js]}
        return [Figure(f"`ledger {name}` from the shell", cli(["--db", db, *args], runs)[0], "ms")
                for name, args in reads.items()]


def as_json(figures: list[Figure]) -> str:
    return json.dumps([{**f.__dict__, "ratio": f.ratio} for f in figures], ensure_ascii=False, indent=1)

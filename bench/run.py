"""Every benchmark of docs/performance.md from one command, each printed with the floor measured in the same run.

    python bench/run.py                                   # a county (~10,000 events), SQLite file
    python bench/run.py --scale province                  # 100 counties (~1,000,000 events)
    python bench/run.py --scale county --backend postgres # on a temporary PostgreSQL server (bench/pg.py)
    python bench/run.py --counties 20 --json out.json     # a province of 20 counties; figures also as JSON

It generates a signed ledger (bench/generate.py), then measures: bulk signed append, full rebuild, the peak memory
of a rebuild, one county-year's scores and grades, as-of views at past positions, verify, inclusion and consistency
proofs at 1,000,000 leaves, `ledger --help`, `ledger scores` and one signed act from the shell. `--smoke` runs every
benchmark on a tiny ledger once (the test suite does this; its figures mean nothing).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import measure  # noqa: E402
from bench.generate import generate  # noqa: E402
from bench.schemes import county_groups  # noqa: E402

SCALES = {"county": 0, "province": 100}


def machine() -> str:
    """nproc and the CPU model, as /proc/cpuinfo names it."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {model}, Python {platform.python_version()}"


def run(scale: str = "county", backend: str = "sqlite", counties: int | None = None, runs: int = 5,
        smoke: bool = False, workdir: str | None = None, say=print) -> list[measure.Figure]:
    """Generate the ledger and run every benchmark; returns the figures (and prints them as they come)."""
    from ledger.scheme import load_scheme
    from ledger.store import EventStore
    from ledger.writer import Ledger

    counties = SCALES[scale] if counties is None else counties
    limit = 300 if smoke else None
    runs = 1 if smoke else runs
    figures: list[measure.Figure] = []

    def add(*items):
        for figure in items:
            figures.append(figure)
            say(line(figure))

    with ExitStack() as stack:
        tmp = workdir or stack.enter_context(tempfile.TemporaryDirectory(prefix="kaohe-bench-"))
        pg_base = None
        if backend == "postgres":
            from bench.pg import new_database, server_version, temporary_postgres

            pg_base = stack.enter_context(temporary_postgres())
            say(f"PostgreSQL {server_version(pg_base)} (fsync off, as the test server)")

            def new_db(name):
                return new_database(pg_base, name)
        else:
            def new_db(name):
                return str(Path(tmp) / f"{name}.db")
        db = new_db("ledger")
        say(f"machine: {machine()}; backend {backend}; {counties or 1} count{'ies' if counties else 'y'}")
        t0 = time.perf_counter()
        built = generate(db, counties, limit=limit,
                         progress=None if smoke else lambda c, n: say(f"  generated county {c}: {n:,} events, "
                                                                       f"{time.perf_counter() - t0:.0f} s"))
        say(f"generated {built.events:,} events in {time.perf_counter() - t0:.0f} s")
        store = EventStore(db)
        ledger = Ledger(store)
        scheme = load_scheme(built.scheme_text)
        groups = county_groups(scheme, 0 if counties else None)
        first_scored = next(g for g in groups if scheme.group(g).terms)
        add(measure.bulk_append(built, store, backend, pg_base, sample=2000 if smoke else 10_000))
        add(measure.rebuild(store, 1 if counties >= 20 else runs))
        if backend == "sqlite":
            add(measure.rebuild_memory(db))
        add(measure.county_view(ledger, groups, runs))
        add(measure.as_of(ledger, groups, built.setup_events + 1, built.events, runs))
        add(*measure.cli_figures(built, db, first_scored, scheme.group(first_scored).units[0], 2 if smoke else runs))
        add(measure.verify(store, 1 if counties >= 20 or smoke else 3, sample=2000 if smoke else 200_000))
        add(*measure.proofs(new_db("merkle"), 10_000 if smoke else 1_000_000, runs))
        store.close()
    return figures


def line(f: measure.Figure) -> str:
    value = f"{f.value:,.0f} {f.unit}" if f.value >= 100 else f"{f.value:,.1f} {f.unit}"
    floor = "" if f.floor is None else f"; floor {f.floor:,.0f} {f.unit} ({f.ratio:.0%} of it)"
    verdict = "" if f.met is None else (" — target met" if f.met else " — TARGET MISSED")
    return f"{f.name}: {value}{floor}; target {f.target}{verdict}" + (f" [{f.note}]" if f.note else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="county")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--counties", type=int, default=None, help="a province of N counties (overrides --scale)")
    parser.add_argument("--runs", type=int, default=5, help="runs per timed figure (medians)")
    parser.add_argument("--json", dest="json_path", default=None, help="also write the figures here as JSON")
    parser.add_argument("--dir", default=None, help="keep the databases in this folder (default: a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run of every benchmark (figures mean nothing)")
    args = parser.parse_args(argv)
    figures = run(args.scale, args.backend, args.counties, args.runs, args.smoke, args.dir,
                  lambda text: print(text, flush=True))
    if args.json_path:
        Path(args.json_path).write_text(measure.as_json(figures), encoding="utf-8")
    missed = [f.name for f in figures if f.met is False]
    print(f"{len(figures) - len(missed)} of {len(figures)} targets met" + (f"; missed: {', '.join(missed)}"
                                                                            if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

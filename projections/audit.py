"""`ledger verify` in full: the log's integrity (ledger.integrity) and the replay of every closed year's result."""
from __future__ import annotations

from typing import Callable, Iterable

from ledger.checkpoint import Checkpoint
from ledger.integrity import Report, stored_acts, verify_log
from ledger.log_index import indexed_entries
from ledger.store import StoredAct

from .replay import LoggedAct, fold
from .results import year_results
from .viewcheck import view_problems


def verify_acts(acts: Iterable, external: list[Checkpoint], indexed: dict[int, bytes] | None,
                progress: Callable[[int], None] | None = None, views=None) -> Report:
    """Verify stored acts (StoredActs, or `stored_acts` pairs), then replay every closed year and compare its result
    hash with its close; with `views` (the store), compare its read models with the acts just verified."""
    kept: list[StoredAct] = []

    def keep(stream):
        for item in stream:
            kept.append(item[0] if type(item) is tuple else item)  # (act, its stored bytes) from `stored_acts`
            yield item

    report, source = verify_log(keep(acts), external, indexed, progress)
    if report.failures:
        return report
    if views is not None:
        # the acts and the event ids verify_log computed from their envelopes: the log is not read a second time
        verified = ((a.stream, a.version, a.envelope, eid) for a, eid in zip(kept, report.event_ids))
        for pos, problem in view_problems(views, acts=verified):
            report.fail(pos, "", f"{problem} (the read models were edited; `ledger rebuild` restores them)")
    if not any(isinstance(a.envelope, dict) and a.envelope.get("type") == "year.close.signed" for a in kept):
        return report  # no year was closed: there is no result to replay (the fold costs a tenth of a verify)
    state = fold(LoggedAct(i, "", a.envelope, a.signature, a.recorded_at, a.stream, a.version)
                 for i, a in enumerate(kept, 1))
    for year, ystate in sorted(state.years.items()):
        if not ystate.closed:
            continue
        first = ystate.closes[0]
        try:
            digest = year_results(state, year).result_hash()
        except Exception as exc:  # a replay that cannot run is a failed verification, reported in one line
            report.fail(first.position, first.event_id, f"replaying {year} failed: {exc}")
            continue
        report.closed_years.append(year)
        if digest != first.result_sha256:
            report.fail(first.position, first.event_id, f"replaying {year} gives result hash {digest[:16]}…, "
                                                        f"but its close signed {first.result_sha256[:16]}…")
    return report


def verify_store(store, external: list[Checkpoint] = (), progress: Callable[[int], None] | None = None) -> Report:
    """Verify the events in a database against themselves, the derived index, and external checkpoints."""
    from ledger.log_index import LogIndex

    LogIndex(store).ensure_tables()
    return verify_acts(stored_acts(store), list(external), indexed_entries(store.engine), progress, views=store)

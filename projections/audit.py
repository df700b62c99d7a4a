"""`ledger verify` in full: the log's integrity (ledger.integrity) and the replay of every closed year's result."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from itertools import islice
from typing import Callable, Iterable

from ledger.checkpoint import Checkpoint
from ledger.integrity import Report, node_problems, stored_acts, verify_log
from ledger.log_index import indexed_entries
from ledger.store import StoredAct

from .replay import LoggedAct, fold
from .results import year_results
from .viewcheck import ViewCheck


def verify_acts(acts: Iterable, external: list[Checkpoint], indexed: Mapping[int, bytes] | None,
                progress: Callable[[int], None] | None = None, views=None,
                again: Callable[[], Iterable] | None = None,
                nodes: Callable[[], Iterable[tuple[int, int, bytes]]] | None = None) -> Report:
    """Verify stored acts (StoredActs, or `stored_acts` pairs), then replay every closed year and compare its result
    hash with its close; with `views` (the store), compare its read models with the acts as they are verified, and
    with `nodes`, the stored Merkle nodes with the recomputed tree.
    The acts are not kept: a closed year's replay reads them again from `again()`, or from `acts` if it is a sequence."""
    closes: list[int] = []
    with ExitStack() as stack:
        check = None if views is None else stack.enter_context(ViewCheck(views))

        def admitted(act: StoredAct, eid: str) -> None:
            if check is not None:  # with the event id verify_log computed from the envelope
                check.add((act.stream, act.version, act.envelope, eid))
            if act.envelope["type"] == "year.close.signed":
                closes.append(act.envelope["act"]["year"])

        report, source = verify_log(acts, external, indexed, progress, admitted=admitted)
        # only over a log that verified: where events changed, their nodes differ as a matter of course
        for problem in [] if nodes is None or report.failures else node_problems(source.nodes, nodes()):
            report.fail(0, "", problem)
        del source  # its tree and streams: the closed years' replay below needs the memory
        if report.failures:
            return report
        for pos, problem in [] if check is None else check.problems():
            report.fail(pos, "", f"{problem} (the read models were edited; `ledger rebuild` restores them)")
    if not closes:
        return report  # no year was closed: there is no result to replay
    replayed = acts if isinstance(acts, Sequence) else again() if again is not None else None
    if replayed is None:
        raise ValueError("a closed year's replay needs the acts again: pass a sequence or `again`")
    items = (item[0] if type(item) is tuple else item for item in replayed)
    state = fold(LoggedAct(i, "", a.envelope, a.signature, a.recorded_at, a.stream, a.version)
                 for i, a in enumerate(islice(items, report.size), 1))  # what was verified, should the log grow
    for year, ystate in sorted(state.years.items()):
        if not ystate.closed:
            continue
        first = ystate.closes[0]
        try:
            results = year_results(state, year)
            digest, groups = results.result_hash(), results.group_hashes()
        except Exception as exc:  # a replay that cannot run is a failed verification, reported in one line
            report.fail(first.position, first.event_id, f"replaying {year} failed: {exc}")
            continue
        report.closed_years.append(year)
        if digest != first.result_sha256:
            report.fail(first.position, first.event_id, f"replaying {year} gives result hash {digest[:16]}…, "
                                                        f"but its close signed {first.result_sha256[:16]}…")
        for group in [g for g, signed in (first.groups or {}).items() if groups.get(g) != signed]:
            report.fail(first.position, first.event_id, f"replaying {year} gives another result for group {group} "
                                                        "than its close signed")
    return report


def verify_store(store, external: list[Checkpoint] = (), progress: Callable[[int], None] | None = None) -> Report:
    """Verify the events in a database against themselves, the derived index, and external checkpoints."""
    from ledger.log_index import LogIndex
    from ledger.merkle_store import stored_nodes

    LogIndex(store).ensure_tables()
    return verify_acts(stored_acts(store), list(external), indexed_entries(store.engine), progress, views=store,
                       again=lambda: stored_acts(store), nodes=lambda: stored_nodes(store.engine))


def verify_bundle(bundle, external: list[Checkpoint], progress: Callable[[int], None] | None = None) -> Report:
    """`bundle verify`: `verify_acts` over a bundle's events (no derived index) with the checkpoints given, then its
    manifest against the verified events and its checkpoint copies against the checkpoint acts."""
    from ledger.bundle import manifest_problem
    from ledger.bundle_reader import note_problems

    report = verify_acts(bundle.events(), list(external), None, progress, again=bundle.events)
    if report.ok:
        problem = manifest_problem(bundle.manifest, report, bundle.ledger_id)
        if problem:
            report.fail(0, "", problem)
    for problem in note_problems(bundle):
        report.fail(0, "", problem)
    return report

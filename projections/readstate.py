"""What the views fold, from the read models: a year's acts (or some groups'), a unit's or some groups' across the
years, the review queue's; selected by position and unit, folded as a replay would."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter

from ledger.errors import Refused
from ledger.years import adopted_scheme_from_text

from . import readmodel
from .readmodel import Query
from .replay import LoggedAct, LogState, apply
from .rowfold import loads

COLUMNS = "pos, event_id, stream, envelope"  # of the registry and year rows; the facts' rows hold a body instead
FACT_COLUMNS = "pos, event_id, stream, body"


def year_state(store, year: int, upto: int | None = None, units: Iterable[str] | None = None,
               groups: Iterable[str] | None = None, group_of: str | None = None) -> LogState:
    """The LogState a view of `year` needs, as of position `upto` (default: now), after catching the views up;
    with `units`, `groups` of the year's scheme as it stood then, or the group of unit `group_of`, only the facts
    about those units (the view of some groups: one county of a province). A group or unit the year's scheme does
    not have is refused by name before any fact is read (a province's whole year is a minute's work)."""
    head = readmodel.catch_up(store)
    at = head if upto is None else min(upto, head)
    with store.engine.connect() as conn:
        query = Query(conn)
        rows = _scope_rows(query, at)
        if groups is not None or group_of is not None:
            units = _units_of(rows, year, list(groups or ()), group_of, units)
        units = None if units is None else sorted(set(units))
        if units == []:  # a year with no scheme has no groups: nothing to read, and the view says why
            return _folded(rows, [], [], at)
        only, chosen = ("", ()) if units is None else (f" AND unit IN ({', '.join(['?'] * len(units))})", units)
        # each query is served by an index that leads with the year or the unit: it reads the rows of these units
        # (or this year) only, whatever the size of the log; the position conditions filter those rows
        facts = query(f"SELECT {FACT_COLUMNS} FROM rm_values WHERE year = ? AND pos <= ? "
                      f"AND (until_pos IS NULL OR until_pos > ?){only}", (year, at, at, *chosen))
        # earlier years' adjustments may be carried over into this one
        opened = query(f"SELECT {FACT_COLUMNS}, ref FROM rm_adjustments WHERE year <= ? AND pos <= ?{only}",
                       (year, at, *chosen))
        opened += query(f"SELECT {FACT_COLUMNS}, ref FROM rm_decisions WHERE year = ? AND pos <= ?{only}",
                        (year, at, *chosen))
    return _folded(rows, facts, opened, at)


def short_adjustments_state(store, year: int, most: Callable[[list[str]], int]) -> LogState:
    """The registry, the schemes and, of the adjustments of `year` and the years before it, only those whose streams
    hold at most `most(texts)` acts so far, where `texts` are the texts of every scheme ever adopted (a review asks
    for the adjustments that may still wait for an approval: a province holds hundreds of thousands, most of them
    settled). One grouping query over the streams' index finds them; only their rows are read."""
    head = readmodel.catch_up(store)
    with store.engine.connect() as conn:
        query = Query(conn)
        rows = _scope_rows(query, head)
        bound = most([env["act"]["text"] for _pos, _eid, _stream, env in rows if env["type"] == "scheme.adopted"])
        streams = [stream for (stream,) in query(
            "SELECT stream FROM rm_adjustments WHERE pos <= ? GROUP BY stream HAVING count(*) <= ?", (head, bound))]
        opened = []
        for start in range(0, len(streams), _CHUNK):
            chunk = streams[start:start + _CHUNK]
            opened += query(f"SELECT {FACT_COLUMNS}, ref FROM rm_adjustments WHERE year <= ? AND pos <= ? "
                            f"AND stream IN ({', '.join(['?'] * len(chunk))})", (year, head, *chunk))
    return _folded(rows, [], opened, head)


def _folded(rows: list[tuple], facts: list[tuple], opened: list[tuple], at: int) -> LogState:
    """The LogState of the decoded registry and year rows, the facts' rows and the adjustments' and decisions'."""
    state = LogState()
    # the ids the whole log gives these adjustments and decisions (see ledger.adjustments.unique_short_id)
    state.streams.update((stream, ref) for _pos, _eid, stream, _body, ref in opened)
    acts = [LoggedAct(pos, eid, envelope, _NO_SIGNATURE, "", stream, 0) for pos, eid, stream, envelope in rows]
    acts += [LoggedAct(pos, eid, loads(body), _NO_SIGNATURE, "", stream, 0) for pos, eid, stream, body in facts]
    acts += [LoggedAct(pos, eid, loads(body), _NO_SIGNATURE, "", stream, 0) for pos, eid, stream, body, _ref in opened]
    acts.sort(key=_position)  # positions are unique
    for act in acts:
        apply(state, act)
    state.position = at
    return state


def unit_scope_acts(store, unit: str, upto: int | None = None) -> tuple[list[LoggedAct], dict[str, str], int]:
    """What a unit's history folds: `scope_acts` of `unit` and of each unit that shares a group with it in a scheme
    ever adopted (a unit that does not take part in an item gets its group's average)."""
    return scope_acts(store, upto, lambda adopted: _group_mates(adopted, unit))


def groups_scope_acts(store, year: int, groups: list[str], upto: int | None = None
                      ) -> tuple[list[LoggedAct], dict[str, str], int]:
    """`scope_acts` of the units of `groups` in any scheme adopted for `year`; a group none of them has is refused."""
    return scope_acts(store, upto, lambda adopted: _group_members(adopted, year, groups))


def scope_acts(store, upto: int | None, units_of: Callable[[list[dict]], Iterable[str]]
               ) -> tuple[list[LoggedAct], dict[str, str], int]:
    """From the read models, in log order up to position `upto` (default: now): the registry and year rows and every
    fact of the units `units_of(every scheme.adopted envelope)` names; with the ids the whole log gives their
    adjustments and decisions (stream -> id), and the log's size. The acts carry neither signature nor record time."""
    head = readmodel.catch_up(store)
    at = head if upto is None else min(upto, head)
    with store.engine.connect() as conn:
        query = Query(conn)
        rows = _scope_rows(query, at)
        adopted = [env for _pos, _eid, _stream, env in rows if env["type"] == "scheme.adopted"]
        units, years = sorted(set(units_of(adopted))), sorted({env["act"]["year"] for env in adopted})
        facts, opened = [], []
        # every query leads with the columns of an index: (year, unit) or (unit, year)
        for start in range(0, len(units) if years else 0, _CHUNK):
            chunk = units[start:start + _CHUNK]
            among = (f"year IN ({', '.join(['?'] * len(years))}) AND unit IN ({', '.join(['?'] * len(chunk))}) "
                     "AND pos <= ?")
            facts += query(f"SELECT {FACT_COLUMNS} FROM rm_values WHERE {among}", (*years, *chunk, at))
            for table in ("rm_adjustments", "rm_decisions"):
                opened += query(f"SELECT {FACT_COLUMNS}, ref FROM {table} WHERE {among}", (*years, *chunk, at))
    acts = [LoggedAct(pos, eid, envelope, _NO_SIGNATURE, "", stream, 0) for pos, eid, stream, envelope in rows]
    acts += [LoggedAct(pos, eid, loads(body), _NO_SIGNATURE, "", stream, 0) for pos, eid, stream, body, *_ in
             facts + opened]
    acts.sort(key=_position)
    return acts, {stream: ref for _pos, _eid, stream, _body, ref in opened}, head


def _group_mates(adopted: list[dict], unit: str) -> set[str]:
    """`unit` and the units of each group it belongs to in these scheme.adopted envelopes."""
    mates = {unit}
    for envelope in adopted:
        scheme = adopted_scheme_from_text(envelope["act"]["text"])
        if unit in scheme.unit_groups:
            mates.update(scheme.group_of(unit).units)
    return mates


def _group_members(adopted: list[dict], year: int, groups: list[str]) -> set[str]:
    """The units of the named groups in these scheme.adopted envelopes of `year`."""
    members, found = set(), set()
    if not any(envelope["act"]["year"] == year for envelope in adopted):
        raise Refused(f"no scheme has been adopted for {year}")
    for envelope in adopted:
        if envelope["act"]["year"] != year:
            continue
        for group in adopted_scheme_from_text(envelope["act"]["text"]).groups:
            if group.name in groups:
                members.update(group.units)
                found.add(group.name)
    for name in groups:
        if name not in found:
            raise Refused(f"unknown group {name!r} in {year}")
    return members


def registry_and_years(store, upto: int | None = None) -> LogState:
    """The registry and every year's scheme and closes as of position `upto` (default: now), without any fact: which
    years are adopted, and by what rules."""
    head = readmodel.catch_up(store)
    with store.engine.connect() as conn:
        state = _folded_scope(_scope_rows(Query(conn), head if upto is None else min(upto, head)))
    return state


def _scope_rows(query: Query, at: int) -> list[tuple]:
    """The registry and year rows up to position `at`, decoded."""
    return [(pos, eid, stream, _decoded(eid, envelope)) for pos, eid, stream, envelope in query(
        f"SELECT {COLUMNS} FROM rm_registry WHERE pos <= ? UNION ALL "
        f"SELECT {COLUMNS} FROM rm_years WHERE pos <= ?", (at, at))]


def _folded_scope(rows: list[tuple]) -> LogState:
    scope = LogState()
    for pos, eid, stream, envelope in sorted(rows, key=_position):
        apply(scope, LoggedAct(pos, eid, envelope, {}, "", stream, 0))
    return scope


_NO_SIGNATURE: dict = {}  # views fold what verify and the writer checked: signatures are not read here
_position = itemgetter(0)
_CHUNK = 500  # ids per IN list: statements of a bounded size
_LARGE: dict[str, dict] = {}  # event id -> decoded envelope, for the few large ones (adopted schemes)


def _decoded(event_id: str, data: bytes) -> dict:
    """A registry or year envelope, decoded; an adopted scheme's (megabytes for a province) once per process. An
    event id is the hash of its envelope, so the cached copy is the same envelope; folding never changes it."""
    if len(data) < 65536:
        return loads(data)
    if event_id not in _LARGE:
        _LARGE[event_id] = loads(data)
    return _LARGE[event_id]


def _units_of(rows: list[tuple], year: int, groups: list[str], group_of: str | None, units: Iterable[str] | None):
    """The units of `groups` and of the group of unit `group_of` in the year's scheme folded from the registry and
    year rows (plus `units`); none when the year has no scheme."""
    ystate = _folded_scope(rows).year(year)
    if not ystate.adopted:
        return []
    chosen = [ystate.scheme.group(name) for name in groups]  # an unknown one refused by name
    if group_of is not None:
        try:
            chosen.append(ystate.scheme.group_of(group_of))
        except Refused:
            raise Refused(f"unknown unit {group_of!r} in {year}") from None
    return [u for group in {g.name: g for g in chosen}.values() for u in group.units] + list(units or ())

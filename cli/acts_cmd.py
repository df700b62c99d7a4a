"""Recording a year's facts: indicator scores, evaluation scores and grading decisions."""
from __future__ import annotations

import click

from .context import WHOLE, Env, out_option, sign_with_option
from .emit import emit


@click.group("score")
def score() -> None:
    """Indicator scores recorded by the assessing departments.

    \b
    Example:
      ledger score record --year 2017 --unit 长皋乡 --indicator 经济发展/税收收入 --points 11.5 --sign-with fgj.key
    """


@score.command("record")
@click.option("--year", type=WHOLE, required=True)
@click.option("--unit", required=True)
@click.option("--indicator", required=True, help="The leaf indicator's id, as the scheme names it.")
@click.option("--points", "value", default=None, metavar="NUMBER",
              help="Points, or the reported figure for a target-based item.")
@click.option("--not-participating", is_flag=True, help="The unit does not take part in this item.")
@click.option("--note", default=None, help="Required when correcting a recorded score: why.")
@sign_with_option()
@out_option()
@click.pass_obj
def score_record(env: Env, year, unit, indicator, value, not_participating, note, key_path, out_path) -> None:
    """Record (or correct, with --note) a unit's score on one indicator.

    A correction to the value in force is refused: there is nothing to correct.

    \b
    Example:
      ledger score record --year 2017 --unit 长皋乡 --indicator 脱贫攻坚 --points 11 --sign-with fpb.key
    """
    if value is None and not not_participating:
        raise click.UsageError("give --points or --not-participating")
    act = {"year": year, "unit": unit, "indicator": indicator, "value": None if not_participating else value}
    if not_participating:
        act["participates"] = False
    vet = _add_correction(env, act, note, "score", (year, unit, indicator))
    emit(env, "score.recorded", act, key_path, out_path, vet=vet)


@click.group("evaluation")
def evaluation() -> None:
    """Evaluation scores (评议评价): leaders', society's, democratic appraisal…

    \b
    Example:
      ledger evaluation record --year 2017 --unit 长皋乡 --component 领导评价 --score 92 --sign-with office.key
    """


@evaluation.command("record")
@click.option("--year", type=WHOLE, required=True)
@click.option("--unit", required=True)
@click.option("--component", required=True)
@click.option("--round", "round_", default="", help="The round, where the component has several (e.g. 年中, 年终).")
@click.option("--score", "value", default=None, metavar="NUMBER")
@click.option("--level", default=None, help="A level of the component's scale, e.g. 优秀.")
@click.option("--votes", default=None, metavar="LEVEL=N,…", help="Vote counts per level, e.g. 优秀=12,良好=8.")
@click.option("--note", default=None, help="Required when correcting: why.")
@sign_with_option()
@out_option()
@click.pass_obj
def evaluation_record(env: Env, year, unit, component, round_, value, level, votes, note, key_path, out_path):
    """Record a unit's result on an evaluation component (a score, a level or vote counts).

    A second record corrects the first (with --note); one that repeats the result in force is refused.

    \b
    Example:
      ledger evaluation record --year 2017 --unit 办公室 --component 班子评议 --level 优秀 --sign-with office.key
    """
    given = [x for x in (value, level, votes) if x is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --score, --level, --votes")
    act: dict = {"year": year, "unit": unit, "component": component, "round": round_}
    if value is not None:
        act["value"] = value
    if level is not None:
        act["level"] = level
    if votes is not None:
        act["votes"] = _parse_votes(votes)
    vet = _add_correction(env, act, note, "evaluation", (year, unit, component, round_))
    emit(env, "evaluation.recorded", act, key_path, out_path, vet=vet)


@click.command("decide")
@click.option("--year", type=WHOLE, required=True)
@click.option("--unit", required=True)
@click.option("--kind", required=True,
              help="fault, direct_grade, tie, withhold, assign, falsification, leading_group (as the scheme allows).")
@click.option("--value", required=True, help="The fault's name, the grade given, …")
@click.option("--reason", required=True)
@click.option("--evidence", default="", help="Document number (文号) or reference.")
@click.option("--separate-matter", is_flag=True,
              help="Record it although the same kind and value is in force for the unit: another matter (a second "
                   "fault of the same name), which --reason or --evidence tells apart.")
@sign_with_option()
@out_option()
@click.pass_obj
def decide(env: Env, year, unit, kind, value, reason, evidence, separate_matter, key_path, out_path) -> None:
    """Record a signed grading decision (veto/fault, direct grade, tie settlement, withholding…).

    A decision of the same year, unit, kind and value as one in force is refused, naming it, unless
    --separate-matter says it is another matter.

    \b
    Example:
      ledger decide --year 2017 --unit 长皋乡 --kind fault --value 党建工作不达标 --reason "…" --sign-with office.key
    """
    from projections.repeats import repeated_decision_problem

    act = {"year": year, "unit": unit, "kind": kind, "value": value, "reason": reason}
    if evidence:
        act["evidence"] = evidence
    store = env.ledger().store
    emit(env, "decision.recorded", act, key_path, out_path,
         vet=lambda: repeated_decision_problem(store, act, separate_matter))


@click.command("undecide")
@click.argument("decision_id")
@click.option("--reason", required=True)
@sign_with_option()
@out_option()
@click.pass_obj
def undecide(env: Env, decision_id, reason, key_path, out_path) -> None:
    """Revoke a grading decision, with a reason.

    \b
    Example:
      ledger undecide 3f9c2b1d --reason "复核后撤销" --sign-with office.key
    """
    ledger = env.ledger()
    stream = ledger.resolve(decision_id, "decision.recorded", "decision")
    emit(env, "decision.revoked", {"reason": reason}, key_path, out_path, stream=stream)


def _add_correction(env: Env, act: dict, note: str | None, kind: str, parts: tuple):
    """A second value for the same thing corrects the first: name it, and require the reason. Returns, for a
    correction, the vet that refuses one repeating the value in force (nothing would change)."""
    from ledger.acts import stream_of
    from projections.repeats import unchanged_value_problem

    ledger = env.ledger()
    acts = ledger.stream_acts(stream_of(ledger.ledger_id, kind, *parts))
    if note:
        act["note"] = note
    if not acts:
        return None
    act["corrects"] = acts[-1][1]
    return lambda: unchanged_value_problem(ledger.store, kind, act)


def _parse_votes(text: str) -> dict:
    votes = {}
    for part in text.split(","):
        level, sep, count = part.partition("=")
        if not sep or not count.strip().isdigit() or len(count.strip()) > 9:
            raise click.BadParameter(f"{part!r} is not LEVEL=N", param_hint="--votes")
        votes[level.strip()] = int(count)
    return votes


COMMANDS = [score, evaluation, decide, undecide]

"""What a signer of a year's close signs: the position it closes at, the result hash there, and the tree head."""
from __future__ import annotations

import base64

from ledger.errors import Refused

from .replay import replay
from .results import year_results


def close_act(ledger, year: int, key_id: str, role: str | None = None) -> dict:
    """The `year.close.signed` act for this signer; a co-signer re-derives and checks what the first signer named."""
    size = ledger.log_size()
    state = replay(ledger.store)
    year_state = state.year(year)
    if not year_state.adopted:
        raise Refused(f"no scheme has been adopted for {year}")
    if year_state.closed:
        raise Refused(f"year {year} is closed already")
    signer = state.registry.signatories.get(key_id)
    if signer is None:
        raise Refused(f"unknown signer {key_id}")
    roles = year_state.scheme.closing_roles or ("office",)
    open_roles = [r for r in roles if r not in {c.role for c in year_state.closes}]
    mine = [r for r in open_roles if r in signer.roles]
    if role is not None and role not in mine:
        why = ("it has signed already" if role in roles else "the close does not need it") if role in signer.roles \
            else f"{signer.person} does not hold it"
        raise Refused(f"cannot sign the close of {year} as {role}: {why} (it still needs {', '.join(open_roles)})")
    if role is not None:
        mine = [role]
    if not mine:
        raise Refused(f"closing {year} still needs {', '.join(open_roles)}; {signer.person} holds "
                      f"{', '.join(signer.roles)}")
    if len(mine) > 1:
        raise Refused(f"{signer.person} may sign the close as {', '.join(mine)}: choose one with --role")
    if year_state.closes:
        position = year_state.closes[0].position
        results = year_results(replay(ledger.store, upto=position), year)
    else:
        position = size
        results = year_results(state, year)
    pending = [g for g, grades in results.grades.items() if grades.pending]
    if pending:
        raise Refused(f"grades of {', '.join(pending)} are pending (a tie or a withheld unit): settle them first")
    digest = results.result_hash()
    if year_state.closes and digest != year_state.closes[0].result_sha256:
        raise Refused(f"the result at position {position} hashes to {digest[:12]}, not {year_state.closes[0].result_sha256[:12]} "
                      "as the first close signature says: do not co-sign")
    root = base64.b64encode(ledger.root_at(position)).decode()
    act = {"year": year, "role": mine[0], "position": position, "result_sha256": digest,
           "groups": results.group_hashes(), "checkpoint": {"size": position, "root": root}}
    if year_state.closes and year_state.closes[0].groups is None:
        del act["groups"]  # the first signature, made before closes signed each group's result, named none
    return act

"""Which roles the adopted schemes declare: a signatory's role that none of them names is most likely a typo, and a
registered key's roles cannot be changed (only revoked and registered anew)."""
from __future__ import annotations

from collections.abc import Iterable

from ledger.registry import BUILTIN_ROLES

from .readstate import registry_and_years


def unnamed_role_problem(store, roles: Iterable[str]) -> str | None:
    """Why registering `roles` is refused once a scheme is adopted (a role no adopted scheme declares), or None."""
    declared = _declared(registry_and_years(store))
    named = set(BUILTIN_ROLES).union(*declared)
    unknown = [role for role in roles if role not in named]
    if not declared or not unknown:
        return None  # before any scheme, the roles a scheme will declare cannot be checked yet
    names = sorted(set().union(*declared))
    return (f"role {', '.join(unknown)} is declared by no adopted scheme (they declare {', '.join(names) or 'none'}; "
            f"built in: {', '.join(BUILTIN_ROLES)}): check the spelling, or pass --unlisted for a role of a scheme "
            "still to be adopted")


def holders_of_unnamed_roles(store) -> list[str]:
    """A line for each signatory, not revoked, holding a role that is neither built in nor declared by any adopted
    scheme (what adopting a scheme warns of: a role misspelt when it was registered)."""
    state = registry_and_years(store)
    named = set(BUILTIN_ROLES).union(*_declared(state))
    lines = []
    for sig in state.registry.signatories.values():
        unknown = [role for role in sig.roles if role not in named]
        if unknown and not sig.revoked_at:
            lines.append(f"{sig.person} ({sig.key_id}) holds {', '.join(unknown)}, which no adopted scheme declares")
    return lines


def _declared(state) -> list[set[str]]:
    return [set(ystate.scheme.roles) for ystate in state.years.values() if ystate.adopted]

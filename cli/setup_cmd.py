"""`ledger init`, `ledger signatory …`, `ledger scheme adopt`, `ledger submit`: setting up a ledger and a year."""
from __future__ import annotations


import click

from .context import Env, format_option, not_empty, out_option, sign_with_option
from .emit import emit
from .render import render


@click.command("init")
@click.option("--name", required=True, help="The ledger's name, e.g. 北票市2017年度实绩考核.")
@click.option("--office-key", "key_path", required=True, type=click.Path(dir_okay=False),
              help="The assessment office's private key: the ledger's root signatory.")
@click.option("--person", default="考核办", show_default=True, help="Who holds the office key.")
@click.option("--department", default="市考核办", show_default=True)
@click.pass_obj
def init(env: Env, name: str, key_path: str, person: str, department: str) -> None:
    """Create a ledger with a random id, rooted in the office's key.

    \b
    Example:
      ledger --db bp.db init --name 北票市实绩考核 --office-key office.key
    """
    from ledger.writer import new_ledger_id

    ledger, key = env.ledger(create=True), env.key(key_path)
    lid = new_ledger_id()
    act = {"name": name, "office": {"person": person, "department": department, "public_key": key.public_text,
                                    "roles": ["office"]}}
    envelope, signature = ledger.prepare("ledger.genesis", act, key, env.signed_at, ledger_id=lid)
    receipt = ledger.submit(envelope, signature)
    click.echo(f"Created ledger {lid} ({name}); office key {key.key_id}; position {receipt.position}")


@click.group("signatory")
def signatory() -> None:
    """Register, revoke and list the people who sign.

    \b
    Example:
      ledger signatory add --person 李明 --department 市发展改革局 --role department \\
          --public-key li.key.pub --sign-with office.key
    """


@signatory.command("add")
@click.option("--person", required=True)
@click.option("--department", default="",
              help="The department the person signs for (考核部门); for role department, once a scheme is adopted, "
                   "one an adopted scheme names or the office's own.")
@click.option("--role", "roles", multiple=True, required=True,
              help="office, department, auditor, inspector, or a role the scheme declares (repeatable).")
@click.option("--public-key", "pub_path", required=True, type=click.Path(dir_okay=False))
@click.option("--valid-from", default=None, metavar="TIME", callback=not_empty, help="Default: the signing time.")
@click.option("--unlisted", is_flag=True,
              help="Register a role or a department that no adopted scheme names: one of a scheme still to be "
                   "adopted, or a department that signs only what any department may.")
@sign_with_option()
@out_option()
@click.pass_obj
def signatory_add(env: Env, person, department, roles, pub_path, valid_from, unlisted, key_path, out_path) -> None:
    """Register a signatory's public key with roles (signed by the office).

    \b
    Example:
      ledger signatory add --person 张华 --role 常务副市长 --public-key zhang.key.pub --sign-with office.key
    """
    from ledger.clock import format_time, parse_time, signing_time
    from ledger.keys import load_public_text
    from ledger.signing import key_id_of_text

    text = load_public_text(pub_path)
    start = format_time(parse_time(valid_from, "--valid-from")) if valid_from is not None else \
        signing_time(env.signed_at)
    act = {"key_id": key_id_of_text(text), "public_key": text, "person": person, "department": department,
           "roles": list(roles), "valid_from": start}
    vet = None if unlisted else _listed_vet(env, department, roles)
    emit(env, "signatory.added", act, key_path, out_path, vet=vet)


def _listed_vet(env: Env, department: str, roles: tuple[str, ...]):
    """The vet refusing a role or a `department` signatory's department no adopted scheme names: a key's roles and
    department cannot be changed, so a misspelt one is refused before it is stored."""
    from projections.departments import unnamed_department_problem
    from projections.roles import unnamed_role_problem

    store = env.ledger().store
    return lambda: unnamed_role_problem(store, roles) or unnamed_department_problem(store, department, roles)


@signatory.command("revoke")
@click.argument("key_id")
@click.option("--reason", required=True)
@sign_with_option()
@out_option()
@click.pass_obj
def signatory_revoke(env: Env, key_id, reason, key_path, out_path) -> None:
    """Revoke a key: it signs nothing after this; what it signed before stays valid.

    \b
    Example:
      ledger signatory revoke ed25519:1a2b3c4d5e6f7a8b --reason "key lost" --sign-with office.key
    """
    emit(env, "signatory.revoked", {"key_id": key_id, "reason": reason}, key_path, out_path)


@signatory.command("list")
@format_option()
@click.pass_obj
def signatory_list(env: Env, fmt: str) -> None:
    """List every signatory with roles, validity and revocation.

    \b
    Example:
      ledger signatory list --format json
    """
    rows = [s.to_dict() for s in env.ledger().registry().signatories.values()]
    for row in rows:
        row["roles"] = ",".join(row["roles"])
    render(rows, ["key_id", "person", "department", "roles", "valid_from", "revoked_at"], fmt)


@click.group("scheme")
def scheme() -> None:
    """Adopt a year's assessment scheme (考核方案).

    \b
    Example:
      ledger scheme adopt examples/bp-2017.toml --sign-with office.key
    """


@scheme.command("adopt")
@click.argument("path", type=click.Path(dir_okay=False, exists=False))
@click.option("--note", default=None, help="Why a scheme already adopted for the year is replaced.")
@sign_with_option()
@out_option()
@click.pass_obj
def scheme_adopt(env: Env, path, note, key_path, out_path) -> None:
    """Adopt a scheme file for its year; the file's text is stored as signed content.

    \b
    Example:
      ledger scheme adopt examples/hy-2017.toml --sign-with office.key
    """
    from ledger.canonical import sha256_hex
    from ledger.schemefile import read_scheme_file

    text, scheme_obj = read_scheme_file(path)
    act = {"year": scheme_obj.year, "text": text, "sha256": sha256_hex(text.encode("utf-8")),
           "file": path.rsplit("/", 1)[-1]}
    if note:
        act["note"] = note
    emit(env, "scheme.adopted", act, key_path, out_path)
    if not out_path:
        from projections.departments import holders_of_unnamed_departments
        from projections.roles import holders_of_unnamed_roles

        store = env.ledger().store
        for line in holders_of_unnamed_roles(store) + holders_of_unnamed_departments(store):
            click.echo(f"note: {line} (misspelt? revoke the key and register it again)", err=True)


@click.command("submit")
@click.argument("path", type=click.Path(dir_okay=False), required=False)
@click.option("--many", "many_path", type=click.Path(dir_okay=False), metavar="FILE.jsonl",
              help="Submit every signed act of a JSON-lines file (one {envelope, signature} a line), all checked "
                   "before any is stored; acts stored already are skipped.")
@click.pass_obj
def submit(env: Env, path: str | None, many_path: str | None) -> None:
    """Submit a signed act written earlier with --out (the same act twice is stored once), or a file of many.

    \b
    Example:
      ledger submit approval.json
      ledger submit --many scores.jsonl
    """
    if (path is None) == (many_path is None):
        raise click.UsageError("give either PATH (one signed act) or --many FILE.jsonl")
    if many_path is not None:
        _submit_many(env, many_path)
        return
    from ledger.actfile import read_act_file
    from ledger.writer import Duplicate

    envelope, signature = read_act_file(path)
    try:
        receipt = env.ledger(create=_is_genesis(envelope)).submit(envelope, signature)
    except Duplicate as dup:
        click.echo(f"Already stored: {dup}")
        return
    click.echo(f"Stored {envelope['type']} as event {receipt.event_id[:12]} at position {receipt.position}")


def _is_genesis(envelope) -> bool:
    """Whether a signed act founds a ledger: submitting it may create the database, as `init` does."""
    return isinstance(envelope, dict) and envelope.get("type") == "ledger.genesis"


def _submit_many(env: Env, path: str) -> None:
    from ledger.bulk import append_many, read_act_lines
    from projections import readmodel

    from .progress import progress_bar

    acts = read_act_lines(path)
    ledger = env.ledger(create=_is_genesis(acts[0][0]))
    with progress_bar("storing", len(acts)) as advance:
        stored = append_many(ledger, acts, advance)
    readmodel.catch_up(ledger.store)  # read-your-writes, as for a single act
    skipped = len(acts) - stored
    click.echo(f"Stored {stored} of {len(acts)} signed acts; the log holds {ledger.log_size()} events"
               + (f" ({skipped} stored already)" if skipped else ""))


COMMANDS = [init, signatory, scheme, submit]

"""Tamper evidence from the CLI: checkpoints, proofs, and verification of the whole log."""
from __future__ import annotations

import base64
import json
import os

import click

from .context import Env, format_option, sign_with_option, unwritable_refused
from .render import verdict


@click.group("checkpoint", invoke_without_command=True)
@sign_with_option(required=False)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write the signed checkpoint here.")
@click.option("--note", default="", help="Why this checkpoint (e.g. 2017年度考核结果通报).")
@click.option("--replace", is_flag=True, help="Write over --out if it exists (else an existing file is refused).")
@click.pass_context
def checkpoint(ctx: click.Context, key_path: str | None, out_path: str | None, note: str, replace: bool) -> None:
    """Sign the log's size and Merkle root as a checkpoint note (publish it; auditors keep it).

    \b
    Example:
      ledger checkpoint --sign-with office.key --out cp-2017-12-31.txt
      ledger checkpoint cosign cp-2017-12-31.txt --previous cp-old.txt --sign-with auditor.key
    """
    if ctx.invoked_subcommand is not None:
        return
    if not key_path:
        raise click.UsageError("give --sign-with KEYFILE")
    if out_path and os.path.exists(out_path) and not replace:  # a checkpoint someone holds or cosigned is evidence
        from ledger.errors import Refused

        raise Refused(f"{out_path} exists already; name a new file, or pass --replace to write over it")
    from ledger.proofs import make_checkpoint

    env: Env = ctx.obj
    _record_and_write(lambda: make_checkpoint(env.ledger(), env.key(key_path), note), out_path)


@checkpoint.command("cosign")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--previous", type=click.Path(dir_okay=False), default=None,
              help="The last checkpoint you hold: the new one must extend it.")
@sign_with_option()
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Default: rewrite PATH.")
@click.pass_obj
def cosign(env: Env, path: str, previous: str | None, key_path: str, out_path: str | None) -> None:
    """Check a checkpoint against this log (and the previous one you hold), then add your signature.

    \b
    Example:
      ledger checkpoint cosign cp.txt --previous cp-last.txt --sign-with jiwei.key
    """
    from ledger.proofs import cosign_checkpoint, read_checkpoint

    _record_and_write(lambda: cosign_checkpoint(env.ledger(), env.key(key_path), read_checkpoint(path),
                                                read_checkpoint(previous) if previous else None), out_path or path)


@click.group("prove")
def prove() -> None:
    """RFC 9162 inclusion and consistency proofs against checkpoints.

    \b
    Example:
      ledger prove inclusion 3b77cc446e7d --checkpoint cp.txt > proof.json
      ledger verify-proof proof.json --checkpoint cp.txt
    """


def _event_ref(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A position is written in digits 0-9: '²' and '１７' are digits to Python but not positions."""
    if value.isdigit() and not value.isascii():
        raise click.BadParameter(f"{value!r} is neither a position (digits 0-9) nor an event id", ctx, param)
    return value


@prove.command("inclusion")
@click.argument("event", callback=_event_ref)
@click.option("--checkpoint", "cp_path", required=True, type=click.Path(dir_okay=False))
@click.pass_obj
def prove_inclusion(env: Env, event: str, cp_path: str) -> None:
    """Prove an event (id prefix or position) is in the log a checkpoint states.

    \b
    Example:
      ledger prove inclusion 17 --checkpoint cp.txt
    """
    from ledger.proofs import prove_inclusion as prove_it, read_checkpoint

    click.echo(json.dumps(prove_it(env.ledger(), event, read_checkpoint(cp_path)), indent=1))


@prove.command("consistency")
@click.option("--old", "old_path", required=True, type=click.Path(dir_okay=False))
@click.option("--new", "new_path", required=True, type=click.Path(dir_okay=False))
@click.pass_obj
def prove_consistency(env: Env, old_path: str, new_path: str) -> None:
    """Prove the log of an older checkpoint is a prefix of a newer one's.

    \b
    Example:
      ledger prove consistency --old cp-june.txt --new cp-dec.txt
    """
    from ledger.proofs import prove_consistency as prove_it, read_checkpoint

    click.echo(json.dumps(prove_it(env.ledger(), read_checkpoint(old_path), read_checkpoint(new_path)), indent=1))


@click.command("verify-proof")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--checkpoint", "cp_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Checkpoint(s) whose roots the proof must be about.")
@format_option(choices=("table", "json"))
def verify_proof(path: str, cp_paths: tuple[str, ...], fmt: str) -> None:
    """Check a proof document offline (no database needed); exit 1 if it does not hold.

    Your checkpoints must be of the proof's ledger and have its roots; their signature lines are checked with the
    public keys the proof carries, and the verdict names those it could not check (there is no registry offline).

    \b
    Example:
      ledger verify-proof proof.json --checkpoint cp.txt
    """
    from ledger.proofs import read_checkpoint, read_proof, verify_proof_document

    doc, checkpoints = read_proof(path), [read_checkpoint(p) for p in cp_paths]
    held = verify_proof_document(doc, checkpoints)
    if fmt == "json":
        click.echo(json.dumps({"ok": True, "type": doc["type"], "verdict": held.text,
                               "checkpoint_sizes": sorted({cp.size for cp in checkpoints}),
                               "signatures_checked": list(held.signatures_checked),
                               "signatures_not_checked": list(held.signatures_not_checked)}, ensure_ascii=False,
                              indent=1))
    else:
        click.echo(f"OK: {held}")


@click.command("verify")
@click.option("--checkpoint", "cp_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Checkpoints held outside the system (repeatable).")
@format_option(choices=("table", "json"))
@click.pass_obj
def verify(env: Env, cp_paths: tuple[str, ...], fmt: str) -> None:
    """Re-check every event, signature, signer and role; recompute the Merkle tree; replay closed years.

    \b
    Example:
      ledger verify --checkpoint cp-2017.txt
    """
    from ledger.proofs import read_checkpoint
    from projections.audit import verify_store

    from .progress import progress_bar

    ledger = env.ledger()
    external = [read_checkpoint(p) for p in cp_paths]
    total = ledger.store.max_notification_id()
    with progress_bar("verifying", total) as advance:
        report = verify_store(ledger.store, external, advance)
    ok = (f"OK: {report.size} events, {report.signatures_checked} signatures, {report.checkpoints_checked} "
          f"checkpoints, closed years replayed: {', '.join(map(str, report.closed_years)) or 'none'}; "
          f"root {base64.b64encode(report.root).decode()}")
    verdict(report, fmt, ok)


def _record_and_write(sign, out_path: str | None) -> None:
    """Run `sign` (which records the checkpoint in the log) and write what it returns to `out_path`, or print it. The
    file is opened first, so that a path that cannot be written refuses the command with nothing appended."""
    if not out_path:
        click.echo(sign().format(), nl=False)
        return
    existed = os.path.exists(out_path)
    with unwritable_refused(out_path):
        fh = open(out_path, "a", encoding="utf-8", newline="\n")  # "a": an existing file is kept until signed
    with fh:
        try:
            text = sign().format()
        except BaseException:
            if not existed:
                fh.close()
                os.remove(out_path)
            raise
        fh.truncate(0)
        fh.write(text)
    click.echo(f"Checkpoint written to {out_path}")


COMMANDS = [checkpoint, prove, verify_proof, verify]

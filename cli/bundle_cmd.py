"""`ledger bundle …`: export the log as one audit bundle, verify a bundle offline, restore one into a database."""
from __future__ import annotations

import base64

import click

from .context import Env, format_option
from .render import verdict

CHECKPOINTS = click.option("--checkpoint", "cp_paths", multiple=True, type=click.Path(dir_okay=False),
                           help="A checkpoint held outside the system (repeatable).")


@click.group("bundle")
def bundle() -> None:
    """Audit bundles: the whole signed log in one file, verified with no database (docs/audit-bundle.md).

    \b
    Example:
      ledger bundle export hy-2017.kaohe.zip
      ledger bundle verify hy-2017.kaohe.zip --checkpoint cp-2017-12-31.txt
      ledger --db restored.db bundle import hy-2017.kaohe.zip --checkpoint cp-2017-12-31.txt
    """


@bundle.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True, help="Write over PATH if it exists (else an existing file is refused).")
@click.option("--damaged", is_flag=True,
              help="Export the log as it is even if it does not match its log index or the tree heads it signed "
                   "(a copy for forensics).")
@click.pass_obj
def export(env: Env, path: str, replace: bool, damaged: bool) -> None:
    """Write every event, in log order, with a manifest of the log's size and Merkle root, to one ZIP file.

    Each event is compared with the log index recorded when it was stored, and every tree head the log signed
    (checkpoints, closes) with the events; a log that does not match is refused, nothing written, unless --damaged.

    \b
    Example:
      ledger bundle export hy-2017.kaohe.zip
    """
    from ledger.bundle import export_bundle

    ledger = env.ledger()
    _ = ledger.ledger_id  # refuses an empty database with the usual message
    manifest, problems = export_bundle(ledger.store, path, replace, damaged)
    click.echo(f"Exported {manifest.size} events of ledger {manifest.ledger_id} to {path}; "
               f"root {base64.b64encode(manifest.root).decode()}")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        click.echo(f"warning: exported as it is (--damaged), though the log does not match its log index or the tree "
                   f"heads it signed: {problems[0]}{more}", err=True)


@bundle.command("verify")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--checkpoint", "cp_paths", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A checkpoint held outside the system (repeatable; at least one).")
@format_option(choices=("table", "json"))
def verify(path: str, cp_paths: tuple[str, ...], fmt: str) -> None:
    """Verify a bundle with no database: every signature, signer and role, the Merkle tree against your
    checkpoints, the replay of every closed year, and its checkpoint copies; exit 1 listing every failure.

    \b
    Example:
      ledger bundle verify hy-2017.kaohe.zip --checkpoint cp-2017-12-31.txt --checkpoint cp-2018-06-30.txt
    """
    from ledger.bundle_reader import read_bundle

    with read_bundle(path) as data:
        report = _verified(data, cp_paths)
    ok = (f"OK: ledger {data.manifest.ledger_id}, {report.size} events, {report.signatures_checked} signatures, "
          f"{report.checkpoints_checked} checkpoints ({len(cp_paths)} yours), closed years replayed: "
          f"{', '.join(map(str, report.closed_years)) or 'none'}; root {base64.b64encode(report.root).decode()}")
    verdict(report, fmt, ok, {"ledger_id": data.manifest.ledger_id}, also=None)


@bundle.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@CHECKPOINTS
@click.pass_obj
def import_(env: Env, path: str, cp_paths: tuple[str, ...]) -> None:
    """Restore a bundle into an empty database (`--db`): verify it first, then store every event verbatim.

    \b
    Example:
      ledger --db postgresql+psycopg://kaohe@db/kaohe bundle import hy-2017.kaohe.zip --checkpoint cp.txt
    """
    from ledger.bundle_reader import read_bundle
    from ledger.restore import restore_bundle

    with read_bundle(path) as data:
        ledger = env.ledger(create=True)  # restoring makes the ledger, as `init` does
        report = restore_bundle(ledger.store, data, lambda _bundle: _verified(data, cp_paths))
    click.echo(f"Imported {report.size} events of ledger {data.manifest.ledger_id} into {ledger.store.target.display}; "
               f"root {base64.b64encode(report.root).decode()}"
               + ("" if cp_paths else " (no --checkpoint: the bundle was checked against itself only, so compare "
                                      "this root with a checkpoint you hold)"))


def _verified(data, cp_paths: tuple[str, ...]):
    """`verify_bundle` with the given checkpoints, behind a progress bar."""
    from ledger.proofs import read_checkpoint
    from projections.audit import verify_bundle

    from .progress import progress_bar

    external = [read_checkpoint(p) for p in cp_paths]
    with progress_bar("verifying", data.size) as advance:
        return verify_bundle(data, external, advance)


COMMANDS = [bundle]

"""`ledger key …`: make and show Ed25519 key pairs."""
from __future__ import annotations

import json

import click

from .context import Env, format_option


@click.group("key")
def key() -> None:
    """Make and inspect signing keys.

    \b
    Example:
      ledger key new --out wang.key       # writes wang.key (encrypted, 0600) and wang.key.pub
    """


@key.command("new")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Private key file to write.")
@click.pass_obj
def key_new(env: Env, out_path: str) -> None:
    """Make an Ed25519 key pair; the private key is encrypted with a passphrase.

    \b
    Example:
      LEDGER_PASS=secret ledger --passphrase-env LEDGER_PASS key new --out office.key
    """
    from ledger.keys import new_key

    priv, pub, key_id = new_key(out_path, env.passphrase(out_path, confirm=True))
    click.echo(f"Wrote {priv} (private, mode 0600) and {pub} (public); key id {key_id}")


@key.command("show")
@click.argument("path", type=click.Path(dir_okay=False))
@format_option(choices=("table", "json"))
def key_show(path: str, fmt: str) -> None:
    """Print the key id (fingerprint) and public key of a .pub file.

    \b
    Example:
      ledger key show wang.key.pub
    """
    from ledger.keys import load_public_text
    from ledger.signing import key_id_of_text

    text = load_public_text(path)
    if fmt == "json":
        click.echo(json.dumps({"key_id": key_id_of_text(text), "public_key": text}, indent=1))
    else:
        click.echo(f"{key_id_of_text(text)}  {text}")


COMMANDS = [key]

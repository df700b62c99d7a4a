"""Submitting a signed act from a command, or writing it to a file for later submission."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING
from uuid import UUID

import click

from .context import Env, write_text

if TYPE_CHECKING:
    from ledger.writer import Vet


def emit(env: Env, act_type: str, act: dict, key, out_path: str | None = None,
         stream: UUID | None = None, vet: Vet | None = None) -> None:
    """Sign the act with the key (a key file path or a loaded key); store it and print the receipt, or write it
    to `out_path` for later submission. `vet`: the command's own refusal, asked once the log's checks pass."""
    ledger = env.ledger()
    key = env.key(key) if isinstance(key, str) else key
    if out_path:
        envelope, signature = ledger.prepare_checked(act_type, act, key, env.signed_at, stream, vet)
        write_text(out_path, json.dumps({"envelope": envelope, "signature": signature}, ensure_ascii=False,
                                        indent=1) + "\n")
        click.echo(f"Signed {act_type} written to {out_path} (not submitted)")
        return
    receipt = ledger.act(act_type, act, key, env.signed_at, stream, vet=vet)
    from projections import readmodel

    readmodel.catch_up(ledger.store)  # read-your-writes: the views include this act before the command returns
    click.echo(f"Stored {act_type} as event {receipt.event_id[:12]} at position {receipt.position}"
               + (f" (adjustment {receipt.stream[:8]})" if act_type.startswith("adjustment.") else "")
               + (f" (decision {receipt.stream[:8]})" if act_type == "decision.recorded" else ""))

"""`ledger rebuild`: maintenance of the derived tables (log index, read models), which the log alone determines."""
from __future__ import annotations

import click

from .context import Env


@click.command("rebuild")
@click.pass_obj
def rebuild(env: Env) -> None:
    """Empty the read models and replay the whole log into them, in one transaction; bring the log index up to date
    first.

    Safe at any time: the read models are derived from the log, and a rebuild that is interrupted, or that meets a
    stored event that is not a signed act (named in one line), leaves them as they were.

    \b
    Example:
      ledger rebuild
    """
    import time

    from projections import readmodel

    from .progress import progress_bar

    ledger = env.ledger()
    ledger.ledger_id  # refuses an empty database with a clear message
    started = time.monotonic()
    total = ledger.store.max_notification_id()
    with progress_bar("indexing the log", total) as advance:
        size = ledger.index.catch_up(advance)
    with progress_bar("rebuilding the read models", size) as advance:
        position = readmodel.rebuild(ledger.store, advance)
    click.echo(f"Rebuilt the read models from {position} events in {time.monotonic() - started:.1f} s; "
               f"the log index holds {size} events")


COMMANDS = [rebuild]

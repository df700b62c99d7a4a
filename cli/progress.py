"""Progress bars for long work, on a terminal only (stderr), so pipes and tests stay clean."""
from __future__ import annotations

import sys
from contextlib import contextmanager


@contextmanager
def progress_bar(label: str, total: int | None):
    """Yields advance(done): sets the bar to `done` items."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(label, total=total or None)
        yield lambda done: bar.update(task, completed=done)

"""A progress bar for long batches: on the terminal only, never in machine formats or pipes."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MACHINE_FORMATS = frozenset({"json", "sarif", "github"})
LONG_BATCH = 5  # notebooks; a single check must stay silent and instant


def wanted(fmt: str, total: int, stream=None) -> bool:
    stream = stream or sys.stderr
    return fmt not in MACHINE_FORMATS and total >= LONG_BATCH and bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def batch_progress(total: int, fmt: str) -> Iterator[Callable[[Path], None] | None]:
    """Yields a per-notebook callback for a batch of `total` notebooks, or None when no bar is wanted."""
    if not wanted(fmt, total):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("{task.fields[name]}", markup=False))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("nbreview", total=total, name="")

        def step(path: Path) -> None:
            from .render import visible_controls

            bar.update(task, advance=1, name=visible_controls(Path(path).name[:40]))

        yield step

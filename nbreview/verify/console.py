"""Progress and messages of a verification: rich bars (images/s, ETA) on a terminal, events on a
queue from a worker process, or nothing. Pure Python (rich only)."""
from __future__ import annotations

import sys
import time
from typing import Any


class Task:
    def advance(self, n: int) -> None: ...

    def finish(self) -> None: ...


class Reporter:
    """What training code talks to; implementations decide where it goes."""

    def task(self, description: str, total: int) -> Task:
        return Task()

    def info(self, text: str) -> None: ...

    def overall(self, description: str, total: int) -> Task:
        return Task()


class PlainReporter(Reporter):
    """Messages to stderr, no bars (not a terminal, or --no-progress)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def info(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)


class _RichTask(Task):
    def __init__(self, progress, task_id, remove: bool = True) -> None:
        self.progress, self.id, self.remove = progress, task_id, remove

    def advance(self, n: int) -> None:
        self.progress.advance(self.id, n)

    def finish(self) -> None:
        if self.remove:
            self.progress.remove_task(self.id)


class RichReporter(Reporter):
    """rich progress bars on stderr: images done / total, images/s, elapsed and remaining time."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        from rich.text import Text

        class Speed(ProgressColumn):
            def render(self, task) -> Text:
                speed = task.finished_speed or task.speed
                unit = task.fields.get("unit", "img")
                if unit == "step":
                    return Text("")
                return Text(f"{speed:,.0f} {unit}/s" if speed else f"- {unit}/s", style="cyan")

        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=30), MofNCompleteColumn(),
                                 Speed(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=self.console, transient=False, refresh_per_second=4)

    def __enter__(self) -> "RichReporter":
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def task(self, description: str, total: int) -> Task:
        from rich.markup import escape

        tid = self.progress.add_task(escape(description[:60]), total=total, unit="img")
        return _RichTask(self.progress, tid)

    def overall(self, description: str, total: int) -> Task:
        from rich.markup import escape

        tid = self.progress.add_task(f"[bold]{escape(description[:60])}[/bold]", total=total, unit="step")
        return _RichTask(self.progress, tid, remove=False)

    def info(self, text: str) -> None:
        self.progress.console.print(text, markup=False, highlight=False)


class QueueTask(Task):
    def __init__(self, queue, job: int, key: int) -> None:
        self.queue, self.job, self.key = queue, job, key
        self._pending, self._last = 0, 0.0

    def advance(self, n: int) -> None:
        self._pending += n
        now = time.monotonic()
        if now - self._last > 0.25:
            self.queue.put(("advance", self.job, self.key, self._pending))
            self._pending, self._last = 0, now

    def finish(self) -> None:
        if self._pending:
            self.queue.put(("advance", self.job, self.key, self._pending))
        self.queue.put(("finish", self.job, self.key, 0))


class QueueReporter(Reporter):
    """In a worker process: progress goes to the parent as small events."""

    def __init__(self, queue, job: int) -> None:
        self.queue, self.job, self._n = queue, job, 0

    def task(self, description: str, total: int) -> Task:
        self._n += 1
        self.queue.put(("task", self.job, self._n, (description, total)))
        return QueueTask(self.queue, self.job, self._n)

    def info(self, text: str) -> None:
        self.queue.put(("info", self.job, 0, text))


def make_reporter(progress: bool):
    """A rich reporter on a terminal (unless --no-progress), else plain lines."""
    if progress and sys.stderr.isatty():
        return RichReporter()
    return _PlainContext()


class _PlainContext(PlainReporter):
    def __enter__(self) -> "_PlainContext":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

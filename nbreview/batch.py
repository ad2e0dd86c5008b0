"""Running a check over many notebooks: in parallel, in order, in constant memory.

`run(items, job, jobs)` yields, for every notebook in discovery order, its compact summary
and its piece of the output (rendered by the format's `piece`, see nbreview.render). The
reports themselves are dropped as soon as they are rendered, so 10,000 notebooks take the
memory of a few. With `jobs > 1` the notebooks are reviewed by a pool of processes; the
results come back in the same order as with one job, so the output is identical.

Nothing about one notebook stops the others: a broken configuration next to it, an analysis
that runs past NOTEBOOK_TIMEOUT, even a worker process that dies, become an error of that
notebook. Ctrl-C stops the workers and the run.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import NotebookError, NotebookReport, NotebookSummary, summarize

NOTEBOOK_TIMEOUT = 120  # seconds for one notebook; the interpreter's budget normally ends far sooner
CHUNK = 4  # notebooks per task sent to a worker
STOP_GRACE = 5.0  # seconds the workers get to finish their notebook when the run is stopped
WINDOW = 4  # tasks in flight per worker: bounds the results waiting for their turn


@dataclass
class Job:
    """Everything a worker needs to review and render one notebook (picklable)."""

    options: Any  # engine.Options
    fmt: str | None  # None: no output (e.g. --write-baseline)
    ctx: Any = None  # render.RenderContext
    baseline: Path | None = None  # report only findings not recorded here
    record: Path | None = None  # --write-baseline: keep each finding's baseline entry
    page: bool = False  # render each notebook's own page (`--output DIR`) rather than its piece
    evidence: list | None = None  # `nbreview verify` evidence: (file, document) pairs
    _state: dict = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_state"] = {}
        return state


class _Timeout(BaseException):
    """The notebook took longer than NOTEBOOK_TIMEOUT (raised by SIGALRM; not an Exception, so
    the analysis' own guards do not swallow it)."""


def _alarm(signum, frame):  # pragma: no cover - timing
    raise _Timeout()


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def review_one(path: Path, job: Job, index: int = 0) -> tuple[NotebookSummary, Any]:
    """Review and render one notebook; whatever goes wrong becomes that notebook's error."""
    from .config import ConfigError
    from .engine import review_path

    state = job._state
    if "resolver" not in state:
        from .config import Resolver

        options = job.options
        state["resolver"] = Resolver(options.config_file) if options.use_config or options.config_file else None
        if job.baseline is not None:
            from . import baseline as bl

            state["known"] = bl.load(job.baseline)
    timer = _start_timer()
    try:
        with _collected_after(state):
            report = review_path(path, job.options, resolver=state["resolver"])
    except ConfigError as exc:
        report = NotebookReport(str(path), errors=[NotebookError.of("config_error", reason=str(exc)[:500])])
    except _Timeout:
        report = NotebookReport(str(path), errors=[NotebookError.of("timeout", seconds=NOTEBOOK_TIMEOUT)])
    except RecursionError:
        report = NotebookReport(str(path), errors=[NotebookError.of("too_nested")])
    except Exception as exc:  # a bug outside the review's own guards: still only this notebook
        from .engine import _short

        report = NotebookReport(str(path), errors=[NotebookError.of("internal_error", error=_short(exc))])
    finally:
        _stop_timer(timer)
    return finish(report, job, index)


def finish(report: NotebookReport, job: Job, index: int) -> tuple[NotebookSummary, Any]:
    """Apply the baseline, render the piece, summarise: all that a run keeps of a notebook."""
    used, notes = None, []
    if job.evidence:
        from .verify.evidence import attach_one, index

        if "evidence" not in job._state:
            job._state["evidence"] = index(job.evidence)
        try:
            used, notes = attach_one(report, job._state["evidence"])
        except Exception as exc:  # evidence is a nicety: never lose the review to it
            notes = [f"{report.path}: evidence not attached: {type(exc).__name__}: {exc}"]
    removed = 0
    if job.baseline is not None or job.record is not None:
        from . import baseline as bl  # (hashlib: only when a baseline is used)
    if job.baseline is not None:
        known = job._state.get("known")
        if known is None:
            known = job._state["known"] = bl.load(job.baseline)
        removed = bl.apply_report(report, known, job.baseline.parent)
    summary = summarize(report)
    summary.baseline_removed = removed
    summary.evidence_used, summary.evidence_notes = used, notes
    if job.record is not None:
        summary.baseline_entries = bl.report_entries(report, job.record.parent)
    piece = None
    if job.fmt is not None:
        from .render import module

        mod = module(job.fmt)
        render = mod.page if job.page else mod.piece
        try:
            piece = render(report, job.ctx, index)
        except Exception as exc:  # a renderer bug on odd content: report it in this notebook's place
            from .engine import _short

            report = NotebookReport(report.path, errors=[NotebookError.of("internal_error", error=_short(exc))])
            kept = summary
            summary = summarize(report)
            summary.baseline_entries, summary.evidence_used = kept.baseline_entries, kept.evidence_used
            summary.evidence_notes = kept.evidence_notes
            piece = render(report, job.ctx, index)
    return summary, piece


@contextmanager
def _collected_after(state: dict) -> Iterator[None]:
    """Run the cyclic garbage collector once after a notebook rather than during it.

    The analysis of one notebook builds a few hundred thousand small objects (syntax trees,
    abstract values, call records) that all stay alive until its report is made. While they
    grow, the collector would traverse them again and again (a third of the CPU time); once
    the report is made they are garbage and one pass frees them. After the first notebook what
    is still alive (modules, the catalog, caches) lives as long as the process: it is frozen,
    so that these passes skip it (and forked workers share it unwritten)."""
    if not gc.isenabled():  # the caller manages the collector itself
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
        if not state.get("gc_frozen"):
            gc.freeze()
            state["gc_frozen"] = True


def _start_timer():
    if not hasattr(signal, "setitimer") or not _main_thread():
        return None
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, NOTEBOOK_TIMEOUT)
    return previous


def _stop_timer(previous) -> None:
    if previous is None:
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# --- running ---------------------------------------------------------------------------

Item = tuple[Path, "NotebookError | None"]
Result = tuple[NotebookSummary, Any]


def run(items: list[Item], job: Job, jobs: int = 1,
        progress: Callable[[Path], None] | None = None) -> Iterator[Result]:
    """Every notebook's (summary, piece), in the order of `items`."""
    workers = max(1, min(jobs, len(items) // 2))
    results = _serial(items, job) if workers <= 1 else _Pool(items, job, workers).results()
    for i, result in enumerate(results):  # to the end of `results`: the pool then shuts down in order
        yield result
        if progress is not None:
            progress(items[i][0])


def _missing(path: Path, error: NotebookError, job: Job, index: int) -> Result:
    return finish(NotebookReport(str(path), errors=[error]), job, index)


def _serial(items: list[Item], job: Job) -> Iterator[Result]:
    for i, (path, error) in enumerate(items):
        yield _missing(path, error, job, i) if error is not None else review_one(path, job, i)


# worker side
_JOB: Job | None = None


def _init_worker(job: Job) -> None:
    global _JOB
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _JOB = job


def _work(chunk: list[tuple[int, Path, NotebookError | None]]) -> list[Result]:
    assert _JOB is not None
    return [_missing(p, e, _JOB, i) if e is not None else review_one(p, _JOB, i) for i, p, e in chunk]


class _Pool:
    """A process pool fed a window of chunks at a time; results are taken in submission order.
    A worker that dies takes only the notebook it was reviewing with it."""

    def __init__(self, items: list[Item], job: Job, workers: int) -> None:
        self.items = items
        self.job = job
        self.workers = workers
        self.executor = None

    def _start(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork shares the modules already imported (see _preload); elsewhere the default method
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") and "fork" in methods
                                              else None)
        self.executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                            initargs=(self.job,))
        # The workers start at the first task. Meanwhile Ctrl-C (sent to the whole process group)
        # is only noted, so that a worker just forked never dies of it half-started; this process
        # then raises it, and the workers (which ignore it from their start) are stopped.
        if _main_thread():
            noted: list[int] = []
            previous = signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
            try:
                self.executor.submit(int).result()
            finally:
                signal.signal(signal.SIGINT, previous)
            if noted:
                raise KeyboardInterrupt

    def _stop(self, how: str = "done") -> None:
        """done: wait for the pool; broken: the pool has already failed (the executor stopped its
        workers); abort (Ctrl-C, the output closed): let every worker finish the notebook it is
        on (a worker killed while sending its result would leave the pool waiting forever), then
        stop. A worker stuck longer than STOP_GRACE is killed, and if the pool still does not
        end, the process exits at once rather than hang."""
        ex, self.executor = self.executor, None
        if ex is None:
            return
        if how != "abort":
            ex.shutdown(wait=True, cancel_futures=True)
            return
        if _main_thread():  # a second Ctrl-C must not leave the workers behind
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        manager = getattr(ex, "_executor_manager_thread", None)
        processes = list((getattr(ex, "_processes", None) or {}).values())
        ex.shutdown(wait=False, cancel_futures=True)
        if manager is None:
            return
        manager.join(STOP_GRACE)
        if manager.is_alive():
            for p in processes:
                try:
                    p.terminate()
                except Exception:  # noqa: BLE001 - already gone
                    pass
            manager.join(2)
            if manager.is_alive():  # pragma: no cover - a result half sent by a killed worker
                try:
                    sys.stdout.flush()
                    sys.stderr.write("nbreview: interrupted\n")
                    sys.stderr.flush()
                finally:
                    os._exit(130)

    def results(self) -> Iterator[Result]:
        from concurrent.futures.process import BrokenProcessPool

        _preload(self.job)
        numbered = [(i, p, e) for i, (p, e) in enumerate(self.items)]
        chunks = [numbered[k:k + CHUNK] for k in range(0, len(numbered), CHUNK)]
        todo = deque(chunks)
        pending: deque = deque()
        try:
            self._start()  # inside: an interrupt while the workers start must stop them too
            while todo or pending:
                while todo and len(pending) < self.workers * WINDOW:
                    chunk = todo.popleft()
                    pending.append((chunk, self.executor.submit(_work, chunk)))  # type: ignore[union-attr]
                chunk, future = pending.popleft()
                try:
                    done = future.result()
                except BrokenProcessPool:
                    # a worker died (killed, out of memory, a crash in C): redo what was in flight
                    # one notebook at a time, so that only the culprit is lost
                    retry = [chunk] + [c for c, _ in pending]
                    pending.clear()
                    self._stop("broken")
                    self._start()
                    for c in retry:
                        for item in c:
                            yield self._isolated(item)
                    continue
                yield from done
        except BaseException:
            self._stop("abort")
            raise
        self._stop()

    def _isolated(self, item: tuple[int, Path, NotebookError | None]) -> Result:
        from concurrent.futures.process import BrokenProcessPool

        i, path, _ = item
        try:
            return self.executor.submit(_work, [item]).result()[0]  # type: ignore[union-attr]
        except BrokenProcessPool:
            self._stop("broken")
            self._start()
            return _missing(path, NotebookError.of("crashed"), self.job, i)


def _preload(job: Job) -> None:
    """Import, before forking, what every worker needs: the workers start warm."""
    from . import checklist, checks, facts, outputs  # noqa: F401

    checks.load_all()
    if getattr(job.options, "edits", False):
        try:
            import libcst  # noqa: F401 - the corrected code of the human formats
        except ImportError:  # pragma: no cover
            pass
    if job.fmt is not None:
        from .render import module

        module(job.fmt)

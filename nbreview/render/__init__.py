"""Output formats. Each module has `render(run: RunReport, ctx: RenderContext) -> str`.

For a batch, each format also writes its document notebook by notebook: `piece(nb, ctx, i)`
renders what notebook `i` contributes (in a worker process, see nbreview.batch) and the
module's `Sink` writes the pieces in order and closes the document from the notebooks'
compact summaries. `render` is the same two steps into a string.

Formats are imported lazily by name, so `--format json` never pays for rich or jinja2.
"""
from __future__ import annotations

import importlib
import json as _json
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, TextIO

from ..model import NotebookSummary, RunReport, summarize

FORMATS: dict[str, str] = {
    "text": "nbreview.render.text",
    "json": "nbreview.render.json",
    "sarif": "nbreview.render.sarif",
    "github": "nbreview.render.github",
    "markdown": "nbreview.render.markdown",
    "html": "nbreview.render.html",
}


@dataclass
class RenderContext:
    lang: str = "ru"
    color: bool | None = None  # None: decide from the terminal
    fail_on: str = "warning"
    extra: dict = field(default_factory=dict)  # "total": how many notebooks the run has


def module(fmt: str) -> ModuleType:
    return importlib.import_module(FORMATS[fmt])


def renderer(fmt: str) -> Callable[[RunReport, RenderContext], str]:
    return module(fmt).render  # type: ignore[no-any-return]


class Sink:
    """Writes a document to `out` notebook by notebook; `close()` ends it."""

    def __init__(self, out: TextIO, ctx: RenderContext) -> None:
        self.out = out
        self.ctx = ctx
        self.summaries: list[NotebookSummary] = []

    def add(self, summary: NotebookSummary, piece: Any) -> None:
        self.summaries.append(summary)
        self.write(summary, piece)

    def write(self, summary: NotebookSummary, piece: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CohortSink(Sink):
    """A document for one notebook (its review, as it comes) or several: then the cohort summary,
    known only at the end, comes first, so the reviews wait in a temporary file meanwhile."""

    separator = ""  # written before each review of a cohort

    def __init__(self, out: TextIO, ctx: RenderContext) -> None:
        super().__init__(out, ctx)
        self.single = ctx.extra.get("total", 1) <= 1
        self.spool: Any = None

    def write(self, summary: NotebookSummary, piece: Any) -> None:
        if self.single:
            self.out.write(piece)
            return
        if self.spool is None:
            import tempfile

            self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        from ..notebook import scrub

        self.spool.write(scrub(self.separator + piece))

    def close(self) -> None:
        if self.single:
            return
        head, tail = self.frame()
        self.out.write(head)
        if self.spool is not None:
            import shutil

            self.spool.seek(0)
            shutil.copyfileobj(self.spool, self.out)
            self.spool.close()
        self.out.write(tail)

    def frame(self) -> tuple[str, str]:
        """What comes before and after the reviews of a cohort."""
        raise NotImplementedError


def render_with(mod: ModuleType, run: RunReport, ctx: RenderContext) -> str:
    """A whole document in one string: every notebook's piece through the format's Sink."""
    import io

    buf = io.StringIO()
    ctx.extra.setdefault("total", len(run.notebooks))
    sink = mod.Sink(buf, ctx)
    for i, nb in enumerate(run.notebooks):
        sink.add(summarize(nb), mod.piece(nb, ctx, i))
    sink.close()
    return buf.getvalue()


# --- JSON documents written in parts ---------------------------------------------------

MARK = "\x00nbreview-items\x00"


def split_json(doc: dict[str, Any]) -> tuple[str, str, str]:
    """`json.dumps(doc, indent=2)` cut around the list that holds MARK: (head, indent, tail).
    Items dumped with `indent_json(item, indent)` between them give exactly the whole dump."""
    text = _json.dumps(doc, ensure_ascii=False, indent=2)
    marker = _json.dumps(MARK)
    at = text.index(marker)
    line_start = text.rindex("\n", 0, at) + 1
    return text[:line_start], text[line_start:at], text[at + len(marker):]


def indent_json(item: Any, indent: str) -> str:
    # JSON strings hold no raw newline: every "\n" of the dump is a line break of the layout
    return indent + _json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)


# --- untrusted text ------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible_controls(text: str) -> str:
    """Control characters (an ANSI escape, a bell, a carriage return) shown, not obeyed: C0 as
    their Unicode pictures (ESC -> ␛), DEL and C1 as U+FFFD. Tabs and newlines stay."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: chr(0x2400 + ord(m.group())) if m.group() < "\x20" else "\ufffd", text)


def shown_path(path: str) -> str:
    """A file name as text that can be written anywhere: bytes that are not UTF-8 (kept by
    Python as lone surrogates) become U+FFFD, control characters become visible."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        import os

        try:
            path = os.fsencode(path).decode("utf-8", "replace")
        except UnicodeEncodeError:
            pass
        path = re.sub("[\ud800-\udfff]", "\ufffd", path)
    return visible_controls(path)

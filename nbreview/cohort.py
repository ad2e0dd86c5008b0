"""The cohort: many notebooks at once. A summary (students x findings by severity, how many
notebooks have each mistake) and one report file per notebook, with safe unique names."""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from . import catalog as cat
from .model import SEVERITY_RANK, NotebookSummary, RunReport, summarize
from .plural import count
from .render import shown_path

RESERVED = {"index", "con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
MAX_NAME = 80


@dataclass
class Row:
    path: str
    href: str
    counts: dict[str, int]
    total: int
    unreadable: bool
    summary: str


@dataclass
class Bar:
    rule: str
    code: str
    title: str
    severity: str
    notebooks: int
    blocks: int = 0


@dataclass
class Cohort:
    rows: list[Row]
    bars: list[Bar]
    notebooks: int
    summary: str
    files: list[str] = field(default_factory=list)


def report_names(paths: list[str], ext: str) -> list[str]:
    """One safe, unique file name per notebook (no separators, no dot files, no `index`)."""
    common = _common_parent(paths)
    taken: set[str] = set()
    out = []
    for p in paths:
        try:
            rel = PurePath(os.path.relpath(p, common)) if common else PurePath(p)
        except ValueError:
            rel = PurePath(p)
        parts = [x for x in rel.with_suffix("").parts if x not in ("..", ".", "/", "\\")] or ["notebook"]
        stem = safe_stem("__".join(parts))
        name, n = stem, 1
        while name.lower() in taken or name.lower() in RESERVED:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.lower())
        out.append(name + ext)
    return out


def safe_stem(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE).strip("._-") or "notebook"
    return text[:MAX_NAME].rstrip("._-") or "notebook"


def _common_parent(paths: list[str]) -> str:
    parents = [os.path.dirname(os.path.abspath(p)) for p in paths]
    if not parents:
        return ""
    try:
        return os.path.commonpath(parents)
    except ValueError:
        return ""


def build_cohort(run: RunReport | list[NotebookSummary], lang: str, hrefs: list[str]) -> Cohort:
    """The cohort summary, from the notebooks' compact summaries (a batch keeps only those)."""
    summaries = [summarize(nb) for nb in run.notebooks] if isinstance(run, RunReport) else run
    rules = cat.catalog()
    rows = []
    for nb, href in zip(summaries, hrefs):
        rows.append(Row(shown_path(nb.path), href, dict(nb.remarks), sum(nb.remarks.values()),
                        nb.unreadable and not nb.cells, row_summary(nb, lang)))
    rows.sort(key=lambda r: (-r.counts["error"], -r.total, r.path))
    per_rule: dict[str, int] = {}
    severity: dict[str, str] = {}
    for nb in summaries:
        for rule in nb.by_rule:
            per_rule[rule] = per_rule.get(rule, 0) + 1
            severity.setdefault(rule, nb.rule_severity.get(rule, "advice"))
    bars = []
    for slug, n in per_rule.items():
        info = rules.get(slug)
        bars.append(Bar(slug, info.code if info else "", info.text(info.title, lang) if info else slug,
                        severity[slug], n))
    bars.sort(key=lambda b: (-b.notebooks, SEVERITY_RANK.get(b.severity, 3), b.rule))
    total_nb = len(summaries)
    for b in bars:
        b.blocks = max(1, round(20 * b.notebooks / total_nb)) if total_nb else 0
    findings = sum(r.total for r in rows)
    unreadable = sum(1 for r in rows if r.unreadable)
    summary = f"{count(total_nb, 'notebook', lang)}, {count(findings, 'finding', lang)}"
    if unreadable:
        summary += f"; {count(unreadable, 'unreadable', lang)}"
    return Cohort(rows, bars, total_nb, summary)


def row_summary(nb: NotebookSummary, lang: str) -> str:
    """"3 замечания (1 ошибка, 2 совета)"; "не удалось прочитать" for a file that could not be read."""
    from .mentor import summary_line

    return summary_line(nb.remarks, lang, nb.unreadable and not nb.cells)


CHART = {"width": 720, "label": 330, "bar": 300, "row": 24,
         "colors": {"error": "#b3261e", "warning": "#9a6700", "advice": "#0b6bcb"}}


def write_reports(run: RunReport, outdir: Path, fmt: str, lang: str) -> list[Path]:
    """Write one report per notebook and an index into `outdir`; never a path outside it."""
    from .render import RenderContext, module

    ctx = RenderContext(lang=lang, extra={"total": len(run.notebooks)})
    sink = ReportFolder(outdir, fmt, ctx, [nb.path for nb in run.notebooks])
    mod = module(fmt)
    for i, nb in enumerate(run.notebooks):
        sink.add(summarize(nb), mod.page(nb, ctx, i))
    sink.close()
    return sink.written


class ReportFolder:
    """`--output DIR` for html/markdown: one page per notebook as it comes, the index at the end.

    Pages are written to a temporary file in the folder and renamed over their name, so a
    symbolic link planted in the folder under a report's name is replaced, never followed."""

    def __init__(self, outdir: Path, fmt: str, ctx, paths: list[str]) -> None:
        self.ext = ".html" if fmt == "html" else ".md"
        self.fmt = fmt
        self.ctx = ctx
        outdir.mkdir(parents=True, exist_ok=True)
        self.root = outdir.resolve()
        self.names = report_names(paths, self.ext)
        self.summaries: list[NotebookSummary] = []
        self.written: list[Path] = []

    def add(self, summary: NotebookSummary, page: str) -> None:
        name = self.names[len(self.summaries)]
        self.summaries.append(summary)
        target = self.root / name
        if target.parent != self.root:  # pragma: no cover - names have no separators; belt and braces
            raise ValueError(f"refusing to write outside {self.root}: {name}")
        write_text_replacing(target, page)
        self.written.append(target)

    def close(self) -> None:
        from .render.html import render_cohort_index
        from .render.markdown import render_cohort_md

        names = self.names[:len(self.summaries)]
        lang = self.ctx.lang
        text = render_cohort_index(self.summaries, lang, names) if self.fmt == "html" else \
            render_cohort_md(self.summaries, lang, names)
        index = self.root / ("index" + self.ext)
        write_text_replacing(index, text)
        self.written.append(index)


def write_text_replacing(target: Path, text: str) -> None:
    """Write a file by renaming a finished temporary file over it: a symbolic link (or anything
    else) at `target` is replaced, never written through."""
    import tempfile

    from .notebook import scrub

    fd, tmp = tempfile.mkstemp(prefix=".nbreview-", suffix=".tmp", dir=str(target.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(scrub(text))
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""The cohort: many notebooks at once. A summary (students x findings by severity, how many
notebooks have each mistake) and one report file per notebook, with safe unique names."""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from . import catalog as cat
from .model import SEVERITY_RANK, NotebookReport, RunReport
from .plural import count

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


def build_cohort(run: RunReport, lang: str, hrefs: list[str]) -> Cohort:
    rules = cat.catalog()
    rows = []
    for nb, href in zip(run.notebooks, hrefs):
        counts = _counts(nb)
        total = sum(counts.values())
        parts = [count(n, s, lang) for s, n in counts.items() if n]
        summary = count(total, "finding", lang) + (f" ({', '.join(parts)})" if parts else "")
        rows.append(Row(nb.path, href, counts, total, nb.unreadable and not nb.cells, summary))
    rows.sort(key=lambda r: (-r.counts["error"], -r.total, r.path))
    per_rule: dict[str, set[int]] = {}
    severity: dict[str, str] = {}
    for i, nb in enumerate(run.notebooks):
        for f in nb.findings:
            per_rule.setdefault(f.rule, set()).add(i)
            severity.setdefault(f.rule, f.severity)
    bars = []
    for slug, idx in per_rule.items():
        info = rules.get(slug)
        bars.append(Bar(slug, info.code if info else "", info.text(info.title, lang) if info else slug,
                        severity[slug], len(idx)))
    bars.sort(key=lambda b: (-b.notebooks, SEVERITY_RANK.get(b.severity, 3), b.rule))
    total_nb = len(run.notebooks)
    for b in bars:
        b.blocks = max(1, round(20 * b.notebooks / total_nb)) if total_nb else 0
    findings = sum(r.total for r in rows)
    unreadable = sum(1 for r in rows if r.unreadable)
    summary = f"{count(total_nb, 'notebook', lang)}, {count(findings, 'finding', lang)}"
    if unreadable:
        summary += f"; {count(unreadable, 'unreadable', lang)}"
    return Cohort(rows, bars, total_nb, summary)


def _counts(nb: NotebookReport) -> dict[str, int]:
    """Remarks by severity, as each review's header counts them."""
    from .mentor import review_counts

    return review_counts(nb)


CHART = {"width": 720, "label": 330, "bar": 300, "row": 24,
         "colors": {"error": "#b3261e", "warning": "#9a6700", "advice": "#0b6bcb"}}


def write_reports(run: RunReport, outdir: Path, fmt: str, lang: str) -> list[Path]:
    """Write one report per notebook and an index into `outdir`; never a path outside it."""
    from .render.html import render_cohort_page, render_review_page
    from .render.markdown import render_cohort_md, render_review_md

    ext = ".html" if fmt == "html" else ".md"
    outdir.mkdir(parents=True, exist_ok=True)
    root = outdir.resolve()
    names = report_names([nb.path for nb in run.notebooks], ext)
    written = []
    for nb, name in zip(run.notebooks, names):
        target = (root / name).resolve()
        if target.parent != root:  # pragma: no cover - names have no separators; belt and braces
            raise ValueError(f"refusing to write outside {root}: {name}")
        text = render_review_page(nb, lang) if fmt == "html" else render_review_md(nb, lang)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    index = root / ("index" + ext)
    text = render_cohort_page(run, lang, names, embed=False) if fmt == "html" else \
        render_cohort_md(run, lang, names, embed=False)
    index.write_text(text, encoding="utf-8")
    written.append(index)
    return written

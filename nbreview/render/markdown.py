"""`--format markdown`: GitHub-flavoured markdown for pull-request comments and job summaries.

One notebook gives its review; several give the cohort summary, then each review folded
in a `<details>` block (a batch spools the blocks and writes the summary first at the end).
"""
from __future__ import annotations

import re
from urllib.parse import quote

from ..model import NotebookReport, NotebookSummary, RunReport, summarize
from . import CohortSink, RenderContext, render_with, shown_path

MARK = {"ru": "здесь", "en": "here"}


def render(run: RunReport, ctx: RenderContext) -> str:
    from . import module

    return render_with(module("markdown"), run, ctx)


def render_review_md(nb: NotebookReport, lang: str, level: int = 2) -> str:
    from ..mentor import build_review
    from .templating import render_template

    text = render_template("review.md.j2", rv=build_review(nb, lang), level=level, mark=MARK.get(lang, "here"))
    return _tidy(text)


def render_cohort_md(run: RunReport | list[NotebookSummary], lang: str, names: list[str] | None = None) -> str:
    """The cohort summary: a table of the notebooks (linking to `names`, else to the reviews below)."""
    from ..cohort import build_cohort
    from ..mentor import LABELS
    from .templating import render_template

    summaries = [summarize(nb) for nb in run.notebooks] if isinstance(run, RunReport) else run
    hrefs = [quote(n) for n in names] if names else [f"#nb{i + 1}" for i in range(len(summaries))]
    cohort = build_cohort(summaries, lang, hrefs)
    text = render_template("cohort.md.j2", cohort=cohort, L=LABELS.get(lang, LABELS["en"]))
    return _tidy(text)


def details(nb: NotebookReport, lang: str, index: int) -> str:
    """One review folded under its notebook's name, as the cohort document lists them."""
    from ..cohort import row_summary
    from .templating import md_text

    head = f"{md_text(shown_path(nb.path))} — {row_summary(summarize(nb), lang)}"
    return f'<details id="nb{index + 1}"><summary>{head}</summary>\n\n{render_review_md(nb, lang, level=3)}\n</details>\n'


def piece(nb: NotebookReport, ctx: RenderContext, index: int) -> str:
    if ctx.extra.get("total", 1) <= 1:
        return render_review_md(nb, ctx.lang)
    return details(nb, ctx.lang, index)


def page(nb: NotebookReport, ctx: RenderContext, index: int) -> str:
    """The page of one notebook in `--output DIR`."""
    return render_review_md(nb, ctx.lang)


class Sink(CohortSink):
    separator = "\n"

    def frame(self) -> tuple[str, str]:
        return render_cohort_md(self.summaries, self.ctx.lang), ""


def _tidy(text: str) -> str:
    """No runs of blank lines (templates are easier to read with some), one final newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

"""`--format html`: one self-contained page (inline CSS, no scripts, fonts or CDNs).

One notebook gives its review; several give the cohort summary followed by every review
in the same file (a batch spools the reviews and writes the summary first at the end).
`nbreview check DIR --format html --output reports/` writes one page per notebook plus
`index.html` (see nbreview.cohort.ReportFolder).
"""
from __future__ import annotations

from urllib.parse import quote

from .. import __version__
from ..model import NotebookReport, NotebookSummary, RunReport, summarize
from . import CohortSink, RenderContext, render_with

REVIEWS = "<!--nbreview:reviews-->\n"  # where the reviews go in cohort.html.j2


def render(run: RunReport, ctx: RenderContext) -> str:
    from . import module

    return render_with(module("html"), run, ctx)


def render_review_page(nb: NotebookReport, lang: str) -> str:
    from ..mentor import build_review
    from .templating import pygments_css, render_template

    return render_template("review.html.j2", rv=build_review(nb, lang), version=__version__,
                           pygments_css=pygments_css())


def _cohort_page(summaries: list[NotebookSummary], lang: str, hrefs: list[str]) -> tuple[str, str]:
    """The cohort page around its reviews: (head, tail)."""
    from ..cohort import CHART, build_cohort
    from ..mentor import LABELS
    from .templating import pygments_css, render_template

    cohort = build_cohort(summaries, lang, hrefs)
    chart = dict(CHART, height=max(1, len(cohort.bars)) * CHART["row"])
    page = render_template("cohort.html.j2", cohort=cohort, L=LABELS.get(lang, LABELS["en"]),
                           lang=lang, chart=chart, version=__version__, pygments_css=pygments_css())
    head, _, tail = page.partition(REVIEWS)
    return head, tail


def render_cohort_index(run: RunReport | list[NotebookSummary], lang: str, names: list[str]) -> str:
    """The index page of `--output DIR`: the cohort, linking to each notebook's page."""
    summaries = [summarize(nb) for nb in run.notebooks] if isinstance(run, RunReport) else run
    head, tail = _cohort_page(summaries, lang, [quote(n) for n in names])
    return head + tail


def piece(nb: NotebookReport, ctx: RenderContext, index: int) -> str:
    if ctx.extra.get("total", 1) <= 1:
        return render_review_page(nb, ctx.lang)
    from ..mentor import build_review
    from .templating import render_template

    return render_template("_cohort_review.html.j2", rv=build_review(nb, ctx.lang), prefix=f"nb{index + 1}-")


def page(nb: NotebookReport, ctx: RenderContext, index: int) -> str:
    """The page of one notebook in `--output DIR`."""
    return render_review_page(nb, ctx.lang)


class Sink(CohortSink):
    def frame(self) -> tuple[str, str]:
        hrefs = [f"#nb{i + 1}-review" for i in range(len(self.summaries))]
        return _cohort_page(self.summaries, self.ctx.lang, hrefs)

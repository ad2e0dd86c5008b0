"""`--format html`: one self-contained page (inline CSS, no scripts, fonts or CDNs).

One notebook gives its review; several give the cohort summary followed by every review
in the same file. `nbreview check DIR --format html --output reports/` writes one page per
notebook plus `index.html` (see nbreview.cohort.write_reports).
"""
from __future__ import annotations

from urllib.parse import quote

from .. import __version__
from ..model import NotebookReport, RunReport
from . import RenderContext


def render(run: RunReport, ctx: RenderContext) -> str:
    if len(run.notebooks) == 1:
        return render_review_page(run.notebooks[0], ctx.lang)
    return render_cohort_page(run, ctx.lang, None, embed=True)


def render_review_page(nb: NotebookReport, lang: str) -> str:
    from ..mentor import build_review
    from .templating import pygments_css, render_template

    return render_template("review.html.j2", rv=build_review(nb, lang), version=__version__,
                           pygments_css=pygments_css())


def render_cohort_page(run: RunReport, lang: str, names: list[str] | None, embed: bool) -> str:
    from ..cohort import CHART, build_cohort
    from ..mentor import LABELS, build_review
    from .templating import pygments_css, render_template

    hrefs = [quote(n) for n in names] if names else [f"#nb{i + 1}-review" for i in range(len(run.notebooks))]
    cohort = build_cohort(run, lang, hrefs)
    reviews = [build_review(nb, lang) for nb in run.notebooks] if embed else []
    chart = dict(CHART, height=max(1, len(cohort.bars)) * CHART["row"])
    return render_template("cohort.html.j2", cohort=cohort, reviews=reviews, L=LABELS.get(lang, LABELS["en"]),
                           lang=lang, chart=chart, version=__version__, pygments_css=pygments_css())

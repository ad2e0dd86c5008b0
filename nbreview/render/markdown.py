"""`--format markdown`: GitHub-flavoured markdown for pull-request comments and job summaries.

One notebook gives its review; several give the cohort summary, then each review folded
in a `<details>` block.
"""
from __future__ import annotations

from urllib.parse import quote

from ..model import NotebookReport, RunReport
from . import RenderContext

MARK = {"ru": "здесь", "en": "here"}


def render(run: RunReport, ctx: RenderContext) -> str:
    if len(run.notebooks) == 1:
        return render_review_md(run.notebooks[0], ctx.lang)
    return render_cohort_md(run, ctx.lang, None, embed=True)


def render_review_md(nb: NotebookReport, lang: str, level: int = 2) -> str:
    from ..mentor import build_review
    from .templating import render_template

    text = render_template("review.md.j2", rv=build_review(nb, lang), level=level, mark=MARK.get(lang, "here"))
    return _tidy(text)


def render_cohort_md(run: RunReport, lang: str, names: list[str] | None, embed: bool) -> str:
    from ..cohort import build_cohort
    from ..mentor import LABELS
    from .templating import render_template

    hrefs = [quote(n) for n in names] if names else [f"#nb{i + 1}" for i in range(len(run.notebooks))]
    cohort = build_cohort(run, lang, hrefs)
    by_path = {r.path: r for r in cohort.rows}
    rows = [by_path[nb.path] for nb in run.notebooks] if embed else []
    reviews = [render_review_md(nb, lang, level=3) for nb in run.notebooks] if embed else []
    text = render_template("cohort.md.j2", cohort=cohort, reviews=reviews, rows=rows,
                           L=LABELS.get(lang, LABELS["en"]))
    return _tidy(text)


def _tidy(text: str) -> str:
    """No runs of blank lines (templates are easier to read with some), one final newline."""
    import re

    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

"""`nbreview.review("student.ipynb")`: the review as an object, for use inside Jupyter.

The result shows the HTML review when it is the last expression of a cell (`_repr_html_`)
and gives the data: `.findings`, `.praise`, `.questions`, `.checklist`, `.errors`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import ChecklistItem, Finding, NotebookError, NotebookReport, Praise


@dataclass
class ReviewResult:
    report: NotebookReport
    lang: str = "ru"

    @property
    def path(self) -> str:
        return self.report.path

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    @property
    def praise(self) -> list[Praise]:
        return self.report.praise

    @property
    def questions(self) -> list[Praise]:
        return self.report.questions

    @property
    def checklist(self) -> list[ChecklistItem]:
        return self.report.checklist

    @property
    def errors(self) -> list[NotebookError]:
        return self.report.errors

    def to_html(self) -> str:
        from .render.html import render_review_page

        return render_review_page(self.report, self.lang)

    def to_markdown(self) -> str:
        from .render.markdown import render_review_md

        return render_review_md(self.report, self.lang)

    def to_text(self) -> str:
        from .model import RunReport
        from .render import RenderContext
        from .render.text import render

        return render(RunReport([self.report], self.lang), RenderContext(lang=self.lang, color=False))

    def _repr_html_(self) -> str:
        # Jupyter shows this inside the output area: an iframe keeps the page's CSS from leaking into
        # the notebook's and the notebook's from restyling the review; srcdoc needs no file or server.
        import html

        page = self.to_html()
        return (f'<iframe title="nbreview" srcdoc="{html.escape(page, quote=True)}" '
                f'style="width:100%;height:640px;border:1px solid #d1d9e0;border-radius:6px" '
                f'sandbox=""></iframe>')

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        counts = {s: sum(1 for f in self.findings if f.severity == s) for s in ("error", "warning", "advice")}
        return f"<nbreview review of {self.path!r}: {len(self.findings)} findings {counts}>"


def review(path: str | Path, lang: str = "ru", select: set[str] | None = None,
           ignore: set[str] | None = None) -> ReviewResult:
    """Review one notebook statically (its code is never run)."""
    from .engine import Options, review_path

    options = Options(select=select, ignore=set(ignore or ()), langs=("ru", "en"))
    return ReviewResult(review_path(path, options), lang if lang in ("ru", "en") else "en")

"""`--format json`: the versioned v1 contract documented in the README."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .. import __version__
from ..model import NotebookReport, NotebookSummary, RunReport
from . import MARK, RenderContext, Sink, indent_json, render_with, split_json

SCHEMA_VERSION = 1


def notebook_json(nb: NotebookReport, lang: str) -> dict[str, Any]:
    findings = []
    for f in nb.findings:
        loc = f.location.to_json()
        item: dict[str, Any] = {
            "rule": f.rule,
            "code": f.code,
            "severity": f.severity,
            "cell": loc["cell"],
            "cell_id": loc["cell_id"],
            "line": loc["line"],
            "column": loc["column"],
            "end_line": loc["end_line"],
            "file_line": loc["file_line"],
            "execution_count": f.location.execution_count,
            "message": f.message(lang),
            "related": [r.to_json() for r in f.related],
            "fix": None if f.fix is None else {"safe": f.fix.safe, "description": f.fix.description.get(lang, "")},
        }
        verified = [e for e in f.evidence if e.kind != "output"]
        if verified:  # only with `check --evidence`: what nbreview verify measured
            e = verified[0]
            item["verification"] = {**e.data, "status": "verified" if e.kind in ("training", "static") else
                                    "not_verified", "kind": e.kind, "message": e.message(lang)}
        findings.append(item)
    return {
        "path": nb.path,  # exact; a name that is not UTF-8 gets U+FFFD where the output is written
        "framework": nb.framework,
        "findings": findings,
        "praise": [{"rule": p.rule, "cell": p.location.cell, "line": p.location.line, "message": p.message(lang)}
                   for p in nb.praise],
        "checklist": [{"task": c.task, "done": c.done, "cell": c.cell, "status": c.status,
                       "rules": list(dict.fromkeys(f.rule for f in c.findings))} for c in nb.checklist],
        "errors": [e.to_json(lang) for e in nb.errors],
    }


def summary_json(summaries: list[NotebookSummary]) -> dict[str, Any]:
    by_rule: Counter[str] = Counter()
    for s in summaries:
        by_rule.update(s.by_rule)
    return {
        "notebooks": len(summaries),
        "findings": sum(by_rule.values()),
        "errors": sum(1 for s in summaries if s.unreadable),
        "by_rule": dict(sorted(by_rule.items())),
    }


def _document(notebooks: list[Any], summaries: list[NotebookSummary]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "nbreview", "version": __version__},
        "notebooks": notebooks,
        "summary": summary_json(summaries),
    }


def document(run: RunReport, lang: str) -> dict[str, Any]:
    from ..model import summarize

    return _document([notebook_json(nb, lang) for nb in run.notebooks], [summarize(nb) for nb in run.notebooks])


def piece(nb: NotebookReport, ctx: RenderContext, index: int) -> str:
    return indent_json(notebook_json(nb, ctx.lang), "    ")


class Sink(Sink):  # type: ignore[no-redef]
    def write(self, summary: NotebookSummary, piece: str) -> None:
        if len(self.summaries) == 1:
            self.out.write(split_json(_document([MARK], []))[0])
        else:
            self.out.write(",\n")
        self.out.write(piece)

    def close(self) -> None:
        if not self.summaries:
            self.out.write(json.dumps(_document([], []), ensure_ascii=False, indent=2) + "\n")
            return
        self.out.write(split_json(_document([MARK], self.summaries))[2] + "\n")


def render(run: RunReport, ctx: RenderContext) -> str:
    from . import module

    return render_with(module("json"), run, ctx)

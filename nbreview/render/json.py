"""`--format json`: the versioned v1 contract documented in the README."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .. import __version__
from ..model import NotebookReport, RunReport
from . import RenderContext

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
        findings.append(item)
    return {
        "path": nb.path,
        "framework": nb.framework,
        "findings": findings,
        "praise": [{"rule": p.rule, "cell": p.location.cell, "line": p.location.line, "message": p.message(lang)}
                   for p in nb.praise],
        "checklist": [{"task": c.task, "done": c.done, "cell": c.cell, "status": c.status,
                       "rules": list(dict.fromkeys(f.rule for f in c.findings))} for c in nb.checklist],
        "errors": [e.to_json() for e in nb.errors],
    }


def document(run: RunReport, lang: str) -> dict[str, Any]:
    by_rule = Counter(f.rule for f in run.findings)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "nbreview", "version": __version__},
        "notebooks": [notebook_json(nb, lang) for nb in run.notebooks],
        "summary": {
            "notebooks": len(run.notebooks),
            "findings": sum(by_rule.values()),
            "errors": sum(1 for nb in run.notebooks if nb.unreadable),
            "by_rule": dict(sorted(by_rule.items())),
        },
    }


def render(run: RunReport, ctx: RenderContext) -> str:
    return json.dumps(document(run, ctx.lang), ensure_ascii=False, indent=2) + "\n"

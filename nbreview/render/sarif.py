"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`).

`tool.driver.rules` carries every rule of the catalog that can report (praise cannot); each result points at the physical
line of the stored .ipynb that holds the flagged source line (and the column of the code on
it, when it can be told), names the cell in its message and carries the cell position in
`properties`. `partialFingerprints["nbreviewCell/v1"]` is the baseline fingerprint (rule +
cell source + path), so code scanning tracks an alert across edits of other cells.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from .. import catalog as cat
from ..model import RunReport
from . import RenderContext
from .github import StoredFiles, cell_name, display_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "advice": "note"}
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "advice": "recommendation"}
INFORMATION_URI = "https://github.com/nbreview/nbreview"
LINE = {"ru": "строка", "en": "line"}


def _name(slug: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", slug) if part)


def _rule(info: cat.RuleInfo, lang: str) -> dict[str, Any]:
    title = info.text(info.title, lang) or info.slug
    why = info.text(info.why, lang).strip()
    fix = info.text(info.fix, lang).strip()
    help_text = "\n\n".join(p for p in (why, fix) if p) or title
    return {
        "id": info.slug,
        "name": _name(info.slug),
        "shortDescription": {"text": title},
        "fullDescription": {"text": why or title},
        "help": {"text": help_text, "markdown": help_text},
        "helpUri": f"{INFORMATION_URI}#rules",
        "defaultConfiguration": {"level": LEVEL.get(info.severity, "note")},
        "properties": {
            "code": info.code,
            "framework": info.framework,
            "consequence": info.consequence,
            "problem.severity": PROBLEM_SEVERITY.get(info.severity, "recommendation"),
            "tags": ["deep-learning", "notebook", info.framework],
        },
    }


def _uri(path: str) -> str:
    return quote(display_path(path), safe="/")


def document(run: RunReport, ctx: RenderContext) -> dict[str, Any]:
    from ..baseline import fingerprint

    lang = ctx.lang if ctx.lang in LINE else "en"
    catalog = cat.catalog()
    rules = sorted((r for r in catalog.values() if r.kind != "praise"), key=lambda r: (r.code, r.slug))
    index = {r.slug: i for i, r in enumerate(rules)}
    descriptors = [_rule(r, lang) for r in rules]
    stored = StoredFiles()
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for nb in run.notebooks:
        uri = _uri(nb.path)
        for f in nb.findings:
            loc = f.location
            where = f"{cell_name(loc.cell, loc.execution_count, lang)}, {LINE[lang]} {loc.line}"
            physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            if loc.file_line is not None:
                region: dict[str, Any] = {"startLine": loc.file_line}
                col = stored.column(nb, f)
                if col is not None:
                    region["startColumn"] = col
                physical["region"] = region
            result: dict[str, Any] = {
                "ruleId": f.rule,
                "level": LEVEL.get(f.severity, "note"),
                "message": {"text": f"{where}: {f.message(lang)}"},
                "locations": [{"physicalLocation": physical}],
                "partialFingerprints": {"nbreviewCell/v1": fingerprint(nb, f, Path.cwd())},
                "properties": {
                    "cell": loc.cell,
                    "cellId": loc.cell_id,
                    "executionCount": loc.execution_count,
                    "cellLine": loc.line,
                    "cellColumn": loc.column,
                    "cellEndLine": loc.end_line if loc.end_line is not None else loc.line,
                    "code": f.code,
                    "severity": f.severity,
                    # whether `nbreview fix` corrects it: "safe", "unsafe" (only with --unsafe-fixes) or "none"
                    "autofix": "none" if f.fix is None else ("safe" if f.fix.safe else "unsafe"),
                },
            }
            if f.rule in index:
                result["ruleIndex"] = index[f.rule]
            if f.related:
                result["relatedLocations"] = [
                    {"id": i, "physicalLocation": {"artifactLocation": {"uri": uri},
                                                   **({"region": {"startLine": r.file_line}} if r.file_line else {})},
                     "message": {"text": cell_name(r.cell, r.execution_count, lang)}}
                    for i, r in enumerate(f.related, start=1)
                ]
            results.append(result)
        for e in nb.errors:
            where_note: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            file_line = stored.file_line(nb.path, e.cell, e.line) if e.cell is not None else None
            if file_line is not None:
                where_note["region"] = {"startLine": file_line}
            note: dict[str, Any] = {
                "level": "error" if e.cell is None else "note",
                "message": {"text": e.message if e.cell is None
                            else f"{cell_name(e.cell, None, lang)}: {e.message}"},
                "locations": [{"physicalLocation": where_note}],
            }
            notifications.append(note)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "nbreview",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }},
            "invocations": [{
                "executionSuccessful": not any(nb.unreadable for nb in run.notebooks),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(run: RunReport, ctx: RenderContext) -> str:
    return json.dumps(document(run, ctx), ensure_ascii=False, indent=2) + "\n"

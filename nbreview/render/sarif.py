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
from ..model import NotebookReport, NotebookSummary, RunReport
from . import MARK, RenderContext, Sink, indent_json, render_with, split_json
from .github import StoredFiles, cell_name, workspace_path

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
    """A relative URI reference: the file name's bytes percent-encoded (they need not be UTF-8)."""
    import os

    rel = workspace_path(path)
    try:
        raw = os.fsencode(rel)
    except UnicodeEncodeError:
        raw = rel.encode("utf-8", "surrogatepass")
    return quote(raw, safe="/")


def piece(nb: NotebookReport, ctx: RenderContext, index: int) -> tuple[list[str], list[dict[str, Any]]]:
    """One notebook's results (JSON text, laid out for the document) and its notifications."""
    from ..baseline import fingerprint

    lang = ctx.lang if ctx.lang in LINE else "en"
    index_of = _rule_index()
    stored = StoredFiles()
    results: list[str] = []
    notifications: list[dict[str, Any]] = []
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
        if f.rule in index_of:
            result["ruleIndex"] = index_of[f.rule]
        if f.related:
            result["relatedLocations"] = [
                {"id": i, "physicalLocation": {"artifactLocation": {"uri": uri},
                                               **({"region": {"startLine": r.file_line}} if r.file_line else {})},
                 "message": {"text": cell_name(r.cell, r.execution_count, lang)}}
                for i, r in enumerate(f.related, start=1)
            ]
        results.append(indent_json(result, RESULT_INDENT))
    for e in nb.errors:
        where_note: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        file_line = stored.file_line(nb.path, e.cell, e.line) if e.cell is not None else None
        if file_line is not None:
            where_note["region"] = {"startLine": file_line}
        unreadable = e.cell is None and e.kind == "error"
        notifications.append({
            "level": "error" if unreadable else "note",
            "message": {"text": e.text(lang) if e.cell is None else f"{cell_name(e.cell, None, lang)}: {e.text(lang)}"},
            "locations": [{"physicalLocation": where_note}],
        })
    return results, notifications


RESULT_INDENT = " " * 8


def _rule_index() -> dict[str, int]:
    return {r.slug: i for i, r in enumerate(_rules())}


def _rules() -> list[cat.RuleInfo]:
    return sorted((r for r in cat.catalog().values() if r.kind != "praise"), key=lambda r: (r.code, r.slug))


def _document(results: list[Any], notifications: list[dict[str, Any]], successful: bool, lang: str) -> dict[str, Any]:
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "nbreview",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(r, lang) for r in _rules()],
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            # after the results: a batch writes them as it goes and knows these only at the end
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
        }],
    }


class Sink(Sink):  # type: ignore[no-redef]
    def __init__(self, out, ctx: RenderContext) -> None:
        super().__init__(out, ctx)
        self.lang = ctx.lang if ctx.lang in LINE else "en"
        self.notifications: list[dict[str, Any]] = []
        self.results = 0

    def write(self, summary: NotebookSummary, piece: tuple[list[str], list[dict[str, Any]]]) -> None:
        results, notes = piece
        if len(self.summaries) == 1:
            head, indent, _ = split_json(_document([MARK], [], True, self.lang))
            assert indent == RESULT_INDENT
            self.out.write(head)
        for text in results:
            self.out.write(",\n" if self.results else "")
            self.out.write(text)
            self.results += 1
        self.notifications.extend(notes)

    def close(self) -> None:
        successful = not any(s.unreadable for s in self.summaries)
        if not self.summaries:
            doc = _document([], self.notifications, successful, self.lang)
            self.out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            return
        _, _, tail = split_json(_document([MARK], self.notifications, successful, self.lang))
        self.out.write(tail + "\n")


def document(run: RunReport, ctx: RenderContext) -> dict[str, Any]:
    return json.loads(render(run, ctx))


def render(run: RunReport, ctx: RenderContext) -> str:
    from . import module

    return render_with(module("sarif"), run, ctx)

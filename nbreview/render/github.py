"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

    ::error file=submissions/a.ipynb,line=57,col=6,title=NBR101 checkpoint-save-best-only::cell 3 ...

Annotations point into the file as stored (the physical line of the .ipynb that holds the
flagged source line, and the column of the code on it), so they land on the pull-request
diff; the message names the cell. error -> `::error`, warning -> `::warning`,
advice -> `::notice`. GitHub shows at most 10 annotations of each type per step, so the
most important come first (severity, then the catalog's `consequence`), and a closing
summary line says how many of each type are beyond that limit.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .. import catalog as cat
from ..mentor import autofix_note
from ..model import SEVERITY_RANK, Finding, NotebookReport, RunReport
from ..plural import count
from . import RenderContext

COMMAND = {"error": "error", "warning": "warning", "advice": "notice"}
GITHUB_LIMIT = 10  # annotations of each type shown per step
LABELS = {
    "ru": {"cell": "ячейка", "line": "строка", "unreadable": "не удалось прочитать ноутбук",
           "note": "заметка", "beyond": "GitHub показывает не больше {n} аннотаций каждого типа на шаг; "
                                       "не показаны как аннотации: {rest} (полный отчёт — в сводке задания)"},
    "en": {"cell": "cell", "line": "line", "unreadable": "could not read the notebook",
           "note": "note", "beyond": "GitHub shows at most {n} annotations of each type per step; "
                                     "not shown as annotations: {rest} (the full review is in the job summary)"},
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: object) -> str:
    parts = [f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None]
    head = f"::{kind} " + ",".join(parts) if parts else f"::{kind}"
    return f"{head}::{escape_data(message)}"


def display_path(path: str) -> str:
    """The path as GitHub wants it: relative to the workspace (cwd), with forward slashes."""
    p = Path(path)
    if p.is_absolute():
        base = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()
        try:
            p = p.resolve().relative_to(base)
        except ValueError:
            pass
    return p.as_posix()


# --- columns in the stored file ----------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SURROGATE_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _raw_offset(token: str, decoded_index: int) -> int:
    """Offset in a JSON string token (after its opening quote) of decoded character `decoded_index`."""
    i, n = 1, 0
    while n < decoded_index and i < len(token) - 1:
        if token[i] == "\\":
            if token[i + 1] == "u":
                i += 12 if _SURROGATE_PAIR.match(token, i) else 6
            else:
                i += 2
        else:
            i += 1
        n += 1
    return i


class StoredFiles:
    """Reads each annotated notebook once, to turn a cell column into a column of the file."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}
        self._positions: dict[str, list[list[int]]] = {}

    def file_line(self, path: str, cell: int, line: int | None) -> int | None:
        """Physical line of a cell's source line (for notes, which carry no Location)."""
        if path not in self._positions:
            from ..notebook import source_positions

            lines = self.lines(path)
            self._positions[path] = source_positions("\n".join(lines), 4) if lines is not None else []
        positions = self._positions[path]
        if not 0 <= cell < len(positions) or not positions[cell]:
            return None
        at = positions[cell]
        return at[min(max(line or 1, 1), len(at)) - 1]

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            try:
                self._lines[path] = Path(path).read_text(encoding="utf-8-sig").split("\n")
            except (OSError, UnicodeDecodeError):
                self._lines[path] = None
        return self._lines[path]

    def column(self, nb: NotebookReport, f: Finding) -> int | None:
        """1-based column in the stored file of the finding's code, or None if it cannot be told."""
        loc = f.location
        cell = nb.cell(loc.cell)
        lines = self.lines(nb.path)
        if cell is None or loc.file_line is None or lines is None or not 0 < loc.file_line <= len(lines):
            return None
        src_lines = cell.source.split("\n")
        if not 0 < loc.line <= len(src_lines):
            return None
        target = src_lines[loc.line - 1]
        physical = lines[loc.file_line - 1]
        for m in _STRING.finditer(physical):
            try:
                decoded = json.loads(m.group(0))
            except json.JSONDecodeError:
                continue
            segs = decoded.replace("\r\n", "\n").split("\n")
            # a source stored as one string holds every line; a list holds one line per string
            for j in (loc.line - 1, 0):
                if j < len(segs) and segs[j] == target:
                    index = sum(len(s) + 1 for s in segs[:j]) + max(loc.column - 1, 0)
                    return m.start() + _raw_offset(m.group(0), index) + 1
        return None


# --- ordering and rendering --------------------------------------------------------------

def importance(f: Finding, rules: dict[str, cat.RuleInfo]) -> tuple[int, int]:
    info = rules.get(f.rule)
    return SEVERITY_RANK.get(f.severity, 3), -(info.consequence if info else 50)


def cell_name(index: int, execution_count: int | None, lang: str) -> str:
    prompt = f"In [{execution_count}]" if execution_count is not None else "In [ ]"
    return f"{LABELS[lang]['cell']} {index + 1}, {prompt}"


def render(run: RunReport, ctx: RenderContext) -> str:
    lang = ctx.lang if ctx.lang in LABELS else "en"
    L = LABELS[lang]
    rules = cat.catalog()
    stored = StoredFiles()
    items: list[tuple[tuple, str, str]] = []  # (order, type, command line)
    for nb in run.notebooks:
        path = display_path(nb.path)
        for e in nb.errors:
            if e.cell is None:
                items.append(((-1, 0, path), "error",
                              command("error", f"{L['unreadable']}: {e.message}", file=path, title="nbreview")))
            else:
                msg = f"{cell_name(e.cell, None, lang)}: {e.message}"
                items.append(((9, 0, path, e.cell, e.line or 0), "notice",
                              command("notice", msg, file=path, line=stored.file_line(nb.path, e.cell, e.line),
                                      title=f"nbreview {L['note']}")))
        for f in nb.findings:
            info = rules.get(f.rule)
            title = f"{f.code} {f.rule}" + (f": {info.text(info.title, lang)}" if info else "")
            loc = f.location
            where = f"{cell_name(loc.cell, loc.execution_count, lang)}, {L['line']} {loc.line}"
            kind = COMMAND.get(f.severity, "notice")
            fixable = f" {autofix_note([f], lang)}" if f.fix is not None else ""
            line = command(kind, f"{where}: {f.message(lang)}{fixable}", file=path, line=loc.file_line,
                           col=stored.column(nb, f) if loc.file_line else None, title=title)
            items.append(((*importance(f, rules), path, loc.cell, loc.line, loc.column), kind, line))
    items.sort(key=lambda it: it[0])
    out = [line for _, _, line in items]
    out.append(summary(run, items, lang))
    return "\n".join(out) + "\n"


def summary(run: RunReport, items: list[tuple[tuple, str, str]], lang: str) -> str:
    findings = run.findings
    text = f"nbreview: {count(len(run.notebooks), 'notebook', lang)}, {count(len(findings), 'finding', lang)}"
    by_sev = [count(n, s, lang) for s in ("error", "warning", "advice")
              if (n := sum(1 for f in findings if f.severity == s))]
    if by_sev:
        text += " (" + ", ".join(by_sev) + ")"
    beyond = []
    for kind in ("error", "warning", "notice"):
        n = sum(1 for _, k, _ in items if k == kind)
        if n > GITHUB_LIMIT:
            beyond.append(f"{n - GITHUB_LIMIT} {kind}")
    if beyond:
        text += ". " + LABELS[lang]["beyond"].format(n=GITHUB_LIMIT, rest=", ".join(beyond))
    return text

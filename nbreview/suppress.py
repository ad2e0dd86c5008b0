"""Suppression comments in a notebook's code cells.

- `# nbreview: ignore[slug, other-slug]` at the end of (or on) a line: those rules are not
  reported for a finding on that line (for a statement over several lines, any of its
  lines will do).
- The same comment as the first line of a cell (after a `%%` cell magic, if any): those
  rules are not reported anywhere in the cell.
- `# nbreview: ignore` without slugs: every rule, on that line only (never a whole cell).

A suppression naming an unknown rule, or one that hides nothing, is reported as a note:
a NotebookError(kind="note") in the report's `errors`, with its cell and line (in the
JSON output: an `errors` entry with a cell number, as for a cell that does not parse).
A suppression of a rule that is switched off (select/ignore/config) is not "unused".
"""
from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field

from .model import CellView, NotebookError, NotebookReport

MARKER = "nbreview:"
_COMMENT = re.compile(r"#\s*nbreview:\s*ignore\b(?:\s*\[(?P<slugs>[^\]]*)\])?", re.IGNORECASE)
_UNTERMINATED = re.compile(r"\s*\[[^\]]*$")


@dataclass
class Suppression:
    cell: int
    line: int  # 1-based within the cell
    slugs: frozenset[str] | None  # None: every rule (bare `ignore`)
    whole_cell: bool = False
    unterminated: bool = False  # `# nbreview: ignore[slug` without `]`: suppresses nothing
    used: set[str] = field(default_factory=set)

    def covers(self, rule: str, cell: int, first: int, last: int) -> bool:
        if self.unterminated or cell != self.cell or (self.slugs is not None and rule not in self.slugs):
            return False
        return self.whole_cell or first <= self.line <= last


def _comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of the comments of a cell; a regex fallback when it does not tokenize."""
    from .ipython import mask

    masked = mask(source)
    text = masked.source if masked.skipped is None else source
    try:
        return [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(io.StringIO(text).readline)
                if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = []
        for n, line in enumerate(source.split("\n"), start=1):
            at = line.find("#")
            if at >= 0:
                out.append((n, line[at:]))
        return out


def _first_line(source: str) -> int:
    """The line that may suppress a whole cell: the first one that is not blank or a %% magic."""
    for n, line in enumerate(source.split("\n"), start=1):
        s = line.strip()
        if s and not s.startswith("%%"):
            return n
    return 0


def find(cells: list[CellView]) -> list[Suppression]:
    out: list[Suppression] = []
    for cell in cells:
        if cell.cell_type != "code" or MARKER not in cell.source.lower():
            continue
        lines = cell.source.split("\n")
        first = _first_line(cell.source)
        for line, comment in _comments(cell.source):
            m = _COMMENT.search(comment)
            if not m:
                continue
            raw = m.group("slugs")
            if raw is None and _UNTERMINATED.match(comment, m.end()):
                out.append(Suppression(cell.index, line, frozenset(), unterminated=True))
                continue
            slugs = None if raw is None else frozenset(s.strip() for s in raw.split(",") if s.strip())
            comment_only = lines[line - 1].strip().startswith("#") if line <= len(lines) else False
            whole = line == first and comment_only and slugs is not None
            out.append(Suppression(cell.index, line, slugs, whole))
    return out


def apply(report: NotebookReport, known: set[str], enabled: Callable[[str], bool]) -> list[Suppression]:
    """Drop suppressed findings from the report, and add notes for unknown or unused suppressions."""
    sups = find(report.cells)
    if not sups:
        return sups
    kept = []
    for f in report.findings:
        loc = f.location
        hit = [s for s in sups if s.covers(f.rule, loc.cell, loc.line, loc.end_line or loc.line)]
        for s in hit:
            s.used.add(f.rule)
        if not hit:
            kept.append(f)
    report.findings = kept
    for s in sups:
        where = "cell" if s.whole_cell else "line"
        if s.unterminated:
            report.errors.append(NotebookError.of("suppress_unterminated", s.cell, s.line, "note"))
            continue
        if s.slugs is None:
            if not s.used:
                report.errors.append(NotebookError.of("suppress_unused_bare", s.cell, s.line, "note"))
            continue
        if not s.slugs:
            report.errors.append(NotebookError.of("suppress_empty", s.cell, s.line, "note"))
        for slug in sorted(s.slugs):
            if slug not in known:
                report.errors.append(NotebookError.of("suppress_unknown", s.cell, s.line, "note", slug=slug[:80]))
            elif slug not in s.used and enabled(slug):
                report.errors.append(NotebookError.of("suppress_unused", s.cell, s.line, "note", slug=slug,
                                                      where=where))
    return sups

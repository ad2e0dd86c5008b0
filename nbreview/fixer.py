"""`nbreview fix`: apply the rules' corrections to a notebook, checked at every step.

A round takes every fixable finding (safe ones; unsafe ones too with `unsafe=True`) whose
line hunks do not overlap those already taken and whose cells still parse with them, applies
them together, and reviews the result again. The round is kept only if the re-check shows
none of the fixed findings and nothing new (findings are matched across the edit by rule,
cell and line, moved through the hunks); otherwise each of its fixes is tried alone and the
ones that misbehave are set aside with a note. Rounds repeat until nothing changes, so fixes
that touch the same lines go in one after the other, and fixing twice equals fixing once.

Nothing is written here: `FixResult.fixed` holds the new file's bytes (nbwrite.rewrite keeps
every byte outside the corrected sources), and the CLI decides where they go. A notebook
with a code cell that does not parse is left untouched: its analysis is incomplete.
"""
from __future__ import annotations

import ast
import difflib
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from .edits import apply_edits
from .engine import Options, review_notebook
from .ipython import mask
from .model import CellEdit, Finding, NotebookReport
from .notebook import Notebook, NotebookReadError, load

MAX_ROUNDS = 10


@dataclass
class AppliedFix:
    """One finding corrected by `nbreview fix`."""

    rule: str
    code: str
    cell: int  # 0-based cell index
    line: int  # the flagged line, in the cell as it was when the fix was applied
    safe: bool
    description: dict[str, str]


@dataclass
class CellDiff:
    cell: int
    execution_count: int | None
    old: str
    new: str

    def unified(self, path: str, context: int = 2) -> list[str]:
        prompt = f"In [{self.execution_count}]" if self.execution_count is not None else "In [ ]"
        name = f"{path} (cell {self.cell + 1}, {prompt})"
        return list(difflib.unified_diff(self.old.split("\n"), self.new.split("\n"),
                                         fromfile=name, tofile=f"{name}, fixed", lineterm="", n=context))


@dataclass
class FixResult:
    path: str
    original: bytes | None = None
    fixed: bytes | None = None  # the corrected file, None when nothing changed (or it could not be made)
    applied: list[AppliedFix] = field(default_factory=list)
    diffs: list[CellDiff] = field(default_factory=list)
    report: NotebookReport | None = None  # what a check of the corrected notebook finds
    notes: list[str] = field(default_factory=list)  # fixes set aside, and why
    error: str | None = None  # the notebook was left untouched (or could not be read), and why
    unsafe_left: int = 0  # findings that `--unsafe-fixes` would also correct

    @property
    def changed(self) -> bool:
        return self.fixed is not None

    @property
    def unreadable(self) -> bool:
        return self.report is None or self.report.unreadable


def _parse_error(source: str) -> str | None:
    """Why a code cell does not parse as Python 3 (IPython syntax masked), or None."""
    masked = mask(source)
    if masked.skipped is not None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(masked.source)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg or 'syntax error'}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _with_sources(nb: Notebook, sources: dict[int, str]) -> Notebook:
    cells = [replace(c, source=sources[c.index]) if c.index in sources else c for c in nb.cells]
    return replace(nb, cells=cells, raw_text="", _positions=None)


def _cell_name(nb: Notebook, index: int) -> str:
    c = nb.cells[index] if 0 <= index < len(nb.cells) else None
    prompt = f"In [{c.execution_count}]" if c is not None and c.execution_count is not None else "In [ ]"
    return f"cell {index + 1} ({prompt})"


class _Fixer:
    """The fix loop of one notebook. Every review runs all rules, so that a fix of a selected
    rule cannot slip in a finding of a rule left out by --select/--ignore; only the selected
    rules' findings are fixed."""

    def __init__(self, nb: Notebook, options: Options, unsafe: bool) -> None:
        self.nb = nb
        self.options = replace(options, select=None, ignore=set())
        self.enabled = options.enabled
        self.unsafe = unsafe
        self.rejected: set[tuple] = set()
        self.notes: list[str] = []
        self.applied: list[AppliedFix] = []
        self.rounds_left = MAX_ROUNDS

    def review(self, sources: dict[int, str]) -> NotebookReport:
        return review_notebook(_with_sources(self.nb, sources), self.options)

    def key(self, sources: dict[int, str], f: Finding) -> tuple:
        lines = sources.get(f.location.cell, "").split("\n")
        text = lines[f.location.line - 1].strip() if 0 < f.location.line <= len(lines) else ""
        return (f.rule, f.variant, f.location.cell, text)

    def candidates(self, sources: dict[int, str], report: NotebookReport) -> list[Finding]:
        return [f for f in report.findings if f.fix is not None and f.edits and (f.fix.safe or self.unsafe)
                and self.enabled(f.rule) and self.key(sources, f) not in self.rejected]

    def reject(self, sources: dict[int, str], f: Finding, why: str) -> None:
        self.rejected.add(self.key(sources, f))
        self.notes.append(f"{_cell_name(self.nb, f.location.cell)}, line {f.location.line}: "
                          f"the fix of {f.rule} was not applied: {why}")

    def take(self, sources: dict[int, str], found: list[Finding]) -> tuple[list[Finding], list[CellEdit]]:
        """The findings of one round: non-overlapping hunks, every touched cell still parses."""
        taken: list[Finding] = []
        hunks: list[CellEdit] = []
        for f in sorted(found, key=lambda f: f.sort_key):
            if any(h.overlaps(t) for h in f.edits for t in hunks):
                continue  # waits for the next round, re-made against the corrected cell
            trial = hunks + list(f.edits)
            broken = next((c for c in sorted({h.cell for h in f.edits})
                           if c not in sources or _parse_error(apply_edits(sources[c], [h for h in trial if h.cell == c]))),
                          None)
            if broken is not None:
                self.reject(sources, f, f"{_cell_name(self.nb, broken)} would not parse after it")
                continue
            taken.append(f)
            hunks = trial
        return taken, hunks

    def run(self, sources: dict[int, str], report: NotebookReport) -> tuple[dict[int, str], NotebookReport]:
        while self.rounds_left > 0:
            found = self.candidates(sources, report)
            if not found:
                break
            taken, hunks = self.take(sources, found)
            if not taken:
                break
            self.rounds_left -= 1
            new_sources = _applied(sources, hunks)
            new_report = self.review(new_sources)
            problem = _compare(report, new_report, hunks, taken)
            if problem is None:
                self._record(taken)
                sources, report = new_sources, new_report
                continue
            if len(taken) == 1:
                self.reject(sources, taken[0], problem)
                continue
            # one of them misbehaves: try each alone, keep the first that checks out
            for f in taken:
                alone = _applied(sources, list(f.edits))
                alone_report = self.review(alone)
                why = _compare(report, alone_report, list(f.edits), [f])
                if why is None:
                    self._record([f])
                    sources, report = alone, alone_report
                    break
                self.reject(sources, f, why)
        else:
            if self.candidates(sources, report):
                self.notes.append(f"stopped after {MAX_ROUNDS} rounds of fixes; run `nbreview fix` again")
        return sources, report

    def _record(self, taken: list[Finding]) -> None:
        for f in taken:
            assert f.fix is not None
            self.applied.append(AppliedFix(f.rule, f.code, f.location.cell, f.location.line, f.fix.safe,
                                           dict(f.fix.description)))


def _applied(sources: dict[int, str], hunks: list[CellEdit]) -> dict[int, str]:
    out = dict(sources)
    for cell in {h.cell for h in hunks}:
        out[cell] = apply_edits(sources[cell], [h for h in hunks if h.cell == cell])
    return out


def line_map(hunks: list[CellEdit]):
    """old line -> (first, last) line it became, through the hunks of one cell."""
    ordered = sorted(hunks, key=lambda h: (h.start, h.end))

    def mapped(n: int) -> tuple[int, int]:
        shift = 0
        for h in ordered:
            k, removed = len(h.lines), max(0, h.end - h.start + 1)
            if removed == 0:  # an insertion before h.start
                if n >= h.start:
                    shift += k
                continue
            if n > h.end:
                shift += k - removed
                continue
            if n >= h.start:
                lo = h.start + shift
                return lo, lo + max(k, 1) - 1
            break
        return n + shift, n + shift

    return mapped


def _compare(before: NotebookReport, after: NotebookReport, hunks: list[CellEdit], fixed: list[Finding]) -> str | None:
    """Why the corrected notebook is not what the fixes promise (a fixed finding still there,
    or a new one), or None when it is."""
    maps = {cell: line_map([h for h in hunks if h.cell == cell]) for cell in {h.cell for h in hunks}}
    olds = list(before.findings)
    fixed_ids = {id(f) for f in fixed}
    for new in after.findings:
        loc = new.location
        match = None
        for old in olds:
            if old.rule != new.rule or old.location.cell != loc.cell:
                continue
            m = maps.get(loc.cell)
            lo, hi = m(old.location.line) if m else (old.location.line, old.location.line)
            if lo <= loc.line <= hi:
                match = old
                break
        if match is None:
            return f"the corrected code would get a new finding ({new.rule}, line {loc.line})"
        if id(match) in fixed_ids:
            return "the finding would still be there after it"
        olds.remove(match)
    return None


def fix_notebook(path: str | Path, options: Options | None = None, unsafe: bool = False,
                 data: bytes | None = None, resolver=None) -> FixResult:
    """Correct one notebook in memory; see the module docstring. ConfigError propagates."""
    from .config import Resolver, effective_options

    options = replace(options or Options(), edits=True, suppressions=True)
    if options.use_config or options.config_file is not None:
        resolver = resolver or Resolver(options.config_file)
        options = effective_options(options, resolver.for_path(path), path)
    result = FixResult(path=str(path))
    try:
        if data is None:
            data = Path(path).read_bytes()
        result.original = data
        nb = load(path, data)
    except NotebookReadError as exc:
        result.error = str(exc)
        result.report = NotebookReport(path=str(path))
        from .model import NotebookError

        result.report.errors.append(NotebookError(str(exc), None))
        return result
    except OSError as exc:
        result.error = f"cannot read the file: {exc.strerror or exc}"
        return result
    fixer = _Fixer(nb, options, unsafe)
    try:
        report = fixer.review({})
    except RecursionError:
        result.error = "code too deeply nested to analyse"
        return result
    result.report = _selected(report, options)
    if report.unreadable:
        result.error = next(e.message for e in report.errors if e.cell is None and e.kind == "error")
        return result
    for c in nb.code_cells:
        why = _parse_error(c.source)
        if why is not None:
            result.error = f"{_cell_name(nb, c.index)} does not parse as Python 3 ({why}): fix that cell first"
            return result
    sources = {c.index: c.source for c in nb.code_cells}
    try:
        new_sources, final = fixer.run(sources, report)
    except RecursionError:
        result.error = "code too deeply nested to analyse"
        return result
    result.notes = fixer.notes
    changes = {i: s for i, s in new_sources.items() if s != sources[i]}
    if not changes:
        result.unsafe_left = _unsafe_left(result.report, unsafe)
        return result
    from .nbwrite import WriteError, rewrite

    try:
        result.fixed = rewrite(data, changes)
    except WriteError as exc:
        result.error = str(exc)
        return result
    result.applied = fixer.applied
    result.report = _selected(final, options)
    result.unsafe_left = _unsafe_left(result.report, unsafe)
    result.diffs = [CellDiff(i, nb.cells[i].execution_count, sources[i], changes[i]) for i in sorted(changes)]
    return result


def _selected(report: NotebookReport, options: Options) -> NotebookReport:
    """The report as `check` with these options would show it (the selected rules' findings)."""
    return replace(report, findings=[f for f in report.findings if options.enabled(f.rule)])


def _unsafe_left(report: NotebookReport, unsafe: bool) -> int:
    if unsafe:
        return 0
    return sum(1 for f in report.findings if f.fix is not None and not f.fix.safe and f.edits)

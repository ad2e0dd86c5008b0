"""Reviewing notebooks: load -> program -> facts -> rules -> NotebookReport."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import catalog as cat
from .config import Resolver, effective_options
from .model import CellView, Finding, Fix, Location, NotebookError, NotebookReport, Praise, RunReport
from .notebook import Notebook, NotebookReadError, load

PYTHON_LANGUAGES = {"python", "python3", "python2", "ipython", "ipython3", "pyspark"}
SKIP_DIRS = {".ipynb_checkpoints", ".git", "__pycache__", ".venv", "node_modules", "site-packages"}


@dataclass
class Options:
    select: set[str] | None = None  # only these slugs (None = all)
    ignore: set[str] = field(default_factory=set)
    langs: tuple[str, ...] = cat.LANGS
    # configuration (nbreview.config): rule options by slug, and where the config comes from
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    use_config: bool = True  # look for nbreview.toml / pyproject.toml from each notebook upwards
    config_file: Path | None = None  # use this file instead of looking
    suppressions: bool = True  # honour `# nbreview: ignore[...]` comments
    edits: bool = True  # compute each fixable finding's correction (libcst): corrected code, `fix`

    def enabled(self, slug: str) -> bool:
        if slug in self.ignore:
            return False
        return self.select is None or slug in self.select

    def rule_option(self, slug: str, key: str, default: Any = None) -> Any:
        configured = self.rule_options.get(slug, {})
        if key in configured:
            return configured[key]
        info = cat.get(slug)
        return (info.options if info else {}).get(key, default)


def discover(paths: Iterable[str | Path]) -> Iterator[tuple[Path, NotebookError | None]]:
    """Notebook files under the given paths, sorted; (path, error) for a path that does not exist
    and for a folder that cannot be listed. Symbolic links to folders are not followed."""
    seen: set[str] = set()
    for p in paths:
        path = Path(p)
        if str(path) in seen:
            continue
        seen.add(str(path))
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):
            is_dir = False
        if is_dir:
            found: list[tuple[Path, NotebookError | None]] = []
            for root, dirs, files in os.walk(path, onerror=_unlisted(path, found)):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                found.extend((Path(root) / f, None) for f in files if f.endswith(".ipynb"))
            yield from sorted(found, key=lambda item: item[0])
        elif _exists(path):
            yield path, None
        else:
            yield path, NotebookError.of("missing")


def _unlisted(top: Path, found: list) -> Callable[[OSError], None]:
    """os.walk's onerror: a folder that cannot be listed becomes an error entry, not a silent gap."""
    def report(exc: OSError) -> None:
        from .messages import os_reason

        where = Path(exc.filename) if exc.filename else top
        found.append((where, NotebookError.of("cannot_list", **os_reason(exc))))

    return report


def _exists(path: Path) -> bool:
    """True for anything at the path, a broken or looping symbolic link included (its read says why)."""
    try:
        os.lstat(path)
        return True
    except (OSError, ValueError):
        return False


def review_notebook(nb: Notebook, options: Options | None = None) -> NotebookReport:
    from .facts import analyse
    from .program import build

    options = options or Options()
    report = NotebookReport(path=nb.path)
    report.cells = [CellView(c.index, c.cell_type, c.source, c.execution_count, c.cell_id, c.has_outputs)
                    for c in nb.cells]
    if nb.kernel:
        report.meta["kernel"] = nb.kernel
    report.errors.extend(nb.notes)
    if nb.language and nb.language.lower() not in PYTHON_LANGUAGES:
        report.errors.append(NotebookError.of("not_python", language=nb.language[:80]))
        return report
    program = build(nb)
    report.errors.extend(program.errors)
    report.unparsed = [cc.index for cc in program.cells if cc.tree is None and cc.masked.skipped is None]
    facts = analyse(program)
    if facts.interp.stopped_in is not None:
        report.errors.append(NotebookError.of("budget", facts.interp.stopped_in, None, "note",
                                              cell=facts.interp.stopped_in + 1))
    report.framework = facts.framework
    _run_rules(nb, facts, report, options)
    try:
        from .results import read as read_results

        report.results = read_results(nb, facts)
    except Exception as exc:  # the outputs are a nicety: never lose the findings to them
        report.errors.append(NotebookError.of("outputs_error", None, None, "note", error=_short(exc)))
    if options.suppressions:
        _suppress(report, options)
    try:
        from .checklist import checklist

        report.checklist = checklist(facts, report.findings)
    except Exception as exc:  # never lose the findings to a bug here
        report.errors.append(NotebookError.of("checklist_error", None, None, "note", error=_short(exc)))
    return report


def _run_rules(nb: Notebook, facts, report: NotebookReport, options: Options) -> None:
    """Run every enabled rule of the catalog; route its hits by kind (check, praise, question).

    Checks run first: praise and questions are then withdrawn where a finding contradicts them
    (the catalog's `contradicted_by`), and praise of code in a cell that never ran (when the
    notebook was run) is not given."""
    from .checks import load_all
    from .checks.base import Context
    from .outputs import Outputs

    rules = cat.catalog()
    outputs = Outputs(nb)
    fixable: list[tuple[Any, Any, Finding]] = []
    enabled = [(slug, rule, rules[slug]) for slug, rule in load_all().items()
               if slug in rules and options.enabled(slug)]
    enabled.sort(key=lambda x: x[2].kind != "check")  # stable: checks first, then praise and questions
    for slug, rule, info in enabled:
        ctx = Context(facts, slug, {**info.options, **options.rule_options.get(slug, {})})
        try:
            rule.check(ctx)
        except Exception as exc:  # a rule bug must not lose the other rules' findings
            report.errors.append(NotebookError.of("rule_error", None, None, "note", rule=slug, error=_short(exc)))
            continue
        if info.kind in ("praise", "question"):
            found = {f.rule for f in report.findings}
            if found & set(info.contradicted_by):
                continue  # e.g. "validation without augmentation" next to a remark that it leaks
            target = report.praise if info.kind == "praise" else report.questions
            hits = sorted(ctx.hits, key=lambda h: h.site.key)
            if info.kind == "praise":
                hits = [h for h in hits if facts.ran(h.site) is not False]  # code that never ran earns nothing
            for hit in hits[:1]:  # one compliment or question per kind
                loc = _location(nb, hit.site.cell, hit.site.line, hit.site.column)
                params = {k: _quotable(v) for k, v in hit.params.items()}
                target.append(Praise(slug, loc, {lang: info.render_message(lang, params, hit.variant)
                                                 for lang in options.langs}))
            continue
        report.checks_run.append(slug)
        for hit in ctx.hits:
            finding = _finding(nb, info, hit, options)
            report.findings.append(finding)
            if rule.has_evidence:
                try:
                    ev = rule.evidence(hit, outputs)
                except Exception:  # evidence is a nicety: never fail a review for it
                    ev = None
                if ev is not None:
                    finding.evidence.append(ev)
            if hit.fix is not None and rule.has_fix and options.edits:
                fixable.append((rule, hit, finding))
    report.findings.sort(key=lambda f: f.sort_key)
    for marks in (report.praise, report.questions):
        marks.sort(key=lambda p: (p.location.cell, p.location.line, p.location.column))
    if fixable:
        _corrections(nb, fixable)


def _corrections(nb: Notebook, fixable: list) -> None:
    """Each fixable finding's correction, as line hunks of the original cells (libcst)."""
    from .edits import FixError
    from .quickedits import QuickEditor  # NotebookEditor's edits; libcst only when text cannot be exact

    sources = {c.index: c.source for c in nb.cells if c.cell_type == "code"}
    for rule, hit, finding in fixable:
        editor = QuickEditor(sources)
        try:
            rule.fix(editor, hit)
            finding.edits = editor.edits()
        except (FixError, ImportError):
            finding.edits = []
        except Exception:  # noqa: BLE001 - a correction is a nicety; the remark stands without it
            finding.edits = []
        if finding.edits and not _parses(sources, finding.edits):
            finding.edits = []  # a correction that does not even parse is no correction
        if not finding.edits and finding.fix is not None:
            finding.fix = None  # nothing we could write: do not promise a fix


def _parses(sources: dict[int, str], edits: list) -> bool:
    """The cells a correction touches still parse as Python (IPython magics masked)."""
    import ast

    from .edits import apply_edits
    from .ipython import mask

    for cell in {e.cell for e in edits}:
        text = apply_edits(sources.get(cell, ""), [e for e in edits if e.cell == cell])
        try:
            ast.parse(mask(text).source)
        except SyntaxError:
            return False
        except Exception:  # noqa: BLE001 - masking trouble: keep the correction as it was computed
            continue
    return True


def _suppress(report: NotebookReport, options: Options) -> None:
    from .checks import load_all
    from .suppress import apply

    implemented = load_all()
    apply(report, set(cat.catalog()), lambda slug: slug in implemented and options.enabled(slug))


def _location(nb: Notebook, cell: int, line: int, column: int = 1, end_line: int | None = None) -> Location:
    c = nb.cells[cell] if 0 <= cell < len(nb.cells) else None
    return Location(
        cell=cell,
        line=line,
        column=column,
        end_line=end_line if end_line is not None else line,
        cell_id=c.cell_id if c else None,
        execution_count=c.execution_count if c else None,
        file_line=nb.file_line(cell, line),
    )


def _finding(nb: Notebook, info: cat.RuleInfo, hit, options: Options) -> Finding:
    site = hit.site
    loc = _location(nb, site.cell, site.line, site.column, max(site.line, site.end_line))
    related = []
    cells_seen = {site.cell}
    for r in hit.related:
        if r.cell not in cells_seen:  # one pointer per other cell is enough for a reader
            cells_seen.add(r.cell)
            related.append(_location(nb, r.cell, r.line, r.column, max(r.line, r.end_line)))
    quoted = {k: _quotable(v) for k, v in hit.params.items()}
    messages = {lang: info.render_message(lang, quoted, hit.variant) for lang in options.langs}
    severity = hit.severity or info.severity
    params = {k: v for k, v in quoted.items() if v is not None}
    if hit.reach is not None:  # code the saved notebook does not run: say so first
        where = nb.cells[hit.reach.cell].source if 0 <= hit.reach.cell < len(nb.cells) else ""
        messages = {lang: cat.reach_note(lang, hit.reach, where) + text for lang, text in messages.items()}
        params["not_run"] = hit.reach.kind
        if hit.reach.kind == "dead" and not hit.severity:
            severity = cat.lower_severity(severity)
    fix = None
    if hit.fix is not None:
        fix = Fix(hit.fix.safe, {lang: info.autofix_text(lang, hit.fix.variant) for lang in options.langs})
    return Finding(
        rule=info.slug,
        code=info.code,
        severity=severity,
        location=loc,
        messages=messages,
        related=related,
        fix=fix,
        params=params,
        variant=hit.variant,
        group=hit.group,
    )


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:300]


def _quotable(value: Any) -> Any:
    """A value quoted from the student's code inside a message's `code span` (see
    `catalog.code_quotable`). A list or tuple of strings is a list of code quotes: each item
    becomes its own code span (`a`, `b`), so a rule never writes the backticks itself."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ", ".join(f"`{_quotable(v)}`" for v in value) or None
    return cat.code_quotable(value) if isinstance(value, str) else value


def review_path(path: str | Path, options: Options | None = None, data: bytes | None = None,
                resolver: Resolver | None = None) -> NotebookReport:
    """Review one file; an unreadable file becomes a report with one error (cell None).

    The nearest configuration file applies (ConfigError propagates: the caller decides whether
    a broken configuration stops the run or only this notebook, see nbreview.batch)."""
    options = options or Options()
    if options.use_config or options.config_file is not None:
        resolver = resolver or Resolver(options.config_file)
        options = effective_options(options, resolver.for_path(path), path)
    try:
        nb = load(path, data)
    except NotebookReadError as exc:
        return NotebookReport(path=str(path), errors=[exc.error()])
    except MemoryError:
        return NotebookReport(path=str(path), errors=[NotebookError.of("json_too_deep")])
    try:
        return review_notebook(nb, options)
    except RecursionError:
        return NotebookReport(path=str(path), errors=[NotebookError.of("too_nested")])
    except Exception as exc:  # never lose a batch to one notebook
        return NotebookReport(path=str(path), errors=[NotebookError.of("internal_error", error=_short(exc))])


def review_paths(paths: Iterable[str | Path], options: Options | None = None,
                 progress: Callable[[Path], None] | None = None) -> RunReport:
    """Review every notebook under `paths`, in order, in this process (see nbreview.batch for the
    parallel, streaming run of the command line)."""
    reports = []
    options = options or Options()
    resolver = Resolver(options.config_file) if options.use_config or options.config_file else None
    for path, error in discover(paths):
        if error:
            reports.append(NotebookReport(path=str(path), errors=[error]))
            continue
        reports.append(review_path(path, options, resolver=resolver))
        if progress:
            progress(path)
    return RunReport(reports)

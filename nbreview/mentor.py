"""The Review: what a mentor's written review of one notebook is made of, ready to render.

Built from a NotebookReport and the catalog: an opening (how the work looks, what to fix
first), remarks grouped by rule (the first place quoted in full, the other places listed
as "the same in cells 14 and 17"), praise, open questions, the project checklist, the
evidence from outputs, and the rule pages the remarks link to. Every renderer (text,
markdown, html, the notebook `_repr_html_`) renders this one object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from . import catalog as cat
from .model import SEVERITY_RANK, Finding, NotebookReport, OutputEvidence, Praise
from .plural import count, word

LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "error": "ошибка", "warning": "предупреждение", "advice": "совет",
        "cell": "ячейка", "line": "строка", "section": "раздел", "lquote": "«", "rquote": "»",
        "remarks": "Замечания", "praise": "Что получилось хорошо", "questions": "Вопросы для размышления",
        "checklist": "Задачи проекта", "evidence": "Что видно в выводе", "fix": "Как исправить",
        "corrected": "Исправленный код", "why": "Почему это важно", "rules": "Справка по правилам",
        "rule_page": "подробнее о правиле", "your_code": "Ваш код", "done": "сделано",
        "not_done": "не найдено в коде", "errors": "Что не удалось разобрать", "also_at": "Те же строки",
        "related": "См. также", "kernel": "Ядро", "review_of": "Ревью ноутбука",
        "cohort": "Сводка по группе", "student": "Ноутбук", "total": "всего", "mistakes": "Частые ошибки",
        "notebooks_with": "ноутбуков с этой ошибкой", "unreadable": "не удалось прочитать",
        "no_findings": "замечаний нет", "open": "открыть", "generated": "nbreview",
        "notebooks": "Ноутбуки", "errors_col": "ошибки", "warnings_col": "предупреждения", "advice_col": "советы",
    },
    "en": {
        "error": "error", "warning": "warning", "advice": "advice",
        "cell": "cell", "line": "line", "section": "section", "lquote": "“", "rquote": "”",
        "remarks": "Remarks", "praise": "What was done well", "questions": "Questions to think about",
        "checklist": "Project tasks", "evidence": "What the output shows", "fix": "How to fix",
        "corrected": "Corrected code", "why": "Why it matters", "rules": "Rule reference",
        "rule_page": "more about the rule", "your_code": "Your code", "done": "done",
        "not_done": "not found in the code", "errors": "What could not be analysed", "also_at": "Same lines",
        "related": "See also", "kernel": "Kernel", "review_of": "Review of",
        "cohort": "Cohort summary", "student": "Notebook", "total": "total", "mistakes": "Common mistakes",
        "notebooks_with": "notebooks with this mistake", "unreadable": "could not be read",
        "no_findings": "no findings", "open": "open", "generated": "nbreview",
        "notebooks": "Notebooks", "errors_col": "errors", "warnings_col": "warnings", "advice_col": "advice",
    },
}

CONTEXT_LINES = 2
MAX_QUOTE = 14


@dataclass
class Line:
    number: int
    text: str
    marked: bool = False


@dataclass
class Place:
    """A cell as the student sees it: its position, its `In [n]`, its section, and some lines."""

    cell: int
    execution_count: int | None
    label: str  # "ячейка 12, In [7]"
    section: str | None
    lines: list[Line] = field(default_factory=list)
    line: int = 1

    @property
    def number(self) -> int:
        return self.cell + 1

    @property
    def prompt(self) -> str:
        return f"In [{self.execution_count}]" if self.execution_count is not None else "In [ ]"


@dataclass
class Evidence:
    message: str
    place: Place


@dataclass
class Remark:
    id: str  # anchor inside a report: "remark-1"
    rule: str
    code: str
    severity: str
    severity_label: str
    title: str
    message: str
    why: str
    fix: str
    place: Place
    corrected: list[Line] | None = None
    corrected_also: list[Place] = field(default_factory=list)  # the same correction in other cells
    also: list[Place] = field(default_factory=list)  # the same rule in other places
    also_text: str = ""  # "То же самое — в ячейках 14 и 17."
    related: list[Place] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    consequence: int = 50
    findings: list[Finding] = field(default_factory=list)
    autofix: str = ""  # whether `nbreview fix` corrects it (see autofix_note)

    @property
    def rule_anchor(self) -> str:
        return f"rule-{self.rule}"


@dataclass
class Note:
    """Praise or an open question."""

    rule: str
    title: str
    message: str
    place: Place | None


@dataclass
class Task:
    task: str
    title: str
    done: bool
    place: Place | None


@dataclass
class RulePage:
    slug: str
    code: str
    severity_label: str
    title: str
    why: str
    fix: str

    @property
    def anchor(self) -> str:
        return f"rule-{self.slug}"


@dataclass
class Review:
    path: str
    name: str
    lang: str
    L: dict[str, str]
    opening: str
    remarks: list[Remark]
    top: list[Remark]
    praise: list[Note]
    questions: list[Note]
    checklist: list[Task]
    errors: list[str]
    notes: list[str]
    rules: list[RulePage]
    counts: dict[str, int]
    summary: str
    kernel: str | None
    unreadable: bool
    report: NotebookReport

    @property
    def evidence(self) -> list[Evidence]:
        return [e for r in self.remarks for e in r.evidence]


# --- building --------------------------------------------------------------------------

def build_review(report: NotebookReport, lang: str = "ru") -> Review:
    lang = lang if lang in LABELS else "en"
    L = LABELS[lang]
    rules = cat.catalog()
    remarks = _remarks(report, lang, rules)
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in ("error", "warning", "advice")}
    top = sorted(remarks, key=lambda r: (SEVERITY_RANK.get(r.severity, 3), -r.consequence,
                                         r.place.cell, r.place.line))[:3]
    praise = [_note(report, p, lang, rules) for p in report.praise]
    questions = [_note(report, q, lang, rules) for q in report.questions]
    from .checklist import TASK_TITLES

    titles = TASK_TITLES.get(lang, TASK_TITLES["en"])
    checklist = [Task(c.task, titles.get(c.task, c.task), c.done,
                      _place(report, c.cell, 1, lang, quote=False) if c.cell is not None else None)
                 for c in report.checklist]
    errors = [e.message for e in report.errors if e.cell is None]
    notes = [f"{cell_label(e.cell, _ec(report, e.cell), lang)}: {e.message}" for e in report.errors
             if e.cell is not None]
    seen_rules = list(dict.fromkeys(r.rule for r in remarks))
    pages = [_rule_page(rules[s], lang) for s in seen_rules if s in rules]
    unreadable = report.unreadable and not report.cells
    return Review(
        path=report.path,
        name=PurePath(report.path).name,
        lang=lang,
        L=L,
        opening=opening(report, top, counts, lang, unreadable, bool(praise)),
        remarks=remarks,
        top=top,
        praise=praise,
        questions=questions,
        checklist=checklist,
        errors=errors,
        notes=notes,
        rules=pages,
        counts=counts,
        summary=summary_line(counts, lang),
        kernel=report.meta.get("kernel"),
        unreadable=unreadable,
        report=report,
    )


def _ec(report: NotebookReport, cell: int | None) -> int | None:
    c = report.cell(cell) if cell is not None else None
    return c.execution_count if c else None


def cell_label(index: int, execution_count: int | None, lang: str) -> str:
    prompt = f"In [{execution_count}]" if execution_count is not None else "In [ ]"
    return f"{LABELS.get(lang, LABELS['en'])['cell']} {index + 1}, {prompt}"


def section_of(report: NotebookReport, cell: int) -> str | None:
    """The last markdown heading above the cell: where the student put this code."""
    for c in reversed(report.cells[:cell]):
        if c.cell_type != "markdown":
            continue
        for line in reversed(c.source.split("\n")):
            if line.lstrip().startswith("#"):
                title = line.strip().lstrip("#").strip()
                if title:
                    return title[:80]
    return None


def _place(report: NotebookReport, cell: int, line: int, lang: str, end_line: int | None = None,
           quote: bool = True, context: int = CONTEXT_LINES) -> Place:
    view = report.cell(cell)
    ec = view.execution_count if view else None
    place = Place(cell, ec, cell_label(cell, ec, lang), section_of(report, cell), line=line)
    if quote and view is not None:
        src = view.source.split("\n")
        end = max(line, end_line or line)
        first, last = max(1, line - context), min(len(src), end + context)
        if last - first + 1 > MAX_QUOTE:  # a long call: keep its start and the marked lines near it
            last = min(len(src), first + MAX_QUOTE - 1)
        place.lines = [Line(n, src[n - 1], line <= n <= end) for n in range(first, last + 1)]
    return place


def _remarks(report: NotebookReport, lang: str, rules: dict[str, cat.RuleInfo]) -> list[Remark]:
    groups: dict[tuple, list[Finding]] = {}
    for f in report.findings:  # same rule and same kind of message: one remark, "the same in cells ..."
        groups.setdefault((f.rule, f.variant, f.group), []).append(f)
    ordered = sorted(groups.values(), key=lambda fs: fs[0].sort_key)
    out = []
    for i, fs in enumerate(ordered, 1):
        first = fs[0]
        info = rules.get(first.rule)
        loc = first.location
        place = _place(report, loc.cell, loc.line, lang, loc.end_line)
        also = [_place(report, f.location.cell, f.location.line, lang, f.location.end_line, context=0)
                for f in fs[1:]]
        # the other places that make it true (the augmenting generator, the fit that uses it): their line
        seen_cells: set[int] = {loc.cell}
        related = []
        for r in first.related:
            if r.cell not in seen_cells:
                seen_cells.add(r.cell)
                related.append(_place(report, r.cell, r.line, lang, r.line, context=0))
        evidence = [Evidence(e.message(lang), _evidence_place(report, e, lang)) for f in fs for e in f.evidence]
        remark = Remark(
            id=f"remark-{i}",
            rule=first.rule,
            code=first.code,
            severity=first.severity,
            severity_label=LABELS[lang].get(first.severity, first.severity),
            title=info.text(info.title, lang) if info else first.rule,
            message=first.message(lang),
            why=info.text(info.why, lang).strip() if info else "",
            fix=info.fix_for(lang, first.variant) if info else "",
            place=place,
            also=also,
            also_text=same_in(also, lang),
            related=related,
            evidence=evidence[:1],
            consequence=info.consequence if info else 50,
            findings=fs,
        )
        remark.corrected = _corrected(report, first)
        remark.corrected_also = _corrected_elsewhere(report, first, lang) if remark.corrected else []
        remark.autofix = autofix_note(fs, lang)
        out.append(remark)
    return out


AUTOFIX = {
    "ru": {
        "all": "`nbreview fix` исправит это автоматически.",
        "some": "`nbreview fix` исправит это автоматически в {safe} из {n} мест, остальное — вручную.",
        "unsafe_more": " Ещё {unsafe} — только с `--unsafe-fixes`.",
        "unsafe": "Автоматически — только с `nbreview fix --unsafe-fixes`: здесь nbreview не уверен, что "
                  "одной этой правки достаточно и что она не затронет остальной код, поэтому проверьте результат.",
        "none": "Автоматически это не исправить: поправьте код вручную.",
    },
    "en": {
        "all": "`nbreview fix` corrects this automatically.",
        "some": "`nbreview fix` corrects this automatically in {safe} of {n} places; the rest by hand.",
        "unsafe_more": " {unsafe} more only with `--unsafe-fixes`.",
        "unsafe": "Automatic fix only with `nbreview fix --unsafe-fixes`: here nbreview cannot be sure that the "
                  "change is enough on its own and touches nothing else, so review the result.",
        "none": "nbreview fix cannot correct this automatically: change the code by hand.",
    },
}


def autofix_note(findings: list[Finding], lang: str) -> str:
    """Whether `nbreview fix` corrects a remark: always, in some of its places, only with
    `--unsafe-fixes`, or not at all."""
    texts = AUTOFIX.get(lang, AUTOFIX["en"])
    n = len(findings)
    safe = sum(1 for f in findings if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in findings if f.fix is not None and not f.fix.safe)
    if safe == n:
        return texts["all"]
    if safe:
        return texts["some"].format(safe=safe, n=n) + (texts["unsafe_more"].format(unsafe=unsafe) if unsafe else "")
    return texts["unsafe"] if unsafe else texts["none"]


def _evidence_place(report: NotebookReport, e: OutputEvidence, lang: str) -> Place:
    place = _place(report, e.cell, 1, lang, quote=False)
    place.lines = [Line(0, text) for text in e.lines]
    return place


def _corrected(report: NotebookReport, f: Finding) -> list[Line] | None:
    """The flagged lines as the finding's correction leaves them (the hunks `nbreview fix` writes)."""
    view = report.cell(f.location.cell)
    hunks = [e for e in f.edits if e.cell == f.location.cell]
    if view is None or not hunks:
        return None
    src = view.source.split("\n")
    first = min([f.location.line] + [h.start for h in hunks])
    last = max([f.location.end_line or f.location.line] + [h.end for h in hunks])
    deletion = any(not h.lines for h in hunks)
    if deletion:  # a removed line: show its neighbours, so the reader sees it gone
        first, last = max(1, first - 1), min(len(src), last + 1)
    return _corrected_lines(src, hunks, first, last, unmarked=deletion)


def _corrected_elsewhere(report: NotebookReport, f: Finding, lang: str) -> list[Place]:
    """The parts of the correction in other cells (a new generator next to the training one)."""
    out = []
    for cell in sorted({e.cell for e in f.edits} - {f.location.cell}):
        view = report.cell(cell)
        hunks = [e for e in f.edits if e.cell == cell]
        if view is None:
            continue
        first = min(h.start for h in hunks)
        last = max(max(h.end, h.start - 1) for h in hunks)
        lines = _corrected_lines(view.source.split("\n"), hunks, first, max(first, last))
        if lines:
            place = _place(report, cell, first, lang, quote=False)
            place.lines = lines
            out.append(place)
    return out


def _corrected_lines(src: list[str], hunks: list, first: int, last: int, unmarked: bool = False) -> list[Line] | None:
    out: list[Line] = []
    n = first
    for number in range(first, last + 1):
        hunk = next((h for h in hunks if h.start == number), None)
        if hunk is not None:
            for text in hunk.lines:
                out.append(Line(n, text, True))
                n += 1
            if hunk.end >= hunk.start:
                continue
        if any(h.start <= number <= h.end for h in hunks) or number > len(src):
            continue  # replaced by a hunk, or past the end (an insertion there)
        out.append(Line(n, src[number - 1], False))
        n += 1
    return out if any(line.marked for line in out) or (unmarked and out) else None


def _note(report: NotebookReport, p: Praise, lang: str, rules: dict[str, cat.RuleInfo]) -> Note:
    info = rules.get(p.rule)
    place = _place(report, p.location.cell, p.location.line, lang, context=0)
    return Note(p.rule, info.text(info.title, lang) if info else p.rule, p.message(lang), place)


def _rule_page(info: cat.RuleInfo, lang: str) -> RulePage:
    return RulePage(info.slug, info.code, LABELS[lang].get(info.severity, info.severity),
                    info.text(info.title, lang), info.text(info.why, lang).strip(), info.text(info.fix, lang).strip())


# --- words -----------------------------------------------------------------------------

def join_numbers(numbers: list[int], lang: str) -> str:
    items = [str(n) for n in numbers]
    conj = " и " if lang == "ru" else " and "
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + conj + items[-1]


def same_in(places: list[Place], lang: str) -> str:
    """"То же самое — в ячейке 14." / "The same in cells 14 and 17." (cells numbered as in the notebook)."""
    cells = list(dict.fromkeys(p.number for p in places))
    if not places:
        return ""
    if lang == "ru":
        where = "ячейке" if len(cells) == 1 else "ячейках"
        extra = "" if len(cells) == len(places) else f" ({count(len(places), 'place', lang)})"
        return f"То же самое — в {where} {join_numbers(cells, lang)}{extra}."
    where = "cell" if len(cells) == 1 else "cells"
    extra = "" if len(cells) == len(places) else f" ({count(len(places), 'place', lang)})"
    return f"The same in {where} {join_numbers(cells, lang)}{extra}."


def summary_line(counts: dict[str, int], lang: str) -> str:
    total = sum(counts.values())
    parts = [count(n, s, lang) for s, n in counts.items() if n]
    head = count(total, "finding", lang)
    return head + (f" ({', '.join(parts)})" if parts else "")


def _short_title(r: Remark) -> str:
    return r.title.split(":")[0].strip() if ":" in r.title and len(r.title) > 60 else r.title


def _lower_first(title: str) -> str:
    """"Валидационные данные ..." -> "валидационные данные ..." inside a sentence; names (EfficientNet, TTA) stay."""
    head = title.split(" ", 1)[0]
    if head.isalpha() and head[:1].isupper() and head[1:].islower():
        return title[:1].lower() + title[1:]
    return title


def opening(report: NotebookReport, top: list[Remark], counts: dict[str, int], lang: str,
            unreadable: bool, praised: bool) -> str:
    errors, total = counts["error"], sum(counts.values())
    if unreadable:
        msg = next((e.message for e in report.errors if e.cell is None), "")
        return (f"Файл не удалось прочитать как ноутбук: {msg}." if lang == "ru"
                else f"The file could not be read as a notebook: {msg}.")
    where = "; ".join(f"{_lower_first(_short_title(r))} ({r.place.label})" for r in top)
    if lang == "ru":
        if total == 0:
            first = "Работа выглядит аккуратно: в коде не нашлось ни ошибок, ни устаревших приёмов."
            return first + (" Ниже — что особенно удалось." if praised else "")
        if errors == 0:
            first = f"Серьёзных ошибок в коде не видно, но кое-что можно улучшить: {summary_line(counts, lang)}."
        elif errors <= 2:
            first = (f"В целом работа получилась, но местами код делает не то, что вы от него ждёте: "
                     f"{summary_line(counts, lang)}.")
        else:
            first = (f"В работе есть серьёзные ошибки, которые заметно влияют на результат: "
                     f"{summary_line(counts, lang)}.")
        return f"{first} В первую очередь стоит исправить: {where}."
    if total == 0:
        first = "The work looks tidy: the code shows no mistakes and no outdated practices."
        return first + (" Below is what went especially well." if praised else "")
    if errors == 0:
        first = f"There are no serious mistakes in the code, but a few things can be improved: {summary_line(counts, lang)}."
    elif errors <= 2:
        first = (f"Overall the work holds up, but in places the code does not do what you expect it to: "
                 f"{summary_line(counts, lang)}.")
    else:
        first = f"The work has serious mistakes that noticeably affect the result: {summary_line(counts, lang)}."
    return f"{first} What to fix first: {where}."


def words(lang: str) -> dict[str, object]:
    """Helpers the templates use for counts: `count(3, 'finding')` -> "3 замечания"."""
    return {"count": lambda n, key: count(n, key, lang), "word": lambda n, key: word(n, key, lang)}

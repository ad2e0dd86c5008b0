"""The Review: what a mentor's written review of one notebook is made of, ready to render.

Built from a NotebookReport and the catalog, the way a mentor writes one:
- an opening that starts with what was done well, says how serious the remarks are, names
  what to fix first, and states honestly what was checked (the catalog's checks for this
  notebook's framework: "clean" only when they ran and found nothing);
- the remarks in one order, by consequence and grouped by topic, numbered the same way in the
  opening, the body and the checklist; each quotes the student's code, says what goes wrong,
  cites the saved outputs and the student's own words where they bear on it, says how to fix
  it and whether `nbreview fix` does it, and shows corrected code only when the fix is safe;
- praise, open questions, the project checklist (done, attempted but broken, unused, missing),
  notes on the saved outputs, and a closing verdict with the two or three next steps.

Every renderer (text, markdown, html, the notebook `_repr_html_`) renders this one object.
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
        "verdict": "Итог", "next_steps": "Что сделать дальше", "results": "По сохранённым выводам",
        "your_words": "Ваши слова", "first": "В первую очередь", "remark": "замечание",
        "autofix": "Автоисправление", "coverage": "Что проверено",
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
        "verdict": "Verdict", "next_steps": "Next steps", "results": "From the saved outputs",
        "your_words": "Your words", "first": "First of all", "remark": "remark",
        "autofix": "Automatic fix", "coverage": "What was checked",
    },
}

# Remarks are grouped by topic (the catalog's `topic`); a topic unknown here reads as "other".
TOPICS: dict[str, dict[str, str]] = {
    "ru": {
        "validation": "Валидация", "checkpoints": "Чекпоинты и выбор лучшей модели",
        "preprocessing": "Предобработка изображений", "augmentation": "Аугментации",
        "model": "Архитектура модели", "training": "Обучение", "data": "Данные",
        "tta": "TTA и предсказания", "submission": "Сабмит", "api": "Устаревший код", "other": "Другое",
    },
    "en": {
        "validation": "Validation", "checkpoints": "Checkpoints and picking the best model",
        "preprocessing": "Image preprocessing", "augmentation": "Augmentation",
        "model": "Model architecture", "training": "Training", "data": "Data",
        "tta": "TTA and predictions", "submission": "Submission", "api": "Outdated code", "other": "Other",
    },
}
FRAMEWORK_NAMES = {"keras": "Keras", "torch": "PyTorch"}
# Missing tasks a verdict may suggest, in the order a mentor would (see checklist.TASK_IDEAS).
IDEA_ORDER = ("tta", "ensembling")
# An idea is not suggested when the notebook already talks about it (the analysis may have missed it).
IDEA_MENTIONS = {"tta": r"tta|test[-_ ]?time|аугментаци\w* (на|при) тест",
                 "ensembling": r"ensembl|ансамбл|blend|\bens\b|models_list|\bmodels\s*="}
CONTEXT_LINES = 2
MAX_QUOTE = 14
MAX_TOP = 3
MAX_STEPS = 3


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
class Quote:
    """A sentence the student wrote (markdown or a comment) that a remark explains."""

    text: str
    place: Place
    message: str  # the remark's sentence around it: "You wrote yourself (cell 14): «...». ..."


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
    number: int = 0  # the remark's number, the same in the opening, the body and the checklist
    topic: str = "other"
    topic_title: str = ""
    autofix: str = ""  # whether `nbreview fix` corrects it, and what it changes
    quotes: list[Quote] = field(default_factory=list)

    @property
    def rule_anchor(self) -> str:
        return f"rule-{self.rule}"


@dataclass
class Topic:
    key: str
    title: str
    remarks: list[Remark]


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
    status: str = "missing"  # see model.ChecklistItem
    status_text: str = ""  # "сделано", "есть, но работает не так, как задумано", ...
    remarks: list[int] = field(default_factory=list)  # numbers of the remarks it links to
    see: str = ""  # "см. замечание" / "см. замечания" before the remark numbers
    lang: str = "ru"

    @property
    def text(self) -> str:
        """The status with its links in words: "есть, но работает не так, как задумано (см. замечание 3)"."""
        if not self.remarks:
            return self.status_text
        return f"{self.status_text} ({self.see} {join_numbers(self.remarks, self.lang)})"

    @property
    def mark(self) -> str:
        return {"done": "x", "present": "?", "broken": "!", "unused": "~", "not_run": "~"}.get(self.status, " ")


@dataclass
class RulePage:
    slug: str
    code: str
    severity_label: str
    title: str
    why: str

    @property
    def anchor(self) -> str:
        return f"rule-{self.slug}"


@dataclass
class Coverage:
    """Which of the catalog's checks apply to this notebook and ran."""

    framework: str | None
    applicable: int  # checks for this framework (and framework-neutral ones) that ran
    total: int  # checks in the catalog
    unparsed: list[int] = field(default_factory=list)  # cells whose code could not be analysed

    @property
    def thin(self) -> bool:
        """Fewer than half of the catalog applies: silence says little."""
        return self.applicable * 2 < self.total

    @property
    def complete(self) -> bool:
        return self.applicable > 0 and not self.unparsed


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
    topics: list[Topic] = field(default_factory=list)
    coverage: Coverage | None = None
    coverage_text: str = ""
    verdict: str = ""
    next_steps: list[str] = field(default_factory=list)
    results: list[Evidence] = field(default_factory=list)

    @property
    def evidence(self) -> list[Evidence]:
        return [e for r in self.remarks for e in r.evidence]


# --- building --------------------------------------------------------------------------

def build_review(report: NotebookReport, lang: str = "ru") -> Review:
    lang = lang if lang in LABELS else "en"
    L = LABELS[lang]
    rules = cat.catalog()
    remarks = _remarks(report, lang, rules)
    counts = remark_counts(remarks)
    top = sorted(remarks, key=_consequence_key)[:MAX_TOP]
    praise = [_note(report, p, lang, rules) for p in report.praise]
    questions = [_note(report, q, lang, rules) for q in report.questions]
    checklist = _tasks(report, remarks, lang)
    errors = [e.message for e in report.errors if e.cell is None and e.kind == "error"]
    notes = [f"{cell_label(e.cell, _ec(report, e.cell), lang)}: {e.message}" for e in report.errors
             if e.cell is not None]
    seen_rules = list(dict.fromkeys(r.rule for r in remarks))
    pages = [_rule_page(rules[s], lang) for s in seen_rules if s in rules]
    unreadable = report.unreadable and not report.cells
    coverage = _coverage(report, rules)
    results = [Evidence(e.message(lang), _evidence_place(report, e, lang)) for e in report.results]
    rv = Review(
        path=report.path,
        name=PurePath(report.path).name,
        lang=lang,
        L=L,
        opening="",
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
        topics=_topics(remarks),
        coverage=coverage,
        results=results,
    )
    rv.coverage_text = coverage_sentence(coverage, not remarks, lang) if not unreadable else ""
    rv.opening = opening(rv)
    rv.verdict, rv.next_steps = verdict(rv)
    return rv


def _consequence_key(r: Remark) -> tuple:
    return (SEVERITY_RANK.get(r.severity, 3), -r.consequence, r.place.cell, r.place.line)


def remark_counts(remarks: list["Remark"]) -> dict[str, int]:
    return {s: sum(1 for r in remarks if r.severity == s) for s in ("error", "warning", "advice")}


def review_counts(report: NotebookReport) -> dict[str, int]:
    """Remarks by severity, as the review's header counts them (findings of one kind grouped)."""
    groups = {_group_key(f): f.severity for f in report.findings}
    return {s: sum(1 for v in groups.values() if v == s) for s in ("error", "warning", "advice")}


def _group_key(f: Finding) -> tuple:
    return (f.rule, f.variant, f.group, f.severity)


def _ec(report: NotebookReport, cell: int | None) -> int | None:
    c = report.cell(cell) if cell is not None else None
    return c.execution_count if c else None


def cell_label(index: int, execution_count: int | None, lang: str, code: bool = True) -> str:
    """"ячейка 12, In [7]" for a code cell; a markdown cell has no prompt: "ячейка 11"."""
    word = LABELS.get(lang, LABELS['en'])['cell']
    if not code:
        return f"{word} {index + 1}"
    prompt = f"In [{execution_count}]" if execution_count is not None else "In [ ]"
    return f"{word} {index + 1}, {prompt}"


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
    code = view is None or view.cell_type == "code"
    place = Place(cell, ec, cell_label(cell, ec, lang, code), section_of(report, cell), line=line)
    if quote and view is not None:
        src = view.source.split("\n")
        end = max(line, end_line or line)
        first, last = max(1, line - context), min(len(src), end + context)
        if last - first + 1 > MAX_QUOTE:  # a long call: keep its start and the marked lines near it
            last = min(len(src), first + MAX_QUOTE - 1)
        place.lines = [Line(n, src[n - 1], line <= n <= end) for n in range(first, last + 1)]
    return place


def _remarks(report: NotebookReport, lang: str, rules: dict[str, cat.RuleInfo]) -> list[Remark]:
    from .words import sentences

    groups: dict[tuple, list[Finding]] = {}
    for f in report.findings:  # same rule and same kind of message: one remark, "the same in cells ..."
        groups.setdefault(_group_key(f), []).append(f)
    out = []
    for fs in groups.values():
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
        topic = info.topic if info and info.topic in TOPICS["en"] else "other"
        remark = Remark(
            id="",
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
            also_text=same_in(also, lang, here=place),
            related=related,
            evidence=evidence[:1],
            consequence=info.consequence if info else 50,
            findings=fs,
            topic=topic,
            topic_title=TOPICS[lang][topic],
            autofix=autofix_note(fs, lang),
        )
        if first.fix is not None and first.fix.safe:  # never show code a fix would leave broken
            remark.corrected = _corrected(report, first)
            remark.corrected_also = _corrected_elsewhere(report, first, lang) if remark.corrected else []
        out.append(remark)
    out = _ordered(out)
    _quote_student(report, out, rules, sentences(report.cells), lang)
    return out


def _ordered(remarks: list[Remark]) -> list[Remark]:
    """By consequence, grouped by topic: topics in the order of their most serious remark."""
    by_consequence = sorted(remarks, key=_consequence_key)
    topic_rank: dict[str, int] = {}
    for r in by_consequence:
        topic_rank.setdefault(r.topic, len(topic_rank))
    out = sorted(by_consequence, key=lambda r: topic_rank[r.topic])  # stable: consequence inside a topic
    for i, r in enumerate(out, 1):
        r.number, r.id = i, f"remark-{i}"
    return out


def _topics(remarks: list[Remark]) -> list[Topic]:
    out: list[Topic] = []
    for r in remarks:
        if not out or out[-1].key != r.topic:
            out.append(Topic(r.topic, r.topic_title, []))
        out[-1].remarks.append(r)
    return out


AUTOFIX = {
    "ru": {
        "all": "`nbreview fix` исправит это автоматически.",
        "what": "Автоисправление (`nbreview fix`): {what}.",
        "some": "`nbreview fix` исправит это автоматически в {safe} из {n} мест, остальное — вручную.",
        "unsafe_more": " Ещё {unsafe} — только с `--unsafe-fixes`.",
        "unsafe": "Автоматически — только с `nbreview fix --unsafe-fixes`: здесь nbreview не уверен, что "
                  "одной этой правки достаточно и что она не затронет остальной код, поэтому проверьте результат.",
        "none": "Автоматически это не исправить: поправьте код вручную.",
    },
    "en": {
        "all": "`nbreview fix` corrects this automatically.",
        "what": "Automatic fix (`nbreview fix`): {what}.",
        "some": "`nbreview fix` corrects this automatically in {safe} of {n} places; the rest by hand.",
        "unsafe_more": " {unsafe} more only with `--unsafe-fixes`.",
        "unsafe": "Automatic fix only with `nbreview fix --unsafe-fixes`: here nbreview cannot be sure that the "
                  "change is enough on its own and touches nothing else, so review the result.",
        "none": "nbreview fix cannot correct this automatically: change the code by hand.",
    },
}


def autofix_note(findings: list[Finding], lang: str) -> str:
    """Whether `nbreview fix` corrects a remark: always (and what it changes), in some of its
    places, only with `--unsafe-fixes`, or not at all."""
    texts = AUTOFIX.get(lang, AUTOFIX["en"])
    n = len(findings)
    safe = sum(1 for f in findings if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in findings if f.fix is not None and not f.fix.safe)
    if safe == n:
        fix = findings[0].fix
        what = _lower_first(fix.description.get(lang, "").strip().rstrip(".")) if fix else ""
        return texts["what"].format(what=what) if what else texts["all"]
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


def _quote_student(report: NotebookReport, remarks: list[Remark], rules: dict[str, cat.RuleInfo],
                   found: list, lang: str) -> None:
    """Quote the student's own sentence in the remark that explains it (each sentence once)."""
    from .words import explained_by, quote

    used: set[tuple[int, str]] = set()
    for r in remarks:
        info = rules.get(r.rule)
        if info is None or not info.words:
            continue
        for s in explained_by(info.words, found):
            if (s.cell, s.text) in used:
                continue
            used.add((s.cell, s.text))
            place = _place(report, s.cell, s.line, lang, quote=False)
            text = quote(s.text)
            if text.endswith(".") and not text.endswith(".."):
                text = text[:-1]  # «...точности». — the sentence's own full stop goes after the quote
            lq, rq = LABELS[lang]["lquote"], LABELS[lang]["rquote"]
            default = ("Это замечание как раз объясняет, почему так получилось." if lang == "ru" else
                       "This remark explains why it turned out that way.")
            explains = info.text(info.explains, lang).strip() if info.explains else default
            lead = (f"Вы сами написали об этом ({place.label}): {lq}{text}{rq}." if lang == "ru" else
                    f"You wrote about this yourself ({place.label}): {lq}{text}{rq}.")
            r.quotes.append(Quote(text, place, f"{lead} {explains}"))
            break  # one sentence per remark is enough


def _note(report: NotebookReport, p: Praise, lang: str, rules: dict[str, cat.RuleInfo]) -> Note:
    info = rules.get(p.rule)
    place = _place(report, p.location.cell, p.location.line, lang, context=0)
    return Note(p.rule, info.text(info.title, lang) if info else p.rule, p.message(lang), place)


def _rule_page(info: cat.RuleInfo, lang: str) -> RulePage:
    return RulePage(info.slug, info.code, LABELS[lang].get(info.severity, info.severity),
                    info.text(info.title, lang), info.text(info.why, lang).strip())


def _tasks(report: NotebookReport, remarks: list[Remark], lang: str) -> list[Task]:
    from .checklist import TASK_TITLES

    titles = TASK_TITLES.get(lang, TASK_TITLES["en"])
    number = {id(f): r.number for r in remarks for f in r.findings}
    out = []
    for c in report.checklist:
        place = _place(report, c.cell, c.line or 1, lang, quote=False) if c.cell is not None else None
        linked = sorted({number[id(f)] for f in c.findings if id(f) in number})
        see = ("см. замечание" if len(linked) == 1 else "см. замечания") if lang == "ru" else \
            ("see remark" if len(linked) == 1 else "see remarks")
        out.append(Task(c.task, titles.get(c.task, c.task), c.done, place, c.status,
                        task_status(c.status, lang), linked, see, lang))
    return out


def task_status(status: str, lang: str) -> str:
    """How the checklist says a task's status."""
    ru = lang == "ru"
    return {
        "done": "сделано" if ru else "done",
        "present": "есть в коде, но по коду не видно, работает ли это" if ru else
                   "present in the code, but whether it works cannot be told from the code",
        "broken": "есть, но работает не так, как задумано" if ru else "attempted, but it does not work as intended",
        "unused": "код есть, но не используется при обучении и предсказании" if ru else
                  "the code is there but never reaches training or prediction",
        "not_run": "код есть, но ячейка не запускалась" if ru else "the code is there, but its cell was never run",
        "missing": "не найдено в коде" if ru else "not found in the code",
    }.get(status, status)


def _coverage(report: NotebookReport, rules: dict[str, cat.RuleInfo]) -> Coverage:
    checks = [i for i in rules.values() if i.kind == "check"]
    fw = report.framework
    ran = [s for s in report.checks_run if s in rules and rules[s].framework in ("any", fw)]
    return Coverage(fw, len(ran), len(checks), sorted(report.unparsed))


# --- words -----------------------------------------------------------------------------

def join_numbers(numbers: list[int], lang: str) -> str:
    items = [str(n) for n in numbers]
    conj = " и " if lang == "ru" else " and "
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + conj + items[-1]


def _join_words(items: list[str], lang: str) -> str:
    conj = " и " if lang == "ru" else " and "
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + conj + items[-1]


def same_in(places: list[Place], lang: str, here: Place | None = None) -> str:
    """"То же самое — в ячейке 14." / "The same in cells 14 and 17." (cells numbered as in the
    notebook); places in the remark's own cell are named by their lines ("в строке 9 этой ячейки")."""
    if not places:
        return ""
    ru = lang == "ru"
    parts = []
    same_cell = [p for p in places if here is not None and p.cell == here.cell]
    others = [p for p in places if p not in same_cell]
    if same_cell:
        lines = join_numbers(sorted({p.line for p in same_cell}), lang)
        many = len({p.line for p in same_cell}) > 1
        parts.append((f"в {'строках' if many else 'строке'} {lines} этой же ячейки") if ru else
                     f"on {'lines' if many else 'line'} {lines} of the same cell")
    if others:
        cells = list(dict.fromkeys(p.number for p in others))
        extra = "" if len(cells) == len(others) else f" ({count(len(others), 'place', lang)})"
        if ru:
            parts.append(f"в {'ячейке' if len(cells) == 1 else 'ячейках'} {join_numbers(cells, lang)}{extra}")
        else:
            parts.append(f"in {'cell' if len(cells) == 1 else 'cells'} {join_numbers(cells, lang)}{extra}")
    if ru:
        return "То же самое — " + " и ".join(parts) + "."
    return "The same " + " and ".join(parts) + "."


def summary_line(counts: dict[str, int], lang: str) -> str:
    total = sum(counts.values())
    parts = [count(n, s, lang) for s, n in counts.items() if n]
    head = count(total, "finding", lang)
    return head + (f" ({', '.join(parts)})" if parts else "")


def _short_title(r: Remark) -> str:
    """The title up to its colon, for lists inside a sentence ("TTA без аугментаций")."""
    return r.title.split(":")[0].strip() if ":" in r.title else r.title


def _lower_first(title: str) -> str:
    """"Валидационные данные ..." -> "валидационные данные ..." inside a sentence; names (EfficientNet, TTA) stay."""
    head = title.split(" ", 1)[0]
    bare = head.rstrip(",.:;!?").replace("-", "")
    if bare.isalpha() and head[:1].isupper() and bare[1:].islower():
        return title[:1].lower() + title[1:]
    return title


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def coverage_sentence(cov: Coverage, clean: bool, lang: str) -> str:
    """What was checked, honestly: how many of the catalog's checks apply to this notebook."""
    ru = lang == "ru"
    fw = FRAMEWORK_NAMES.get(cov.framework or "")
    parts = []
    if cov.applicable == 0:
        parts.append("Ни одна проверка nbreview к этому ноутбуку не применялась, так что по нему нельзя сказать, "
                     "есть ли в коде ошибки." if ru else
                     "None of nbreview's checks applied to this notebook, so nothing can be said about "
                     "mistakes in its code.")
    elif fw is None:
        parts.append(f"В ноутбуке не видно ни Keras, ни PyTorch, поэтому применялись только общие проверки: "
                     f"{cov.applicable} из {cov.total} в каталоге nbreview." if ru else
                     f"The notebook uses neither Keras nor PyTorch that nbreview can see, so only the general "
                     f"checks applied: {cov.applicable} of the {cov.total} in nbreview's catalog.")
    elif cov.thin:
        if ru:
            tail = " — и по ним замечаний нет" if clean else ""
            parts.append(f"Для {fw} в каталоге nbreview пока только {cov.applicable} из {cov.total} проверок{tail}; "
                         f"другие ошибки nbreview пока не ищет, так что это не полная проверка.")
        else:
            tail = ", and none of them found anything" if clean else ""
            parts.append(f"For {fw}, nbreview's catalog has only {cov.applicable} of its {cov.total} checks so "
                         f"far{tail}; other mistakes are not looked for yet, so this is not a full review.")
    else:
        parts.append(f"Ноутбук проверен по правилам для {fw}: это {cov.applicable} из {cov.total} проверок "
                     f"каталога nbreview." if ru else
                     f"The notebook was checked against the rules for {fw}: {cov.applicable} of the "
                     f"{cov.total} checks in nbreview's catalog.")
    if cov.unparsed:
        cells = join_numbers([c + 1 for c in cov.unparsed], lang)
        one = len(cov.unparsed) == 1
        if ru:
            parts.append(f"Код {'ячейки' if one else 'ячеек'} {cells} разобрать не удалось, поэтому он не проверялся.")
        else:
            parts.append(f"The code of {'cell' if one else 'cells'} {cells} could not be parsed, so it was not checked.")
    return " ".join(parts)


def _strengths(rv: Review) -> tuple[list[str], list[str]]:
    """What was done well: praise titles, and the project tasks done."""
    praise = [_lower_first(n.title.split(":")[0].strip()) for n in rv.praise]
    done = [_lower_first(t.title.split(":")[0].strip()) for t in rv.checklist if t.status == "done"]
    return praise, done


def _strong(rv: Review) -> bool:
    """The opening has something good to say first (praise, or most of the project done)."""
    praise, done = _strengths(rv)
    return bool(praise) or len(done) >= 3


def _items(remarks: list[Remark], lang: str) -> str:
    return "; ".join(f"{_lower_first(_short_title(r))} ({LABELS[lang]['remark']} {r.number}, "
                     f"{LABELS[lang]['cell']} {r.place.number})" for r in remarks)


def opening(rv: Review) -> str:
    """Praise first, then how serious the remarks are and what to fix first, then what was checked."""
    lang, report = rv.lang, rv.report
    ru = lang == "ru"
    if rv.unreadable:
        msg = next((e.message for e in report.errors if e.cell is None), "")
        return (f"Файл не удалось прочитать как ноутбук: {msg}." if ru
                else f"The file could not be read as a notebook: {msg}.")
    praise, done = _strengths(rv)
    strong = _strong(rv)
    parts: list[str] = []
    if praise:
        parts.append((f"Хорошо получилось: {_join_words(praise, lang)}." if ru else
                      f"Done well: {_join_words(praise, lang)}."))
    elif strong:
        parts.append((f"Из задач проекта сделаны {_join_words(done, lang)}." if ru else
                      f"Of the project's tasks, {_join_words(done, lang)} are done."))
    errors, total = rv.counts["error"], sum(rv.counts.values())
    level = tone(rv)
    summary = summary_line(rv.counts, lang)
    cov = rv.coverage
    listed = False
    if total == 0:
        if cov is not None and cov.complete and not cov.thin:
            parts.append("Автоматическая проверка не нашла в коде ни ошибок, ни устаревших приёмов." if ru else
                         "The automatic check found no mistakes and no outdated practices in the code.")
        elif cov is not None and cov.applicable and cov.unparsed and not cov.thin:
            parts.append("В том коде, что удалось разобрать, автоматическая проверка замечаний не нашла." if ru else
                         "In the code that could be parsed, the automatic check found nothing.")
    elif level == "advice":
        parts.append(f"Серьёзных ошибок в коде не видно; есть {count(total, 'advice', lang)} на будущее." if ru else
                     f"There are no serious mistakes in the code; there is some advice for later ({summary}).")
    elif level == "warnings":
        parts.append(f"Ошибок, из-за которых код делает не то, что задумано, не видно, но кое-что стоит "
                     f"поправить: {summary}." if ru else
                     f"No mistakes that make the code do something other than intended, but a few things should "
                     f"be fixed: {summary}.")
    elif level == "few":
        which = _items([r for r in rv.remarks if r.severity == "error"], lang)
        listed = True
        if ru:
            what = "есть ошибка, из-за которой он делает" if errors == 1 else "есть две ошибки, из-за которых он делает"
            lead = "Но в коде " if strong else "В коде "
            parts.append(f"{lead}{what} не то, что вы задумали: {which}.")
        else:
            what = "a mistake that makes it" if errors == 1 else "two mistakes that make it"
            lead = "But the code has " if strong else "The code has "
            parts.append(f"{lead}{what} do something other than you intended: {which}.")
        rest = total - errors
        if rest == 1:
            parts.append("Ещё одно замечание менее срочное." if ru else "One more remark is less urgent.")
        elif rest:
            parts.append(f"Остальные {count(rest, 'finding', lang)} менее срочные." if ru else
                         f"The other {count(rest, 'finding', lang)} are less urgent.")
    else:
        lead = ("Однако в коде" if strong else "В коде") if ru else ("However, the code" if strong else "The code")
        parts.append(f"{lead} есть серьёзные ошибки, которые заметно влияют на результат: {summary}." if ru else
                     f"{lead} has serious mistakes that noticeably affect the result: {summary}.")
    if not listed and total > 1 and rv.top and (level == "many" or total > MAX_TOP):
        items = _items(rv.top, lang)
        parts.append(f"В первую очередь стоит исправить: {items}." if ru else f"What to fix first: {items}.")
    if report.cells and any(c.cell_type == "code" and c.source.strip() for c in report.cells) and \
            not report.has_outputs:
        parts.append("Ноутбук сохранён без выводов ячеек: логов обучения и метрик не видно, поэтому результаты "
                     "в отзыве не разобраны." if ru else
                     "The notebook was saved without cell outputs: no training logs or metrics are visible, so the "
                     "review says nothing about the results.")
    code = [c for c in report.cells if c.cell_type == "code" and c.source.strip()]
    ran = sum(1 for c in code if c.execution_count is not None)
    if ran and ran * 2 < len(code):
        cells = "ячейки" if len(code) % 10 == 1 and len(code) % 100 != 11 else "ячеек"
        parts.append(f"Запущена только часть кода ({ran} из {len(code)} {cells}), поэтому результаты остальных "
                     f"ячеек в ноутбуке не видны." if ru else
                     f"Only part of the code was run ({ran} of {len(code)} code cells), so the other cells show no "
                     f"results.")
    if rv.coverage_text:
        parts.append(rv.coverage_text)
    return " ".join(parts)


def tone(rv: Review) -> str:
    """How the review should sound: "clean", "advice", "warnings", "few" (one or two errors), "many"."""
    errors, warnings, total = rv.counts["error"], rv.counts["warning"], sum(rv.counts.values())
    if total == 0:
        return "clean"
    if errors == 0:
        return "warnings" if warnings else "advice"
    return "few" if errors <= 2 else "many"


def verdict(rv: Review) -> tuple[str, list[str]]:
    """The closing verdict and the two or three next steps."""
    ru = rv.lang == "ru"
    if rv.unreadable:
        return "", []
    level = tone(rv)
    errors = rv.counts["error"]
    praise, _done = _strengths(rv)
    cov = rv.coverage
    fw = FRAMEWORK_NAMES.get((cov.framework if cov else None) or "")
    if level == "clean":
        if cov is not None and cov.complete and not cov.thin:
            text = ("Хорошая, аккуратная работа — по проверкам nbreview исправлять в коде нечего." if praise else
                    "По проверкам nbreview исправлять в коде нечего.") if ru else \
                ("Good, careful work: by nbreview's checks there is nothing to fix in the code." if praise else
                 "By nbreview's checks there is nothing to fix in the code.")
        elif cov is not None and cov.applicable:
            where = f" для {fw}" if (fw and ru) else (f" for {fw}" if fw else "")
            text = (f"По тем проверкам, что есть{where}, замечаний нет; остальное nbreview пока не проверяет." if ru else
                    f"The checks that exist{where} found nothing; nbreview does not check the rest yet.")
        else:
            text = ("Автоматическая проверка этого ноутбука ничего не сказала: её правила к нему не применимы." if ru
                    else "The automatic check had nothing to say: its rules do not apply to this notebook.")
    elif level == "advice":
        text = ("Работа хорошая: серьёзных ошибок нет, а советы выше помогут выжать из модели больше." if ru else
                "Good work: there are no serious mistakes, and the advice above can get more out of the model.")
    elif level == "warnings":
        text = ("Ошибок, из-за которых код работает не так, как задумано, не найдено; предупреждения выше всё же "
                "стоит исправить." if ru else
                "No mistakes that make the code work differently than intended; the warnings above are still "
                "worth fixing.")
    elif level == "few":
        if ru:
            what = "ошибка выше влияет на результат — исправьте её" if errors == 1 else \
                "ошибки выше влияют на результат — исправьте их"
            text = (f"Работа в целом хорошая, но {what} в первую очередь." if _strong(rv) else
                    f"{_upper_first(what)} в первую очередь.")
        else:
            what = "the mistake above affects the result: fix it" if errors == 1 else \
                "the mistakes above affect the result: fix them"
            text = f"Good work overall, but {what} first." if _strong(rv) else f"{_upper_first(what)} first."
    else:
        text = ("Ошибки в коде заметно влияют на результат — исправьте их по порядку, начиная с первого замечания." if ru
                else "The mistakes in the code noticeably affect the result: fix them in order, starting with the "
                     "first remarks.")
    return _lower_first(text), next_steps(rv)


def next_steps(rv: Review) -> list[str]:
    """Up to three steps: the most important remarks first, then tasks left unfinished or not tried."""
    lang, ru = rv.lang, rv.lang == "ru"
    rules = cat.catalog()
    steps: list[str] = []
    seen: set[str] = set()
    for r in sorted(rv.remarks, key=_consequence_key):
        if len(steps) >= MAX_STEPS or r.severity == "advice" and len(steps) >= 2:
            break
        if r.rule in seen:
            continue
        seen.add(r.rule)
        info = rules.get(r.rule)
        text = info.text(info.step, lang).strip().rstrip(".") if info and info.step else ""
        if not text:
            text = (f"Исправьте: {_lower_first(_short_title(r))}" if ru else f"Fix: {_lower_first(_short_title(r))}")
        steps.append(f"{_upper_first(text)} ({LABELS[lang]['remark']} {r.number}).")
    for t in rv.checklist:
        if len(steps) >= MAX_STEPS:
            break
        if t.status == "unused" and t.place is not None:
            title = _lower_first(t.title.split(":")[0].strip())
            steps.append(f"Подключите к обучению {title} ({t.place.label}): сейчас этот код не используется." if ru
                         else f"Make {title} ({t.place.label}) part of the training: right now the code is not used.")
    not_run = sorted({t.place.number for t in rv.checklist if t.status == "not_run" and t.place is not None})
    if not_run and len(steps) < MAX_STEPS:
        cells = join_numbers(not_run, lang)
        one = len(not_run) == 1
        steps.append(f"Запустите ноутбук целиком и сохраните его с выводами: {'ячейка' if one else 'ячейки'} "
                     f"{cells} с задачами проекта не {'запускалась' if one else 'запускались'}." if ru else
                     f"Run the whole notebook and save it with its outputs: {'cell' if one else 'cells'} {cells} "
                     f"with project tasks {'was' if one else 'were'} never run.")
    if len(steps) < 2:
        from .checklist import TASK_IDEAS

        ideas = TASK_IDEAS.get(lang, TASK_IDEAS["en"])
        status = {t.task: t.status for t in rv.checklist}
        for task in IDEA_ORDER:
            if len(steps) >= 2:
                break
            if status.get(task) != "missing" or task not in ideas:
                continue
            if _mentions(rv.report, IDEA_MENTIONS.get(task, "")):
                continue
            steps.append(("Если ещё не пробовали, " if ru else "If you have not tried it yet, ") + ideas[task] + ".")
    return steps


def _mentions(report: NotebookReport, pattern: str) -> bool:
    import re

    return bool(pattern) and any(re.search(pattern, c.source, re.I) for c in report.cells)


def words(lang: str) -> dict[str, object]:
    """Helpers the templates use for counts: `count(3, 'finding')` -> "3 замечания"."""
    return {"count": lambda n, key: count(n, key, lang), "word": lambda n, key: word(n, key, lang)}

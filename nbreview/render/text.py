"""`--format text`: the mentor's review in the terminal (rich), readable without colours when piped.

Built from the same Review as markdown and html: the opening, remarks with the student's
code (syntax-highlighted, flagged lines marked), evidence, corrected code, praise,
questions and the project checklist; a one-line summary closes the run.
"""
from __future__ import annotations

import io

from ..model import RunReport
from ..plural import count
from . import RenderContext

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "advice": "bold cyan"}
WIDTH = 100


def render(run: RunReport, ctx: RenderContext) -> str:
    from rich.console import Console

    from ..mentor import build_review

    lang = ctx.lang if ctx.lang in ("ru", "en") else "en"
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=bool(ctx.color), no_color=not ctx.color, width=WIDTH,
                      highlight=False, emoji=False, color_system="truecolor" if ctx.color else None)
    for nb in run.notebooks:
        _review(console, build_review(nb, lang), bool(ctx.color))
    from ..mentor import review_counts

    per_nb = [review_counts(nb) for nb in run.notebooks]
    by_sev = {s: sum(c[s] for c in per_nb) for s in ("error", "warning", "advice")}
    total = sum(by_sev.values())
    unreadable = sum(1 for nb in run.notebooks if nb.unreadable)
    summary = f"{count(len(run.notebooks), 'notebook', lang)}, {count(total, 'finding', lang)}"
    parts = [count(n, s, lang) for s, n in by_sev.items() if n]
    if parts:
        summary += " (" + ", ".join(parts) + ")"
    if unreadable:
        summary += f"; {count(unreadable, 'unreadable', lang)}"
    console.print(summary, markup=False)
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))


def _code(console, lines, color: bool, indent: int = 4) -> None:
    """The student's lines with their numbers; flagged lines marked with `>` (and highlighted)."""
    from rich.padding import Padding
    from rich.syntax import Syntax
    from rich.text import Text

    if not lines:
        return
    if color:
        first = lines[0].number
        marked = {ln.number for ln in lines if ln.marked}
        syntax = Syntax("\n".join(ln.text for ln in lines), "python", theme="ansi_dark", line_numbers=True,
                        start_line=first, highlight_lines=marked, word_wrap=True, background_color="default")
        console.print(Padding(syntax, (0, 0, 0, indent)))
        return
    width = max(len(str(ln.number)) for ln in lines)
    for ln in lines:
        mark = ">" if ln.marked else " "
        console.print(Text(f"{' ' * indent}{mark} {ln.number:>{width}} | {ln.text}"), soft_wrap=True)


def _para(console, text: str, indent: int = 4, style: str | None = None) -> None:
    from rich.padding import Padding
    from rich.text import Text

    console.print(Padding(Text(text, style=style or ""), (0, 0, 0, indent)))


def _review(console, rv, color: bool) -> None:
    from rich.rule import Rule
    from rich.text import Text

    L = rv.L
    console.print(Rule(Text(f"{L['review_of']} {rv.name}", style="bold"), characters="─" if color else "="))
    meta = rv.path + (f" · {L['kernel']}: {rv.kernel}" if rv.kernel else "") + f" · {rv.summary}"
    console.print(Text(meta, style="dim"))
    console.print()
    _para(console, rv.opening, indent=0, style="bold")
    console.print()
    for e in rv.errors:
        _para(console, f"{L['errors']}: {e}", indent=2, style="red")
    if rv.results:
        console.print(Text(L["results"], style="bold underline"))
        for e in rv.results:
            _para(console, f"- {e.place.label}: {e.message}", indent=2)
            for ln in e.place.lines:
                _para(console, ln.text, indent=6, style="dim")
        console.print()
    if rv.remarks:
        console.print(Text(L["remarks"], style="bold underline"))
        console.print()
    for topic in rv.topics:
        if len(rv.topics) > 1:
            console.print(Text(topic.title, style="bold"))
            console.print()
        for r in topic.remarks:
            _remark(console, rv, r, color)
    if rv.praise:
        console.print(Text(L["praise"], style="bold underline"))
        for n in rv.praise:
            where = f" ({n.place.label})" if n.place else ""
            _para(console, f"+ {n.title}{where}. {n.message}", indent=2, style="green" if color else None)
        console.print()
    if rv.questions:
        console.print(Text(L["questions"], style="bold underline"))
        for n in rv.questions:
            where = f" ({n.place.label})" if n.place else ""
            _para(console, f"? {n.title}{where} {n.message}", indent=2)
        console.print()
    if rv.checklist:
        console.print(Text(L["checklist"], style="bold underline"))
        for t in rv.checklist:
            where = f" ({t.place.label})" if t.place and t.status != "missing" else ""
            _para(console, f"[{t.mark}] {t.title}{where} — {t.text}", indent=2,
                  style="dim" if t.status == "missing" else None)
        console.print()
    for n in rv.notes:
        _para(console, n, indent=2, style="dim")
    if rv.notes:
        console.print()
    if rv.verdict:
        _para(console, f"{L['verdict']}: {rv.verdict}", indent=0, style="bold")
        if rv.next_steps:
            _para(console, f"{L['next_steps']}:", indent=0)
            for i, step in enumerate(rv.next_steps, 1):
                _para(console, f"{i}. {step}", indent=2)
        console.print()


def _remark(console, rv, r, color: bool) -> None:
    from rich.text import Text

    L = rv.L
    head = Text(f"{r.number}. ")
    head.append(r.severity_label.upper(), style=SEVERITY_STYLE.get(r.severity, ""))
    head.append(f" {r.code} ")
    head.append(r.title, style="bold")
    console.print(head)
    where = r.place.label + (f" · {L['section']} {L['lquote']}{r.place.section}{L['rquote']}" if r.place.section else "")
    _para(console, f"{where} · {L['rule_page']}: nbreview rule {r.rule}", indent=3, style="dim")
    _code(console, r.place.lines, color)
    _para(console, r.message)
    for q in r.quotes:
        _para(console, q.message, style="cyan" if color else None)
    for e in r.evidence:
        _para(console, f"{L['evidence']} ({e.place.label}): {e.message}", style="yellow" if color else None)
        for ln in e.place.lines:
            _para(console, ln.text, indent=6, style="dim")
    if r.also:
        _para(console, r.also_text)
        for p in r.also:
            _code(console, p.lines, color, indent=6)
    if r.related:
        _para(console, f"{L['related']}:", style="dim")
        for p in r.related:
            _para(console, p.label, indent=6, style="dim")
            _code(console, p.lines, color, indent=6)
    _para(console, f"{L['fix']}: {r.fix}", style="green" if color else None)
    _para(console, r.autofix, style="dim")
    if r.corrected:
        _para(console, f"{L['corrected']}:")
        _code(console, r.corrected, color)
        for p in r.corrected_also:
            _para(console, p.label, indent=6, style="dim")
            _code(console, p.lines, color, indent=6)
    console.print()

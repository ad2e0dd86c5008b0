"""`--format text`: the mentor's review in the terminal (rich), readable without colours when piped.

Built from the same Review as markdown and html: the opening, remarks with the student's
code (syntax-highlighted, flagged lines marked), evidence, corrected code, praise,
questions and the project checklist; a one-line summary closes the run.
"""
from __future__ import annotations

import io
import re

from ..model import NotebookReport, NotebookSummary, RunReport
from ..plural import count
from . import RenderContext, Sink, render_with, shown_path, visible_controls

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "advice": "bold cyan"}
WIDTH = 100


def _console(buf, color: bool):
    from rich.console import Console

    return Console(file=buf, force_terminal=bool(color), no_color=not color, width=WIDTH,
                   highlight=False, emoji=False, color_system="truecolor" if color else None)


def _lines(buf: io.StringIO) -> str:
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))


def piece(nb: NotebookReport, ctx: RenderContext, index: int) -> str:
    from ..mentor import build_review

    lang = ctx.lang if ctx.lang in ("ru", "en") else "en"
    buf = io.StringIO()
    _review(_console(buf, bool(ctx.color)), build_review(nb, lang), bool(ctx.color))
    return _lines(buf)


class Sink(Sink):  # type: ignore[no-redef]
    def write(self, summary: NotebookSummary, piece: str) -> None:
        self.out.write(piece)

    def close(self) -> None:
        lang = self.ctx.lang if self.ctx.lang in ("ru", "en") else "en"
        buf = io.StringIO()
        _console(buf, bool(self.ctx.color)).print(summary_line(self.summaries, lang), markup=False)
        self.out.write(_lines(buf))


def summary_line(summaries: list[NotebookSummary], lang: str) -> str:
    """Counted as the reviews count their remarks (findings of one kind grouped)."""
    by_sev = {s: sum(x.remarks.get(s, 0) for x in summaries) for s in ("error", "warning", "advice")}
    unreadable = sum(1 for x in summaries if x.unreadable)
    text = f"{count(len(summaries), 'notebook', lang)}, {count(sum(by_sev.values()), 'finding', lang)}"
    parts = [count(n, s, lang) for s, n in by_sev.items() if n]
    if parts:
        text += " (" + ", ".join(parts) + ")"
    if unreadable:
        text += f"; {count(unreadable, 'unreadable', lang)}"
    return text


def render(run: RunReport, ctx: RenderContext) -> str:
    from . import module

    return render_with(module("text"), run, ctx)


# Student text must not steer the terminal (an ANSI escape in a cell) nor a CI log: a line that
# starts with `::` (after spaces) is a GitHub workflow command, `##[` an old-style one.
_WORKFLOW = re.compile(r"^([ \t]*:)(:)|##\[", re.MULTILINE)


def safe(text: str) -> str:
    text = visible_controls(text)
    if "::" in text or "##[" in text:
        text = _WORKFLOW.sub(lambda m: f"{m.group(1)}\u200b{m.group(2)}" if m.group(1) else "#\u200b#[", text)
    return text


def _code(console, lines, color: bool, indent: int = 4) -> None:
    """The student's lines with their numbers; flagged lines marked with `>` (and highlighted)."""
    from rich.padding import Padding
    from rich.text import Text

    if not lines:
        return
    if color:
        from rich.syntax import Syntax  # pygments: only when colours are on

        first = lines[0].number
        marked = {ln.number for ln in lines if ln.marked}
        syntax = Syntax(safe("\n".join(ln.text for ln in lines)), "python", theme="ansi_dark", line_numbers=True,
                        start_line=first, highlight_lines=marked, word_wrap=True, background_color="default")
        console.print(Padding(syntax, (0, 0, 0, indent)))
        return
    width = max(len(str(ln.number)) for ln in lines)
    for ln in lines:
        mark = ">" if ln.marked else " "
        console.print(Text(f"{' ' * indent}{mark} {ln.number:>{width}} | {safe(ln.text)}"), soft_wrap=True)


def _para(console, text: str, indent: int = 4, style: str | None = None) -> None:
    from rich.padding import Padding
    from rich.text import Text

    console.print(Padding(Text(safe(text), style=style or ""), (0, 0, 0, indent)))


def _review(console, rv, color: bool) -> None:
    from rich.rule import Rule
    from rich.text import Text

    L = rv.L
    console.print(Rule(Text(safe(f"{L['review_of']} {shown_path(rv.name)}"), style="bold"),
                       characters="─" if color else "="))
    meta = shown_path(rv.path) + (f" · {L['kernel']}: {rv.kernel}" if rv.kernel else "") + f" · {rv.summary}"
    console.print(Text(safe(meta), style="dim"))
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
    head.append(safe(r.title), style="bold")
    console.print(head)
    where = r.place.label + (f" · {L['section']} {L['lquote']}{r.place.section}{L['rquote']}" if r.place.section else "")
    _para(console, f"{where} · {L['rule_page']}: nbreview rule {r.rule}", indent=3, style="dim")
    _code(console, r.place.lines, color)
    _para(console, r.message)
    for q in r.quotes:
        _para(console, q.message, style="cyan" if color else None)
    for e in r.evidence:
        where = f" ({e.place.label})" if e.place.label else ""
        _para(console, f"{e.title}{where}: {e.message}",
              style=("green" if e.kind in ("training", "static") else "yellow") if color else None)
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

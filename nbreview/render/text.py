"""`--format text`: the terminal review (rich), readable without colours when piped."""
from __future__ import annotations

import io

from .. import catalog as cat
from ..model import Finding, NotebookReport, RunReport
from ..plural import count
from . import RenderContext

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "advice": "cyan"}
LABELS = {
    "ru": {"error": "ошибка", "warning": "предупреждение", "advice": "совет", "cell": "ячейка",
           "clean": "замечаний нет", "unreadable": "не удалось прочитать", "note": "заметка",
           "also": "см. также"},
    "en": {"error": "error", "warning": "warning", "advice": "advice", "cell": "cell",
           "clean": "no findings", "unreadable": "could not be read", "note": "note", "also": "see also"},
}


def cell_label(index: int, execution_count: int | None, lang: str) -> str:
    word = LABELS[lang]["cell"]
    prompt = f"In [{execution_count}]" if execution_count is not None else "In [ ]"
    return f"{word} {index + 1}, {prompt}"


def _quote(nb: NotebookReport, f: Finding) -> list[str]:
    cell = nb.cell(f.location.cell)
    if cell is None:
        return []
    lines = cell.source.split("\n")
    start = max(1, f.location.line - 1)
    end = min(len(lines), (f.location.end_line or f.location.line) + 1, start + 8)
    out = []
    for n in range(start, end + 1):
        mark = ">" if f.location.line <= n <= (f.location.end_line or f.location.line) else " "
        out.append(f"  {mark} {n:>3} | {lines[n - 1]}")
    return out


def render(run: RunReport, ctx: RenderContext) -> str:
    from rich.console import Console
    from rich.markup import escape

    lang = ctx.lang if ctx.lang in LABELS else "en"
    L = LABELS[lang]
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=bool(ctx.color), no_color=not ctx.color, width=100,
                      highlight=False, soft_wrap=False)
    rules = cat.catalog()
    for nb in run.notebooks:
        console.print(f"[bold]{escape(nb.path)}[/bold]")
        for e in nb.errors:
            if e.cell is None:
                console.print(f"  [red]{L['unreadable']}:[/red] {escape(e.message)}")
            else:
                console.print(f"  [dim]{L['note']} ({cell_label(e.cell, None, lang)}): {escape(e.message)}[/dim]")
        if not nb.findings and not nb.unreadable:
            console.print(f"  [green]{L['clean']}[/green]")
        for f in nb.findings:
            info = rules.get(f.rule)
            title = info.text(info.title, lang) if info else f.rule
            loc = cell_label(f.location.cell, f.location.execution_count, lang)
            style = SEVERITY_STYLE.get(f.severity, "")
            console.print(
                f"  [{style}]{L[f.severity]}[/{style}] {f.code} [bold]{escape(f.rule)}[/bold] — "
                f"{escape(title)}  [dim]({loc}, line {f.location.line})[/dim]"
            )
            for q in _quote(nb, f):
                console.print(escape(q), style="dim" if not q.lstrip().startswith(">") else None)
            console.print("    " + escape(f.message(lang)))
            if f.related:
                also = ", ".join(cell_label(r.cell, r.execution_count, lang) for r in f.related)
                console.print(f"    [dim]{L['also']}: {escape(also)}[/dim]")
        console.print()
    total = len(run.findings)
    unreadable = sum(1 for nb in run.notebooks if nb.unreadable)
    summary = f"{count(len(run.notebooks), 'notebook', lang)}, {count(total, 'finding', lang)}"
    by_sev = {s: sum(1 for f in run.findings if f.severity == s) for s in ("error", "warning", "advice")}
    parts = [count(n, s, lang) for s, n in by_sev.items() if n]
    if parts:
        summary += " (" + ", ".join(parts) + ")"
    if unreadable:
        summary += f"; {count(unreadable, 'unreadable', lang)}"
    console.print(summary)
    return buf.getvalue()

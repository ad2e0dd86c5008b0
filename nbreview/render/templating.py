"""The jinja2 environment shared by the template-based formats (markdown, html, cohort).

Imported only by those renderers: `--format json` never loads jinja2 or pygments.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ..catalog import content_dir
from . import visible_controls

_CODE_SPAN = re.compile(r"`([^`\n]+)`")


@lru_cache(maxsize=1)
def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(content_dir("templates"))),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["rich_text"] = rich_text
    env.filters["md_text"] = md_text
    env.filters["md_code"] = md_code
    env.filters["md_plain"] = md_plain
    env.filters["fence"] = fence
    env.filters["highlight"] = highlight_lines
    env.filters["zip_highlight"] = lambda lines: list(zip(lines, highlight_lines([ln.text for ln in lines])))
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def rich_text(text: str):
    """HTML: escape everything, then turn `code` spans of catalog messages into <code>."""
    from markupsafe import Markup, escape

    escaped = str(escape(text))
    return Markup(_CODE_SPAN.sub(lambda m: f"<code>{m.group(1)}</code>", escaped))


def md_text(text: str) -> str:
    """Markdown prose: keep `code` spans, neutralise HTML and markdown control characters elsewhere
    (a stray backtick too: it would open a code span that swallows what follows)."""
    parts = re.split(r"(`[^`\n]+`)", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            out.append(part)
            continue
        part = visible_controls(part).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        part = re.sub(r"([\\*|`])", r"\\\1", part).replace("](", "\\](")
        out.append(part)
    return "".join(out)


def md_plain(text: str) -> str:
    """Untrusted text (a file name, a kernel name, a heading of the notebook) as markdown prose:
    no HTML, no code spans, no emphasis, links or table cells; one line."""
    text = visible_controls(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_|\[\]])", r"\\\1", text)


def md_code(text: str) -> str:
    """An inline code span that survives backticks in the text."""
    text = visible_controls(text.replace("\n", " ").replace("\r", " "))
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(lines: list[str]) -> str:
    """A code fence longer than any run of backticks in the code."""
    longest = max((len(m) for line in lines for m in re.findall(r"`{3,}", line)), default=2)
    return "`" * max(3, longest + 1)


def pygments_css() -> str:
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:  # pragma: no cover
        return ""
    return HtmlFormatter(classprefix="hl-", style="default").get_style_defs(".code")


def highlight_lines(lines: list[str]) -> list:
    """Python syntax highlighting as HTML, one safe string per source line (pygments escapes)."""
    from markupsafe import Markup, escape

    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - pygments comes with rich
        return [Markup(escape(line)) for line in lines]
    html = highlight("\n".join(lines) + "\n", PythonLexer(stripnl=False, ensurenl=True), HtmlFormatter(nowrap=True, classprefix="hl-"))
    out = html.split("\n")
    if len(out) < len(lines):  # pragma: no cover - defensive
        return [Markup(escape(line)) for line in lines]
    return [Markup(x) for x in out[: len(lines)]]

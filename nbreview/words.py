"""The student's own words: the sentences they wrote in markdown cells and in code comments.

Students write their conclusions and questions next to the code («TTA не дал прироста»,
«почему val_accuracy скачет?»). The review quotes such a sentence in the remark that explains
it. A rule says which sentences it explains in its catalog file:

    [words]
    about = ['\\bTTA\\b', 'test[- ]time']      # what the sentence is about (any of, regexes)
    symptom = ['не дал', 'no gain']             # what the student observed (any of; optional)

A sentence is explained when it matches one `about` and one `symptom` pattern (the shared
SYMPTOMS below when the rule gives none). Markdown is read as text: code blocks and inline
code are not sentences; a comment that is commented-out code is not a sentence either.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from functools import lru_cache

from .model import CellView

MAX_QUOTE = 160
MAX_LINE = 2000  # a longer markdown line is read up to here
# What students write when something did not work or puzzles them (Russian and English).
SYMPTOMS = (
    r"не\s+дал", r"не\s+дало", r"не\s+даёт", r"не\s+дает", r"не\s+помог", r"не\s+улучш", r"не\s+привел",
    r"не\s+привёл", r"не\s+изменил", r"не\s+вырос", r"без\s+прирост", r"прирост\w*\s+нет", r"хуже", r"одинаков",
    r"то\s+же\s+самое", r"скач", r"прыга", r"колебл", r"почему", r"странн", r"не\s+понима", r"\?",
    r"no\s+(gain|improvement|effect)", r"did\s*n[o']t\s+(help|improve|change)", r"does\s*n[o']t\s+(help|improve)",
    r"\bworse\b", r"\bsame\b", r"\bidentical\b", r"\bwhy\b", r"\bjump", r"fluctuat", r"\bweird\b", r"\bstrange\b",
)
_FENCE = re.compile(r"(^|\n)\s*(```|~~~).*?(\n\s*\2[^\n]*|$)", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZА-ЯЁ«\"(])")


@dataclass(frozen=True)
class Sentence:
    cell: int
    text: str  # as the student wrote it, on one line
    kind: str  # "markdown" | "comment"
    line: int = 1  # 1-based line of the cell where it starts


def sentences(cells: list[CellView]) -> list[Sentence]:
    """Every sentence of the notebook's markdown cells and code comments, in notebook order."""
    out: list[Sentence] = []
    for c in cells:
        if c.cell_type == "markdown":
            out.extend(_markdown(c))
        elif c.cell_type == "code":
            out.extend(_comments(c))
    return out


def _markdown(c: CellView) -> list[Sentence]:
    text = _FENCE.sub("\n", c.source)
    out = []
    for n, raw in enumerate(text.split("\n"), start=1):
        if raw.startswith(("    ", "\t")) and raw.strip():
            continue  # an indented code block
        line = _plain(raw)
        for part in _SENTENCE_END.split(line):
            part = part.strip()
            if len(part) >= 4:
                out.append(Sentence(c.index, part, "markdown", n))
    return out


def _plain(line: str) -> str:
    """A markdown line as plain text: no heading marks, bullets, emphasis, links or HTML tags."""
    line = line[:MAX_LINE]
    line = re.sub(r"<[^>]{1,200}>", " ", line)
    line = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"^\s{0,3}(#{1,6}|[-*+]|\d+[.)]|>)\s+", "", line)
    line = re.sub(r"(?<!\w)(\*\*|__|\*|_)(\S(?:.*?\S)?)\1(?!\w)", r"\2", line)
    return " ".join(line.split())


def _comments(c: CellView) -> list[Sentence]:
    from .ipython import mask

    try:
        source = mask(c.source).source
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        return []
    out = []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        text = tok.string.lstrip("#").strip()
        if len(text) < 4 or text.lower().startswith(("nbreview:", "noqa", "type:", "!", "%")) or _is_code(text):
            continue
        out.append(Sentence(c.index, " ".join(text.split()), "comment", tok.start[0]))
    return out


def _is_code(text: str) -> bool:
    """A commented-out line of code, not words: it parses and does more than name something."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    return any(isinstance(n, (ast.Call, ast.Assign, ast.AugAssign, ast.Import, ast.ImportFrom, ast.Attribute,
                              ast.Subscript, ast.For, ast.If, ast.Return, ast.BinOp, ast.Compare))
               for n in ast.walk(tree))


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


def explained_by(words: dict[str, list[str]], found: list[Sentence]) -> list[Sentence]:
    """The sentences a rule's `[words]` say it explains."""
    about = _compiled(tuple(words.get("about", ())))
    symptom = _compiled(tuple(words.get("symptom", ()) or SYMPTOMS))
    if about is None or symptom is None:
        return []
    return [s for s in found if about.search(s.text) and symptom.search(s.text)]


def quote(text: str, max_len: int = MAX_QUOTE) -> str:
    """The sentence, shortened at a word boundary when it is long."""
    if len(text) <= max_len:
        return text
    cut = text[:max_len].rsplit(" ", 1)[0].rstrip(",;:—-")
    return cut + "…"

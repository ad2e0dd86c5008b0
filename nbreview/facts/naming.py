"""How a message names things: the student's own variable for an object, else their own
code for it, quoted from the cell (never the normalised form the analysis works with).
"""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .values import Obj, Site, Value

if TYPE_CHECKING:
    from ..program import Program
    from .interpreter import Interpreter


class Sources:
    """The code cells' text, split into lines once, for quoting nodes (`ast.get_source_segment`
    re-splits the whole cell on every call)."""

    def __init__(self, program: "Program") -> None:
        self.text = {cc.index: cc.cell.source for cc in program.cells}
        self._lines: dict[int, list[bytes]] = {}

    def lines(self, cell: int) -> list[bytes] | None:
        if cell not in self._lines:
            text = self.text.get(cell)
            if text is None:
                return None
            self._lines[cell] = [line.encode("utf-8") for line in text.split("\n")]
        return self._lines[cell]

    def segment(self, cell: int, node: ast.AST) -> str | None:
        """The exact text of `node` in its cell (columns are UTF-8 byte offsets, as in `ast`)."""
        lines = self.lines(cell)
        try:
            lo, hi = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
            c0, c1 = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        except AttributeError:
            return None
        if lines is None or lo < 0 or hi >= len(lines) or hi < lo or c1 is None:
            return None
        if lo == hi:
            return lines[lo][c0:c1].decode("utf-8", "replace")
        parts = [lines[lo][c0:]] + lines[lo + 1:hi] + [lines[hi][:c1]]
        return b"\n".join(parts).decode("utf-8", "replace")

    def quote(self, cell: int | None, node: ast.AST | None) -> str:
        """The student's own spelling of a node on one line (`rescale=1. / 255`, not `1.0 / 255`)."""
        if node is None:
            return ""
        seg = self.segment(cell, node) if cell is not None else None
        if seg:
            return " ".join(part.strip() for part in seg.splitlines())
        try:
            return ast.unparse(node)
        except Exception:
            return ""


def first_names(interp: "Interpreter") -> dict[int, str]:
    """Object id -> the variable (or attribute target) it was first bound to."""
    names: dict[int, str] = {}
    for _site, name, value in interp.assignments:
        if isinstance(value, Obj) and value.id not in names:
            names[value.id] = name
    for site, _base, _attr, value in interp.attr_sets:  # `self.base = EfficientNetB0(...)`
        if isinstance(value, Obj) and value.id not in names and isinstance(site.node, ast.Assign):
            try:
                names[value.id] = ast.unparse(site.node.targets[0])
            except Exception:
                continue
    return names


_CLOSE = {"(": ")", "[": "]", "{": "}"}


def trim(text: str, max_len: int) -> str:
    """Code shortened for a sentence without cutting a name, number or string in half:
    `TFRecordDataset(filepaths, num_parallel_reads=...)` -> `TFRecordDataset(filepaths, …)`."""
    if len(text) <= max_len:
        return text
    budget = max(1, max_len - 1)
    stack: list[str] = []
    quote: str | None = None
    best: tuple[int, tuple[str, ...]] | None = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in _CLOSE:
            stack.append(_CLOSE[ch])
        elif ch in ")]}" and stack:
            stack.pop()
        if quote is None and ch in "([{," and i + 1 + len(stack) <= budget:
            best = (i + 1, tuple(stack))
        if i + 1 >= budget:
            break
    if best is not None:
        end, closing = best
        head = text[:end].rstrip()
        sep = " " if head.endswith(",") else ""
        return f"{head}{sep}…{''.join(reversed(closing))}"
    cut = text[:budget]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


def quote_site(sources: Sources, site: Site, max_len: int = 100) -> str:
    return trim(sources.quote(site.cell, site.node), max_len)


def describe_value(names: dict[int, str], sources: Sources, v: Value | None, max_len: int = 60) -> str | None:
    """The student's variable for an object, else their own code for it; None when there is
    nothing to quote (a message then says it without the name)."""
    if isinstance(v, Obj):
        name = names.get(v.id)
        if name:
            return name
        text = quote_site(sources, v.site, max_len)
        return text or None
    return None

"""Lossless corrections of a notebook's cells, made with libcst.

A rule's `fix` function receives a `NotebookEditor` and asks for changes on the nodes it
reported (located by the `ast` site the analysis gave it): set or rename a keyword, rename
a method, replace an expression, insert a statement. The editor applies them with libcst
on the affected cells only (IPython magics stay masked, so positions never move), and
turns the result into line hunks of the student's original cell (`CellEdit`): everything
outside the hunks is byte-identical. The review's "corrected code" and `nbreview fix` use
the same hunks.

libcst is imported only here, and only when a correction is asked for.
"""
from __future__ import annotations

import ast
import difflib
from typing import Any, Callable

from .facts.values import Site
from .ipython import mask
from .model import CellEdit


class FixError(Exception):
    """The correction cannot be made safely here (the node was not found, libcst rejects the
    cell, the result does not parse): the finding keeps its advice, with no code change."""


def apply_edits(source: str, edits: list[CellEdit]) -> str:
    """The cell's source with non-overlapping edits applied (bottom-up, so line numbers hold)."""
    lines = source.split("\n")
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        lines[e.start - 1:e.end] = list(e.lines)
    return "\n".join(lines)


class _Cell:
    def __init__(self, index: int, source: str) -> None:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider

        self.index = index
        self.source = source
        self.masked = mask(source).source
        try:
            self.wrapper = MetadataWrapper(cst.parse_module(self.masked))
        except Exception as exc:  # noqa: BLE001 - libcst rejects some code that ast accepts
            raise FixError(f"libcst cannot parse cell {index}: {exc}") from None
        self.module = self.wrapper.module
        self.positions = self.wrapper.resolve(PositionProvider)
        self.byte_lines = [line.encode("utf-8") for line in self.masked.split("\n")]
        self.by_start: dict[tuple[int, int], list[Any]] = {}
        for node, pos in self.positions.items():
            self.by_start.setdefault((pos.start.line, pos.start.column), []).append(node)
        self.transforms: list[tuple[Any, Callable[[Any], Any]]] = []

    def char_col(self, line: int, byte_col: int) -> int:
        if 1 <= line <= len(self.byte_lines):
            return len(self.byte_lines[line - 1][:byte_col].decode("utf-8", "replace"))
        return byte_col

    def find(self, node: ast.AST, types: tuple[type, ...]) -> Any:
        """The libcst node of one of `types` spanning exactly the `ast` node."""
        try:
            start = (node.lineno, self.char_col(node.lineno, node.col_offset))  # type: ignore[attr-defined]
            end = (node.end_lineno, self.char_col(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]
        except AttributeError:
            raise FixError("no position") from None
        candidates = [n for n in self.by_start.get(start, []) if isinstance(n, types)]
        for n in candidates:
            pos = self.positions[n]
            if (pos.end.line, pos.end.column) == end:
                return n
        if candidates:  # parentheses may differ between ast and libcst spans: the outermost
            return max(candidates, key=lambda n: (self.positions[n].end.line, self.positions[n].end.column))
        raise FixError(f"node not found at cell {self.index} line {start[0]}")

    def statement_at(self, line: int) -> Any:
        """The statement (simple line or compound) that starts on `line`, innermost block."""
        import libcst as cst

        best = None
        for node, pos in self.positions.items():
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) and pos.start.line == line:
                if best is None or self.positions[best].start.column < pos.start.column:
                    best = node
        if best is None:
            raise FixError(f"no statement on line {line}")
        return best

    def statement_containing(self, line: int) -> Any:
        """The innermost statement (simple line or compound) whose lines include `line`."""
        import libcst as cst

        best = None
        for node, pos in self.positions.items():
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) and \
                    pos.start.line <= line <= pos.end.line:
                if best is None or (pos.end.line - pos.start.line, -pos.start.column) < \
                        (self.positions[best].end.line - self.positions[best].start.line,
                         -self.positions[best].start.column):
                    best = node
        if best is None:
            raise FixError(f"no statement on line {line}")
        return best

    def result(self) -> str:
        """The masked source after every transform (each original node once, composed)."""
        import libcst as cst

        wanted: dict[int, list[Callable[[Any], Any]]] = {}
        for node, fn in self.transforms:
            wanted.setdefault(id(node), []).append(fn)

        class Apply(cst.CSTTransformer):
            def on_leave(self, original, updated):  # type: ignore[override]
                for fn in wanted.get(id(original), ()):
                    updated = fn(updated)
                return updated

        try:
            return self.module.visit(Apply()).code
        except Exception as exc:  # noqa: BLE001
            raise FixError(f"libcst could not apply the change: {exc}") from None


class NotebookEditor:
    """Collects the corrections of one or more findings on a notebook's cells."""

    def __init__(self, sources: dict[int, str]) -> None:
        self.sources = sources  # cell index -> the cell's source as stored
        self._cells: dict[int, _Cell] = {}

    def _cell(self, index: int) -> _Cell:
        if index not in self._cells:
            if index not in self.sources:
                raise FixError(f"cell {index} is not a code cell")
            self._cells[index] = _Cell(index, self.sources[index])
        return self._cells[index]

    # --- locating ------------------------------------------------------------------------
    def node(self, site: Site, node: ast.AST | None = None, types: tuple[type, ...] | None = None) -> Any:
        import libcst as cst

        target = node if node is not None else site.node
        return self._cell(site.cell).find(target, types or (cst.BaseExpression,))

    def call(self, site: Site, node: ast.AST | None = None) -> Any:
        import libcst as cst

        return self.node(site, node, (cst.Call,))

    def transform(self, cell: int, original: Any, fn: Callable[[Any], Any]) -> None:
        """Replace `original` (a libcst node of `cell`) by `fn(updated_node)`."""
        self._cell(cell).transforms.append((original, fn))

    # --- common changes ----------------------------------------------------------------
    def set_keyword(self, site: Site, name: str, value: str, position: int | None = None,
                    node: ast.AST | None = None) -> None:
        """Give the call at `site` the argument `name=value`: replace it when present (also when
        it is passed positionally at index `position`), else append it in the call's layout."""
        import libcst as cst

        call = self.call(site, node)
        new_value = cst.parse_expression(value)

        def fn(c: Any) -> Any:
            args = list(c.args)
            for i, a in enumerate(args):
                if a.keyword is not None and a.keyword.value == name:
                    args[i] = a.with_changes(value=new_value)
                    return c.with_changes(args=args)
            if position is not None and len(args) > position and \
                    all(a.keyword is None and not a.star for a in args[:position + 1]):
                args[position] = args[position].with_changes(value=new_value)
                return c.with_changes(args=args)
            if any(a.star == "**" for a in args):
                raise FixError("the call takes **kwargs: the argument may be set there")
            return c.with_changes(args=_append_arg(cst, args, cst.Arg(
                value=new_value, keyword=cst.Name(name),
                equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                      whitespace_after=cst.SimpleWhitespace(""))), c))

        self.transform(site.cell, call, fn)

    def rename_keyword(self, site: Site, old: str, new: str, node: ast.AST | None = None) -> None:
        import libcst as cst

        call = self.call(site, node)

        def fn(c: Any) -> Any:
            return c.with_changes(args=[a.with_changes(keyword=cst.Name(new))
                                        if a.keyword is not None and a.keyword.value == old else a for a in c.args])

        self.transform(site.cell, call, fn)

    def keywordize(self, site: Site, names: list[str], keep: int = 1, node: ast.AST | None = None) -> None:
        """Pass the positional arguments from index `keep` on by name (`names[i]`)."""
        import libcst as cst

        call = self.call(site, node)

        def fn(c: Any) -> Any:
            args = list(c.args)
            for i, a in enumerate(args):
                if i < keep or a.keyword is not None or a.star:
                    continue
                if i >= len(names):
                    raise FixError("more positional arguments than the signature has")
                args[i] = a.with_changes(keyword=cst.Name(names[i]), equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
            return c.with_changes(args=args)

        self.transform(site.cell, call, fn)

    def remove_keyword(self, site: Site, name: str, node: ast.AST | None = None) -> None:
        import libcst as cst

        call = self.call(site, node)

        def fn(c: Any) -> Any:
            index = next((i for i, a in enumerate(c.args) if a.keyword is not None and a.keyword.value == name), None)
            if index is None:
                return c
            args, opening, closing = _without(cst, list(c.args), index, c.whitespace_before_args, None)
            if not args:  # `f(\n    x=1\n)` -> `f()`
                return c.with_changes(args=[], whitespace_before_args=cst.SimpleWhitespace(""))
            return c.with_changes(args=args, whitespace_before_args=opening)

        self.transform(site.cell, call, fn)

    def remove_element(self, site: Site, container: ast.AST, element: ast.AST) -> None:
        """Remove `element` from the list or tuple display `container`, keeping the layout of the rest."""
        import libcst as cst

        target = self.node(site, container, (cst.List, cst.Tuple))
        cell = self._cell(site.cell)
        wanted = cell.find(element, (cst.BaseExpression,))

        def fn(d: Any) -> Any:
            index = next((i for i, el in enumerate(target.elements) if el.value is wanted), None)
            if index is None:
                raise FixError("element not found in its list")
            if isinstance(d, cst.List):
                opening, closing = d.lbracket.whitespace_after, d.rbracket.whitespace_before
            elif d.lpar and d.rpar:
                opening, closing = d.lpar[0].whitespace_after, d.rpar[-1].whitespace_before
            else:
                raise FixError("a tuple without parentheses")
            elements, opening, closing = _without(cst, list(d.elements), index, opening, closing)
            if not elements:
                opening = closing = cst.SimpleWhitespace("")
            elif isinstance(d, cst.Tuple) and len(elements) == 1 and not isinstance(elements[0].comma, cst.Comma):
                elements[0] = elements[0].with_changes(comma=cst.Comma())  # `(a,)` stays a tuple
            if isinstance(d, cst.List):
                return d.with_changes(elements=elements, lbracket=d.lbracket.with_changes(whitespace_after=opening),
                                      rbracket=d.rbracket.with_changes(whitespace_before=closing))
            return d.with_changes(elements=elements,
                                  lpar=[d.lpar[0].with_changes(whitespace_after=opening), *d.lpar[1:]],
                                  rpar=[*d.rpar[:-1], d.rpar[-1].with_changes(whitespace_before=closing)])

        self.transform(site.cell, target, fn)

    def remove_statement(self, cell: int, line: int) -> None:
        """Remove the statement that starts on `line` (with a comment on the same line); a comment
        on the lines above it would go with it, so that is refused."""
        import libcst as cst

        c = self._cell(cell)
        stmt = c.statement_at(line)
        if any(el.comment is not None for el in getattr(stmt, "leading_lines", ())):
            raise FixError("a comment above the statement would be lost")
        c.transforms.append((stmt, lambda _s: cst.RemovalSentinel.REMOVE))

    def rename_method(self, site: Site, new: str, node: ast.AST | None = None) -> None:
        """`x.old(...)` -> `x.new(...)`."""
        import libcst as cst

        call = self.call(site, node)

        def fn(c: Any) -> Any:
            if not isinstance(c.func, cst.Attribute):
                raise FixError("not a method call")
            return c.with_changes(func=c.func.with_changes(attr=cst.Name(new)))

        self.transform(site.cell, call, fn)

    def replace(self, site: Site, code: str, node: ast.AST | None = None) -> None:
        """Replace the expression at `site` (or `node`) by `code`."""
        import libcst as cst

        target = self.node(site, node)
        new = cst.parse_expression(code)
        self.transform(site.cell, target, lambda _n: new)

    def set_dict_key(self, site: Site, key: str, value: str, node: ast.AST | None = None) -> None:
        """In the dict display or `dict(...)` call at `site`, set `key` to `value`."""
        import libcst as cst

        target = self.node(site, node, (cst.Dict, cst.Call))
        new_value = cst.parse_expression(value)

        def fn(d: Any) -> Any:
            if isinstance(d, cst.Call):
                args = list(d.args)
                for i, a in enumerate(args):
                    if a.keyword is not None and a.keyword.value == key:
                        args[i] = a.with_changes(value=new_value)
                        return d.with_changes(args=args)
                return d.with_changes(args=_append_arg(cst, args, cst.Arg(
                    value=new_value, keyword=cst.Name(key),
                    equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                          whitespace_after=cst.SimpleWhitespace(""))), d))
            elements = list(d.elements)
            for i, el in enumerate(elements):
                if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString) and \
                        el.key.evaluated_value == key:
                    elements[i] = el.with_changes(value=new_value)
                    return d.with_changes(elements=elements)
            quote = "'" if any(isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString)
                               and el.key.value.startswith("'") for el in elements) else '"'
            new_el = cst.DictElement(cst.SimpleString(f"{quote}{key}{quote}"), new_value)
            if elements:
                last = elements[-1]
                trailing = isinstance(last.comma, cst.Comma)
                elements[-1] = last.with_changes(comma=elements[-2].comma if trailing and len(elements) >= 2
                                                 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                elements.append(new_el.with_changes(comma=last.comma) if trailing else new_el)
            else:
                elements.append(new_el)
            return d.with_changes(elements=elements)

        self.transform(site.cell, target, fn)

    def insert_before(self, cell: int, line: int, code: str) -> None:
        """Insert statement(s) `code` before the statement starting on `line`, same indentation."""
        self._insert(cell, line, code, before=True)

    def insert_after(self, cell: int, line: int, code: str) -> None:
        self._insert(cell, line, code, before=False)

    def insert_before_containing(self, cell: int, line: int, code: str) -> None:
        """Insert statement(s) `code` before the innermost statement that spans `line` (the
        statement a comprehension or a multi-line call on that line belongs to)."""
        self._insert(cell, line, code, before=True, containing=True)

    def _insert(self, cell: int, line: int, code: str, before: bool, containing: bool = False) -> None:
        import libcst as cst

        c = self._cell(cell)
        stmt = c.statement_containing(line) if containing else c.statement_at(line)
        new = list(cst.parse_module(code.rstrip("\n") + "\n").body)

        def fn(s: Any) -> Any:
            return cst.FlattenSentinel(new + [s] if before else [s] + new)

        c.transforms.append((stmt, fn))

    # --- results ---------------------------------------------------------------------------
    def edits(self) -> list[CellEdit]:
        """Line hunks of every cell changed, against the student's original text."""
        out: list[CellEdit] = []
        for index, c in self._cells.items():
            if not c.transforms:
                continue
            new = c.result()
            try:
                ast.parse(new)
            except SyntaxError as exc:
                raise FixError(f"the corrected cell {index} would not parse: {exc.msg}") from None
            out.extend(_hunks(index, c.source, c.masked, new))
        return out


def _has_comment(cst, ws) -> bool:
    return isinstance(ws, cst.ParenthesizedWhitespace) and (
        ws.first_line.comment is not None or any(line.comment is not None for line in ws.empty_lines))


def _kept_whitespace(cst, before, after, last: bool):
    """The whitespace to keep where an item that sat between `before` and `after` was removed:
    the comment lines around it stay, the item's own line (with its trailing comment) goes.
    `last`: `after` runs up to the closing bracket."""
    parenthesized = cst.ParenthesizedWhitespace
    if isinstance(after, parenthesized):
        if isinstance(before, parenthesized):
            return before.with_changes(empty_lines=[*before.empty_lines, *after.empty_lines],
                                       indent=after.indent, last_line=after.last_line)
        return after.with_changes(first_line=cst.TrailingWhitespace())
    if not last:
        return before
    if _has_comment(cst, before):  # the bracket closes on the next line, below the comment
        return before.with_changes(last_line=cst.SimpleWhitespace(""))
    return after


def _without(cst, items: list, index: int, opening, closing) -> tuple[list, Any, Any]:
    """Call arguments or list elements without item `index`, the commas, line breaks and comment
    lines of the others as they were. `opening` is the whitespace after the opening bracket;
    `closing` the whitespace before the closing one (None for a call: there it is held by the
    last argument). Returns the items and the new opening and closing whitespace."""
    removed = items.pop(index)
    is_arg = isinstance(removed, cst.Arg)
    comma = removed.comma if isinstance(removed.comma, cst.Comma) else None
    last = index == len(items)
    if not items:
        return items, opening, closing
    if not last:
        after = comma.whitespace_after if comma else removed.whitespace_after_arg
    elif is_arg:
        after = comma.whitespace_after if comma else removed.whitespace_after_arg
    else:
        after = closing  # a list holds the line break before `]` there
    if index == 0:
        return items, _kept_whitespace(cst, opening, after, last=False), closing
    prev = items[index - 1]
    before = prev.comma.whitespace_after
    gap = _kept_whitespace(cst, before, after, last)
    if not last:
        items[index - 1] = prev.with_changes(comma=prev.comma.with_changes(whitespace_after=gap))
    elif is_arg and comma is not None:  # `f(a,\n  b,\n)`: the trailing comma stays, on the item before
        items[index - 1] = prev.with_changes(comma=prev.comma.with_changes(whitespace_after=gap))
    elif is_arg:
        items[index - 1] = prev.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=gap)
    else:
        kept = prev.comma.with_changes(whitespace_after=cst.SimpleWhitespace("")) if comma is not None \
            else cst.MaybeSentinel.DEFAULT
        items[index - 1] = prev.with_changes(comma=kept)
        closing = gap
    return items, opening, closing


def _append_arg(cst, args: list, new_arg, call) -> list:
    """Append an argument keeping the call's layout: one argument per line stays so."""
    if not args:
        return [new_arg]
    last = args[-1]
    trailing = isinstance(last.comma, cst.Comma)
    args = list(args)
    if trailing and len(args) >= 2:  # one argument per line with a trailing comma: keep that layout
        args[-1] = last.with_changes(comma=args[-2].comma)
        args.append(new_arg.with_changes(comma=last.comma))
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(new_arg.with_changes(comma=last.comma) if trailing else new_arg)
    return args


def _hunks(cell: int, original: str, masked: str, new: str) -> list[CellEdit]:
    """Diff the masked cell before/after; the hunks apply to the original (unmasked) lines,
    which are identical outside the masked IPython lines (a hunk may not touch those)."""
    orig_lines, masked_lines, new_lines = original.split("\n"), masked.split("\n"), new.split("\n")
    out = []
    sm = difflib.SequenceMatcher(a=masked_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        if any(orig_lines[i] != masked_lines[i] for i in range(i1, i2)):
            raise FixError("the change would touch an IPython line")
        out.append(CellEdit(cell, i1 + 1, i2, tuple(new_lines[j1:j2])))
    return out


def fixed_sources(sources: dict[int, str], edits_per_finding: list[list[CellEdit]]) -> tuple[dict[int, str], int]:
    """Apply the corrections of several findings at once: per cell, every finding whose hunks do
    not overlap those already taken (a finding's hunks go in together or not at all). Returns
    the new sources and how many findings were applied; the others wait for the next round
    (`nbreview fix` re-checks and repeats until nothing changes)."""
    taken: list[CellEdit] = []
    applied = 0
    for hunks in edits_per_finding:
        if not hunks or any(h.overlaps(t) for h in hunks for t in taken):
            continue
        taken.extend(hunks)
        applied += 1
    out = dict(sources)
    for cell in {h.cell for h in taken}:
        out[cell] = apply_edits(sources[cell], [h for h in taken if h.cell == cell])
    return out, applied

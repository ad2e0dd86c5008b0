"""The usual corrections without libcst: the same edits as edits.NotebookEditor, made as text.

libcst takes ~0.13 s to import, more than the rest of a cold `nbreview check` of a notebook
in text. Most corrections only rename a keyword or a method, name a positional argument,
drop a keyword, or set `save_best_only=True` on a call written the plain way; for those the
positions of the stdlib `ast` are enough, and the text is exactly what libcst would write
(tests/test_quickedits.py compares the two on many layouts). QuickEditor records what a
rule asks for; anything else it is asked (another method, a layout it cannot splice exactly:
comments between arguments, parentheses around a value, an odd spacing) replays the whole
record on the libcst editor, which then answers as usual.
"""
from __future__ import annotations

import ast
import re
from typing import Any

from .edits import FixError, NotebookEditor, _hunks
from .facts.values import Site
from .ipython import mask
from .model import CellEdit

SIMPLE = ("set_keyword", "rename_keyword", "keywordize", "remove_keyword", "rename_method", "replace",
          "insert_before", "insert_after")
_COMMENT = re.compile(r"#[^\n]*")


class _Unhandled(Exception):
    pass


class QuickEditor:
    """NotebookEditor's interface; libcst only when the text way cannot be exact."""

    def __init__(self, sources: dict[int, str]) -> None:
        self.sources = sources
        self.ops: list[tuple[str, tuple, dict]] = []
        self._real: NotebookEditor | None = None

    def __getattr__(self, name: str) -> Any:
        if name in SIMPLE:
            if self._real is not None:
                return getattr(self._real, name)
            return lambda *args, **kwargs: self.ops.append((name, args, kwargs))
        return getattr(self._libcst(), name)  # anything else: the real editor, from now on

    def _libcst(self) -> NotebookEditor:
        if self._real is None:
            real = NotebookEditor(self.sources)
            for name, args, kwargs in self.ops:
                getattr(real, name)(*args, **kwargs)
            self._real = real
        return self._real

    def edits(self) -> list[CellEdit]:
        if self._real is not None:
            return self._real.edits()
        try:
            return self._text_edits()
        except _Unhandled:
            return self._libcst().edits()

    # --- the text way --------------------------------------------------------------------
    def _text_edits(self) -> list[CellEdit]:
        cells: dict[int, _Text] = {}
        for name, args, kwargs in self.ops:
            index = args[0] if isinstance(args[0], int) else args[0].cell  # a cell, or a Site in it
            if index not in self.sources:
                raise FixError(f"cell {index} is not a code cell")
            cell = cells.get(index) or cells.setdefault(index, _Text(self.sources[index]))
            getattr(cell, name)(*args, **kwargs)
        out: list[CellEdit] = []
        for index, cell in cells.items():
            new = cell.result()
            try:
                ast.parse(new)
            except SyntaxError as exc:
                raise FixError(f"the corrected cell {index} would not parse: {exc.msg}") from None
            except (ValueError, RecursionError, MemoryError):
                raise _Unhandled() from None
            out.extend(_hunks(index, cell.source, cell.masked, new))
        return out


class _Text:
    """One cell: splices on its masked text at the character offsets of `ast` positions."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.masked = mask(source).source
        lines = self.masked.split("\n")
        self.lines = lines
        self.starts = []
        at = 0
        for text in lines:
            self.starts.append(at)
            at += len(text) + 1
        self.splices: list[tuple[int, int, str]] = []

    # positions
    def at(self, line: int, col: int) -> int:
        if not 1 <= line <= len(self.lines):
            raise _Unhandled()
        return self.starts[line - 1] + len(self.lines[line - 1].encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        try:
            return (self.at(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                    self.at(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined,arg-type]
        except (AttributeError, TypeError):
            raise _Unhandled() from None

    def gap(self, start: int, end: int) -> str:
        """The text between two offsets without comments and whitespace: what separates them."""
        return "".join(_COMMENT.sub("", self.masked[start:end]).split())

    def call(self, site: Site, node: ast.AST | None) -> ast.Call:
        target = node if node is not None else site.node
        if not isinstance(target, ast.Call):
            raise _Unhandled()
        return target

    def args(self, call: ast.Call) -> list[tuple[ast.AST, int, int]]:
        """The call's arguments in order, each with its span (a keyword from its name)."""
        items: list[ast.AST] = [*call.args, *call.keywords]
        spans = [(a, *self.span(a)) for a in items]
        spans.sort(key=lambda x: x[1])
        if [a for a, _, _ in spans][:len(call.args)] != list(call.args):
            raise _Unhandled()  # a keyword before a positional argument (`f(a=1, *b)`)
        return spans

    def paren(self, call: ast.Call) -> tuple[int, int]:
        """Offsets of the call's `(` and `)`."""
        _, func_end = self.span(call.func)
        _, end = self.span(call)
        open_at = func_end + len(self.masked[func_end:end]) - len(self.masked[func_end:end].lstrip())
        if self.masked[open_at:open_at + 1] != "(" or self.masked[end - 1:end] != ")":
            raise _Unhandled()
        return open_at, end - 1

    def separators_ok(self, call: ast.Call, spans: list[tuple[ast.AST, int, int]]) -> None:
        """Nothing but a comma (and spaces) between the arguments: no comment, no parentheses."""
        open_at, close_at = self.paren(call)
        bounds = [open_at + 1] + [x for _, s, e in spans for x in (s, e)] + [close_at]
        for k in range(0, len(bounds), 2):
            text = self.masked[bounds[k]:bounds[k + 1]]
            if "#" in text or "\\" in text:
                raise _Unhandled()
            gap = "".join(text.split())
            first, last = k == 0, k == len(bounds) - 2
            allowed = ("",) if first else ("", ",") if last else (",",)
            if gap not in allowed:
                raise _Unhandled()

    def splice(self, start: int, end: int, text: str) -> None:
        self.splices.append((start, end, text))

    def result(self) -> str:
        new = self.masked
        last = None
        for start, end, text in sorted(self.splices, key=lambda s: (s[0], s[1]), reverse=True):
            if last is not None and end > last:
                raise _Unhandled()  # overlapping changes: libcst composes them
            new = new[:start] + text + new[end:]
            last = start
        return new

    def _value(self, value: ast.AST, before: int) -> tuple[int, int]:
        s, e = self.span(value)
        if self.gap(before, s) not in ("=", ",", ""):
            raise _Unhandled()
        return s, e

    # the operations (same arguments as NotebookEditor's)
    def set_keyword(self, site: Site, name: str, value: str, position: int | None = None,
                    node: ast.AST | None = None) -> None:
        try:
            ast.parse(value, mode="eval")
        except SyntaxError:
            raise _Unhandled() from None
        call = self.call(site, node)
        spans = self.args(call)
        self.separators_ok(call, spans)
        for a, s, e in spans:
            if isinstance(a, ast.keyword) and a.arg == name:
                vs, ve = self.span(a.value)
                if self.gap(s, vs) != name + "=" or ve != e:
                    raise _Unhandled()  # parentheses around the value
                self.splice(vs, ve, value)
                return
        positional = [a for a in call.args]
        if position is not None and len(spans) > position and len(positional) > position and \
                not any(isinstance(a, ast.Starred) for a in positional[:position + 1]):
            a, s, e = spans[position]
            self.splice(s, e, value)
            return
        if any(isinstance(a, ast.keyword) and a.arg is None for a, _, _ in spans):
            raise FixError("the call takes **kwargs: the argument may be set there")
        open_at, close_at = self.paren(call)
        new = f"{name}={value}"
        if not spans:
            if close_at != open_at + 1:
                raise _Unhandled()
            self.splice(close_at, close_at, new)
            return
        last_end = spans[-1][2]
        tail = self.masked[last_end:close_at]
        if tail == "":
            self.splice(last_end, last_end, ", " + new)
        elif tail.startswith(",") and len(spans) >= 2 and "\n" in tail:
            # one argument per line with a trailing comma: the new one on its own line, the same way
            sep = self.masked[spans[-2][2]:spans[-1][1]]
            if not sep.startswith(",") or "\n" not in sep:
                raise _Unhandled()
            self.splice(last_end, last_end, sep + new)
        elif tail == "," and len(spans) == 1:
            self.splice(last_end, last_end + 1, ", " + new + ",")
        else:
            raise _Unhandled()

    def rename_keyword(self, site: Site, old: str, new: str, node: ast.AST | None = None) -> None:
        call = self.call(site, node)
        for kw in call.keywords:
            if kw.arg == old:
                s, _ = self.span(kw)
                if self.masked[s:s + len(old)] != old:
                    raise _Unhandled()
                self.splice(s, s + len(old), new)

    def keywordize(self, site: Site, names: list[str], keep: int = 1, node: ast.AST | None = None) -> None:
        call = self.call(site, node)
        spans = self.args(call)
        self.separators_ok(call, spans)
        for i, (a, s, _e) in enumerate(spans):
            if i < keep or isinstance(a, (ast.keyword, ast.Starred)):
                continue
            if i >= len(names):
                raise FixError("more positional arguments than the signature has")
            self.splice(s, s, f"{names[i]}=")

    def remove_keyword(self, site: Site, name: str, node: ast.AST | None = None) -> None:
        """As edits._without: the commas, line breaks and blank lines of the others stay as they were."""
        call = self.call(site, node)
        spans = self.args(call)
        self.separators_ok(call, spans)
        open_at, close_at = self.paren(call)
        k = next((i for i, (a, _, _) in enumerate(spans) if isinstance(a, ast.keyword) and a.arg == name), None)
        if k is None:
            return
        n, t = len(spans), self.masked
        if n == 1:
            self.splice(open_at + 1, close_at, "")  # `f( x=1, )` -> `f()`
            return

        def comma(i: int) -> int | None:
            end = spans[i][2]
            if t[end:end + 1] == ",":
                return end
            if i < n - 1 or t[end:close_at].strip():
                raise _Unhandled()  # a space before the comma: libcst gives it to the argument
            return None

        ck = comma(k)
        if k < n - 1:
            after = t[ck + 1:spans[k + 1][1]]  # type: ignore[operator]
        else:
            after = t[(ck + 1 if ck is not None else spans[k][2]):close_at]
        if k == 0:
            opening = t[open_at + 1:spans[0][1]]
            self.splice(open_at + 1, spans[1][1], after[after.index("\n"):] if "\n" in after else opening)
            return
        cp = comma(k - 1)
        assert cp is not None
        before = t[cp + 1:spans[k][1]]
        if "\n" in after and "\n" in before:  # both on lines of their own: blank lines kept, the item's line goes
            gap = before[:before.rindex("\n") + 1] + after[after.index("\n") + 1:]
        elif "\n" in after:
            gap = after[after.index("\n"):]
        else:
            gap = before if k < n - 1 else after
        if k < n - 1:
            self.splice(cp + 1, spans[k + 1][1], gap)
        elif ck is not None:  # `f(a,\n  b,\n)`: the trailing comma stays, on the item before
            self.splice(cp + 1, close_at, gap)
        else:
            self.splice(spans[k - 1][2], close_at, gap)

    def rename_method(self, site: Site, new: str, node: ast.AST | None = None) -> None:
        call = self.call(site, node)
        func = call.func
        if not isinstance(func, ast.Attribute):
            raise FixError("not a method call")
        _, end = self.span(func)
        if self.masked[end - len(func.attr):end] != func.attr:
            raise _Unhandled()
        self.splice(end - len(func.attr), end, new)

    def replace(self, site: Site, code: str, node: ast.AST | None = None) -> None:
        """The expression, when it is not wrapped in parentheses of its own (libcst's node would
        then include them)."""
        try:
            ast.parse(code, mode="eval")
        except SyntaxError:
            raise _Unhandled() from None
        target = node if node is not None else site.node
        if not isinstance(target, ast.expr):
            raise _Unhandled()
        s, e = self.span(target)
        before = self.masked[:s].rstrip(" \t")
        after = self.masked[e:].lstrip(" \t")
        if before.endswith("(") and after.startswith(")"):
            head = before[:-1].rstrip(" \t")
            if not head or not (head[-1].isalnum() or head[-1] in "_)]"):
                raise _Unhandled()  # `(x)`: parentheses around the expression itself
        if "\n" in self.masked[s:e]:
            raise _Unhandled()
        self.splice(s, e, code)

    def _statement(self, line: int, compound: bool = False) -> ast.stmt:
        """The one statement that starts on `line` (a simple one, unless `compound`), sharing its
        lines with no other."""
        try:
            tree = ast.parse(self.masked)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise _Unhandled() from None
        found = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno == line]
        if len(found) != 1:
            raise _Unhandled()
        stmt = found[0]
        if isinstance(stmt, _COMPOUND):
            if not compound:
                raise _Unhandled()  # after a block: libcst puts the new lines after its trailing comments
            return stmt
        others = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n is not stmt and
                  not isinstance(n, _COMPOUND) and n.lineno <= stmt.end_lineno and n.end_lineno >= stmt.lineno]
        if others:
            raise _Unhandled()  # `a = 1; b = 2`
        return stmt

    def _lines_of(self, code: str, indent: str) -> str:
        """The new statements as libcst writes them: each on its line, at the block's indentation."""
        lines = code.rstrip("\n").split("\n")
        try:
            body = ast.parse(code).body
        except SyntaxError:
            raise _Unhandled() from None
        if len(body) != len(lines) or any(isinstance(n, _COMPOUND) for n in body) or \
                any(not ln.strip() or ln != ln.strip() or "#" in ln or ln.endswith("\\") for ln in lines):
            raise _Unhandled()  # blank lines, comments, indented or continued code: libcst's layout
        return "".join(indent + ln + "\n" for ln in lines)

    def insert_before(self, cell: int, line: int, code: str) -> None:
        self._statement(line, compound=True)
        text = self.lines[line - 1]
        indent = text[: len(text) - len(text.lstrip())]
        if line > 1:
            above = self.lines[line - 2].strip()
            if not above or above.startswith("#"):
                raise _Unhandled()  # blank or comment lines above belong to the statement in libcst
        start = self.starts[line - 1]
        self.splice(start, start, self._lines_of(code, indent))

    def insert_after(self, cell: int, line: int, code: str) -> None:
        stmt = self._statement(line)
        text = self.lines[line - 1]
        indent = text[: len(text) - len(text.lstrip())]
        end_line = stmt.end_lineno or line
        new = self._lines_of(code, indent)
        if end_line >= len(self.lines):  # the last line of the cell, which has no newline of its own
            self.splice(len(self.masked), len(self.masked), "\n" + new[:-1])
            return
        at = self.starts[end_line]  # the start of the next line
        self.splice(at, at, new)


_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef,
             ast.AsyncFunctionDef, ast.ClassDef) + ((ast.Match,) if hasattr(ast, "Match") else ()) + \
    ((ast.TryStar,) if hasattr(ast, "TryStar") else ())

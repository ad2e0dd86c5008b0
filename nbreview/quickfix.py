"""Corrected code without libcst, for the simple shapes of the two mechanical fixes.

libcst takes ~0.13 s to import: more than the whole rest of a cold check. The fixes of
fixsnippet.SUPPORTED only replace or insert a few tokens, so for the usual shapes (a keyword
renamed, a method renamed, `save_best_only=True` set or added to a call written on one
line) the stdlib `ast` positions are enough, and the result is the text libcst would give.
Anything less plain (a call over several lines that needs a new argument, parentheses
around a value, `*args`) answers UNHANDLED, and fixsnippet asks libcst.
"""
from __future__ import annotations

import ast

UNHANDLED = object()
RENAMES = {"fit_generator": "fit", "evaluate_generator": "evaluate", "predict_generator": "predict"}
KEYWORDS = {"lr": "learning_rate", "generator": "x"}


class _Unhandled(Exception):
    pass


def corrected_lines(rule: str, masked: str, source: str, line: int, end_line: int):
    """The lines `line..end_line` after the fix (or None: nothing to fix), or UNHANDLED."""
    try:
        tree = ast.parse(masked)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return UNHANDLED
    lines = masked.split("\n")
    offsets = _line_offsets(lines)
    edits: list[tuple[int, int, str]] = []  # (start, end, text) in character offsets of `masked`
    try:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            start, end = node.lineno, node.end_lineno or node.lineno
            if not (line <= start <= end_line or start <= line <= end):
                continue
            if rule == "deprecated-generator-api":
                edits += _deprecated(node, lines, offsets)
            elif rule == "checkpoint-save-best-only" and _callee(node.func) == "ModelCheckpoint":
                edits += _save_best(node, lines, offsets)
    except _Unhandled:
        return UNHANDLED
    if not edits:
        return None
    edits.sort()
    for (s1, e1, _), (s2, _, _) in zip(edits, edits[1:]):
        if s2 < e1:
            return UNHANDLED
    new = masked
    for s, e, text in reversed(edits):
        new = new[:s] + text + new[e:]
    delta = new.count("\n") - masked.count("\n")
    if delta < 0:
        return None
    original = source.split("\n")[line - 1:end_line]
    fixed = new.split("\n")[line - 1:end_line + delta]
    return fixed if fixed != original else None


def _line_offsets(lines: list[str]) -> list[int]:
    out, at = [], 0
    for text in lines:
        out.append(at)
        at += len(text) + 1
    return out


def _offset(lines: list[str], offsets: list[int], lineno: int, col: int) -> int:
    """Character offset of an ast position (its column counts UTF-8 bytes)."""
    text = lines[lineno - 1]
    return offsets[lineno - 1] + len(text.encode("utf-8")[:col].decode("utf-8", "replace"))


def _span(node: ast.AST, lines: list[str], offsets: list[int]) -> tuple[int, int]:
    return (_offset(lines, offsets, node.lineno, node.col_offset),  # type: ignore[attr-defined]
            _offset(lines, offsets, node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]


def _callee(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _deprecated(call: ast.Call, lines: list[str], offsets: list[int]) -> list[tuple[int, int, str]]:
    edits = []
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in RENAMES:
        end = _offset(lines, offsets, func.end_lineno, func.end_col_offset)  # type: ignore[arg-type]
        text = "\n".join(lines)
        if text[end - len(func.attr):end] != func.attr:
            raise _Unhandled()
        edits.append((end - len(func.attr), end, RENAMES[func.attr]))
    for kw in call.keywords:
        if kw.arg in KEYWORDS:
            at = _offset(lines, offsets, kw.lineno, kw.col_offset)
            if not lines[kw.lineno - 1][_col(lines, kw.lineno, kw.col_offset):].startswith(kw.arg):
                raise _Unhandled()
            edits.append((at, at + len(kw.arg), KEYWORDS[kw.arg]))
    return edits


def _col(lines: list[str], lineno: int, col: int) -> int:
    return len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", "replace"))


def _plain_value(value: ast.expr, lines: list[str], offsets: list[int], before: str) -> tuple[int, int]:
    """The span of an argument's value, when nothing but `before` (`=` or `,`/`(`) and spaces
    precede it and spaces, `,` or `)` follow it (no parentheses around it, no comment)."""
    s, e = _span(value, lines, offsets)
    text = "\n".join(lines)
    if text[:s].rstrip(" ")[-1:] not in before or text[e:].lstrip(" ")[:1] not in (",", ")"):
        raise _Unhandled()
    return s, e


def _save_best(call: ast.Call, lines: list[str], offsets: list[int]) -> list[tuple[int, int, str]]:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return []  # **kwargs: the option may live in the dict; leave it to the student
    for kw in call.keywords:
        if kw.arg == "save_best_only":
            s, e = _plain_value(kw.value, lines, offsets, "=")
            return [(s, e, "True")]
    if len(call.args) >= 4:
        s, e = _plain_value(call.args[3], lines, offsets, ",(")
        return [(s, e, "True")]
    if call.lineno != call.end_lineno or "#" in lines[call.lineno - 1]:
        raise _Unhandled()  # a new argument in a call over several lines: libcst keeps the layout
    text = "\n".join(lines)
    call_end = _offset(lines, offsets, call.end_lineno, call.end_col_offset)  # type: ignore[arg-type]
    if text[call_end - 1:call_end] != ")":
        raise _Unhandled()
    items: list[ast.AST] = [*call.args, *call.keywords]
    if not items:
        if text[:call_end].endswith("()"):
            return [(call_end - 1, call_end - 1, "save_best_only=True")]
        raise _Unhandled()
    last = max(items, key=lambda n: (n.end_lineno, n.end_col_offset))  # type: ignore[attr-defined]
    last_end = _offset(lines, offsets, last.end_lineno, last.end_col_offset)  # type: ignore[attr-defined]
    if last_end != call_end - 1:
        raise _Unhandled()  # a trailing comma, spaces or parentheses before `)`
    return [(last_end, last_end, ", save_best_only=True")]

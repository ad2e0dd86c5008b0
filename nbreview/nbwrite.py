"""Writing corrected cell sources back into a notebook file, losslessly.

Only the `source` values of the changed cells are replaced in the stored text; every other
byte of the file stays as it was: outputs, metadata, attachments, cell ids, other cells,
the JSON layout (indentation, key order, escapes), the nbformat version (v3 notebooks keep
their `input` fields), a byte-order mark. Inside a changed cell, lines that did not change
keep their stored JSON text; new lines are written in the file's own style (one string per
line as Jupyter writes them, `\\r\\n` where the cell used it, non-ASCII escaped or not as
the file does).

Should the stored text defeat the position scanner (JSON that Python accepts but the
scanner does not, e.g. `NaN`), the notebook is written with nbformat instead (same
content; the file's layout becomes nbformat's). Either way the result is checked before it
is written: as JSON it equals the original with only those sources replaced, and it
validates with nbformat whenever the original did.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|[{}\[\]:,]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|\s+',
)
BOM = "\ufeff"


class WriteError(Exception):
    """The notebook could not be written back (the message says why); nothing was written."""


@dataclass
class _Span:
    """A JSON value in the stored text: [start, end) and, for strings and lists, its parts."""

    start: int
    end: int
    value: Any = None  # the decoded scalar (strings), else None
    items: list["_Span"] | None = None  # list elements
    keys: dict[str, "_Span"] | None = None  # object members


class _Scanner:
    """A JSON reader that remembers where every value is (json.loads keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _next(self) -> tuple[str, int]:
        while True:
            m = _TOKEN.match(self.text, self.pos)
            if not m:
                raise ValueError(f"unexpected text at {self.pos}")
            tok, start = m.group(0), self.pos
            self.pos = m.end()
            if not tok[0].isspace():
                return tok, start

    def value(self, depth: int = 0) -> _Span:
        if depth > 200:
            raise ValueError("too deep")
        tok, start = self._next()
        if tok == "{":
            keys: dict[str, _Span] = {}
            save = self.pos
            tok, _ = self._next()
            if tok == "}":
                return _Span(start, self.pos, keys=keys)
            self.pos = save
            while True:
                ktok, _ = self._next()
                if not ktok.startswith('"'):
                    raise ValueError("expected a key")
                if self._next()[0] != ":":
                    raise ValueError("expected :")
                keys[json.loads(ktok)] = self.value(depth + 1)
                tok, _ = self._next()
                if tok == "}":
                    return _Span(start, self.pos, keys=keys)
                if tok != ",":
                    raise ValueError("expected , or }")
        if tok == "[":
            items: list[_Span] = []
            save = self.pos
            tok, _ = self._next()
            if tok == "]":
                return _Span(start, self.pos, items=items)
            self.pos = save
            while True:
                items.append(self.value(depth + 1))
                tok, _ = self._next()
                if tok == "]":
                    return _Span(start, self.pos, items=items)
                if tok != ",":
                    raise ValueError("expected , or ]")
        if tok.startswith('"'):
            return _Span(start, self.pos, value=json.loads(tok))
        if tok in ("}", "]", ":", ","):
            raise ValueError(f"unexpected {tok!r}")
        return _Span(start, self.pos)


def _cell_sources(doc: _Span) -> list[_Span | None]:
    """The span of each cell's source (nbformat 4 `cells[i].source`, v3 `worksheets[*].cells[i].input`
    or `.source`), in notebook order; None for a cell without one."""
    cells: list[_Span] = []
    keys = doc.keys or {}
    if "cells" in keys and keys["cells"].items is not None:
        cells = keys["cells"].items
    elif "worksheets" in keys and keys["worksheets"].items is not None:
        for ws in keys["worksheets"].items:
            if ws.keys and "cells" in ws.keys and ws.keys["cells"].items is not None:
                cells.extend(ws.keys["cells"].items)
    out: list[_Span | None] = []
    for c in cells:
        ck = c.keys or {}
        out.append(ck.get("input") if "input" in ck and "source" not in ck else ck.get("source"))
    return out


def _dump(s: str, ascii_only: bool) -> str:
    return json.dumps(s, ensure_ascii=ascii_only)


def _lines_with_ends(source: str, eol: str) -> list[str]:
    """`source` split as Jupyter stores it: one string per line, each with its line end."""
    parts = source.split("\n")
    out = [p + eol for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def _new_source_text(text: str, span: _Span, new: str, ascii_only: bool) -> str:
    """The JSON text of the new source value, in the style of the stored one."""
    if span.items is None:  # one string
        old = span.value if isinstance(span.value, str) else ""
        eol = "\r\n" if "\r\n" in old else "\n"
        return _dump(new.replace("\n", eol) if eol != "\n" else new, ascii_only)
    items = span.items
    olds = [i.value if isinstance(i.value, str) else "" for i in items]
    eol = "\r\n" if any(o.endswith("\r\n") for o in olds) else "\n"
    new_lines = _lines_with_ends(new, eol)
    if not items:
        return json.dumps(new_lines, ensure_ascii=ascii_only)
    # keep the stored text of lines that did not change (their exact escapes)
    stored = {}
    for i, o in zip(items, olds):
        stored.setdefault(o, text[i.start:i.end])
    first_ws = text[span.start + 1:items[0].start]
    if len(items) >= 2:
        sep = text[items[0].end:items[1].start]
    else:
        sep = "," + (first_ws if first_ws.strip() == "" else " ")
    last_ws = text[items[-1].end:span.end - 1]
    if not new_lines:
        return "[]"
    body = sep.join(stored.get(line) or _dump(line, ascii_only) for line in new_lines)
    return "[" + first_ws + body + last_ws + "]"


def splice_sources(text: str, changes: dict[int, str]) -> str:
    """The stored notebook text with the sources of the cells in `changes` (cell index -> new
    source, "\\n" line ends) replaced, everything else kept byte for byte."""
    doc = _Scanner(text).value()
    spans = _cell_sources(doc)
    # a file that stores non-ASCII text escaped (`\u0436`) and never raw gets new text escaped
    # too; otherwise new text is written as Jupyter writes it (UTF-8, unescaped)
    ascii_only = not any(ord(ch) > 127 for ch in text) and any(
        int(m.group(1), 16) > 127 for m in re.finditer(r"\\u([0-9a-fA-F]{4})", text))
    edits = []
    for index, new in changes.items():
        if not 0 <= index < len(spans) or spans[index] is None:
            raise ValueError(f"cell {index} has no source in the file")
        span = spans[index]
        edits.append((span.start, span.end, _new_source_text(text, span, new, ascii_only)))
    out = text
    for start, end, value in sorted(edits, reverse=True):
        out = out[:start] + value + out[end:]
    return out


def _expected(raw: dict, changes: dict[int, str]) -> dict:
    """The original JSON with only the sources replaced (what the written file must equal)."""
    doc = json.loads(json.dumps(raw))
    cells = doc.get("cells")
    if cells is None:
        cells = [c for ws in doc.get("worksheets", []) for c in ws.get("cells", [])]
    for index, new in changes.items():
        cell = cells[index]
        key = "input" if "input" in cell and "source" not in cell else "source"
        cell[key] = _normalised(new)
    return doc


def _normalised(source: Any) -> str:
    if isinstance(source, list):
        source = "".join(source)
    return source.replace("\r\n", "\n") if isinstance(source, str) else source


def _comparable(doc: Any) -> Any:
    """Sources joined and line ends normalised: a list of lines and one string mean the same."""
    if isinstance(doc, dict):
        return {k: (_normalised(v) if k in ("source", "input") and isinstance(v, (list, str)) else _comparable(v))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_comparable(v) for v in doc]
    return doc


def _validates(text: str) -> bool:
    import nbformat

    try:
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
        return True
    except Exception:  # noqa: BLE001 - any failure means "does not validate"
        return False


def rewrite(original: bytes, changes: dict[int, str]) -> bytes:
    """The notebook file `original` with the given cell sources replaced; raises WriteError
    when the result could not be made or checked."""
    has_bom = original.startswith(b"\xef\xbb\xbf")
    text = original.decode("utf-8-sig")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WriteError(f"the file is not valid JSON: {exc.msg}") from None
    try:
        new_text = splice_sources(text, changes)
    except (ValueError, RecursionError, KeyError, IndexError):
        new_text = _with_nbformat(raw, changes)
    try:
        written = json.loads(new_text)
    except json.JSONDecodeError as exc:  # pragma: no cover - a bug in the splicer
        raise WriteError(f"internal error: the rewritten notebook is not JSON ({exc.msg})") from None
    if _comparable(written) != _comparable(_expected(raw, changes)):
        raise WriteError("internal error: the rewritten notebook would differ beyond the corrected cells")
    if _validates(text) and not _validates(new_text):
        raise WriteError("the rewritten notebook does not validate with nbformat")
    return (BOM + new_text if has_bom else new_text).encode("utf-8")


def _with_nbformat(raw: dict, changes: dict[int, str]) -> str:
    import nbformat

    if raw.get("nbformat") != 4:
        raise WriteError("cannot locate the cells in the stored text of this nbformat 3 notebook")
    doc = _expected(raw, changes)
    try:
        return nbformat.writes(nbformat.from_dict(doc), version=nbformat.NO_CONVERT)
    except Exception as exc:  # noqa: BLE001
        raise WriteError(f"nbformat could not write the notebook: {exc}") from None


def atomic_write(target: Path, data: bytes, backup: Path | None = None, mode_from: Path | None = None) -> None:
    """Write `data` to `target` atomically (a temporary file in the same folder, then a rename),
    keeping the permissions of `mode_from`; copy the current `target` to `backup` first."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if backup is not None:
        try:
            backup.write_bytes(target.read_bytes())
        except OSError as exc:
            raise WriteError(f"cannot write the backup {backup}: {exc.strerror or exc}") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        source = mode_from if mode_from is not None and mode_from.exists() else None
        if source is not None:
            os.chmod(tmp, os.stat(source).st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None

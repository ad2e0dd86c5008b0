"""Reading a .ipynb file into cells, with the physical line of every source line.

Only regular files up to MAX_BYTES are read (a FIFO, a device or a symlink loop is an error,
never a hang). Format 4 notebooks are read straight from their JSON (every 4.x minor; the
fields nbreview uses are checked one by one, so an odd value is ignored rather than fatal);
format 3 is upgraded in memory by nbformat. A file with some bytes that are not UTF-8 is
read with those bytes replaced (and a note), since its code is usually intact.

The stored file is also scanned, on demand, for positions: machine formats (SARIF, GitHub
annotations) point at the line of the .ipynb that holds a flagged source line. Files laid out
one key per line (as Jupyter writes them) are read off their layout, each answer checked
against the loaded source; any other file, or a mismatch, takes the exact scan.
"""
from __future__ import annotations

import codecs
import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import NotebookError

MAX_BYTES = 100 * 1024 * 1024  # larger files are refused with a clear error, never read whole


class NotebookReadError(Exception):
    """The file is not a notebook nbreview can read; `code`/`params` name the reason (nbreview.messages)."""

    def __init__(self, code: str, **params: Any) -> None:
        from .messages import render

        self.code = code
        self.params = params
        super().__init__(render(code, params, "en"))

    def error(self) -> NotebookError:
        return NotebookError(str(self), None, None, "error", self.code, self.params)


@dataclass
class Cell:
    index: int  # 0-based position in nb["cells"]
    cell_type: str  # code | markdown | raw
    source: str  # "\n" line ends, no BOM
    execution_count: int | None = None
    cell_id: str | None = None
    has_outputs: bool = False
    outputs: list = field(default_factory=list)


@dataclass
class Notebook:
    path: str
    cells: list[Cell]
    nbformat: int
    nbformat_minor: int
    language: str | None = None
    kernel: str | None = None  # the kernelspec's display name, as Jupyter shows it
    raw_text: str = field(default="", repr=False)
    notes: list[NotebookError] = field(default_factory=list)  # what was repaired while reading
    _offsets: list[tuple[int, tuple[str, ...]]] | None = field(default=None, repr=False)
    _positions: dict[int, list[int]] = field(default_factory=dict, repr=False)
    _starts: list[int] = field(default_factory=list, repr=False)
    _cr: bool = field(default=False, repr=False)
    _fast: bool = field(default=False, repr=False)  # _offsets read off the layout: each use is checked

    def _locate(self, offsets: list[tuple[int, tuple[str, ...]]], fast: bool) -> None:
        self._offsets, self._fast = offsets, fast
        lines = _Lines(self.raw_text)  # the file line of each cell's start, in one pass
        self._starts = [lines.at(offset) for offset, _ in offsets]
        self._cr = lines.cr

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_type == "code"]

    def file_line(self, cell: int, line: int) -> int | None:
        """Physical line of the stored file that holds source line `line` (1-based) of `cell`."""
        if self._offsets is None:  # computed on first use: only notebooks with findings pay
            fast = self.nbformat == 4 and laid_out_cells(self.raw_text, len(self.cells))
            self._locate(fast or cell_offsets(self.raw_text), bool(fast))
        if not 0 <= cell < len(self._offsets):  # type: ignore[arg-type]
            return None
        if cell not in self._positions:  # and only for the cells with findings
            offset, keys = self._offsets[cell]  # type: ignore[index]
            expect = self.cells[cell].source if self._fast else None
            limit = self._offsets[cell + 1][0] if cell + 1 < len(self._offsets) else len(self.raw_text)  # type: ignore[index]
            found = cell_source_lines(self.raw_text, offset, keys, self._starts[cell], self._cr, expect, limit)
            if found is None:  # the layout misled the fast offsets: find them the exact way
                self._positions.clear()
                self._locate(cell_offsets(self.raw_text), False)
                return self.file_line(cell, line)
            self._positions[cell] = found
        lines = self._positions[cell]
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return lines[-1] if lines else None


def _join(source: Any) -> str:
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    elif not isinstance(source, str):
        source = ""
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    return source


# --- reading bytes ---------------------------------------------------------------------

def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode):
        return "char"
    if stat.S_ISBLK(mode):
        return "block"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def _check_stat(st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise NotebookReadError("is_directory")
    if not stat.S_ISREG(st.st_mode):
        raise NotebookReadError("not_regular", file_kind=_kind(st.st_mode))
    if st.st_size > MAX_BYTES:
        raise NotebookReadError("too_large", size=_mb(st.st_size), limit=_mb(MAX_BYTES))


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f}" if n >= 10 * 2**20 else f"{n / 2**20:.1f}"


def _os_error(exc: OSError) -> NotebookReadError:
    from .messages import os_reason

    if exc.errno == errno.ELOOP:
        return NotebookReadError("symlink_loop")
    if exc.errno == errno.ENOENT:
        return NotebookReadError("missing")
    if exc.errno == errno.EISDIR:
        return NotebookReadError("is_directory")
    return NotebookReadError("cannot_read", **os_reason(exc))


def read_bytes(path: str | Path) -> bytes:
    """The bytes of a regular file of at most MAX_BYTES; NotebookReadError otherwise.

    The file is checked before it is opened (a FIFO would block, /dev/zero never ends) and
    again through the open descriptor (it may have been swapped in between)."""
    try:
        _check_stat(os.stat(path))
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
    except OSError as exc:
        raise _os_error(exc) from None
    except (ValueError, RuntimeError):  # a NUL in the name; an odd path on some platforms
        raise NotebookReadError("cannot_read", reason="invalid file name") from None
    try:
        _check_stat(os.fstat(fd))
        chunks = []
        left = MAX_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise _os_error(exc) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_BYTES:
        raise NotebookReadError("too_large", size=_mb(len(data)), limit=_mb(MAX_BYTES))
    return data


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes, name: str = "") -> tuple[str, NotebookError | None]:
    """The text of a notebook file, and a note when some bytes had to be replaced.

    UTF-8 (with or without a BOM) is the format; UTF-16/32 with a BOM are accepted too. Bytes
    that are not UTF-8 become U+FFFD: the caller decides, from the JSON, whether this is a
    notebook with a few damaged characters or not a notebook at all."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), None
            except UnicodeDecodeError:
                break
    if b"\x00" in data[:4096]:
        raise NotebookReadError("binary")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        count = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
        return text, NotebookError.of("replaced_bytes", None, None, "note", offset=exc.start, count=max(count, 1))


def load(path: str | Path, data: bytes | None = None) -> Notebook:
    """Read a notebook file; raise NotebookReadError with a clear reason if it is not one."""
    if data is None:
        data = read_bytes(path)
    elif len(data) > MAX_BYTES:
        raise NotebookReadError("too_large", size=_mb(len(data)), limit=_mb(MAX_BYTES))
    text, note = decode(data, str(path))
    try:
        nb = loads(text, str(path))
    except NotebookReadError as exc:
        if note is not None and exc.code in ("invalid_json", "empty", "not_object", "no_cells"):
            raise NotebookReadError("not_utf8", offset=note.params["offset"]) from None
        raise
    if note is not None:
        nb.notes.insert(0, note)
    return nb


# lone surrogates (`"\ud800"` in the JSON) cannot be written as UTF-8: they become U+FFFD
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """The text with every lone surrogate replaced by U+FFFD (output must be valid UTF-8)."""
    return _LONE.sub("\ufffd", text) if _LONE.search(text) else text


def _scrub_tree(value: Any) -> Any:
    """Every string in a parsed JSON value, scrubbed (iteratively: the value may be deep)."""
    if isinstance(value, str):
        return scrub(value)
    root = [value]
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            if isinstance(v, str):
                node[k] = scrub(v)
            elif isinstance(v, (dict, list)):
                stack.append(v)
            if isinstance(node, dict) and isinstance(k, str) and _LONE.search(k):
                node[scrub(k)] = node.pop(k)
    return root[0]


def _int(value: Any, default: int | None = None) -> int | None:
    return value if type(value) is int else default


def loads(text: str, path: str = "<string>") -> Notebook:
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise NotebookReadError("empty")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookReadError("invalid_json", line=exc.lineno, column=exc.colno, reason=exc.msg,
                                json_reason=exc.msg) from None
    except (RecursionError, MemoryError):
        raise NotebookReadError("json_too_deep") from None
    if not isinstance(raw, dict):
        raise NotebookReadError("not_object", json_type=type(raw).__name__, type=type(raw).__name__)
    if "cells" not in raw and "worksheets" not in raw:
        raise NotebookReadError("no_cells")
    if _SURROGATE_ESCAPE.search(text):
        raw = _scrub_tree(raw)
    major = _int(raw.get("nbformat"))
    if major is None:  # hand-made notebooks sometimes omit it (or write "4")
        major = 3 if "worksheets" in raw and "cells" not in raw else 4
    if major not in (3, 4):
        raise NotebookReadError("unsupported_nbformat", version=str(raw.get("nbformat"))[:20])
    notes: list[NotebookError] = []
    if major == 3:
        cells_raw, meta = _upgrade_v3(text)
        has_ids = False
    else:
        cells_raw = raw.get("cells")
        if not isinstance(cells_raw, list):
            raise NotebookReadError("cells_not_list")
        meta = raw.get("metadata")
        has_ids = any(isinstance(c, dict) and "id" in c for c in cells_raw)
    cells: list[Cell] = []
    for i, c in enumerate(cells_raw):
        if not isinstance(c, dict):
            notes.append(NotebookError.of("cell_not_object", i, None, "note"))
            cells.append(Cell(index=i, cell_type="raw", source=""))
            continue
        ctype = c.get("cell_type", "code")
        outs = c.get("outputs")
        cid = c.get("id")
        cells.append(
            Cell(
                index=i,
                cell_type=ctype if isinstance(ctype, str) else "code",
                source=_join(c.get("source", "")),
                execution_count=_int(c.get("execution_count")),
                # nbformat invents ids when upgrading; only ids stored in the file are real
                cell_id=cid if has_ids and isinstance(cid, str) else None,
                has_outputs=bool(outs) and isinstance(outs, list),
                outputs=outs if isinstance(outs, list) else [],
            )
        )
    lang = None
    kernel = None
    if isinstance(meta, dict):
        info = meta.get("language_info")
        if isinstance(info, dict) and isinstance(info.get("name"), str):
            lang = info["name"]
        spec = meta.get("kernelspec")
        if isinstance(spec, dict):
            if isinstance(spec.get("display_name"), str):
                kernel = spec["display_name"]
            if lang is None and isinstance(spec.get("language"), str):
                lang = spec["language"]
    return Notebook(
        path=path,
        cells=cells,
        nbformat=major,
        nbformat_minor=_int(raw.get("nbformat_minor"), 0) or 0,
        language=lang,
        kernel=kernel,
        raw_text=text,
        notes=notes,
    )


def _upgrade_v3(text: str) -> tuple[list, Any]:
    """Cells and metadata of a format-3 notebook, upgraded to format 4 by nbformat."""
    import logging

    import nbformat  # lazy: only old notebooks pay for it

    logging.getLogger("nbformat").setLevel(logging.CRITICAL)  # no validation chatter on stderr
    try:
        node = nbformat.reads(text, as_version=4)  # rejoins v3's line lists, then upgrades
    except RecursionError:
        raise NotebookReadError("json_too_deep") from None
    except Exception as exc:  # nbformat raises a variety of errors on odd input
        raise NotebookReadError("nbformat_failed", reason=str(exc)[:200] or type(exc).__name__) from None
    cells = node.get("cells")
    if not isinstance(cells, list):
        raise NotebookReadError("cells_not_list")
    return cells, node.get("metadata")


# --- physical positions -------------------------------------------------------------
# json.loads keeps no positions, and we need, for every cell, the file line of each of its
# source lines. The scanner below walks the stored text with the json module's own C scanner:
# it looks only at the keys on the way to the sources and skips every other value whole.

_WS = re.compile(r"[ \t\n\r]*")
_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[attr-defined]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


class _Lines:
    """Line of a text offset, for offsets asked in increasing order (CR, LF and CRLF end a line)."""

    def __init__(self, text: str, pos: int = 0, line: int = 1, cr: bool | None = None) -> None:
        self.text = text
        self.pos = pos  # `line` is the line of the offset `pos`
        self.line = line
        self.cr = "\r" in text if cr is None else cr  # most files have none: one count instead of three

    def at(self, pos: int) -> int:
        t = self.text
        if pos > self.pos:
            self.line += t.count("\n", self.pos, pos)
            if self.cr:
                self.line += t.count("\r", self.pos, pos) - t.count("\r\n", self.pos, pos)
            self.pos = pos
        return self.line


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def ws(self) -> str:
        self.i = _WS.match(self.text, self.i).end()  # type: ignore[union-attr]
        return self.text[self.i:self.i + 1]

    def skip(self) -> None:
        try:
            _, self.i = _scan_once(self.text, self.i)
        except StopIteration:
            raise ValueError("bad value") from None

    def string(self) -> str:
        s, self.i = _scanstring(self.text, self.i + 1)
        return s

    def members(self):
        """Yield each key of the object at the cursor, the cursor on its value; skip what is not read."""
        if self.ws() != "{":
            raise ValueError("expected an object")
        self.i += 1
        if self.ws() == "}":
            self.i += 1
            return
        while True:
            if self.ws() != '"':
                raise ValueError("expected a key")
            key = self.string()
            if self.ws() != ":":
                raise ValueError("expected :")
            self.i += 1
            self.ws()
            start = self.i
            yield key
            if self.i == start:
                self.skip()
            c = self.ws()
            self.i += 1
            if c == "}":
                return
            if c != ",":
                raise ValueError("expected , or }")

    def items(self):
        """Yield before each item of the array at the cursor; skip what is not read."""
        if self.ws() != "[":
            raise ValueError("expected an array")
        self.i += 1
        if self.ws() == "]":
            self.i += 1
            return
        while True:
            self.ws()
            start = self.i
            yield
            if self.i == start:
                self.skip()
            c = self.ws()
            self.i += 1
            if c == "]":
                return
            if c != ",":
                raise ValueError("expected , or ]")


def _cell_lines(w: _Walker, lines: _Lines, keys: tuple[str, ...], seen: list[str] | None = None) -> list[int]:
    """Positions of one cell object's source lines (one of `keys` holds the source; `seen`
    receives the source's text as stored)."""
    out: list[int] = []
    if w.ws() != "{":
        w.skip()
        return out
    for k in w.members():
        if k in keys:
            if seen is not None:
                seen.clear()  # (a key given twice: the last one is the cell's, as json.loads reads it)
            out = _value_lines(w, lines, seen, out)
    return out


def _value_lines(w: _Walker, lines: _Lines, seen: list[str] | None, out: list[int]) -> list[int]:
    """Positions of the source lines of the source value at the cursor (a string or a list of them)."""
    c = w.ws()
    if c == '"':
        line = lines.at(w.i)
        value = w.string()
        if seen is not None:
            seen.append(value)
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        return [line] * (value.count("\n") + 1)
    if c == "[":
        at_line_start = True
        for _ in w.items():
            if w.ws() != '"':
                continue
            pline = lines.at(w.i)
            part = w.string()
            if seen is not None:
                seen.append(part)
            if not part:
                continue
            part = part.replace("\r\n", "\n").replace("\r", "\n")
            if at_line_start:
                out.append(pline)
            # a newline inside a part opens the next source line on the same file line;
            # a trailing one leaves it to the next part
            out.extend([pline] * part[:-1].count("\n"))
            at_line_start = part.endswith("\n")
        if not out:
            out.append(lines.at(w.i))
    return out


def cell_offsets(text: str) -> list[tuple[int, tuple[str, ...]]]:
    """Where each cell object starts in the stored text (nbformat-4 order), and its source keys.
    Every cell is skipped whole by the C scanner; a cell's lines are read only when asked for."""
    w = _Walker(text)
    out: list[tuple[int, tuple[str, ...]]] = []

    def cells(keys: tuple[str, ...]) -> None:
        if w.ws() != "[":
            return
        for _ in w.items():
            out.append((w.i, keys))

    try:
        for key in w.members():
            if key == "cells":
                cells(("source",))
            elif key == "worksheets" and w.ws() == "[":
                for _ in w.items():
                    if w.ws() != "{":
                        continue
                    for wkey in w.members():
                        if wkey == "cells":
                            cells(("source", "input"))
    except (ValueError, IndexError, RecursionError):
        pass
    return out


def cell_source_lines(text: str, offset: int, keys: tuple[str, ...] = ("source",),
                      line: int | None = None, cr: bool | None = None, expect: str | None = None,
                      limit: int | None = None) -> list[int] | None:
    """The file line of each source line of the cell object at `offset` (`line`: the file line of
    `offset`, when known; `cr`: whether the text holds a carriage return, when known). With
    `expect` (the cell's source as loaded): None when the object there holds another source;
    the source is then looked for on the layout first, before `limit`."""
    w = _Walker(text)
    w.i = offset
    lines = _Lines(text, cr=cr) if line is None else _Lines(text, offset, line, cr)
    seen: list[str] | None = [] if expect is not None else None
    try:
        lines.at(offset)
        value = _laid_out_source(text, offset, len(text) if limit is None else limit) if expect is not None else None
        if value is not None:  # straight to the source: the outputs before it are not read
            w.i = value
            out = _value_lines(w, lines, seen, [])
        else:
            out = _cell_lines(w, lines, keys, seen)
    except (ValueError, IndexError, RecursionError):
        return None if expect is not None else []
    if seen is not None and _join(seen) != expect:
        return None
    return out


def laid_out_cells(text: str, count: int) -> list[tuple[int, tuple[str, ...]]] | None:
    """Where each cell object starts, read off the usual layout (nbformat, Jupyter, VS Code and
    Colab write one key or bracket per line, each level indented further): the items of
    `"cells": [` are the lines holding just `{` one level deeper. A JSON string never holds a
    raw newline, so the start of every line is outside strings. None when the text is not laid
    out so, or the count differs; the caller checks each cell it then reads (its source must be
    the loaded one) and falls back to `cell_offsets`, the exact scan, on any mismatch."""
    top = _TOP_KEY.match(text)  # `{`, then the first key on a line of its own: the top level's indentation
    if top is None:
        return None
    m = _CELLS_KEY.search(text)
    while m is not None and m.group(1) != top.group(1):  # a "cells" key nested in the metadata
        m = _CELLS_KEY.search(text, m.end())
    if m is None:
        return None
    nl = text.find("\n", m.end())
    if nl < 0:
        return None
    item = _INDENT.match(text, nl + 1)
    indent = item.group(1) if item else ""
    if len(indent) <= len(m.group(1)):
        return None
    # (the array's end is not looked for, one pass less over the text: the count must match)
    needle = "\n" + indent + "{"
    out: list[tuple[int, tuple[str, ...]]] = []
    at = text.find(needle, nl)
    while at >= 0:  # (str.find: several times faster than a regex over a long text)
        brace = at + len(needle) - 1
        if _LINE_END.match(text, brace + 1):
            out.append((brace, ("source",)))
        at = text.find(needle, brace)
    return out if len(out) == count else None


def _laid_out_source(text: str, offset: int, limit: int) -> int | None:
    """Where the `"source"` value of the cell object at `offset` starts, read off the layout: the
    line of that key, indented as the line after the `{` (see `laid_out_cells`), before `limit`
    (the next cell's offset: each cell's text is searched once); None if absent."""
    nl = text.find("\n", offset, limit)
    key = _MEMBER.match(text, nl + 1) if nl >= 0 else None
    if key is None:
        return None
    line = "\n" + key.group(1) + '"source":'
    at = text.find(line, nl, limit)
    if at < 0:
        return None
    return _WS.match(text, at + len(line)).end()  # type: ignore[union-attr]


_MEMBER = re.compile(r'([ \t]+)"')
_TOP_KEY = re.compile(r'\{[ \t]*\r?\n([ \t]+)"')
_CELLS_KEY = re.compile(r'^([ \t]*)"cells"[ \t]*:[ \t]*\[[ \t]*\r?$', re.M)
_INDENT = re.compile(r"([ \t]*)\{[ \t]*\r?\n")
_LINE_END = re.compile(r"[ \t]*\r?\n")


def source_positions(text: str, major: int = 4) -> list[list[int]]:
    """For each cell (in nbformat-4 order), the file line of each of its source lines."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return [cell_source_lines(text, offset, keys) for offset, keys in cell_offsets(text)]

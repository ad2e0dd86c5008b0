"""Reading a .ipynb file into cells, with the physical line of every source line.

nbformat reads the notebook (nbformat 3 and every 4.x minor, upgraded in memory). The
stored file is also scanned once for positions, so that machine formats (SARIF, GitHub
annotations) can point at the line of the .ipynb that holds a flagged source line.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path


class NotebookReadError(Exception):
    """The file is not a notebook nbreview can read; the message says why."""


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
    _positions: list[list[int]] | None = field(default=None, repr=False)

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_type == "code"]

    def file_line(self, cell: int, line: int) -> int | None:
        """Physical line of the stored file that holds source line `line` (1-based) of `cell`."""
        if self._positions is None:  # computed on first use: only notebooks with findings pay
            self._positions = source_positions(self.raw_text, self.nbformat)
        if not 0 <= cell < len(self._positions):
            return None
        lines = self._positions[cell]
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return lines[-1] if lines else None


def _join(source) -> str:
    if isinstance(source, list):
        source = "".join(s if isinstance(s, str) else str(s) for s in source)
    elif not isinstance(source, str):
        source = "" if source is None else str(source)
    return source.replace("\r\n", "\n").replace("\r", "\n")


def decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096]:
        raise NotebookReadError("binary file, not a notebook")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookReadError(f"not UTF-8 text (byte {exc.start}): a notebook is UTF-8 JSON") from None


def load(path: str | Path, data: bytes | None = None) -> Notebook:
    """Read a notebook file; raise NotebookReadError with a clear reason if it is not one."""
    p = Path(path)
    if data is None:
        try:
            data = p.read_bytes()
        except IsADirectoryError:
            raise NotebookReadError("is a directory") from None
        except OSError as exc:
            raise NotebookReadError(f"cannot read the file: {exc.strerror or exc}") from None
    text = decode(data, str(p))
    return loads(text, str(path))


def loads(text: str, path: str = "<string>") -> Notebook:
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise NotebookReadError("empty file")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookReadError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise NotebookReadError(f"the JSON is a {type(raw).__name__}, not a notebook object")
    if "cells" not in raw and "worksheets" not in raw:
        raise NotebookReadError("JSON without 'cells': not a Jupyter notebook")
    major = raw.get("nbformat")
    if not isinstance(major, int):
        # Hand-made notebooks sometimes omit it; treat as the current format.
        raw["nbformat"], raw["nbformat_minor"] = 4, raw.get("nbformat_minor", 4)
        major = 4
    if major < 3 or major > 4:
        raise NotebookReadError(f"unsupported nbformat {major} (nbreview reads 3 and 4.x)")

    import nbformat  # lazy: ~0.1 s

    try:
        if major == 3:
            import logging

            logging.getLogger("nbformat").setLevel(logging.CRITICAL)  # no validation chatter on stderr
            node = nbformat.reads(text, as_version=4)  # rejoins v3's line lists, then upgrades
        else:
            node = nbformat.from_dict(raw)
    except Exception as exc:  # nbformat raises a variety of errors on odd input
        raise NotebookReadError(f"nbformat could not read it: {exc}") from None

    cells_raw = node.get("cells")
    if not isinstance(cells_raw, list):
        raise NotebookReadError("'cells' is not a list")
    has_ids = major == 4 and isinstance(raw.get("cells"), list) and any(
        isinstance(c, dict) and "id" in c for c in raw["cells"])
    cells: list[Cell] = []
    for i, c in enumerate(cells_raw):
        if not isinstance(c, dict):
            raise NotebookReadError(f"cell {i} is not an object")
        ctype = c.get("cell_type", "code")
        src = _join(c.get("source", ""))
        ec = c.get("execution_count")
        outs = c.get("outputs") or []
        cells.append(
            Cell(
                index=i,
                cell_type=ctype if isinstance(ctype, str) else "code",
                source=src,
                execution_count=ec if isinstance(ec, int) else None,
                # nbformat invents ids when upgrading; only ids stored in the file are real
                cell_id=c.get("id") if has_ids and isinstance(c.get("id"), str) else None,
                has_outputs=bool(outs),
                outputs=outs if isinstance(outs, list) else [],
            )
        )
    lang = None
    kernel = None
    meta = node.get("metadata") or {}
    if isinstance(meta, dict):
        info = meta.get("language_info") or {}
        if isinstance(info, dict):
            lang = info.get("name")
        spec = meta.get("kernelspec") or {}
        if isinstance(spec, dict) and isinstance(spec.get("display_name"), str):
            kernel = spec["display_name"]
        if lang is None and isinstance(spec, dict) and isinstance(spec.get("language"), str):
            lang = spec["language"]
    return Notebook(
        path=path,
        cells=cells,
        nbformat=int(node.get("nbformat", 4)),
        nbformat_minor=int(node.get("nbformat_minor", 0) or 0),
        language=lang,
        kernel=kernel,
        raw_text=text,
    )


# --- physical positions -------------------------------------------------------------
# A small position-keeping JSON scanner: json.loads keeps no positions, and we need, for
# every cell, the file line of each of its source lines.

_TOKEN = re.compile(  # leading whitespace and the token in one match; strings as an unrolled loop
    r'\s*("[^"\\\n]*(?:\\.[^"\\\n]*)*"|[{}\[\]:,]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)',
)
# what a skipped value is made of: strings (which may hold brackets) and brackets
_SKIP = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|[\[\]{}]')
# values no position is ever asked of: skipped without building them
_SKIPPED_KEYS = frozenset({"outputs", "metadata", "attachments"})


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def next(self) -> tuple[str, int]:
        text = self.text
        m = _TOKEN.match(text, self.pos)
        if not m:
            raise ValueError("bad token")
        start = m.start(1)
        if start > self.pos:  # tokens hold no raw newline: only the whitespace before one can
            self.line += text.count("\n", self.pos, start)
        self.pos = m.end()
        return m.group(1), self.line

    def skip(self):
        """Pass over one value (a container or a scalar) without building it; None in its place."""
        text = self.text
        tok, line = self.next()
        if tok not in ("[", "{"):
            return None, line
        start, depth = self.pos, 1
        for m in _SKIP.finditer(text, self.pos):
            c = m.group(0)
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    self.line += text.count("\n", start, m.end())
                    self.pos = m.end()
                    return None, line
        raise ValueError("unterminated value")

    def value(self):
        """Parse one value. Strings come back as (decoded, line); containers as lists/dicts of those."""
        tok, line = self.next()
        if tok == "{":
            out = {}
            tok, line2 = self.next()
            if tok == "}":
                return out, line
            while True:
                key = json.loads(tok)
                colon, _ = self.next()
                if colon != ":":
                    raise ValueError("expected :")
                out[key] = self.skip() if key in _SKIPPED_KEYS else self.value()
                tok, _ = self.next()
                if tok == "}":
                    return out, line
                tok, _ = self.next()
        if tok == "[":
            items = []
            # peek for empty list
            save = (self.pos, self.line)
            tok2, _ = self.next()
            if tok2 == "]":
                return items, line
            self.pos, self.line = save
            while True:
                items.append(self.value())
                tok, _ = self.next()
                if tok == "]":
                    return items, line
        if tok.startswith('"'):
            return json.loads(tok), line
        return None, line


def source_positions(text: str, major: int) -> list[list[int]]:
    """For each cell (in nbformat-4 order), the file line of each of its source lines."""
    try:
        doc, _ = _Scanner(text).value()
    except (ValueError, RecursionError, json.JSONDecodeError):
        return []
    if not isinstance(doc, dict):
        return []
    raw_cells = []
    if "cells" in doc:
        raw_cells = doc["cells"][0] if isinstance(doc["cells"][0], list) else []
    elif "worksheets" in doc and isinstance(doc["worksheets"][0], list):
        for ws, _ in doc["worksheets"][0]:
            if isinstance(ws, dict) and "cells" in ws and isinstance(ws["cells"][0], list):
                raw_cells.extend(ws["cells"][0])
    out: list[list[int]] = []
    for cell, _ in raw_cells:
        if not isinstance(cell, dict):
            out.append([])
            continue
        key = "source" if "source" in cell else "input"
        src = cell.get(key)
        if src is None:
            out.append([])
            continue
        value, line = src
        lines: list[int] = []
        if isinstance(value, list):
            at_line_start = True
            for part, pline in value:
                if not isinstance(part, str) or not part:
                    continue
                part = part.replace("\r\n", "\n").replace("\r", "\n")
                if at_line_start:
                    lines.append(pline)
                # a newline inside a part opens the next source line on the same file line;
                # a trailing one leaves it to the next part
                lines.extend([pline] * part[:-1].count("\n"))
                at_line_start = part.endswith("\n")
            if not lines:
                lines.append(line)
        elif isinstance(value, str):
            n = value.replace("\r\n", "\n").count("\n") + 1
            lines = [line] * n
        out.append(lines)
    return out


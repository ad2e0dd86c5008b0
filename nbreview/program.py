"""A notebook's code as one program: every code cell parsed once, in order, with a line map.

Lines are never moved: IPython syntax is masked in place, so a position in a cell's tree
is the position in the cell as the student sees it. A cell that does not parse is noted
once and skipped; the other cells are analysed.
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field

from .ipython import MaskedCell, ShellCommand, mask
from .model import NotebookError
from .notebook import Cell, Notebook


@dataclass
class CodeCell:
    cell: Cell
    masked: MaskedCell
    tree: ast.Module | None  # None when skipped (non-Python cell magic) or not parseable

    @property
    def index(self) -> int:
        return self.cell.index

    @property
    def executed(self) -> bool:
        return self.cell.execution_count is not None


@dataclass
class Program:
    notebook: Notebook
    cells: list[CodeCell] = field(default_factory=list)
    errors: list[NotebookError] = field(default_factory=list)

    _by_index: dict[int, CodeCell] = field(default_factory=dict, repr=False)

    def code_cell(self, index: int) -> CodeCell | None:
        if len(self._by_index) != len(self.cells):
            self._by_index = {c.index: c for c in self.cells}
        return self._by_index.get(index)

    @property
    def shell_commands(self) -> list[tuple[int, ShellCommand]]:
        return [(c.index, cmd) for c in self.cells for cmd in c.masked.shell]

    @property
    def source(self) -> str:
        """All analysed code cells as one program text (IPython masked), in cell order."""
        return "\n".join(c.masked.source for c in self.cells if c.tree is not None)

    def line_map(self) -> list[tuple[int, int]]:
        """Program line n (1-based) -> (cell index, line in cell) is `line_map()[n - 1]`."""
        out: list[tuple[int, int]] = []
        for c in self.cells:
            if c.tree is not None:
                out.extend((c.index, k) for k in range(1, c.masked.source.count("\n") + 2))
        return out

    def program_line(self, cell: int, line: int) -> int | None:
        """The line of `source` that holds `line` of `cell` (inverse of `line_map`)."""
        n = 0
        for c in self.cells:
            if c.tree is None:
                continue
            if c.index == cell:
                return n + line
            n += c.masked.source.count("\n") + 1
        return None

    def source_lines(self, index: int) -> list[str]:
        if 0 <= index < len(self.notebook.cells):
            return self.notebook.cells[index].source.split("\n")
        return []


def build(nb: Notebook) -> Program:
    prog = Program(nb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes in student code
        for cell in nb.cells:
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            m = mask(cell.source)
            tree = None
            if m.skipped is None:
                tree = _parse(m.source, cell, prog)
            prog.cells.append(CodeCell(cell, m, tree))
    return prog


def _parse(source: str, cell: Cell, prog: Program) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        from .messages import syntax_params

        params = syntax_params(exc)
        prog.errors.append(NotebookError.of("syntax", cell.index, params["line"], "note", **params))
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        reason = "null" if "null" in str(exc) else "nested" if isinstance(exc, RecursionError) or "nest" in str(exc) \
            else "memory" if isinstance(exc, MemoryError) else "other"
        prog.errors.append(NotebookError.of("cell_unparseable", cell.index, None, "note", cell_reason=reason,
                                            reason=str(exc) or type(exc).__name__))
    return None


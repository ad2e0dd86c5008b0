"""Every assignment of the notebook's source, indexed by what it assigns (read once).

The interpreter knows values; some questions are about the code as written instead: "is
`best_acc` ever updated after it is initialised?", "what expressions define `score` in this
function?". This index walks every cell once and records, for each assignment (`=`, `+=`,
annotated, tuple targets included; not `:=` inside expressions), the target, the assigned expression, the function it
is in (None at the notebook's top level) and whether it runs repeatedly (inside a loop or a
function) or once (top level, outside loops): an *update* or an *initialisation*.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..program import Program

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
REPEATS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp) + SCOPES


@dataclass(frozen=True)
class Assignment:
    cell: int
    target: ast.AST  # the whole target (a name, an attribute, a tuple)
    value: ast.expr | None  # the assigned expression (None for tuple elements we cannot pair)
    index: int | None  # the position in a tuple target whose value is not a tuple display
    stmt: ast.AST
    scope: ast.AST | None  # the enclosing function, None at the top level
    update: bool  # inside a loop or a function, or augmented: it changes a value already there


class Assignments:
    def __init__(self, program: "Program") -> None:
        self.by_name: dict[str, list[Assignment]] = {}  # `best` -> ...
        self.by_attr: dict[str, list[Assignment]] = {}  # `.best_score` (any object) -> ...
        self.functions: list[tuple[int, ast.AST]] = []  # (cell, function) for scope lookups
        for cc in program.cells:
            if cc.tree is not None:
                self._walk(cc.index, cc.tree, None, False)

    def _walk(self, cell: int, node: ast.AST, scope: ast.AST | None, inside: bool) -> None:
        """Statements only (assignments are statements; `:=` inside expressions is not indexed)."""
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, field, ()) or ():
                if isinstance(child, ast.Assign):
                    for t in child.targets:
                        self._add(cell, t, child.value, child, scope, inside)
                elif isinstance(child, ast.AnnAssign) and child.value is not None:
                    self._add(cell, child.target, child.value, child, scope, inside)
                elif isinstance(child, ast.AugAssign):
                    self._add(cell, child.target, child.value, child, scope, True)
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.functions.append((cell, child))
                    self._walk(cell, child, child, True)
                    continue
                if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                    self._walk(cell, child, scope, inside or isinstance(child, REPEATS))

    def _add(self, cell: int, target: ast.AST, value: ast.expr, stmt: ast.AST, scope: ast.AST | None,
             update: bool, index: int | None = None) -> None:
        if isinstance(target, ast.Name):
            self.by_name.setdefault(target.id, []).append(Assignment(cell, target, value, index, stmt, scope, update))
        elif isinstance(target, ast.Attribute):
            self.by_attr.setdefault(target.attr, []).append(
                Assignment(cell, target, value, index, stmt, scope, update))
        elif isinstance(target, (ast.Tuple, ast.List)):
            paired = isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Starred):
                    elt = elt.value
                if paired:
                    self._add(cell, elt, value.elts[i], stmt, scope, update)  # type: ignore[union-attr]
                else:
                    self._add(cell, elt, value, stmt, scope, update, i)

    def to(self, target: ast.expr) -> list[Assignment]:
        """Assignments to a name (`best_acc`), or to an attribute of that name on any object
        (`self.best_score` inside its class is `stopper.best_score` outside)."""
        if isinstance(target, ast.Name):
            return self.by_name.get(target.id, [])
        if isinstance(target, ast.Attribute):
            return self.by_attr.get(target.attr, [])
        return []

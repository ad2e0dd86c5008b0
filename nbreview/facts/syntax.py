"""Where code sits in a cell, for the rules' corrections: the statement around a node, a
node's parent, the exact text the student wrote, names free for new variables.

These are syntactic questions about the parsed cells (`Program`); the fixes use them to
decide where a new statement goes and whether a rewrite is purely local.
"""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..program import CodeCell, Program


class Syntax:
    def __init__(self, program: "Program") -> None:
        self.program = program
        self._parents: dict[int, dict[int, ast.AST]] = {}
        self._refs: dict[str, tuple[int, list[tuple[int, ast.Name]]]] = {}
        self._texts: dict[int, str] = {}

    def tree(self, cell: int) -> ast.Module | None:
        cc = self.program.code_cell(cell)
        return cc.tree if cc is not None else None

    def _parent_map(self, cell: int) -> dict[int, ast.AST]:
        if cell not in self._parents:
            out: dict[int, ast.AST] = {}
            tree = self.tree(cell)
            if tree is not None:
                for node in ast.walk(tree):
                    for child in ast.iter_child_nodes(node):
                        out[id(child)] = node
            self._parents[cell] = out
        return self._parents[cell]

    def parent(self, cell: int, node: ast.AST) -> ast.AST | None:
        """The node that holds `node` in the cell's tree (None for the module, or a node of no cell)."""
        return self._parent_map(cell).get(id(node))

    def statement(self, cell: int, node: ast.AST) -> ast.stmt | None:
        """The innermost statement that contains `node` (the node itself when it is one)."""
        cur: ast.AST | None = node
        parents = self._parent_map(cell)
        while cur is not None and not isinstance(cur, ast.stmt):
            cur = parents.get(id(cur))
        return cur

    def block_of(self, cell: int, stmt: ast.stmt) -> list[ast.stmt] | None:
        """The statement list (module, function, loop or branch body) that holds `stmt`."""
        parent = self.parent(cell, stmt)
        if parent is None:
            tree = self.tree(cell)
            return tree.body if tree is not None and any(s is stmt for s in tree.body) else None
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and any(s is stmt for s in block):
                return block
        return None

    def references(self, name: str) -> tuple[int, list[tuple[int, ast.Name]]]:
        """How many times `name` is bound anywhere in the notebook (assignments, loop targets,
        parameters, imports, definitions), and every place it is read: (cell, Name node)."""
        found = self._refs.get(name)
        if found is None:
            found = self._refs[name] = self._references(name)
        binds, reads = found
        return binds, list(reads)

    def uses(self, name: str) -> bool:
        """Whether the notebook's code uses `name` anywhere: as a variable, function, class,
        parameter or import."""
        binds, reads = self.references(name)
        return bool(binds or reads)

    def _text(self, cc: "CodeCell") -> str:
        """The cell's code as the parser reads identifiers: NFKC-folded (`ｍodel` is `model`)."""
        text = self._texts.get(cc.index)
        if text is None:
            text = cc.masked.source
            if not text.isascii():
                import unicodedata

                text = unicodedata.normalize("NFKC", text)
            self._texts[cc.index] = text
        return text

    def _references(self, name: str) -> tuple[int, list[tuple[int, ast.Name]]]:
        # only the cells whose text holds the name can use it: most cells are never walked
        binds = 0
        reads: list[tuple[int, ast.Name]] = []
        for cc in self.program.cells:
            if cc.tree is None or name not in self._text(cc):
                continue
            for node in ast.walk(cc.tree):
                if isinstance(node, ast.Name):
                    if node.id == name:
                        if isinstance(node.ctx, ast.Load):
                            reads.append((cc.index, node))
                        else:
                            binds += 1
                else:
                    k = _names_of(node).count(name)
                    # a `global`/`nonlocal` name is shared between scopes: never "bound once"
                    binds += 2 * k if isinstance(node, (ast.Global, ast.Nonlocal)) else k
        return binds, reads

    def fresh_name(self, base: str) -> str:
        """`base`, or `base_2`, `base_3`, ... : a name the notebook does not use anywhere."""
        if not self.uses(base):
            return base
        n = 2
        while self.uses(f"{base}_{n}"):
            n += 1
        return f"{base}_{n}"


def _names_of(node: ast.AST) -> tuple[str, ...]:
    """The names a node binds or reads itself (not its children's)."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.arg):
        return (node.arg,)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    if isinstance(node, ast.alias):
        return ((node.asname or node.name).split(".")[0],)
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return tuple(node.names)
    return ()

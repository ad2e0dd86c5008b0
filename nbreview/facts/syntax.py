"""Where code sits in a cell, for the rules' corrections: the statement around a node, a
node's parent, the exact text the student wrote, names free for new variables.

These are syntactic questions about the parsed cells (`Program`); the fixes use them to
decide where a new statement goes and whether a rewrite is purely local.
"""
from __future__ import annotations

import ast
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..program import Program


class Syntax:
    def __init__(self, program: "Program") -> None:
        self.program = program
        self._parents: dict[int, dict[int, ast.AST]] = {}

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
        binds, reads = self._index.get(name, (0, []))
        return binds, list(reads)

    def names_in_use(self) -> frozenset[str]:
        """Every identifier the notebook's code uses: variables, functions, classes, parameters, imports."""
        return frozenset(self._index)

    @cached_property
    def _index(self) -> dict[str, tuple[int, list[tuple[int, ast.Name]]]]:
        """name -> (times bound, reads), from one walk over every parsed cell."""
        binds: dict[str, int] = {}
        reads: dict[str, list[tuple[int, ast.Name]]] = {}

        def bind(name: str, n: int = 1) -> None:
            binds[name] = binds.get(name, 0) + n

        for cc in self.program.cells:
            if cc.tree is None:
                continue
            for node in ast.walk(cc.tree):
                if isinstance(node, ast.Name):
                    if isinstance(node.ctx, ast.Load):
                        reads.setdefault(node.id, []).append((cc.index, node))
                    else:
                        bind(node.id)
                elif isinstance(node, ast.arg):
                    bind(node.arg)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    bind(node.name)
                elif isinstance(node, ast.alias):
                    bind((node.asname or node.name).split(".")[0])
                elif isinstance(node, (ast.Global, ast.Nonlocal)):
                    for name in node.names:
                        bind(name, 2)  # shared between scopes: never "bound once"
        return {name: (binds.get(name, 0), reads.get(name, [])) for name in set(binds) | set(reads)}

    def fresh_name(self, base: str) -> str:
        """`base`, or `base_2`, `base_3`, ... : a name the notebook does not use anywhere."""
        used = self.names_in_use()
        if base not in used:
            return base
        n = 2
        while f"{base}_{n}" in used:
            n += 1
        return f"{base}_{n}"



"""Metric kinds: is a value a loss (lower is better) or a score such as accuracy (higher is
better)? Shared by the rules about schedulers (`ReduceLROnPlateau(mode=...)` stepped with a
value) and about "best so far" logic (which direction a comparison keeps).

The kind is read from how the notebook computes the value, as a mentor reads it:

- the names involved: `val_acc`, `epoch_loss`, `metrics['accuracy']`, `best_f1`, `self.val_loss`;
- the definitions of a name in its scope (the function it is in, or the notebook's top level)
  when the name itself says nothing (`score = correct / total`), all of which must agree;
- library metric functions (`accuracy_score`, `f1_score`, `log_loss`, ...), loss objects and
  `criterion(...)`, and what a notebook function returns (`return loss_sum / n, correct / n`,
  indexed or unpacked);
- arithmetic: `-val_loss` and `1 - acc` flip the kind, `correct / total` and `100 * acc` keep it.

Unknown or conflicting evidence gives None: a rule that needs the kind stays silent.
"""
from __future__ import annotations

import ast
import re
from functools import cached_property
from typing import TYPE_CHECKING

from .provenance import dotted_name
from .values import Func

if TYPE_CHECKING:
    from . import Facts

LOSS, SCORE = "loss", "score"
LOSS_TOKENS = frozenset({"loss", "losses", "err", "error", "errors", "mse", "mae", "rmse", "nll", "bce", "logloss",
                         "entropy", "perplexity", "ppl", "wer", "cer", "cost", "criterion", "crit", "hinge"})
SCORE_TOKENS = frozenset({"acc", "accs", "accuracy", "accuracies", "f1", "fscore", "auc", "roc", "score", "scores",
                          "correct", "corrects", "hits", "precision", "recall", "map", "iou", "miou", "dice", "top1",
                          "top5", "kappa", "r2", "jaccard", "qwk", "mcc", "balanced"})
SCORE_FUNCTIONS = ("accuracy_score", "f1_score", "roc_auc_score", "balanced_accuracy_score", "precision_score",
                   "recall_score", "matthews_corrcoef", "cohen_kappa_score", "top_k_accuracy_score",
                   "average_precision_score", "jaccard_score", "r2_score")
LOSS_FUNCTIONS = ("log_loss", "mean_squared_error", "mean_absolute_error", "hinge_loss", "cross_entropy",
                  "nll_loss", "binary_cross_entropy", "mse_loss", "l1_loss")
# calls that keep the kind of what they are applied to
PASSTHROUGH_METHODS = frozenset({"item", "cpu", "detach", "numpy", "mean", "float", "double", "tolist", "clone",
                                 "squeeze", "sum", "avg", "compute", "result", "to", "cuda", "round"})
PASSTHROUGH_FUNCTIONS = ("builtins.float", "builtins.round", "builtins.abs", "builtins.int", "numpy.mean",
                         "numpy.average", "numpy.array", "numpy.asarray", "torch.tensor", "torch.mean", "torch.sum",
                         "statistics.mean", "numpy.float32", "numpy.float64", "builtins.sum")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if t]


def name_kind(name: str) -> str | None:
    """LOSS or SCORE from a name's words (`val_loss`, `bestAcc`, `epoch_acc`), None when it has
    both or neither."""
    toks = set(tokens(name))
    loss, score = bool(toks & LOSS_TOKENS), bool(toks & SCORE_TOKENS)
    if loss == score:
        return None
    return LOSS if loss else SCORE


def flip(kind: str | None) -> str | None:
    return {LOSS: SCORE, SCORE: LOSS}.get(kind) if kind else None


class Metrics:
    """Metric kinds over one notebook (built once per Facts)."""

    def __init__(self, facts: "Facts") -> None:
        self.facts = facts

    def scope_of(self, node: ast.AST) -> ast.AST | None:
        """The function a node is in (None: the notebook's top level)."""
        line = getattr(node, "lineno", None)
        if line is None:
            return None
        best = None
        for _cell, func in self.facts.assignments.functions:
            if func.lineno <= line <= (func.end_lineno or func.lineno) and self._inside(node, func):
                if best is None or func.lineno >= best.lineno:
                    best = func
        return best

    def _inside(self, node: ast.AST, func: ast.AST) -> bool:
        """Whether `node` is inside `func` (checked by identity, one walk per function)."""
        inside = self._members.get(id(func))
        if inside is None:
            inside = {id(n) for n in ast.walk(func)}
            self._members[id(func)] = inside
        return id(node) in inside

    @cached_property
    def _members(self) -> dict[int, set[int]]:
        return {}

    def definitions(self, name: str, scope: ast.AST | None) -> list[tuple[ast.expr, int | None]]:
        """(right-hand side, tuple index or None) for every assignment to `name` in the scope."""
        return [(a.value, a.index) for a in self.facts.assignments.by_name.get(name, ())
                if a.scope is scope and a.value is not None]

    def kind(self, node: ast.AST | None, depth: int = 0) -> str | None:
        """LOSS, SCORE or None for an expression of the notebook."""
        if node is None or depth > 6:
            return None
        if isinstance(node, ast.Name):
            k = name_kind(node.id)
            defs = self._defs_kind(node.id, self.scope_of(node), None, depth)
            if k is not None and defs is not None and defs != k:
                return None  # the name says one thing, the computation another
            return k or defs
        if isinstance(node, ast.Attribute):
            return name_kind(node.attr) or self.kind(node.value, depth + 1)
        if isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return name_kind(key.value)
            if isinstance(key, ast.Constant) and isinstance(key.value, int) and isinstance(node.value, ast.Name):
                k = name_kind(node.value.id)
                if k is not None:
                    return k
                return self._defs_kind(node.value.id, self.scope_of(node), key.value, depth)
            return self.kind(node.value, depth + 1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return flip(self.kind(node.operand, depth + 1))
        if isinstance(node, ast.BinOp):
            left, right = node.left, node.right
            if isinstance(node.op, ast.Sub) and isinstance(left, ast.Constant) and left.value in (1, 1.0, 100, 100.0):
                return flip(self.kind(right, depth + 1))
            if isinstance(node.op, (ast.Div, ast.FloorDiv)):
                return self.kind(left, depth + 1)
            kinds = {self.kind(x, depth + 1) for x in (left, right) if not isinstance(x, ast.Constant)}
            kinds.discard(None)
            return kinds.pop() if len(kinds) == 1 else None
        if isinstance(node, ast.Call):
            return self._call_kind(node, depth)
        return None

    def _call_kind(self, node: ast.Call, depth: int) -> str | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PASSTHROUGH_METHODS and not node.args:
            return self.kind(func.value, depth + 1)
        qname = self._qname(func)
        short = qname.rsplit(".", 1)[-1] if qname else (func.attr if isinstance(func, ast.Attribute) else
                                                         func.id if isinstance(func, ast.Name) else "")
        if short in SCORE_FUNCTIONS:
            return SCORE
        if short in LOSS_FUNCTIONS:
            return LOSS
        if qname in PASSTHROUGH_FUNCTIONS and node.args:
            return self.kind(node.args[0], depth + 1)
        target = self._callee(func)
        if isinstance(target, Func):
            return self._returns_kind(target, None, depth)
        k = name_kind(short) if short else None
        if k is not None:
            return k
        if isinstance(func, ast.Name) or isinstance(func, ast.Attribute):
            # a loss object: `criterion(out, y)` where criterion is nn.CrossEntropyLoss()
            v = self._value_of(func)
            if v is not None and self.facts.kind_of(v).value == "loss":
                return LOSS
        return None

    def _defs_kind(self, name: str, scope: ast.AST | None, index: int | None, depth: int) -> str | None:
        kinds = set()
        for rhs, pos in self.definitions(name, scope):
            if isinstance(rhs, ast.Constant) or (isinstance(rhs, ast.UnaryOp) and isinstance(rhs.operand, ast.Constant)):
                continue  # an initial value (`best = 0.0`) says nothing about the kind
            if index is not None and pos is None:
                k = self._indexed(rhs, index, depth)
            elif pos is not None and index is None:
                k = self._indexed(rhs, pos, depth)
            else:
                k = self.kind(rhs, depth + 1)
            kinds.add(k)
        if len(kinds) != 1:
            return None
        return kinds.pop()

    def _indexed(self, rhs: ast.expr, index: int, depth: int) -> str | None:
        """The kind of element `index` of what `rhs` gives (a tuple display, or a notebook function
        that returns one)."""
        if isinstance(rhs, ast.Tuple) and index < len(rhs.elts):
            return self.kind(rhs.elts[index], depth + 1)
        if isinstance(rhs, ast.Call):
            target = self._callee(rhs.func)
            if isinstance(target, Func):
                return self._returns_kind(target, index, depth)
        return None

    def _returns_kind(self, func: Func, index: int | None, depth: int) -> str | None:
        kinds = set()
        for node in _walk_scope(func.node):
            if isinstance(node, ast.Return) and node.value is not None:
                value = node.value
                if index is not None:
                    if not (isinstance(value, ast.Tuple) and index < len(value.elts)):
                        return None
                    value = value.elts[index]
                elif isinstance(value, (ast.Tuple, ast.Dict)):
                    return None
                kinds.add(self.kind(value, depth + 1))
        if len(kinds) != 1:
            return None
        return kinds.pop()

    def _value_of(self, func: ast.expr):
        if isinstance(func, ast.Name):
            return self.facts.interp.globals.lookup(func.id)
        return None

    def _callee(self, func: ast.expr):
        v = self._value_of(func)
        return v if isinstance(v, Func) else None

    def _qname(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name) and self.facts.interp.globals.lookup(func.id) is None:
            return "builtins." + func.id
        return dotted_name(func, self.facts.interp.globals)


def _walk_scope(root: ast.AST):
    """The nodes of a scope, not descending into nested functions and classes."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)

""""Best so far" logic: the comparisons that decide which epoch, checkpoint or setting is kept.

A *best check* is an `if` inside a loop (or in a function a loop calls) that compares a
current metric with a "best so far" value and does something when it improves: saves a
checkpoint, copies the weights, remembers the epoch or the hyper-parameter, resets an
early-stopping counter. For each one the facts give:

- which side is the best-so-far value (`best_acc`, `self.best_score`, `min_loss`, or the side
  the body assigns from the other) and which is the metric;
- the direction: whether the body runs when the metric is greater than the best;
- the metric's provenance (`Cond.deps`): the data it was computed from, so a rule can see
  that the test loader decides which checkpoint is kept;
- the data splits by name and use (`split_kind`): "test" (variable names and folders such as
  `test_loader`, `data/test`, `CIFAR10(train=False)`), "val", "train".
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .metrics import tokens
from .torchdata import base_data, chain, official_test_split, root_path
from .values import Cond, Const, Obj, ObjKind, Site, Value

if TYPE_CHECKING:
    from . import Facts

BEST_WORDS = frozenset({"best", "min", "max", "lowest", "highest", "top", "record", "minimum", "maximum", "optimal"})
TEST_WORDS = frozenset({"test", "tst", "holdout", "hold"})
VAL_WORDS = frozenset({"val", "valid", "validation", "dev", "eval", "evaluation"})
TRAIN_WORDS = frozenset({"train", "trn", "training"})
SAVE_CALLS = ("save", "save_weights", "save_pretrained", "state_dict", "deepcopy", "copy", "copyfile",
              "load_state_dict", "save_checkpoint", "save_model")


@dataclass(frozen=True, eq=False)
class BestCheck:
    cond: Cond
    site: Site  # the `if` statement, with the loops and functions around it
    node: ast.If
    metric: ast.expr  # the current value's side of the comparison
    best: ast.expr  # the best-so-far side
    greater: bool  # the body runs when the metric is greater than the best
    metric_deps: frozenset[int]
    seq: int

    @property
    def best_text(self) -> str:
        return ast.unparse(self.best)

    @property
    def metric_text(self) -> str:
        return ast.unparse(self.metric)


def best_checks(facts: "Facts") -> list[BestCheck]:
    out = []
    for cond, site, seq in facts.interp.branches:
        if site.uncalled or not site.loops or not isinstance(site.node, ast.If):
            continue
        test = cond.node
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and
                isinstance(test.ops[0], (ast.Lt, ast.LtE, ast.Gt, ast.GtE))):
            continue
        left, right = test.left, test.comparators[0]
        side = _best_side(left, right, site.node)
        if side is None:
            continue
        best, metric = (left, right) if side == 0 else (right, left)
        op_greater = isinstance(test.ops[0], (ast.Gt, ast.GtE))
        greater = op_greater if side == 1 else not op_greater  # `best < metric` == `metric > best`
        if not _acts(site.node):
            continue
        deps = cond.deps[1 - side] if len(cond.deps) == 2 else frozenset()
        out.append(BestCheck(cond, site, site.node, metric, best, greater, deps, seq))
    return out


def _ref_text(e: ast.expr) -> str | None:
    """`best_acc`, `self.best`, `best['acc']`: a stored value we can follow by its text."""
    if isinstance(e, (ast.Name, ast.Attribute)):
        return ast.unparse(e)
    return None


def _best_side(left: ast.expr, right: ast.expr, node: ast.If) -> int | None:
    """0 when the left operand is the best-so-far value, 1 when the right one is."""
    words = [set(tokens(_ref_text(x) or "")) & BEST_WORDS for x in (left, right)]
    if words[0] and not words[1]:
        return 0
    if words[1] and not words[0]:
        return 1
    # no naming hint: the side the body assigns from the other (`if acc > top: top = acc`)
    for i, (b, m) in enumerate(((left, right), (right, left))):
        bt, mt = _ref_text(b), ast.unparse(m)
        if bt is None:
            continue
        for stmt in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if isinstance(stmt, ast.Assign) and any(ast.unparse(t) == bt for t in stmt.targets) and \
                    ast.unparse(stmt.value) == mt:
                return i
    return None


def _acts(node: ast.If) -> bool:
    """The branch does something with the improvement: an assignment, a save or copy, a break."""
    for stmt in ast.walk(ast.Module(body=node.body + node.orelse, type_ignores=[])):
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Break, ast.Return)):
            return True
        if isinstance(stmt, ast.Call):
            f = stmt.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in SAVE_CALLS:
                return True
    return False


def split_words(facts: "Facts", data: Value | None) -> set[str]:
    """The words naming a piece of data and what it was made from: variable names, folder
    literals, the frames and lists a notebook Dataset was built from."""
    words: set[str] = set()
    for o in chain(data):
        name = facts.name_of(o)
        if name:
            words |= set(tokens(name))
        path = root_path(o)
        if path:
            words |= set(tokens(path.rsplit("/", 1)[-1] if not path.endswith("/") else path))
        if official_test_split(o):
            words.add("test")
        if o.kind is ObjKind.CALL and (o.api or "").startswith("notebook."):
            for k, v in o.args.items():
                if isinstance(v, Obj) and (facts.kind_of(v).value == "transform" or
                                           (v.api or "").startswith("timm.data.")):
                    continue  # `eval_tf` names the transform, not the split
                if isinstance(v, Obj) and facts.name_of(v):
                    words |= set(tokens(facts.name_of(v) or ""))
                elif isinstance(v, Const) and isinstance(v.value, str):
                    words |= set(tokens(v.value))
    return words


def split_kind(facts: "Facts", data: Value | None) -> str | None:
    """"test", "val" or "train" by the names the data carries; None when they say nothing or
    disagree."""
    words = split_words(facts, data)
    kinds = {k for k, ws in (("test", TEST_WORDS), ("val", VAL_WORDS), ("train", TRAIN_WORDS)) if words & ws}
    if "train" in kinds and len(kinds) > 1:
        kinds.discard("train")  # `val_part` of `train_df`: the split is what it was made into
    return kinds.pop() if len(kinds) == 1 else None


def same_data(a: Value | None, b: Value | None) -> bool:
    return base_data(a) is base_data(b) and isinstance(base_data(a), Obj) and _first_split(a) is _first_split(b)


def _first_split(v: Value | None) -> Value | None:
    """The subset/split object under a loader (subsets of one dataset are different data)."""
    for o in chain(v):
        if o.kind is ObjKind.ITEM or (o.kind is ObjKind.CALL and "Subset" in (o.api or "")):
            return o
    return None

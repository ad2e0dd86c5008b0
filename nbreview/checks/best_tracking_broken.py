"""best-tracking-broken: the "best so far" logic cannot work. The best value is compared but
never updated (every epoch that beats the initial value is "the best"), it is updated from a
different metric than the one compared, the comparison keeps the worst value, or its initial
value makes the comparison never true. Framework-independent: PyTorch loops and custom Keras
/ TensorFlow loops alike."""
from __future__ import annotations

import ast
import math

from ..facts.metrics import flip, name_kind, tokens
from ..facts.selection import BestCheck
from .base import Context, Rule, register

LOSS, SCORE = "loss", "score"
SPLIT_WORDS = {"train": "train", "training": "train", "trn": "train", "val": "val", "valid": "val",
               "validation": "val", "test": "test"}


@register
class BestTrackingBroken(Rule):
    slug = "best-tracking-broken"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        if any(g.why == "unparsed" for g in facts.gaps):
            return  # a cell we cannot read may update the best value
        checks = [c for c in facts.best_checks if isinstance(c.best, (ast.Name, ast.Attribute))]
        if not checks:
            return
        for c in checks:
            best = c.best_text
            found = facts.assignments.to(c.best)
            updates = [a for a in found if a.update]
            inits = [a for a in found if not a.update]
            in_body = _assigned_in(c.node.body, c.best)
            in_else = _assigned_in(c.node.orelse, c.best)
            params = {"best": best, "metric": c.metric_text}
            if not updates:
                other = _other_best(c)
                ctx.report(c.site, subject=c, params={**params, "other": other}, variant="default")
                continue
            for stmt in in_body:
                source = _source_mismatch(facts, c, stmt.value)
                if source is not None:
                    ctx.report(c.site, subject=c, params={**params, "source": source}, variant="other_metric")
                    break
            else:
                when_greater = c.greater if in_body else (not c.greater if in_else else None)
                if when_greater is None:
                    continue
                kind = facts.metric_kind(c.metric)
                if kind is None or name_kind(best) == flip(kind):
                    continue  # unknown, or the names disagree: unsure which direction is meant
                if (kind == LOSS) == when_greater:
                    ctx.report(c.site, subject=c, params={**params, "kind": kind}, variant=(
                        "wrong_direction_loss" if kind == LOSS else "wrong_direction_score"))
                    continue
                init = _initial(inits)
                if init is None:
                    continue
                never = (when_greater and init == math.inf) or (not when_greater and init == -math.inf) or (
                    not when_greater and kind == LOSS and init <= 0)
                if never:
                    ctx.report(c.site, subject=c, params={**params, "init": _show(init)}, variant="never_true")


def _target_matches(t: ast.AST, best: ast.expr) -> bool:
    if isinstance(best, ast.Name):
        if isinstance(t, ast.Name):
            return t.id == best.id
    elif isinstance(best, ast.Attribute):
        # `self.best_score` is updated by any `<obj>.best_score = ...` (the object may be named
        # differently inside its own methods)
        if isinstance(t, ast.Attribute):
            return t.attr == best.attr
    if isinstance(t, (ast.Tuple, ast.List)):
        return any(_target_matches(e, best) for e in t.elts)
    if isinstance(t, ast.Starred):
        return _target_matches(t.value, best)
    return False


def _assigned_in(body: list[ast.stmt], best: ast.expr) -> list[ast.Assign]:
    """Plain assignments to the best value directly in a branch (not in nested blocks)."""
    return [s for s in body if isinstance(s, ast.Assign) and len(s.targets) == 1
            and _target_matches(s.targets[0], best) and not isinstance(s.targets[0], (ast.Tuple, ast.List))]


def _other_best(c: BestCheck) -> str | None:
    """A best-like name the branch assigns instead (`best_acc = ...` under `if val_loss < best_loss`)."""
    for stmt in ast.walk(ast.Module(body=c.node.body, type_ignores=[])):
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name) and "best" in tokens(n.id) and n.id != c.best_text:
                        return n.id
    return None


def _words(text: str) -> tuple[str | None, str | None]:
    """(split, kind) a metric's name says: ("val", "loss") for `val_loss`."""
    toks = tokens(text)
    splits = {SPLIT_WORDS[t] for t in toks if t in SPLIT_WORDS}
    return (splits.pop() if len(splits) == 1 else None), name_kind(text)


def _source_mismatch(facts, c: BestCheck, value: ast.expr) -> str | None:
    """The branch sets the best value from another metric than the one it compared
    (`if val_loss < best_loss: best_loss = train_loss`); None when they agree or it is unclear."""
    m_text, v_text = c.metric_text, ast.unparse(value)
    if v_text == m_text or not isinstance(value, (ast.Name, ast.Attribute, ast.Subscript)):
        return None
    if not isinstance(c.metric, (ast.Name, ast.Attribute, ast.Subscript)):
        return None
    m_split, m_kind = _words(m_text)
    v_split, v_kind = _words(v_text)
    if (m_kind and v_kind and m_kind != v_kind) or (m_split and v_split and m_split != v_split):
        return v_text
    return None


def _initial(inits: list) -> float | None:
    """The one constant the best value starts from (all initialisations agree), else None."""
    values = set()
    for a in inits:
        if a.index is not None:
            return None  # `best_loss, best_acc = init_values()`: not a display we can read
        v = _constant(a.value)
        if v is None:
            return None
        values.add(v)
    return values.pop() if len(values) == 1 else None


def _constant(e: ast.AST | None) -> float | None:
    if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
        return float(e.value)
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        v = _constant(e.operand)
        return -v if v is not None else None
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "float" and len(e.args) == 1 and \
            isinstance(e.args[0], ast.Constant) and isinstance(e.args[0].value, str):
        text = e.args[0].value.strip().lower()
        if text in ("inf", "+inf", "infinity"):
            return math.inf
        if text in ("-inf", "-infinity"):
            return -math.inf
        return None
    if isinstance(e, ast.Attribute) and e.attr == "inf" and isinstance(e.value, ast.Name) and \
            e.value.id in ("np", "numpy", "math", "torch"):
        return math.inf
    return None


def _show(v: float) -> str:
    if v == math.inf:
        return "+inf"
    if v == -math.inf:
        return "-inf"
    return f"{v:g}"

"""Learning-rate schedulers of PyTorch (and timm / transformers): where they are stepped.

A scheduler object (`CosineAnnealingLR`, `CosineAnnealingWarmRestarts`, `OneCycleLR`,
`StepLR`, `MultiStepLR`, `ExponentialLR`, `ReduceLROnPlateau`, `LambdaLR`, timm's
`CosineLRScheduler`, ...) changes the LR only when `step()` is called, so what matters is each
`scheduler.step(...)` call (helpers and methods followed):

- per *batch* when its innermost loop walks batches (a loop over a loader, or a loop whose
  own iterations update the weights, e.g. `for step in range(n): ... next(it) ...`);
- per *epoch* when its innermost loop has the batch loop nested inside;
- with which value (`scheduler.step(val_loss)`, for `ReduceLROnPlateau`);
- how many times its loop runs when that is known (`range(EPOCHS)`).

A scheduler can also be *handed over*: given to a library call, stored in a list or dict, or
put on an object the analysis does not follow; then it may be stepped where we cannot see.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .interpreter import literal_items
from .passes import data_walked, is_update
from .values import CallRecord, Class, Dict, Loop, Obj, ObjKind, Seq, Value

if TYPE_CHECKING:
    from . import Facts

SCHEDULER_PREFIXES = ("torch.optim.lr_scheduler.", "timm.scheduler.", "transformers.get_",
                      "transformers.optimization.get_")
STEP_METHODS = ("step", "step_update")
INERT_HANDLERS = ("builtins.print", "builtins.type", "builtins.str", "builtins.repr", "builtins.isinstance",
                  "builtins.vars", "builtins.id", "builtins.hasattr", "builtins.getattr")


@dataclass(frozen=True, eq=False)
class Step:
    """One `scheduler.step(...)` call."""

    call: CallRecord
    per: str  # "batch" | "epoch" | "once" (outside any loop) | "unknown"
    loop: Loop | None  # the loop whose iterations are counted (the batch loop, or the epoch loop)
    epoch_loop: Loop | None  # the loop over epochs around it
    conditional: bool  # under a branch of its own (`if epoch > warmup:`), so not every iteration
    value: ast.expr | None  # the argument (`scheduler.step(val_loss)`, `metrics=`)

    @property
    def epochs(self) -> int | None:
        return self.epoch_loop.count if self.epoch_loop is not None else None


@dataclass(eq=False)
class Scheduler:
    obj: Obj
    name: str  # the class name: "CosineAnnealingLR"
    optimizer: Value | None
    steps: list[Step] = field(default_factory=list)
    handed_over: bool = False  # it may be stepped where the analysis cannot see


def is_scheduler(o: Obj) -> bool:
    return o.kind is ObjKind.CALL and (o.api or "").startswith(SCHEDULER_PREFIXES)


def find(facts: "Facts") -> list[Scheduler]:
    out = []
    for o in facts.objects:
        if not is_scheduler(o) or o.site.uncalled:
            continue
        s = Scheduler(o, (o.api or "").rsplit(".", 1)[-1], o.args.get("optimizer", o.args.get("#0")))
        for use in o.uses:
            rec = use.call
            if rec.site.uncalled:
                continue
            if use.param == "self" and rec.method in STEP_METHODS:
                s.steps.append(_step(facts, rec))
            elif use.param != "self" and not rec.followed and rec.name not in INERT_HANDLERS:
                s.handed_over = True
        s.handed_over = s.handed_over or _stored(facts, o)
        out.append(s)
    return out


def _stored(facts: "Facts", o: Obj) -> bool:
    """Kept in a list/dict, or on an object whose methods the analysis does not follow."""
    for _site, _name, value in facts.interp.assignments:
        if _contains(value, o, 0):
            return True
    for _site, base, _attr, value in facts.interp.attr_sets:
        if value is o and not (isinstance(base, Obj) and isinstance(base.callee, Class)):
            return True
        if value is not o and _contains(value, o, 0):
            return True
    return False


def _contains(v: Value, o: Obj, depth: int) -> bool:
    if depth > 3:
        return False
    if isinstance(v, Seq):
        return any(i is o or _contains(i, o, depth + 1) for i in v.items)
    if isinstance(v, Dict):
        return any(i is o or _contains(i, o, depth + 1) for i in v.items.values())
    return False


def _step(facts: "Facts", rec: CallRecord) -> Step:
    node = rec.site.node
    value = None
    if isinstance(node, ast.Call):
        if node.args:
            value = node.args[0]
        else:
            value = next((k.value for k in node.keywords if k.arg in ("metrics", "metric", "epoch")), None)
    loops = _counting_loops(rec)
    if not loops:
        return Step(rec, "once", None, None, bool(rec.site.conds), value)
    inner = loops[-1]
    outer = loops[-2] if len(loops) >= 2 else None
    own_conds = len(rec.site.conds) > len(inner.conds)
    if data_walked(inner) is not None or _updates_at_level(facts, inner):
        return Step(rec, "batch", inner, outer, own_conds, value)
    if _updates_deeper(facts, inner):
        return Step(rec, "epoch", inner, inner, own_conds, value)
    return Step(rec, "unknown", inner, None, own_conds, value)


def _updates_at_level(facts: "Facts", lp: Loop) -> bool:
    """The loop's own iterations update the weights (the update's innermost loop is this one)."""
    for rec in facts.calls_inside(lp):
        if is_update(facts, rec):
            loops = _counting_loops(rec)
            if loops and loops[-1] is lp:
                return True
    return False


def _updates_deeper(facts: "Facts", lp: Loop) -> bool:
    """Weights are updated in a loop nested inside this one (this one counts epochs)."""
    for rec in facts.calls_inside(lp):
        if is_update(facts, rec):
            loops = _counting_loops(rec)
            if lp in loops and loops[-1] is not lp:
                return True
    return False


def _counting_loops(rec: CallRecord) -> list[Loop]:
    """The loops around a call that count epochs or batches: comprehensions, and loops unrolled
    over a few constants (`for phase in ['train', 'val']`), do not."""
    return [lp for lp in rec.site.loops if lp.kind != "comprehension" and literal_items(lp.over) is None]

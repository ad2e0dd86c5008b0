"""The learning rate over the epochs a fit actually trains: the optimizer's `learning_rate`
in the compile in force, a `LearningRateScheduler` whose schedule (a lambda or a notebook
function, with one argument `epoch` or two `epoch, lr`) the interpreter evaluates epoch by
epoch, a `keras.optimizers.schedules.*` object given as the learning rate (per step: its
curve is known only when the steps per epoch are), and whether a `ReduceLROnPlateau` may lower
it further.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .training import compile_for
from .values import CallRecord, Const, Func, Obj, ObjKind, Seq, Value

if TYPE_CHECKING:
    from . import Facts

MAX_EPOCHS = 1000
# Keras' default learning rates (TF 2.x and Keras 3 agree on these)
DEFAULT_LR = {"adam": 1e-3, "adamw": 1e-3, "nadam": 1e-3, "adamax": 1e-3, "rmsprop": 1e-3, "sgd": 1e-2,
              "adagrad": 1e-3, "adadelta": 1e-3, "ftrl": 1e-3, "lion": 1e-3}


@dataclass
class LrCurve:
    fit: CallRecord
    epochs: int  # epochs this fit trains (`epochs - initial_epoch`)
    first_epoch: int  # `initial_epoch`
    lrs: list[float] | None  # the LR at each of those epochs, when known
    initial: float | None  # the optimizer's LR when the fit starts
    scheduler: Obj | None = None  # the LearningRateScheduler callback
    schedule: Obj | None = None  # a keras.optimizers.schedules object given as the learning rate
    adaptive: list[Obj] = field(default_factory=list)  # ReduceLROnPlateau callbacks


def optimizer_lr(facts: "Facts", fit: CallRecord) -> tuple[float | None, Obj | None]:
    """(the LR the compile in force sets, the schedule object when the LR is one)."""
    rec = compile_for(facts, fit)
    if rec is None:
        return None, None
    opt = rec.arg("optimizer")
    if isinstance(opt, Const) and isinstance(opt.value, str):
        return DEFAULT_LR.get(opt.value.lower()), None
    if not (isinstance(opt, Obj) and opt.kind is ObjKind.CALL and (opt.api or "").startswith("keras.optimizers.")):
        return None, None
    lr = opt.args.get("learning_rate", opt.args.get("lr", opt.args.get("#0")))
    if lr is None:
        return (DEFAULT_LR.get((opt.api or "").rsplit(".", 1)[-1].lower()) if opt.complete else None), None
    if isinstance(lr, Const) and isinstance(lr.value, (int, float)):
        return float(lr.value), None
    if isinstance(lr, Obj) and lr.kind is ObjKind.CALL and (lr.api or "").startswith("keras.optimizers.schedules."):
        return None, lr
    return None, None


def lr_curve(facts: "Facts", fit: CallRecord) -> LrCurve | None:
    epochs = fit.arg("epochs") if "epochs" in fit.args or not fit.complete else Const(1)
    start = fit.arg("initial_epoch") if "initial_epoch" in fit.args or not fit.complete else Const(0)
    if not (isinstance(epochs, Const) and isinstance(epochs.value, int) and isinstance(start, Const)
            and isinstance(start.value, int)):
        return None
    n = epochs.value - start.value
    if n <= 0 or epochs.value > MAX_EPOCHS:
        return None
    initial, schedule = optimizer_lr(facts, fit)
    curve = LrCurve(fit, n, start.value, None, initial, schedule=schedule)
    cbs = fit.arg("callbacks")
    items = cbs.items if isinstance(cbs, Seq) else []
    for cb in items:
        if isinstance(cb, Obj) and cb.kind is ObjKind.CALL:
            if cb.api == "keras.callbacks.LearningRateScheduler":
                curve.scheduler = cb
            elif cb.api == "keras.callbacks.ReduceLROnPlateau":
                curve.adaptive.append(cb)
    if curve.scheduler is not None:
        fn = curve.scheduler.arg("schedule", curve.scheduler.args.get("#0"))
        if isinstance(fn, Func):
            curve.lrs = _run_schedule(facts, fn, start.value, epochs.value, initial)
    elif schedule is None and initial is not None and (cbs is None or isinstance(cbs, Seq) and cbs.complete):
        curve.lrs = [initial] * n
    return curve


def _arity(f: Func) -> int:
    a = f.node.args
    return len(a.posonlyargs) + len(a.args)


def _run_schedule(facts: "Facts", fn: Func, start: int, stop: int, initial: float | None) -> list[float] | None:
    """Keras calls `schedule(epoch, lr)` (or `schedule(epoch)`) at the start of every epoch, with
    the optimizer's current LR; the value it returns becomes the LR."""
    two = _arity(fn) >= 2
    if two and initial is None and _uses_second(fn):
        return None
    cur = initial if initial is not None else 1.0
    out: list[float] = []
    for epoch in range(start, stop):
        args = [epoch, cur] if two else [epoch]
        v = facts.evaluate(fn, args)
        if not (isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool)):
            return None
        cur = float(v.value)
        out.append(cur)
    return out


def _uses_second(fn: Func) -> bool:
    import ast

    a = fn.node.args
    names = [p.arg for p in a.posonlyargs + a.args]
    return len(names) >= 2 and any(isinstance(n, ast.Name) and n.id == names[1] for n in ast.walk(fn.node))


def schedule_ratio(schedule: Obj, steps: int) -> float | None:
    """LR after `steps` steps / initial LR, for the per-step schedules whose formula is simple."""
    short = (schedule.api or "").rsplit(".", 1)[-1]
    a = schedule.args

    def num(*names: str) -> float | None:
        for n in names:
            v = a.get(n)
            if isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
                return float(v.value)
        return None

    decay_steps = num("decay_steps", "#1")
    rate = num("decay_rate", "#2")
    stair = a.get("staircase", Const(False))
    if decay_steps is None or rate is None or not isinstance(stair, Const) or not schedule.complete:
        return None
    p = steps / decay_steps
    if stair.value:
        p = float(int(p))
    if short == "ExponentialDecay":
        return rate ** p
    if short == "InverseTimeDecay":
        return 1.0 / (1.0 + rate * p)
    return None


def _value(v: Value | None) -> float | None:
    return float(v.value) if isinstance(v, Const) and isinstance(v.value, (int, float)) else None

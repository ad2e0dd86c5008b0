"""cosine-tmax-mismatch: `CosineAnnealingLR(T_max=k)` does not match how it is stepped. Stepped
once per epoch for more than k epochs, the LR falls to its minimum at epoch k and then climbs
back up (the cosine is periodic); stepped after every batch with T_max counted in epochs, the
LR goes down and up again every 2k batches."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts.values import Const, Loop, Obj
from ..printed import parse, series
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..model import OutputEvidence
    from ..outputs import Outputs

T_MAX_POSITION = 1  # CosineAnnealingLR(optimizer, T_max, eta_min, last_epoch)


@register
class CosineTmaxMismatch(Rule):
    slug = "cosine-tmax-mismatch"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for s in facts.schedulers:
            if s.name != "CosineAnnealingLR" or s.handed_over or not s.steps:
                continue
            tmax = s.obj.arg("T_max")
            if not (isinstance(tmax, Const) and isinstance(tmax.value, int) and not isinstance(tmax.value, bool)
                    and tmax.value > 0):
                continue
            pers = {st.per for st in s.steps}
            if len(pers) != 1 or any(st.conditional for st in s.steps):
                continue
            per = pers.pop()
            step = s.steps[0]
            if step.loop is None or step.loop in s.obj.site.loops:
                continue  # re-created inside the loop it is stepped in
            epochs = step.epochs
            if epochs is None or any(st.epochs != epochs for st in s.steps):
                continue
            k = tmax.value
            if per == "epoch" and k < epochs:
                variant = "default"
            elif per == "batch" and k <= epochs:
                variant = "per_batch"
            else:
                continue
            name = _epochs_name(facts, step.epoch_loop, epochs, s.obj) if variant == "default" else None
            ctx.report(
                s.obj.site,
                subject=s,
                params={"name": facts.name_of(s.obj), "tmax": k, "epochs": epochs,
                        "lowest": k, "back": 2 * k if 2 * k <= epochs else None},
                related=[st.call.site for st in s.steps],
                variant=variant,
                fix=FixOffer(safe=True, data={"value": name or str(epochs)}) if variant == "default" else None,
            )

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        edit.set_keyword(hit.subject.obj.site, "T_max", hit.fix.data["value"], position=T_MAX_POSITION)  # type: ignore

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
        return _lr_climbs_back(hit, outputs)


def _epochs_name(facts, loop: Loop | None, epochs: int, sched: Obj) -> str | None:
    """The constant the epoch loop counts to (`range(EPOCHS)` -> "EPOCHS"), when that name holds
    the same number where the scheduler is created."""
    if loop is None or not isinstance(loop.node, ast.For):
        return None
    it = loop.node.iter
    while isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("tqdm", "trange", "enumerate") \
            and it.args:
        it = it.args[0]
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("range", "trange")):
        return None
    args = it.args
    stop = args[0] if len(args) == 1 else (args[1] if len(args) >= 2 else None)
    if len(args) == 2 and isinstance(args[0], ast.Constant) and args[0].value == 1 and \
            isinstance(stop, ast.BinOp) and isinstance(stop.op, ast.Add) and \
            isinstance(stop.right, ast.Constant) and stop.right.value == 1:
        stop = stop.left  # range(1, EPOCHS + 1)
    elif len(args) == 2 and not (isinstance(args[0], ast.Constant) and args[0].value == 0):
        return None
    if not isinstance(stop, ast.Name):
        return None
    value = facts.interp.globals.lookup(stop.id)
    if not (isinstance(value, Const) and value.value == epochs):
        return None
    # the name must be bound before the scheduler is created, at the notebook's top level
    for site, name, _v in facts.interp.assignments:
        if name == stop.id and not site.funcs and (site.cell, site.line) <= (sched.site.cell, sched.site.line):
            return stop.id
    return None


def _lr_climbs_back(hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
    """The printed LR of the stepping loop goes down to its minimum and then rises again."""
    from ..model import OutputEvidence

    for st in hit.subject.steps:
        cell = st.call.site.cell if st.epoch_loop is None else st.epoch_loop.cell
        lrs = series(parse(outputs.text(cell)), "lr")
        if len(lrs) < 3:
            continue
        top = max(v for _e, v, _l in lrs)
        low_i = min(range(len(lrs)), key=lambda i: lrs[i][1])
        low = lrs[low_i][1]
        later = [x for x in lrs[low_i + 1:] if x[1] > low + 0.2 * (top - low) and x[1] > low * 1.5]
        if top <= 0 or not later or low > 0.5 * top:
            continue
        e_low, v_low, l_low = lrs[low_i]
        e_up, v_up, l_up = max(later, key=lambda x: x[1])
        return OutputEvidence(
            cell=cell,
            execution_count=outputs.execution_count(cell),
            messages={
                "ru": f"Learning rate в логе опускается до {v_low:g} на эпохе {e_low}, "
                      f"а к эпохе {e_up} снова вырастает до {v_up:g}.",
                "en": f"The learning rate in the log goes down to {v_low:g} at epoch {e_low} "
                      f"and is back up at {v_up:g} by epoch {e_up}.",
            },
            lines=[l_low, l_up],
        )
    return None

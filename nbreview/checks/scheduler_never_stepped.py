"""scheduler-never-stepped: a PyTorch LR scheduler is created for the optimizer that trains the
model, but nothing ever calls its `step()`: the learning rate stays at its initial value for
the whole training."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..facts.models import root
from ..facts.values import CallRecord, Obj, Value
from ..printed import parse, series
from .base import Context, Hit, Rule, register

if TYPE_CHECKING:
    from ..model import OutputEvidence
    from ..outputs import Outputs


@register
class SchedulerNeverStepped(Rule):
    slug = "scheduler-never-stepped"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        schedulers = facts.schedulers
        for s in schedulers:
            if s.steps or s.handed_over:
                continue
            opt = root(s.optimizer, "model")
            if not isinstance(opt, Obj):
                continue
            # the next scheduler made for the same optimizer replaces this one
            later = [o.obj.seq for o in schedulers if o is not s and root(o.optimizer, "model") is opt
                     and o.obj.seq > s.obj.seq]
            until = min(later) if later else None
            steps = [rec for rec in facts.passes.updates
                     if rec.seq > s.obj.seq and (until is None or rec.seq < until) and _steps(rec, opt)]
            if not steps:
                continue  # no training with this optimizer after the scheduler is made
            if not facts.complete_between(s.obj.seq, steps[-1].seq + 1):
                continue  # code we could not read might step it
            outer = steps[0].site.loops[0] if steps[0].site.loops else None  # the loop over epochs
            ctx.report(
                s.obj.site,
                subject=(s, outer),
                params={"name": facts.name_of(s.obj), "kind": s.name},
                related=[steps[0].site],
            )

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
        return _constant_lr(hit, outputs)


def _steps(rec: CallRecord, opt: Value) -> bool:
    """`opt.step()` or `scaler.step(opt)`: an update made with this optimizer."""
    if rec.method != "step":
        return False
    if root(rec.receiver, "model") is opt:
        return True
    return any(root(v, "model") is opt for v in rec.args.values())


def _constant_lr(hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
    """The printed per-epoch learning rate never changes."""
    from ..model import OutputEvidence

    sched, outer = hit.subject
    if outer is None:
        return None
    lrs = series(parse(outputs.text(outer.cell)), "lr")
    if len(lrs) < 3 or len({v for _e, v, _l in lrs}) != 1 or not _would_change(sched, len(lrs)):
        return None
    first, last = lrs[0], lrs[-1]
    return OutputEvidence(
        cell=outer.cell,
        execution_count=outputs.execution_count(outer.cell),
        messages={
            "ru": f"По логу learning rate так и остаётся {first[1]:g} все {len(lrs)} эпох (с {first[0]}-й по {last[0]}-ю).",
            "en": f"The log shows the learning rate staying at {first[1]:g} for all {len(lrs)} epochs "
                  f"(from epoch {first[0]} to {last[0]}).",
        },
        lines=[first[2], last[2]],
    )


def _would_change(sched, epochs: int) -> bool:
    """Stepped once per epoch, this scheduler would have changed the LR within `epochs` epochs."""
    from ..facts.values import Const, Seq

    name, obj = sched.name, sched.obj
    if name in ("CosineAnnealingLR", "ExponentialLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "LambdaLR"):
        return True
    if name == "StepLR":
        size = obj.arg("step_size")
        return isinstance(size, Const) and isinstance(size.value, int) and size.value < epochs
    if name == "MultiStepLR":
        ms = obj.arg("milestones")
        values = [i.value for i in ms.items if isinstance(i, Const)] if isinstance(ms, Seq) else \
            list(ms.value) if isinstance(ms, Const) and isinstance(ms.value, (list, tuple)) else []
        return any(isinstance(m, int) and m < epochs for m in values)
    return False

"""torch-missing-train: `model.eval()` for validation inside the epoch loop, and no
`model.train()` before the next epoch's training pass: from the second epoch on the model
trains with dropout off and BatchNorm statistics frozen."""
from __future__ import annotations

from ..facts import Mode
from ..facts.flow import mode_effect
from ..facts.values import CallRecord, Loop
from .base import Context, Rule, register


@register
class TorchMissingTrain(Rule):
    slug = "torch-missing-train"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for rec in facts.calls:
            if rec.name != "()" or rec.site.uncalled or not facts.is_model(rec.callee):
                continue
            if not _trains(facts, rec):
                continue
            model = facts.root(rec.callee, "model")
            state = None
            for epoch_loop in rec.site.loops:
                if not _repeats(epoch_loop):
                    continue
                setter = _eval_inside(facts, model, epoch_loop)
                if setter is None:
                    continue
                state = state or facts.mode_at(model, rec)
                if state.surely(Mode.EVAL, epoch_loop):  # every later epoch trains in eval mode
                    ctx.report(setter.site, subject=setter, params={"model": facts.describe(model)},
                               related=[rec.site])
                    break


NO_GRAD = ("torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.set_grad_enabled")


def _trains(facts, rec: CallRecord) -> bool:
    """A forward pass that trains: its innermost loop has backward/step, and no `no_grad` around it."""
    if not rec.site.loops or any(c.startswith(NO_GRAD) for c in rec.site.contexts):
        return False
    return rec.site.loops[-1] in facts.training_loops


def _repeats(loop: Loop) -> bool:
    return loop.kind in ("for", "while") and (loop.count is None or loop.count >= 2)


def _eval_inside(facts, model, loop: Loop) -> CallRecord | None:
    """The first `model.eval()` (or `model.train(False)`) made while the loop body ran."""
    effect = mode_effect(model)
    for rec in facts.calls_inside(loop):
        if effect(rec) is Mode.EVAL:
            return rec
    return None

"""torch-missing-train: `model.eval()` for validation inside the epoch loop, and no
`model.train()` before the next epoch's training pass: from the second epoch on the model
trains with dropout off and BatchNorm statistics frozen."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts.passes import NO_GRAD, Pass, mode_sensitive
from ..facts.values import CallRecord, Loop
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor


@register
class TorchMissingTrain(Rule):
    slug = "torch-missing-train"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        passes = facts.passes
        for p in passes.training_passes():
            if p.no_grad:
                continue
            for rec in p.forwards:
                if any(c.startswith(NO_GRAD) for c in rec.site.contexts):
                    continue
                model = facts.torch_model(rec.callee)
                if model is None or not mode_sensitive(facts, model):
                    continue
                effect = passes.mode_effect(model)
                state = None
                for epoch_loop in rec.site.loops:
                    if not _repeats(epoch_loop) or epoch_loop is p.loop:
                        continue
                    setter = _eval_inside(facts, effect, epoch_loop)
                    if setter is None:
                        continue
                    state = state or passes.mode_at(model, rec)
                    later = state.later(epoch_loop)
                    # every later epoch trains in eval mode
                    if later and all(isinstance(s, tuple) and s[0] == "eval" for s in later):
                        ctx.report(setter.site, subject=setter, params={"model": facts.describe(model)},
                                   related=[rec.site], fix=_fix_offer(p, rec))
                        break

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        data = hit.fix.data  # type: ignore[union-attr]
        edit.insert_before(data["cell"], data["line"], data["code"])


def _fix_offer(p: Pass, forward: CallRecord) -> FixOffer | None:
    """`model.train()` right before the training pass's loop over batches."""
    node = forward.site.node
    if p.loop.kind not in ("for", "while") or not isinstance(node, ast.Call) or \
            not any(n is node for n in ast.walk(p.loop.node)):
        return None
    probe = node.func
    while isinstance(probe, ast.Attribute):
        probe = probe.value
    if not isinstance(probe, ast.Name):
        return None
    return FixOffer(safe=True, data={"cell": p.loop.cell, "line": p.loop.line,
                                     "code": f"{ast.unparse(node.func)}.train()"})


def _repeats(loop: Loop) -> bool:
    return loop.kind in ("for", "while") and (loop.count is None or loop.count >= 2)


def _eval_inside(facts, effect, loop: Loop) -> CallRecord | None:
    """The first `model.eval()` (or `model.train(False)`) made while the loop body ran."""
    for rec in facts.calls_inside(loop):
        value = effect(rec)
        if isinstance(value, tuple) and value[0] == "eval":
            return rec
    return None

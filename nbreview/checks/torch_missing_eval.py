"""torch-missing-eval: a loop over validation or test data runs a PyTorch model that is
still in training mode (dropout on, BatchNorm normalising with batch statistics and
updating its running averages): the model was never switched to `eval()`, or a training
pass switched it back with `train()` and nothing switched it to `eval()` again."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts.passes import INIT, Pass, mode_sensitive
from ..facts.values import CallRecord, Obj, Site
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor


@register
class TorchMissingEval(Rule):
    slug = "torch-missing-eval"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        passes = facts.passes
        found: dict[tuple[int, int], tuple[Pass, Obj, CallRecord, list[Site]]] = {}
        for p in passes.evaluation_passes():
            if not passes.held_out(p):
                continue  # accuracy on the training data: not a validation loop
            for model in p.models:
                fw = next(r for r in p.forwards if facts.torch_model(r.callee) is model)
                if not mode_sensitive(facts, model) or not passes.surely_training_mode(model, fw):
                    continue
                key = (p.loop.cell, id(p.loop.node))
                if key not in found:
                    found[key] = (p, model, fw, [])
                if p.helper is not None:
                    found[key][3].append(p.helper.site)
        for p, model, fw, calls in found.values():
            states = passes.mode_at(model, fw)
            never = all(s == INIT for s in states.may)
            expr = _callee_text(fw)
            helper = p.helper.callee.name if p.helper is not None and hasattr(p.helper.callee, "name") else None
            ctx.report(
                Site(p.loop.cell, p.loop.node),
                subject=(p, model),
                params={"model": expr or facts.describe(model), "data": facts.describe(p.data),
                        "func": helper.rsplit(".", 1)[-1] if helper else None},
                related=[s for s in calls if s.cell != p.loop.cell],
                variant="never_eval" if never else "default",
                fix=_fix_offer(facts, p, model, fw, expr),
            )

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        for cell, line, code in hit.fix.data["inserts"]:  # type: ignore[union-attr]
            edit.insert_before_containing(cell, line, code)


def _callee_text(rec: CallRecord) -> str | None:
    """How the forward pass names the model (`model`, `self.model`, `net`): a plain name chain."""
    node = rec.site.node
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    probe = func
    while isinstance(probe, ast.Attribute):
        probe = probe.value
    return ast.unparse(func) if isinstance(probe, ast.Name) else None


def _inside(outer: ast.AST, inner: ast.AST) -> bool:
    return any(n is inner for n in ast.walk(outer))


def _fix_offer(facts, p: Pass, model: Obj, fw: CallRecord, expr: str | None) -> FixOffer | None:
    """`model.eval()` before the evaluation loop. When a training pass relies on the mode a model
    is created in (no `model.train()` of its own), switching to eval here would leave it in
    eval mode, so `model.train()` goes before that pass's loop too."""
    if expr is None or not _inside(p.loop.node, fw.site.node):
        return None
    inserts = {(p.loop.cell, p.loop.line): f"{expr}.eval()"}
    for tp in facts.passes.training_passes():
        for tf in tp.forwards:
            if facts.torch_model(tf.callee) is not model:
                continue
            states = facts.passes.mode_at(model, tf).may
            if all(isinstance(s, tuple) and s[0] == "train" for s in states):
                continue  # it sets train mode itself
            if not all(s == INIT or isinstance(s, tuple) for s in states):
                return None  # a mode we cannot see
            texpr = _callee_text(tf)
            if texpr is None or tp.loop.kind != "for" or not _inside(tp.loop.node, tf.site.node):
                return None
            inserts.setdefault((tp.loop.cell, tp.loop.line), f"{texpr}.train()")
    return FixOffer(safe=True, variant="with_train" if len(inserts) > 1 else "default",
                    data={"inserts": [(c, ln, code) for (c, ln), code in inserts.items()]})

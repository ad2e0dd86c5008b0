"""question-heavy-head: a head with extra layers on top of a pretrained backbone (a hidden Dense
with BatchNormalization, or two hidden Dense layers): ask whether it beats pooling + the output
layer. The question quotes the head's layers as they are, in order."""
from __future__ import annotations

from ..facts.values import Const, Obj
from .base import Context, Rule, register

DENSE = "keras.layers.Dense"
NORM = "keras.layers.BatchNormalization"
NOT_HEAD = ("keras.layers.Input", "keras.layers.InputLayer")


@register
class HeavyHead(Rule):
    slug = "question-heavy-head"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for _rec, model in facts.models_trained():
            bbs = facts.backbones(model)
            if not bbs:
                continue
            before = {o.id for bb in bbs for o in facts.layers_before(model, bb)}
            head = sorted((p for p in facts.model_parts(model) if (p.api or "").startswith("keras.layers.")
                           and p.api not in NOT_HEAD and p.id not in before
                           and facts.transform_augments(p).value is not True), key=lambda p: p.site.key)
            dense = [p for p in head if p.api == DENSE]
            hidden = dense[:-1]
            if not hidden or not (len(hidden) >= 2 or any(p.api == NORM for p in head)):
                continue
            ctx.report(hidden[0].site, subject=model, params={
                "layers": " → ".join(_layer(p) for p in head),
                "backbone": (bbs[0].api or "").rsplit(".", 1)[-1] or None,
            })
            return


def _layer(o: Obj) -> str:
    """`Dense(256)`, `Dropout(0.25)`, `BatchNormalization`: the layer and its size, as written."""
    name = (o.api or "").rsplit(".", 1)[-1]
    key = {"Dense": "units", "Dropout": "rate"}.get(name)
    v = o.args.get(key, o.args.get("#0")) if key else None
    if isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        return f"{name}({v.value:g})"
    return name

"""question-heavy-head: several Dense layers with BatchNormalization/Dropout on top of a
pretrained backbone: ask whether it beats pooling + the output layer."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class HeavyHead(Rule):
    slug = "question-heavy-head"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for _rec, model in facts.models_trained():
            parts = facts.model_parts(model)
            if not facts.backbones(model):
                continue
            dense = [p for p in parts if p.api == "keras.layers.Dense"]
            extra = [p for p in parts if p.api in ("keras.layers.BatchNormalization", "keras.layers.Dropout")]
            if len(dense) >= 2 and extra:
                ctx.report(min(dense, key=lambda d: d.site.key).site, subject=model)
                return

"""good-real-tta (praise): TTA over augmented data with enough passes."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class RealTta(Rule):
    slug = "good-real-tta"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        enough = ctx.option("min-passes", 10)
        for rec, loop in facts.tta_calls():
            data = rec.args.get("x")
            if loop.count is not None and loop.count >= enough and facts.augments(data).value is True:
                ctx.report(rec.site, subject=rec)
        # PyTorch: the whole loader walked several times in eval mode, over augmenting data
        for outer, _inner, rec, data in facts.repeated_passes():
            if outer.count is not None and outer.count >= enough and facts.data_augments(data, rec.seq).value is True:
                ctx.report(rec.site, subject=rec)

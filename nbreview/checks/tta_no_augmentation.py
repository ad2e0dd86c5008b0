"""tta-no-augmentation: several predict passes over data that is not augmented: all identical."""
from __future__ import annotations

from ..facts import apis
from ..facts.loops import frozen_by_cache, source_step
from ..facts.values import Loop, Obj, ObjKind, Site, Value
from .base import Context, Rule, register


@register
class TtaNoAugmentation(Rule):
    slug = "tta-no-augmentation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        # Keras style: `model.predict(test_gen)` repeated in a loop
        for rec, loop in facts.tta_calls(include_uncalled=True):
            data = rec.args.get("x")
            if not isinstance(data, Obj):
                continue
            ans = facts.augments(data)
            if ans.value is not False and not (ans.value and frozen_by_cache(data)):
                continue
            source = data.origin if data.kind is ObjKind.METHOD and data.api in apis.FLOW_METHODS else None
            related = [data.site] if data.site.cell != rec.site.cell else []
            ctx.report(rec.site, subject=rec, params=_params(ctx, data, source, loop), related=related)
        # PyTorch style: the model applied batch by batch, the whole walk repeated
        for outer, _inner, _rec, data in facts.repeated_passes():
            site = Site(outer.cell, outer.node)
            if facts.augments(data).value is not False:
                continue
            source = data.arg("dataset") if data.kind is ObjKind.CALL and data.api == "torch.utils.data.DataLoader" \
                else None
            related = [data.site] if data.site.cell != outer.cell else []
            ctx.report(site, subject=outer, params=_params(ctx, data, source, outer), related=related)


def _params(ctx: Context, data: Obj, source: Value | None, loop: Loop) -> dict[str, object]:
    facts = ctx.facts
    return {
        "data": facts.describe(data),
        "source": facts.describe(source if source is not None else source_step(data)),
        "passes": loop.count,  # unknown (a `while` loop, a variable count): the message says it without a number
    }

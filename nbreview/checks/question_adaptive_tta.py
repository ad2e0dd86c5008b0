"""question-adaptive-tta: real TTA is there; ask about spending more passes on doubtful images."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class AdaptiveTta(Rule):
    slug = "question-adaptive-tta"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for rec, _loop in facts.tta_calls():
            if facts.augments(rec.args.get("x")).value is True:
                ctx.report(rec.site, subject=rec)
                return

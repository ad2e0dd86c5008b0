"""unnatural-augmentation: augmentations that make images the task never sees — vertical flips,
transposes or 90-degree turns of photos with a natural up and down (cars, animals, people,
scenes). Decided from what the notebook says its data is; silent when unsure."""
from __future__ import annotations

from ..facts.orientation import WHAT
from .base import Context, Rule, register


@register
class UnnaturalAugmentation(Rule):
    slug = "unnatural-augmentation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        turns = facts.turns
        if not turns:
            return
        dom = facts.domain
        if dom.upright is not True or dom.what not in WHAT:
            return
        ru, en = WHAT[dom.what]
        for t in turns:
            if facts.ran(t.site) is False:
                continue
            ctx.report(facts.top_site(t.site, t.owner.seq) if t.owner is not None else t.site, subject=t,
                       variant="default" if t.kind == "flip" else "rotate",
                       params={"aug": facts.quote(t.site, 70), "what_ru": ru, "what_en": en,
                               "evidence": dom.evidence})

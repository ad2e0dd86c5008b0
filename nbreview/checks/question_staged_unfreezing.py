"""question-staged-unfreezing: the backbone is unfrozen in part (a slice of its layers): ask
whether staged unfreezing was compared with fine-tuning the whole network."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class StagedUnfreezing(Rule):
    slug = "question-staged-unfreezing"

    def check(self, ctx: Context) -> None:
        partial = [(site, bb) for site, bb, whole in ctx.facts.unfreezes if not whole]
        if partial:
            ctx.report(partial[0][0], subject=partial[0][1])

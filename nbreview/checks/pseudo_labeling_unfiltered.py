"""pseudo-labeling-unfiltered: every test prediction is added to the training data (a frame
concatenated with the training frame, files copied into the class folders) with no
confidence filter."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class PseudoLabelingUnfiltered(Rule):
    slug = "pseudo-labeling-unfiltered"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for p in facts.pseudo_labelling():
            ctx.report(p.site, subject=p.fit, variant="copy" if p.how == "copy" else "default",
                       params={"data": facts.name_of(p.data) if p.data is not None else None},
                       related=[p.prediction, p.fit.site])

"""good-fine-tuning (praise): a pretrained backbone unfrozen (whole or in stages) in a model that is trained
afterwards."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class GoodFineTuning(Rule):
    slug = "good-fine-tuning"

    def check(self, ctx: Context) -> None:
        for site, backbone, _whole in ctx.facts.unfreezes:
            if ctx.facts.trained_after(site, backbone) is not True:
                continue  # unfrozen, but no training of that model follows: nothing was fine-tuned
            ctx.report(site, subject=backbone)
            return
        for ft in ctx.facts.torch_fine_tuned:  # PyTorch: the optimizer trains the pretrained backbone
            ctx.report(ft.optimizer.site, subject=ft.model, variant="staged" if ft.staged else "whole")
            return

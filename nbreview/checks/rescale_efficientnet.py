"""rescale-efficientnet: [0, 1] inputs fed to a keras.applications EfficientNet that rescales inside."""
from __future__ import annotations

from ..facts.models import efficientnet_rescales_inside
from .base import Context, Rule, register


@register
class RescaleEfficientNet(Rule):
    slug = "rescale-efficientnet"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for model in facts.models_used(include_uncalled=True):
            for backbone in facts.backbones(model):
                if efficientnet_rescales_inside(backbone) is not True:
                    continue
                arch = (backbone.api or "").rsplit(".", 1)[-1]
                base = facts.name_of(backbone) or arch
                for layer in facts.layers_before(model, backbone):
                    if facts.sem.is_unit_rescaling_layer(layer):
                        ctx.report(layer.site, subject=layer, params={
                            "scaling": facts.quote(layer.site, 60), "arch": arch, "base": base},
                            related=[backbone.site], variant="layer")
                for rec, _role, data in facts.data_calls(model):
                    ans = facts.unit_scaling(data)
                    if not ans.value:
                        continue
                    for ev in ans.evidence[:1]:
                        ctx.report(ev.site, subject=data, params={
                            "scaling": ev.text, "arch": arch, "base": base,
                            "data": facts.describe(data), "source": facts.describe(ev.owner)},
                            related=[backbone.site, rec.site])

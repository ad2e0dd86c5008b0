"""rescale-efficientnet: [0, 1] inputs fed to a keras.applications EfficientNet that rescales inside."""
from __future__ import annotations

from typing import Iterator

from ..facts import Facts, apis, describe, name_of, source_of
from ..facts.pipelines import efficientnet_rescales_inside
from ..facts.values import Obj
from . import Hit, rule


@rule("rescale-efficientnet")
def check(facts: Facts) -> Iterator[Hit]:
    sem = facts.sem
    models: dict[int, Obj] = {}
    for rec in facts.method_calls(*apis.FIT_METHODS, *apis.PREDICT_METHODS, *apis.EVALUATE_METHODS):
        if isinstance(rec.receiver, Obj):
            models.setdefault(rec.receiver.id, rec.receiver)
    seen: set[tuple[int, int, int]] = set()
    for model in models.values():
        for backbone in sem.backbones(model):
            if efficientnet_rescales_inside(backbone) is not True:
                continue
            arch = (backbone.api or "").rsplit(".", 1)[-1]
            base = name_of(facts, backbone) or arch
            for layer in sem.layers_before(model, backbone):
                if sem.is_unit_rescaling_layer(layer) and layer.site.key not in seen:
                    seen.add(layer.site.key)
                    yield Hit(layer.site, {"scaling": source_of(facts, layer.site, 60), "arch": arch,
                                           "base": base, "data": "…"},
                              related=[backbone.site], variant="layer")
            for rec, _role, data in facts.data_calls(model):
                ans = facts.unit_scaling(data)
                if not ans.value:
                    continue
                for ev in ans.evidence[:1]:
                    if ev.site.key in seen:
                        continue
                    seen.add(ev.site.key)
                    yield Hit(ev.site, {"scaling": ev.text, "arch": arch, "base": base,
                                        "data": describe(facts, data),
                                        "source": describe(facts, ev.owner)},
                              related=[backbone.site, rec.site])

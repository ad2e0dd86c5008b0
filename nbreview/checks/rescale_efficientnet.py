"""rescale-efficientnet: [0, 1] inputs fed to a keras.applications EfficientNet that rescales inside."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts import apis
from ..facts.models import efficientnet_rescales_inside
from ..facts.values import Obj, ObjKind
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..facts import Evidence, Facts

GENERATORS = (apis.IMAGE_DATA_GENERATOR, apis.IMAGE_DATA_AUGMENTOR)
RESCALING_ARGS = {"scale", "offset", "name", "#0", "#1"}  # anything else (input_shape=...) shapes the model


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
                            "scaling": facts.quote(layer.site, 60), "arch": arch, "base": base, **_v2_option(arch)},
                            related=[backbone.site], variant="layer", fix=_layer_offer(facts, layer, backbone))
                for rec, _role, data in facts.data_calls(model):
                    ans = facts.unit_scaling(data)
                    if not ans.value:
                        continue
                    for ev in ans.evidence[:1]:
                        ctx.report(ev.site, subject=data, params={
                            "scaling": ev.text, "arch": arch, "base": base,
                            "data": facts.describe(data), "source": facts.describe(ev.owner)},
                            related=[backbone.site, rec.site], fix=_rescale_offer(facts, ev))

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        data = hit.fix.data if hit.fix else {}
        if "generator" in data:
            gen: Obj = data["generator"]
            edit.remove_keyword(gen.site, "rescale")
        elif "element" in data:
            edit.remove_element(hit.site, data["container"], data["element"])
        elif "apply" in data:
            edit.replace(hit.site, data["input"], node=data["apply"])
        elif "statement" in data:
            edit.remove_statement(hit.site.cell, data["statement"])


def _v2_option(arch: str) -> dict[str, str | None]:
    """What an EfficientNetV2 built with `include_preprocessing=False` expects instead: the B
    variants ImageNet mean/std on [0, 1] input, S/M/L (and the -1k/-21k names) [-1, 1]. Only one
    of the two is named, so the message states the right one; a V1 network has no such switch."""
    if not arch.startswith("EfficientNetV2"):
        return {"v2_b": None, "v2_sml": None}
    bx = arch[len("EfficientNetV2"):].upper().startswith("B")
    return {"v2_b": arch if bx else None, "v2_sml": None if bx else arch}


def _feeds_only_efficientnet(facts: "Facts", models: tuple[Obj, ...]) -> bool:
    return bool(models) and all(
        facts.backbones(m) and all(efficientnet_rescales_inside(b) is True for b in facts.backbones(m))
        for m in models)


def _rescale_offer(facts: "Facts", ev: "Evidence") -> FixOffer | None:
    """Remove `rescale=1./255` from the generator: safe when its images go only to models whose
    backbones all normalise inside (the EfficientNets); unsafe when they also feed another model
    or go somewhere else (a plot of `next(gen)`, a function nbreview does not follow)."""
    gen = ev.owner
    if not isinstance(gen, Obj) or gen.kind is not ObjKind.CALL or gen.api not in GENERATORS:
        return None
    call, kw = gen.site.node, gen.arg_sites.get("rescale")
    if not (isinstance(call, ast.Call) and isinstance(kw, ast.keyword) and any(k is kw for k in call.keywords)):
        return None  # given through **kwargs: the dict may serve other calls
    feeds = facts.generator_feeds(gen)
    safe = not feeds.elsewhere and _feeds_only_efficientnet(facts, feeds.models)
    return FixOffer(safe=safe, data={"generator": gen})


def _layer_offer(facts: "Facts", layer: Obj, backbone: Obj) -> FixOffer | None:
    """Remove the `Rescaling(1/255)` layer where it is written inline: an element of the list given
    to `Sequential`, a `model.add(...)` statement, or `Rescaling(...)(x)` in a functional model
    (replaced by `x`). Unsafe when the layer also shapes the model (`input_shape=`), or its output
    goes elsewhere than on to the backbone."""
    node, cell = layer.site.node, layer.site.cell
    if not isinstance(node, ast.Call) or not layer.complete:
        return None
    shaping = any(k not in RESCALING_ARGS for k in layer.args)
    parent = facts.syntax.parent(cell, node)
    if isinstance(parent, (ast.List, ast.Tuple)):
        holder = facts.syntax.parent(cell, parent)
        seq = next((o for o in facts.created("keras.Sequential", include_uncalled=True) if o.site.node is holder), None)
        if seq is None:
            return None
        items = seq.arg("layers")
        with_backbone = backbone in getattr(items, "items", ())
        return FixOffer(safe=with_backbone and not shaping, variant="layer",
                        data={"element": node, "container": parent})
    if isinstance(parent, ast.Call) and parent.func is node:  # `Rescaling(1/255)(x)`
        if len(parent.args) != 1 or parent.keywords or isinstance(parent.args[0], ast.Starred):
            return None
        text = facts.segment(cell, parent.args[0])
        if not text:
            return None
        applied = [u.call.result for u in layer.uses if u.param == "self" and u.call.name == "()"]
        single = len(applied) == 1 and isinstance(applied[0], Obj) and len(applied[0].uses) == 1
        return FixOffer(safe=single and not shaping, variant="layer",
                        data={"apply": parent, "input": text if "\n" not in text else f"({text})"})
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and parent.func.attr == "add" \
            and len(parent.args) == 1 and parent.args[0] is node and not parent.keywords:
        stmt = facts.syntax.statement(cell, parent)
        if isinstance(stmt, ast.Expr) and stmt.value is parent:
            added_to = [u.call.receiver for u in layer.uses if u.call.method == "add"]
            with_backbone = any(isinstance(m, Obj) and backbone in _added(facts, m) for m in added_to)
            return FixOffer(safe=with_backbone and not shaping, variant="layer", data={"statement": stmt.lineno})
    return None


def _added(facts: "Facts", seq: Obj) -> list:
    from ..facts.models import added_layers

    items = seq.arg("layers")
    return list(getattr(items, "items", ())) + added_layers(seq)

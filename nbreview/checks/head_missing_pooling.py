"""head-missing-pooling: a Keras head that cannot classify: `Dense` applied to 4-D feature maps
with no Flatten or global pooling before the output, or layers after the output activation
(BatchNormalization after softmax/sigmoid)."""
from __future__ import annotations

from ..facts.values import Class, Obj
from .base import Context, Rule, register


@register
class HeadMissingPooling(Rule):
    slug = "head-missing-pooling"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        models = facts.created("keras.Sequential", "keras.Model", include_uncalled=True)
        followed = facts.interp.forward_results
        if followed:  # keras.Model subclasses whose call() the interpreter followed
            models += [o for o in facts.objects if o.id in followed and isinstance(o.callee, Class) and facts.is_model(o)]
        for model in models:
            layers = facts.spine(model)
            if not layers:
                continue
            from ..facts.structure import dense_on_maps

            found = dense_on_maps(layers)
            if found is not None:
                dense, prev = found
                on_input = prev is None or prev.kind in ("input", "preprocess")
                ctx.report(dense.site, subject=model, variant="on_input" if on_input else "default", params={
                    "layer": facts.quote(dense.site, 60), "source": facts.quote(prev.site, 60) if prev else None,
                    "model": facts.name_of(model)})
            head = facts.head(model)
            if head is not None and head.after:
                nxt = head.after[0]
                ctx.report(nxt.site, subject=model, variant="after_activation", params={
                    "layer": facts.quote(nxt.site, 60), "activation": head.activation,
                    "output": facts.quote(head.activation_layer.site, 60), "model": facts.name_of(model)})

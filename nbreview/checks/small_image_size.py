"""small-image-size: the final training of a pretrained CNN runs at a small input size (e.g.
90x120): such networks lose much of their accuracy on small images."""
from __future__ import annotations

from ..facts import apis
from ..facts.models import is_pretrained
from ..facts.structure import input_size
from .base import Context, Rule, register


@register
class SmallImageSize(Rule):
    slug = "small-image-size"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        min_side = int(ctx.option("min-side", 128))
        fits = [f for f in facts.method_calls(*apis.FIT_METHODS) if f.receiver is not None]
        if not fits:
            return
        final = max(fits, key=lambda f: f.seq)  # the last training of the notebook
        model = facts.root(final.receiver, "model")
        backbones = [b for b in facts.backbones(model) if is_pretrained(b)]
        if not backbones:
            return
        size, site = None, None
        found = input_size(facts.spine(model))
        if found is not None:
            size, site = found
        pre = facts.preproc(final.args.get("x"))
        if pre.size is not None and (size is None or min(pre.size) < min(size)):
            size, site = pre.size, pre.size_site or site
        if size is None or site is None or min(size) >= min_side:
            return
        ctx.report(site, subject=final, params={"height": size[0], "width": size[1],
                                                 "arch": (backbones[0].api or "").rsplit(".", 1)[-1],
                                                 "min": min_side},
                   related=[backbones[0].site, final.site])

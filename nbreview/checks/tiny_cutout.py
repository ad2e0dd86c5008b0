"""tiny-cutout: cutout / CoarseDropout holes far smaller than the objects in the images (18x18
holes on 250x250 photos of cars hide nothing a model needs)."""
from __future__ import annotations

from ..facts import apis
from ..facts.interpreter import unwrap_iterable
from ..facts.values import Obj
from .base import Context, Rule, register


@register
class TinyCutout(Rule):
    slug = "tiny-cutout"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        limit = float(ctx.option("min-fraction", 0.1))
        pipelines: list[Obj] = []
        for rec in facts.method_calls(*apis.FIT_METHODS, include_uncalled=True):
            x = rec.args.get("x")
            if isinstance(x, Obj):
                pipelines.append(x)
        for loop in facts.training_loops:
            over = unwrap_iterable(loop.over)
            if isinstance(over, Obj):
                pipelines.append(over)
        for data in pipelines:
            ops = facts.aug_ops(data)
            for op in ops.of("cutout"):
                if op.magnitude is None:
                    continue
                if op.fraction:
                    frac, image = op.magnitude, None
                else:
                    sizes = ops.sizes_at(op)
                    if not sizes:
                        continue
                    # several possible sizes (a crop that may run): judge by the smallest, name none
                    image = next(iter(sizes)) if len(sizes) == 1 else None
                    frac = op.magnitude / min(min(s) for s in sizes)
                if frac >= limit:
                    continue
                hole = f"{op.size[0]}x{op.size[1]}" if op.size else None
                ctx.report(op.site, params={"code": op.text, "hole": hole,
                                            "image": f"{image[0]}x{image[1]}" if image else None,
                                            "percent": round(100 * frac)})

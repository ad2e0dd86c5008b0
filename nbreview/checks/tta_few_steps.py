"""tta-few-steps: test-time augmentation with strong augmentation (large rotations, cutout,
big zoom or shift) averaged over fewer passes than it needs."""
from __future__ import annotations

from ..facts.augparams import AugOp
from ..facts.values import Obj, Site
from .base import Context, Rule, register


@register
class TtaFewSteps(Rule):
    slug = "tta-few-steps"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        enough = int(ctx.option("min-passes", 10))
        for rec, loop in facts.tta_calls(include_uncalled=True):
            data = rec.args.get("x")
            if loop.count is None or loop.count >= enough or not isinstance(data, Obj):
                continue
            if facts.augments(data).value is not True:
                continue
            strong = [op for op in facts.aug_ops(data).ops if _strong(ctx, op)]
            if strong:
                self._report(ctx, rec.site, loop.count, strong, enough)
        for outer, _inner, rec, data in facts.repeated_passes():
            if outer.count is None or outer.count >= enough or facts.augments(data).value is not True:
                continue
            strong = [op for op in facts.aug_ops(data).ops if _strong(ctx, op)]
            if strong:
                self._report(ctx, Site(outer.cell, outer.node), outer.count, strong, enough)

    @staticmethod
    def _report(ctx: Context, at: Site, passes: int, strong: list[AugOp], enough: int) -> None:
        texts = list(dict.fromkeys(op.text for op in strong if op.text))
        related = [op.site for op in strong if op.site.cell != at.cell][:2]
        ctx.report(at, params={"passes": passes, "augs": list(texts[:3]) or None,
                               "min": enough}, related=related)


def _strong(ctx: Context, op: AugOp) -> bool:
    m = op.magnitude
    if op.kind == "cutout":
        return True
    if m is None:
        return False
    if op.kind == "rotate":
        return m >= float(ctx.option("min-rotation", 20))
    if op.kind in ("zoom", "shift"):
        return m >= 0.2
    if op.kind == "shear":
        return m >= 20
    return False

"""center-crop-augmentation: a center crop inside the augmentation of the training data: it
crops every image the same way, so it adds no variety (a random crop would)."""
from __future__ import annotations

from ..facts import apis
from ..facts.interpreter import unwrap_iterable
from ..facts.values import Obj
from .base import Context, Rule, register


@register
class CenterCropAugmentation(Rule):
    slug = "center-crop-augmentation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        train, other = _pipelines(facts)
        # the same crop in a clean evaluation pipeline makes it preprocessing (an evaluation pipeline
        # that augments too, e.g. validation drawn from the training generator, proves nothing)
        other_crops = {op.size for data in other if facts.augments(data).value is False
                       for op in facts.aug_ops(data).of("center_crop")}
        for data, fit_site in train:
            if facts.augments(data).value is not True:
                continue  # no augmentation pipeline: a fixed crop is preprocessing
            for op in facts.aug_ops(data).of("center_crop"):
                if op.size is not None and op.size in other_crops:
                    continue  # the same crop at evaluation too: consistent preprocessing
                related = [fit_site] if fit_site is not None and fit_site.cell != op.site.cell else []
                ctx.report(op.site, params={"code": op.text}, related=related, group="center-crop")


def _pipelines(facts) -> tuple[list, list]:
    """(training data with the fit that uses it, every other data pipeline)."""
    train, other = [], []
    for rec in facts.method_calls(*apis.FIT_METHODS, include_uncalled=True):
        x = rec.args.get("x")
        if isinstance(x, Obj):
            train.append((x, rec.site))
        v = rec.args.get("validation_data")
        if isinstance(v, Obj):
            other.append(v)
    for rec in facts.method_calls(*apis.PREDICT_METHODS, *apis.EVALUATE_METHODS, include_uncalled=True):
        x = rec.args.get("x")
        if isinstance(x, Obj):
            other.append(x)
    seen: set[int] = set()
    for rec in facts.calls:  # PyTorch: loaders walked by loops (training loops train on them)
        for loop in rec.site.loops:
            if loop.id in seen:
                continue
            seen.add(loop.id)
            over = unwrap_iterable(loop.over)
            if not isinstance(over, Obj) or facts.kind_of(over).value != "data":
                continue
            if loop in facts.training_loops:
                if not any(over is d for d, _s in train):
                    train.append((over, None))
            else:
                other.append(over)
    return train, other

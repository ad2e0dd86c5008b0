"""center-crop-augmentation: a center crop inside the augmentation of the training data: it
crops every image the same way, so it adds no variety (a random crop would)."""
from __future__ import annotations

from ..facts import apis
from ..facts.values import Obj
from .base import Context, Rule, register


@register
class CenterCropAugmentation(Rule):
    slug = "center-crop-augmentation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        train, other = _pipelines(facts)
        found = []
        for data, fit_site in train:
            crops = facts.aug_ops(data).of("center_crop")
            if crops and facts.augments(data).value is True:  # no augmentation: a fixed crop is preprocessing
                found.extend((op, fit_site) for op in crops)
        if not found:
            return
        # the same crop in a clean evaluation pipeline makes it preprocessing (an evaluation pipeline
        # that augments too, e.g. validation drawn from the training generator, proves nothing)
        other_crops = {op.size for data in other for op in facts.aug_ops(data).of("center_crop")
                       if facts.augments(data).value is False}
        for op, fit_site in found:
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
    for over, loop in facts.data_loops():  # PyTorch: loaders walked by loops (training loops train on them)
        if facts.kind_of(over).value != "data":
            continue
        if loop in facts.training_loops:
            if not any(over is d for d, _s in train):
                train.append((over, None))
        else:
            other.append(over)
    return train, other

"""good-clean-validation (praise): training data augmented, validation through a clean pipeline
(Keras fits; PyTorch evaluation passes over held-out data)."""
from __future__ import annotations

from ..facts import apis
from ..facts.values import Obj
from .base import Context, Rule, register


@register
class CleanValidation(Rule):
    slug = "good-clean-validation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for rec in facts.method_calls(*apis.FIT_METHODS):
            x, val = rec.args.get("x"), rec.args.get("validation_data")
            if not isinstance(x, Obj) or not isinstance(val, Obj):
                continue
            if facts.augments(x).value is not True or facts.augments(val).value is not False:
                continue
            scaled = facts.unit_scaling(x).value, facts.unit_scaling(val).value
            if None not in scaled and scaled[0] != scaled[1]:
                continue  # validation skips (or adds) the training normalisation: not right as a whole
            ctx.report(val.site, subject=val)
        _torch(ctx)


def _torch(ctx: Context) -> None:
    """PyTorch: a held-out evaluation pass over clean data, for a model trained on augmented data."""
    facts = ctx.facts
    passes = facts.passes
    train = [p for p in passes.training_passes() if facts.data_augments(p.data, p.at).value is True]
    clean = None
    for p in passes.validation_passes():
        if not any(set(map(id, t.models)) & set(map(id, p.models)) for t in train):
            continue
        ans = facts.data_augments(p.data, p.at).value
        if ans is not False:
            return  # some validation is augmented (or unknown): no compliment
        clean = clean or p
    if clean is not None:
        ctx.report(clean.data.site, subject=clean)

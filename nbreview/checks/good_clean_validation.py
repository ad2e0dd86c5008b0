"""good-clean-validation (praise): training data augmented, validation through a clean pipeline."""
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

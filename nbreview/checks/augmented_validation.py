"""augmented-validation: validation or test data that goes through a random augmentation."""
from __future__ import annotations

from ..facts import Evidence, apis
from ..facts.values import Obj, ObjKind
from .base import Context, Rule, register


@register
class AugmentedValidation(Rule):
    slug = "augmented-validation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        fits = facts.method_calls(*apis.FIT_METHODS, include_uncalled=True)
        train_inputs = {id(rec.args.get("x")) for rec in fits}
        targets = [(rec, "validation_data", rec.args.get("validation_data")) for rec in fits]
        targets += [(rec, "evaluate", rec.args.get("x"))
                    for rec in facts.method_calls(*apis.EVALUATE_METHODS, include_uncalled=True)]
        for rec, role, data in targets:
            if not isinstance(data, Obj) or id(data) in train_inputs and role == "evaluate":
                continue
            ans = facts.augments(data)
            if not ans.value:
                continue
            anchor = _anchor(data, ans.evidence)
            owner = next((e.owner for e in ans.evidence if e.owner is not None), None)
            augs = [e.text for e in ans.evidence if e.owner is not None and e.owner.kind is ObjKind.CALL] or \
                   [e.text for e in ans.evidence]
            related = [e.site for e in ans.evidence if e.site.cell != anchor.site.cell][:3]
            related.append(rec.site)
            ctx.report(
                anchor.site,
                subject=data,
                params={
                    "data": facts.describe(data),
                    "source": facts.describe(owner),
                    "augs": ", ".join(dict.fromkeys(augs[:4])),
                    "role": role,
                },
                related=related,
                variant="evaluate" if role == "evaluate" else "default",
            )


def _anchor(data: Obj, evidence: tuple[Evidence, ...]) -> Obj:
    """Point at the place where the validation data is made from the augmenting pipeline."""
    if data.kind is ObjKind.METHOD and data.api in apis.FLOW_METHODS:
        return data
    for e in evidence:
        if e.owner is not None and e.owner.kind is ObjKind.METHOD and e.owner.api == "map":
            return e.owner
    # walk back through batch/prefetch to the step that was written
    steps = [o for o in _data_chain(data)]
    return steps[-1] if steps else data


def _data_chain(data: Obj) -> list[Obj]:
    from ..facts.models import chain

    return list(chain(data, "data"))

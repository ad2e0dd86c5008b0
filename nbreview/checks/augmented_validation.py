"""augmented-validation: validation or test data that goes through a random augmentation."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..facts import Evidence, apis
from ..facts.values import Obj, ObjKind
from .base import Context, Hit, Rule, register

if TYPE_CHECKING:
    from ..model import OutputEvidence
    from ..outputs import Outputs

MIN_EPOCHS = 4  # a log this long can show the metric jumping
MIN_SWING = 0.01  # a change of the validation metric smaller than this is not a jump
SHOWN_EPOCHS = 8


@register
class AugmentedValidation(Rule):
    slug = "augmented-validation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        fits = facts.method_calls(*apis.FIT_METHODS)
        train_inputs = {id(rec.args.get("x")) for rec in fits}
        targets = [(rec, "validation_data", rec.args.get("validation_data")) for rec in fits]
        targets += [(rec, "evaluate", rec.args.get("x")) for rec in facts.method_calls(*apis.EVALUATE_METHODS)]
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

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
        return _jumping_metric(hit, outputs)


def _jumping_metric(hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
    """The saved epoch log of a fit validated on this data: the validation metric goes up and down."""
    from ..model import OutputEvidence

    data = hit.subject
    if not isinstance(data, Obj):
        return None
    for use in data.uses:
        if use.param != "validation_data" or use.call.method not in apis.FIT_METHODS:
            continue
        cell = use.call.site.cell
        logs = outputs.epochs(cell)
        key = next((k for k in ("val_accuracy", "val_acc") if logs and all(k in e.metrics for e in logs)), None)
        if key is None or len(logs) < MIN_EPOCHS:
            continue
        values = [e.metrics[key] for e in logs]
        steps = [b - a for a, b in zip(values, values[1:])]
        drops = sum(1 for d in steps if d <= -MIN_SWING)
        rises = sum(1 for d in steps if d >= MIN_SWING)
        if drops < 2 or rises < 2:
            continue
        shown = " → ".join(f"{v:g}" for v in values[:SHOWN_EPOCHS])
        more = len(values) - SHOWN_EPOCHS
        tail_ru = f" … (и ещё {more})" if more > 0 else ""
        tail_en = f" … ({more} more)" if more > 0 else ""
        return OutputEvidence(cell, outputs.execution_count(cell), {
            "ru": f"По логу обучения `{key}` от эпохи к эпохе то растёт, то падает: {shown}{tail_ru}. Так и бывает, "
                  f"когда валидационные изображения каждый раз искажаются по-новому.",
            "en": f"In the training log `{key}` goes up and down from epoch to epoch: {shown}{tail_en}. That is what "
                  f"happens when the validation images are distorted anew every time.",
        })
    return None


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

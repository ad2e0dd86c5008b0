"""augmented-validation: validation or test data that goes through a random augmentation."""
from __future__ import annotations

from typing import Iterator

from ..facts import Facts, apis, describe
from ..facts.pipelines import Evidence
from ..facts.values import Obj
from . import Hit, rule


@rule("augmented-validation")
def check(facts: Facts) -> Iterator[Hit]:
    fits = facts.method_calls(*apis.FIT_METHODS)
    train_inputs = {id(rec.args.get("x")) for rec in fits}
    targets = [(rec, "validation_data", rec.args.get("validation_data")) for rec in fits]
    targets += [(rec, "evaluate", rec.args.get("x")) for rec in facts.method_calls(*apis.EVALUATE_METHODS)]
    seen: set[tuple[int, int, int]] = set()
    for rec, role, data in targets:
        if not isinstance(data, Obj) or id(data) in train_inputs and role == "evaluate":
            continue
        ans = facts.augments(data)
        if not ans.value:
            continue
        anchor = _anchor(data, ans.evidence)
        if anchor.site.key in seen:
            continue
        seen.add(anchor.site.key)
        owner = next((e.owner for e in ans.evidence if e.owner is not None), None)
        augs = [e.text for e in ans.evidence if e.owner is not None and e.owner.kind == "call"] or \
               [e.text for e in ans.evidence]
        related = [e.site for e in ans.evidence if e.site.cell != anchor.site.cell][:3]
        related.append(rec.site)
        yield Hit(
            site=anchor.site,
            params={
                "data": describe(facts, data),
                "source": describe(facts, owner),
                "augs": ", ".join(dict.fromkeys(augs[:4])),
                "role": role,
            },
            related=related,
            variant="evaluate" if role == "evaluate" else "default",
        )


def _anchor(data: Obj, evidence: tuple[Evidence, ...]) -> Obj:
    """Point at the place where the validation data is made from the augmenting pipeline."""
    if data.kind == "method" and data.api in apis.FLOW_METHODS:
        return data
    for e in evidence:
        if e.owner is not None and e.owner.kind == "method" and e.owner.api == "map":
            return e.owner
    node = data
    for _ in range(20):  # walk back through batch/prefetch to the step that was written
        if isinstance(node.origin, Obj) and node.kind == "method" and node.api in apis.DATASET_PASSTHROUGH:
            node = node.origin
        else:
            break
    return node

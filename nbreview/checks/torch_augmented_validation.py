"""torch-augmented-validation: validation or test batches come from a dataset whose transform
augments (random crops, flips, rotations, colour jitter), often because a `random_split` /
`Subset` of an augmenting dataset shares the parent's transform, or because the validation
dataset was built with the training transform."""
from __future__ import annotations

from ..facts.torchdata import SPLITTERS, SUBSETS, chain
from ..facts.values import Obj, ObjKind, Site
from .base import Context, Rule, register


@register
class TorchAugmentedValidation(Rule):
    slug = "torch-augmented-validation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        passes = facts.passes
        for p in passes.evaluation_passes():
            if not passes.held_out(p) or passes.repeated(p):
                continue  # training data, or test-time augmentation (several passes on purpose)
            if not (facts.torchdata.yields_labels(p.data) or _unpacks_labels(p)):
                continue  # predictions without labels: not a validation score
            ans = facts.data_augments(p.data, at=p.at)
            if not ans.value:
                continue
            anchor, split = _anchor(facts, p.data)
            if anchor is None:
                continue
            owner = facts.transforms_of(p.data, p.at).owner
            transforms = facts.transforms_of(p.data, p.at).values
            source = next((facts.name_of(t) for t in transforms if isinstance(t, Obj) and facts.name_of(t)), None)
            related = [e.site for e in ans.evidence[:3]] + [Site(p.loop.cell, p.loop.node)]
            if p.helper is not None:
                related.append(p.helper.site)
            ctx.report(
                anchor,
                subject=p,
                params={"data": facts.describe(p.data), "source": source,
                        "parent": facts.describe(owner) if split else None,
                        "augs": ", ".join(dict.fromkeys(e.text for e in ans.evidence[:3])) or None},
                related=[s for s in related if s.cell != anchor.cell],
                variant="split" if split else "default",
            )


def _anchor(facts, data: Obj) -> tuple[Site | None, bool]:
    """Where the validation data gets the augmenting transform: the split or subset that shares
    its parent's dataset, else the dataset built with that transform."""
    last = None
    for o in chain(data):
        if o.kind is ObjKind.ITEM and isinstance(o.origin, Obj) and o.origin.api in SPLITTERS \
                and o.attr("dataset") is None:
            return o.origin.site, True
        if o.kind is ObjKind.CALL and o.api in SUBSETS:
            return o.site, True
        last = o
    return (last.site if last is not None and last.kind is ObjKind.CALL else None), False


def _unpacks_labels(p) -> bool:
    """`for x, y in loader`: the loop takes (images, labels) pairs."""
    target = getattr(p.loop.node, "target", None)
    if target is None and getattr(p.loop.node, "generators", None):
        target = p.loop.node.generators[0].target
    import ast

    return isinstance(target, ast.Tuple) and len(target.elts) >= 2

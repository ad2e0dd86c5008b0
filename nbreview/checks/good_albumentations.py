"""good-albumentations (praise): an albumentations pipeline that really augments the data the
model trains on (the praise names albumentations, so an imgaug pipeline does not earn it)."""
from __future__ import annotations

from typing import Iterator

from ..facts import Facts, apis
from ..facts.values import Func, Obj, ObjKind, Value
from .base import Context, Rule, register


@register
class GoodAlbumentations(Rule):
    slug = "good-albumentations"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for rec in facts.method_calls(*apis.FIT_METHODS):
            x = rec.args.get("x")
            if not (isinstance(x, Obj) and facts.augments(x).value):
                continue
            for node in _pipeline(x):
                for v in node.args.values():
                    for t in _transforms_in(facts, v):
                        if facts.transform_augments(t).value:
                            ctx.report(t.site, subject=t)
                            return
        _torch(ctx)


def _torch(ctx: Context) -> None:
    """PyTorch: an albumentations pipeline that augments, applied by the training Dataset with
    the `image=` keyword albumentations requires."""
    facts = ctx.facts
    for p in facts.passes.training_passes():
        ts = facts.transforms_of(p.data, p.at)
        for t, call in ts.applied:
            if not _is_albu_pipeline(t) or not any(k.arg == "image" for k in call.keywords):
                continue
            if facts.transform_augments(t).value:
                ctx.report(t.site, subject=t)
                return


def _pipeline(x: Obj) -> Iterator[Obj]:
    """The data object and what it was derived from (flow -> generator, map -> dataset, ...)."""
    v: Value | None = x
    for _ in range(apis.MAX_CHAIN):
        if not isinstance(v, Obj):
            return
        yield v
        v = v.origin if v.kind is not ObjKind.CALL else v.args.get("dataset")


def _is_albu_pipeline(v: Value | None) -> bool:
    return isinstance(v, Obj) and v.kind is ObjKind.CALL and (v.api or "").startswith("albumentations.")


def _transforms_in(facts: Facts, v: Value | None) -> list[Obj]:
    """Albumentations objects used directly as an argument, or called inside a function passed."""
    if _is_albu_pipeline(v):
        return [v]  # type: ignore[list-item]
    if isinstance(v, Func):
        return [rec.callee for rec in facts.calls_in(v) if _is_albu_pipeline(rec.callee)]  # type: ignore[misc]
    return []

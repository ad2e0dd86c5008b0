"""augmented-test-single-pass: the submission's predictions come from one pass over data that
is randomly augmented (an augmenting generator or transform), with no averaging: every run
gives different, noisier predictions."""
from __future__ import annotations

from ..facts import Role, apis
from ..facts.interpreter import unwrap_iterable
from ..facts.values import CallRecord, Loop, Obj, ObjKind, Site, Value
from .base import Context, Rule, register

_TEST_WORDS = ("test", "sub", "submit", "submission", "tta", "infer", "predict")


@register
class AugmentedTestSinglePass(Rule):
    slug = "augmented-test-single-pass"

    def check(self, ctx: Context) -> None:
        _keras(ctx)
        _torch(ctx)


def _keras(ctx: Context) -> None:
    facts = ctx.facts
    predicts = [r for r in facts.method_calls(*apis.PREDICT_METHODS) if facts.ran(r.site) is not False]
    for rec in predicts:
        data = rec.args.get("x")
        if not isinstance(data, Obj) or rec.site.loops or facts.tta_loop(rec) is not None:
            continue
        if facts.roles_of(data) & {Role.TRAIN, Role.VALIDATION, Role.EVALUATE}:
            continue
        if any(other is not rec and _same_rows(facts, other.args.get("x"), data) for other in predicts):
            continue  # several passes over the same images (a hand-written TTA: original + flipped)
        aug = facts.augments(data)
        if not aug.value:
            continue
        ev = aug.evidence[0] if aug.evidence else None
        ctx.report(facts.top_site(rec.site, rec.seq), subject=rec, related=[ev.site] if ev else [],
                   params={"data": facts.describe(data), "aug": ev.text if ev else None})


def _same_rows(facts, a: Value | None, b: Obj) -> bool:
    """The same data object, or other data over the same images (another generator, same frame)."""
    if a is b:
        return True
    if not isinstance(a, Obj):
        return False
    sa = {p.selection() for p in facts.data_paths(a) if p.known}
    return any(p.known and p.selection() in sa for p in facts.data_paths(b))


def _torch(ctx: Context) -> None:
    """A PyTorch loop that runs the model once over augmenting test data, outside training."""
    facts = ctx.facts
    repeated: set[int] | None = None
    seen: set[int] = set()
    for rec in facts.calls:
        if rec.name != "()" or facts.ran(rec.site) is False or not facts.is_model(rec.callee) or not rec.site.loops:
            continue
        inner = rec.site.loops[-1]
        if inner.id in seen or inner.kind != "for":
            continue
        seen.add(inner.id)
        data = unwrap_iterable(inner.over)
        if not isinstance(data, Obj) or facts.kind_of(data).value != "data":
            continue
        if any(lp in facts.training_loops for lp in rec.site.loops):
            continue  # inside training: validation
        if repeated is None:
            repeated = {id(lp) for lp, _inner, _rec, _data in facts.repeated_passes()}
        if any(id(lp) in repeated for lp in rec.site.loops):
            continue  # a repeated pass (TTA)
        if Role.TRAIN in facts.roles_of(data) or _walked_in_training(facts, data, inner):
            continue
        if not _named_test(facts, data):
            continue
        aug = _augments_at(facts, data, inner.span[0])
        if not aug.value:
            continue
        ev = aug.evidence[0] if aug.evidence else None
        ctx.report(facts.top_site(rec.site, rec.seq) if rec.site.funcs else _loop_site(inner, rec),
                   subject=rec, related=[ev.site] if ev else [],
                   params={"data": facts.describe(data), "aug": ev.text if ev else None})


def _augments_at(facts, data: Obj, seq: int):
    """Does the data augment when the loop runs? A dataset whose `.transform` is swapped later
    (for a TTA after this pass) is judged by the transform it has at this point."""
    ds = data.args.get("dataset") if data.kind is ObjKind.CALL else None
    ds = ds if isinstance(ds, Obj) else data
    swaps = [st for st in facts.stores if st.kind == "attr" and st.base is ds and st.key in ("transform", "transforms")]
    if not swaps:
        return facts.augments(data)
    before = [st for st in swaps if st.seq < seq]
    current = before[-1].value if before else ds.args.get("transform", ds.args.get("transforms"))
    return facts.transform_augments(current) if current is not None else facts.augments(data)


def _walked_in_training(facts, data: Obj, this: Loop) -> bool:
    """Another loop over the same data sits inside a training (epoch) loop: it is validation data."""
    for rec in facts.calls:
        for i, lp in enumerate(rec.site.loops):
            if lp is this or unwrap_iterable(lp.over) is not data:
                continue
            if any(outer in facts.training_loops for outer in rec.site.loops[:i]):
                return True
    return False


def _named_test(facts, data: Obj) -> bool:
    """The student calls this data test / submission data (its name, or the dataset's)."""
    names = [facts.name_of(data)]
    ds = data.args.get("dataset") if data.kind is ObjKind.CALL else None
    if isinstance(ds, Obj):
        names.append(facts.name_of(ds))
        names.append(ds.api or "")
    return any(n and any(w in n.lower() for w in _TEST_WORDS) for n in names)


def _loop_site(loop: Loop, rec: CallRecord) -> Site:
    return Site(loop.cell, loop.node, rec.site.loops[: rec.site.loops.index(loop)], rec.site.funcs,
                rec.site.uncalled, rec.site.contexts, loop.conds)

"""tta-no-augmentation: several predict passes over data that is not augmented: all identical."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts import apis
from ..facts.datagens import needs_statistics
from ..facts.loops import frozen_by_cache, source_step
from ..facts.values import CallRecord, Loop, Obj, ObjKind, Site, Value
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..facts import Facts


@register
class TtaNoAugmentation(Rule):
    slug = "tta-no-augmentation"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        # Keras style: `model.predict(test_gen)` repeated in a loop
        for rec, loop in facts.tta_calls():
            data = rec.args.get("x")
            if not isinstance(data, Obj):
                continue
            ans = facts.augments(data)
            if ans.value is not False and not (ans.value and frozen_by_cache(data)):
                continue
            source = data.origin if data.kind is ObjKind.METHOD and data.api in apis.FLOW_METHODS else None
            related = [data.site] if data.site.cell != rec.site.cell else []
            ctx.report(rec.site, subject=rec, params=_params(ctx, data, source, loop), related=related,
                       fix=_fix_offer(facts, rec, loop, data))
        # PyTorch style: the model applied batch by batch, the whole walk repeated
        for outer, _inner, _rec, data in facts.repeated_passes():
            site = Site(outer.cell, outer.node)
            if facts.augments(data).value is not False:
                continue
            source = data.arg("dataset") if data.kind is ObjKind.CALL and data.api == "torch.utils.data.DataLoader" \
                else None
            related = [data.site] if data.site.cell != outer.cell else []
            ctx.report(site, subject=outer, params=_params(ctx, data, source, outer), related=related)


    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        rec: CallRecord = hit.subject
        plan = hit.fix.data if hit.fix else {}
        cell, line, code = plan["insert"]
        edit.insert_before(cell, line, code)
        edit.replace(rec.site, plan["name"], node=plan["arg"])


def _fix_offer(facts: "Facts", rec: CallRecord, loop: Loop, data: Obj) -> FixOffer | None:
    """Unsafe only (the predictions change): right before the TTA loop, build a generator with the
    training generator's arguments (its augmentation and normalisation, without
    `validation_split`) and a flow of it with the test flow's own arguments, and predict over
    that. Offered when the model is trained on exactly one augmenting ImageDataGenerator that
    normalises like the test generator, and everything sits at the notebook's top level."""
    call, node = data.site.node, rec.site.node
    if data.kind is not ObjKind.METHOD or data.api not in apis.FLOW_METHODS or not isinstance(call, ast.Call) \
            or not isinstance(node, ast.Call):
        return None
    test = facts.generator_call(data.origin)
    model = facts.root(rec.receiver, "model")
    if test is None or not isinstance(model, Obj):
        return None
    trained = {}
    for _fit, role, x in facts.data_calls(model):
        if role == "x" and isinstance(x, Obj) and x.kind is ObjKind.METHOD and x.api in apis.FLOW_METHODS \
                and facts.augments(x).value and isinstance(x.origin, Obj):
            trained[x.origin.id] = x.origin
    if len(trained) != 1:
        return None
    train = facts.generator_call(next(iter(trained.values())))
    if train is None or needs_statistics(train.obj) is not False or \
            set(train.normalising(drop=("validation_split",))) != set(test.normalising(drop=("validation_split",))):
        return None
    sites = (train.obj.site, data.site, rec.site)
    if any(s.funcs or s.uncalled for s in sites):
        return None  # the new lines go at the top level, where every name they read is bound
    arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("x", "generator")), None)
    stmt = facts.syntax.statement(loop.cell, loop.node)
    if not isinstance(arg, ast.Name) or stmt is None or loop.cell != rec.site.cell:
        return None
    parts = [facts.segment(data.site.cell, a) for a in call.args]
    parts += [f"{k.arg}={facts.segment(data.site.cell, k.value)}" if k.arg else None for k in call.keywords]
    if any(p is None or p.startswith("*") for p in parts) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    datagen = facts.syntax.fresh_name("tta_datagen")
    flow = facts.syntax.fresh_name("tta_generator")
    code = (f"{datagen} = {train.text(drop=('validation_split',))}\n"
            f"{flow} = {datagen}.{data.api}({', '.join(parts)})")  # type: ignore[arg-type]
    return FixOffer(safe=False, data={"insert": (loop.cell, stmt.lineno, code), "arg": arg, "name": flow})


def _params(ctx: Context, data: Obj, source: Value | None, loop: Loop) -> dict[str, object]:
    facts = ctx.facts
    return {
        "data": facts.describe(data),
        "source": facts.describe(source if source is not None else source_step(data)),
        "passes": loop.count,  # unknown (a `while` loop, a variable count): the message says it without a number
    }

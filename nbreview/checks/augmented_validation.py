"""augmented-validation: validation or test data that goes through a random augmentation."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts import Evidence, Role, apis
from ..facts.datagens import NORMALISING, needs_statistics
from ..facts.values import Obj, ObjKind
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..facts import Facts
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
                fix=_fix_offer(facts, data, role),
            )

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        data: Obj = hit.subject
        plan = hit.fix.data if hit.fix else {}
        if "insert" in plan:
            cell, line, code = plan["insert"]
            edit.insert_after(cell, line, code)
        edit.replace(data.site, plan["generator"], node=plan["receiver"])

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


def _fix_offer(facts: "Facts", data: Obj, role: str) -> FixOffer | None:
    """Route a flow of an augmenting ImageDataGenerator through a generator with only its
    normalising arguments (`rescale`, `preprocessing_function`, `validation_split`, ...): a new
    one right after the training generator, an identical plain one already there, or, for an
    inline `ImageDataGenerator(...).flow(...)`, the plain call in its place. The same
    `validation_split` keeps `subset='validation'` the same images. Unsafe when the flow is also
    trained on; no fix when the copy could not normalise the same way (statistics from
    `datagen.fit`, an augmenting `preprocessing_function`, `**kwargs`)."""
    call = data.site.node
    if data.kind is not ObjKind.METHOD or data.api not in apis.FLOW_METHODS or not isinstance(call, ast.Call) \
            or not isinstance(call.func, ast.Attribute):
        return None
    gen = data.origin
    gc = facts.generator_call(gen)
    if gc is None or not isinstance(gen, Obj) or needs_statistics(gen) is not False:
        return None
    pf = gen.args.get("preprocessing_function")
    if pf is not None and facts.func_augments(pf).value is not False:
        return None
    if any(o.kind is ObjKind.METHOD and o.site.node is call and o.origin is not gen for o in facts.objects):
        return None  # the same line makes flows of other generators too (a helper called twice)
    safe = Role.TRAIN not in facts.roles_of(data)
    receiver = call.func.value
    plain = gc.text(keep=NORMALISING)
    if receiver is gc.node:  # `ImageDataGenerator(...).flow_from_directory(...)`
        return FixOffer(safe=safe, data={"receiver": receiver, "generator": plain})
    name = facts.name_of(gen)
    stmt = facts.syntax.statement(gen.site.cell, gc.node)
    if not (isinstance(receiver, ast.Name) and receiver.id == name and data.site.funcs == gen.site.funcs
            and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == name and stmt.value is gc.node):
        return None
    twin = _plain_twin(facts, gc, data)
    if twin is not None:
        return FixOffer(safe=safe, data={"receiver": receiver, "generator": twin})
    prefix = "eval" if role == "evaluate" else "val"
    new = facts.syntax.fresh_name(name.replace("train", prefix, 1) if "train" in name else f"{prefix}_{name}")
    return FixOffer(safe=safe, data={"receiver": receiver, "generator": new,
                                     "insert": (gen.site.cell, stmt.lineno, f"{new} = {plain}")})


def _plain_twin(facts: "Facts", gc, data: Obj) -> str | None:
    """A generator the notebook already made, before this flow and in its scope, with exactly the
    training generator's normalising arguments and nothing else, bound once to a name."""
    wanted = set(gc.normalising())
    for other in facts.created(apis.IMAGE_DATA_GENERATOR, include_uncalled=True):
        if other is gc.obj or other.seq > data.seq or other.site.funcs != data.site.funcs:
            continue
        ogc = facts.generator_call(other)
        name = facts.name_of(other)
        if ogc is None or name is None or not name.isidentifier() or set(ogc.normalising()) != wanted \
                or len(ogc.normalising()) != len(ogc.args) or needs_statistics(other) is not False:
            continue
        if facts.syntax.references(name)[0] == 1:
            return name
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

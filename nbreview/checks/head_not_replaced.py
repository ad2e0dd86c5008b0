"""head-not-replaced: the new classifier never takes part in the forward pass. In PyTorch it is
assigned to an attribute the architecture's forward never reads (`model.classifier = ...` on
a ResNet, whose head is `fc`); in Keras the head is built, but the model compiled and fitted is
the backbone with its ImageNet top (`include_top=True`). Either way the 1000-class ImageNet
layer stays and trains, and the new head is unused."""
from __future__ import annotations

from ..facts import apis
from ..facts.values import Const, Obj, ObjKind
from .base import Context, Rule, register

# methods of a head module that do not use it in a forward pass
_HEAD_METHODS = frozenset({"parameters", "named_parameters", "to", "cuda", "cpu", "requires_grad_", "apply",
                           "train", "eval", "float", "half", "double", "state_dict", "zero_grad"})
# methods of a model that expose its modules to other code (which may call the new attribute)
_EXPOSING = frozenset({"children", "named_children", "modules", "named_modules", "add_module", "register_module",
                       "reset_classifier", "get_submodule", "__getattr__"})


@register
class HeadNotReplaced(Rule):
    slug = "head-not-replaced"

    def check(self, ctx: Context) -> None:
        _torch(ctx)
        _keras(ctx)


def _torch(ctx: Context) -> None:
    facts = ctx.facts
    for st in facts.stores:
        if st.kind != "attr" or facts.ran(st.site) is False or not facts.is_classifier(st.value):
            continue
        model = facts.root(st.base, "model")
        arch = facts.arch_of(model)
        if arch is None or not isinstance(model, Obj) or not facts.unread_attribute(arch, st.key):
            continue
        if "num_classes" in model.args or not model.complete:
            continue  # the library already built a head of the right size
        if _head_replaced(facts, model, arch.head) or _exposed(model):
            continue
        head: Obj = st.value  # type: ignore[assignment]
        if any(True for _ in facts.model_calls(head)) or _used_elsewhere(head):
            continue
        if not any(True for _ in facts.model_calls(model)):
            continue  # the model never runs a forward pass that we can see
        ctx.report(facts.top_site(st.site, st.seq), subject=model, variant="torch",
                   params={"attr": st.key, "head": arch.head, "arch": arch.name, "model": facts.describe(model)})


def _head_replaced(facts, model: Obj, head: str | None) -> bool:
    """The architecture's real head is replaced somewhere (`model.fc = ...`, `model.classifier[1] = ...`)."""
    if head is None:
        return True
    for st in facts.stores:
        base = st.base
        if st.kind == "attr" and st.key == head and facts.root(base, "model") is model:
            return True
        for _ in range(4):  # `model.classifier[1] = ...`, `model.heads.head = ...`
            if not isinstance(base, Obj) or base.kind not in (ObjKind.ATTR, ObjKind.SUBSCRIPT):
                break
            if base.kind is ObjKind.ATTR and base.api == head and facts.root(base.origin, "model") is model:
                return True
            base = base.origin
    return False


def _exposed(model: Obj) -> bool:
    return any(u.param == "self" and u.call.method in _EXPOSING for u in model.uses)


def _used_elsewhere(head: Obj) -> bool:
    for u in head.uses:
        if u.param == "self" and u.call.method in _HEAD_METHODS:
            continue
        if u.call.name.startswith(("builtins.print", "torch.nn.init.")):
            continue
        return True
    return False


def _keras(ctx: Context) -> None:
    facts = ctx.facts
    for fit in facts.fits_run():
        model = facts.root(fit.receiver, "model")
        if not isinstance(model, Obj) or model.kind is not ObjKind.CALL:
            continue
        if facts.is_model(model) and (model.api or "").startswith("keras.applications."):
            bb, at, related = model, fit.site, []
        elif model.api == "keras.Model":
            bb = _output_backbone(model.arg("outputs"))
            at, related = model.site, [fit.site]
        else:
            continue
        if bb is None or facts.include_top(bb) is not True or "classes" in bb.args or not _pretrained(bb):
            continue
        built = [o for o in facts.layers_on(bb) if o is not model.arg("outputs")]
        heads = [o for o in built if (o.callee.api or "").endswith((".Dense", ".Conv2D"))]  # type: ignore[union-attr]
        if not heads:
            continue
        head = heads[-1]
        ctx.report(facts.top_site(at, model.seq) if at is model.site else at, subject=model,
                   related=related + [head.site],
                   params={"arch": (bb.api or "").rsplit(".", 1)[-1], "model": facts.describe(model),
                           "head": facts.quote(head.site, 60)})


def _output_backbone(outputs) -> Obj | None:
    """`Model(outputs=base.output)` or `Model(inputs, base(inputs))`: the backbone whose own output
    is the model's output."""
    if isinstance(outputs, Obj) and outputs.kind is ObjKind.ATTR and outputs.api in ("output", "outputs"):
        o = outputs.origin
    elif isinstance(outputs, Obj) and outputs.kind is ObjKind.APPLY:
        o = outputs.callee
    else:
        return None
    if isinstance(o, Obj) and o.kind is ObjKind.CALL and apis.KERAS_APPLICATION.match(o.api or ""):
        return o
    return None


def _pretrained(bb: Obj) -> bool:
    w = bb.arg("weights", Const("imagenet"))
    return isinstance(w, Const) and w.value is not None

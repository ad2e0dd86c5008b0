"""Queries about models: what is a model, what a model is made of, which backbone it holds,
which of its parts were unfrozen. Framework-neutral where the concept is (a model object,
its creation chain), Keras-specific where the structure is (layers, `keras.applications`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from . import apis
from .values import Class, Const, Obj, ObjKind, Ref, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts


def chain(v: Value | None, table: str) -> Iterator[Obj]:
    """`v` and what it was derived from through pass-through methods of `apis.PASSTHROUGH[table]`
    (`model.to(device).eval()` -> the `.eval()` result, the `.to()` result, `model`)."""
    methods = apis.PASSTHROUGH[table]
    for _ in range(apis.MAX_CHAIN):
        if not isinstance(v, Obj):
            return
        yield v
        if v.kind is ObjKind.METHOD and v.api in methods:
            v = v.origin
        else:
            return


def root(v: Value | None, table: str) -> Value | None:
    """The object at the start of a pass-through chain (the model behind `model.to(device)`)."""
    last: Value | None = v
    for last in chain(v, table):
        pass
    return last


def subclasses(cls: Class, bases: frozenset[str], depth: int = 0) -> bool:
    """A class of the notebook that derives (directly or through its own classes) from one of `bases`."""
    return depth < 16 and (any(isinstance(b, Ref) and b.qname in bases for b in cls.bases) or any(
        isinstance(b, Class) and subclasses(b, bases, depth + 1) for b in cls.bases))


def is_network_class(cls: Class) -> bool:
    """A Keras layer/model or PyTorch module class of the notebook: its forward pass is followed."""
    return subclasses(cls, apis.NETWORK_BASES)


def is_model(v: Value | None) -> bool:
    """A Keras or PyTorch model object (also through `.to(device)`, `.eval()` ...)."""
    v = root(v, "model")
    if not isinstance(v, Obj) or v.kind is not ObjKind.CALL:
        return False
    api = v.api or ""
    if api.startswith(apis.MODEL_CONSTRUCTOR_PREFIXES) or api in apis.MODEL_CONSTRUCTORS:
        return True
    return isinstance(v.callee, Class) and subclasses(v.callee, apis.MODEL_BASES)


def is_backbone(o: Obj) -> bool:
    """A pretrained-architecture constructor: keras.applications or the legacy efficientnet package."""
    api = o.api or ""
    return o.kind is ObjKind.CALL and bool(apis.KERAS_APPLICATION.match(api) or apis.LEGACY_EFFICIENTNET.match(api))


def efficientnet_rescales_inside(o: Obj) -> bool | None:
    """True when a keras.applications EfficientNet expects raw 0..255 input."""
    api = o.api or ""
    if apis.EFFICIENTNET_V1.match(api):
        return True
    if apis.EFFICIENTNET_V2.match(api):
        ip = o.arg("include_preprocessing", Const(True))
        if isinstance(ip, Const):
            return bool(ip.value)
        return None
    return False


def model_parts(model: Value | None) -> list[Obj]:
    """The layer and sub-model objects a Keras model is made of (nested models expanded)."""
    out: list[Obj] = []
    seen: set[int] = set()

    def add(o: Obj) -> None:
        if o.id not in seen:
            seen.add(o.id)
            out.append(o)

    def walk(v: Value | None, d: int) -> None:
        if d > apis.MAX_CHAIN or v is None:
            return
        if isinstance(v, Seq):
            for i in v.items:
                walk(i, d + 1)
            return
        if not isinstance(v, Obj) or v.id in seen:
            return
        if v.kind is ObjKind.CALL:
            api = v.api or ""
            if api == "keras.Sequential":
                add(v)
                walk(v.arg("layers"), d + 1)
                for layer in added_layers(v):
                    walk(layer, d + 1)
            elif api == "keras.Model":
                add(v)
                walk(v.arg("outputs"), d + 1)
            elif api == "keras.Input":
                return
            elif api.startswith("notebook.") and isinstance(v.callee, Class):
                # a model class of the notebook: the layers it keeps as attributes
                add(v)
                for history in v.attrs.values():
                    walk(history[-1][1], d + 1)
            else:
                add(v)
        elif v.kind is ObjKind.APPLY:
            if isinstance(v.callee, Obj):
                walk(v.callee, d + 1)
            for k, a in v.args.items():
                if k.startswith("#") or k in ("inputs",):
                    walk(a, d + 1)
        elif v.kind is ObjKind.ATTR and v.api in ("output", "outputs", "input", "inputs"):
            walk(v.origin, d + 1)
        elif v.kind in (ObjKind.BINOP, ObjKind.SUBSCRIPT, ObjKind.ITEM):
            walk(v.origin, d + 1)
            if v.kind is ObjKind.BINOP:
                walk(v.args.get("right"), d + 1)

    walk(model, 0)
    return out


def added_layers(seq_model: Obj) -> list[Value]:
    """Layers given to `Sequential.add(...)`, in order."""
    return [u.call.args.get("layer") for u in seq_model.uses  # type: ignore[misc]
            if u.param == "self" and u.call.method == "add" and u.call.args.get("layer") is not None]


def backbones(model: Value | None) -> list[Obj]:
    return [o for o in model_parts(model) if is_backbone(o)]


def layers_before(model: Value | None, backbone: Obj) -> list[Obj]:
    """Layers applied to the input before it reaches `backbone`, inside the model."""
    before: list[Obj] = []
    for part in model_parts(model):
        if part.api == "keras.Sequential":
            items = part.arg("layers")
            seq = list(items.items) if isinstance(items, Seq) else []
            seq += added_layers(part)
            if backbone in seq:
                before.extend(o for o in seq[: seq.index(backbone)] if isinstance(o, Obj))
    for use in backbone.uses:
        if use.param == "self" and use.call.name == "()":
            x = use.call.args.get("#0")
            for _ in range(apis.MAX_CHAIN):
                if not isinstance(x, Obj) or x.kind is not ObjKind.APPLY:
                    break
                if isinstance(x.callee, Obj):
                    before.append(x.callee)
                    # a nested Sequential before the backbone: its layers count too
                    if x.callee.api == "keras.Sequential":
                        before.extend(model_parts(x.callee))
                x = x.args.get("#0")
    return before


def backbone_of(v: Value | None) -> Obj | None:
    """The backbone a value belongs to: the backbone itself, or a layer taken from `backbone.layers`."""
    for _ in range(apis.MAX_CHAIN):
        if not isinstance(v, Obj):
            return None
        if is_backbone(v):
            return v
        if v.kind in (ObjKind.ITER, ObjKind.SUBSCRIPT, ObjKind.ITEM) or (v.kind is ObjKind.ATTR and v.api == "layers"):
            v = v.origin
            continue
        return None
    return None


def unfreezes(facts: "Facts") -> list[tuple[Site, Obj, bool]]:
    """(site, backbone, whole?) for every `.trainable = True` on a pretrained backbone or its
    layers, where the backbone is part of a model that is trained (a re-created backbone that
    no fitted model holds changes nothing; a network with `weights=None` is trained from
    scratch, not fine-tuned)."""
    out = []
    trained = [backbones(model) for _rec, model in facts.models_trained()]
    for site, base, attr, value in facts.interp.attr_sets:
        if attr != "trainable" or not (isinstance(value, Const) and value.value is True) or site.uncalled:
            continue
        bb = backbone_of(base)
        if bb is not None and is_pretrained(bb) and (not trained or any(bb in parts for parts in trained)):
            out.append((site, bb, base is bb))
    return out


def is_pretrained(o: Obj) -> bool:
    """A keras.applications backbone with weights (the default), or a torchvision/timm model
    asked for pretrained weights."""
    api = o.api or ""
    if api.startswith(("torchvision.models.", "timm.create_model")):
        p, w = o.args.get("pretrained"), o.args.get("weights")
        if isinstance(p, Const) and p.value is True:
            return True
        return w is not None and not (isinstance(w, Const) and w.value is None)
    w = o.arg("weights", Const("imagenet"))
    return not (isinstance(w, Const) and w.value is None)

"""Object identity across cells: which objects a model is really made of, which backbone a
`trainable` change reaches, which head a model has, which attributes a network's forward
pass reads, and where in the student's top-level code an object was made.

A notebook re-runs and copies cells, so the same name often holds several objects over time
(`base = EfficientNetB0(...)` in stage 1 and again in stage 2). The interpreter gives every
creation its own object; these queries compare objects, never names.

Every structural answer says whether it is complete: a model built from something the
analysis could not follow (a loaded model, layers taken from another model, an unknown
callable) has an incomplete structure, and a rule that needs to know that an object is *not*
in a model stays silent then.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import apis
from .models import added_layers, backbone_of, is_backbone, is_model, root
from .values import CallRecord, Class, Const, Func, Obj, ObjKind, Seq, Site, Store, Value

if TYPE_CHECKING:
    from . import Facts

# Keras layers that hold trainable weights (a "head" is made of these); the others (pooling,
# dropout, flatten, activation, augmentation, rescaling) have none.
WEIGHT_LAYERS = frozenset(
    "Dense Conv1D Conv2D Conv3D SeparableConv2D DepthwiseConv2D Conv2DTranspose BatchNormalization "
    "LayerNormalization GroupNormalization Embedding LSTM GRU SimpleRNN Bidirectional MultiHeadAttention "
    "EinsumDense".split())


@dataclass
class Structure:
    """What a Keras model is made of, as far as the analysis can see."""

    model: Obj
    parts: list[Obj] = field(default_factory=list)  # layers, backbones and nested models
    complete: bool = True  # False when something in it could not be followed

    @property
    def backbones(self) -> list[Obj]:
        return [p for p in self.parts if is_backbone(p)]

    @property
    def weight_layers(self) -> list[Obj]:
        """The layers with trainable weights outside the backbones (the head, usually)."""
        return [p for p in self.parts if p.kind is ObjKind.CALL and (p.api or "").startswith("keras.layers.")
                and (p.api or "").rsplit(".", 1)[-1] in WEIGHT_LAYERS]

    def contains(self, obj: Obj) -> bool | None:
        """True when `obj` is part of the model; False only when the structure is complete."""
        if any(p is obj for p in self.parts):
            return True
        return False if self.complete else None


def structure(model: Value | None) -> Structure | None:
    """The parts of a Keras model (Sequential, functional Model, or a backbone used as a model).
    None when `model` is not a Keras model object."""
    model = root(model, "model")
    if not isinstance(model, Obj) or model.kind is not ObjKind.CALL:
        return None
    api = model.api or ""
    out = Structure(model)
    seen: set[int] = set()

    def add(o: Obj) -> None:
        if o.id not in seen:
            seen.add(o.id)
            out.parts.append(o)

    def layer(v: Value | None, d: int) -> None:
        """A layer object used in a Sequential: itself, or the parts of a nested model."""
        if not isinstance(v, Obj) or v.kind is not ObjKind.CALL:
            out.complete = False
            return
        a = v.api or ""
        if a in ("keras.Sequential", "keras.Model"):
            add(v)
            sub = structure(v)
            if sub is None or not sub.complete:
                out.complete = False
            for p in sub.parts if sub else ():
                add(p)
        elif a.startswith("keras.") or is_backbone(v):
            add(v)
            # a wrapper layer (`TimeDistributed(base)`) holds what it wraps; a `Lambda` runs code
            # the structure cannot show
            for arg in v.args.values():
                if isinstance(arg, Func):
                    out.complete = False
                elif isinstance(arg, Obj) and arg.kind is ObjKind.CALL and (is_backbone(arg) or is_model(arg)):
                    add(arg)
        else:  # a model class of the notebook, a loaded model, something we do not model
            add(v)
            out.complete = False

    def tensor(v: Value | None, d: int) -> None:
        """The graph behind a functional model's output tensor."""
        if d > apis.MAX_CHAIN:
            out.complete = False
            return
        if isinstance(v, Seq):
            for i in v.items:
                tensor(i, d + 1)
            if not v.complete:
                out.complete = False
            return
        if not isinstance(v, Obj):
            out.complete = False
            return
        if v.kind is ObjKind.CALL:
            if v.api == "keras.Input":
                return
            out.complete = False  # a tensor made by a call we do not model
            return
        if v.kind is ObjKind.APPLY:
            layer(v.callee, d)
            inputs = [a for k, a in v.args.items() if k.startswith("#") or k == "inputs"]
            if not inputs:
                out.complete = False
            for a in inputs:
                tensor(a, d + 1)
            return
        if v.kind is ObjKind.ATTR and v.api in ("output", "outputs", "input", "inputs"):
            owner = v.origin
            bb = backbone_of(owner)
            if bb is not None:
                add(bb)  # `base.output`, `base.layers[-2].output`: the backbone is in the model
                return
            if isinstance(owner, Obj) and owner.kind is ObjKind.CALL and (owner.api or "").startswith("keras."):
                layer(owner, d)
                return
            out.complete = False
            return
        if v.kind is ObjKind.BINOP:
            tensor(v.args.get("left"), d + 1)
            tensor(v.args.get("right"), d + 1)
            return
        out.complete = False

    if api == "keras.Sequential":
        add(model)
        items = model.arg("layers")
        if isinstance(items, Seq):
            for item in items.items:
                layer(item, 1)
            if not items.complete:
                out.complete = False
        elif items is not None and not (isinstance(items, Const) and items.value is None):
            out.complete = False
        for item in added_layers(model):
            layer(item, 1)
        if any(u.param == "self" and u.call.method == "pop" for u in model.uses):
            out.complete = False
    elif api == "keras.Model":
        add(model)
        outputs = model.arg("outputs")
        if outputs is None:
            out.complete = False
        else:
            tensor(outputs, 1)
        if not model.complete:
            out.complete = False
    elif is_backbone(model):
        add(model)
    else:
        return None
    return out


# --- trainable changes ---------------------------------------------------------------------

@dataclass(frozen=True)
class TrainableChange:
    """`x.trainable = value` where `x` is a pretrained backbone or one of its layers."""

    store: Store
    backbone: Obj
    value: bool | None  # None when the assigned value is not a known constant
    whole: bool  # the backbone itself, or every one of its layers (`for l in base.layers`)

    @property
    def site(self) -> Site:
        return self.store.site

    @property
    def seq(self) -> int:
        return self.store.seq


def trainable_changes(facts: "Facts") -> list[TrainableChange]:
    """Every `.trainable = ...` on a backbone or its layers, in evaluation order."""
    out = []
    for st in facts.interp.stores:
        if st.kind != "attr" or st.key != "trainable":
            continue
        bb = backbone_of(st.base)
        if bb is None:
            continue
        value = st.value.value if isinstance(st.value, Const) and isinstance(st.value.value, bool) else None
        out.append(TrainableChange(st, bb, value, st.base is bb or _all_layers(st.base, bb)))
    return out


def _all_layers(target: Value, bb: Obj) -> bool:
    """A loop variable over `bb.layers` itself (not a slice of it)."""
    return isinstance(target, Obj) and target.kind is ObjKind.ITER and isinstance(target.origin, Obj) and \
        target.origin.kind is ObjKind.ATTR and target.origin.api == "layers" and target.origin.origin is bb


def frozen_at(facts: "Facts", backbone: Obj, seq: int) -> bool | None:
    """Whether the backbone is frozen as a whole at this point of evaluation order: True after
    `base.trainable = False` (or every layer set so) with nothing unfreezing it since; False
    when nothing froze it or it was unfrozen; None when a change under a condition, of a part
    of it, or to an unknown value leaves it open."""
    state: bool | None = False
    for ch in facts.trainable_changes:
        if ch.backbone is not backbone or ch.seq >= seq or ch.site.uncalled:
            continue
        if ch.value is None or ch.site.conds:
            state = None
        elif ch.whole:
            state = not ch.value
        elif state is True and ch.value:
            state = None  # some layers unfrozen again
    return state


# --- where an object was made, in the student's top-level code ------------------------------

def top_site(facts: "Facts", site: Site, seq: int) -> Site:
    """The top-level statement that made this happen: for an object made inside the
    notebook's own function, the call of that function at the top level."""
    if not site.funcs:
        return site
    outer = site.funcs[0]
    best: CallRecord | None = None
    for rec in facts.calls:
        if rec.seq > seq:
            break
        if rec.callee is outer and not rec.site.funcs:
            best = rec
        elif isinstance(rec.callee, Class) and not rec.site.funcs and outer in rec.callee.methods.values():
            best = rec  # `Net()` running `Net.__init__`
    return best.site if best is not None else site


# --- heads --------------------------------------------------------------------------------

def layers_on(facts: "Facts", backbone: Obj) -> list[Obj]:
    """Keras layers applied to the backbone's output (directly or after other layers): a head
    built on it, whether or not a model was made from it."""
    out = []
    for o in facts.objects:
        if o.kind is not ObjKind.APPLY or o.site.uncalled or not isinstance(o.callee, Obj):
            continue
        if not (o.callee.api or "").startswith("keras.layers."):
            continue
        if _downstream_of(o.origin, backbone):
            out.append(o)
    return out


def _downstream_of(v: Value | None, backbone: Obj) -> bool:
    for _ in range(apis.MAX_CHAIN):
        if not isinstance(v, Obj):
            return False
        if v.kind is ObjKind.APPLY:
            if v.callee is backbone:
                return True
            v = v.origin
        elif v.kind is ObjKind.ATTR and v.api in ("output", "outputs"):
            return backbone_of(v.origin) is backbone
        else:
            return False
    return False


def include_top(backbone: Obj) -> bool | None:
    """Whether a keras.applications backbone keeps its ImageNet classifier (the default)."""
    v = backbone.arg("include_top", Const(True))
    return bool(v.value) if isinstance(v, Const) else None


# --- PyTorch: the attributes a library model's forward reads ---------------------------------

# torchvision constructor name -> the children its forward pass uses (all of them)
_TV_CHILDREN: list[tuple[re.Pattern, frozenset[str]]] = [
    (re.compile(r"^(resnet\d+|resnext\d+_\w+|wide_resnet\d+_\d+)$"),
     frozenset("conv1 bn1 relu maxpool layer1 layer2 layer3 layer4 avgpool fc".split())),
    (re.compile(r"^densenet\d+$"), frozenset({"features", "classifier"})),
    (re.compile(r"^(vgg\d+(_bn)?|alexnet)$"), frozenset({"features", "avgpool", "classifier"})),
    (re.compile(r"^efficientnet_(b[0-7]|v2_[sml])$"), frozenset({"features", "avgpool", "classifier"})),
    (re.compile(r"^mobilenet_v2$"), frozenset({"features", "classifier"})),
    (re.compile(r"^mobilenet_v3_(large|small)$"), frozenset({"features", "avgpool", "classifier"})),
    (re.compile(r"^convnext_(tiny|small|base|large)$"), frozenset({"features", "avgpool", "classifier"})),
    (re.compile(r"^regnet_[xy]_\w+$"), frozenset({"stem", "trunk_output", "avgpool", "fc"})),
    (re.compile(r"^shufflenet_v2_x\d_\d$"), frozenset("conv1 maxpool stage2 stage3 stage4 conv5 fc".split())),
    (re.compile(r"^squeezenet1_[01]$"), frozenset({"features", "classifier"})),
    (re.compile(r"^mnasnet\d_\d+$"), frozenset({"layers", "classifier"})),
    (re.compile(r"^vit_[bhl]_\d+$"), frozenset({"conv_proj", "encoder", "heads"})),
    (re.compile(r"^swin_(v2_)?[tsb]$"), frozenset({"features", "norm", "permute", "avgpool", "flatten", "head"})),
    (re.compile(r"^maxvit_t$"), frozenset({"stem", "blocks", "classifier"})),
    (re.compile(r"^inception_v3$"), frozenset(
        "Conv2d_1a_3x3 Conv2d_2a_3x3 Conv2d_2b_3x3 maxpool1 Conv2d_3b_1x1 Conv2d_4a_3x3 maxpool2 Mixed_5b Mixed_5c "
        "Mixed_5d Mixed_6a Mixed_6b Mixed_6c Mixed_6d Mixed_6e AuxLogits Mixed_7a Mixed_7b Mixed_7c avgpool "
        "dropout fc".split())),
    (re.compile(r"^googlenet$"), frozenset(
        "conv1 maxpool1 conv2 conv3 maxpool2 inception3a inception3b maxpool3 inception4a inception4b inception4c "
        "inception4d inception4e maxpool4 inception5a inception5b aux1 aux2 avgpool dropout fc".split())),
]
# the head attribute of each family, where only the head is known (timm, efficientnet_pytorch, Cadene)
_TIMM_HEADS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^(resnet|resnext|seresnext|seresnet|wide_resnet|ecaresnet|resnest|skresnet|gluon_resnet)"), "fc"),
    (re.compile(r"^(efficientnet|tf_efficientnet|mobilenetv[23]|tf_mobilenetv3|mixnet|tf_mixnet|mnasnet|"
                r"densenet|fbnet|spnasnet|efficientnetv2|tf_efficientnetv2)"), "classifier"),
    (re.compile(r"^(vit_|deit|swin|beit|eva|cait|xcit|convnext|convnextv2|coatnet|maxvit|levit)"), "head"),
]
HEAD_NAMES = frozenset({"fc", "classifier", "head", "heads", "_fc", "last_linear", "linear", "logits", "out",
                        "output", "fc_out", "final", "final_fc", "linear_last", "last_layer", "top", "clf",
                        "cls_head", "classification_head", "predictions", "new_fc", "dense"})


@dataclass(frozen=True)
class Arch:
    """A library network and what its forward pass reads."""

    name: str  # e.g. "resnet50", "timm:efficientnet_b0"
    children: frozenset[str] | None  # every attribute the forward reads, when known in full
    head: str | None  # the attribute holding its classifier


def arch_of(model: Value | None) -> Arch | None:
    """The library architecture of a PyTorch model object (torchvision, timm, efficientnet_pytorch,
    pretrainedmodels), when known."""
    m = root(model, "model")
    if not isinstance(m, Obj) or m.kind is not ObjKind.CALL:
        return None
    api = m.api or ""
    if api.startswith("torchvision.models."):
        name = api.rsplit(".", 1)[-1]
        for pattern, children in _TV_CHILDREN:
            if pattern.match(name):
                head = next((h for h in ("fc", "classifier", "heads", "head") if h in children), None)
                return Arch(name, children, head)
        return None
    if api == "timm.create_model":
        name = m.args.get("model_name", m.args.get("#0"))
        if isinstance(name, Const) and isinstance(name.value, str):
            short = name.value.split("/")[-1]
            for pattern, head in _TIMM_HEADS:
                if pattern.match(short):
                    return Arch("timm:" + short, None, head)
        return None
    if api.startswith("efficientnet_pytorch.") and api.endswith(("from_pretrained", "from_name")):
        return Arch("efficientnet_pytorch", None, "_fc")
    if api.startswith("pretrainedmodels."):
        return Arch(api.rsplit(".", 1)[-1], None, "last_linear")
    return None


def is_torch_module(v: Value | None) -> bool:
    """A `torch.nn` module object (Linear, Sequential, ...) or an instance of a notebook nn.Module."""
    if not isinstance(v, Obj) or v.kind is not ObjKind.CALL:
        return False
    api = v.api or ""
    if api.startswith("torch.nn.") and not api.startswith(("torch.nn.functional.", "torch.nn.init.")):
        return api.rsplit(".", 1)[-1][:1].isupper()
    return isinstance(v.callee, Class) and is_model(v)


def is_classifier(v: Value | None, depth: int = 0) -> bool:
    """A classification head: an `nn.Linear`, a container holding one, or a module of the notebook
    that holds one (not a dropout or pooling layer added on the side)."""
    if depth > 4 or not isinstance(v, Obj) or v.kind is not ObjKind.CALL:
        return False
    api = v.api or ""
    if api in ("torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.modules.linear.Linear"):
        return True
    if api in ("torch.nn.Sequential", "torch.nn.ModuleList"):
        items = [a for k, a in v.args.items() if k.startswith("#")]
        if len(items) == 1 and isinstance(items[0], Seq):
            items = items[0].items
        return any(is_classifier(i, depth + 1) for i in items)
    if isinstance(v.callee, Class):
        return any(is_classifier(h[-1][1], depth + 1) for h in v.attrs.values())
    return False


def unread_attribute(arch: Arch, attr: str) -> bool:
    """The architecture's forward pass surely never reads this attribute."""
    if arch.children is not None:
        return attr not in arch.children
    return attr in HEAD_NAMES and attr != arch.head and not (arch.head == "head" and attr == "heads")

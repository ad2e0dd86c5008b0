"""The structure of a model, for rules about its head and its output:

- Keras (`spine`): the layers from the input to the output of a Sequential model (its list
  and its `.add()` calls), a functional model (walked back from `outputs` through each layer
  applied to the previous tensor), or a `keras.Model` subclass (walked back from what its
  followed `call()` returned); for each layer its kind, the rank of the tensor it outputs (4
  for feature maps, 2 for vectors; None when unknown), its activation and units. Branching
  graphs are followed along their first input only; a layer the analysis does not know makes
  the ranks after it unknown.
- `head(model)`: the output layer, the activation the model ends with, and the layers that
  come after that activation.
- PyTorch (`torch_output`): whether a network returns logits, softmax probabilities or
  log-probabilities (a torchvision/timm model, an `nn.Sequential`, a notebook `nn.Module`
  whose `forward` the interpreter followed), and what a value passed to a loss is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import apis
from .models import is_backbone, root
from .values import Class, Const, Obj, ObjKind, Ref, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts

CONV = frozenset({"Conv2D", "Convolution2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "Conv3D"})
POOL = frozenset({"MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D", "AveragePooling2D",
                  "ZeroPadding2D", "Cropping2D", "UpSampling2D"})
GLOBAL_POOL = frozenset({"GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D"})
NORM = frozenset({"BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"})
DROPOUT = frozenset({"Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
                     "ActivityRegularization"})
PREPROCESS = frozenset({"Rescaling", "Normalization", "Resizing", "CenterCrop"}) | apis.KERAS_RANDOM_LAYERS
ACTIVATION_LAYERS = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "relu", "PReLU": "relu", "ELU": "elu"}
PROBABILITIES = frozenset({"softmax", "sigmoid"})


@dataclass
class Layer:
    """One step of a model's spine."""

    obj: Obj | None  # the layer (a `Dense(...)` call object, a backbone, a nested model); None for an op
    site: Site  # where it is written or applied
    kind: str  # input | conv | pool | global_pool | flatten | dense | activation | norm | dropout
    #            | preprocess | backbone | model | other
    rank: int | None  # rank of its output, batch included (4: feature maps, 2: vectors)
    activation: str | None = None  # softmax | sigmoid | linear | relu | ... (None: unknown or none)
    units: int | None = None
    name: str = ""  # the layer's class, as written (`Dense`, `EfficientNetB0`)


@dataclass
class Head:
    """How a model ends: `output` is the layer that makes the predictions (the last Dense, or a
    backbone with its own top), `activation` the activation the model ends with, `after` the
    layers that follow that activation."""

    output: Layer
    activation: str | None
    units: int | None
    activation_layer: Layer
    after: list[Layer] = field(default_factory=list)


def _short(o: Obj) -> str:
    return (o.api or "").rsplit(".", 1)[-1]


def _int(v: Value | None) -> int | None:
    if isinstance(v, Const) and isinstance(v.value, int) and not isinstance(v.value, bool):
        return v.value
    return None


def activation_name(v: Value | None) -> str | None:
    """`'softmax'`, `activation=None` -> 'linear', `tf.nn.softmax`, `keras.activations.sigmoid`."""
    if v is None:
        return "linear"
    if isinstance(v, Const):
        if v.value is None:
            return "linear"
        return str(v.value).lower() if isinstance(v.value, str) else None
    if isinstance(v, Ref):
        last = v.qname.rsplit(".", 1)[-1].lower()
        if v.qname.startswith(("keras.activations.", "tensorflow.nn.", "tensorflow.math.", "tensorflow.")):
            return last
    return None


def _shape_rank(v: Value | None) -> int | None:
    if isinstance(v, Const) and isinstance(v.value, (tuple, list)):
        return len(v.value) + 1
    if isinstance(v, Seq) and v.complete:
        return len(v.items) + 1
    return None


def backbone_rank(o: Obj) -> int | None:
    """Rank of a pretrained architecture's output: vectors with its own top or a pooling."""
    top = o.arg("include_top", Const(True))
    pooling = o.arg("pooling", Const(None))
    if not isinstance(top, Const) or not isinstance(pooling, Const):
        return None
    if top.value or pooling.value in ("avg", "max"):
        return 2
    return 4 if pooling.value is None else None


def _layer(o: Obj, site: Site, rank_in: int | None, depth: int) -> Layer:
    """A layer object applied to a tensor of rank `rank_in`."""
    short = _short(o)
    api = o.api or ""
    if is_backbone(o):
        top = o.arg("include_top", Const(True))
        units = _int(o.arg("classes", Const(1000))) if isinstance(top, Const) and top.value else None
        act = activation_name(o.arg("classifier_activation", Const("softmax"))) if units else None
        return Layer(o, site, "backbone", backbone_rank(o), act, units, short)
    if api in ("keras.Sequential", "keras.Model") or (api.startswith("notebook.") and isinstance(o.callee, Class)):
        inner = spine(o, depth + 1, rank_in)
        if inner and all(x.kind == "preprocess" for x in inner):
            return Layer(o, site, "preprocess", rank_in, name=short)
        rank = inner[-1].rank if inner else None
        return Layer(o, site, "model", rank, name=short)
    if not api.startswith("keras.layers."):
        return Layer(o, site, "other", None, name=short)
    if short == "Dense":
        return Layer(o, site, "dense", rank_in, activation_name(o.arg("activation", Const(None))),
                     _int(o.arg("units")), short)
    if short in CONV:
        return Layer(o, site, "conv", 4, activation_name(o.arg("activation", Const(None))), name=short)
    if short in POOL:
        return Layer(o, site, "pool", 4, name=short)
    if short in GLOBAL_POOL:
        keep = o.arg("keepdims", Const(False))
        return Layer(o, site, "global_pool", 4 if (isinstance(keep, Const) and keep.value) else 2, name=short)
    if short == "Flatten":
        return Layer(o, site, "flatten", 2, name=short)
    if short == "Activation":
        return Layer(o, site, "activation", rank_in, activation_name(o.arg("activation", o.args.get("#0"))),
                     name=short)
    if short in ACTIVATION_LAYERS:
        return Layer(o, site, "activation", rank_in, ACTIVATION_LAYERS[short], name=short)
    if short in NORM:
        return Layer(o, site, "norm", rank_in, name=short)
    if short in DROPOUT:
        return Layer(o, site, "dropout", rank_in, name=short)
    if short in PREPROCESS:
        return Layer(o, site, "preprocess", rank_in, name=short)
    if short in ("InputLayer",):
        return Layer(o, site, "input", _shape_rank(o.arg("input_shape", o.arg("shape"))), name=short)
    return Layer(o, site, "other", None, name=short)


def _first_rank(o: Obj) -> int | None:
    """The input rank a Sequential's first layer declares (`input_shape=(224, 224, 3)`)."""
    return _shape_rank(o.arg("input_shape", o.args.get("batch_input_shape")))


def spine(model: Value | None, depth: int = 0, rank_in: int | None = None) -> list[Layer] | None:
    """The layers of a Keras model from input to output, with ranks (see the module docstring);
    None when the model's structure cannot be read."""
    model = root(model, "model")
    if not isinstance(model, Obj) or model.kind is not ObjKind.CALL or depth > 4:
        return None
    api = model.api or ""
    if api == "keras.Sequential":
        items = model.arg("layers")
        layers: list[Value] = []
        if isinstance(items, Seq):
            if not items.complete:
                return None
            layers.extend(items.items)
        elif items is not None and not (isinstance(items, Const) and items.value is None):
            return None
        layers.extend(_added(model))
        out: list[Layer] = []
        rank = rank_in
        for i, item in enumerate(layers):
            if isinstance(item, Obj) and item.kind is ObjKind.CALL and item.api == "keras.Input":
                rank = _shape_rank(item.arg("shape", item.args.get("#0")))
                out.append(Layer(item, item.site, "input", rank, name="Input"))
                continue
            if not isinstance(item, Obj) or item.kind is not ObjKind.CALL:
                return None
            if i == 0 and rank is None:
                rank = _first_rank(item)
            layer = _layer(item, item.site, rank, depth)
            out.append(layer)
            rank = layer.rank
        return out
    if api == "keras.Model":
        outputs = model.arg("outputs")
        return _walk_back(outputs, depth)
    if api.startswith("notebook.") and isinstance(model.callee, Class):
        return None  # filled in by Facts (needs the interpreter's forward results)
    return None


def _added(model: Obj) -> list[Value]:
    """Layers given to `model.add(...)`, in order, less those `model.pop()` removed."""
    out: list[Value] = []
    for use in model.uses:
        if use.param != "self":
            continue
        if use.call.method == "add" and use.call.args.get("layer") is not None:
            out.append(use.call.args["layer"])
        elif use.call.method == "pop" and out and not use.call.args:
            out.pop()
    return out


def _walk_back(tensor: Value | None, depth: int, limit: int = apis.MAX_CHAIN) -> list[Layer] | None:
    """The chain of layers that produced a functional tensor, input first."""
    steps: list[tuple[Obj | None, Site, Value | None]] = []  # (layer, where applied, the layer's input)
    start_rank: int | None = None
    x = tensor
    for _ in range(limit):
        if isinstance(x, Seq):
            return None  # several outputs
        if not isinstance(x, Obj):
            return None
        if x.kind is ObjKind.APPLY and isinstance(x.callee, Obj) and x.callee.kind is ObjKind.CALL:
            steps.append((x.callee, x.site, x.origin))
            x = x.origin
            continue
        if x.kind is ObjKind.ATTR and x.api == "output" and isinstance(x.origin, Obj):
            src = x.origin
            if is_backbone(src):
                steps.append((src, src.site, None))
                break
            inner = spine(src, depth + 1)  # `model.output` of another Keras model
            if not inner:
                return None
            return inner + _layer_from_steps(steps, inner[-1].rank, depth)
        if x.kind is ObjKind.CALL and x.api == "keras.Input":
            start_rank = _shape_rank(x.arg("shape", x.args.get("#0")))
            steps.append((x, x.site, None))
            break
        if x.kind is ObjKind.CALL and (x.api or "").endswith("preprocess_input"):
            steps.append((None, x.site, x.args.get("#0", x.args.get("x"))))
            x = steps[-1][2]
            continue
        if x.kind is ObjKind.BINOP:
            steps.append((None, x.site, x.origin))
            x = x.origin
            continue
        return None
    else:
        return None
    return _layer_from_steps(steps, start_rank, depth)


def _layer_from_steps(steps: list[tuple[Obj | None, Site, Value | None]], start_rank: int | None,
                      depth: int) -> list[Layer]:
    out: list[Layer] = []
    rank = start_rank
    for obj, site, _inp in reversed(steps):
        if obj is None:
            out.append(Layer(None, site, "preprocess", rank, name="op"))
            continue
        if obj.kind is ObjKind.CALL and obj.api == "keras.Input":
            out.append(Layer(obj, site, "input", rank, name="Input"))
            continue
        layer = _layer(obj, site, rank, depth)
        out.append(layer)
        rank = layer.rank
    return out


def head(layers: list[Layer] | None) -> Head | None:
    """How a spine ends (see `Head`); None when it has no output layer we know."""
    if not layers:
        return None
    out_i = None
    for i in range(len(layers) - 1, -1, -1):
        if layers[i].kind == "dense" or (layers[i].kind == "backbone" and layers[i].units):
            out_i = i
            break
    if out_i is None:
        return None
    output = layers[out_i]
    act_layer = output
    act = output.activation
    j = out_i + 1
    while j < len(layers) and layers[j].kind in ("activation", "dropout", "norm"):
        if layers[j].kind == "activation":
            if act in PROBABILITIES:
                break
            act_layer, act = layers[j], layers[j].activation
        elif act in PROBABILITIES:
            break
        j += 1
    after = layers[layers.index(act_layer) + 1:] if act in PROBABILITIES else []
    return Head(output, act, output.units, act_layer, after)


def dense_on_maps(layers: list[Layer] | None) -> tuple[Layer, Layer | None] | None:
    """(the first Dense applied to feature maps, the layer that made them) when the model's
    output is still a feature map (nothing flattens or pools the maps before the end)."""
    if not layers or layers[-1].rank != 4:
        return None
    prev: Layer | None = None
    for layer in layers:
        if layer.kind == "dense" and prev is not None and prev.rank == 4:
            return layer, prev
        if layer.kind == "dense" and prev is None and layer.rank == 4:
            return layer, None
        prev = layer
    return None


def input_size(layers: list[Layer] | None) -> tuple[tuple[int, int], Site] | None:
    """The image size (height, width) a model is built for, from its Input, first layer or backbone."""
    for layer in layers or ():
        o = layer.obj
        if o is None:
            continue
        shape = None
        if o.api == "keras.Input":
            shape = o.arg("shape", o.args.get("#0"))
        elif layer.kind == "backbone" or layer is layers[0]:  # type: ignore[index]
            shape = o.arg("input_shape")
        if isinstance(shape, Const) and isinstance(shape.value, tuple) and len(shape.value) == 3 and \
                all(isinstance(d, int) for d in shape.value[:2]):
            return (shape.value[0], shape.value[1]), _arg_site(o, "input_shape" if o.api != "keras.Input" else "shape")
        if layer.kind == "backbone":
            break
    return None


def _arg_site(o: Obj, name: str) -> Site:
    node = o.arg_sites.get(name)
    return o.site.at(node) if node is not None else o.site


# --- PyTorch -----------------------------------------------------------------------------

TORCH_PROB = {"torch.nn.Softmax": "softmax", "torch.nn.LogSoftmax": "log_softmax", "torch.nn.Sigmoid": "sigmoid",
              "torch.nn.Softmax2d": "softmax"}
TORCH_FUNCS = {"torch.softmax": "softmax", "torch.nn.functional.softmax": "softmax", "torch.log_softmax": "log_softmax",
               "torch.nn.functional.log_softmax": "log_softmax", "torch.sigmoid": "sigmoid",
               "torch.nn.functional.sigmoid": "sigmoid", "torch.special.softmax": "softmax",
               "torch.special.log_softmax": "log_softmax"}
TORCH_METHODS = {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid"}
HEAD_ATTRS = ("fc", "classifier", "head", "heads", "last_linear", "linear")


def torch_output(facts: "Facts", model: Value | None, depth: int = 0) -> str | None:
    """What a PyTorch network returns: "logits", "softmax", "log_softmax", "sigmoid"; None when unknown."""
    model = root(model, "model")
    if not isinstance(model, Obj) or depth > 6:
        return None
    api = model.api or ""
    if model.kind is ObjKind.CALL and api.startswith(("torchvision.models.", "timm.create_model")):
        for attr in HEAD_ATTRS:
            hist = model.attrs.get(attr)
            if hist:
                return _torch_module_output(facts, hist[-1][1], depth + 1)
        return "logits"
    if model.kind is ObjKind.CALL and api == "torch.nn.Sequential":
        return _torch_module_output(facts, model, depth + 1)
    if model.kind is ObjKind.CALL and isinstance(model.callee, Class):
        out = facts.interp.forward_results.get(model.id)
        return value_activation(facts, out, depth + 1) if out is not None else None
    return None


def _torch_module_output(facts: "Facts", m: Value | None, depth: int) -> str | None:
    if not isinstance(m, Obj) or m.kind is not ObjKind.CALL or depth > 6:
        return None
    api = m.api or ""
    if api in TORCH_PROB:
        return TORCH_PROB[api]
    if api == "torch.nn.Sequential":
        mods = [v for _i, v in sorted((int(k[1:]), v) for k, v in m.args.items() if k.startswith("#"))]
        if not mods or not m.complete:
            return None
        return _torch_module_output(facts, mods[-1], depth + 1)
    if api in ("torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Conv2d", "torch.nn.Identity", "torch.nn.Flatten"):
        return "logits"
    if isinstance(m.callee, Class):
        return torch_output(facts, m, depth + 1)
    return None


def value_activation(facts: "Facts", v: Value | None, depth: int = 0) -> str | None:
    """What a tensor is, by how it was made: a network's output, or softmax/log_softmax of something."""
    if not isinstance(v, Obj) or depth > 8:
        return None
    if v.kind is ObjKind.CALL and (v.api or "") in TORCH_FUNCS:
        return TORCH_FUNCS[v.api or ""]
    if v.kind is ObjKind.METHOD and v.api in TORCH_METHODS:
        return TORCH_METHODS[v.api or ""]
    if v.kind is ObjKind.METHOD and v.api in ("to", "cuda", "cpu", "float", "squeeze", "view", "reshape"):
        return value_activation(facts, v.origin, depth + 1)
    if v.kind is ObjKind.APPLY and isinstance(v.callee, Obj):
        callee = root(v.callee, "model")
        if isinstance(callee, Obj) and (callee.api or "") in TORCH_PROB:
            return TORCH_PROB[callee.api or ""]
        if isinstance(callee, Obj) and (callee.api or "").startswith("torch.nn.") and callee.api not in (
                "torch.nn.Sequential",):
            return "logits" if callee.api in ("torch.nn.Linear", "torch.nn.LazyLinear") else None
        return torch_output(facts, callee, depth + 1) if isinstance(callee, Obj) else None
    return None

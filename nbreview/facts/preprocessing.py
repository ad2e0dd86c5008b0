"""What a data pipeline does to the pixels before the model sees them, and what a pretrained
network expects — so that pipelines can be compared (training vs prediction) and checked
against the backbone.

A pipeline's `Preproc` has a `Scaling` and an image `size`:

- Scaling `kind`: "raw" (0..255, nothing done), "unit" (divided by 255), "family" (a
  `preprocess_input`, with its `family`: "tf" = [-1, 1] (Xception, Inception, MobileNet,
  ResNetV2, NASNet), "caffe" = BGR mean subtraction (ResNet, VGG), "torch" = /255 then ImageNet
  mean/std (DenseNet, the legacy `efficientnet` package), "none" = returns the input unchanged
  (EfficientNet, ConvNeXt, RegNet, ResNetRS, MobileNetV3: these rescale inside), or "other"
  (a normalisation we do not model: featurewise/samplewise centring, `Normalization`, two
  scalings stacked). Unknown is None: a rule that compares stays silent.
- Read from: `ImageDataGenerator` / `ImageDataAugmentor` (`preprocessing_function` first, then
  `rescale`), their flows (`target_size`, default 256x256), `image_dataset_from_directory`
  (`image_size`, default 256x256), `tf.data` maps (a division by 255, `convert_image_dtype`, a
  `Rescaling` layer, a `preprocess_input` call, `tf.image.resize`), arrays (`x / 255`,
  `img_to_array(load_img(path, target_size=...))`, `np.expand_dims`, `preprocess_input(x)`).
- `model_scaling(model, backbone)`: what the layers a model applies before its backbone do
  (`Rescaling`, a `Lambda(preprocess_input)`, `preprocess_input(inputs)` in the graph).
- `expects(backbone)`: the scaling a pretrained architecture was trained with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apis
from .values import Const, Func, Obj, ObjKind, Ref, Seq, Site, Value, number

if TYPE_CHECKING:
    from . import Facts

# keras.applications.<module>.preprocess_input -> the family it applies
PREPROCESS_FAMILY = {
    "xception": "tf", "inception_v3": "tf", "inception_resnet_v2": "tf", "mobilenet": "tf", "mobilenet_v2": "tf",
    "resnet_v2": "tf", "nasnet": "tf",
    "resnet50": "caffe", "resnet": "caffe", "vgg16": "caffe", "vgg19": "caffe",
    "densenet": "torch",
    "efficientnet": "none", "efficientnet_v2": "none", "convnext": "none", "regnet": "none", "resnet_rs": "none",
    "mobilenet_v3": "none",
}
# architecture name prefix -> the family its weights were trained with ("none": 0..255, rescaled inside)
ARCH_FAMILY = (
    ("Xception", "tf"), ("InceptionV3", "tf"), ("InceptionResNetV2", "tf"), ("MobileNetV3", "none"),
    ("MobileNetV2", "tf"), ("MobileNet", "tf"), ("NASNet", "tf"), ("ResNetRS", "none"),
    ("ResNet50V2", "tf"), ("ResNet101V2", "tf"), ("ResNet152V2", "tf"), ("ResNet", "caffe"), ("VGG", "caffe"),
    ("DenseNet", "torch"), ("EfficientNetV2", "none"), ("EfficientNet", "none"), ("ConvNeXt", "none"),
    ("RegNet", "none"),
)
# how each family scales, as a formula (language-neutral, for messages)
FAMILY_TEXT = {"tf": "x / 127.5 − 1 → [-1, 1]", "caffe": "RGB→BGR, x − mean(ImageNet)",
               "torch": "(x / 255 − mean) / std (ImageNet)", "none": "0..255"}


@dataclass(frozen=True)
class Scaling:
    kind: str  # raw | unit | family | other
    family: str | None = None  # for "family": tf | caffe | torch | none
    site: Site | None = None  # where it is written (None for "nothing written")
    text: str = ""  # the student's own code for it
    owner: Obj | None = None  # the generator / map / layer that does it
    module: str | None = None  # for "family": the keras.applications module (`resnet50`), or "efficientnet (legacy)"

    @property
    def pixels(self) -> str:
        """What the values look like: "0..255", "[0, 1]", "[-1, 1]", ... (for comparisons)."""
        if self.kind == "raw" or (self.kind == "family" and self.family == "none"):
            return "raw"
        if self.kind == "unit":
            return "unit"
        if self.kind == "family":
            return self.family or "?"
        return "other"


@dataclass(frozen=True)
class Effect:
    """What a function does to an image: `scaling` ("keep", a Scaling, None unknown) relative to
    its input, or from raw pixels when it decodes files itself (`decodes`); `size` ("keep", a
    size, None unknown)."""

    scaling: "Scaling | str | None"
    size: "tuple[int, int] | str | None" = "keep"
    size_site: Site | None = None
    decodes: bool = False


KEEP = Effect("keep")
UNKNOWN_EFFECT = Effect(None, None)


@dataclass(frozen=True)
class Preproc:
    scaling: Scaling | None
    size: tuple[int, int] | None = None
    size_site: Site | None = None
    source: Obj | None = None  # the step that makes the data (the datagen of a flow, the dataset)


def family_of_ref(q: str) -> tuple[str, str] | None:
    """(family, module) of a `preprocess_input` function by qualified name."""
    if not q.endswith("preprocess_input"):
        return None
    parts = q.split(".")
    if q.startswith("keras.applications.") and len(parts) == 4:
        fam = PREPROCESS_FAMILY.get(parts[2])
        if fam:
            return fam, parts[2]
        if parts[2] == "imagenet_utils":
            return "caffe", "imagenet_utils"
    if apis.LEGACY_EFFICIENTNET.match(q.rsplit(".", 1)[0] + ".EfficientNet") or q.startswith("efficientnet."):
        return "torch", "efficientnet (legacy)"
    return None


def expects(backbone: Obj) -> str | None:
    """The scaling a pretrained backbone expects: "tf" | "caffe" | "torch" | "none" (0..255) |
    "v2_norm" (EfficientNetV2 with include_preprocessing=False) | "legacy" (the `efficientnet`
    package: /255 then ImageNet mean/std); None when unknown."""
    api = backbone.api or ""
    if apis.LEGACY_EFFICIENTNET.match(api):
        return "legacy"
    name = api.rsplit(".", 1)[-1]
    if apis.EFFICIENTNET_V2.match(api) or name.startswith(("ConvNeXt", "MobileNetV3")):
        ip = backbone.arg("include_preprocessing", Const(True))
        if not isinstance(ip, Const):
            return None
        if not ip.value:
            return "v2_norm" if apis.EFFICIENTNET_V2.match(api) else None
        return "none"
    for prefix, fam in ARCH_FAMILY:
        if name.startswith(prefix):
            return fam
    return None


class Preprocessing:
    """Queries over one notebook's facts (cached per object)."""

    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        self._cache: dict[tuple[int, str], object] = {}

    def _quote(self, site: Site, n: int = 80) -> str:
        return self.facts.quote(site, n)

    # --- data pipelines -----------------------------------------------------------------
    def of(self, data: Value | None, depth: int = 0) -> Preproc:
        """The preprocessing of a data value (see the module docstring)."""
        if depth > 30 or data is None:
            return Preproc(None)
        if isinstance(data, Seq):  # (x, y) arrays
            return self.of(data.items[0], depth + 1) if data.items else Preproc(None)
        if not isinstance(data, Obj):
            return Preproc(None)
        key = (data.id, "of")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        out = self._of(data, depth)
        self._cache[key] = out
        return out

    def _of(self, v: Obj, depth: int) -> Preproc:
        api = v.api or ""
        if v.kind is ObjKind.METHOD and v.api in apis.FLOW_METHODS:
            gen = v.origin
            scaling = self.generator_scaling(gen) if isinstance(gen, Obj) else None
            size, size_site = self._flow_size(v)
            return Preproc(scaling, size, size_site, gen if isinstance(gen, Obj) else None)
        if v.kind is ObjKind.METHOD and v.api in apis.DATASET_PASSTHROUGH:
            return self.of(v.origin, depth + 1)
        if v.kind is ObjKind.METHOD and v.api == "map":
            before = self.of(v.origin, depth + 1)
            eff = self.func_effect(v.arg("map_func"))
            start = Scaling("raw", site=v.site, owner=v) if eff.decodes else before.scaling
            if eff.scaling == "keep":
                out_scaling = start
            elif eff.scaling is None or start is None:
                out_scaling = None
            else:
                out_scaling = _stack(start, eff.scaling)
            if eff.size == "keep":
                return Preproc(out_scaling, before.size, before.size_site, before.source)
            return Preproc(out_scaling, eff.size if isinstance(eff.size, tuple) else None, eff.size_site,
                           before.source)
        if v.kind is ObjKind.CALL and api == "keras.utils.image_dataset_from_directory":
            size = v.arg("image_size", Const((256, 256)))
            node = v.arg_sites.get("image_size")
            sz = _size(size)
            return Preproc(Scaling("raw", site=v.site, owner=v), sz, v.site.at(node) if node is not None else v.site, v)
        if v.kind is ObjKind.CALL and api.startswith("tensorflow.data.Dataset.from_tensor"):
            first = v.args.get("#0", v.args.get("tensors"))
            if isinstance(first, Seq) and first.items:
                first = first.items[0]
            inner = self.of(first, depth + 1)  # arrays of images; file paths stay unknown until decoded
            return Preproc(inner.scaling, inner.size, inner.size_site, v)
        return self._array(v, depth)

    def _array(self, v: Obj, depth: int) -> Preproc:
        """Arrays and tensors made from images."""
        api = v.api or ""
        if v.kind is ObjKind.BINOP:
            right = v.args.get("right")
            if (v.api == "div" and _num(right) == 255) or (v.api == "mul" and _num(right) is not None and
                                                             abs(_num(right) - 1 / 255) < 1e-4):  # type: ignore
                inner = self.of(v.origin, depth + 1)
                if inner.scaling is None or inner.scaling.kind == "raw":  # (images read some unknown way: raw)
                    return Preproc(Scaling("unit", site=v.site, text=self._quote(v.site), owner=v), inner.size,
                                   inner.size_site, inner.source)
            return Preproc(None)
        if v.kind is ObjKind.METHOD and v.api in ("astype", "reshape", "numpy", "copy", "squeeze"):
            return self.of(v.origin, depth + 1)
        if v.kind is ObjKind.SUBSCRIPT and v.origin is not None:  # x[None]
            return self.of(v.origin, depth + 1)
        if v.kind is not ObjKind.CALL:
            return Preproc(None)
        first = v.args.get("#0", v.args.get("x"))
        if api in ("numpy.expand_dims", "numpy.array", "numpy.asarray", "numpy.stack", "numpy.vstack",
                   "tensorflow.expand_dims", "tensorflow.convert_to_tensor", "keras.preprocessing.image.img_to_array",
                   "numpy.float32"):
            if isinstance(first, Seq):
                first = first.items[0] if first.items and first.complete else None
            return self.of(first, depth + 1)
        if api == "keras.preprocessing.image.load_img":
            size = v.arg("target_size", Const(None))
            sz = _size(size)
            node = v.arg_sites.get("target_size")
            if isinstance(size, Const) and size.value is None:
                return Preproc(Scaling("raw", site=v.site, owner=v), None, None, v)
            return Preproc(Scaling("raw", site=v.site, owner=v), sz, v.site.at(node) if node is not None else v.site, v)
        fam = family_of_ref(api)
        if fam:
            inner = self.of(first, depth + 1)
            if inner.scaling is not None and inner.scaling.kind == "raw":
                return Preproc(Scaling("family", fam[0], v.site, self._quote(v.site), v, fam[1]), inner.size,
                               inner.size_site, inner.source)
        return Preproc(None)

    def _flow_size(self, flow: Obj) -> tuple[tuple[int, int] | None, Site | None]:
        if flow.api == "flow":
            return None, None
        size = flow.arg("target_size", Const((256, 256)))
        node = flow.arg_sites.get("target_size")
        return _size(size), (flow.site.at(node) if node is not None else flow.site)

    def generator_scaling(self, gen: Obj) -> Scaling | None:
        """The scaling an ImageDataGenerator / ImageDataAugmentor applies (preprocessing function,
        then `rescale`)."""
        key = (gen.id, "gen")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        out = self._generator_scaling(gen)
        self._cache[key] = out
        return out

    def _generator_scaling(self, gen: Obj) -> Scaling | None:
        api = gen.api or ""
        if gen.kind is not ObjKind.CALL or api not in (apis.IMAGE_DATA_GENERATOR, apis.IMAGE_DATA_AUGMENTOR):
            return None
        for flag in ("featurewise_center", "samplewise_center", "featurewise_std_normalization",
                     "samplewise_std_normalization", "zca_whitening"):
            f = gen.arg(flag, Const(False))
            if not isinstance(f, Const):
                return None
            if f.value:
                return Scaling("other", site=gen.site, text=f"{flag}=True", owner=gen)
        rescale = gen.arg("rescale", Const(None))
        if not isinstance(rescale, Const):
            return None
        pf_name = "preprocessing_function" if api == apis.IMAGE_DATA_GENERATOR else "preprocess_input"
        pf = gen.arg(pf_name, Const(None))
        fscale = self.func_effect(pf).scaling
        if fscale is None:
            return None
        unit = _num(rescale) is not None and abs(_num(rescale) - 1 / 255) < 1e-4  # type: ignore[operator]
        no_rescale = rescale.value in (None, 0, 1, 1.0, False)
        if not unit and not no_rescale:
            return Scaling("other", site=_arg_site(gen, "rescale"), text=self._quote(_arg_site(gen, "rescale")),
                           owner=gen)
        if fscale == "keep":
            if unit:
                site = _arg_site(gen, "rescale")
                return Scaling("unit", site=site, text=self._quote(site), owner=gen)
            return Scaling("raw", site=gen.site, text="", owner=gen)
        if unit:
            return Scaling("other", site=gen.site, owner=gen)  # a function, then /255 on top of it
        assert isinstance(fscale, Scaling)
        site = _arg_site(gen, pf_name)
        return Scaling(fscale.kind, fscale.family, site, self._quote(site), gen, fscale.module)

    # --- functions --------------------------------------------------------------------------
    def func_effect(self, f: Value | None) -> Effect:
        """What a preprocessing / map function does to the image (see `Effect`)."""
        if f is None or (isinstance(f, Const) and f.value is None):
            return KEEP
        if isinstance(f, Ref):
            fam = family_of_ref(f.qname)
            if fam:
                return Effect(Scaling("family", fam[0], None, f.qname.rsplit(".", 2)[-2] + ".preprocess_input", None,
                                      fam[1]))
            return UNKNOWN_EFFECT
        if isinstance(f, Obj):
            # an augmentation object used as the function: random ones keep the value range
            aug = self.facts.transform_augments(f)
            return KEEP if aug.value else UNKNOWN_EFFECT
        if not isinstance(f, Func):
            return UNKNOWN_EFFECT
        key = (id(f), "func")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        self._cache[key] = UNKNOWN_EFFECT
        out = self._func_effect(f)
        self._cache[key] = out
        return out

    def _func_effect(self, f: Func) -> Effect:
        facts = self.facts
        scaling: Scaling | str | None = "keep"
        size: tuple[int, int] | str | None = "keep"
        size_site: Site | None = None
        decodes = False
        for obj in facts.objects_in(f):
            if obj.kind is ObjKind.BINOP and obj.api in ("div", "mul", "sub", "add", "truediv"):
                right = obj.args.get("right")
                if (obj.api == "div" and _num(right) == 255) or (
                        obj.api == "mul" and _num(right) is not None and abs(_num(right) - 1 / 255) < 1e-4):  # type: ignore
                    scaling = _stack_kind(scaling, Scaling("unit", site=obj.site, text=self._quote(obj.site), owner=obj))
                else:
                    return UNKNOWN_EFFECT  # other arithmetic on the image: not modelled
        for rec in facts.calls_in(f):
            name = rec.name
            fam = family_of_ref(name)
            if name.startswith(("tensorflow.io.decode_", "tensorflow.image.decode_")):
                decodes = True
            elif fam:
                scaling = _stack_kind(scaling, Scaling("family", fam[0], rec.site, self._quote(rec.site), None, fam[1]))
            elif name in ("tensorflow.image.convert_image_dtype",):
                scaling = _stack_kind(scaling, Scaling("unit", site=rec.site, text=self._quote(rec.site)))
            elif name in ("tensorflow.image.resize", "tensorflow.image.resize_with_pad", "cv2.resize",
                          "tensorflow.image.resize_with_crop_or_pad"):
                sz = _size(rec.args.get("size", rec.args.get("#1")))
                if name == "cv2.resize" and sz is not None:
                    sz = (sz[1], sz[0])  # cv2 takes (width, height)
                if name == "tensorflow.image.resize_with_crop_or_pad":
                    h, w = rec.args.get("#1"), rec.args.get("#2")
                    sz = (h.value, w.value) if isinstance(h, Const) and isinstance(w, Const) else None
                size = sz
                size_site = rec.site
            elif name == "()" and isinstance(rec.callee, Obj):
                layer = rec.callee
                if facts.sem.is_unit_rescaling_layer(layer):
                    scaling = _stack_kind(scaling, Scaling("unit", site=layer.site, text=self._quote(layer.site),
                                                           owner=layer))
                elif (layer.api or "").startswith("keras.layers.") and (layer.api or "").endswith(
                        ("Rescaling", "Normalization")):
                    return UNKNOWN_EFFECT
                elif (layer.api or "") in ("keras.layers.Resizing",):
                    size = _size(Const((_num(layer.args.get("height", layer.args.get("#0"))),
                                        _num(layer.args.get("width", layer.args.get("#1"))))))
                    size_site = layer.site
            elif name.startswith(("numpy.", "tensorflow.")) and name.endswith(("normalize", "per_image_standardization")):
                return UNKNOWN_EFFECT
        return Effect(scaling, size, size_site, decodes)

    # --- models ---------------------------------------------------------------------------
    def model_scaling(self, model: Value | None, backbone: Obj) -> Scaling | str | None:
        """What a model does to its input before `backbone`: "keep" (nothing), a Scaling, or None
        (something we do not model)."""
        layers = self.facts.layers_before(model, backbone)
        scaling: Scaling | str | None = "keep"
        for layer in layers:
            api = layer.api or ""
            short = api.rsplit(".", 1)[-1]
            if self.facts.sem.is_unit_rescaling_layer(layer):
                scaling = _stack_kind(scaling, Scaling("unit", site=layer.site, text=self._quote(layer.site),
                                                       owner=layer))
            elif short == "Rescaling":
                scale, offset = _num(layer.arg("scale")), _num(layer.arg("offset", Const(0.0)))
                if scale is not None and abs(scale - 1 / 127.5) < 1e-4 and offset == -1:
                    scaling = _stack_kind(scaling, Scaling("family", "tf", layer.site, self._quote(layer.site), layer))
                else:
                    return None
            elif short == "Lambda":
                fn = layer.arg("function", layer.args.get("#0"))
                fam = family_of_ref(fn.qname) if isinstance(fn, Ref) else None
                if not fam:
                    return None
                scaling = _stack_kind(scaling, Scaling("family", fam[0], layer.site, self._quote(layer.site), layer,
                                                       fam[1]))
            elif short in ("Normalization",):
                return None
            elif api.startswith("keras.layers.") or api in ("keras.Sequential",):
                continue  # augmentation, resizing: values keep their range
            else:
                return None
        # `preprocess_input(inputs)` called on the graph tensor before the backbone
        for use in backbone.uses:
            if use.param == "self" and use.call.name == "()":
                x = use.call.args.get("#0")
                for _ in range(apis.MAX_CHAIN):
                    if not isinstance(x, Obj):
                        break
                    if x.kind is ObjKind.CALL:
                        fam = family_of_ref(x.api or "")
                        if fam:
                            scaling = _stack_kind(scaling, Scaling("family", fam[0], x.site, self._quote(x.site), x,
                                                                   fam[1]))
                        elif x.api != "keras.Input":
                            return None
                        x = x.args.get("#0")
                    elif x.kind is ObjKind.BINOP:
                        return None
                    elif x.kind is ObjKind.APPLY:
                        x = x.args.get("#0")
                    else:
                        break
        return scaling


def effective(data: Scaling | None, model: Scaling | str | None) -> Scaling | None:
    """The scaling the backbone sees: the data's, then the model's own layers before it."""
    if data is None or model is None:
        return None
    return _stack(data, model)


def _stack(before: Scaling, step: Scaling | str) -> Scaling:
    """`before`, then `step` ("keep": nothing). A scaling applied to scaled pixels is "other"."""
    if step == "keep":
        return before
    assert isinstance(step, Scaling)
    if before.kind == "raw":
        return step
    return Scaling("other", site=before.site, owner=before.owner)


def _stack_kind(current: Scaling | str | None, step: Scaling) -> Scaling | str | None:
    if current is None:
        return None
    if current == "keep":
        return step
    return Scaling("other", site=step.site, owner=step.owner)


_num = number


def _size(v: Value | None) -> tuple[int, int] | None:
    if isinstance(v, Seq) and v.complete and len(v.items) == 2:
        v = Const(tuple(i.value if isinstance(i, Const) else None for i in v.items))
    if isinstance(v, Const) and isinstance(v.value, (tuple, list)) and len(v.value) == 2 and all(
            isinstance(d, (int, float)) and not isinstance(d, bool) for d in v.value):
        return int(v.value[0]), int(v.value[1])
    return None


def _arg_site(o: Obj, name: str) -> Site:
    node = o.arg_sites.get(name)
    return o.site.at(node) if node is not None else o.site


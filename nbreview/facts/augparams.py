"""Augmentation parameters by value: which random transformations a data pipeline applies and
how strong they are, and the image size they work on.

`ops(data)` lists `AugOp`s for a generator flow (ImageDataGenerator arguments, an
ImageDataAugmentor's albumentations pipeline, a `preprocessing_function`), a `tf.data` map
(`tf.image.random_*`, `tfa.image.random_cutout`, Keras preprocessing layers, an albumentations
pipeline called through `tf.numpy_function`), or a PyTorch dataset's transform (torchvision,
albumentations, imgaug). `transform_ops(t)` does the same for one transform object.

Each op has a `kind` and a `magnitude` in one unit per kind: "rotate" in degrees, "shift" and
"zoom" as a fraction of the image, "shear" in degrees, "cutout" as the side of one hole (pixels
when `fraction` is False, else a fraction of the image side), "center_crop" / "random_crop" /
"resize" with their `size`. Values the student did not write take the library's default when
it is unambiguous; otherwise the magnitude is None. `complete` says whether every part of the
pipeline was understood (a rule that needs "no strong augmentation" asks for it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import apis
from .values import Const, Func, Obj, ObjKind, Seq, Site, Value, number

if TYPE_CHECKING:
    from . import Facts


@dataclass(frozen=True)
class AugOp:
    kind: str  # rotate | shift | zoom | shear | flip | cutout | center_crop | random_crop | resize | color | other
    magnitude: float | None
    site: Site
    text: str
    obj: Obj | None = None  # the transform / generator carrying it
    size: tuple[int, int] | None = None  # crops and resizes: (height, width); cutout: the hole (h, w)
    fraction: bool = False  # cutout: the hole is given as a fraction of the image
    order: int = 0  # position in the pipeline (earlier ops first)
    certain: bool = True  # applied to every image: not under a random choice (OneOf, RandomApply, ...), no p < 1


@dataclass
class AugOps:
    ops: list[AugOp] = field(default_factory=list)
    complete: bool = True
    input_size: tuple[int, int] | None = None  # the image size entering the pipeline (target_size, resize)

    def of(self, *kinds: str) -> list[AugOp]:
        return [o for o in self.ops if o.kind in kinds]

    def size_at(self, op: AugOp) -> tuple[int, int] | None:
        """The image size when `op` runs: the last resize or crop before it that surely applies,
        else the input size. None when the images can have several sizes there (a crop inside a
        OneOf, with p < 1) or a size we cannot read (see `sizes_at`)."""
        sizes = self.sizes_at(op)
        return next(iter(sizes)) if sizes is not None and len(sizes) == 1 else None

    def sizes_at(self, op: AugOp) -> set[tuple[int, int]] | None:
        """Every size the images can have when `op` runs: a crop or resize that surely applies
        sets it, one that may run adds its size to the previous ones. None when one of them has a
        size we do not compute (`SmallestMaxSize`, a crop by a fraction) or nothing is known."""
        sizes = {self.input_size} if self.input_size is not None else set()
        for o in self.ops:
            if o.order >= op.order:
                break
            if o.kind in ("resize", "center_crop", "random_crop"):
                if not o.size:
                    return None
                sizes = {o.size} if o.certain else sizes | {o.size}
        if not sizes:  # a resize after it in the same pipeline: the images have about that size
            later = [o for o in self.ops if o.order > op.order and o.kind == "resize" and o.size]
            if later and later[0].certain:
                sizes = {later[0].size}
        return sizes or None


_num = number


def _pair(v: Value | None) -> tuple[float, float] | None:
    if isinstance(v, Seq) and v.complete and len(v.items) == 2:
        a, b = _num(v.items[0]), _num(v.items[1])
        return (a, b) if a is not None and b is not None else None
    if isinstance(v, Const) and isinstance(v.value, (tuple, list)) and len(v.value) == 2:
        a, b = v.value
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
            return float(a), float(b)
    return None


def _limit(v: Value | None) -> float | None:
    """A symmetric limit given as `x` or `(lo, hi)`: the largest absolute value."""
    n = _num(v)
    if n is not None:
        return abs(n)
    p = _pair(v)
    return max(abs(p[0]), abs(p[1])) if p else None


def _size(h: Value | None, w: Value | None) -> tuple[int, int] | None:
    a, b = _num(h), _num(w)
    return (int(a), int(b)) if a is not None and b is not None else None


class AugParams:
    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        self._counter = 0
        self._chance = 0  # > 0 while walking the children of a random choice (OneOf, RandomApply, ...)

    def _op(self, kind: str, magnitude: float | None, obj: Obj | None, site: Site, **kw) -> AugOp:
        self._counter += 1
        p = _num(obj.args.get("p")) if obj is not None and (obj.api or "").startswith("albumentations.") else None
        certain = self._chance == 0 and (p is None or p >= 1)
        return AugOp(kind, magnitude, site, self.facts.quote(site, 80), obj, order=self._counter, certain=certain, **kw)

    def _children(self, t: Value | None, out: "AugOps", depth: int, chance: bool) -> None:
        """Walk a container's transforms; `chance`: each child may or may not run."""
        self._chance += chance
        try:
            self._transform(t, out, depth)
        finally:
            self._chance -= chance

    # --- pipelines -------------------------------------------------------------------------
    def ops(self, data: Value | None, depth: int = 0) -> AugOps:
        out = AugOps()
        self._collect(data, out, depth)
        return out

    def _collect(self, v: Value | None, out: AugOps, depth: int) -> None:
        if depth > 30 or not isinstance(v, Obj):
            out.complete = False
            return
        if v.kind is ObjKind.METHOD and v.api in apis.FLOW_METHODS:
            if v.api != "flow":
                size = _pair(v.arg("target_size", Const((256, 256))))
                out.input_size = (int(size[0]), int(size[1])) if size else None
            self._generator(v.origin, out)
            return
        if v.kind is ObjKind.METHOD and v.api in apis.DATASET_PASSTHROUGH:
            self._collect(v.origin, out, depth + 1)
            return
        if v.kind is ObjKind.METHOD and v.api == "map":
            self._collect(v.origin, out, depth + 1)
            self._function(v.arg("map_func"), out)
            return
        api = v.api or ""
        if v.kind is ObjKind.CALL:
            if api == "keras.utils.image_dataset_from_directory":
                size = v.arg("image_size", Const((256, 256)))
                if isinstance(size, Const) and isinstance(size.value, tuple) and len(size.value) == 2:
                    out.input_size = (int(size.value[0]), int(size.value[1]))
                return
            if api.startswith("tensorflow.data."):
                return
            if api.startswith("torchvision.datasets."):
                self._transform(v.arg("transform", Const(None)), out, 0)
                return
            if api in ("torch.utils.data.DataLoader", "torch.utils.data.Subset"):
                self._collect(v.arg("dataset"), out, depth + 1)
                return
            if api.startswith("notebook.") and v.callee is not None:
                for k, t in v.args.items():
                    if k.lower() in ("transform", "transforms", "aug", "augment", "augmentation", "augmentations", "tfms"):
                        self._transform(t, out, 0)
                        return
        out.complete = False

    def _generator(self, gen: Value | None, out: AugOps) -> None:
        if not isinstance(gen, Obj) or gen.kind is not ObjKind.CALL:
            out.complete = False
            return
        if not gen.complete:
            out.complete = False
        if gen.api == apis.IMAGE_DATA_GENERATOR:
            self._idg(gen, out)
            self._function(gen.arg("preprocessing_function", Const(None)), out)
        elif gen.api == apis.IMAGE_DATA_AUGMENTOR:
            self._transform(gen.arg("augment", Const(None)), out, 0)
            self._function(gen.arg("preprocess_input", Const(None)), out)
        else:
            out.complete = False

    def _idg(self, gen: Obj, out: AugOps) -> None:
        def site(name: str) -> Site:
            node = gen.arg_sites.get(name)
            return gen.site.at(node) if node is not None else gen.site

        rot = _num(gen.args.get("rotation_range"))
        if rot:
            out.ops.append(self._op("rotate", abs(rot), gen, site("rotation_range")))
        for name in ("width_shift_range", "height_shift_range"):
            v = gen.args.get(name)
            n = _limit(v)
            if n:
                # a float < 1 is a fraction of the image; an int >= 1 is pixels
                frac = n < 1
                out.ops.append(self._op("shift", n if frac else None, gen, site(name)))
        zoom = gen.args.get("zoom_range")
        if zoom is not None:
            n = _num(zoom)
            p = _pair(zoom)
            mag = abs(n) if n is not None else (max(abs(1 - p[0]), abs(p[1] - 1)) if p else None)
            if mag:
                out.ops.append(self._op("zoom", mag, gen, site("zoom_range")))
        shear = _num(gen.args.get("shear_range"))
        if shear:
            out.ops.append(self._op("shear", abs(shear), gen, site("shear_range")))
        for name in ("horizontal_flip", "vertical_flip"):
            v = gen.args.get(name)
            if isinstance(v, Const) and v.value:
                out.ops.append(self._op("flip", None, gen, site(name)))
        for name in ("brightness_range", "channel_shift_range"):
            if gen.args.get(name) is not None:
                out.ops.append(self._op("color", None, gen, site(name)))

    def _function(self, f: Value | None, out: AugOps) -> None:
        """Random ops inside a preprocessing / map function (its helpers included)."""
        if f is None or (isinstance(f, Const) and f.value is None):
            return
        if isinstance(f, Obj):
            self._transform(f, out, 0)
            return
        if not isinstance(f, Func):
            if not (hasattr(f, "qname") and str(getattr(f, "qname", "")).endswith("preprocess_input")):
                out.complete = False
            return
        for rec in self.facts.calls_in(f):
            name = rec.name
            if name == "()" and isinstance(rec.callee, Obj):
                training = rec.args.get("training")
                if isinstance(training, Const) and training.value is False:
                    continue
                self._transform(rec.callee, out, 0)
            elif name.startswith(("tensorflow.image.random_", "tensorflow.image.stateless_random_")):
                op = name.rsplit(".", 1)[-1].replace("stateless_", "")
                if "flip" in op:
                    out.ops.append(self._op("flip", None, None, rec.site))
                elif op == "random_crop":
                    size = rec.args.get("size", rec.args.get("#1"))
                    sz = tuple(size.value[:2]) if isinstance(size, Const) and isinstance(size.value, tuple) else None
                    out.ops.append(self._op("random_crop", None, None, rec.site, size=sz))  # type: ignore[arg-type]
                else:
                    out.ops.append(self._op("color", None, None, rec.site))
            elif name == "tensorflow.image.central_crop":
                out.ops.append(self._op("center_crop", _num(rec.args.get("central_fraction", rec.args.get("#1"))),
                                        None, rec.site))
            elif name in ("tensorflow.image.resize", "tensorflow.image.resize_with_pad"):
                size = rec.args.get("size", rec.args.get("#1"))
                sz = _pair(size)
                out.ops.append(self._op("resize", None, None, rec.site,
                                        size=(int(sz[0]), int(sz[1])) if sz else None))
            elif name == "tensorflow_addons.image.random_cutout":
                mask = rec.args.get("mask_size", rec.args.get("#1"))
                p = _pair(mask)
                n = _num(mask)
                hole = (int(p[0]), int(p[1])) if p else ((int(n), int(n)) if n else None)
                out.ops.append(self._op("cutout", float(max(hole)) if hole else None, None, rec.site, size=hole))
            elif name.startswith(("tensorflow.random.", "numpy.random.", "random.")):
                out.ops.append(self._op("other", None, None, rec.site))

    # --- transform objects --------------------------------------------------------------
    def transform_ops(self, t: Value | None) -> AugOps:
        out = AugOps()
        self._transform(t, out, 0)
        return out

    def _transform(self, t: Value | None, out: AugOps, depth: int) -> None:
        if t is None or (isinstance(t, Const) and t.value is None):
            return
        if depth > 12:
            out.complete = False
            return
        if isinstance(t, Seq):
            if not t.complete:
                out.complete = False
            for item in t.items:
                self._transform(item, out, depth + 1)
            return
        if isinstance(t, Func):
            self._function(t, out)
            return
        if not isinstance(t, Obj) or t.kind is not ObjKind.CALL:
            out.complete = False
            return
        api = t.api or ""
        short = api.rsplit(".", 1)[-1]
        if api.startswith("albumentations."):
            self._albu(t, short, out, depth)
        elif api.startswith("torchvision.transforms."):
            self._torchvision(t, short, out, depth)
        elif api == "keras.Sequential":
            self._transform(t.arg("layers"), out, depth + 1)
        elif api.startswith("keras.layers."):
            self._keras_layer(t, short, out)
        elif api.startswith(("imgaug.", "keras_cv.")):
            self._other_lib(t, short, out, depth)
        else:
            out.complete = False

    def _albu(self, t: Obj, short: str, out: AugOps, depth: int) -> None:
        if _num(t.args.get("p")) == 0:
            return
        if short in apis.ALBU_CONTAINERS:
            p = _num(t.args.get("p"))
            chance = short in ("OneOf", "SomeOf", "OneOrOther") or (p is not None and p < 1)
            self._children(t.args.get("transforms", t.args.get("#0")), out, depth + 1, chance)
            return
        a = t.args
        if short in ("Rotate", "SafeRotate"):
            lim = a.get("limit", a.get("#0"))
            out.ops.append(self._op("rotate", _limit(lim) if lim is not None else 90.0, t, t.site))
        elif short == "ShiftScaleRotate":
            rot, shift, scale = a.get("rotate_limit", a.get("#2")), a.get("shift_limit", a.get("#0")), \
                a.get("scale_limit", a.get("#1"))
            out.ops.append(self._op("rotate", _limit(rot) if rot is not None else 45.0, t, t.site))
            out.ops.append(self._op("shift", _limit(shift) if shift is not None else 0.0625, t, t.site))
            out.ops.append(self._op("zoom", _limit(scale) if scale is not None else 0.1, t, t.site))
        elif short == "Affine":
            rot = a.get("rotate")
            if rot is not None:
                out.ops.append(self._op("rotate", _limit(rot), t, t.site))
            if a.get("scale") is not None or a.get("translate_percent") is not None:
                out.ops.append(self._op("zoom", None, t, t.site))
        elif short == "RandomRotate90":
            out.ops.append(self._op("rotate", 90.0, t, t.site))
        elif short in ("HorizontalFlip", "VerticalFlip", "Flip", "Transpose"):
            out.ops.append(self._op("flip", None, t, t.site))
        elif short == "CoarseDropout":
            self._coarse_dropout(t, out)
        elif short == "Cutout":
            h, w = a.get("max_h_size", a.get("#1")), a.get("max_w_size", a.get("#2"))
            size = _size(h if h is not None else Const(8), w if w is not None else Const(8))
            out.ops.append(self._op("cutout", float(max(size)) if size else None, t, t.site, size=size))
        elif short == "CenterCrop":
            out.ops.append(self._op("center_crop", None, t, t.site,
                                    size=_size(a.get("height", a.get("#0")), a.get("width", a.get("#1")))))
        elif short in ("RandomCrop", "RandomResizedCrop", "RandomSizedCrop", "CropAndPad", "RandomCropFromBorders"):
            sz = _size(a.get("height", a.get("#0")), a.get("width", a.get("#1"))) if short in (
                "RandomCrop", "RandomResizedCrop") else None
            out.ops.append(self._op("random_crop", None, t, t.site, size=sz))
        elif short in ("Resize", "LongestMaxSize", "SmallestMaxSize"):
            sz = _size(a.get("height", a.get("#0")), a.get("width", a.get("#1"))) if short == "Resize" else None
            out.ops.append(self._op("resize", None, t, t.site, size=sz))
        elif short in apis.ALBU_DETERMINISTIC:
            return
        else:
            out.ops.append(self._op("color" if any(k in short for k in ("Bright", "Contrast", "Hue", "Gamma", "Color",
                                                                       "RGB", "Saturation", "CLAHE"))
                                    else "other", None, t, t.site))

    def _coarse_dropout(self, t: Obj, out: AugOps) -> None:
        a = t.args
        h = a.get("max_height", a.get("#1"))
        w = a.get("max_width", a.get("#2"))
        if h is None and w is None:
            hr, wr = _pair(a.get("hole_height_range")), _pair(a.get("hole_width_range"))
            if hr and wr:
                h, w = Const(hr[1]), Const(wr[1])
        if h is None and w is None:  # the defaults changed between versions (8 px, then 10-20 %)
            out.ops.append(self._op("cutout", None, t, t.site))
            return
        if w is None:
            w = h  # max_width defaults to max_height
        hn, wn = _num(h), _num(w)
        if hn is None or wn is None:
            out.ops.append(self._op("cutout", None, t, t.site))
            return
        frac = hn < 1 and wn < 1 and (isinstance(h, Const) and isinstance(h.value, float))
        out.ops.append(self._op("cutout", max(hn, wn), t, t.site, fraction=frac,
                                size=None if frac else (int(hn), int(wn))))

    def _torchvision(self, t: Obj, short: str, out: AugOps, depth: int) -> None:
        a = t.args
        if short in ("Compose", "RandomApply", "RandomChoice", "RandomOrder"):
            if short == "RandomApply" and _num(a.get("p", a.get("#1"))) == 0:
                return
            self._children(a.get("transforms", a.get("#0")), out, depth + 1, short != "Compose")
            return
        if short == "RandomRotation":
            out.ops.append(self._op("rotate", _limit(a.get("degrees", a.get("#0"))), t, t.site))
        elif short == "RandomAffine":
            out.ops.append(self._op("rotate", _limit(a.get("degrees", a.get("#0"))), t, t.site))
        elif short in ("RandomHorizontalFlip", "RandomVerticalFlip"):
            out.ops.append(self._op("flip", None, t, t.site))
        elif short == "RandomErasing":
            scale = _pair(a.get("scale", Const((0.02, 0.33))))
            side = scale[1] ** 0.5 if scale else None  # area fraction -> side fraction
            out.ops.append(self._op("cutout", side, t, t.site, fraction=True))
        elif short == "CenterCrop":
            size = a.get("size", a.get("#0"))
            n, p = _num(size), _pair(size)
            out.ops.append(self._op("center_crop", None, t, t.site,
                                    size=(int(n), int(n)) if n else ((int(p[0]), int(p[1])) if p else None)))
        elif short in ("RandomResizedCrop", "RandomCrop"):
            size = a.get("size", a.get("#0"))
            n, p = _num(size), _pair(size)
            out.ops.append(self._op("random_crop", None, t, t.site,
                                    size=(int(n), int(n)) if n else ((int(p[0]), int(p[1])) if p else None)))
        elif short == "Resize":
            size = a.get("size", a.get("#0"))
            n, p = _num(size), _pair(size)
            out.ops.append(self._op("resize", None, t, t.site,
                                    size=(int(n), int(n)) if n else ((int(p[0]), int(p[1])) if p else None)))
        elif short in apis.TORCHVISION_DETERMINISTIC:
            return
        elif short in ("ColorJitter", "RandomGrayscale", "RandomAdjustSharpness", "RandomAutocontrast",
                       "RandomEqualize", "GaussianBlur", "RandomPosterize", "RandomSolarize", "RandomInvert"):
            out.ops.append(self._op("color", None, t, t.site))
        else:
            out.ops.append(self._op("other", None, t, t.site))

    def _keras_layer(self, t: Obj, short: str, out: AugOps) -> None:
        a = t.args
        if short == "RandomRotation":
            f = _limit(a.get("factor", a.get("#0")))
            out.ops.append(self._op("rotate", f * 360 if f is not None else None, t, t.site))
        elif short == "RandomZoom":
            out.ops.append(self._op("zoom", _limit(a.get("height_factor", a.get("#0"))), t, t.site))
        elif short == "RandomTranslation":
            out.ops.append(self._op("shift", _limit(a.get("height_factor", a.get("#0"))), t, t.site))
        elif short == "RandomFlip":
            out.ops.append(self._op("flip", None, t, t.site))
        elif short == "RandomCrop":
            out.ops.append(self._op("random_crop", None, t, t.site,
                                    size=_size(a.get("height", a.get("#0")), a.get("width", a.get("#1")))))
        elif short == "CenterCrop":
            out.ops.append(self._op("center_crop", None, t, t.site,
                                    size=_size(a.get("height", a.get("#0")), a.get("width", a.get("#1")))))
        elif short == "Resizing":
            out.ops.append(self._op("resize", None, t, t.site,
                                    size=_size(a.get("height", a.get("#0")), a.get("width", a.get("#1")))))
        elif short == "RandomErasing":
            scale = _pair(a.get("scale", Const((0.02, 0.33))))
            out.ops.append(self._op("cutout", scale[1] ** 0.5 if scale else None, t, t.site, fraction=True))
        elif short in apis.KERAS_RANDOM_LAYERS:
            out.ops.append(self._op("color" if any(k in short for k in ("Contrast", "Brightness", "Hue", "Saturation",
                                                                       "Color", "Grayscale")) else "other",
                                    None, t, t.site))

    def _other_lib(self, t: Obj, short: str, out: AugOps, depth: int) -> None:
        a = t.args
        if short in ("Sequential", "SomeOf", "OneOf", "Sometimes"):
            self._children(a.get("children", a.get("#0") if short != "Sometimes" else a.get("#1")), out, depth + 1,
                           short != "Sequential")
        elif short == "Affine":
            rot = a.get("rotate")
            if rot is not None:
                out.ops.append(self._op("rotate", _limit(rot), t, t.site))
        elif short in ("Fliplr", "Flipud"):
            out.ops.append(self._op("flip", None, t, t.site))
        elif short == "Cutout":
            size = _limit(a.get("size", Const(0.2)))
            out.ops.append(self._op("cutout", size, t, t.site, fraction=True))
        elif short == "RandomCutout":  # keras_cv
            out.ops.append(self._op("cutout", _limit(a.get("height_factor", a.get("#0"))), t, t.site, fraction=True))
        else:
            out.ops.append(self._op("other", None, t, t.site))

"""Semantics over the interpreter's objects: does a data pipeline augment, does it rescale
to [0, 1], which layers make up a model. Every answer is three-valued: True with evidence,
False when the analysis is sure it does not, None when it cannot tell.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apis
from .models import model_parts
from .torchdata import is_torch_data
from .values import Class, Const, Dict, Func, Obj, ObjKind, Ref, Seq, Site, Value

# calls and methods whose result is a materialised array: fixed data, not a pipeline
ARRAY_CONSTRUCTORS = frozenset({"numpy.array", "numpy.asarray", "numpy.stack", "numpy.vstack", "numpy.concatenate",
                                "tensorflow.convert_to_tensor", "tensorflow.stack", "torch.tensor",
                                "torch.stack", "torch.cat", "torch.from_numpy"})
FRESH_ARRAYS = frozenset({"numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full", "numpy.load"})
ARRAY_METHODS = frozenset({"astype", "reshape", "transpose", "copy", "numpy"})
TRANSFORM_PARAMS = frozenset({"transform", "transforms", "tfms", "tfm", "aug", "augment", "augmentation",
                              "augmentations", "preprocess", "preprocessing", "albu", "pipeline"})

if TYPE_CHECKING:
    from . import Facts
    from .naming import Sources


@dataclass(frozen=True)
class Evidence:
    site: Site  # where the behaviour is written
    text: str  # how the student wrote it, e.g. "rotation_range=20"
    owner: Obj | None = None  # the object that carries it (the datagen, the map call, the layer)


@dataclass
class Answer:
    value: bool | None
    evidence: tuple[Evidence, ...] = ()

    @staticmethod
    def combine(*answers: "Answer") -> "Answer":
        ev = tuple(e for a in answers for e in a.evidence if a.value)
        if any(a.value for a in answers):
            return Answer(True, ev)
        if any(a.value is None for a in answers):
            return Answer(None)
        return Answer(False)


NO = Answer(False)
UNSURE = Answer(None)


def arg_evidence(obj: Obj, name: str, sources: "Sources") -> Evidence:
    """Evidence pointing at the argument `name` of the call that made `obj` (`rotation_range=20`)."""
    node = obj.arg_sites.get(name) or obj.site.node
    site = obj.site.at(node)
    text = sources.quote(obj.site.cell, node)
    if text and isinstance(node, ast.expr) and not isinstance(node, ast.keyword) and not text.startswith(name):
        text = f"{name}={text}"
    return Evidence(site, text, obj)


def _num(v: Value | None) -> float | None:
    if isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        return float(v.value)
    return None


def is_unit_scale(v: Value | None) -> bool:
    n = _num(v)
    return n is not None and abs(n - 1 / 255) < 1e-4


def is_255(v: Value | None) -> bool:
    n = _num(v)
    return n is not None and abs(n - 255) < 1e-6


# --- augmentation ------------------------------------------------------------------

def _idg_arg_augments(name: str, v: Value) -> bool | None:
    if isinstance(v, Const):
        x = v.value
        if x is None or x is False:
            return False
        if isinstance(x, bool):
            return x
        if isinstance(x, (int, float)):
            return x != 0
        if isinstance(x, (tuple, list)) and len(x) == 2 and all(isinstance(i, (int, float)) for i in x):
            if name in ("zoom_range", "brightness_range"):
                return not (x[0] == 1 and x[1] == 1)
            return any(i != 0 for i in x)
        return None
    if isinstance(v, Seq) and v.complete and all(isinstance(i, Const) for i in v.items):
        return _idg_arg_augments(name, Const(tuple(i.value for i in v.items)))  # type: ignore[union-attr]
    return None


class Semantics:
    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        self._func_cache: dict[tuple[int, str], Answer] = {}
        self.sources = facts.sources

    # data pipelines -------------------------------------------------------------------
    def augments(self, v: Value | None, depth: int = 0) -> Answer:
        if depth > 25 or v is None:
            return UNSURE
        if isinstance(v, Seq):  # validation_data=(x, y) or a list of arrays
            return Answer.combine(*[self.augments(i, depth + 1) for i in v.items]) if v.items else UNSURE
        if not isinstance(v, Obj):
            return UNSURE
        if is_torch_data(v):
            return self.torch_data_augments(v)
        if v.kind is ObjKind.CALL:
            api = v.api or ""
            if api == apis.IMAGE_DATA_GENERATOR:
                return self._idg_augments(v)
            if api == apis.IMAGE_DATA_AUGMENTOR:
                aug = v.arg("augment", Const(None))
                parts = [self.transform_augments(aug) if not (isinstance(aug, Const) and aug.value is None) else NO]
                pre = v.arg("preprocess_input", Const(None))
                parts.append(self.func_augments(pre))
                ans = Answer.combine(*parts)
                if ans.value:
                    return Answer(True, (arg_evidence(v, "augment", self.sources),) if parts[0].value else ans.evidence)
                return ans
            if api.startswith(("tensorflow.data.", "keras.utils.image_dataset_from_directory",
                               "keras.preprocessing.image_dataset_from_directory")):
                return NO
            if api in FRESH_ARRAYS:
                return NO
            if api in ARRAY_CONSTRUCTORS:
                parts = [self._operand(a, depth) for k, a in v.args.items() if k.startswith("#")]
                return Answer.combine(*parts) if parts and v.complete else UNSURE
            return UNSURE
        if v.kind is ObjKind.METHOD:
            if v.api in apis.FLOW_METHODS:
                return self.augments(v.origin, depth + 1)
            if v.api in apis.DATASET_PASSTHROUGH:
                return self.augments(v.origin, depth + 1)
            if v.api == "map":
                f = v.arg("map_func")
                fa = self.func_augments(f)
                if fa.value:
                    fa = Answer(True, (self._ev(v.site, v, 120),) + fa.evidence)
                return Answer.combine(self.augments(v.origin, depth + 1), fa)
            return UNSURE
        # A materialised array or tensor holds the same values on every pass; it varies only if
        # it is computed from something random (np.random..., an augmentation applied to it).
        if v.kind is ObjKind.BINOP:
            return Answer.combine(*(self._operand(v.args.get(k), depth) for k in ("left", "right")))
        if v.kind is ObjKind.METHOD and v.api in ARRAY_METHODS:
            return self._operand(v.origin, depth)
        if v.kind is ObjKind.COMPREHENSION:
            return self._operand(v.origin, depth)
        if v.kind is ObjKind.APPLY and isinstance(v.callee, Obj):
            t = self.transform_augments(v.callee)
            return t if t.value is not False else self._operand(v.origin, depth)
        return UNSURE

    def torch_data_augments(self, v: Obj, at: int | None = None) -> Answer:
        """A PyTorch loader/subset/dataset: does a transform it applies (in force at `at`) augment?"""
        ts = self.facts.torchdata.transforms_of(v, at)
        parts = [self.transform_augments(t) for t in ts.values]
        if ts.randoms:
            parts.append(Answer(True, tuple(self._ev(s) for s in ts.randoms)))
        if not ts.complete:
            parts.append(UNSURE)
        return Answer.combine(*parts) if parts else NO

    def _operand(self, v: Value | None, depth: int) -> Answer:
        if isinstance(v, Const):
            return NO
        if isinstance(v, Seq):
            return Answer.combine(*(self._operand(i, depth + 1) for i in v.items)) if v.complete else UNSURE
        if isinstance(v, Obj) and v.kind is ObjKind.CALL and apis.is_random_call(v.api or ""):
            return Answer(True, (self._ev(v.site, v),))
        return self.augments(v, depth + 1)

    def _ev(self, site: Site, owner: Obj | None = None, max_len: int = 80) -> Evidence:
        """Evidence at a site, quoting the student's own code there."""
        return Evidence(site, self.sources.quote(site.cell, site.node)[:max_len], owner)

    def _idg_augments(self, obj: Obj) -> Answer:
        ev: list[Evidence] = []
        unsure = not obj.complete
        for name in apis.IDG_AUGMENTING:
            v = obj.args.get(name)
            if v is None:
                continue
            t = _idg_arg_augments(name, v)
            if t:
                ev.append(arg_evidence(obj, name, self.sources))
            elif t is None:
                unsure = True
        pf = obj.args.get("preprocessing_function")
        if pf is not None:
            fa = self.func_augments(pf)
            if fa.value:
                ev.append(arg_evidence(obj, "preprocessing_function", self.sources))
            elif fa.value is None:
                unsure = True
        if ev:
            return Answer(True, tuple(ev))
        return UNSURE if unsure else NO

    def transform_augments(self, v: Value | None, depth: int = 0) -> Answer:
        """An augmentation object: albumentations, torchvision transforms, imgaug, Keras layers."""
        if depth > 10 or v is None:
            return UNSURE
        if isinstance(v, Const) and v.value is None:
            return NO
        if isinstance(v, Seq):
            return Answer.combine(*[self.transform_augments(i, depth + 1) for i in v.items]) if v.complete \
                else UNSURE
        if isinstance(v, Func):
            return self.func_augments(v)
        if not isinstance(v, Obj) or v.kind is not ObjKind.CALL:
            return UNSURE
        api = v.api or ""
        short = api.rsplit(".", 1)[-1]
        if api.startswith("albumentations."):
            if _num(v.args.get("p")) == 0:
                return NO
            if short in apis.ALBU_CONTAINERS:
                children = v.args.get("transforms", v.args.get("#0"))
                return self.transform_augments(children, depth + 1)
            if short in apis.ALBU_DETERMINISTIC:
                return NO
            return Answer(True, (self._ev(v.site, v),))
        if api.startswith("torchvision.transforms."):
            if short in ("Compose", "RandomApply", "RandomChoice", "RandomOrder"):
                children = v.args.get("transforms", v.args.get("#0"))
                if short == "RandomApply" and _num(v.args.get("p", v.args.get("#1"))) == 0:
                    return NO
                return self.transform_augments(children, depth + 1)
            if short in apis.TORCHVISION_DETERMINISTIC:
                return NO
            if short.startswith("Random") or short in ("ColorJitter", "GaussianBlur", "AutoAugment",
                                                        "RandAugment", "TrivialAugmentWide", "AugMix",
                                                        "ElasticTransform"):
                return Answer(True, (self._ev(v.site, v),))
            return UNSURE
        if api.startswith("timm.data.") and short in ("create_transform", "transforms_imagenet_train",
                                                      "transforms_imagenet_eval"):
            # timm: random crops/flips/auto-augment only with is_training=True (and not no_aug)
            training = v.args.get("is_training", v.args.get("#1", Const(short.endswith("_train"))))
            no_aug = v.args.get("no_aug", Const(False))
            if not (isinstance(training, Const) and isinstance(no_aug, Const)):
                return UNSURE
            if training.value and not no_aug.value:
                return Answer(True, (self._ev(v.site, v),))
            return NO
        if api.startswith("imgaug."):
            if short in ("Sequential", "SomeOf", "OneOf", "Sometimes"):
                children = v.args.get("children", v.args.get("#0"))
                return self.transform_augments(children, depth + 1) if children is not None else NO
            return Answer(True, (self._ev(v.site, v),))
        if api in ("keras.Sequential",):
            return self.transform_augments(v.arg("layers"), depth + 1)
        if api.startswith("keras.layers."):
            if short in apis.KERAS_RANDOM_LAYERS:
                return Answer(True, (self._ev(v.site, v),))
            return NO
        return UNSURE

    def func_augments(self, f: Value | None) -> Answer:
        """A function (preprocessing_function, a dataset map) that draws random numbers."""
        if f is None or (isinstance(f, Const) and f.value is None):
            return NO
        if isinstance(f, Ref):
            # library functions: preprocess_input & co. are deterministic; unknown ones: unsure
            if f.qname.endswith(("preprocess_input", "Rescaling")) or f.qname.startswith("keras.applications."):
                return NO
            return UNSURE
        if isinstance(f, Obj):
            # an augmentation object used as a function (albumentations Compose, Keras layers)
            return self.transform_augments(f)
        if not isinstance(f, Func):
            return UNSURE
        key = (id(f), "aug")
        if key in self._func_cache:
            return self._func_cache[key]
        self._func_cache[key] = UNSURE  # recursion guard
        ev: list[Evidence] = []
        for rec in self.facts.calls_in(f):
            if apis.is_random_call(rec.name, rec.args):
                ev.append(self._ev(rec.site))
            elif rec.name == "()" and isinstance(rec.callee, Obj):
                training = rec.args.get("training")
                if isinstance(training, Const) and training.value is False:
                    continue
                ta = self.transform_augments(rec.callee)
                if ta.value:
                    ev.append(self._ev(rec.site, rec.callee))
        ans = Answer(True, tuple(ev)) if ev else NO
        self._func_cache[key] = ans
        return ans

    # scaling to [0, 1] --------------------------------------------------------------
    def unit_scaling(self, v: Value | None, depth: int = 0) -> Answer:
        """Does this data reach the model divided by 255 (values in [0, 1])?"""
        if depth > 25 or v is None:
            return UNSURE
        if isinstance(v, Seq):
            return Answer.combine(*[self.unit_scaling(i, depth + 1) for i in v.items[:1]]) if v.items else UNSURE
        if not isinstance(v, Obj):
            return UNSURE
        if v.kind is ObjKind.CALL:
            api = v.api or ""
            if api in (apis.IMAGE_DATA_GENERATOR, apis.IMAGE_DATA_AUGMENTOR):
                rescale = v.arg("rescale", Const(None))
                if is_unit_scale(rescale):
                    return Answer(True, (arg_evidence(v, "rescale", self.sources),))
                pf_name = "preprocessing_function" if api == apis.IMAGE_DATA_GENERATOR else "preprocess_input"
                pf = v.arg(pf_name, Const(None))
                fs = self.func_scaling(pf)
                if fs.value:
                    return Answer(True, (arg_evidence(v, pf_name, self.sources),) + fs.evidence)
                if fs.value is None or not (isinstance(rescale, Const)):
                    return UNSURE
                return NO
            if api.startswith(("tensorflow.data.", "keras.utils.image_dataset_from_directory")):
                return NO
            return UNSURE
        if v.kind is ObjKind.METHOD:
            if v.api in apis.FLOW_METHODS or v.api in apis.DATASET_PASSTHROUGH or v.api in ("astype", "reshape"):
                return self.unit_scaling(v.origin, depth + 1)
            if v.api == "map":
                fs = self.func_scaling(v.arg("map_func"))
                if fs.value:
                    return fs
                return Answer.combine(self.unit_scaling(v.origin, depth + 1), fs)
            return UNSURE
        if v.kind is ObjKind.BINOP:
            right = v.args.get("right")
            if (v.api == "div" and is_255(right)) or (v.api == "mul" and is_unit_scale(right)):
                return Answer(True, (self._ev(v.site, v),))
            return UNSURE
        return UNSURE

    def func_scaling(self, f: Value | None) -> Answer:
        if f is None or (isinstance(f, Const) and f.value is None):
            return NO
        if isinstance(f, Ref):
            return NO if f.qname.endswith("preprocess_input") else UNSURE
        if not isinstance(f, Func):
            return UNSURE
        key = (id(f), "scale")
        if key in self._func_cache:
            return self._func_cache[key]
        self._func_cache[key] = UNSURE
        ev: list[Evidence] = []
        for obj in self.facts.objects_in(f):
            if obj.kind is ObjKind.BINOP:
                right = obj.args.get("right")
                if (obj.api == "div" and is_255(right)) or (obj.api == "mul" and is_unit_scale(right)):
                    ev.append(self._ev(obj.site, obj))
            elif obj.kind is ObjKind.CALL and obj.api == "tensorflow.image.convert_image_dtype":
                ev.append(self._ev(obj.site, obj))
            elif obj.kind is ObjKind.APPLY and isinstance(obj.callee, Obj):
                # a Rescaling(1/255) layer applied, or a Sequential that contains one
                layers = [obj.callee] + (model_parts(obj.callee) if obj.callee.api == "keras.Sequential" else [])
                for layer in layers:
                    if self.is_unit_rescaling_layer(layer):
                        ev.append(self._ev(layer.site, layer))
                        break
        ans = Answer(True, tuple(ev)) if ev else NO
        self._func_cache[key] = ans
        return ans

    @staticmethod
    def is_unit_rescaling_layer(v: Value | None) -> bool:
        return isinstance(v, Obj) and v.kind is ObjKind.CALL and v.api == "keras.layers.Rescaling" and \
            is_unit_scale(v.arg("scale")) and _num(v.arg("offset", Const(0.0))) == 0


def dict_value(v: Value | None, key: str) -> Value | None:
    return v.items.get(key) if isinstance(v, Dict) else None

"""The training recipe of a notebook, read from its Facts (never by running it).

Every value says where it comes from: the notebook (cell, line and the student's own code),
a documented default (what Keras does when the argument is absent, or nbreview's choice when
the notebook does not say), or the command line. This is the only module of `verify` that
reads Facts: it uses the named queries (`facts.created`, `facts.method_calls`,
`facts.models_trained`, `facts.data_calls`, `facts.backbones`, `facts.layers_before`,
`facts.compile_calls`, `facts.tta_loop`, `facts.quote`, `obj.arg`), so it follows changes of the
analysis in one place.
"""
from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..facts import Facts, apis
from ..facts.models import efficientnet_rescales_inside
from ..facts.pipelines import arg_evidence
from ..facts.values import Const, Dict, Func, Obj, Ref, Seq, Site, Value

# Keras' own defaults, used when the notebook does not say (documented in the README).
DEFAULT_LR = {"Adam": 1e-3, "AdamW": 1e-3, "Adamax": 1e-3, "Nadam": 1e-3, "RMSprop": 1e-3, "SGD": 1e-2,
              "Adagrad": 1e-3, "Adadelta": 1e-3, "Ftrl": 1e-3, "Lion": 1e-3}
DEFAULTS: dict[str, Any] = {
    "backbone": "small-cnn",
    "weights": "imagenet",  # keras.applications default
    "backbone_trainable": True,
    "input_size": 224,
    "batch_size": 32,  # Keras fit / flow default
    "epochs": 1,  # Keras fit default
    "optimizer": "RMSprop",  # Keras compile default
    "lr_schedule": None,
    "augmentation": [],
    "preprocessing": "none",
    "validation_split": 0.2,  # nbreview's choice when the notebook validates on a set we cannot see
    "validation_augmented": False,
    "checkpoint": None,
    "early_stopping": None,
    "tta": None,
    "loss": "categorical_crossentropy",
    "metrics": [],
    "num_classes": None,
}
CHECKPOINT_DEFAULTS = {"monitor": "val_loss", "mode": "auto", "save_best_only": False, "save_weights_only": False}
DEFAULT_TTA_PASSES = 10
# keras.optimizers.schedules.X (the analysis normalises the name to keras.optimizers.X)
LR_SCHEDULES = frozenset({"ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay",
                          "CosineDecay", "CosineDecayRestarts"})

# keras.applications family -> what its preprocess_input does (keras/applications/imagenet_utils)
PREPROCESS_MODES = {
    "xception": "tf", "inception_v3": "tf", "inception_resnet_v2": "tf", "mobilenet": "tf",
    "mobilenet_v2": "tf", "nasnet": "tf", "resnet_v2": "tf",
    "resnet50": "caffe", "resnet": "caffe", "vgg16": "caffe", "vgg19": "caffe",
    "densenet": "torch",
    "efficientnet": "none", "efficientnet_v2": "none", "convnext": "none", "regnet": "none",
    "resnet_rs": "none", "mobilenet_v3": "none",
}


@dataclass
class Source:
    kind: str  # "notebook" | "default" | "option"
    cell: int | None = None  # 0-based index into the notebook's cells
    line: int | None = None  # 1-based within the cell
    text: str | None = None  # the student's own code

    def describe(self, lang: str = "en") -> str:
        if self.kind == "notebook" and self.cell is not None:
            where = (f"ячейка {self.cell + 1}" if lang == "ru" else f"cell {self.cell + 1}")
            return where + (f": {self.text}" if self.text else "")
        if self.kind == "option":
            return "параметр командной строки" if lang == "ru" else "command line"
        return "по умолчанию" if lang == "ru" else "default"


@dataclass
class Field:
    value: Any
    source: Source
    note: str | None = None

    @property
    def is_default(self) -> bool:
        return self.source.kind == "default"


@dataclass
class AugOp:
    """One augmentation of the notebook and how the reference pipeline reproduces it."""

    kind: str  # flip | rotation | translation | zoom | shear | brightness | contrast | channel_shift | other
    params: dict[str, Any]
    text: str
    fidelity: str = "exact"  # exact | approximate | not reproduced


@dataclass
class DeprecatedCall:
    kind: str  # "method" (fit_generator & co.) or "argument" (optimizer lr=)
    name: str  # fit_generator | predict_classes | lr
    text: str  # the student's code
    cell: int
    line: int
    owner: str = ""  # model class (Model/Sequential) or optimizer name


@dataclass
class Recipe:
    notebook: str
    framework: str | None
    fields: dict[str, Field] = field(default_factory=dict)
    deprecated: list[DeprecatedCall] = field(default_factory=list)
    stages: int = 0  # how many fit calls train the model
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.fields[name].value

    def get(self, name: str, default: Any = None) -> Any:
        f = self.fields.get(name)
        return default if f is None or f.value is None else f.value

    def source(self, name: str) -> Source:
        return self.fields[name].source

    @property
    def defaults(self) -> list[str]:
        return [k for k, f in self.fields.items() if f.is_default]

    def override(self, name: str, value: Any) -> None:
        self.fields[name] = Field(value, Source("option"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, f in self.fields.items():
            v = f.value
            if k == "augmentation":
                v = [asdict(a) for a in v]
            out[k] = {"value": v, "source": f.source.kind, "cell": f.source.cell, "line": f.source.line,
                      "code": f.source.text}
            if f.note:
                out[k]["note"] = f.note
        return {"notebook": self.notebook, "framework": self.framework, "stages": self.stages,
                "fields": out, "defaults": self.defaults,
                "deprecated": [asdict(d) for d in self.deprecated], "notes": list(self.notes)}


# --- reading -------------------------------------------------------------------------

def read(path: str | Path, data: bytes | None = None) -> Recipe:
    """The recipe of the notebook at `path` (or of `data`, its bytes: e.g. the notebook as
    `nbreview fix` corrects it); NotebookReadError when it cannot be read."""
    from ..facts import analyse
    from ..notebook import load
    from ..program import build

    nb = load(path, data)
    facts = analyse(build(nb))
    return from_facts(facts, str(path))


def from_facts(facts: Facts, notebook: str = "") -> Recipe:
    r = _Reader(facts)
    return r.recipe(notebook)


def _num(v: Value | None) -> float | None:
    if isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        return v.value
    return None


def _const(v: Value | None) -> Any:
    if isinstance(v, Const):
        return v.value
    if isinstance(v, Seq) and v.complete and all(isinstance(i, Const) for i in v.items):
        return tuple(i.value for i in v.items)  # type: ignore[union-attr]
    return None


class _Reader:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.sources = facts.sources

    # where things are written -----------------------------------------------------------
    def _src(self, site: Site, text: str | None = None) -> Source:
        return Source("notebook", site.cell, site.line, text or self.facts.quote(site, 80))

    def _arg(self, obj: Obj | Any, name: str) -> Source:
        if isinstance(obj, Obj) and name not in obj.arg_sites:
            return self._src(obj.site)
        if isinstance(obj, Obj):
            ev = arg_evidence(obj, name, self.sources)
            return Source("notebook", ev.site.cell, ev.site.line, ev.text[:100])
        return Source("default")

    def _call_arg(self, rec, name: str) -> Source:
        node = rec.site.node
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == name or (name == "x" and kw.arg == "generator"):
                    seg = self.facts.quote(Site(rec.site.cell, kw), 100)
                    return Source("notebook", rec.site.cell, getattr(kw, "lineno", rec.site.line), seg)
        return self._src(rec.site)

    # the pieces --------------------------------------------------------------------------
    def recipe(self, notebook: str) -> Recipe:
        facts = self.facts
        rec = Recipe(notebook=notebook, framework=facts.framework)
        F = rec.fields
        trained = facts.models_trained()
        rec.stages = len(trained)
        fit, model = trained[0] if trained else (None, None)
        if len(trained) > 1:
            rec.notes.append(f"the notebook trains in {len(trained)} fit calls; the reference reproduces the first "
                             f"(cell {fit.site.cell + 1})")
        data = {role: d for r, role, d in (facts.data_calls(model) if model is not None else []) if r is fit}
        train_data, val_data = data.get("x"), data.get("validation_data")

        backbone = self._backbone(model)
        self._backbone_fields(F, backbone, fit)
        F["input_size"] = self._input_size(backbone, train_data, model)
        F["batch_size"] = self._batch_size(train_data, fit)
        F["epochs"] = self._fit_int(fit, "epochs", DEFAULTS["epochs"])
        compile_rec = self._compile_for(model, fit)
        self._optimizer(F, compile_rec)
        F["loss"], F["metrics"] = self._loss_metrics(compile_rec)
        F["num_classes"] = self._num_classes(model)
        F["augmentation"] = self._augmentation(train_data, model, backbone)
        F["preprocessing"] = self._preprocessing(train_data, model, backbone)
        F["validation_split"] = self._validation_split(train_data, val_data, fit)
        F["validation_augmented"] = self._validation_augmented(val_data)
        cbs = self._callbacks(fit)
        F["checkpoint"] = self._checkpoint(cbs)
        F["early_stopping"] = self._early_stopping(cbs)
        self._plateau(F, cbs)
        F["tta"] = self._tta()
        rec.deprecated = self._deprecated()
        return rec

    def _backbone(self, model: Obj | None) -> Obj | None:
        if model is None:
            return None
        found = self.facts.backbones(model)
        return found[0] if found else None

    def _backbone_fields(self, F: dict[str, Field], backbone: Obj | None, fit) -> None:
        if backbone is None:
            F["backbone"] = Field(DEFAULTS["backbone"], Source("default"),
                                  note="no keras.applications backbone found: the notebook's own network")
            F["weights"] = Field(None, Source("default"))
            F["backbone_trainable"] = Field(True, Source("default"))
            F["preprocessing_inside"] = Field(False, Source("default"))
            return
        api = backbone.api or ""
        name = api.rsplit(".", 1)[-1]
        F["backbone"] = Field(name, self._src(backbone.site))
        w = backbone.arg("weights", Const("imagenet"))
        if "weights" in backbone.args and isinstance(w, Const):
            F["weights"] = Field(w.value, self._arg(backbone, "weights"))
        elif isinstance(w, Const):
            F["weights"] = Field(w.value, Source("default"))
        else:
            F["weights"] = Field("imagenet", Source("default"), note="weights= could not be read")
        trainable, src = True, Source("default")
        for site, v in backbone.attrs.get("trainable", []):
            if fit is None or (site.cell, site.line) <= (fit.site.cell, fit.site.line):
                if isinstance(v, Const):
                    trainable, src = bool(v.value), self._src(site)
        F["backbone_trainable"] = Field(trainable, src)
        inside = efficientnet_rescales_inside(backbone)
        F["preprocessing_inside"] = Field(bool(inside), self._src(backbone.site),
                                          note="the backbone rescales 0..255 itself (EfficientNet stem)"
                                          if inside else None)

    def _input_size(self, backbone: Obj | None, train_data: Value | None, model: Obj | None) -> Field:
        if isinstance(train_data, Obj):
            node: Value | None = train_data
            for _ in range(30):
                if not isinstance(node, Obj):
                    break
                for name in ("target_size", "image_size"):
                    size = _const(node.arg(name)) if name in node.args else None
                    if isinstance(size, tuple) and len(size) == 2 and all(isinstance(s, int) for s in size):
                        return Field(int(size[0]) if size[0] == size[1] else list(size), self._arg(node, name))
                    if isinstance(size, int):
                        return Field(size, self._arg(node, name))
                node = node.origin
        for obj in ([backbone] if backbone is not None else []) + self.facts.created("keras.Input"):
            shape = _const(obj.arg("input_shape") if obj is backbone else obj.arg("shape", obj.args.get("#0")))
            if isinstance(shape, tuple) and len(shape) == 3 and all(isinstance(s, int) for s in shape[:2]):
                h, w = shape[0], shape[1]
                key = "input_shape" if obj is backbone else ("shape" if "shape" in obj.args else "#0")
                return Field(h if h == w else [h, w], self._arg(obj, key))
        return Field(DEFAULTS["input_size"], Source("default"))

    def _batch_size(self, train_data: Value | None, fit) -> Field:
        node = train_data
        for _ in range(30):
            if not isinstance(node, Obj):
                break
            if node.kind == "method" and node.api in apis.FLOW_METHODS or \
                    (node.kind == "call" and node.api == "keras.utils.image_dataset_from_directory"):
                v = node.arg("batch_size")
                if _num(v) is not None:
                    return Field(int(_num(v)), self._arg(node, "batch_size"))  # type: ignore[arg-type]
            if node.kind == "method" and node.api == "batch":
                v = node.args.get("batch_size", node.args.get("#0"))
                if _num(v) is not None:
                    return Field(int(_num(v)), self._src(node.site))  # type: ignore[arg-type]
            node = node.origin
        if fit is not None and _num(fit.args.get("batch_size")) is not None:
            return Field(int(_num(fit.args["batch_size"])), self._call_arg(fit, "batch_size"))  # type: ignore[arg-type]
        return Field(DEFAULTS["batch_size"], Source("default"))

    def _fit_int(self, fit, name: str, default: int) -> Field:
        if fit is not None and _num(fit.args.get(name)) is not None:
            return Field(int(_num(fit.args[name])), self._call_arg(fit, name))  # type: ignore[arg-type]
        return Field(default, Source("default"))

    def _compile_for(self, model: Obj | None, fit):
        if model is None:
            return None
        best = None
        for c in self.facts.compile_calls(model):  # the last compile evaluated before the fit
            if fit is None or c.seq < fit.seq:
                best = c
        return best

    def _optimizer(self, F: dict[str, Field], compile_rec) -> None:
        opt = compile_rec.args.get("optimizer") if compile_rec is not None else None
        name, src, lr_field = DEFAULTS["optimizer"], Source("default"), None
        schedule = Field(None, Source("default"))
        if isinstance(opt, Const) and isinstance(opt.value, str):
            name = _optimizer_name(opt.value)
            src = self._call_arg(compile_rec, "optimizer")
        elif isinstance(opt, Obj) and opt.kind == "call" and (opt.api or "").startswith("keras.optimizers.") and \
                (opt.api or "").rsplit(".", 1)[-1] not in LR_SCHEDULES:
            name = (opt.api or "").rsplit(".", 1)[-1]
            src = self._src(opt.site)
            key = "learning_rate" if "learning_rate" in opt.args else ("lr" if "lr" in opt.args else None)
            if key is not None:
                v = opt.args[key]
                if _num(v) is not None:
                    lr_field = Field(float(_num(v)), self._arg(opt, key))  # type: ignore[arg-type]
                elif isinstance(v, Obj) and v.kind == "call" and (v.api or "").rsplit(".", 1)[-1] in LR_SCHEDULES:
                    args = {k: _const(a) for k, a in v.args.items()}
                    complete = v.complete and all(a is not None for a in args.values())
                    schedule = Field({"type": (v.api or "").rsplit(".", 1)[-1], "args": args, "complete": complete},
                                     self._src(v.site))
                    first = args.get("initial_learning_rate", args.get("#0"))
                    if isinstance(first, (int, float)):
                        lr_field = Field(float(first), self._src(v.site))
        F["optimizer"] = Field(name, src)
        F["learning_rate"] = lr_field or Field(DEFAULT_LR.get(name, 1e-3), Source("default"))
        F["lr_schedule"] = schedule

    def _loss_metrics(self, compile_rec) -> tuple[Field, Field]:
        if compile_rec is None:
            return Field(DEFAULTS["loss"], Source("default")), Field([], Source("default"))
        loss = compile_rec.args.get("loss")
        lv = loss.value if isinstance(loss, Const) and isinstance(loss.value, str) else None
        if isinstance(loss, Obj) and loss.kind == "call":
            lv = (loss.api or "").rsplit(".", 1)[-1]
        if isinstance(loss, Ref):
            lv = loss.qname.rsplit(".", 1)[-1]
        loss_f = Field(lv, self._call_arg(compile_rec, "loss")) if lv else Field(DEFAULTS["loss"], Source("default"))
        metrics = compile_rec.args.get("metrics")
        names: list[str] = []
        if isinstance(metrics, Seq):
            for m in metrics.items:
                if isinstance(m, Const) and isinstance(m.value, str):
                    names.append(m.value)
                elif isinstance(m, Obj) and m.kind == "call":
                    nm = m.arg("name")
                    names.append(nm.value if isinstance(nm, Const) and isinstance(nm.value, str)
                                 else "obj:" + (m.api or "").rsplit(".", 1)[-1])
                else:
                    names.append("?")
        elif isinstance(metrics, Const) and isinstance(metrics.value, str):
            names.append(metrics.value)
        met_f = Field(names, self._call_arg(compile_rec, "metrics")) if metrics is not None else \
            Field([], Source("default"))
        return loss_f, met_f

    def _num_classes(self, model: Obj | None) -> Field:
        if model is None:
            return Field(None, Source("default"))
        dense = [p for p in self.facts.model_parts(model) if p.api == "keras.layers.Dense"]
        heads = [d for d in dense if _const(d.arg("activation")) in ("softmax", "sigmoid")]
        if heads or dense:
            # the output layer: a softmax/sigmoid Dense; else the last Dense of a Sequential, the first
            # found from the outputs of a functional model
            last = heads[0] if heads else (dense[-1] if model.api == "keras.Sequential" else dense[0])
            units = _num(last.arg("units"))
            if units is not None:
                return Field(int(units), self._arg(last, "units"))
        return Field(None, Source("default"))

    # augmentation -------------------------------------------------------------------------
    def _augmentation(self, train_data: Value | None, model: Obj | None, backbone: Obj | None) -> Field:
        ops: list[AugOp] = []
        first: Source | None = None
        for obj in self._chain(train_data):
            if obj.kind == "call" and obj.api == apis.IMAGE_DATA_GENERATOR:
                for name in apis.IDG_AUGMENTING:
                    if name in obj.args:
                        op = _idg_op(name, _const(obj.args[name]), arg_evidence(obj, name, self.sources).text)
                        if op is not None:
                            ops.append(op)
                            first = first or self._arg(obj, name)
            if obj.kind == "method" and obj.api == "map":
                f = obj.arg("map_func")
                for op, src in self._func_ops(f):
                    ops.append(op)
                    first = first or src
        if model is not None:
            layers = self.facts.layers_before(model, backbone) if backbone is not None else \
                self.facts.model_parts(model)
            seen: set[int] = set()
            for layer in sorted(layers, key=lambda o: (o.site.cell, o.site.line, o.site.column)):
                if layer.id in seen:
                    continue
                seen.add(layer.id)
                op = self._layer_op(layer)
                if op is not None:
                    ops.append(op)
                    first = first or self._src(layer.site)
        if not ops:
            return Field([], Source("default"))
        return Field(ops, first or Source("default"))

    def _chain(self, v: Value | None) -> list[Obj]:
        out: list[Obj] = []
        for _ in range(40):
            if not isinstance(v, Obj):
                break
            out.append(v)
            v = v.origin
        return out

    def _func_ops(self, f: Value | None) -> list[tuple[AugOp, Source]]:
        out: list[tuple[AugOp, Source]] = []
        if isinstance(f, Func):
            for rec in self.facts.calls_in(f):
                op = _tf_image_op(rec.name, rec.args, self.facts.quote(rec.site, 80))
                if op is not None:
                    out.append((op, self._src(rec.site)))
                elif rec.name == "()" and isinstance(rec.callee, Obj):
                    for layer in [rec.callee] + self.facts.model_parts(rec.callee):
                        op = self._layer_op(layer)
                        if op is not None:
                            out.append((op, self._src(layer.site)))
        elif isinstance(f, Obj):
            for layer in [f] + self.facts.model_parts(f):
                op = self._layer_op(layer)
                if op is not None:
                    out.append((op, self._src(layer.site)))
        return out

    def _layer_op(self, layer: Obj) -> AugOp | None:
        api = layer.api or ""
        short = api.rsplit(".", 1)[-1]
        if not api.startswith("keras.layers.") or short not in apis.KERAS_RANDOM_LAYERS:
            return None
        text = self.facts.quote(layer.site, 80)
        first = _const(layer.args.get("#0"))
        if short == "RandomFlip":
            mode = _const(layer.arg("mode", layer.args.get("#0"))) or "horizontal_and_vertical"
            return AugOp("flip", {"mode": mode}, text)
        if short == "RandomRotation":
            f = _const(layer.arg("factor")) if "factor" in layer.args else first
            return AugOp("rotation", {"factor": f}, text) if f is not None else AugOp("other", {}, text, "not reproduced")
        if short == "RandomZoom":
            h = _const(layer.arg("height_factor")) if "height_factor" in layer.args else first
            return AugOp("zoom", {"factor": h}, text) if h is not None else AugOp("other", {}, text, "not reproduced")
        if short == "RandomTranslation":
            h = _const(layer.arg("height_factor")) if "height_factor" in layer.args else first
            w = _const(layer.arg("width_factor")) if "width_factor" in layer.args else _const(layer.args.get("#1"))
            return AugOp("translation", {"height": h or 0.0, "width": w or 0.0}, text)
        if short == "RandomContrast":
            f = _const(layer.arg("factor")) if "factor" in layer.args else first
            return AugOp("contrast", {"factor": f}, text) if f is not None else AugOp("other", {}, text, "not reproduced")
        if short == "RandomBrightness":
            f = _const(layer.arg("factor")) if "factor" in layer.args else first
            return AugOp("brightness", {"factor": f}, text) if f is not None else \
                AugOp("other", {}, text, "not reproduced")
        return AugOp("other", {"layer": short}, text, "not reproduced")

    # scaling ------------------------------------------------------------------------------
    def _preprocessing(self, train_data: Value | None, model: Obj | None, backbone: Obj | None) -> Field:
        sem = self.facts.sem
        if model is not None and backbone is not None:
            for layer in self.facts.layers_before(model, backbone):
                if sem.is_unit_rescaling_layer(layer):
                    return Field("unit", self._src(layer.site), note="Rescaling layer inside the model")
                if layer.api == "keras.layers.Rescaling" and _num(layer.arg("offset")) == -1:
                    return Field("tf", self._src(layer.site), note="Rescaling to [-1, 1] inside the model")
        if model is not None and backbone is None:
            for layer in self.facts.model_parts(model):
                if sem.is_unit_rescaling_layer(layer):
                    return Field("unit", self._src(layer.site), note="Rescaling layer inside the model")
        if train_data is not None:
            ans = self.facts.unit_scaling(train_data)
            if ans.value:
                ev = ans.evidence[0]
                return Field("unit", Source("notebook", ev.site.cell, ev.site.line, ev.text[:100]))
            for obj in self._chain(train_data):
                if obj.kind == "call" and obj.api == apis.IMAGE_DATA_GENERATOR:
                    pf = obj.args.get("preprocessing_function")
                    if isinstance(pf, Ref) and pf.qname.endswith("preprocess_input"):
                        family = pf.qname.split(".")[-2] if pf.qname.count(".") >= 2 else ""
                        mode = PREPROCESS_MODES.get(family)
                        if mode is not None:
                            return Field(mode, self._arg(obj, "preprocessing_function"),
                                         note=f"{family}.preprocess_input")
                if obj.kind == "method" and obj.api == "map":
                    f = obj.arg("map_func")
                    if isinstance(f, Func):
                        for rec in self.facts.calls_in(f):
                            if rec.name.endswith("preprocess_input") and rec.name.count(".") >= 2:
                                mode = PREPROCESS_MODES.get(rec.name.split(".")[-2])
                                if mode is not None:
                                    return Field(mode, self._src(rec.site), note=rec.name)
        return Field(DEFAULTS["preprocessing"], Source("default"))

    # validation ---------------------------------------------------------------------------
    def _validation_split(self, train_data: Value | None, val_data: Value | None, fit) -> Field:
        for obj in self._chain(train_data) + self._chain(val_data):
            if obj.kind == "call" and (obj.api == apis.IMAGE_DATA_GENERATOR or
                                       obj.api == "keras.utils.image_dataset_from_directory"):
                v = _num(obj.arg("validation_split"))
                if v:
                    return Field(float(v), self._arg(obj, "validation_split"))
        if fit is not None and _num(fit.args.get("validation_split")):
            return Field(float(_num(fit.args["validation_split"])), self._call_arg(fit, "validation_split"))  # type: ignore[arg-type]
        for rec in self.facts.calls_to("sklearn.model_selection.train_test_split"):
            v = _num(rec.args.get("test_size"))
            if v is not None and 0 < v < 1:
                return Field(float(v), self._src(rec.site))
        return Field(DEFAULTS["validation_split"], Source("default"))

    def _validation_augmented(self, val_data: Value | None) -> Field:
        if val_data is None:
            return Field(False, Source("default"), note="no validation_data in the fit call")
        ans = self.facts.augments(val_data)
        if ans.value:
            ev = ans.evidence[0]
            return Field(True, Source("notebook", ev.site.cell, ev.site.line, ev.text[:100]))
        if ans.value is None:
            return Field(None, Source("default"), note="nbreview could not tell whether validation augments")
        return Field(False, Source("notebook", *_where(val_data), self.facts.quote(val_data.site, 80))
                     if isinstance(val_data, Obj) else Source("default"))

    # callbacks ----------------------------------------------------------------------------
    def _callbacks(self, fit) -> list[Obj]:
        cbs = fit.args.get("callbacks") if fit is not None else None
        if isinstance(cbs, Seq):
            return [c for c in cbs.items if isinstance(c, Obj)]
        return []

    def _checkpoint(self, cbs: list[Obj]) -> Field:
        ckpts = [c for c in cbs if c.api == "keras.callbacks.ModelCheckpoint"]
        if not ckpts:
            ckpts = self.facts.created("keras.callbacks.ModelCheckpoint")
        if not ckpts:
            return Field(None, Source("default"))
        c = ckpts[0]
        out: dict[str, Any] = {}
        defaults: list[str] = []
        for k, d in CHECKPOINT_DEFAULTS.items():
            v = c.arg(k, Const(d))
            out[k] = v.value if isinstance(v, Const) else None
            if k not in c.args:
                defaults.append(k)
        fp = c.arg("filepath")
        out["filepath"] = fp.value if isinstance(fp, Const) else None
        out["defaults"] = defaults
        out["used_in_fit"] = c in cbs
        return Field(out, self._src(c.site))

    def _early_stopping(self, cbs: list[Obj]) -> Field:
        for c in cbs:
            if c.api == "keras.callbacks.EarlyStopping":
                keys = ("monitor", "patience", "mode", "restore_best_weights", "min_delta")
                out = {k: _const(c.args[k]) for k in keys if k in c.args}
                return Field(out, self._src(c.site))
        return Field(None, Source("default"))

    def _plateau(self, F: dict[str, Field], cbs: list[Obj]) -> None:
        for c in cbs:
            if c.api == "keras.callbacks.ReduceLROnPlateau":
                keys = ("monitor", "factor", "patience", "mode", "min_lr", "min_delta", "cooldown")
                F["reduce_lr_on_plateau"] = Field({k: _const(c.args[k]) for k in keys if k in c.args},
                                                  self._src(c.site))
                return
            if c.api == "keras.callbacks.LearningRateScheduler":
                F["lr_scheduler_callback"] = Field({"schedule": "a function of the notebook"}, self._src(c.site),
                                                   note="not reproduced: nbreview never runs the notebook's code")
                return

    # prediction ---------------------------------------------------------------------------
    def _tta(self) -> Field:
        for rec in self.facts.method_calls(*apis.PREDICT_METHODS):
            loop = self.facts.tta_loop(rec)
            if loop is None:
                continue
            data = rec.args.get("x")
            augmented = self.facts.augments(data).value
            passes = loop.count
            return Field({"passes": passes or DEFAULT_TTA_PASSES, "passes_known": passes is not None,
                          "augmented": augmented}, self._src(rec.site))
        return Field(None, Source("default"))

    def _deprecated(self) -> list[DeprecatedCall]:
        out: list[DeprecatedCall] = []
        for rec in self.facts.method_calls(*apis.DEPRECATED_METHODS, include_uncalled=True):
            recv = rec.receiver
            owner = "Sequential" if isinstance(recv, Obj) and recv.api == "keras.Sequential" else "Model"
            if isinstance(recv, Obj) and (recv.api or "").startswith("notebook."):
                continue
            out.append(DeprecatedCall("method", rec.method or "", self.facts.quote(rec.site, 100),
                                      rec.site.cell, rec.site.line, owner))
        for opt in self.facts.created_matching(lambda a: a.startswith("keras.optimizers.") and
                                               a.count(".") == 2 and a.rsplit(".", 1)[-1][:1].isupper(),
                                               include_uncalled=True):
            if "lr" in opt.args:
                ev = arg_evidence(opt, "lr", self.sources)
                out.append(DeprecatedCall("argument", "lr", ev.text, ev.site.cell, ev.site.line,
                                          (opt.api or "").rsplit(".", 1)[-1]))
        return out


def _where(v: Obj) -> tuple[int, int]:
    return v.site.cell, v.site.line


def _optimizer_name(s: str) -> str:
    table = {k.lower(): k for k in DEFAULT_LR}
    return table.get(s.lower(), s)


def _idg_op(name: str, v: Any, text: str) -> AugOp | None:
    if v is None or v is False or v == 0:
        return None
    if name == "rotation_range":
        return AugOp("rotation", {"degrees": float(v)}, text)
    if name in ("width_shift_range", "height_shift_range"):
        key = "width" if name.startswith("width") else "height"
        if isinstance(v, (int, float)):
            return AugOp("translation", {key: float(v)}, text)
        return AugOp("translation", {key: v}, text, "approximate")
    if name == "zoom_range":
        lo, hi = (1 - v, 1 + v) if isinstance(v, (int, float)) else tuple(v)
        return AugOp("zoom", {"range": [float(lo), float(hi)]}, text)
    if name == "horizontal_flip":
        return AugOp("flip", {"mode": "horizontal"}, text)
    if name == "vertical_flip":
        return AugOp("flip", {"mode": "vertical"}, text)
    if name == "shear_range":
        return AugOp("shear", {"degrees": float(v)}, text, "approximate")
    if name == "brightness_range":
        return AugOp("brightness", {"range": [float(x) for x in v]}, text, "approximate") \
            if isinstance(v, tuple) and len(v) == 2 else None
    if name == "channel_shift_range":
        return AugOp("channel_shift", {"range": float(v)}, text, "approximate")
    return None


def _tf_image_op(name: str, args: dict[str, Value], text: str) -> AugOp | None:
    short = name.rsplit(".", 1)[-1]
    if not name.startswith(("tensorflow.image.", "keras.layers.")):
        return None
    if short in ("random_flip_left_right", "stateless_random_flip_left_right"):
        return AugOp("flip", {"mode": "horizontal"}, text)
    if short in ("random_flip_up_down", "stateless_random_flip_up_down"):
        return AugOp("flip", {"mode": "vertical"}, text)
    if short in ("random_brightness", "stateless_random_brightness"):
        d = _num(args.get("max_delta", args.get("#1")))
        return AugOp("brightness", {"delta": d}, text) if d is not None else AugOp("other", {}, text, "not reproduced")
    if short in ("random_contrast", "stateless_random_contrast"):
        lo, hi = _num(args.get("lower", args.get("#1"))), _num(args.get("upper", args.get("#2")))
        if lo is not None and hi is not None:
            return AugOp("contrast", {"range": [lo, hi]}, text)
        return AugOp("other", {}, text, "not reproduced")
    if short.startswith(("random_", "stateless_random_")):
        return AugOp("other", {"op": short}, text, "not reproduced")
    return None


def differences(a: Recipe, b: Recipe) -> dict[str, dict[str, Any]]:
    """The values that differ between two recipes (the notebook as written and as fixed)."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(a.fields) | set(b.fields)):
        va, vb = a.get(name), b.get(name)
        if name == "augmentation":
            va, vb = [x.text for x in va or []], [x.text for x in vb or []]
        if va != vb:
            out[name] = {"as_written": describe_value(name, a.get(name)), "fixed": describe_value(name, b.get(name))}
    return out


def describe_value(name: str, value: Any, lang: str = "en") -> str:
    """A value as the printed recipe shows it."""
    if value is None:
        return "—"
    if name == "augmentation":
        if not value:
            return "нет" if lang == "ru" else "none"
        return "; ".join(a.text + ("" if a.fidelity == "exact" else f" ({a.fidelity})") for a in value)
    if name == "checkpoint" and isinstance(value, dict):
        return ", ".join(f"{k}={value[k]!r}" for k in ("monitor", "mode", "save_best_only") if k in value)
    if name == "tta" and isinstance(value, dict):
        return f"{value['passes']} passes, augmented={value['augmented']}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v!r}" for k, v in value.items() if k not in ("complete",))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


__all__ = ["Recipe", "Field", "Source", "AugOp", "DeprecatedCall", "read", "from_facts", "describe_value",
           "DEFAULTS", "Dict"]

"""The experiment registry and what experiments share: the data split, the networks, and one
reference training per seed ("as the notebook trains") that several experiments read.

An experiment proves one rule. It says whether it applies to a recipe, measures one seed
(training experiments) or once (static ones: no training, a few seconds), and summarises
its per-seed results into metrics with spread, an effect direction and a short text in
Russian and English. Adding one: a module in this package named after the rule (its slug with
underscores) with a class decorated by `@register`, listed in `experiments/__init__.py`.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..console import Reporter
from ..plan import Plan
from ..recipe import AugOp, Recipe

REGISTRY: dict[str, "Experiment"] = {}


def register(cls: type["Experiment"]) -> type["Experiment"]:
    """Register an experiment; its slug is its module's name (`rescale_efficientnet.py` proves
    `rescale-efficientnet`), like the rule modules of nbreview/checks."""
    cls.slug = cls.__module__.rsplit(".", 1)[-1].replace("_", "-")
    REGISTRY[cls.slug] = cls()
    return cls


class Experiment:
    slug: ClassVar[str] = ""
    kind: ClassVar[str] = "training"  # "training" (per seed) | "static" (once, no training)
    title: ClassVar[dict[str, str]] = {}
    uses_reference: ClassVar[bool] = False  # reads the shared per-seed reference training

    def applies(self, recipe: Recipe, plan: Plan) -> str | None:
        """None when the experiment can run on this recipe, else the reason it cannot (a sentence)."""
        return None

    def measure(self, ctx: "Context", seed: int | None) -> dict[str, Any]:
        raise NotImplementedError

    def summarize(self, results: list[dict[str, Any]], ctx: "Context") -> dict[str, Any]:
        raise NotImplementedError


# --- the context ------------------------------------------------------------------------

@dataclass
class RefRun:
    """One training as the notebook trains (its augmentation, optimizer, callbacks), with the other
    remarks' causes fixed (the scale the backbone expects, a clean validation) so that each experiment
    reading it isolates its own effect."""

    seed: int
    epochs_run: int
    history: dict[str, list[float]]  # Keras history; val_* measured as the notebook validates
    clean: list[dict[str, float]]  # per epoch: accuracy/loss on the clean validation pipeline
    augmented: list[list[dict[str, float]]]  # per epoch: several passes of the augmented validation
    lr: list[float | None]
    checkpoints: dict[str, dict[str, Any]]
    bundle: Any
    x_val: np.ndarray
    y_val: np.ndarray
    wall_s: float


@dataclass
class Context:
    recipe: Recipe
    plan: Plan
    images: Any  # data.Images
    reporter: Reporter
    lang: str = "ru"
    fixed_recipe: Recipe | None = None  # the notebook as `nbreview fix` corrects it (None: no fix applied)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nbreview-verify-")))
    notes: list[str] = field(default_factory=list)
    facts_cache: dict[str, Any] = field(default_factory=dict)
    _refs: dict[int, RefRun] = field(default_factory=dict)
    _pretext: Path | None = None
    _weights_ok: bool | None = None

    @property
    def data_kind(self) -> str:
        return self.images.source

    @property
    def n_classes(self) -> int:
        return len(self.images.classes)

    def split(self, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        from ..data import split

        tr, va = split(self.images.y, self.plan.val_fraction, seed)
        return self.images.x[tr], self.images.y[tr], self.images.x[va], self.images.y[va]

    # networks ---------------------------------------------------------------------------
    def backbone(self):
        """The backbone of the plan, freshly initialised (call after seeding)."""
        from .. import models

        plan = self.plan
        if plan.backbone == models.MINI:
            bb = models.mini_backbone(plan.image_size, plan.stem)
            if plan.weights == "pretext":
                if self._pretext is None:
                    path, made = models.pretext_weights(plan.image_size, plan.stem, plan.correct_scaling,
                                                        reporter=self.reporter)
                    self._pretext = path
                    if made:
                        self.reporter.info(f"nbreview-mini pretrained on the synthetic pretext task: {path}")
                bb.load_weights(self._pretext)
            return bb
        size = max(plan.image_size, models.MIN_SIZE.get(plan.backbone, 32))
        inc = self.recipe.get("preprocessing_inside") if plan.backbone.startswith("EfficientNetV2") else None
        weights = plan.weights
        if weights == "imagenet" and self._weights_ok is not False:
            try:
                bb = models.application(plan.backbone, size, "imagenet", inc)
                self._weights_ok = True
                return bb
            except Exception as exc:  # noqa: BLE001 - offline, or no weights for this shape
                self._weights_ok = False
                msg = (f"ImageNet weights for {plan.backbone} could not be loaded ({type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:240]}); training from random initialisation instead "
                       f"(offline? copy the weights into ~/.keras/models, or pass --weights FILE)")
                self.notes.append(msg)
                self.reporter.info("nbreview verify: " + msg)
                plan.weights = None
                if not plan.trainable:
                    plan.trainable = True
                    self.notes.append("the notebook freezes a pretrained backbone; from random initialisation it "
                                      "is left trainable")
        bb = models.application(plan.backbone, size, None, inc)
        if weights not in (None, "imagenet", "pretext"):
            bb.load_weights(weights)
        return bb

    def bundle(self, scaling: str, augmentation: list[AugOp] | None = None, seed: int = 0):
        from .. import models

        aug, notes = models.augmenter(self.plan.augmentation if augmentation is None else augmentation,
                                      self.plan.image_size, seed)
        for n in notes:
            if n not in self.notes:
                self.notes.append(n)
        return models.build(self.backbone(), self.plan.image_size, self.n_classes, scaling, aug,
                            trainable=self.plan.trainable)

    def optimizer(self, steps_per_epoch: int):
        from .. import train

        sched = train.lr_schedule(self.recipe.get("lr_schedule"))
        return train.optimizer(self.plan.optimizer, sched if sched is not None else self.plan.learning_rate,
                               self.notes)

    # the shared reference training ------------------------------------------------------
    def reference(self, seed: int) -> RefRun:
        if seed not in self._refs:
            self._refs[seed] = _reference_run(self, seed)
        return self._refs[seed]

    def release(self, seed: int) -> None:
        self._refs.pop(seed, None)


AUG_VAL_PASSES = 3


def monitors(recipe: Recipe) -> tuple[str, str, str | None]:
    """(monitor as written, mode, a note): the checkpoint's monitor; a monitor the reference never logs
    is kept as written for the notebook's variant (Keras then warns and skips) and noted."""
    ck = recipe.get("checkpoint") or {}
    mon = ck.get("monitor")
    mode = ck.get("mode") or "auto"
    if not isinstance(mon, str):
        return "val_loss", mode, "the checkpoint's monitor is not a name nbreview can read; val_loss assumed"
    return mon, mode, None


def _reference_run(ctx: Context, seed: int) -> RefRun:
    import time

    import keras

    from .. import train

    t0 = time.perf_counter()
    plan, recipe = ctx.plan, ctx.recipe
    x_tr, y_tr, x_va, y_va = ctx.split(seed)
    train.seed_all(seed)
    scaling = plan.scaling
    if scaling != plan.correct_scaling and plan.weights is not None:
        # a pretrained backbone fed the wrong scale barely learns; the other effects are measured on a
        # network that does (the scaling itself is what rescale-efficientnet measures)
        scaling = plan.correct_scaling
        note = (f"the shared reference training feeds the backbone the scale it expects ({scaling!r} instead of "
                f"the notebook's {plan.scaling!r}), so the other effects are measured on a network that learns")
        if note not in ctx.notes:
            ctx.notes.append(note)
    bundle = ctx.bundle(scaling, seed=seed)
    steps = max(1, -(-len(y_tr) // plan.batch_size))
    train.compile_model(bundle.train, ctx.optimizer(steps))
    if recipe.get("validation_augmented"):
        note = ("the shared reference training validates on clean data (the augmented validation of the notebook "
                "is measured beside it, on the same weights), so the checkpoint and the other callbacks see "
                "the fixed validation")
        if note not in ctx.notes:
            ctx.notes.append(note)
    measure = _measure_class()(bundle, x_va, y_va, plan.batch_size,
                               AUG_VAL_PASSES if bundle.augmented is not None else 0)
    callbacks: list[Any] = [measure]
    checkpoints: dict[str, dict[str, Any]] = {}
    ck = recipe.get("checkpoint")
    if ck:
        mon, mode, note = monitors(recipe)
        if note and note not in ctx.notes:
            ctx.notes.append(note)
        fixed_ck = (ctx.fixed_recipe.get("checkpoint") if ctx.fixed_recipe is not None else None) or {}
        fixed_mon = fixed_ck.get("monitor") if isinstance(fixed_ck.get("monitor"), str) else mon
        if fixed_mon not in ("val_loss", "val_accuracy", "loss", "accuracy"):
            fixed_mon = "val_accuracy" if "acc" in fixed_mon else "val_loss"
        for tag, sbo, m in (("as_written", bool(ck.get("save_best_only")), mon), ("fixed", True, fixed_mon)):
            path = ctx.workdir / f"seed{seed}-{tag}.weights.h5"
            if path.exists():
                path.unlink()
            checkpoints[tag] = {"path": str(path), "monitor": m, "mode": mode, "save_best_only": sbo}
            callbacks.append(keras.callbacks.ModelCheckpoint(str(path), monitor=m, mode=mode, save_best_only=sbo,
                                                             save_weights_only=True, verbose=0))
    es = recipe.get("early_stopping")
    if es and isinstance(es.get("monitor", "val_loss"), str):
        kw = {k: es[k] for k in ("monitor", "patience", "mode", "restore_best_weights", "min_delta")
              if es.get(k) is not None}
        callbacks.append(keras.callbacks.EarlyStopping(**kw))
    rop = recipe.get("reduce_lr_on_plateau")
    if rop and isinstance(rop.get("monitor", "val_loss"), str) and recipe.get("lr_schedule") is None:
        kw = {k: rop[k] for k in ("monitor", "factor", "patience", "mode", "min_lr", "min_delta", "cooldown")
              if rop.get(k) is not None}
        callbacks.append(keras.callbacks.ReduceLROnPlateau(**kw))
    callbacks.append(train.ProgressCallback(ctx.reporter, f"seed {seed}: training as written", len(y_tr),
                                            plan.batch_size, plan.epochs))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hist = bundle.train.fit(train.dataset(x_tr, y_tr, plan.batch_size, shuffle_seed=seed), epochs=plan.epochs,
                                callbacks=callbacks, verbose=0, shuffle=False)
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
    final = bundle.train.get_weights()
    for tag, info in checkpoints.items():
        p = Path(info["path"])
        if p.exists():
            bundle.train.load_weights(str(p))
            s = train.scores(train.predict(bundle.clean, x_va, plan.batch_size), y_va)
            info.update(saved=True, clean_accuracy=s.accuracy, clean_loss=s.loss)
        else:
            info.update(saved=False)
    bundle.train.set_weights(final)
    return RefRun(seed, len(measure.clean), history, measure.clean, measure.augmented, measure.lr, checkpoints,
                  bundle, x_va, y_va, time.perf_counter() - t0)


_MEASURE: list[type] = []


def _measure_class() -> type:
    """The Measure callback class (defined on first use: this module stays importable without Keras)."""
    if _MEASURE:
        return _MEASURE[0]
    import keras

    from .. import train

    class Measure(keras.callbacks.Callback):
        """After each epoch: the same weights scored on the clean validation pipeline and on several
        passes of the augmented one; the clean val_* go into the logs before the checkpoint and the
        other callbacks read them."""

        def __init__(self, bundle, x_val, y_val, batch: int, passes: int) -> None:
            super().__init__()
            self.bundle, self.x, self.y, self.batch = bundle, x_val, y_val, batch
            self.passes = passes
            self.clean: list[dict[str, float]] = []
            self.augmented: list[list[dict[str, float]]] = []
            self.lr: list[float | None] = []

        def on_epoch_end(self, epoch, logs=None) -> None:
            c = train.scores(train.predict(self.bundle.clean, self.x, self.batch), self.y)
            self.clean.append({"accuracy": c.accuracy, "loss": c.loss})
            augs = []
            for _ in range(self.passes):
                a = train.scores(train.predict(self.bundle.augmented, self.x, self.batch), self.y)
                augs.append({"accuracy": a.accuracy, "loss": a.loss})
            self.augmented.append(augs)
            if logs is not None:
                logs["val_accuracy"] = self.clean[-1]["accuracy"]
                logs["val_loss"] = self.clean[-1]["loss"]
            self.lr.append(train.current_lr(self.model))

    _MEASURE.append(Measure)
    return Measure

"""Queries about Keras training calls: which fits use a callback, how a model was compiled
when a fit ran, which keys that fit logs per epoch (what a `monitor=` may name), and which
labels a fit's data carries.

Logged names, as TF 2.x (tf.keras / tf_keras) and Keras 3 write them (checked against both):
`loss`; a metric given as a string keeps that string (`'acc'` -> `acc`, `'accuracy'` ->
`accuracy`, `'mae'` -> `mae`), except a metric *class* named by a string (`'AUC'`), which TF 2.x
logs under its default name (`auc`) and Keras 3 under the string; a metric object logs its
`name=` when given, else its class's default name (`CategoricalAccuracy()` ->
`categorical_accuracy`), which gets a `_1`, `_2`, ... suffix when another object of that name
was created earlier in the session (a re-run cell, a second compile); a function logs its
`__name__` (`f1_m`). Validation adds `val_` + each key. LR callbacks add `lr` (TF 2.x) or
`learning_rate` (Keras 3).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import apis
from .models import root
from .values import CallRecord, Const, Dict, Func, Obj, ObjKind, Ref, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts

# metric functions Keras accepts by their (lower-case) name: logged under that very string
STRING_METRICS = frozenset({
    "accuracy", "acc", "mae", "mse", "mape", "msle", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_absolute_error", "mean_squared_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "kld", "poisson", "cosine_similarity", "hinge",
    "squared_hinge", "categorical_hinge", "logcosh", "log_cosh",
})
# metric classes Keras also accepts by class name: TF 2.x logs the default name, Keras 3 the string
STRING_METRIC_CLASSES = frozenset({
    "AUC", "Precision", "Recall", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanAbsoluteError", "MeanSquaredError", "F1Score", "FBetaScore", "MeanIoU",
})
LR_KEYS = frozenset({"lr", "learning_rate"})


def snake(name: str) -> str:
    """Keras' default metric name for a class: `CategoricalAccuracy` -> `categorical_accuracy`."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


@dataclass(frozen=True)
class LoggedKeys:
    """The keys a fit logs per epoch. `keys`: surely logged. `maybe`: names that may be logged
    as they are or with a `_<n>` suffix (unnamed metric objects), or under one of two spellings
    (a metric class named by a string): a monitor matching one is neither right nor wrong for
    sure. `sites`: where each metric was written (for messages)."""

    keys: frozenset[str]
    maybe: frozenset[str] = frozenset()
    sites: dict[str, Site] = field(default_factory=dict, compare=False)

    def status(self, key: str) -> bool | None:
        """True: `key` is logged; False: surely not; None: cannot tell."""
        if key in self.keys or key.removeprefix("val_") in LR_KEYS:
            return True
        for m in self.maybe:
            if key == m or re.fullmatch(re.escape(m) + r"_\d+", key):
                return None
        return False

    def closest(self, key: str) -> str | None:
        """The logged key a wrong monitor most likely meant (`val_acc` -> `val_accuracy`)."""
        val = key.startswith("val_")
        base = key.removeprefix("val_")
        pool = [k for k in sorted(self.keys) if k.startswith("val_") == val]
        if not pool:
            return None
        synonyms = {"acc": ("accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy"),
                    "accuracy": ("acc", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy")}
        for cand in synonyms.get(base, ()):
            name = ("val_" if val else "") + cand
            if name in pool:
                return name
        for k in pool:  # `val_f1` -> `val_f1_m`
            kb = k.removeprefix("val_")
            if base and (kb.startswith(base) or base.startswith(kb)) and kb not in ("loss",):
                return k
        return None


def fits_with_callback(facts: "Facts", callback: Obj) -> list[CallRecord]:
    """The fit calls whose `callbacks=` list holds this callback object."""
    out = []
    for rec in facts.method_calls(*apis.FIT_METHODS, include_uncalled=callback.site.uncalled):
        cbs = rec.args.get("callbacks")
        if isinstance(cbs, Seq) and any(cb is callback for cb in cbs.items):
            out.append(rec)
    return out


def compile_calls(facts: "Facts", model: Value | None) -> list[CallRecord]:
    """`model.compile(...)` calls on this model, in evaluation order."""
    base = root(model, "model")
    return [rec for rec in facts.method_calls("compile", include_uncalled=True)
            if isinstance(base, Obj) and root(rec.receiver, "model") is base]


def compile_for(facts: "Facts", fit: CallRecord) -> CallRecord | None:
    """The `compile` in force when this fit (or evaluate/predict) ran: the model's last compile
    before it, in evaluation order (a compile in a helper the fit's caller called counts)."""
    before = [rec for rec in compile_calls(facts, fit.receiver) if rec.seq < fit.seq]
    return before[-1] if before else None


def metric_names(facts: "Facts", compile_rec: CallRecord) -> LoggedKeys | None:
    """The names a compile's metrics are logged under (without `val_`), `loss` included; None
    when they cannot be read (a metrics list we cannot follow, several outputs, weighted metrics)."""
    if compile_rec.arg("weighted_metrics") not in (None,) and not _is_none(compile_rec.arg("weighted_metrics")):
        return None
    if isinstance(compile_rec.arg("loss"), (Seq, Dict)):
        return None  # one loss per output: keys are named after the outputs
    metrics = compile_rec.arg("metrics")
    keys = {"loss"}
    maybe: set[str] = set()
    sites: dict[str, Site] = {}
    if metrics is None or _is_none(metrics):
        return LoggedKeys(frozenset(keys))
    if isinstance(metrics, Seq) and metrics.complete:
        items = metrics.items
    elif isinstance(metrics, Const) and isinstance(metrics.value, (tuple, list)):
        items = [Const(x, metrics.site) for x in metrics.value]
    else:
        return None  # a dict per output, a variable we cannot follow
    for m in items:
        named = metric_name(m)
        if named is None:
            return None
        name, sure = named
        (keys if sure else maybe).add(name)
        site = getattr(m, "site", None)
        if isinstance(site, Site):
            sites[name] = site
        if not sure and name in STRING_METRIC_CLASSES:  # 'AUC': `auc` in TF 2.x
            maybe.add(snake(name))
    return LoggedKeys(frozenset(keys), frozenset(maybe), sites)


def metric_name(m: Value) -> tuple[str, bool] | None:
    """(the name a metric is logged under, sure?) or None when unknown."""
    if isinstance(m, Const) and isinstance(m.value, str):
        if m.value in STRING_METRICS:
            return m.value, True
        if m.value in STRING_METRIC_CLASSES:
            return m.value, False
        return None
    if isinstance(m, Func):
        return (m.name, True) if m.name != "<lambda>" else None
    if isinstance(m, Ref):
        last = m.qname.rsplit(".", 1)[-1]
        if m.qname.startswith("keras.metrics.") and last[:1].islower():
            return last, True
        return None
    if isinstance(m, Obj) and m.kind is ObjKind.CALL and (m.api or "").startswith("keras.metrics."):
        name = m.arg("name")
        if isinstance(name, Const) and isinstance(name.value, str):
            return name.value, True
        if name is None or _is_none(name):
            cls = (m.api or "").rsplit(".", 1)[-1]
            return snake(cls), False
        return None
    return None


def logged_keys(facts: "Facts", fit: CallRecord) -> LoggedKeys | None:
    """The keys this fit logs per epoch, or None when unknown."""
    compile_rec = compile_for(facts, fit)
    if compile_rec is None:
        return None
    names = metric_names(facts, compile_rec)
    if names is None:
        return None
    cbs = fit.arg("callbacks")
    if cbs is not None and not isinstance(cbs, Seq) and not (isinstance(cbs, Const) and cbs.value is None):
        return None
    for cb in (cbs.items if isinstance(cbs, Seq) else ()):
        if not (isinstance(cb, Obj) and cb.kind is ObjKind.CALL and (cb.api or "").startswith("keras.callbacks.")):
            return None  # a callback of the notebook's own (or one we cannot see) may add keys to the logs
    validation = has_validation(fit)
    if validation is None:
        return None
    if not validation:
        return names
    return LoggedKeys(names.keys | {"val_" + k for k in names.keys}, names.maybe | {"val_" + k for k in names.maybe},
                      names.sites)


def has_validation(fit: CallRecord) -> bool | None:
    """Does this fit validate every epoch? None when it cannot be told."""
    validation = fit.arg("validation_data")
    split = fit.arg("validation_split")
    if validation is not None and not _is_none(validation):
        return True
    if isinstance(split, Const) and isinstance(split.value, (int, float)) and split.value:
        return True
    if (validation is not None and not isinstance(validation, Const)) or (
            split is not None and not isinstance(split, Const)):
        return None
    return False


def history_keys(facts: "Facts", fit: CallRecord) -> set[str] | None:
    """The keys a fit surely logs (`loss`, `accuracy`, `val_loss`, ...), or None when unknown (or
    when a metric's logged name is not sure)."""
    keys = logged_keys(facts, fit)
    if keys is None or keys.maybe:
        return None
    return set(keys.keys)


def logged_metrics(facts: "Facts", model: Value | None) -> set[str] | None:
    """The metric names (without `val_`) the model's last compile logs; None when unknown."""
    calls = compile_calls(facts, model)
    if not calls:
        return None
    names = metric_names(facts, calls[-1])
    return None if names is None or names.maybe else set(names.keys)


def _is_none(v: Value | None) -> bool:
    return isinstance(v, Const) and v.value is None

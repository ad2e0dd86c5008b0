"""Queries about Keras training calls: which fits use a callback, how a model was compiled,
which metric names a fit will log (the keys a `monitor=` may name).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import apis
from .models import root
from .values import CallRecord, Const, Obj, Seq, Value

if TYPE_CHECKING:
    from . import Facts

# metric names Keras logs under their own name when given as strings
_STRING_METRICS = frozenset({"accuracy", "acc", "mae", "mse", "auc", "precision", "recall",
                             "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
                             "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
                             "mean_absolute_error", "mean_squared_error"})


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


def logged_metrics(facts: "Facts", model: Value | None) -> set[str] | None:
    """The metric names (without `val_`) a fit of this model logs: `loss` and each compiled
    metric given by a string name. None when the compile call cannot be read (a metric object,
    a custom function, metrics from a variable we cannot follow, no compile seen)."""
    calls = compile_calls(facts, model)
    if not calls:
        return None
    rec = calls[-1]
    metrics = rec.arg("metrics")
    names = {"loss"}
    if metrics is None:
        return names
    if isinstance(metrics, Const) and metrics.value is None:
        return names
    items: list[Value]
    if isinstance(metrics, Seq) and metrics.complete:
        items = metrics.items
    elif isinstance(metrics, Const) and isinstance(metrics.value, (tuple, list)):
        items = [Const(x) for x in metrics.value]
    else:
        return None
    for m in items:
        if isinstance(m, Const) and isinstance(m.value, str) and m.value in _STRING_METRICS:
            names.add(m.value)
        else:
            return None
    return names


def history_keys(facts: "Facts", fit: CallRecord) -> set[str] | None:
    """The keys this fit logs per epoch (`loss`, `accuracy`, `val_loss`, ...), or None when unknown."""
    names = logged_metrics(facts, fit.receiver)
    if names is None:
        return None
    keys = set(names)
    validation = fit.arg("validation_data")
    split = fit.arg("validation_split")
    if validation is not None and not (isinstance(validation, Const) and validation.value is None) or (
            isinstance(split, Const) and split.value):
        keys |= {"val_" + n for n in names}
    elif validation is not None or split is not None:
        return None  # unknown whether validation runs
    return keys

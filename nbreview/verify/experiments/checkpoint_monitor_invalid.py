"""checkpoint-monitor-invalid: which keys a model compiled as in the notebook really logs, against
the `monitor` of its ModelCheckpoint / EarlyStopping / ReduceLROnPlateau (no training: one step
of a tiny model with the notebook's metrics)."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .base import Context, Experiment, register

METRIC_OBJECTS = {"obj:AUC": "auc", "obj:Precision": "precision", "obj:Recall": "recall",
                  "obj:CategoricalAccuracy": "categorical_accuracy",
                  "obj:SparseCategoricalAccuracy": "sparse_categorical_accuracy"}


def _monitors(recipe) -> list[tuple[str, Any]]:
    out = []
    for field_, label in (("checkpoint", "ModelCheckpoint"), ("early_stopping", "EarlyStopping"),
                          ("reduce_lr_on_plateau", "ReduceLROnPlateau")):
        v = recipe.get(field_)
        if v and "monitor" in v:
            out.append((label, v["monitor"]))
        elif v:
            out.append((label, "val_loss"))
    return out


@register
class CheckpointMonitorInvalid(Experiment):
    kind = "static"
    title = {"ru": "Какие ключи модель пишет в логи", "en": "Which keys the model logs"}

    def applies(self, recipe, plan) -> str | None:
        if not _monitors(recipe):
            return "no callback with a monitor"
        if any(m == "?" for m in recipe.get("metrics", [])):
            return "the notebook's metrics could not be read"
        return None

    def measure(self, ctx: Context, seed: int | None) -> dict[str, Any]:
        import keras

        metrics = [METRIC_OBJECTS.get(m, m) for m in ctx.recipe.get("metrics", [])]
        metrics = [m[4:].lower() if m.startswith("obj:") else m for m in metrics]
        keys, error = logged_keys(metrics)
        checks = []
        for cb, mon in _monitors(ctx.recipe):
            ok = isinstance(mon, str) and keys is not None and mon in keys
            checks.append({"callback": cb, "monitor": mon if isinstance(mon, str) else repr(mon), "logged": ok})
        return {"keras": keras.__version__, "metrics": metrics, "keys": keys, "error": error, "checks": checks}

    def summarize(self, results: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
        r = results[0]
        bad = [c for c in r["checks"] if not c["logged"]]
        keys = ", ".join(f"`{k}`" for k in (r["keys"] or []))
        if r["keys"] is None:
            texts = {"ru": f"модель с метриками ноутбука не удалось скомпилировать: {r['error']}.",
                     "en": f"a model with the notebook's metrics could not be compiled: {r['error']}."}
        elif bad:
            names = ", ".join(f"{c['callback']}(monitor={c['monitor']!r})" for c in bad)
            texts = {"ru": f"модель, скомпилированная как в ноутбуке, на Keras {r['keras']} пишет в логи только "
                           f"{keys}; {names} такого ключа не найдёт: Keras выдаст предупреждение, и колбэк ничего "
                           f"не сделает.",
                     "en": f"a model compiled as in the notebook logs only {keys} on Keras {r['keras']}; "
                           f"{names} will not find its key: Keras warns, and the callback does nothing."}
        else:
            texts = {"ru": f"модель, скомпилированная как в ноутбуке, пишет в логи {keys}: все мониторы находятся.",
                     "en": f"a model compiled as in the notebook logs {keys}: every monitor is found."}
        lines = [f"keras {r['keras']}: logged keys {r['keys']}"] + \
            [f"{c['callback']}(monitor={c['monitor']!r}): {'logged' if c['logged'] else 'NOT logged'}"
             for c in r["checks"]]
        return {"metrics": {"monitors": len(r["checks"]), "not_logged": len(bad)},
                "facts": {"logged_keys": r["keys"], "checks": r["checks"], "keras": r["keras"]},
                "effect": {"direction": "not_logged" if bad else "logged", "agree": len(bad), "of": len(r["checks"])},
                "summary": texts, "lines": lines}


def logged_keys(metrics: list[str]) -> tuple[list[str] | None, str | None]:
    """The history keys of one epoch of a tiny model compiled with these metrics, with validation."""
    import keras

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(inp))
    try:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=metrics)
        x, y = np.random.default_rng(0).normal(size=(8, 4)).astype("float32"), np.array([0, 1] * 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hist = model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=4, verbose=0)
    except Exception as exc:  # noqa: BLE001 - the notebook's metric may not exist in this Keras
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return sorted(hist.history.keys()), None

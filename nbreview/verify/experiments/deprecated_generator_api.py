"""deprecated-generator-api: the notebook's call against the installed Keras, as a one-line
reproduction (no training: a tiny model built like the notebook's, the call made on it)."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .base import Context, Experiment, register


@register
class DeprecatedGeneratorAPI(Experiment):
    kind = "static"
    title = {"ru": "Устаревший API на установленной Keras", "en": "Deprecated API on the installed Keras"}

    def applies(self, recipe, plan) -> str | None:
        return None if recipe.deprecated else "no deprecated call found"

    def measure(self, ctx: Context, seed: int | None) -> dict[str, Any]:
        import keras

        calls = []
        done: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        for d in ctx.recipe.deprecated:
            key = (d.kind, d.name, d.owner)
            if key not in done:  # each kind of call is reproduced once (as written and fixed), every place listed
                done[key] = (reproduce(d.kind, d.name, d.owner), reproduce(d.kind, d.name, d.owner, fixed=True))
            (repro, outcome), (fixed_repro, fixed_outcome) = done[key]
            calls.append({"name": d.name, "kind": d.kind, "code": d.text, "cell": d.cell, "line": d.line,
                          "reproduction": repro, "outcome": outcome["text"], "fails": outcome["fails"],
                          "fixed_reproduction": fixed_repro, "fixed_outcome": fixed_outcome["text"],
                          "fixed_fails": fixed_outcome["fails"]})
        return {"keras": keras.__version__, "calls": calls}

    def summarize(self, results: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
        r = results[0]
        calls = r["calls"]
        fails = [c for c in calls if c["fails"]]
        places: dict[str, Any] = {}
        for c in calls:
            line = f"{c['reproduction']} → {c['outcome']}"
            works = {"ru": f"`{c['code']}` ещё работает: {c['outcome']}.", "en": f"`{c['code']}` still works: {c['outcome']}."}
            fixed = f"{c['fixed_reproduction']} → {'ошибка' if c['fixed_fails'] else 'работает'}"
            fixed_en = f"{c['fixed_reproduction']} → {c['fixed_outcome'] if c['fixed_fails'] else 'works'}"
            fails_txt = {"ru": f"так, как в ноутбуке, вызов падает: {line}; исправленный — {fixed}.",
                         "en": f"called as in the notebook, it fails: {line}; fixed, {fixed_en}."}
            places[f"{c['cell']}:{c['line']}"] = {"summary": fails_txt if c["fails"] else works,
                                                  "lines": [f"keras {r['keras']}: {line}"]}
        joined = "; ".join(f"{c['reproduction']} → {c['outcome']}" for c in fails)
        if fails:
            texts = {"ru": ("этот вызов падает" if len(fails) == 1 else "эти вызовы падают") + f": {joined}.",
                     "en": ("this call fails" if len(fails) == 1 else "these calls fail") + f": {joined}."}
        else:
            names = ", ".join(f"`{c['name']}`" for c in calls)
            texts = {"ru": f"{names} ещё работают (с предупреждением об устаревании).",
                     "en": f"{names} still work (with a deprecation warning)."}
        return {"metrics": {"calls": len(calls), "failing": len(fails)}, "facts": {"keras": r["keras"],
                                                                                  "calls": calls},
                "effect": {"direction": "fails" if fails else "works", "agree": len(fails), "of": len(calls)},
                "summary": texts, "places": places,
                "lines": [f"keras {r['keras']}: {c['reproduction']} -> {c['outcome']}" for c in calls]}


REPLACEMENT = {"fit_generator": "fit", "evaluate_generator": "evaluate", "predict_generator": "predict",
               "predict_classes": "predict", "predict_proba": "predict"}


def reproduce(kind: str, name: str, owner: str, fixed: bool = False) -> tuple[str, dict[str, Any]]:
    """(the one-line reproduction, {"text": the error or "works", "fails": bool}); `fixed`: the call
    as nbreview fix writes it (`fit`, `learning_rate=`)."""
    import keras

    if kind == "argument":
        arg = "learning_rate" if fixed else "lr"
        repro = f"keras.optimizers.{owner}({arg}=1e-4)"
        return repro, _outcome(lambda: getattr(keras.optimizers, owner)(**{arg: 1e-4}))
    if fixed:
        name = REPLACEMENT.get(name, name)
    if owner == "Sequential":
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        ctor = "keras.Sequential([...])"
    else:
        inp = keras.Input((4,))
        model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(inp))
        ctor = "keras.Model(inputs, outputs)"
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = np.zeros((4, 4), "float32"), np.zeros((4,), "int32")

    def gen():
        while True:
            yield x, y

    args = {"fit_generator": (gen(),), "evaluate_generator": (gen(),), "predict_generator": (gen(),),
            "fit": (gen(),), "evaluate": (gen(),), "predict": (gen(),) if not fixed or kind != "method" else (x,),
            "predict_classes": (x,), "predict_proba": (x,)}.get(name, (x,))
    kwargs = {"steps_per_epoch": 1, "epochs": 1, "verbose": 0} if name in ("fit_generator", "fit") else \
        ({"steps": 1, "verbose": 0} if name.endswith("_generator") or name in ("evaluate", "predict") else {})
    if name == "predict" and args[0] is x:
        kwargs = {"verbose": 0}
    repro = f"{ctor}.{name}(...)"

    def call():
        return getattr(model, name)(*args, **kwargs)

    return repro, _outcome(call)


def _outcome(fn) -> dict[str, Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the point is to show it
            first = (str(exc).strip().splitlines() or [""])[0]
            return {"text": f"{type(exc).__name__}: {first[:160]}", "fails": True}
    dep = [w for w in caught if issubclass(w.category, (DeprecationWarning, FutureWarning, UserWarning))]
    return {"text": "works" + (f" ({str(dep[0].message).splitlines()[0][:120]})" if dep else ""), "fails": False}

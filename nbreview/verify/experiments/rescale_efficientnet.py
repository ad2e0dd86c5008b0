"""rescale-efficientnet: [0, 1] inputs into an EfficientNet that rescales 0..255 itself.

Measured: the range of values the backbone's stem convolution really reads, on a batch of
the data, as written and fixed; and, trained from the same initial weights on the same
split, the validation accuracy with the notebook's `/255` and with raw 0..255 input.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..texts import after_epochs, consistency, count, in_runs, num, pm, rng, stat
from .base import Context, Experiment, register


@register
class RescaleEfficientNet(Experiment):
    kind = "training"
    title = {"ru": "EfficientNet: /255 или 0..255", "en": "EfficientNet: /255 or 0..255"}

    def applies(self, recipe, plan) -> str | None:
        if not recipe.get("preprocessing_inside"):
            return "the notebook's backbone does not rescale inside (not a keras.applications EfficientNet)"
        if plan.scaling == plan.correct_scaling:
            return "the notebook feeds the backbone the 0..255 it expects"
        return None

    def measure(self, ctx: Context, seed: int | None) -> dict[str, Any]:
        import time

        from .. import train

        assert seed is not None
        plan = ctx.plan
        x_tr, y_tr, x_va, y_va = ctx.split(seed)
        out: dict[str, Any] = {"seed": seed}
        for tag, scaling in (("as_written", plan.scaling), ("fixed", plan.correct_scaling)):
            t = time.perf_counter()
            train.seed_all(seed)  # same initial weights, same shuffling, same augmentation draws
            bundle = ctx.bundle(scaling, seed=seed)
            if "stem" not in ctx.facts_cache.get(tag, {}):
                ctx.facts_cache.setdefault(tag, {})["stem"] = stem_range(bundle, scaling, x_va[:64])
            train.compile_model(bundle.train, ctx.optimizer(max(1, -(-len(y_tr) // plan.batch_size))))
            curve: list[float] = []
            probe = _EpochScore(bundle, x_va, y_va, plan.batch_size, curve)
            prog = train.ProgressCallback(ctx.reporter, f"seed {seed}: {self.slug} {tag}", len(y_tr),
                                          plan.batch_size, plan.epochs)
            hist = bundle.train.fit(train.dataset(x_tr, y_tr, plan.batch_size, shuffle_seed=seed),
                                    epochs=plan.epochs, callbacks=[probe.callback(), prog], verbose=0, shuffle=False)
            out[tag] = {"val_accuracy": curve, "final": curve[-1], "best": max(curve),
                        "train_accuracy": float(hist.history["accuracy"][-1]), "wall_s": time.perf_counter() - t}
        return out

    def summarize(self, results: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
        written = stat(r["as_written"]["final"] for r in results)
        fixed = stat(r["fixed"]["final"] for r in results)
        deltas = [r["fixed"]["final"] - r["as_written"]["final"] for r in results]
        delta = stat(deltas)
        direction, agree, n = consistency(deltas, "en")
        s_w = ctx.facts_cache.get("as_written", {}).get("stem")
        s_f = ctx.facts_cache.get("fixed", {}).get("stem")
        epochs = ctx.plan.epochs
        plan = ctx.plan
        metrics = {
            "val_accuracy_final": {"as_written": written, "fixed": fixed, "delta": delta},
            "val_accuracy_best": {"as_written": stat(r["as_written"]["best"] for r in results),
                                  "fixed": stat(r["fixed"]["best"] for r in results)},
            "train_accuracy_final": {"as_written": stat(r["as_written"]["train_accuracy"] for r in results),
                                     "fixed": stat(r["fixed"]["train_accuracy"] for r in results)},
        }
        facts = {"stem_input": {"as_written": s_w, "fixed": s_f}, "scaling": {"as_written": plan.scaling,
                                                                             "fixed": plan.correct_scaling}}
        texts = {}
        for lang in ("ru", "en"):
            stem = ""
            if s_w and s_f:
                ratio = s_f["signal"] / max(s_w["signal"], 1e-12)
                where = ("первая свёртка EfficientNet" if plan.backbone != "nbreview-mini" else
                         "первая свёртка после стема EfficientNet") if lang == "ru" else \
                    ("EfficientNet's first convolution" if plan.backbone != "nbreview-mini" else
                     "the first convolution after EfficientNet's stem")
                stem = (f"с `/255` {where} получает значения {rng(s_w['min'], s_w['max'])} вместо "
                        f"{rng(s_f['min'], s_f['max'])}, а изменчивость внутри канала в {ratio:.0f} раз меньше "
                        f"({s_w['signal']:.4f} против {s_f['signal']:.3f}); " if lang == "ru" else
                        f"with `/255` {where} gets values {rng(s_w['min'], s_w['max'])} instead of "
                        f"{rng(s_f['min'], s_f['max'])}, and the variation within a channel is {ratio:.0f} times "
                        f"smaller ({s_w['signal']:.4f} against {s_f['signal']:.3f}); ")
            if lang == "ru":
                verdict = {"fixed_better": f"без деления точность выше {in_runs(agree, n, lang)}",
                           "as_written_better": f"с делением точность выше {in_runs(agree, n, lang)}",
                           "no_difference": "разницы нет",
                           "mixed": f"знак разницы меняется от запуска к запуску ({agree} из {n} в одну сторону)"}
                texts[lang] = (stem + f"точность на валидации после {after_epochs(epochs)}: "
                               f"{pm(written)} как в ноутбуке и {pm(fixed)} без `/255` "
                               f"(разница {pm(delta, signed=True)}; {verdict[direction]}).")
            else:
                verdict = {"fixed_better": f"raw input is better {in_runs(agree, n, lang)}",
                           "as_written_better": f"`/255` is better {in_runs(agree, n, lang)}",
                           "no_difference": "no difference",
                           "mixed": f"the sign changes between runs ({agree} of {n} one way)"}
                texts[lang] = (stem + f"validation accuracy after {count(epochs, 'epoch', lang)}: "
                               f"{pm(written)} as written and {pm(fixed)} without `/255` "
                               f"(difference {pm(delta, signed=True)}; {verdict[direction]}).")
        lines = [f"seed {r['seed']}: val_accuracy as written {num(r['as_written']['final'])}, "
                 f"fixed {num(r['fixed']['final'])}" for r in results]
        return {"metrics": metrics, "facts": facts, "effect": {"direction": direction, "agree": agree, "of": n,
                                                               "metric": "val_accuracy_final"},
                "summary": texts, "lines": lines}


def stem_range(bundle, scaling: str, x: np.ndarray) -> dict[str, float]:
    """min/max/mean/std of what the backbone's first convolution reads, for this batch and scaling."""
    import keras

    from ..models import Preprocess, ToFloat, stem_input_layer

    probe = keras.Model(bundle.backbone.input, stem_input_layer(bundle.backbone))
    v = keras.ops.convert_to_numpy(probe(Preprocess(scaling)(ToFloat()(x)))).astype(np.float64)
    # "signal": how much the values vary within a channel (the per-channel offsets of the normalisation
    # are not information), averaged over the channels
    signal = float(np.mean([v[..., c].std() for c in range(v.shape[-1])]))
    return {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()), "std": float(v.std()),
            "signal": signal}


class _EpochScore:
    def __init__(self, bundle, x, y, batch: int, out: list[float]) -> None:
        self.bundle, self.x, self.y, self.batch, self.out = bundle, x, y, batch, out

    def callback(self):
        import keras

        from .. import train

        me = self

        class Score(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None) -> None:
                s = train.scores(train.predict(me.bundle.clean, me.x, me.batch), me.y)
                me.out.append(s.accuracy)
                if logs is not None:
                    logs["val_accuracy"], logs["val_loss"] = s.accuracy, s.loss

        return Score()

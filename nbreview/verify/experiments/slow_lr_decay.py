"""slow-lr-decay: the notebook's Keras learning-rate schedule evaluated over the epochs it trains
(no training: the schedule object of the installed Keras, built with the notebook's arguments,
read at the first step of every epoch)."""
from __future__ import annotations

import math
from typing import Any

from ..texts import count
from .base import Context, Experiment, register


@register
class SlowLRDecay(Experiment):
    kind = "static"
    title = {"ru": "Learning rate по эпохам", "en": "Learning rate by epoch"}

    def applies(self, recipe, plan) -> str | None:
        spec = recipe.get("lr_schedule")
        if not spec:
            return "no keras.optimizers.schedules object in the notebook"
        if not spec.get("complete"):
            return "the schedule's arguments are not all constants"
        return None

    def measure(self, ctx: Context, seed: int | None) -> dict[str, Any]:
        import keras

        from .. import train

        spec = ctx.recipe.get("lr_schedule")
        sched = train.lr_schedule(spec)
        if sched is None:
            return {"error": f"keras.optimizers.schedules.{spec['type']} cannot be built with {spec['args']}"}
        epochs = int(ctx.recipe.get("epochs", 1))
        n_train = int(round(len(ctx.images.y) * (1 - ctx.plan.val_fraction)))
        batch = int(ctx.recipe.get("batch_size", 32))
        steps = max(1, math.ceil(n_train / batch))
        lrs = [float(keras.ops.convert_to_numpy(sched(e * steps))) for e in range(epochs + 1)]
        return {"type": spec["type"], "args": spec["args"], "epochs": epochs, "steps_per_epoch": steps,
                "train_images": n_train, "lr": lrs}

    def summarize(self, results: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
        r = results[0]
        if "error" in r:
            return {"metrics": {}, "facts": r, "effect": {"direction": "unknown", "agree": 0, "of": 0},
                    "summary": {"ru": "расписание не удалось построить: " + r["error"],
                                "en": "the schedule could not be built: " + r["error"]}, "lines": []}
        lr = r["lr"]
        ratio = lr[-1] / lr[0] if lr[0] else float("nan")
        e = r["epochs"]
        texts = {"ru": f"{r['type']} с аргументами ноутбука за {count(e, 'epoch', 'ru')} "
                       f"({r['steps_per_epoch']} шагов в эпохе при {r['train_images']} изображениях): learning rate "
                       f"{lr[0]:.3g} → {lr[-1]:.3g}, к концу обучения это {ratio:.0%} от начального.",
                 "en": f"{r['type']} with the notebook's arguments over {count(e, 'epoch', 'en')} "
                       f"({r['steps_per_epoch']} steps per epoch with {r['train_images']} images): learning rate "
                       f"{lr[0]:.3g} → {lr[-1]:.3g}, {ratio:.0%} of the initial value by the end of training."}
        lines = ["epoch " + " ".join(f"{i + 1}:{v:.3g}" for i, v in enumerate(lr[:-1]))]
        return {"metrics": {"lr_first": lr[0], "lr_last": lr[-1], "ratio": ratio},
                "facts": {k: r[k] for k in ("type", "args", "epochs", "steps_per_epoch", "train_images", "lr")},
                "effect": {"direction": "slow" if ratio > 0.5 else "decays", "agree": 1, "of": 1},
                "summary": texts, "lines": lines}

"""checkpoint-save-best-only: what the "best" file really holds.

The reference training carries two real Keras ModelCheckpoint callbacks: the notebook's
(save_best_only as written) and the fixed one (save_best_only=True), same monitor and mode.
After training, each file is loaded and scored on the clean validation data, and set against
the per-epoch history: the notebook's file holds the last epoch, the fixed file the best.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..texts import consistency, in_runs, num, pm, stat
from .base import Context, Experiment, register


@register
class CheckpointSaveBestOnly(Experiment):
    kind = "training"
    uses_reference = True
    title = {"ru": "Что лежит в файле «лучшей» модели", "en": "What the \"best\" file holds"}

    def applies(self, recipe, plan) -> str | None:
        ck = recipe.get("checkpoint")
        if not ck:
            return "the notebook has no ModelCheckpoint"
        if ck.get("save_best_only"):
            return "the checkpoint already keeps only the best epoch"
        return None

    def measure(self, ctx: Context, seed: int | None) -> dict[str, Any]:
        assert seed is not None
        ref = ctx.reference(seed)
        ck = ref.checkpoints
        clean = [e["accuracy"] for e in ref.clean]
        mon = ck["fixed"]["monitor"]
        series = ref.history.get(mon)
        higher = _higher(mon, ck["fixed"]["mode"])
        best_by_monitor = None
        if series:
            best_val = max(series) if higher else min(series)
            best_by_monitor = series.index(best_val) + 1  # Keras saves on strict improvement: the first best
        return {"seed": seed, "epochs": ref.epochs_run, "clean": clean, "monitor": mon,
                "monitor_series": series,
                "as_written": {"saved": ck["as_written"]["saved"], "accuracy": ck["as_written"].get("clean_accuracy"),
                               "epoch": ref.epochs_run if not ck["as_written"]["save_best_only"] else best_by_monitor},
                "fixed": {"saved": ck["fixed"]["saved"], "accuracy": ck["fixed"].get("clean_accuracy"),
                          "epoch": best_by_monitor},
                "best_epoch": int(np.argmax(clean)) + 1, "best_accuracy": max(clean), "last_accuracy": clean[-1]}

    def summarize(self, results: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
        ok = [r for r in results if r["as_written"]["saved"] and r["fixed"]["saved"]]
        written = stat(r["as_written"]["accuracy"] for r in ok)
        fixed = stat(r["fixed"]["accuracy"] for r in ok)
        deltas = [r["fixed"]["accuracy"] - r["as_written"]["accuracy"] for r in ok]
        delta = stat(deltas)
        direction, agree, n = consistency(deltas, "en")
        # the last epoch is as good as the best one (ties count: then the two files score the same)
        last_is_best = sum(1 for r in ok if r["last_accuracy"] >= r["best_accuracy"] - 1e-9)
        metrics = {"file_val_accuracy": {"as_written": written, "fixed": fixed, "delta": delta},
                   "best_epoch_val_accuracy": stat(r["best_accuracy"] for r in ok),
                   "last_epoch_val_accuracy": stat(r["last_accuracy"] for r in ok),
                   "last_epoch_was_best": {"count": last_is_best, "of": len(ok)}}
        texts: dict[str, str] = {}
        if not ok:
            reason = "the fixed checkpoint never saved: its monitor is not logged"
            return {"metrics": metrics, "facts": {}, "effect": {"direction": "unknown", "agree": 0, "of": 0},
                    "summary": {"ru": "проверить не удалось: монитор чекпоинта не записывается в логи обучения.",
                                "en": "could not be measured: " + reason + "."}, "lines": []}
        epochs_w = sorted({r["as_written"]["epoch"] for r in ok})  # differs between runs when EarlyStopping stops
        epochs_f = [r["fixed"]["epoch"] for r in ok]
        for lang in ("ru", "en"):
            if lang == "ru":
                tail = (f"последняя эпоха оказалась не хуже лучшей {in_runs(last_is_best, len(ok), lang)}, "
                        f"и там разницы нет" if last_is_best else "ни в одном запуске последняя эпоха не была лучшей")
                last = " и ".join(f"{e}-ю" for e in epochs_w)
                texts[lang] = (f"файл чекпоинта в том виде, как он написан, хранит последнюю эпоху "
                               f"({last}): точность на валидации {pm(written)}; "
                               f"с `save_best_only=True` в нём лучшая эпоха (по запускам: "
                               f"{', '.join(map(str, epochs_f))}): {pm(fixed)} (разница {pm(delta, signed=True)}); "
                               f"{tail}.")
            else:
                tail = (f"the last epoch was as good as the best {in_runs(last_is_best, len(ok), lang)}, and there "
                        f"the files are equal" if last_is_best else "the last epoch was never the best")
                texts[lang] = (f"the checkpoint file as written holds the last epoch "
                               f"({', '.join(map(str, epochs_w))}): validation accuracy {pm(written)}; "
                               f"with `save_best_only=True` it holds the best epoch (by run: "
                               f"{', '.join(map(str, epochs_f))}): {pm(fixed)} (difference {pm(delta, signed=True)}); "
                               f"{tail}.")
        lines = [f"seed {r['seed']}: val_accuracy by epoch " + " ".join(num(a) for a in r["clean"]) +
                 f"; file as written = epoch {r['as_written']['epoch']} ({num(r['as_written']['accuracy'])}), "
                 f"save_best_only=True = epoch {r['fixed']['epoch']} ({num(r['fixed']['accuracy'])})" for r in ok]
        return {"metrics": metrics, "facts": {"monitor": ok[0]["monitor"]},
                "effect": {"direction": direction, "agree": agree, "of": n, "metric": "file_val_accuracy"},
                "summary": texts, "lines": lines}


def _higher(monitor: str, mode: str) -> bool:
    if mode == "max":
        return True
    if mode == "min":
        return False
    return "acc" in monitor or monitor.startswith("fmeasure") or "auc" in monitor

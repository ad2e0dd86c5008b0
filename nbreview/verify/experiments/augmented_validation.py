"""augmented-validation: the same weights scored, after every epoch, on the augmented validation
pipeline (as written) and on a clean one (fixed): how far and how noisily the reported number
is off, and whether the epoch it calls best is the best one."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..texts import consistency, in_runs, num, pm, stat
from .base import AUG_VAL_PASSES, Context, Experiment, register


@register
class AugmentedValidation(Experiment):
    kind = "training"
    uses_reference = True
    title = {"ru": "Валидация с аугментациями", "en": "Augmented validation"}

    def applies(self, recipe, plan) -> str | None:
        if not plan.augmentation:
            return "the notebook's augmentation could not be read"
        if all(a.fidelity == "not reproduced" for a in plan.augmentation):
            return "none of the notebook's augmentations can be reproduced with Keras layers"
        return None

    def measure(self, ctx: Context, seed: int | None) -> dict[str, Any]:
        assert seed is not None
        ref = ctx.reference(seed)
        clean = [e["accuracy"] for e in ref.clean]
        passes = [[p["accuracy"] for p in e] for e in ref.augmented]
        reported = [p[0] for p in passes]  # what the notebook's log would show: one augmented pass
        noise = [float(np.std(p, ddof=1)) if len(p) > 1 else 0.0 for p in passes]
        best_rep = int(np.argmax(reported))
        best_clean = int(np.argmax(clean))
        return {"seed": seed, "clean": clean, "reported": reported, "passes": passes, "noise": noise,
                "gap": [c - r for c, r in zip(clean, reported)],
                "best_epoch_reported": best_rep + 1, "best_epoch_clean": best_clean + 1,
                "clean_at_reported_best": clean[best_rep], "clean_best": clean[best_clean]}

    def summarize(self, results: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
        gaps = [float(np.mean(r["gap"])) for r in results]
        gap = stat(gaps)
        noise = stat(float(np.mean(r["noise"])) for r in results)
        clean_final = stat(r["clean"][-1] for r in results)
        reported_final = stat(r["reported"][-1] for r in results)
        changed = sum(1 for r in results if r["best_epoch_reported"] != r["best_epoch_clean"])
        lost = stat(r["clean_best"] - r["clean_at_reported_best"] for r in results)
        direction, agree, n = consistency(gaps, "en")
        metrics = {"val_accuracy_last_epoch": {"as_written": reported_final, "fixed": clean_final},
                   "gap_clean_minus_augmented": gap,
                   "noise_between_passes": noise,
                   "best_epoch_changed": {"count": changed, "of": n},
                   "accuracy_lost_by_best_epoch_choice": lost}
        texts = {}
        for lang in ("ru", "en"):
            if lang == "ru":
                best = (f"лучшая эпоха по такой валидации не совпала с лучшей по чистой {in_runs(changed, n, lang)}"
                        if changed else "лучшая эпоха в этих запусках совпала")
                noise_txt = (f"при одних и тех же весах повторные проходы по аугментированной валидации расходятся "
                             f"на {pm(noise, 3)} (на чистой — ровно 0)")
                texts[lang] = (f"те же веса на аугментированной и на чистой валидации: в среднем по эпохам чистая "
                               f"точность выше на {pm(gap, 3)} ({in_runs(agree, n, lang)} в эту сторону); "
                               f"{noise_txt}; {best}.")
            else:
                best = (f"the best epoch by this validation differed from the best by clean validation "
                        f"{in_runs(changed, n, lang)}" if changed else "the best epoch was the same in these runs")
                noise_txt = (f"with the same weights, repeated passes over the augmented validation differ by "
                             f"{pm(noise, 3)} (exactly 0 on the clean one)")
                texts[lang] = (f"the same weights on the augmented and on the clean validation: averaged over epochs, "
                               f"clean accuracy is higher by {pm(gap, 3)} ({in_runs(agree, n, lang)} this way); "
                               f"{noise_txt}; {best}.")
        lines = [f"seed {r['seed']}: epoch val_accuracy augmented/clean " +
                 " ".join(f"{num(a)}/{num(c)}" for a, c in zip(r["reported"], r["clean"])) +
                 f"; best epoch {r['best_epoch_reported']} vs {r['best_epoch_clean']}" for r in results]
        return {"metrics": metrics, "facts": {"augmented_passes_per_epoch": AUG_VAL_PASSES},
                "effect": {"direction": direction, "agree": agree, "of": n, "metric": "gap_clean_minus_augmented"},
                "summary": texts, "lines": lines}

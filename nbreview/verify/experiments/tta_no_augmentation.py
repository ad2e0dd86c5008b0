"""tta-no-augmentation: N prediction passes over a pipeline that does not augment are identical.

With the reference model of each seed: the notebook's passes (clean pipeline) and the fixed
ones (the training augmentation on, or flips and shifts when the notebook has none). Reported:
the largest difference between passes (exactly 0 as written), the spread with augmentation,
and the accuracy of the averaged prediction against a single pass.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..recipe import AugOp
from ..texts import consistency, count, in_runs, num, pm, stat
from .base import Context, Experiment, register

DEFAULT_TTA_AUG = [AugOp("flip", {"mode": "horizontal"}, "RandomFlip('horizontal')"),
                   AugOp("translation", {"height": 0.1, "width": 0.1}, "RandomTranslation(0.1, 0.1)")]


@register
class TTANoAugmentation(Experiment):
    kind = "training"
    uses_reference = True
    title = {"ru": "TTA без аугментаций", "en": "TTA without augmentation"}

    def applies(self, recipe, plan) -> str | None:
        tta = recipe.get("tta")
        if not tta:
            return "no repeated predict passes (TTA) found in the notebook"
        if tta.get("augmented"):
            return "the notebook's TTA passes are augmented"
        return None

    def measure(self, ctx: Context, seed: int | None) -> dict[str, Any]:
        import keras

        from .. import train
        from ..models import AlwaysAugment, ToFloat, augmenter

        assert seed is not None
        ref = ctx.reference(seed)
        plan = ctx.plan
        x, y, batch = ref.x_val, ref.y_val, plan.batch_size
        n = plan.tta_passes
        written = np.stack([train.predict(ref.bundle.clean, x, batch) for _ in range(n)])
        max_diff = float(np.max(np.abs(written - written[0])))
        single = train.scores(written[0], y).accuracy
        tta_written = train.scores(written.mean(axis=0), y).accuracy
        aug_model = ref.bundle.augmented
        used = "the notebook's training augmentation"
        if aug_model is None:
            seq, _ = augmenter(DEFAULT_TTA_AUG, plan.image_size, seed + 17)
            inp = keras.Input((plan.image_size, plan.image_size, 3), dtype="uint8")
            aug_model = keras.Model(inp, ref.bundle.core(AlwaysAugment(seq)(ToFloat()(inp))))
            used = "horizontal flips and 10% shifts (the notebook has no augmentation)"
        fixed = np.stack([train.predict(aug_model, x, batch) for _ in range(n)])
        spread = float(np.mean(np.std(fixed, axis=0, ddof=1).max(axis=1)))
        single_aug = float(np.mean([train.scores(p, y).accuracy for p in fixed]))
        tta_fixed = train.scores(fixed.mean(axis=0), y).accuracy
        return {"seed": seed, "passes": n, "as_written": {"max_abs_difference": max_diff, "single": single,
                                                          "tta": tta_written},
                "fixed": {"spread": spread, "single_augmented": single_aug, "tta": tta_fixed,
                          "augmentation": used}}

    def summarize(self, results: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
        n_pass = results[0]["passes"]
        max_diff = max(r["as_written"]["max_abs_difference"] for r in results)
        single = stat(r["as_written"]["single"] for r in results)
        tta_w = stat(r["as_written"]["tta"] for r in results)
        spread = stat(r["fixed"]["spread"] for r in results)
        tta_f = stat(r["fixed"]["tta"] for r in results)
        single_aug = stat(r["fixed"]["single_augmented"] for r in results)
        deltas = [r["fixed"]["tta"] - r["as_written"]["single"] for r in results]
        direction, agree, n = consistency(deltas, "en")
        metrics = {"max_abs_difference_between_passes": {"as_written": max_diff},
                   "prediction_spread_between_passes": {"fixed": spread},
                   "accuracy": {"single_pass": single, "tta_as_written": tta_w, "tta_augmented": tta_f,
                                "single_augmented_pass": single_aug, "delta": stat(deltas)}}
        identical = max_diff == 0.0
        better = sum(1 for d in deltas if d > 0)
        texts = {}
        for lang in ("ru", "en"):
            if lang == "ru":
                same = ("все проходы совпали до последнего знака (наибольшая разница вероятностей — ровно 0), "
                        "так что усреднение даёт ту же точность, что и один проход"
                        if identical else f"проходы почти совпали (наибольшая разница {max_diff:.2g})")
                texts[lang] = (f"{count(n_pass, 'pass', lang)} по данным без аугментаций: {same} ({pm(single)}). "
                               f"С аугментацией проходы различаются (разброс вероятностей {pm(spread, 3)}), и TTA "
                               f"даёт {pm(tta_f)} против {pm(single)} за один чистый проход "
                               f"({'лучше ' + in_runs(better, n, lang) if better else 'ни разу не лучше'}).")
            else:
                same = ("every pass was identical to the last digit (largest difference in probabilities: exactly 0), "
                        "so averaging gives the accuracy of one pass" if identical else
                        f"the passes almost coincided (largest difference {max_diff:.2g})")
                texts[lang] = (f"{count(n_pass, 'pass', lang)} over data without augmentation: {same} ({pm(single)}). "
                               f"With augmentation the passes differ (spread of probabilities {pm(spread, 3)}), and TTA "
                               f"gives {pm(tta_f)} against {pm(single)} for one clean pass "
                               f"({'better ' + in_runs(better, n, lang) if better else 'never better'}).")
        lines = [f"seed {r['seed']}: as written max |Δp| = {r['as_written']['max_abs_difference']:g}, "
                 f"accuracy {num(r['as_written']['single'])}; augmented TTA {num(r['fixed']['tta'])} "
                 f"(spread {r['fixed']['spread']:.3f})" for r in results]
        return {"metrics": metrics, "facts": {"identical_passes": identical, "passes": n_pass,
                                              "augmentation": results[0]["fixed"]["augmentation"]},
                "effect": {"direction": direction, "agree": agree, "of": n, "metric": "accuracy"},
                "summary": texts, "lines": lines}

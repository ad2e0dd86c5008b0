"""oversampling-for-accuracy: classes balanced by oversampling (rows or files duplicated)
while the target metric is accuracy, which balancing does not improve."""
from __future__ import annotations

import re

from ..facts import apis
from .base import Context, Rule, register

ACCURACY = frozenset({"acc", "accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy"})
_OTHER_METRIC = re.compile(r"\b(f1|f-?score|f-?measure|balanced[_ ]accuracy|recall|precision|auc|roc)\b", re.I)
_ACCURACY_TEXT = re.compile(r"\baccuracy\b|точност", re.I)


@register
class OversamplingForAccuracy(Rule):
    slug = "oversampling-for-accuracy"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        found = facts.oversampling()
        if not found or not _metric_is_accuracy(facts):
            return
        if not facts.method_calls(*apis.FIT_METHODS, include_uncalled=True) and not facts.training_loops:
            return  # nothing is trained on the balanced data
        for ov in found:
            ctx.report(ov.site, params={"code": ov.text}, variant="copy" if ov.how == "copy" else "default",
                       group="oversampling")


def _metric_is_accuracy(facts) -> bool:
    markdown = " ".join(c.source for c in facts.program.notebook.cells if c.cell_type == "markdown")
    if _OTHER_METRIC.search(markdown):
        return False
    for rec in facts.method_calls("compile", include_uncalled=True):
        metrics = rec.arg("metrics")
        items = getattr(metrics, "items", None) or []
        for m in items:
            if getattr(m, "value", None) in ACCURACY:
                return True
            if getattr(m, "api", "") and (m.api or "").rsplit(".", 1)[-1].endswith("Accuracy"):
                return True
    return bool(_ACCURACY_TEXT.search(markdown))


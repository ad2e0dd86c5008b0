"""deprecated-generator-api: fit_generator & co., predict_classes, optimizer `lr=`."""
from __future__ import annotations

from typing import Iterator

from ..facts import Facts, apis
from ..facts.pipelines import arg_evidence
from ..facts.values import Obj
from . import Hit, rule

REPLACEMENT = {
    "fit_generator": "fit",
    "evaluate_generator": "evaluate",
    "predict_generator": "predict",
    "predict_classes": "predict",
}


@rule("deprecated-generator-api")
def check(facts: Facts) -> Iterator[Hit]:
    seen: set[tuple[int, int, int]] = set()
    for rec in facts.method_calls(*apis.DEPRECATED_METHODS, include_uncalled=True):
        recv = rec.receiver
        if isinstance(recv, Obj) and recv.kind == "call" and (recv.api or "").startswith("notebook."):
            continue  # the student's own class with a method of that name
        if rec.site.key in seen:
            continue
        seen.add(rec.site.key)
        yield Hit(rec.site, {"old": rec.method, "new": REPLACEMENT[rec.method or ""]},
                  variant="predict_classes" if rec.method == "predict_classes" else "default",
                  group=rec.method or "")
    for opt in facts.created_matching(_is_keras_optimizer, include_uncalled=True):
        if "lr" not in opt.args:
            continue
        ev = arg_evidence(opt, "lr", facts.sem.sources)
        if ev.site.key in seen:
            continue
        seen.add(ev.site.key)
        yield Hit(ev.site, {"old": ev.text, "optimizer": (opt.api or "").rsplit(".", 1)[-1]}, variant="lr")


def _is_keras_optimizer(api: str) -> bool:
    parts = api.split(".")
    return len(parts) == 3 and parts[0] == "keras" and parts[1] == "optimizers" and parts[2][:1].isupper()

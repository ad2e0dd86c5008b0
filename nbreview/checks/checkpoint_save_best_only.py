"""checkpoint-save-best-only: a ModelCheckpoint that writes a file every epoch."""
from __future__ import annotations

from typing import Iterator

from ..facts import Facts, name_of
from ..facts.values import Const, Obj
from . import Hit, rule

MODEL_CHECKPOINT = "keras.callbacks.ModelCheckpoint"


@rule("checkpoint-save-best-only")
def check(facts: Facts) -> Iterator[Hit]:
    # a checkpoint in a function the notebook never calls is still code the student wrote and will reuse
    for ckpt in facts.created(MODEL_CHECKPOINT, include_uncalled=True):
        sbo = ckpt.arg("save_best_only", Const(False))
        if not isinstance(sbo, Const):
            continue  # unknown (a variable we cannot evaluate, **kwargs we cannot read): stay silent
        if sbo.value:  # Keras tests truthiness
            continue
        path = ckpt.arg("filepath")
        path_text = path.value if isinstance(path, Const) and isinstance(path.value, str) else None
        variant = "default"
        if "save_best_only" in ckpt.args:
            variant = "explicit_false"
        elif path_text and "{" in path_text:
            variant = "per_epoch_files"
        related = [rec.site for rec in _loads_of(facts, path_text)]
        yield Hit(
            site=ckpt.site,
            params={
                "name": name_of(facts, ckpt) or "ModelCheckpoint",
                "path": path_text or "…",
            },
            related=related,
            variant=variant,
        )


def _loads_of(facts: Facts, path: str | None):
    if not path:
        return []
    out = []
    for rec in facts.method_calls("load_weights") + facts.calls_to("keras.models.load_model", "keras.saving.load_model"):
        v = rec.args.get("filepath", rec.args.get("#0"))
        if isinstance(v, Const) and v.value == path:
            out.append(rec)
    return out


__all__ = ["check", "Obj"]

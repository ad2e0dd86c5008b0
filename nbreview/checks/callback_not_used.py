"""callback-not-used: a Keras callback (ModelCheckpoint, EarlyStopping, ReduceLROnPlateau,
LearningRateScheduler) is created but reaches no `fit` that runs, so it does nothing."""
from __future__ import annotations

from ..facts.liveness import EFFECTIVE_CALLBACKS
from ..facts.values import Const, Obj
from .base import Context, Rule, register

VARIANTS = {
    "keras.callbacks.ModelCheckpoint": "default",
    "keras.callbacks.EarlyStopping": "early_stopping",
    "keras.callbacks.ReduceLROnPlateau": "reduce_lr",
    "keras.callbacks.LearningRateScheduler": "lr_scheduler",
}


@register
class CallbackNotUsed(Rule):
    slug = "callback-not-used"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for cb in facts.created(*EFFECTIVE_CALLBACKS):
            if facts.ran(cb.site) is False:
                continue  # made in a cell that did not run: it never existed
            if facts.callback_reach(cb).value is not False or facts.replaced_by(cb) is not None:
                continue
            runs = facts.fits_run()
            later = [rec for rec in runs if rec.seq > cb.seq]
            related = [rec.site for rec in (later[:2] if later else runs[-1:])]
            ctx.report(facts.top_site(cb.site, cb.seq), subject=cb, related=related,
                       variant=VARIANTS[cb.api or ""],
                       params={"name": facts.name_of(cb), "path": _path(cb)})


def _path(cb: Obj) -> str | None:
    if cb.api != "keras.callbacks.ModelCheckpoint":
        return None
    p = cb.arg("filepath")
    return p.value if isinstance(p, Const) and isinstance(p.value, str) else None

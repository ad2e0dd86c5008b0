"""backbone-not-in-model: a backbone is created (or re-created) and frozen / unfrozen, but the
model that is compiled and fitted afterwards was built from a different backbone object, so
the change has no effect on training."""
from __future__ import annotations

from ..facts.values import Obj, Ref
from .base import Context, Rule, register


@register
class BackboneNotInModel(Rule):
    slug = "backbone-not-in-model"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        fits = facts.fits_run()
        done: set[int] = set()
        for ch in facts.trainable_changes:
            bb = ch.backbone
            if bb.id in done or facts.ran(ch.site) is False or _hidden(bb):
                continue
            later = [f for f in fits if f.seq > ch.seq]
            if not later or any(facts.order_conflict(ch.site, ch.seq, f.site, f.seq) for f in fits):
                continue
            structures = [facts.structure(f.receiver) for f in later]
            if any(s is None or s.contains(bb) is not False for s in structures):
                continue  # a later fit trains a model that holds it (or we cannot tell)
            fit, held = later[0], structures[0]
            name = facts.name_of(bb)
            twins = [b for b in held.backbones if b.api == bb.api or (name and facts.name_of(b) == name)]
            if not twins:
                continue
            done.add(bb.id)
            other = twins[0]
            ctx.report(facts.top_site(ch.site, ch.seq), subject=bb, related=[other.site, fit.site],
                       params={"name": name, "model": facts.describe(fit.receiver),
                               "arch": (bb.api or "").rsplit(".", 1)[-1],
                               "change": facts.quote(ch.site, 60)})


def _hidden(bb: Obj) -> bool:
    """The backbone is handed to code the analysis does not follow (a helper beyond its reach,
    an unknown library), which may build a model from it."""
    for use in bb.uses:
        rec = use.call
        if use.param == "self" or rec.followed or rec.name.startswith("builtins."):
            continue
        if isinstance(rec.callee, Ref) and rec.callee.qname.startswith("keras."):
            continue
        return True
    return False

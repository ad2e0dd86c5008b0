"""head-reinitialised: after the head was trained on a frozen backbone, a new model with a new,
randomly initialised head is built on the same backbone for fine-tuning, so the trained head
is thrown away (and its random replacement sends large gradients into the unfrozen backbone)."""
from __future__ import annotations

from ..facts.values import CallRecord, Obj
from .base import Context, Rule, register

WEIGHT_SETTERS = ("load_weights", "set_weights", "load_model")


@register
class HeadReinitialised(Rule):
    slug = "head-reinitialised"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        fits = facts.fits_run()
        reported: set[int] = set()
        for i, first in enumerate(fits):
            s1 = facts.structure(first.receiver)
            if s1 is None or not s1.complete:
                continue
            head1 = {o.id for o in s1.weight_layers}
            for bb in s1.backbones:
                if not head1 or facts.frozen_at(bb, first.seq) is not True:
                    continue
                for second in fits[i + 1:]:
                    m2 = facts.root(second.receiver, "model")
                    if not isinstance(m2, Obj) or m2 is s1.model or m2.id in reported or m2.seq < first.seq:
                        continue
                    s2 = facts.structure(m2)
                    if s2 is None or not s2.complete or s2.contains(bb) is not True:
                        continue
                    head2 = s2.weight_layers
                    if not head2 or any(o.id in head1 or o.seq < first.seq for o in head2):
                        continue  # the trained head (or an older layer) is reused
                    if set(first.site.loops) & set(m2.site.loops) or _weights_loaded(facts, m2, second):
                        continue
                    if facts.order_conflict(first.site, first.seq, second.site, second.seq) or \
                            facts.order_conflict(first.site, first.seq, m2.site, m2.seq):
                        continue
                    reported.add(m2.id)
                    new = head2[-1]
                    ctx.report(facts.top_site(new.site, new.seq), subject=m2, related=[first.site, second.site],
                               params={"model": facts.describe(m2), "backbone": facts.describe(bb),
                                       "head": facts.quote(new.site, 60)})
                    break


def _weights_loaded(facts, model: Obj, fit: CallRecord) -> bool:
    """Weights are put into the new model (or its layers) before it is trained."""
    parts = {o.id for o in facts.structure(model).parts}
    for rec in facts.calls:
        if rec.seq <= model.seq or rec.seq >= fit.seq:
            continue
        if rec.method in WEIGHT_SETTERS and isinstance(rec.receiver, Obj) and (
                facts.root(rec.receiver, "model") is model or rec.receiver.id in parts):
            return True
    return False

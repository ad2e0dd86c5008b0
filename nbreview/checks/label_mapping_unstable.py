"""label-mapping-unstable: the class -> index mapping can change between runs or between
splits: taken from the order of a set of strings, fitted separately on parts of a split that
can miss classes, or predictions decoded with the class indices of another generator."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class LabelMappingUnstable(Rule):
    slug = "label-mapping-unstable"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        if facts.label_persists:
            for so in facts.set_orders:
                if facts.ran(so.site) is False:
                    continue
                ctx.report(facts.top_site(so.site, so.set_obj.seq), subject=so.set_obj, related=[so.use],
                           params={"code": facts.quote(so.site, 60)})
        risky = _per_split(ctx)
        trained = {id(rec.args.get("x")) for rec in facts.fits_run()}
        for read, gen in facts.class_indices_reads():
            if id(gen) in trained or id(gen) not in risky or facts.ran(read.site) is False:
                continue
            ctx.report(facts.top_site(read.site, read.seq), subject=gen, variant="decode",
                       related=[gen.site], params={"gen": facts.describe(gen)})


def _per_split(ctx: Context) -> set[int]:
    """Report encoders fitted per part of a split that can miss classes; return the ids of the
    Keras flows among them."""
    facts = ctx.facts
    out: set[int] = set()
    encs = facts.encoders
    for i, a in enumerate(encs):
        pa = facts.split_part(a.data)
        if pa is None:
            continue
        for b in encs[i + 1:]:
            if b.obj is a.obj or b.kind != a.kind:
                continue
            pb = facts.split_part(b.data)
            if pb is None or pb.key != pa.key or (pb.lo, pb.hi) == (pa.lo, pa.hi):
                continue
            sure = _classes_differ(facts, a, b)
            if sure is False or (sure is None and facts.stratified(pa) is not False):
                continue
            if facts.ran(a.site) is False or facts.ran(b.site) is False:
                continue
            small = b if (pb.lo or 0) >= (pa.lo or 0) else a
            if small.kind == "flow":
                out.add(id(small.obj))
            ctx.report(facts.top_site(small.site, small.obj.seq), subject=small.obj,
                       variant="per_split" if small.kind == "label_encoder" else "per_split_flow",
                       related=[(a if small is b else b).site],
                       params={"name": facts.name_of(small.obj), "split": facts.quote(pa.site, 60) if pa.site else None,
                               "classes": _class_counts(facts, small, a if small is b else b)})
    return out


def _classes_differ(facts, a, b) -> bool | None:
    """What the saved output says: the two flows found different numbers of classes (True), the
    same (False), or nothing (None)."""
    if a.kind != "flow":
        return None
    ca, cb = facts.sample_count(a.obj), facts.sample_count(b.obj)
    if ca is None or cb is None or ca.classes is None or cb.classes is None:
        return None
    return ca.classes != cb.classes


def _class_counts(facts, part, other) -> str | None:
    """`91 / 102`: the classes the saved output says this part and the other one hold."""
    if part.kind != "flow":
        return None
    cp, co = facts.sample_count(part.obj), facts.sample_count(other.obj)
    if cp is None or co is None or cp.classes is None or co.classes is None or cp.classes == co.classes:
        return None
    return f"{cp.classes} / {co.classes}"

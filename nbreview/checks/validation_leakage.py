"""validation-leakage: the same images end up in training and in validation, so the
validation score is inflated: rows duplicated before the split, a validation part of data
that training reads in full, parts of one split that overlap, validation rows concatenated
into training while validation still reports a score, pseudo-labelled test rows put where
the validation split is drawn from."""
from __future__ import annotations

from ..facts.data_identity import Path, Step, TrainVal
from ..facts.values import Obj, Site
from .base import Context, Rule, register


@register
class ValidationLeakage(Rule):
    slug = "validation-leakage"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for tv in facts.train_val_pairs:
            tp = [p for p in facts.data_paths(tv.train) if p.known]
            vp = [p for p in facts.data_paths(tv.val) if p.known]
            if not tp or not vp or _named_train(facts, tv) or facts.ran(tv.at.site) is False:
                continue
            related = [u.site for u in tv.val_uses]
            for finder in (_oversampled, _pseudo, _shared):
                found = finder(ctx, tv, tp, vp)
                if found is not None:
                    site, variant, params, more = found
                    if facts.ran(site) is False:
                        break
                    ctx.report(site, subject=tv, variant=variant, params=params,
                               related=[s for s in more + related if s is not None])
                    break


def _named_train(facts, tv: TrainVal) -> bool:
    """A loop over training data to measure training accuracy is not validation."""
    name = facts.name_of(tv.val) or ""
    return tv.train is not tv.val and "train" in name.lower() and tv.via in ("loop", "evaluate")


def _first_part(p: Path) -> int | None:
    return next((i for i, s in enumerate(p.steps) if s.kind == "part"), None)


def _oversampled(ctx: Context, tv: TrainVal, tp: list[Path], vp: list[Path]):
    """Rows duplicated below the split that makes the validation part (or below Keras'
    `validation_split`), with training on another part of that split."""
    facts = ctx.facts
    if tv.split is not None:  # fit(x, validation_split=...): Keras takes the last rows of x
        for p in tp:
            dup = next((s for s in p.steps if s.kind == "dup"), None)
            if dup is not None:
                return dup.site, "default", {"dup": facts.quote(dup.site, 80), "split": f"validation_split={tv.split:g}"}, \
                    [tv.at.site]
        return None
    for v in vp:
        i = _first_part(v)
        if i is None:
            continue
        part = v.steps[i]
        dup = next((s for s in v.steps[i + 1:] if s.kind == "dup"), None)
        if dup is None:
            continue
        if any(s.kind == "part" and s.key == part.key for t in tp for s in t.steps):
            return dup.site, "default", {"dup": facts.quote(dup.site, 80), "split": _part_text(facts, part)}, \
                [part.site]
    return None


def _pseudo(ctx: Context, tv: TrainVal, tp: list[Path], vp: list[Path]):
    """Test rows (pseudo-labelled or copied) concatenated into the data the validation part is
    drawn from."""
    facts = ctx.facts
    for v in vp:
        i = _first_part(v)
        if i is None:
            continue
        part = v.steps[i]
        if not any(s.kind == "part" and s.key == part.key for t in tp for s in t.steps):
            continue
        for j, c in enumerate(v.steps[i + 1:], start=i + 1):
            if c.kind != "concat":
                continue
            for other in vp:
                if c not in other.steps:
                    continue
                k = other.steps.index(c)
                test = facts.test_like(Path(other.steps[k + 1:]))
                if test is not None:
                    return c.site, "pseudo", {"concat": facts.quote(c.site, 80), "split": _part_text(facts, part),
                                              "test": test.what or None}, [part.site]
    return None


def _shared(ctx: Context, tv: TrainVal, tp: list[Path], vp: list[Path]):
    """Training and validation select overlapping rows of one source."""
    facts = ctx.facts
    loop_pair = tv.via in ("loop", "evaluate")  # no `validation_data=`: the same data may be a train score
    for t in tp:
        for v in vp:
            if not facts.overlap(t.selection(), v.selection()):
                continue
            concat = next((s for s in t.steps if s.kind == "concat" and s not in v.steps), None)
            if concat is not None:
                return concat.site, "concat", {"concat": facts.quote(concat.site, 80),
                                               "val": facts.describe(tv.val)}, []
            if v.parts and not t.parts:
                site = _made_at(facts, tv)
                variant = "final" if _trained_on_part_before(facts, tv, v.parts[0]) else "full"
                return site, variant, {"train": facts.describe(tv.train), "val": facts.describe(tv.val),
                                      "source": t.source.what or None,
                                      "split": _part_text(facts, v.parts[0])}, [v.parts[0].site]
            if v.parts and t.parts:
                vpart, tpart = v.parts[-1], t.parts[-1]
                return vpart.site, "overlap", {"val": facts.describe(tv.val), "train": facts.describe(tv.train),
                                               "how": _how(vpart, tpart)}, [tpart.site]
            if not loop_pair:
                return tv.at.site, "same", {"val": facts.describe(tv.val), "train": facts.describe(tv.train)}, []
    return None


def _trained_on_part_before(facts, tv: TrainVal, vpart: Step) -> bool:
    """An earlier fit trained on the other part of this very split: this fit on the whole data is
    the "final training on all data" step."""
    for other in facts.train_val_pairs:
        if other.at.seq >= tv.at.seq:
            continue
        for p in facts.data_paths(other.train):
            if any(s.kind == "part" and s.key == vpart.key and (s.lo, s.hi) != (vpart.lo, vpart.hi) for s in p.steps):
                return True
    return False


def _part_text(facts, part: Step) -> str:
    """How the student wrote the split: `subset='validation'`, or their call."""
    if part.key and part.key[0] in ("subset", "idfd") and part.what:
        return part.what
    return facts.quote(part.site, 80)


def _made_at(facts, tv: TrainVal) -> Site:
    """Where the training data that reads the whole source is made (the student's own line)."""
    v = tv.train
    return facts.top_site(v.site, v.seq) if isinstance(v, Obj) else tv.at.site


def _how(vpart: Step, tpart: Step) -> str | None:
    """What makes two parts of one source overlap, in the student's terms."""
    if vpart.key and tpart.key and vpart.key[0] == tpart.key[0] == "idfd" and vpart.key[2] != tpart.key[2]:
        return f"seed={tpart.key[2]} / seed={vpart.key[2]}"
    if vpart.key and len(vpart.key) == 3 and vpart.key[0] == "rows" and vpart.key[2] == "reshuffled":
        return "shuffle() reshuffles every epoch before take() / skip()"
    if vpart.key and vpart.key[0] == "subset" and None not in (vpart.hi, tpart.lo):
        return f"validation_split={tpart.lo:g} / validation_split={vpart.hi:g}"
    return None

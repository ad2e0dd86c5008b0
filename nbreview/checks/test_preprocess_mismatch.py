"""test-preprocess-mismatch: the data a trained model predicts on (test, TTA, submission) or is
validated on is scaled or sized differently from its training data: a different `rescale`
(or one commented out), another `preprocess_input`, another `target_size`."""
from __future__ import annotations

import re

from ..facts import apis
from ..facts.preprocessing import Preproc
from ..facts.values import CallRecord, Obj
from .base import Context, Rule, register

PIXELS = {"raw": "0..255", "unit": "[0, 1]", "tf": "[-1, 1]", "caffe": "x − mean (BGR)",
          "torch": "(x / 255 − mean) / std"}
_COMMENTED_RESCALE = re.compile(r"#\s*rescale\s*=")


@register
class TestPreprocessMismatch(Rule):
    slug = "test-preprocess-mismatch"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        fits = facts.method_calls(*apis.FIT_METHODS, include_uncalled=True)
        for fit in fits:
            model = facts.root(fit.receiver, "model")
            if not isinstance(model, Obj):
                continue
            train = fit.args.get("x")
            ptrain = facts.preproc(train)
            if ptrain.scaling is None and ptrain.size is None:
                continue
            targets: list[tuple[CallRecord, str, object]] = []
            val = fit.args.get("validation_data")
            if isinstance(val, Obj) and val is not train:
                targets.append((fit, "validation", val))
            for rec in facts.method_calls(*apis.PREDICT_METHODS, *apis.EVALUATE_METHODS, include_uncalled=True):
                if facts.root(rec.receiver, "model") is not model or rec.seq < fit.seq:
                    continue
                later = [f for f in fits if f.seq > fit.seq and f.seq < rec.seq and
                         facts.root(f.receiver, "model") is model]
                if later:
                    continue  # compared with the fit that trained the model last
                x = rec.args.get("x")
                if isinstance(x, Obj) and x is not train:
                    targets.append((rec, "validation" if rec.method in apis.EVALUATE_METHODS else "prediction", x))
            for rec, role, data in targets:
                self._compare(ctx, fit, ptrain, rec, role, data)

    def _compare(self, ctx: Context, fit: CallRecord, ptrain: Preproc, rec: CallRecord, role: str, data) -> None:
        facts = ctx.facts
        p = facts.preproc(data)
        a, b = ptrain.scaling, p.scaling
        if a is not None and b is not None and "other" not in (a.pixels, b.pixels) and a.pixels != b.pixels:
            site = b.site or (p.source.site if p.source is not None else data.site)
            commented = p.source is not None and _commented_rescale(facts, p.source)
            ctx.report(site, subject=rec, variant=("commented" if commented else ("default" if role == "prediction" else role)), params={
                "data": facts.describe(data), "train": facts.describe(fit.args.get("x")),
                "train_scaling": a.text or None, "scaling": b.text or None,
                "train_pixels": PIXELS.get(a.pixels), "pixels": PIXELS.get(b.pixels)},
                related=[s for s in (a.site, rec.site) if s is not None])
            return
        if ptrain.size is not None and p.size is not None and ptrain.size != p.size:
            site = p.size_site or data.site
            ctx.report(site, subject=rec, variant="size", params={
                "data": facts.describe(data), "train": facts.describe(fit.args.get("x")),
                "size": f"{p.size[0]}x{p.size[1]}", "train_size": f"{ptrain.size[0]}x{ptrain.size[1]}"},
                related=[s for s in (ptrain.size_site, rec.site) if s is not None])


def _commented_rescale(facts, gen: Obj) -> bool:
    """The call that made the generator has a `# rescale=...` line inside it."""
    node = gen.site.node
    lines = facts.sources.lines(gen.site.cell) or []
    lo, hi = getattr(node, "lineno", 1) - 1, getattr(node, "end_lineno", 0)
    text = b"\n".join(lines[lo:hi]).decode("utf-8", "replace")
    return bool(_COMMENTED_RESCALE.search(text))

"""test-set-selection: the split that gives the final ("test") score also decides which epoch,
checkpoint or setting is kept. The reported test score is then optimistic: it was used for
choosing, like a validation score."""
from __future__ import annotations

import ast

from ..facts import Pass
from ..facts.interpreter import literal_items
from ..facts.selection import BestCheck, same_data
from ..facts.values import CallRecord, Const, Loop, Obj, Site
from .base import Context, Rule, register

REPORTERS = ("builtins.print", "IPython.display.display", "logging.info", "logger.info")


@register
class TestSetSelection(Rule):
    slug = "test-set-selection"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        passes = facts.passes
        for c in facts.best_checks:
            held = [p for p in facts.data_from(c.metric_deps) if passes.held_out(p)]
            chosen: list[Pass] = []
            for p in held:
                if not any(same_data(p.data, q.data) for q in chosen):
                    chosen.append(p)
            if len(chosen) != 1:
                continue  # no held-out data behind the metric, or several splits mixed
            sel = chosen[0]
            if facts.split_kind(sel.data) != "test":
                continue
            loop = c.site.loops[0]
            lo, hi = loop.span
            others = [p for p in passes.evaluation_passes()
                      if passes.held_out(p) and lo <= p.at <= hi and not same_data(p.data, sel.data)
                      and facts.torchdata.yields_labels(p.data) is not False]
            report = _reported_after(facts, sel, hi)
            if others:
                val = next((p for p in others if facts.split_kind(p.data) == "val"), None)
                if val is None:
                    continue  # which of the two is the validation split is not clear
                variant = "with_validation"
            else:
                val = None
                if report is None or _predicted_elsewhere(facts, sel, hi):
                    continue  # by use this split is the validation one (the result is a submission)
                variant = "default"
            setting = _setting(c, loop)
            if setting is not None and variant == "default":
                variant = "setting"
            related = [sel.helper.site if sel.helper is not None else Site(sel.loop.cell, sel.loop.node)]
            if report is not None:
                related.append(report)
            ctx.report(
                c.site,
                subject=c,
                params={"data": facts.describe(sel.data), "metric": c.metric_text,
                        "val": facts.describe(val.data) if val is not None else None, "setting": setting},
                related=[s for s in related if s.cell != c.site.cell],
                variant=variant,
            )
        for final, loop, test in _manual_picks(facts):
            loop_site = Site(loop.cell, loop.node)
            ctx.report(final.site, subject=final, params={"data": facts.describe(test.data), "path": _path(final)},
                       related=[loop_site] if loop_site.cell != final.site.cell else [], variant="manual")


def _manual_picks(facts) -> list[tuple[CallRecord, Loop, Pass]]:
    """`for ep in [40, 46, 52]: model.load_state_dict(torch.load(f'ckpt/epoch_{ep}.pt'))` and a
    test evaluation in the loop, then one of those files loaded for good: the checkpoint was
    picked by looking at its test score. (final load, the loop, the test pass)"""
    loads = [rec for rec in facts.calls_to("torch.load") if not rec.site.uncalled]
    out = []
    for loop in {lp.id: lp for rec in loads for lp in rec.site.loops}.values():
        if loop.id in facts.passes.update_loops:
            continue
        paths = {_path(rec) for rec in loads if loop in rec.site.loops} - {None}
        tests = [p for p in facts.passes.evaluation_passes() if loop.span[0] <= p.at <= loop.span[1]
                 and facts.passes.held_out(p) and facts.split_kind(p.data) == "test"
                 and facts.torchdata.yields_labels(p.data) is not False]
        if len(paths) < 2 or not tests:
            continue
        for rec in loads:
            if rec.seq > loop.span[1] and not rec.site.loops and _path(rec) in paths:
                out.append((rec, loop, tests[0]))
                break
    return out


def _path(rec: CallRecord) -> str | None:
    v = rec.args.get("#0", rec.args.get("f"))
    return v.value if isinstance(v, Const) and isinstance(v.value, str) else None


def _reported_after(facts, sel: Pass, after: int) -> Site | None:
    """A print of a value computed from this data, or another evaluation on it, after the loop."""
    ids = {o.id for o in _chain(sel.data)}
    for rec in facts.calls:
        if rec.seq <= after or rec.site.uncalled:
            continue
        if rec.name in REPORTERS and any(d & ids for d in rec.arg_deps.values()):
            return rec.site
    for p in facts.passes.evaluation_passes():
        if p.at > after and same_data(p.data, sel.data):
            return p.helper.site if p.helper is not None else Site(p.loop.cell, p.loop.node)
    return None


def _predicted_elsewhere(facts, sel: Pass, after: int) -> bool:
    """Predictions on other, unlabelled data after training: the notebook's result is a submission."""
    for p in facts.passes.evaluation_passes():
        if p.at > after and not same_data(p.data, sel.data) and facts.torchdata.yields_labels(p.data) is False:
            return True
    return False


def _chain(data: Obj):
    from ..facts.torchdata import chain

    return list(chain(data))


def _setting(c: BestCheck, loop) -> str | None:
    """`for lr in [0.1, 0.01]: ... if acc > best: best_lr = lr`: the loop variable the check keeps."""
    if literal_items(loop.over) is None or not loop.targets:
        return None
    kept = {t.id for stmt in ast.walk(ast.Module(body=c.node.body, type_ignores=[]))
            if isinstance(stmt, ast.Assign) for v in [stmt.value] for t in ast.walk(v) if isinstance(t, ast.Name)}
    names = sorted(loop.targets & kept)
    return names[0] if names else None

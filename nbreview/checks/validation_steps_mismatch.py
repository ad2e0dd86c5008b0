"""validation-steps-mismatch: `validation_steps` (or `steps` of evaluate/predict) computed from
the training set's size, or so that it does not cover the validation data once."""
from __future__ import annotations

import ast

from ..facts import apis
from ..facts.values import CallRecord, Const, Obj, Site, Value
from .base import Context, Rule, register


@register
class ValidationStepsMismatch(Rule):
    slug = "validation-steps-mismatch"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for rec in facts.method_calls(*apis.FIT_METHODS, *apis.EVALUATE_METHODS, *apis.PREDICT_METHODS):
            if facts.ran(rec.site) is False:
                continue
            if rec.method in apis.FIT_METHODS:
                param, data = "validation_steps", rec.args.get("validation_data")
                training = [rec.args.get("x")]
            else:
                param, data = "steps", rec.args.get("x")
                training = [f.args.get("x") for f in facts.method_calls(*apis.FIT_METHODS)
                            if f.receiver is rec.receiver and not f.site.uncalled]
            steps = rec.args.get(param)
            if steps is None or isinstance(data, Const) or data is None or \
                    (isinstance(steps, Const) and steps.value is None):
                continue
            if not isinstance(data, Obj):
                continue
            _check(ctx, rec, param, steps, data, [t for t in training if isinstance(t, Obj) and t is not data])


def _check(ctx: Context, rec: CallRecord, param: str, steps: Value, data: Obj, training: list[Obj]) -> None:
    facts = ctx.facts
    at = _keyword_site(rec, param)
    related = [steps.site] if isinstance(steps, Obj) and steps.site.cell != rec.site.cell else []
    base = {"param": param, "steps": facts.quote(steps.site, 60) if isinstance(steps, Obj) else None,
            "data": facts.describe(data)}
    terms = facts.size_terms(steps)
    if terms:
        own = [o for o in terms if facts.reads(data, o)]
        other = [o for o in terms if any(facts.reads(t, o) for t in training)]
        if other and not own:
            ctx.report(at, subject=rec, related=related, params={**base, "train": facts.describe(other[0])})
            return
        if own:
            d, b = facts.divisor(steps), facts.batch_size(data)
            batches = facts.divided_batches(steps)
            if batches is not None and facts.reads(data, batches) and d is not None and d > 1:
                ctx.report(at, subject=rec, related=related, variant="batches_divided",
                           params={**base, "divisor": f"{d:g}", "share": round(100 / d)})
            elif d is not None and b is not None and d > b:
                share = round(100 * b / d)
                ctx.report(at, subject=rec, related=related, variant="other_batch",
                           params={**base, "divisor": f"{d:g}", "batch": b, "share": share})
        return
    if isinstance(steps, Const) and isinstance(steps.value, int) and not isinstance(steps.value, bool):
        count, b = facts.sample_count(data), facts.batch_size(data)
        if count is None or b is None or steps.value <= 0:
            return
        covered = steps.value * b
        if covered + b <= count.samples:
            ctx.report(at, subject=rec, variant="constant",
                       related=[Site(count.cell, _node_at(facts, count.cell))] if count.cell != rec.site.cell else [],
                       params={**base, "steps": steps.value, "batch": b, "covered": covered,
                               "total": count.samples, "share": round(100 * covered / count.samples)})


def _keyword_site(rec: CallRecord, param: str) -> Site:
    """The `validation_steps=...` keyword of the call (the call itself when positional)."""
    node = rec.site.node
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg == param:
                s = rec.site
                return Site(s.cell, kw, s.loops, s.funcs, s.uncalled, s.contexts, s.conds)
    return rec.site


def _node_at(facts, cell: int) -> ast.AST:
    """The first statement of a cell (to point at the cell whose output holds the count)."""
    code = facts.program.code_cell(cell)
    if code is not None and code.tree is not None and code.tree.body:
        return code.tree.body[0]
    return ast.Pass(lineno=1, col_offset=0, end_lineno=1, end_col_offset=0)

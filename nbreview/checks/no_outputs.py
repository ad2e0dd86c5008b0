"""no-outputs: the notebook was saved without any cell outputs (never run, or its outputs
cleared: no execution counts either), so the reviewer sees no results, logs or plots."""
from __future__ import annotations

from .base import Context, Rule, register


@register
class NoOutputs(Rule):
    slug = "no-outputs"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        if any(cc.executed for cc in facts.program.cells) or facts.logs.any:
            return  # run in this session (even if nothing printed), or outputs kept
        cells = [cc for cc in facts.program.cells if cc.tree is not None and cc.tree.body]
        if len(cells) < 2:
            return
        first = cells[0]
        ctx.report(facts_site(first), params={"cells": len(cells)})


def facts_site(cc):
    from ..facts.values import Site

    return Site(cc.index, cc.tree.body[0])

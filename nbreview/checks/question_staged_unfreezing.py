"""question-staged-unfreezing: the backbone is unfrozen only in part (a slice of its layers), or
in several stages: ask whether that was compared with fine-tuning the whole network at once.
The question says which of the two the notebook does and quotes the part unfrozen first."""
from __future__ import annotations

import ast

from ..facts.values import Site
from .base import Context, Rule, register


@register
class StagedUnfreezing(Rule):
    slug = "question-staged-unfreezing"

    def check(self, ctx: Context) -> None:
        unfreezes = ctx.facts.unfreezes
        partial = [(site, bb) for site, bb, whole in unfreezes if not whole]
        if not partial:
            return
        site, backbone = partial[0]
        stages = {_statement(s).key for s, bb, _whole in unfreezes if bb is backbone}
        ctx.report(site, subject=backbone, params={"part": _part(ctx, site)},
                   variant="staged" if len(stages) > 1 else "default")


def _statement(site: Site) -> Site:
    """An unfreezing step: the loop it runs in (one step for all its iterations), else the line."""
    loop = site.loops[-1] if site.loops else None
    return Site(loop.cell, loop.node) if loop is not None and loop.cell == site.cell else site


def _part(ctx: Context, site: Site) -> str | None:
    """What is unfrozen, as the student wrote it: the loop's iterable, or the assignment's target."""
    loop = site.loops[-1] if site.loops else None
    node = getattr(loop.node, "iter", None) if loop is not None and loop.cell == site.cell else None
    if node is None and isinstance(site.node, ast.Assign) and site.node.targets:
        target = site.node.targets[0]
        node = target.value if isinstance(target, ast.Attribute) else None
    if node is None:
        return None
    text = ctx.facts.quote(Site(site.cell, node), max_len=60)
    return text or None

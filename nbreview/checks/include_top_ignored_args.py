"""include-top-ignored-args: `include_top=False` together with `classes=` or
`classifier_activation=`, which only configure the top the call leaves out."""
from __future__ import annotations

from ..facts.models import is_backbone
from ..facts.values import Const
from .base import Context, Rule, register

IGNORED = ("classes", "classifier_activation")


def _may_be_backbone(api: str) -> bool:
    return api.startswith(("keras.applications.", "efficientnet."))


@register
class IncludeTopIgnoredArgs(Rule):
    slug = "include-top-ignored-args"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for bb in facts.created_matching(_may_be_backbone, include_uncalled=True):
            if not is_backbone(bb):
                continue
            top = bb.arg("include_top", Const(True))
            if not (isinstance(top, Const) and top.value is False):
                continue
            names = [n for n in IGNORED if n in bb.args]
            if not names:
                continue
            node = bb.arg_sites.get(names[0])
            at = bb.site.at(node) if node is not None else bb.site
            texts = [facts.quote(bb.site.at(bb.arg_sites[n]), 60) if n in bb.arg_sites else n for n in names]
            ctx.report(at, subject=bb, params={"args": list(texts),
                                               "arch": (bb.api or "").rsplit(".", 1)[-1]})

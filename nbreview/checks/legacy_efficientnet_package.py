"""legacy-efficientnet-package: the old `efficientnet` package (qubvel) installed or imported,
while EfficientNet has been part of `keras.applications` since TF 2.3."""
from __future__ import annotations

from .base import Context, Rule, register


def _is_legacy(requirement: str) -> bool:
    r = requirement.rstrip("/").lower()
    if r.endswith(".git"):
        r = r[:-4]
    return r == "efficientnet" or r.endswith("qubvel/efficientnet")


@register
class LegacyEfficientNet(Rule):
    slug = "legacy-efficientnet-package"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        places = []
        for inst in facts.installs:
            if any(_is_legacy(p) for p in inst.packages):
                places.append((inst.site, inst.text, "install"))
        for site, q in facts.interp.imports:
            if q == "efficientnet" or q.startswith("efficientnet."):
                places.append((site, facts.quote(site, 80), "import"))
        for site, text, how in sorted(places, key=lambda p: p[0].key):
            ctx.report(site, params={"code": text}, variant="install" if how == "install" else "default",
                       group="efficientnet")

"""slow-lr-decay: a per-epoch exponential decay so slow that the learning rate barely changes
over the epochs actually trained (`1e-3 * 0.95 ** epoch` over 10 epochs ends at 63 %)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..facts import apis
from ..facts.lr import schedule_ratio
from .base import Context, Hit, Rule, register

if TYPE_CHECKING:
    from ..model import OutputEvidence
    from ..outputs import Outputs


@register
class SlowLrDecay(Rule):
    slug = "slow-lr-decay"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        min_decay = float(ctx.option("min-decay", 3.0))
        min_factor = float(ctx.option("min-epoch-factor", 0.95))
        best: dict[int, tuple] = {}  # scheduler / schedule id -> (curve, lrs) of its longest fit
        for fit in facts.method_calls(*apis.FIT_METHODS, include_uncalled=True):
            curve = facts.lr_curve(fit)
            if curve is None:
                continue
            if curve.scheduler is not None and curve.lrs and len(curve.lrs) >= 3:
                key = curve.scheduler.id
                if key not in best or curve.epochs > best[key][0].epochs:
                    best[key] = (curve, curve.lrs)
            elif curve.schedule is not None and curve.scheduler is None:
                steps = _steps(facts, fit)
                if steps:
                    ratio = schedule_ratio(curve.schedule, steps * curve.epochs)
                    if ratio is not None:
                        key = curve.schedule.id
                        if key not in best or curve.epochs > best[key][0].epochs:
                            best[key] = (curve, [1.0, ratio])
        for curve, lrs in best.values():
            first, last = lrs[0], lrs[-1]
            if first <= 0 or last <= 0 or last >= first or first / last >= min_decay:
                continue
            if curve.scheduler is not None and not _per_epoch_decay(lrs, min_factor):
                continue
            subject = curve.scheduler if curve.scheduler is not None else curve.schedule
            params = {"epochs": curve.epochs, "percent": round(100 * last / first),
                      "first": _fmt(first) if curve.scheduler is not None else None,
                      "last": _fmt(last) if curve.scheduler is not None else None,
                      "code": facts.quote(subject.site, 80)}
            ctx.report(subject.site, subject=curve, params=params, related=[curve.fit.site],
                       variant="default" if curve.scheduler is not None else "schedule")

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
        from ..facts.logs import Logs
        from ..model import OutputEvidence

        curve = hit.subject
        if curve.fit.site.uncalled:
            return None
        printed = Logs(outputs.nb).lr_prints(curve.fit.site.cell)
        if len(printed) < 2:
            return None
        (e0, lr0, l0), (e1, lr1, l1) = printed[0], printed[-1]
        if lr1 >= lr0 or lr0 / lr1 >= 3:
            return None
        cell = curve.fit.site.cell
        return OutputEvidence(cell=cell, execution_count=outputs.execution_count(cell), messages={
            "ru": f"В логе обучения learning rate на эпохе {e0} — {lr0:g}, на эпохе {e1} — {lr1:g}.",
            "en": f"The training log shows a learning rate of {lr0:g} at epoch {e0} and {lr1:g} at epoch {e1}."},
            lines=[l0, l1])


def _steps(facts, fit) -> int | None:
    spe = fit.arg("steps_per_epoch")
    from ..facts.values import Const

    if isinstance(spe, Const) and isinstance(spe.value, int):
        return spe.value
    return facts.logs.steps_per_epoch(fit.site.cell) if not fit.site.uncalled else None


def _per_epoch_decay(lrs: list[float], min_factor: float) -> bool:
    """The LR falls a little almost every epoch (not a step schedule that drops once or twice),
    by a factor per epoch close to one (0.95 and above by default: `0.9 ** epoch` is a real decay)."""
    drops = sum(1 for a, b in zip(lrs, lrs[1:]) if b < a * (1 - 1e-9))
    rises = sum(1 for a, b in zip(lrs, lrs[1:]) if b > a * (1 + 1e-9))
    if rises or drops < max(2, (len(lrs) - 1) // 2):
        return False
    return (lrs[-1] / lrs[0]) ** (1 / drops) >= min_factor - 1e-9


def _fmt(x: float) -> str:
    return f"{x:.2g}"

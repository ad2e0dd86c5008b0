"""plateau-mode-mismatch: `ReduceLROnPlateau` watches its metric in the wrong direction. In
`mode='min'` (the default) it waits for the value to go down, so stepped with an accuracy
every improvement counts as "no improvement" and the LR is cut again and again; in
`mode='max'` with a loss, the same happens the other way round."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts.values import Const
from ..printed import parse, series
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..model import OutputEvidence
    from ..outputs import Outputs

MODE_POSITION = 1  # ReduceLROnPlateau(optimizer, mode='min', factor=0.1, ...)
LOSS, SCORE = "loss", "score"


@register
class PlateauModeMismatch(Rule):
    slug = "plateau-mode-mismatch"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for s in facts.schedulers:
            if s.name != "ReduceLROnPlateau" or not s.steps:
                continue
            mode = s.obj.arg("mode", Const("min"))
            if not (isinstance(mode, Const) and mode.value in ("min", "max")):
                continue
            kinds = {facts.metric_kind(st.value) for st in s.steps}
            if len(kinds) != 1:
                continue
            kind = kinds.pop()
            if mode.value == "min" and kind == SCORE:
                variant, want = "default", "max"
            elif mode.value == "max" and kind == LOSS:
                variant, want = "loss_with_max", "min"
            else:
                continue
            value = ast.unparse(s.steps[0].value) if s.steps[0].value is not None else None
            explicit = "mode" in s.obj.args
            written = explicit and isinstance(s.obj.arg_sites.get("mode"), ast.keyword) or _positional(s.obj)
            ctx.report(
                s.obj.site,
                subject=s,
                params={"name": facts.name_of(s.obj), "value": value, "mode": mode.value, "want": want},
                related=[st.call.site for st in s.steps],
                variant=variant,
                fix=FixOffer(safe=True, data={"mode": want}) if (written or not s.obj.star_dicts) else None,
            )

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        edit.set_keyword(hit.subject.obj.site, "mode", repr(hit.fix.data["mode"]), position=MODE_POSITION)  # type: ignore

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
        return _cut_while_improving(hit, outputs)


def _positional(obj) -> bool:
    node = obj.arg_sites.get("mode")
    call = obj.site.node
    return node is not None and isinstance(call, ast.Call) and any(a is node for a in call.args)


def _cut_while_improving(hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
    """The printed log: the LR is cut at an epoch where the stepped metric got better."""
    from ..model import OutputEvidence

    value = hit.params.get("value") or ""
    higher = hit.variant == "default"  # an accuracy-like value: higher is better
    for st in hit.subject.steps:
        cell = st.epoch_loop.cell if st.epoch_loop is not None else st.call.site.cell
        records = parse(outputs.text(cell))
        key = _metric_key(records, value, higher)
        if key is None:
            continue
        for prev, cur in zip(records, records[1:]):
            if "lr" not in prev.metrics or "lr" not in cur.metrics or key not in prev.metrics or key not in cur.metrics:
                continue
            earlier = [r.metrics[key] for r in records if r.epoch < cur.epoch and key in r.metrics]
            best_so_far = all((cur.metrics[key] > v) if higher else (cur.metrics[key] < v) for v in earlier)
            if cur.metrics["lr"] < prev.metrics["lr"] * 0.99 and best_so_far:
                return OutputEvidence(
                    cell=cell,
                    execution_count=outputs.execution_count(cell),
                    messages={
                        "ru": f"На эпохе {cur.epoch} `{key}` улучшилась с {prev.metrics[key]:g} до "
                              f"{cur.metrics[key]:g}, а learning rate при этом снизился с {prev.metrics['lr']:g} "
                              f"до {cur.metrics['lr']:g}.",
                        "en": f"At epoch {cur.epoch} `{key}` improved from {prev.metrics[key]:g} to "
                              f"{cur.metrics[key]:g}, and yet the learning rate was cut from {prev.metrics['lr']:g} "
                              f"to {cur.metrics['lr']:g}.",
                    },
                    lines=[(prev.lines or [""])[0], (cur.lines or [""])[0]],
                )
    return None


def _metric_key(records, value: str, higher: bool) -> str | None:
    """The printed name of the stepped metric: the one the step's argument names, else the only
    validation metric of that kind in the log."""
    keys = {k for r in records for k in r.metrics if k != "lr"}
    want = "acc" if higher else "loss"
    text = value.lower()
    named = [k for k in keys if want in k and k.split("_")[0] in text]
    if len(named) == 1:
        return named[0]
    val = [k for k in keys if want in k and k.startswith("val")]
    return val[0] if len(val) == 1 else None

"""checkpoint-save-best-only: a ModelCheckpoint that writes a file every epoch."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts.values import CallRecord, Const, Dict, Obj
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..model import OutputEvidence
    from ..outputs import Outputs

MODEL_CHECKPOINT = "keras.callbacks.ModelCheckpoint"
SAVE_BEST_ONLY_POSITION = 3  # ModelCheckpoint(filepath, monitor, verbose, save_best_only, ...)
ALWAYS_LOGGED = ("val_loss", "loss")


@register
class SaveBestOnly(Rule):
    slug = "checkpoint-save-best-only"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        # a checkpoint in a function the notebook never calls is still code the student wrote and will reuse
        for ckpt in facts.created(MODEL_CHECKPOINT, include_uncalled=True):
            sbo = ckpt.arg("save_best_only", Const(False))
            if not isinstance(sbo, Const) or sbo.value:  # unknown: stay silent; Keras tests truthiness
                continue
            path = ckpt.arg("filepath")
            path_text = path.value if isinstance(path, Const) and isinstance(path.value, str) else None
            variant = "default"
            if "save_best_only" in ckpt.args:
                variant = "explicit_false"
            elif path_text and "{" in path_text:
                variant = "per_epoch_files"
            ctx.report(
                ckpt.site,
                subject=ckpt,
                params={"name": facts.name_of(ckpt), "path": path_text},
                related=[rec.site for rec in _loads_of(facts, path_text)],
                variant=variant,
                fix=_fix_offer(ctx, ckpt),
            )

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        ckpt: Obj = hit.subject
        source = hit.fix.data.get("dict") if hit.fix else None
        if isinstance(source, Dict) and source.site is not None:
            edit.set_dict_key(source.site, "save_best_only", "True")
        else:
            edit.set_keyword(ckpt.site, "save_best_only", "True", position=SAVE_BEST_ONLY_POSITION)

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
        return _best_vs_last(hit, outputs)


def _fix_offer(ctx: Context, ckpt: Obj) -> FixOffer | None:
    """Setting `save_best_only=True` is a complete fix only when the checkpoint can then find its
    metric: `monitor` must be one key the fit logs, with a `mode` that fits it. Otherwise Keras
    skips every save (or keeps the worst epoch), so the fix is offered as unsafe."""
    data: dict = {}
    if "save_best_only" not in ckpt.args and not ckpt.complete:
        return None  # `**kwargs` we could not read: the option may be set there
    if "save_best_only" in ckpt.args and not _written_in_call(ckpt, "save_best_only"):
        dicts = [d for d in ckpt.star_dicts if "save_best_only" in d.items]
        if len(dicts) != 1 or dicts[0].site is None or not isinstance(dicts[0].site.node, (ast.Dict, ast.Call)):
            return None
        data["dict"] = dicts[0]
    elif ckpt.star_dicts and "save_best_only" not in ckpt.args:
        dicts = [d for d in ckpt.star_dicts if d.site is not None and isinstance(d.site.node, (ast.Dict, ast.Call))]
        if len(dicts) != 1:
            return None
        data["dict"] = dicts[0]  # the option belongs with the others, in the dict
    return FixOffer(safe=_monitor_ok(ctx, ckpt), data=data)


def _written_in_call(obj: Obj, name: str) -> bool:
    node = obj.arg_sites.get(name)
    return isinstance(node, ast.keyword) or (node is not None and _positional(obj, node))


def _positional(obj: Obj, node: ast.AST) -> bool:
    call = obj.site.node
    return isinstance(call, ast.Call) and any(a is node for a in call.args)


def _monitor_ok(ctx: Context, ckpt: Obj) -> bool:
    monitor = ckpt.arg("monitor", Const("val_loss"))
    mode = ckpt.arg("mode", Const("auto"))
    if not (isinstance(monitor, Const) and isinstance(monitor.value, str) and isinstance(mode, Const)):
        return False  # a list, or a value we cannot read: the fix alone may not work
    key = monitor.value
    if mode.value not in ("auto", "min", "max"):
        return False
    if mode.value != "auto" and (mode.value == "min") != ("loss" in key or "error" in key):
        return False  # `mode` disagrees with the metric: the "best" file would hold the worst epoch
    if mode.value == "auto" and not ("acc" in key or "loss" in key):
        return False  # TF 2.x's "auto" minimises anything without `acc` in its name (val_auc, val_f1)
    fits = ctx.facts.fits_with_callback(ckpt)
    if key in ALWAYS_LOGGED:
        return key == "loss" or all(_has_validation(rec) for rec in fits)
    if not fits:
        return False
    for rec in fits:  # the key is surely logged (TF 2.x and Keras 3 names, named metrics, functions)
        keys = ctx.facts.logged_keys(rec)
        if keys is None or keys.status(key) is not True:
            return False
        if ctx.facts.old_keras and key.removeprefix("val_") in ("acc", "accuracy"):
            return False  # an old Keras logs `acc` for 'accuracy'
    return True


def _has_validation(rec: CallRecord) -> bool:
    val, split = rec.arg("validation_data"), rec.arg("validation_split")
    return (val is not None and not (isinstance(val, Const) and val.value is None)) or (
        isinstance(split, Const) and bool(split.value))


def _loads_of(facts, path: str | None) -> list[CallRecord]:
    if not path:
        return []
    out = []
    for rec in facts.method_calls("load_weights") + facts.calls_to("keras.models.load_model", "keras.saving.load_model"):
        v = rec.args.get("filepath", rec.args.get("#0"))
        if isinstance(v, Const) and v.value == path:
            out.append(rec)
    return out


def _best_vs_last(hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
    """The saved epoch log of the fit that used this checkpoint: the best epoch is not the last."""
    from ..model import OutputEvidence

    ckpt: Obj = hit.subject
    monitor = ckpt.arg("monitor", Const("val_loss"))
    if not (isinstance(monitor, Const) and isinstance(monitor.value, str)):
        return None
    metric = monitor.value
    if metric == "val_acc":
        metric = "val_accuracy"  # TF1 name; the log may use either
    fits = [u.call for u in ckpt.uses if u.param == "callbacks" and u.call.method in ("fit", "fit_generator")
            and not u.call.site.uncalled]
    for rec in fits:
        logs = outputs.epochs(rec.site.cell)
        key = metric if logs and all(metric in e.metrics for e in logs) else \
            ("val_acc" if metric == "val_accuracy" and logs and all("val_acc" in e.metrics for e in logs) else None)
        if len(logs) < 2 or key is None:
            continue
        higher = "acc" in key
        best = (max if higher else min)(logs, key=lambda e: e.metrics[key])
        last = logs[-1]
        if best.epoch == last.epoch or best.metrics[key] == last.metrics[key]:
            continue
        b, lv = best.metrics[key], last.metrics[key]
        return OutputEvidence(
            cell=rec.site.cell,
            execution_count=outputs.execution_count(rec.site.cell),
            messages={
                "ru": f"По логу обучения лучшее значение `{key}` = {b:g} было на эпохе {best.epoch}, "
                      f"а на последней, {last.epoch}-й, — {lv:g}. Значит, в файле чекпоинта осталась "
                      f"последняя эпоха, а не лучшая.",
                "en": f"In the training log the best `{key}` was {b:g} at epoch {best.epoch}, and "
                      f"{lv:g} at the last one, epoch {last.epoch}. So the checkpoint file holds "
                      f"the last epoch, not the best one.",
            },
            lines=[f"Epoch {best.epoch}: {best.line}", f"Epoch {last.epoch}: {last.line}"],
        )
    return None

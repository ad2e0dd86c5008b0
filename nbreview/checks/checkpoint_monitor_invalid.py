"""checkpoint-monitor-invalid: a callback's `monitor` is a list, or names a key the fit never
logs (`'val_acc'` when the compiled metric `'accuracy'` logs `val_accuracy`; any `val_*` when
the fit has no validation data)."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts.values import CallRecord, Const, Dict, Obj, Seq
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..model import OutputEvidence
    from ..outputs import Outputs

# callback -> position of `monitor` among its positional parameters
CALLBACKS = {"keras.callbacks.ModelCheckpoint": 1, "keras.callbacks.EarlyStopping": 0,
             "keras.callbacks.ReduceLROnPlateau": 0}


@register
class MonitorInvalid(Rule):
    slug = "checkpoint-monitor-invalid"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for cb in facts.created(*CALLBACKS, include_uncalled=True):
            written = "monitor" in cb.args
            monitor = cb.arg("monitor", Const("val_loss"))
            fits = facts.fits_with_callback(cb)
            kind = (cb.api or "").rsplit(".", 1)[-1]
            names = _list_names(monitor)
            if names is not None:
                inner = names[0] if len(names) == 1 else None
                target, safe = _target(facts, fits, inner, cb) if inner else (None, False)
                ctx.report(_monitor_site(cb), subject=cb, variant="list",
                           params={"callback": kind, "name": facts.name_of(cb), "monitor": _quote_arg(facts, cb),
                                   "suggest": target},
                           related=[f.site for f in fits[:1]],
                           fix=_offer(cb, target, safe))
                continue
            if not (isinstance(monitor, Const) and isinstance(monitor.value, str)):
                continue
            key = monitor.value
            for fit in fits:
                status, keys, warned = _status(facts, fit, key)
                if status is not False:
                    continue
                no_val = key.startswith("val_") and facts_has_validation(fit) is False
                if not written and not no_val:
                    break
                target, safe = _target(facts, fits, key, cb)
                logged = sorted(keys.keys, key=_key_order) if keys else None
                ctx.report(_monitor_site(cb), subject=cb, variant="no_validation" if no_val else "default",
                           params={"callback": kind, "name": facts.name_of(cb), "monitor": key,
                                   "logged": logged, "suggest": target if not no_val else None},
                           related=[fit.site], fix=None if no_val else _offer(cb, target, safe))
                break

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        cb: Obj = hit.subject
        new = repr(hit.fix.data["monitor"]) if hit.fix else None
        if new is None:
            return
        source = hit.fix.data.get("dict") if hit.fix else None
        if isinstance(source, Dict) and source.site is not None:
            edit.set_dict_key(source.site, "monitor", new)
        else:
            edit.set_keyword(cb.site, "monitor", new, position=CALLBACKS.get(cb.api or "", 0))

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":
        from ..model import OutputEvidence
        from ..facts.logs import Logs

        cb: Obj = hit.subject
        key = hit.params.get("monitor")
        if not isinstance(key, str) or hit.variant == "list":
            return None
        logs = Logs(outputs.nb)
        for use in cb.uses:
            if use.param != "callbacks" or use.call.site.uncalled:
                continue
            cell = use.call.site.cell
            line = logs.unavailable(cell, key)
            if line:
                return OutputEvidence(
                    cell=cell, execution_count=outputs.execution_count(cell),
                    messages={"ru": f"Keras сам предупредил об этом в выводе ячейки: метрики `{key}` нет в логах.",
                              "en": f"Keras itself warned about it in the cell's output: `{key}` is not in the logs."},
                    lines=[line])
        return None


def facts_has_validation(fit: CallRecord) -> bool | None:
    from ..facts.training import has_validation

    return has_validation(fit)


def _key_order(k: str) -> tuple[int, str]:
    return (k.startswith("val_"), k != "loss" and k != "val_loss", k)


def _list_names(v) -> list[str] | None:
    """The names in a monitor given as a list or tuple; None when it is not one."""
    if isinstance(v, Seq):
        return [i.value for i in v.items if isinstance(i, Const) and isinstance(i.value, str)]
    if isinstance(v, Const) and isinstance(v.value, (list, tuple)):
        return [x for x in v.value if isinstance(x, str)]
    return None


def _status(facts, fit: CallRecord, key: str):
    """(is `key` logged by this fit: True/False/None, the static keys, Keras' warning line)."""
    warned = facts.logs.unavailable(fit.site.cell, key) if not fit.site.uncalled else None
    keys = facts.logged_keys(fit)
    if warned:
        return False, keys, warned
    printed = facts.logs.logged_names(fit.site.cell) if not fit.site.uncalled else set()
    if key in printed:
        return True, keys, None  # the log shows it (an old Keras that logged `acc` for 'accuracy')
    if printed and keys is not None and keys.status(key) is False and not (keys.keys & printed):
        return None, keys, None  # the printed names do not match what we expect: do not guess
    if keys is None:
        return None, None, None
    if facts.old_keras and key.removeprefix("val_") in ("acc", "accuracy"):
        return None, keys, None  # an old Keras logs `acc` for 'accuracy'
    return keys.status(key), keys, None


def _target(facts, fits: list[CallRecord], name: str | None, cb: Obj) -> tuple[str | None, bool]:
    """The key the monitor should name, and whether naming it surely works in every fit."""
    if name is None:
        return None, False
    statuses = []
    target = name
    for fit in fits:
        status, keys, _w = _status(facts, fit, name)
        if status is False and keys is not None:
            target = keys.closest(name) or target
        statuses.append(status)
    if target != name:
        statuses = [_status(facts, fit, target)[0] for fit in fits]
    mode = cb.arg("mode", Const("auto"))
    mode_ok = isinstance(mode, Const) and (mode.value in ("min", "max") and (mode.value == "min") == (
        "loss" in target) or (mode.value == "auto" and ("acc" in target or "loss" in target)))
    safe = bool(fits) and all(s is True for s in statuses) and mode_ok
    return (target if all(s is not False for s in statuses) else None), safe


def _offer(cb: Obj, target: str | None, safe: bool) -> FixOffer | None:
    if target is None:
        return None
    data: dict = {"monitor": target}
    node = cb.arg_sites.get("monitor")
    if node is not None and not (isinstance(node, ast.keyword) or node in getattr(cb.site.node, "args", [])):
        dicts = [d for d in cb.star_dicts if "monitor" in d.items]
        if len(dicts) != 1 or dicts[0].site is None or not isinstance(dicts[0].site.node, (ast.Dict, ast.Call)):
            return None
        data["dict"] = dicts[0]
    elif node is None and cb.star_dicts:
        return None
    return FixOffer(safe=safe, data=data)


def _monitor_site(cb: Obj):
    node = cb.arg_sites.get("monitor")
    return cb.site.at(node) if node is not None and getattr(node, "lineno", None) else cb.site


def _quote_arg(facts, cb: Obj) -> str:
    site = _monitor_site(cb)
    text = facts.quote(site, 60)
    return text if text.startswith("monitor") else f"monitor={text}"

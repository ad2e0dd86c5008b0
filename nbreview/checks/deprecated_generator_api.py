"""deprecated-generator-api: fit_generator & co., predict_classes, `predict_proba` on a Keras
model (scikit-learn's is fine), optimizer `lr=`."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts import apis
from ..facts.pipelines import arg_evidence
from ..facts.values import CallRecord, Obj, ObjKind
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor

REPLACEMENT = {
    "fit_generator": "fit",
    "evaluate_generator": "evaluate",
    "predict_generator": "predict",
    "predict_classes": "predict",
    "predict_proba": "predict",
}
# arguments of the generator methods that Keras 3's fit/evaluate/predict no longer accept
DROPPED_IN_KERAS3 = ("workers", "use_multiprocessing", "max_queue_size")


@register
class DeprecatedGeneratorApi(Rule):
    slug = "deprecated-generator-api"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        for rec in facts.method_calls(*apis.DEPRECATED_METHODS, include_uncalled=True):
            recv = rec.receiver
            if isinstance(recv, Obj) and recv.kind is ObjKind.CALL and (recv.api or "").startswith("notebook."):
                continue  # the student's own class with a method of that name
            method = rec.method or ""
            ctx.report(rec.site, subject=rec, params={"old": method, "new": REPLACEMENT[method]},
                       variant="predict_classes" if method == "predict_classes" else "default",
                       group=method, fix=_rename_offer(rec))
        for rec in facts.method_calls("predict_proba", include_uncalled=True):
            if not _is_keras_model(facts, rec.receiver):
                continue  # scikit-learn and others: `predict_proba` is their current API
            ctx.report(rec.site, subject=rec, params={"old": "predict_proba", "new": "predict"},
                       variant="predict_proba", group="predict_proba", fix=_rename_offer(rec))
        for opt in facts.created_matching(_is_keras_optimizer, include_uncalled=True):
            if "lr" not in opt.args:
                continue
            ev = arg_evidence(opt, "lr", facts.sources)
            written_here = isinstance(opt.arg_sites.get("lr"), ast.keyword) and "learning_rate" not in opt.args
            ctx.report(ev.site, subject=opt,
                       params={"old": ev.text, "optimizer": (opt.api or "").rsplit(".", 1)[-1]}, variant="lr",
                       fix=FixOffer(safe=True, variant="lr") if written_here else None)

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        if hit.variant == "lr":
            opt: Obj = hit.subject
            edit.rename_keyword(opt.site, "lr", "learning_rate")
            return
        rec: CallRecord = hit.subject
        old = rec.method or ""
        names = apis.METHOD_SIGNATURES.get(old, [])
        # positional arguments after the data mean other things in fit/evaluate/predict: name them
        edit.keywordize(rec.site, names, keep=1)
        edit.rename_keyword(rec.site, "generator", "x")
        for name in DROPPED_IN_KERAS3:
            edit.remove_keyword(rec.site, name)
        edit.rename_method(rec.site, REPLACEMENT[old])


def _rename_offer(rec: CallRecord) -> FixOffer | None:
    """The *_generator -> fit/evaluate/predict rename is mechanical when every argument is
    written in the call (a `*args`/`**kwargs` could carry `workers=` or positional meanings)."""
    if rec.method == "predict_classes":
        return None  # needs the model's output type (argmax or threshold): advice, not a rewrite
    node = rec.site.node
    if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args) or \
            any(k.arg is None for k in node.keywords):
        return None
    if len(node.args) > len(apis.METHOD_SIGNATURES.get(rec.method or "", [])):
        return None
    return FixOffer(safe=True)


def _is_keras_model(facts, v) -> bool:
    """A Keras model: keras.applications / Sequential / Model / load_model, or a keras.Model subclass."""
    base = facts.root(v, "model")
    if not (isinstance(base, Obj) and base.kind is ObjKind.CALL and facts.is_model(base)):
        return False
    api = base.api or ""
    if api.startswith("keras.") or api in apis.MODEL_CONSTRUCTORS:
        return True
    from ..facts.models import subclasses

    return base.callee is not None and hasattr(base.callee, "bases") and subclasses(
        base.callee, frozenset({"keras.Model", "keras.models.Model"}))


def _is_keras_optimizer(api: str) -> bool:
    parts = api.split(".")
    return len(parts) == 3 and parts[0] == "keras" and parts[1] == "optimizers" and parts[2][:1].isupper()

"""loss-activation-mismatch: the loss does not fit the model's output or the labels. Keras:
a multi-class output trained with `binary_crossentropy`; a sigmoid output for single-label
multi-class; one softmax unit; `from_logits=True` on probabilities; one-hot labels with a
sparse loss or class indices with `categorical_crossentropy`. PyTorch: `NLLLoss` on raw
logits (no `log_softmax`), `CrossEntropyLoss` on outputs that already went through softmax."""
from __future__ import annotations

from ..facts import apis
from ..facts.values import CallRecord, Obj, ObjKind
from .base import Context, Rule, register

NLL = ("torch.nn.NLLLoss", "torch.nn.modules.loss.NLLLoss")
CE = ("torch.nn.CrossEntropyLoss", "torch.nn.modules.loss.CrossEntropyLoss")
F_NLL = ("torch.nn.functional.nll_loss",)
F_CE = ("torch.nn.functional.cross_entropy",)


@register
class LossActivationMismatch(Rule):
    slug = "loss-activation-mismatch"

    def check(self, ctx: Context) -> None:
        self._keras(ctx)
        self._torch(ctx)

    def _keras(self, ctx: Context) -> None:
        facts = ctx.facts
        fits = {}
        for fit in facts.method_calls(*apis.FIT_METHODS, include_uncalled=True):
            comp = facts.compile_for(fit)
            if comp is not None:
                fits.setdefault(id(comp), []).append(fit)
        for comp in facts.method_calls("compile", include_uncalled=True):
            loss = facts.loss_kind(comp)
            if loss is None:
                continue
            head = facts.head(comp.receiver)
            act = head.activation if head else None
            units = head.units if head else None
            out_site = head.activation_layer.site if head else None
            params = {"loss": loss.text, "activation": act, "units": units,
                      "output": facts.quote(head.activation_layer.site, 60) if head else None}
            related = [out_site] if out_site is not None else []
            variant = None
            single_label = False
            for fit in fits.get(id(comp), []):
                labels = facts.label_encoding(fit.args.get("x")) or facts.label_encoding(fit.args.get("y"))
                if labels is None:
                    continue
                single_label = single_label or labels.encoding in ("onehot", "sparse")
                params["labels"] = labels.text
                if labels.encoding == "onehot" and loss.kind == "sparse":
                    variant = "onehot_sparse"
                elif labels.encoding in ("sparse", "binary") and loss.kind == "categorical":
                    variant = "default"  # class indices with a categorical loss
                if variant:
                    related.append(labels.site)
                    break
            if variant is None and head is not None:
                if loss.kind == "binary" and units is not None and units >= 3 and (act == "softmax" or single_label):
                    variant = "binary_multiclass"  # (sigmoid + binary CE on multi-label data is right)
                elif act == "sigmoid" and units is not None and units >= 3 and loss.kind in ("categorical", "sparse"):
                    variant = "sigmoid_multiclass"
                elif act == "softmax" and units == 1:
                    variant = "softmax_one_unit"
                elif loss.from_logits and act in ("softmax", "sigmoid"):
                    variant = "from_logits"
            if variant is None:
                continue
            ctx.report(loss.site, subject=comp, variant=variant, params=params, related=related)

    def _torch(self, ctx: Context) -> None:
        facts = ctx.facts
        for rec in facts.calls:
            kind = _criterion(rec)
            if kind is None:
                continue
            inp = rec.args.get("#0", rec.args.get("input"))
            what = facts.value_activation(inp)
            if kind == "nll" and what in ("logits", "softmax", "sigmoid"):
                variant = "nll_logits" if what == "logits" else "nll_probabilities"
            elif kind == "ce" and what == "softmax":
                variant = "ce_softmax"
            else:
                continue
            related = [inp.site] if isinstance(inp, Obj) and inp.site.cell != rec.site.cell else []
            ctx.report(rec.site, subject=rec, variant=variant, params={
                "call": facts.quote(rec.site, 80), "outputs": facts.describe(inp)}, related=related)


def _criterion(rec: CallRecord) -> str | None:
    """"nll" / "ce" for a call of an NLLLoss / CrossEntropyLoss (object or functional form)."""
    if rec.name in F_NLL:
        return "nll"
    if rec.name in F_CE:
        return "ce"
    if rec.name == "()" and isinstance(rec.callee, Obj) and rec.callee.kind is ObjKind.CALL:
        api = rec.callee.api or ""
        if api in NLL:
            return "nll"
        if api in CE:
            return "ce"
    return None

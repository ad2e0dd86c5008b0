"""Fine-tuning in PyTorch: is the pretrained backbone itself trained, or only a new head?

Keras marks this with `.trainable` (models.unfreezes); in PyTorch it is spread over three
places, all read here in evaluation order:

- the network is pretrained (`weights=...` / `pretrained=True`, models.is_pretrained);
- the optimizer stepped in a training pass is given backbone parameters: `model.parameters()`,
  `filter(lambda p: p.requires_grad, model.parameters())`, parameter groups such as
  `[{'params': backbone_params, 'lr': 1e-4}, {'params': model.fc.parameters()}]`, a list
  built from `model.named_parameters()` that leaves the head out; not `model.fc.parameters()`;
- the backbone is not frozen at that time: `p.requires_grad = False` over
  `model.parameters()` (or `model.features.parameters()`), `model.requires_grad_(False)`, and
  a later `= True` (staged unfreezing) are replayed up to the training pass.

Anything the analysis cannot read (a conditional freeze by parameter name, parameters sliced
by position) makes the answer unknown, and praise is not given on unknowns.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .models import is_pretrained
from .passes import GRAD_SCALERS, Pass, model_of
from .values import Const, Dict, Obj, ObjKind, Seq, Value

if TYPE_CHECKING:
    from . import Facts

# the classifier attribute of common torchvision / timm architectures
HEAD_ATTRS = frozenset({"fc", "classifier", "head", "heads", "_fc", "last_linear", "fc_out", "out", "linear"})
# attributes that hold (most of) the backbone: freezing them freezes the backbone
BACKBONE_ATTRS = frozenset({"features", "backbone", "encoder", "base", "base_model", "body", "model", "stem_and_body"})
PARAM_METHODS = frozenset({"parameters", "named_parameters"})


@dataclass(frozen=True, eq=False)
class FineTuning:
    model: Obj
    pass_: Pass  # the training pass that trains the backbone
    optimizer: Obj
    staged: bool  # the backbone was frozen before and unfrozen for this pass


def fine_tuned(facts: "Facts") -> list[FineTuning]:
    """Pretrained PyTorch networks whose backbone a training pass really trains."""
    out = []
    events = _freeze_events(facts)
    for tp in facts.passes.training_passes():
        for held in tp.models:
            for m in _pretrained_in(held):
                opt = _optimizer_of(facts, tp)
                if opt is None:
                    continue
                # the optimizer must get the backbone's parameters through the network it trains
                scope = param_scope(opt.args.get("params", opt.args.get("#0")), held)
                if scope != "backbone":
                    continue
                if any(backbone_trainable(events, net, tp.at) is not True for net in {m, held}):
                    continue
                staged = any(e.model is m and e.trainable is False and e.seq <= tp.at for e in events)
                out.append(FineTuning(m, tp, opt, staged))
    return out


def _pretrained_in(net: Obj) -> list[Obj]:
    """The pretrained torchvision/timm networks a trained network is: itself, or the parts of an
    `nn.Sequential(backbone, head)` wrapper (a linear probe's backbone fine-tuned with a new head)."""
    def pretrained(m: Obj | None) -> bool:
        return isinstance(m, Obj) and m.kind is ObjKind.CALL and \
            (m.api or "").startswith(("torchvision.models.", "timm.")) and is_pretrained(m)

    if pretrained(net):
        return [net]
    if net.kind is ObjKind.CALL and net.api == "torch.nn.Sequential":
        parts = [model_of(a) for k, a in net.args.items() if k.startswith("#")]
        return [m for m in parts if pretrained(m)]  # type: ignore[misc]
    return []


def _optimizer_of(facts: "Facts", tp: Pass) -> Obj | None:
    """The optimizer a training pass steps (`opt.step()` or `scaler.step(opt)`)."""
    found: list[Obj] = []
    for rec in facts.calls_inside(tp.loop):
        if rec.method != "step":
            continue
        recv = rec.receiver
        if isinstance(recv, Obj) and recv.kind is ObjKind.CALL and recv.api in GRAD_SCALERS:
            recv = rec.args.get("#0")
        if isinstance(recv, Obj) and facts.kind_of(recv).value == "optimizer" and all(recv is not o for o in found):
            found.append(recv)
    return found[0] if len(found) == 1 else None


def _part(v: Value | None, model: Obj) -> str | None:
    """"" for the model itself, the attribute name for `model.<attr>` (first level), None otherwise."""
    if model_of(v) is model:
        return ""
    attr = None
    for _ in range(8):
        if not isinstance(v, Obj):
            return None
        if v.kind is ObjKind.ATTR:
            attr = v.api
            v = v.origin
            if model_of(v) is model:
                return attr
            continue
        if v.kind is ObjKind.SUBSCRIPT:
            v = v.origin
            continue
        return None
    return None


def param_scope(v: Value | None, model: Obj, depth: int = 0) -> str | None:
    """"backbone" when these optimizer parameters include the backbone's, "head" when only the
    classifier's, None when unknown."""
    if depth > 6 or v is None:
        return None
    if isinstance(v, Seq):
        scopes = [param_scope(i.items.get("params") if isinstance(i, Dict) else i, model, depth + 1) for i in v.items]
        if "backbone" in scopes:
            return "backbone"
        return "head" if scopes and all(s == "head" for s in scopes) and v.complete else None
    if not isinstance(v, Obj):
        return None
    if v.kind is ObjKind.METHOD and v.api in PARAM_METHODS:
        part = _part(v.origin, model)
        if part is None:
            return None
        return "head" if part in HEAD_ATTRS else "backbone"
    if v.kind is ObjKind.CALL and v.api in ("builtins.filter", "builtins.list", "itertools.chain"):
        parts = [param_scope(a, model, depth + 1) for k, a in v.args.items() if k.startswith("#")]
        parts = [p for p in parts if p is not None] if v.api == "builtins.filter" else parts
        if "backbone" in parts:
            return "backbone"
        return "head" if parts and all(p == "head" for p in parts) else None
    if v.kind is ObjKind.COMPREHENSION:
        node = v.site.node
        source = _comprehension_source(v)
        if source is None or not isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return None
        scope = param_scope(source, model, depth + 1)
        ifs = [c for g in node.generators for c in g.ifs]
        if scope == "backbone" and ifs:
            text = " ".join(ast.unparse(c) for c in ifs)
            negated = all(isinstance(c, ast.UnaryOp) and isinstance(c.op, ast.Not) for c in ifs) or " not in " in text
            mentions_head = any(f"'{h}" in text or f'"{h}' in text for h in HEAD_ATTRS)
            return "backbone" if negated and mentions_head else None
        return scope
    return None


def _comprehension_source(v: Obj) -> Value | None:
    """What `[p for n, p in model.named_parameters() if ...]` iterates over."""
    x: Value | None = v.origin
    for _ in range(6):
        if isinstance(x, Obj) and x.kind in (ObjKind.ITEM, ObjKind.ITER):
            if x.kind is ObjKind.ITER:
                return x.origin
            x = x.origin
        else:
            return None
    return None


@dataclass(frozen=True)
class _Freeze:
    seq: int
    part: str  # "" for the whole model, else the attribute
    trainable: bool | None  # None: set under a condition we cannot read
    model: Obj


def _freeze_events(facts: "Facts") -> list[_Freeze]:
    out: list[_Freeze] = []
    interp = facts.interp
    for (site, base, attr, value), seq in zip(interp.attr_sets, interp.attr_seqs):
        if site.uncalled or attr != "requires_grad":
            continue
        params = _param_source(base)
        if params is None or not isinstance(params.origin, Obj):
            continue
        model = _owner(params.origin)
        if model is None:
            continue
        loop_conds = len(site.loops[-1].conds) if site.loops else 0
        flag = value.value if isinstance(value, Const) and isinstance(value.value, bool) else None
        if len(site.conds) > loop_conds:
            flag = None
        out.append(_Freeze(seq, _part(params.origin, model) or "", flag, model))
    for rec in facts.calls:
        if rec.method == "requires_grad_" and not rec.site.uncalled:
            model = _owner(rec.receiver)
            if model is None:
                continue
            flag = rec.args.get("#0", rec.args.get("requires_grad", Const(True)))
            out.append(_Freeze(rec.seq, _part(rec.receiver, model) or "",
                               flag.value if isinstance(flag, Const) and not rec.site.conds else None, model))
    out.sort(key=lambda e: e.seq)
    return out


def _param_source(base: Value | None) -> Obj | None:
    """`p` of `for p in model.parameters()` (or `for n, p in model.named_parameters()`): the
    `parameters()` call it comes from."""
    x = base
    for _ in range(4):
        if not isinstance(x, Obj):
            return None
        if x.kind is ObjKind.METHOD and x.api in PARAM_METHODS:
            return x
        if x.kind in (ObjKind.ITER, ObjKind.ITEM):
            x = x.origin
            continue
        return None
    return None


def _owner(v: Value | None) -> Obj | None:
    """The network a module or attribute chain belongs to."""
    for _ in range(8):
        m = model_of(v)
        if m is not None:
            return m
        if isinstance(v, Obj) and v.kind in (ObjKind.ATTR, ObjKind.SUBSCRIPT):
            v = v.origin
            continue
        return None
    return None


def backbone_trainable(events: list[_Freeze], model: Obj, at: int) -> bool | None:
    """Whether the backbone's parameters can be trained at sequence number `at`."""
    whole: bool | None = True
    parts: dict[str, bool | None] = {}
    for e in events:
        if e.model is not model or e.seq > at:
            continue
        if e.part == "":
            whole, parts = e.trainable, {}
        else:
            parts[e.part] = e.trainable
    if any(v is None for v in parts.values()):
        return None
    if whole is None:
        return None
    if whole:
        return not any(parts.get(a) is False for a in BACKBONE_ATTRS)
    # everything frozen, then some of the backbone unfrozen again (staged fine-tuning)
    return True if any(v and k not in HEAD_ATTRS for k, v in parts.items()) else False

"""Passes over data: which loops train a model and which evaluate it, and the model's mode.

A *pass* is one execution of a loop over a loader or dataset (`for x, y in loader`, also
through `tqdm`, `enumerate`, a dict of loaders, a comprehension over batches), with what the
loop body did (helpers, methods of the notebook's own classes and unrolled phase loops
included, see interpreter.py):

- it *trains* when the weights are updated inside it: `loss.backward()`, `optimizer.step()`,
  `scaler.step(optimizer)`, `apply_gradients`; a conditional update (`if training:
  loss.backward()` with an unknown flag) counts, so a pass that may train is never taken
  for an evaluation;
- it *evaluates* when the model's forward pass runs in it and nothing is updated;
- the data it walks has a *role*: trained on (walked by a training pass) or held out.

The mode of a PyTorch model (`model.train()` / `model.eval()` / `model.train(False)`, also
through `.to(device)` and the notebook's helpers) is a state over the ordered calls
(`flow.state_at`); here each state remembers the call that set it, so a rule can tell a
training pass's own `model.train()` from a deliberate one (MC dropout: `model.train()` on
purpose before repeated predictions). Switching a sub-module (`model.backbone.eval()`,
`for m in model.modules(): m.train()`) makes the mode unknown.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

from .flow import Mode, StateAt
from .interpreter import unwrap_iterable
from .models import is_model, root
from .torchdata import chain, is_torch_data
from .values import CallRecord, Class, Const, Loop, Obj, ObjKind, Seq, Value

if TYPE_CHECKING:
    from . import Facts

NO_GRAD = ("torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad")
UPDATE_METHODS = frozenset({"backward", "apply_gradients", "minimize", "train_on_batch"})
GRAD_SCALERS = ("torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.cuda.amp.grad_scaler.GradScaler")
WRAPPERS = ("torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel",
            "torch.nn.parallel.DataParallel", "torch.compile")
SUBMODULE_STEPS = frozenset({"modules", "children", "named_modules", "named_children", "get_submodule"})
# layers whose behaviour depends on the mode (what `eval()` changes)
MODE_LAYERS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
               "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d",
               "LazyBatchNorm3d")
NEUTRAL_LAYERS = ("Linear", "Conv1d", "Conv2d", "Conv3d", "ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh",
                  "Softmax", "LogSoftmax", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
                  "Flatten", "Identity", "LayerNorm", "GroupNorm", "ELU", "Mish", "Hardswish", "PReLU",
                  "MaxPool1d", "AvgPool1d", "Embedding", "LazyLinear", "LazyConv2d", "Unflatten", "ConvTranspose2d",
                  "Upsample", "ZeroPad2d")
INIT = ("init", None)  # the mode a module is created in: training


@dataclass(frozen=True, eq=False)
class Pass:
    """One execution of a loop over batches of data."""

    loop: Loop
    data: Obj | None  # what is walked (tqdm/enumerate/iter unwrapped): a loader, subset or dataset;
    # None only for a training pass over data the analysis cannot identify
    forwards: tuple[CallRecord, ...]  # the model's forward passes made directly by this pass
    trains: bool  # weights may be updated inside
    no_grad: bool  # every forward runs under no_grad / inference_mode
    helper: CallRecord | None  # the call of the notebook function (or method) whose body has this loop

    @property
    def at(self) -> int:
        """When the pass reads its data (a sequence number): the loop's start, or for a
        comprehension (which keeps no span) its first forward pass."""
        if self.loop.span[1] > self.loop.span[0]:
            return self.loop.span[0]
        return self.forwards[0].seq if self.forwards else 0

    @property
    def models(self) -> list[Obj]:
        out: list[Obj] = []
        for rec in self.forwards:
            m = model_of(rec.callee)
            if m is not None and all(m is not o for o in out):
                out.append(m)
        return out

    @property
    def evaluates(self) -> bool:
        return bool(self.forwards) and not self.trains and self.data is not None


def model_of(v: Value | None) -> Obj | None:
    """The PyTorch (or Keras) network behind a value: through `.to(device)`, `.eval()`,
    `nn.DataParallel(model)`, `model.module`; `nn.Sequential(...)` counts as a network."""
    r = root(v, "model")
    for _ in range(4):
        if isinstance(r, Obj) and r.kind is ObjKind.CALL and r.api in WRAPPERS:
            r = root(r.args.get("module", r.args.get("#0", r.args.get("model"))), "model")
        elif isinstance(r, Obj) and r.kind is ObjKind.ATTR and r.api in ("module", "_orig_mod"):
            r = root(r.origin, "model")
        else:
            break
    if not isinstance(r, Obj):
        return None
    if is_model(r) or (r.kind is ObjKind.CALL and r.api == "torch.nn.Sequential"):
        return r
    return None


def derived_from(v: Value | None, model: Obj) -> bool:
    """A part of the model: `model.backbone`, `model.features[0]`, a module from `model.modules()`."""
    for _ in range(12):
        if not isinstance(v, Obj):
            return False
        if model_of(v) is model:
            return True
        if v.kind in (ObjKind.ATTR, ObjKind.ITER, ObjKind.SUBSCRIPT, ObjKind.ITEM) or (
                v.kind is ObjKind.METHOD and v.api in SUBMODULE_STEPS):
            v = v.origin
            continue
        return False
    return False


def is_update(facts: "Facts", rec: CallRecord) -> bool:
    """A call that updates weights: `loss.backward()`, `optimizer.step()`, `scaler.step(opt)`."""
    if rec.method in UPDATE_METHODS:
        return True
    if rec.method == "step":
        recv = root(rec.receiver, "model")
        kind = facts.kind_of(recv)
        if kind.value == "optimizer":
            return True
        if isinstance(recv, Obj) and recv.kind is ObjKind.CALL and recv.api in GRAD_SCALERS:
            return True
    return False


class Passes:
    """Every pass of one notebook, and the queries over them (built once per Facts)."""

    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        self.updates = [rec for rec in facts.calls if not rec.site.uncalled and is_update(facts, rec)]
        self._modes: dict[tuple[int, int], StateAt] = {}
        self._escapes: dict[int, list[CallRecord]] = {}

    @cached_property
    def all(self) -> list[Pass]:
        facts = self.facts
        loops: dict[int, Loop] = {}
        direct: dict[int, list[CallRecord]] = {}
        for rec in facts.calls:
            if rec.site.uncalled:
                continue
            for lp in rec.site.loops:
                loops.setdefault(lp.id, lp)
            if rec.site.loops:
                direct.setdefault(rec.site.loops[-1].id, []).append(rec)
        out = []
        update_loops = self.update_loops
        walked: dict[int, Obj | None] = {}
        for lp in loops.values():
            data = data_walked(lp) or _drawn_by_next(direct.get(lp.id, ()))
            if data is not None:
                walked[lp.id] = data
            elif lp.kind in ("for", "while") and any(is_update(facts, r) for r in direct.get(lp.id, ())):
                walked[lp.id] = None  # a training loop over batches we cannot identify
        self._walked = walked
        for lp in loops.values():
            if lp.id not in walked:
                continue
            data = walked[lp.id]
            inner = [r for r in facts.calls_inside(lp) if not r.site.uncalled]
            forwards = tuple(r for r in inner if r.name == "()" and model_of(r.callee) is not None
                             and self._innermost_data_loop(r) is lp)
            no_grad = bool(forwards) and all(_no_grad(r) for r in forwards)
            out.append(Pass(lp, data, forwards, lp.id in update_loops, no_grad, self._helper(lp, direct)))
        out.sort(key=lambda p: p.loop.span[0])
        return out

    def _helper(self, lp: Loop, direct: dict[int, list[CallRecord]]) -> CallRecord | None:
        body = direct.get(lp.id) or [r for r in self.facts.calls_inside(lp)]
        if not body:
            return None
        funcs = [f for f in body[0].site.funcs]
        if not funcs:
            return None
        func = funcs[-1]
        # the loop's own function: the innermost one all its body calls share
        for rec in body:
            while funcs and func not in rec.site.funcs:
                funcs.pop()
                func = funcs[-1] if funcs else None  # type: ignore[assignment]
        if func is None:
            return None
        best = None
        start = lp.span[0] if lp.span[1] > lp.span[0] else min(r.seq for r in body)
        for rec in self.facts.calls:
            if rec.seq > start:
                break
            if rec.callee is func and rec.followed:
                best = rec
        return best

    @cached_property
    def trained_data(self) -> set[int]:
        """Ids of the data objects training passes walk (loaders and the dataset right under them)."""
        out: set[int] = set()
        for p in self.all:
            if p.trains and p.data is not None:
                out |= {o.id for o in _first_two(p.data)}
        return out

    def held_out(self, p: Pass) -> bool:
        """The data of this pass is not walked by any training pass."""
        return not ({o.id for o in _first_two(p.data)} & self.trained_data)

    def evaluation_passes(self) -> list[Pass]:
        return [p for p in self.all if p.evaluates]

    def training_passes(self) -> list[Pass]:
        return [p for p in self.all if p.trains]

    @cached_property
    def update_loops(self) -> frozenset[int]:
        """Ids of the loops with a weight update somewhere inside (epoch loops, batch loops)."""
        return frozenset(lp.id for rec in self.updates for lp in rec.site.loops)

    def repeated(self, p: Pass) -> bool:
        """The pass runs several times over the same data on purpose (test-time augmentation, MC
        dropout): a loop around it repeats and updates nothing."""
        if not p.forwards:
            return False
        loops = p.forwards[0].site.loops
        for lp in loops[:loops.index(p.loop)] if p.loop in loops else ():
            if lp.id in self.update_loops or (lp.count is not None and lp.count < 2):
                continue
            return True
        return False

    def validation_passes(self) -> list[Pass]:
        """Evaluation passes over held-out labelled data made while a model trains (inside a loop
        that updates weights): the validation of the training run."""
        out = []
        for p in self.evaluation_passes():
            if not self.held_out(p) or self.repeated(p) or self.facts.torchdata.yields_labels(p.data) is False:
                continue
            if any(lp.id in self.update_loops for lp in (p.forwards[0].site.loops if p.forwards else ())):
                out.append(p)
        return out

    def _innermost_data_loop(self, rec: CallRecord) -> Loop | None:
        for lp in reversed(rec.site.loops):
            if lp.id in self._walked:
                return lp
        return None

    def pass_of(self, rec: CallRecord) -> Pass | None:
        self.all  # noqa: B018 - builds the table of walked loops
        lp = self._innermost_data_loop(rec)
        return next((p for p in self.all if p.loop is lp), None) if lp is not None else None

    # --- modes -----------------------------------------------------------------------------
    def mode_effect(self, model: Obj):
        """`model.train()` / `.eval()` / `.train(False)` -> ("train"|"eval", the call's seq); a change
        of a sub-module's mode, or a function applied to every module, -> Mode.UNKNOWN."""

        def effect(rec: CallRecord) -> object:
            if rec.method in ("train", "eval"):
                if model_of(rec.receiver) is model:
                    if rec.method == "eval":
                        return ("eval", rec.seq)
                    flag = rec.args.get("#0", rec.args.get("mode", Const(True)))
                    if isinstance(flag, Const):
                        return ("train" if flag.value else "eval", rec.seq)
                    return Mode.UNKNOWN
                if derived_from(rec.receiver, model):
                    return Mode.UNKNOWN
                return None
            if rec.method == "apply" and model_of(rec.receiver) is model:
                return Mode.UNKNOWN  # a function run on every sub-module may switch modes
            return None

        return effect

    def mode_at(self, model: Obj, at: CallRecord) -> StateAt:
        """The states of `model`'s mode when `at` runs: INIT, ("train"|"eval", the setter's seq), or
        Mode.UNKNOWN (a call we cannot see could have changed it)."""
        key = (model.id, at.seq)
        if key not in self._modes:
            flow = self.facts.flow
            if model.id not in self._escapes:
                self._escapes[model.id] = flow.escapes(model)
            self._modes[key] = flow.state_at(at, self.mode_effect(model), INIT, self._escapes[model.id])
        return self._modes[key]

    def surely_training_mode(self, model: Obj, at: CallRecord) -> bool:
        """On some pass (the first, or a later iteration of a loop around `at`), the model is
        certainly in training mode because it was never switched to eval, or because a
        training pass switched it back (`model.train()` made for training, not on purpose
        before predictions)."""
        states = self.mode_at(model, at)
        for group in [states.first] + [s for _lp, s in states.by_loop]:
            if group and all(self._trainish(model, s) for s in group):
                return True
        return False

    def _trainish(self, model: Obj, state: object) -> bool:
        if state == INIT:
            return True
        if isinstance(state, tuple) and state[0] == "train":
            return self.training_setter(model, self.call_at(state[1]))
        return False

    def call_at(self, seq: int) -> CallRecord:
        """The call with this sequence number."""
        calls = self.facts.calls
        lo, hi = 0, len(calls)
        while lo < hi:
            mid = (lo + hi) // 2
            if calls[mid].seq < seq:
                lo = mid + 1
            else:
                hi = mid
        return calls[lo]

    def training_setter(self, model: Obj, setter: CallRecord) -> bool:
        """`model.train()` made for training: inside a loop that updates weights, or followed by an
        update before anything evaluates the model or changes its mode."""
        if any(lp.id in self.update_loops for lp in setter.site.loops):
            return True
        effect = self.mode_effect(model)
        eval_forwards = {id(r) for p in self.all if p.evaluates for r in p.forwards}
        for rec in self.facts.calls:
            if rec.seq <= setter.seq or rec.site.uncalled:
                continue
            if is_update(self.facts, rec):
                return True
            if id(rec) in eval_forwards or effect(rec) is not None:
                return False
        return False


def data_walked(lp: Loop) -> Obj | None:
    """The loader or dataset a loop walks (through tqdm, enumerate, iter, a dict of loaders)."""
    over = unwrap_iterable(lp.over)
    if isinstance(over, Obj) and over.kind is ObjKind.CALL and over.api == "builtins.iter":
        over = over.args.get("#0")
    if isinstance(over, Obj) and is_torch_data(over):
        return over
    return None


def _drawn_by_next(body: Iterable[CallRecord]) -> Obj | None:
    """`x, y = next(it)` with `it = iter(loader)` in the loop body: the loop draws batches of
    that loader (`for step in range(steps_per_epoch): ...`)."""
    for rec in body:
        if rec.name == "builtins.next":
            it = rec.args.get("#0")
            if isinstance(it, Obj) and it.kind is ObjKind.CALL and it.api == "builtins.iter":
                data = it.args.get("#0")
                if isinstance(data, Obj) and is_torch_data(data):
                    return data
    return None


def _first_two(data: Obj) -> list[Obj]:
    """The walked object and the dataset right under it (`DataLoader(ds)` -> loader, ds)."""
    out = []
    for o in chain(data):
        out.append(o)
        if len(out) == 2:
            break
    return out


def _no_grad(rec: CallRecord) -> bool:
    return any(c.startswith(NO_GRAD) for c in rec.site.contexts)


def mode_sensitive(facts: "Facts", model: Obj) -> bool:
    """Whether `eval()` changes what this network computes (it has Dropout or BatchNorm), as far
    as the analysis can see: library models do; a notebook module or `nn.Sequential` whose
    layers are all known and none depends on the mode does not."""
    return _sensitive(facts, model, 0) is not False


def _sensitive(facts: "Facts", v: Value | None, depth: int) -> bool | None:
    if depth > 8 or not isinstance(v, Obj):
        return None
    if v.kind is not ObjKind.CALL:
        return None
    api = v.api or ""
    short = api.rsplit(".", 1)[-1]
    if api.startswith("torch.nn.") and short in MODE_LAYERS:
        return True
    if api.startswith("torch.nn.") and short in NEUTRAL_LAYERS:
        return False
    if api in ("torch.nn.Sequential", "torch.nn.ModuleList"):
        items = [a for k, a in v.args.items() if k.startswith("#")]
        if not v.complete:
            return None
        flat: list[Value] = []
        for a in items:
            if isinstance(a, Seq):
                if not a.complete:
                    return None
                flat.extend(a.items)
            else:
                flat.append(a)
        return _any([_sensitive(facts, a, depth + 1) for a in flat])
    if isinstance(v.callee, Class):
        parts: list[bool | None] = []
        for hist in v.attrs.values():
            val = hist[-1][1]
            if isinstance(val, Obj):
                parts.append(_sensitive(facts, val, depth + 1))
        for method in v.callee.methods.values():
            for rec in facts.calls_in(method):
                if rec.name.startswith(("torch.nn.functional.dropout", "torch.nn.functional.batch_norm",
                                        "torch.nn.functional.alpha_dropout")):
                    return True
                if rec.name.startswith("torch.nn.") and rec.name.rsplit(".", 1)[-1] in MODE_LAYERS:
                    return True
        return _any(parts) if parts else None
    return True  # torchvision / timm / other library networks have BatchNorm or Dropout


def _any(values: Iterable[bool | None]) -> bool | None:
    values = list(values)
    if any(v is True for v in values):
        return True
    if values and all(v is False for v in values):
        return False
    return None

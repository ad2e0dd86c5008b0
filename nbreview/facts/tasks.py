"""Queries about what the project did, for its checklist: whether an LR schedule reaches
training, which predictions are combined into an ensemble, where a submission file is written,
whether a fine-tuned backbone is trained after it was unfrozen.

Each answer is conservative in the direction the checklist needs: "live" is True only when the
code is seen to reach training or prediction, False only when it surely does not (never passed
on, never stepped), None when the analysis cannot tell.
"""
from __future__ import annotations

import ast
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from . import apis
from .models import backbones, is_model, root
from .values import CallRecord, Const, Obj, ObjKind, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts

KERAS_LR_CALLBACKS = ("keras.callbacks.ReduceLROnPlateau", "keras.callbacks.LearningRateScheduler")
SCHEDULE_PREFIXES = ("keras.optimizers.schedules.", "keras.experimental.CosineDecay",
                     "tensorflow_addons.optimizers.Cyclical", "torch.optim.lr_scheduler.", "timm.scheduler.")
# calls that give a model other weights: predictions before and after come from different models
WEIGHT_CHANGES = frozenset({"load_weights", "fit", "fit_generator", "set_weights", "load_state_dict",
                            "train_on_batch"})
# calls and operators that put several predictions together (an average, a vote, a sum)
COMBINERS = frozenset({"numpy.mean", "numpy.average", "numpy.sum", "numpy.median", "numpy.stack",
                       "numpy.array", "torch.stack", "torch.mean", "torch.sum", "sum", "scipy.stats.mode",
                       "tensorflow.reduce_mean", "tensorflow.stack"})
MAX_LEAVES_DEPTH = 10


@dataclass
class Attempt:
    """A place where the notebook does a project task, and whether it reaches training/prediction.
    `cells` are all the cells the attempt is made of (the loop, the predict call, the data)."""


    site: Site
    live: bool | None = True
    cells: frozenset[int] = frozenset()
    works: bool | None = True  # None: whether it does what it should cannot be told (TTA over unknown data)

    def __post_init__(self) -> None:
        self.cells = frozenset(self.cells) | {self.site.cell}


def lr_schedules(facts: "Facts") -> list[Attempt]:
    """Keras LR callbacks, Keras/TF schedule objects, PyTorch/timm schedulers, in notebook order."""
    out: list[Attempt] = []
    for o in facts.created_matching(lambda a: a in KERAS_LR_CALLBACKS or a.startswith(SCHEDULE_PREFIXES),
                                    include_uncalled=True):
        out.append(Attempt(o.site, _schedule_live(facts, o)))
    return sorted(out, key=lambda a: a.site.key)


def _schedule_live(facts: "Facts", o: Obj) -> bool | None:
    if o.site.uncalled:
        # a method a framework calls (Lightning's configure_optimizers) or a helper nobody calls
        return None if _in_method(o.site) else False
    api = o.api or ""
    unsure = bool(facts.gaps)
    if api in KERAS_LR_CALLBACKS:
        if facts.fits_with_callback(o):
            return True
        return None if unsure or referenced(facts, o) else False
    if api.startswith(("torch.optim.lr_scheduler.", "timm.scheduler.")):
        stepped = any(root(rec.receiver, "model") is o for rec in facts.method_calls("step", "step_update"))
        if stepped:
            return True
        return None if unsure or facts.escapes(o) else False
    # a Keras schedule object: it works once an optimizer (or a callback) takes it
    if any(u.param != "self" for u in o.uses):
        return True
    return None if unsure or referenced(facts, o) else False


def referenced(facts: "Facts", o: Obj) -> bool:
    """Is the object read anywhere after it was made (by the variable it was bound to)? An object
    made inline, with no variable, is passed on where it is made."""
    name = facts.name_of(o)
    if name is None or "." in name or "[" in name:
        return True
    return any(key[:2] != o.site.key[:2] for key in facts.loads_of(name))


def _in_method(site: Site) -> bool:
    return bool(site.funcs) and isinstance(site.funcs[-1].node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
        bool(site.funcs[-1].node.args.args) and site.funcs[-1].node.args.args[0].arg == "self"


def weights_version(facts: "Facts", model: Value | None, seq: int) -> int:
    """How many times the model's weights changed (load, fit, ...) before evaluation point `seq`."""
    target = root(model, "model")
    return sum(1 for rec in facts.calls if rec.seq < seq and rec.method in WEIGHT_CHANGES
               and root(rec.receiver, "model") is target)


def ensembles(facts: "Facts") -> list[Site]:
    """Places where predictions of two or more different models (or of one model with different
    weights: the best and the last checkpoint) are combined, and loops over a list of models."""
    out: list[Site] = []
    loops = {id(lp): lp for rec in facts.calls for lp in rec.site.loops}  # each loop run once, not per call
    model_loops = {id(lp.node): lp for lp in loops.values() if _models_list(lp.over)}
    for v in _combinations(facts):
        states = {state for state in _prediction_states(facts, v, 0, set())}
        if len(states) >= 2 or any(_made_per_model(a, model_loops) for a in v.args.values()):
            out.append(v.site)
    for rec in facts.calls:
        if rec.site.uncalled or not _predicts(rec):
            continue
        model = root(rec.receiver if rec.method else rec.callee, "model")
        if isinstance(model, Obj) and model.kind is ObjKind.ITER and _models_list(model.origin):
            out.append(rec.site)  # `for m in models: m.predict(x)`, also through a helper
            continue
        node = rec.site.node
        model_node = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and rec.method else (node.func if isinstance(node, ast.Call) else None)
        if not isinstance(model_node, ast.Name):
            continue
        for loop in rec.site.loops:
            if model_node.id in loop.targets and _models_list(loop.over):
                out.append(rec.site)
    return sorted(out, key=lambda s: s.key)


def _made_per_model(v: Value | None, model_loops: dict) -> bool:
    """Results collected once per model of a list: `[predict(m, x) for m in models]`, or a list
    appended to inside `for m in models:`."""
    if isinstance(v, Obj) and v.kind is ObjKind.COMPREHENSION:
        return id(v.site.node) in model_loops
    if isinstance(v, Seq):
        return any(isinstance(i, Obj) and any(id(lp.node) in model_loops for lp in i.site.loops) for i in v.items)
    return False


def _models_list(v: Value | None) -> bool:
    """A literal list of two or more different models."""
    return isinstance(v, Seq) and len({id(root(i, "model")) for i in v.items}) >= 2 and \
        all(is_model(i) for i in v.items)


def _predicts(rec: CallRecord) -> bool:
    return rec.method in apis.PREDICT_METHODS or (rec.name == "()" and rec.method is None)


def _combinations(facts: "Facts") -> Iterator[Obj]:
    for o in facts.objects:
        if o.site.uncalled:
            continue
        if o.kind is ObjKind.BINOP and o.api in ("add", "mult", "mul", "div"):
            yield o
        elif o.kind is ObjKind.CALL and (o.api or "") in COMBINERS:
            yield o
        elif o.kind is ObjKind.METHOD and o.api in ("mean", "sum") and isinstance(o.origin, Obj) and \
                (o.origin.api or "") in COMBINERS:
            yield o


def _prediction_states(facts: "Facts", v: Value | None, depth: int, seen: set[int]) -> Iterator[tuple[int, int]]:
    """(model id, weights version) of every prediction that flows into `v`."""
    if depth > MAX_LEAVES_DEPTH:
        return
    if isinstance(v, Seq):
        for item in v.items:
            yield from _prediction_states(facts, item, depth + 1, seen)
        return
    if not isinstance(v, Obj) or v.id in seen:
        return
    seen.add(v.id)
    if v.kind is ObjKind.METHOD and v.api in apis.PREDICT_METHODS:
        model = root(v.origin, "model")
        if isinstance(model, Obj):
            yield (model.id, weights_version(facts, model, v.seq))
        return
    if v.kind is ObjKind.APPLY and is_model(v.callee):
        model = root(v.callee, "model")
        yield (model.id, weights_version(facts, model, v.seq))  # type: ignore[union-attr]
        return
    if v.kind in (ObjKind.BINOP, ObjKind.METHOD, ObjKind.SUBSCRIPT, ObjKind.CALL):
        if v.kind is not ObjKind.CALL:
            yield from _prediction_states(facts, v.origin, depth + 1, seen)
        for key, a in v.args.items():
            if key.startswith("#") or key in ("left", "right", "x", "input", "a", "arrays", "tensors"):
                yield from _prediction_states(facts, a, depth + 1, seen)


def submission_writes(facts: "Facts") -> list[Site]:
    """`to_csv` (and `np.savetxt`) calls that write a submission: the file or the table is named
    like one, or the table holds predictions; also inside the notebook's own helper functions."""
    out = []
    for rec in facts.method_calls("to_csv") + facts.calls_to("numpy.savetxt"):
        path = rec.args.get("#0", rec.args.get("path_or_buf", rec.args.get("fname")))
        named = isinstance(path, Const) and isinstance(path.value, str) and _submission_name(path.value)
        table = rec.receiver if rec.method else None
        table_name = facts.name_of(table) or ""
        if named or _submission_name(table_name) or _holds_predictions(table):
            out.append(rec.site)
    return sorted(out, key=lambda s: s.key)


def _submission_name(text: str) -> bool:
    t = text.lower()
    return any(k in t for k in ("sub", "pred"))


def _holds_predictions(v: Value | None, depth: int = 0) -> bool:
    if depth > MAX_LEAVES_DEPTH:
        return False
    if isinstance(v, Seq):
        return any(_holds_predictions(i, depth + 1) for i in v.items)
    from .values import Dict

    if isinstance(v, Dict):
        return any(_holds_predictions(i, depth + 1) for i in v.items.values())
    if not isinstance(v, Obj):
        return False
    if (v.kind is ObjKind.METHOD and v.api in apis.PREDICT_METHODS) or (v.kind is ObjKind.APPLY and is_model(v.callee)):
        return True
    if v.kind is ObjKind.CALL and not (v.api or "").startswith(("pandas.DataFrame", "numpy.")):
        return False
    nxt = [v.origin] if v.kind is not ObjKind.CALL else []
    return any(_holds_predictions(a, depth + 1) for a in nxt + list(v.args.values()))


def trained_after(facts: "Facts", site: Site, backbone: Obj) -> bool | None:
    """Is a model that holds `backbone` trained after `site` (in evaluation order, helpers
    followed)? None when no training call on a known model is seen at all (a custom loop)."""
    fits = facts.training_backbones
    if not fits:
        return None
    after = seq_after(facts, site)
    return any(seq > after and backbone in inside for seq, inside in fits)


def training_backbones(facts: "Facts") -> list[tuple[int, list[Obj]]]:
    """For each training call (fits and custom-loop updates): its `seq`, and the backbones inside
    the model it trains."""
    return [(rec.seq, backbones(model)) for rec, model in facts.models_trained() + gradient_updates(facts)]


_WEIGHT_LISTS = ("trainable_variables", "trainable_weights")


def gradient_updates(facts: "Facts") -> list[tuple[CallRecord, Obj]]:
    """(update call, model) for a Keras custom training loop: `optimizer.apply_gradients(zip(grads,
    model.trainable_variables))` (or `trainable_weights`, or a list of pairs built from them)
    trains that model as a fit would."""
    out = []
    for rec in facts.method_calls("apply_gradients"):
        pairs = rec.args.get("#0", rec.args.get("grads_and_vars"))
        parts = pairs.args.values() if isinstance(pairs, Obj) and pairs.kind is ObjKind.CALL and \
            pairs.api == "builtins.zip" else []
        for v in parts:
            if isinstance(v, Obj) and v.kind is ObjKind.ATTR and v.api in _WEIGHT_LISTS and \
                    isinstance(v.origin, Obj) and is_model(v.origin):
                out.append((rec, v.origin))
    return out


def seq_after(facts: "Facts", site: Site) -> int:
    """The evaluation order of a statement that is not a call (`base.trainable = True`): the first
    call evaluated after it in the same context (the same notebook function, or the cell)."""
    keys, firsts = facts.calls_by_context.get(site.funcs, ([], []))
    i = bisect_left(keys, site.key)
    return firsts[i] - 1 if i < len(keys) else facts.last_seq

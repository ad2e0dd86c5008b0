"""Queries about loops: which loops train, which repeat the same prediction (test-time
augmentation), which walk over data batch by batch, and what a loop does.

A `Loop` is one execution of a `for`/`while`/comprehension (see values.py); every site
knows the loops around it, those of the callers of a followed helper included, so "the
calls inside this loop" includes what the helpers called from it did.
"""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator

from . import apis
from .interpreter import RANGE_LIKE, unwrap_iterable
from .models import is_model, root
from .values import CallRecord, Const, Loop, Obj, ObjKind, Value

if TYPE_CHECKING:
    from . import Facts


def names_in(node: ast.AST | None) -> set[str]:
    """The variable names an expression reads."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()


def trains(rec: CallRecord) -> bool:
    """A call that shows its loop trains a model (backward, step, fit, `model(x, training=True)`)."""
    training = rec.args.get("training")
    return rec.method in apis.TRAINING_METHODS or (
        rec.name == "()" and isinstance(training, Const) and training.value is True)


def training_loops(facts: "Facts") -> frozenset[Loop]:
    """Every loop that has a training call somewhere inside (directly or in a helper)."""
    return frozenset(lp for c in facts.calls if trains(c) for lp in c.site.loops)


def calls_inside(facts: "Facts", loop: Loop) -> Iterator[CallRecord]:
    """The calls made while the loop body ran (helpers included), in evaluation order."""
    lo, hi = loop.span
    if hi <= lo:  # a comprehension: no span kept
        return (c for c in facts.calls if loop in c.site.loops)
    return (c for c in facts.calls if lo < c.seq <= hi and loop in c.site.loops)


def repeats(facts: "Facts", loop: Loop) -> bool:
    """A loop that repeats the same work N times (`range(N)`, a literal list, `while`), not one
    that walks over data, and not a training loop (that predicts once per epoch)."""
    if loop.count is not None and loop.count < 2:
        return False
    over = unwrap_iterable(loop.over)
    if loop.kind != "while" and not (
        loop.count is not None or (isinstance(over, Obj) and over.api in RANGE_LIKE)
    ):
        return False
    return loop not in facts.training_loops


def frozen_by_cache(data: Value | None) -> bool:
    """`ds.map(random_aug).cache()`: the first pass fills the cache, later passes replay it."""
    node = data
    for _ in range(apis.MAX_CHAIN):
        if not isinstance(node, Obj) or node.kind is not ObjKind.METHOD:
            return False
        if node.api == "cache":
            return True
        if node.api == "map":
            return False  # a map after any cache runs again on every pass
        node = node.origin
    return False


def invariant(data: Value | None, names: set[str], loop: Loop) -> bool:
    """The data (read through `names`) is the same on every pass of `loop`."""
    if names & loop.targets:
        return False
    if names & loop.assigned:
        # re-made inside the loop: still the same data if nothing in it depends on the loop variable
        return isinstance(data, Obj) and loop in data.site.loops and not (names_in(data.site.node) & loop.targets)
    return True


def tta_loop(facts: "Facts", rec: CallRecord) -> Loop | None:
    """The loop that repeats this predict call over the same data (test-time augmentation), if
    any. A loop over models (an ensemble) or over changing data is not one."""
    node = rec.site.node
    if not isinstance(node, ast.Call):
        return None
    data_node = node.args[0] if node.args else next(
        (k.value for k in node.keywords if k.arg in ("x", "generator")), None)
    if data_node is None:
        return None
    data_names = names_in(data_node)
    recv_names = names_in(node.func.value) if isinstance(node.func, ast.Attribute) else set()
    for loop in reversed(rec.site.loops):
        if recv_names & loop.targets:
            continue  # an ensemble: each pass uses another model
        if _model_changes(facts, rec, loop, recv_names):
            continue  # an ensemble: the model is re-made or reloaded on each pass
        if not invariant(rec.args.get("x"), data_names, loop):
            continue  # each pass predicts something else (batches, flips)
        if repeats(facts, loop):
            return loop
    return None


def _model_changes(facts: "Facts", rec: CallRecord, loop: Loop, recv_names: set[str]) -> bool:
    """The model that predicts is rebound, rebuilt or reloaded inside the loop (`m =
    load_model(name)`, `model.load_weights(path)`, a fit): each pass predicts with another model."""
    if recv_names & loop.assigned:
        return True
    model = rec.receiver
    for c in calls_inside(facts, loop):
        if c.seq >= rec.seq:
            break
        if c.method in ("load_weights", "set_weights", "fit", "fit_generator", "load_state_dict") and \
                root(c.receiver, "model") is root(model, "model"):
            return True
    return False


def tta_calls(facts: "Facts", include_uncalled: bool = False) -> Iterator[tuple[CallRecord, Loop]]:
    """(predict call, repeating loop) for every prediction repeated over the same data."""
    for rec in facts.method_calls(*apis.PREDICT_METHODS, include_uncalled=include_uncalled):
        loop = tta_loop(facts, rec)
        if loop is not None:
            yield rec, loop


def is_data(v: Obj) -> bool:
    """A data object a loop can walk over: a loader, dataset, generator flow or tf.data chain."""
    api = v.api or ""
    return (v.kind is ObjKind.CALL and (api.startswith(("torch.utils.data.", "torchvision.datasets.",
                                                        "tensorflow.data.", "keras.utils.image_dataset_from_directory"))
                                        or api.startswith("notebook."))) or \
        (v.kind is ObjKind.METHOD and (v.api in apis.FLOW_METHODS or v.api in apis.DATASET_PASSTHROUGH
                                       or v.api == "map"))


def repeated_passes(facts: "Facts") -> Iterator[tuple[Loop, Loop, CallRecord, Obj]]:
    """(repeat loop, data loop, model call, data): a model applied batch by batch, the whole walk
    repeated (PyTorch-style TTA). Passes with the model in training mode (MC dropout) differ,
    so they are not reported."""
    last_mode: str | None = None  # the latest model.train() / model.eval(), in evaluation order
    for rec in facts.calls:
        if rec.method in ("train", "eval"):
            flag = rec.args.get("#0", rec.args.get("mode"))
            off = rec.method == "train" and isinstance(flag, Const) and flag.value is False
            last_mode = "eval" if off else rec.method
        if rec.name != "()" or not is_model(rec.callee) or rec.site.uncalled:
            continue
        training = rec.args.get("training")
        if last_mode == "train" or (isinstance(training, Const) and training.value):
            continue  # dropout / BatchNorm in training mode (MC dropout): the passes differ
        loops = rec.site.loops
        for i, inner in enumerate(loops):
            data = unwrap_iterable(inner.over)
            if inner.kind == "while" or not isinstance(data, Obj) or not is_data(data):
                continue
            model_input = rec.site.node.args if isinstance(rec.site.node, ast.Call) else []
            input_names = set().union(*(names_in(a) for a in model_input)) if model_input else set()
            for outer in loops[:i]:
                if input_names & outer.targets:
                    continue  # each pass transforms the batch differently (flip, shift, ...)
                if invariant(data, names_in(getattr(inner.node, "iter", None)), outer) and repeats(facts, outer):
                    yield outer, inner, rec, data
                    break


def source_step(data: Obj) -> Value:
    """The step that made the data: the datagen of a flow, the first step of a method chain."""
    node: Value = data
    for _ in range(apis.MAX_CHAIN):
        if isinstance(node, Obj) and node.kind is ObjKind.METHOD and isinstance(node.origin, Obj):
            node = node.origin
        else:
            break
    return node


def model_calls(facts: "Facts", model: Value | None) -> Iterator[CallRecord]:
    """Forward passes of a model: `model(x)`, also through `model.to(device)` and friends."""
    target = root(model, "model")
    for rec in facts.calls:
        if rec.name == "()" and isinstance(rec.callee, Obj) and root(rec.callee, "model") is target:
            yield rec

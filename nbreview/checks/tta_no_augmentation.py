"""tta-no-augmentation: several predict passes over data that is not augmented: all identical."""
from __future__ import annotations

import ast
from typing import Iterator

from ..facts import Facts, apis, describe
from ..facts.interpreter import RANGE_LIKE, unwrap_iterable
from ..facts.values import CallRecord, Class, Const, Loop, Obj, Ref, Site, Value
from . import Hit, rule

# methods that pass a model through unchanged (`model.to(device).eval()`)
_MODEL_PASSTHROUGH = ("to", "cuda", "cpu", "eval", "float", "half", "double")
# calls that show a loop trains (so it is not a TTA loop): Keras, custom GradientTape loops, PyTorch
_TRAINING_METHODS = ("backward", "fit", "fit_generator", "train_on_batch", "train", "apply_gradients", "gradient",
                     "zero_grad", "minimize", "step")


def _names(node: ast.AST | None) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()


def _repeat_loop(facts: Facts, loop: Loop) -> bool:
    """A loop that repeats the same work N times (not one that walks over data)."""
    if loop.count is not None and loop.count < 2:
        return False
    over = unwrap_iterable(loop.over)
    if loop.kind != "while" and not (
        loop.count is not None or (isinstance(over, Obj) and over.api in RANGE_LIKE)
    ):
        return False
    # a training loop that predicts each epoch, or MC-dropout passes with the model in train mode
    return loop not in _training_loops(facts)


def _training_loops(facts: Facts) -> set[Loop]:
    cached = facts.__dict__.get("_training_loops")
    if cached is None:
        cached = {lp for c in facts.calls if _trains(c) for lp in c.site.loops}
        facts.__dict__["_training_loops"] = cached
    return cached


def _trains(c: CallRecord) -> bool:
    training = c.args.get("training")
    return c.method in _TRAINING_METHODS or (c.name == "()" and isinstance(training, Const) and training.value is True)


def frozen_by_cache(data: Value | None) -> bool:
    """`ds.map(random_aug).cache()`: the first pass fills the cache, later passes replay it."""
    node = data
    for _ in range(40):
        if not isinstance(node, Obj) or node.kind != "method":
            return False
        if node.api == "cache":
            return True
        if node.api == "map":
            return False  # a map after any cache runs again on every pass
        node = node.origin
    return False


def _invariant(data: Value | None, names: set[str], loop: Loop) -> bool:
    """The data is the same on every pass of `loop`."""
    if names & loop.targets:
        return False
    if names & loop.assigned:
        # re-made inside the loop: still the same data if nothing in it depends on the loop variable
        return isinstance(data, Obj) and loop in data.site.loops and not (_names(data.site.node) & loop.targets)
    return True


def tta_loop(facts: Facts, rec: CallRecord) -> Loop | None:
    """The loop that repeats this predict call over the same data (test-time augmentation), if any."""
    node = rec.site.node
    if not isinstance(node, ast.Call):
        return None
    data_node = node.args[0] if node.args else next(
        (k.value for k in node.keywords if k.arg in ("x", "generator")), None)
    if data_node is None:
        return None
    data_names = _names(data_node)
    recv_names = _names(node.func.value) if isinstance(node.func, ast.Attribute) else set()
    for loop in reversed(rec.site.loops):
        if recv_names & loop.targets:
            continue  # an ensemble: each pass uses another model
        if not _invariant(rec.args.get("x"), data_names, loop):
            continue  # each pass predicts something else (batches, flips)
        if _repeat_loop(facts, loop):
            return loop
    return None


def is_model(v: Value | None, depth: int = 0) -> bool:
    """A Keras or PyTorch model object (through `.to(device)`, `.eval()` ...)."""
    if not isinstance(v, Obj) or depth > 10:
        return False
    if v.kind == "method" and v.api in _MODEL_PASSTHROUGH:
        return is_model(v.origin, depth + 1)
    if v.kind != "call":
        return False
    api = v.api or ""
    if api.startswith(("torchvision.models.", "timm.create_model", "keras.applications.")) or api in (
            "keras.Model", "keras.Sequential", "keras.models.load_model", "keras.saving.load_model"):
        return True
    if isinstance(v.callee, Class):
        return any(isinstance(b, Ref) and b.qname in ("torch.nn.Module", "torch.nn.modules.module.Module",
                                                      "keras.Model") for b in v.callee.bases)
    return False


def repeated_passes(facts: Facts) -> Iterator[tuple[Loop, Loop, CallRecord, Obj]]:
    """(repeat loop, data loop, model call, data): a model applied batch by batch, the whole walk repeated."""
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
            if inner.kind == "while" or not isinstance(data, Obj) or not _is_data(data):
                continue
            model_input = rec.site.node.args if isinstance(rec.site.node, ast.Call) else []
            input_names = set().union(*(_names(a) for a in model_input)) if model_input else set()
            for outer in loops[:i]:
                if input_names & outer.targets:
                    continue  # each pass transforms the batch differently (flip, shift, ...)
                if _invariant(data, _names(getattr(inner.node, "iter", None)), outer) and _repeat_loop(facts, outer):
                    yield outer, inner, rec, data
                    break


def _is_data(v: Obj) -> bool:
    api = v.api or ""
    return (v.kind == "call" and (api.startswith(("torch.utils.data.", "torchvision.datasets.", "tensorflow.data.",
                                                  "keras.utils.image_dataset_from_directory"))
                                  or api.startswith("notebook."))) or \
        (v.kind == "method" and (v.api in apis.FLOW_METHODS or v.api in apis.DATASET_PASSTHROUGH or v.api == "map"))


@rule("tta-no-augmentation")
def check(facts: Facts) -> Iterator[Hit]:
    seen: set[tuple[int, int, int]] = set()
    for rec in facts.method_calls(*apis.PREDICT_METHODS):
        loop = tta_loop(facts, rec)
        if loop is None:
            continue
        data = rec.args.get("x")
        if not isinstance(data, Obj):
            continue
        ans = facts.augments(data)
        if (ans.value is not False and not (ans.value and frozen_by_cache(data))) or rec.site.key in seen:
            continue
        seen.add(rec.site.key)
        source = data.origin if data.kind == "method" and data.api in apis.FLOW_METHODS else None
        related = [data.site] if data.site.cell != rec.site.cell else []
        yield Hit(rec.site, _params(facts, data, source, loop), related=related)

    for outer, _inner, _rec, data in repeated_passes(facts):
        site = Site(outer.cell, outer.node)
        if site.key in seen or facts.augments(data).value is not False:
            continue
        seen.add(site.key)
        source = data.arg("dataset") if data.kind == "call" and data.api == "torch.utils.data.DataLoader" else None
        related = [data.site] if data.site.cell != outer.cell else []
        yield Hit(site, _params(facts, data, source, outer), related=related)


def _source_of(data: Obj) -> Value:
    """The step that made the data: the datagen of a flow, the dataset of a loader, the first step of a chain."""
    node: Value = data
    for _ in range(30):
        if isinstance(node, Obj) and node.kind == "method" and isinstance(node.origin, Obj):
            node = node.origin
        else:
            break
    return node


def _params(facts: Facts, data: Obj, source: Value | None, loop: Loop) -> dict[str, str]:
    return {
        "data": describe(facts, data),
        "source": describe(facts, source if source is not None else _source_of(data)),
        "passes": str(loop.count) if loop.count else "N",
    }

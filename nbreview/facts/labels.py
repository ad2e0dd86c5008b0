"""Labels and losses in Keras: how the labels a fit's data carries are encoded (one-hot, class
indices, binary), and which cross-entropy a compile uses (and whether it expects logits).

- `label_encoding(data)`: a generator flow's `class_mode` (`'categorical'`, the default of
  `flow_from_directory` / `flow_from_dataframe`, is one-hot; `'sparse'` indices; `'binary'`
  0/1), `image_dataset_from_directory`'s `label_mode` (default `'int'`: indices), `.flow(x, y)`
  with `y = to_categorical(...)`, a `tf.data` map that returns `tf.one_hot(...)` labels.
  Passing through `batch`/`prefetch`/... and maps that return their label argument unchanged
  keeps the encoding; anything else is unknown.
- `loss_kind(compile)`: "categorical" | "sparse" | "binary" for the cross-entropies, given as
  a string, a function or a loss object, with `from_logits` when the object sets it.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from . import apis
from .values import CallRecord, Const, Func, Obj, ObjKind, Ref, Seq, Site, Value

LOSS_NAMES = {
    "categorical_crossentropy": "categorical", "categoricalcrossentropy": "categorical",
    "sparse_categorical_crossentropy": "sparse", "sparsecategoricalcrossentropy": "sparse",
    "binary_crossentropy": "binary", "binarycrossentropy": "binary",
}
CLASS_MODES = {"categorical": "onehot", "sparse": "sparse", "binary": "binary"}
LABEL_MODES = {"categorical": "onehot", "int": "sparse", "binary": "binary"}


@dataclass(frozen=True)
class Loss:
    kind: str  # categorical | sparse | binary
    from_logits: bool | None  # None: not said (False by default)
    site: Site  # where the loss is written
    text: str = ""


@dataclass(frozen=True)
class Labels:
    encoding: str  # onehot | sparse | binary
    site: Site  # where the encoding is decided (the `class_mode=` argument, the flow call)
    text: str = ""


def loss_kind(compile_rec: CallRecord, quote) -> Loss | None:
    """The cross-entropy a compile uses (see the module docstring); None for other losses."""
    v = compile_rec.arg("loss")
    node = _arg_node(compile_rec, "loss")
    site = compile_rec.site.at(node) if node is not None else compile_rec.site
    text = quote(site)
    if isinstance(v, Const) and isinstance(v.value, str):
        kind = LOSS_NAMES.get(v.value.lower())
        return Loss(kind, None, site, text) if kind else None
    if isinstance(v, Ref) and v.qname.startswith("keras.losses."):
        kind = LOSS_NAMES.get(v.qname.rsplit(".", 1)[-1].lower())
        return Loss(kind, None, site, text) if kind else None
    if isinstance(v, Obj) and v.kind is ObjKind.CALL and (v.api or "").startswith("keras.losses."):
        kind = LOSS_NAMES.get((v.api or "").rsplit(".", 1)[-1].lower())
        if not kind:
            return None
        fl = v.arg("from_logits", Const(False))
        return Loss(kind, bool(fl.value) if isinstance(fl, Const) else None, site, text)
    return None


def _arg_node(rec: CallRecord, name: str) -> ast.AST | None:
    node = rec.site.node
    if not isinstance(node, ast.Call):
        return None
    for kw in node.keywords:
        if kw.arg == name:
            return kw
    names = apis.METHOD_SIGNATURES.get(rec.method or "", [])
    if name in names and names.index(name) < len(node.args):
        return node.args[names.index(name)]
    return None


def label_encoding(data: Value | None, quote, depth: int = 0) -> Labels | None:
    """How the labels of this data are encoded (see the module docstring); None when unknown."""
    if depth > 30 or not isinstance(data, Obj):
        return None
    if data.kind is ObjKind.CALL and data.api == "keras.utils.to_categorical":  # fit(x, y) with one-hot y
        return Labels("onehot", data.site, quote(data.site))
    if data.kind is ObjKind.METHOD:
        if data.api in ("flow_from_directory", "flow_from_dataframe"):
            mode = data.arg("class_mode", Const("categorical"))
            if not isinstance(mode, Const):
                return None
            enc = CLASS_MODES.get(mode.value) if isinstance(mode.value, str) else None
            if enc is None:
                return None
            node = data.arg_sites.get("class_mode")
            site = data.site.at(node) if node is not None else data.site
            return Labels(enc, site, quote(site) if node is not None else f"class_mode={mode.value!r}")
        if data.api == "flow":
            y = data.arg("y")
            if isinstance(y, Obj) and y.kind is ObjKind.CALL and y.api == "keras.utils.to_categorical":
                return Labels("onehot", y.site, quote(y.site))
            return None
        if data.api in apis.DATASET_PASSTHROUGH and data.api not in ("apply", "unbatch", "padded_batch"):
            return label_encoding(data.origin, quote, depth + 1)
        if data.api == "map":
            f = data.arg("map_func")
            made = _map_labels(f)
            if made == "keep":
                return label_encoding(data.origin, quote, depth + 1)
            if made == "onehot":
                return Labels("onehot", data.site, quote(data.site))
            return None
        return None
    if data.kind is ObjKind.CALL and data.api == "keras.utils.image_dataset_from_directory":
        labels = data.arg("labels", Const("inferred"))
        if not (isinstance(labels, Const) and labels.value == "inferred"):
            return None
        mode = data.arg("label_mode", Const("int"))
        if not isinstance(mode, Const) or not isinstance(mode.value, str):
            return None
        enc = LABEL_MODES.get(mode.value)
        if enc is None:
            return None
        node = data.arg_sites.get("label_mode")
        site = data.site.at(node) if node is not None else data.site
        return Labels(enc, site, quote(site) if node is not None else f"label_mode={mode.value!r}")
    return None


def _map_labels(f: Value | None) -> str | None:
    """What a `dataset.map(f)` does to the labels: "keep" (returns its label argument as is),
    "onehot" (returns `tf.one_hot(...)`), or None (unknown)."""
    if not isinstance(f, Func):
        return None
    node = f.node
    params = [a.arg for a in node.args.posonlyargs + node.args.args]
    if len(params) != 2:
        return None
    if isinstance(node, ast.Lambda):
        results = [node.body]
    else:
        results = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
        if any(isinstance(n, (ast.FunctionDef, ast.Lambda)) and n is not node for n in ast.walk(node)):
            return None
    if not results:
        return None
    kinds = set()
    for r in results:
        if not isinstance(r, ast.Tuple) or len(r.elts) != 2:
            return None
        y = r.elts[1]
        if isinstance(y, ast.Name) and y.id == params[1]:
            kinds.add("keep")
        elif isinstance(y, ast.Call) and isinstance(y.func, ast.Attribute) and y.func.attr == "one_hot":
            kinds.add("onehot")
        else:
            return None
    if len(kinds) == 1 and not _rebinds(node, params[1]):
        return kinds.pop()
    return None


def _rebinds(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(node))


def output_units(v: Value | None) -> int | None:
    if isinstance(v, Const) and isinstance(v.value, int):
        return v.value
    if isinstance(v, Seq):
        return None
    return None

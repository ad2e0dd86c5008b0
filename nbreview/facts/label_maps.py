"""Label maps: how class names become indices, and whether that mapping can differ between
runs or between the parts of a split.

- `set_orders`: an index mapping taken from the iteration order of a `set` of strings
  (`classes = list(set(labels))`, `{c: i for i, c in enumerate(set(...))}`): string hashing
  is salted per Python process, so the order, and every index, can change on the next run;
  a model saved in one run then decodes with another mapping in the next.
- `encoders`: label encoders fitted on one part of a split each (`LabelEncoder().fit(...)` per
  part, or Keras flows of separate frames that infer their own `class_indices`). They agree
  only when every part holds every class; `split_of` says whether the split was stratified.
- `str_valued`: whether values are strings (paths, folder names, a column cast to `str`);
  sets of small integers iterate in a stable order, so only strings are a risk.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apis
from .data_identity import Step
from .values import CallRecord, Const, Dict, Obj, ObjKind, Ref, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts

_STR_METHODS = frozenset({"split", "rsplit", "strip", "lower", "upper", "replace", "join", "format", "decode",
                          "capitalize", "title", "lstrip", "rstrip"})
_STR_CALLS = ("os.listdir", "glob.glob", "os.path.basename", "os.path.dirname", "os.path.join", "builtins.str",
              "pathlib.Path", "tensorflow.io.gfile.listdir")
_ORDERED_VIEWS = ("builtins.list", "builtins.tuple", "numpy.array", "numpy.asarray")
_PERSIST = frozenset({"save", "save_weights", "load_weights", "load_state_dict", "to_csv"})
_PERSIST_CALLS = ("torch.save", "torch.load", "keras.models.load_model", "keras.saving.load_model",
                  "keras.callbacks.ModelCheckpoint", "joblib.dump", "pickle.dump", "numpy.save")


@dataclass(frozen=True)
class SetOrder:
    """A class order taken from a set of strings and used to map classes to indices."""

    site: Site  # the set() call
    set_obj: Obj
    use: Site  # where the order becomes indices (enumerate, .index, a lookup by index, classes=)


def str_valued(facts: "Facts", v: Value | None, depth: int = 0) -> bool | None:
    """The values are strings: True / False / None (unknown)."""
    if depth > 10:
        return None
    if isinstance(v, Const):
        return isinstance(v.value, str) if not isinstance(v.value, (list, tuple)) else \
            all(isinstance(x, str) for x in v.value)
    if isinstance(v, Seq):
        vals = [str_valued(facts, i, depth + 1) for i in v.items]
        return True if vals and all(vals) else None
    if not isinstance(v, Obj):
        return None
    if v.kind is ObjKind.COMPREHENSION:
        return str_valued(facts, v.args.get("element"), depth + 1)
    if v.kind is ObjKind.SUBSCRIPT:
        base, key = v.origin, v.args.get("index")
        if isinstance(base, Obj) and base.kind is ObjKind.METHOD and base.api in ("split", "rsplit"):
            return True  # `path.split('/')[-2]`
        if isinstance(key, Const) and isinstance(key.value, str):
            return _column_str(facts, base, key.value)
        return None
    if v.kind is ObjKind.ATTR and isinstance(v.origin, Obj) and v.api:
        col = _column_str(facts, v.origin, v.api)
        if col is not None:
            return col
    if v.kind is ObjKind.METHOD:
        if v.api in _STR_METHODS:
            return True
        if v.api == "astype":
            t = v.args.get("#0", v.args.get("dtype"))
            return (isinstance(t, Ref) and t.qname == "builtins.str") or (isinstance(t, Const) and t.value == "str")
        if v.api in ("unique", "tolist", "to_list", "values", "dropna"):
            return str_valued(facts, v.origin, depth + 1)
        return None
    if v.kind is ObjKind.CALL and (v.api or "") in _STR_CALLS:
        return True
    if v.kind is ObjKind.ITER:
        return str_valued(facts, v.origin, depth + 1)
    return None


def _column_str(facts: "Facts", frame: Value | None, col: str) -> bool | None:
    """Is the column `col` of this frame a column of strings (cast, or read with a str dtype)?"""
    if not isinstance(frame, Obj):
        return None
    for st in facts.interp.stores:
        if st.kind == "item" and st.base is frame and isinstance(st.key, Const) and st.key.value == col:
            return str_valued(facts, st.value)
    if frame.kind is ObjKind.CALL and frame.api == "pandas.read_csv":
        dtype = frame.args.get("dtype")
        if isinstance(dtype, Ref):
            return dtype.qname == "builtins.str"
        if isinstance(dtype, Dict):
            t = dtype.items.get(col)
            return isinstance(t, Ref) and t.qname == "builtins.str" or None
        return None
    if frame.kind in (ObjKind.ITEM, ObjKind.METHOD, ObjKind.SUBSCRIPT):
        return _column_str(facts, frame.origin if frame.kind is not ObjKind.ITEM else
                           _item_source(frame), col)
    return None


def _item_source(item: Obj) -> Value | None:
    """`tr, va = train_test_split(df)`: the frame a part comes from."""
    split = item.origin
    if isinstance(split, Obj) and split.kind is ObjKind.CALL and split.api in (
            "sklearn.model_selection.train_test_split",):
        return split.args.get("#0")
    return None


def set_orders(facts: "Facts") -> list[SetOrder]:
    """Index mappings taken from the order of a set of strings (see the module docstring)."""
    out = []
    for s in facts.created("builtins.set"):
        if str_valued(facts, s.args.get("#0")) is not True:
            continue
        views = [s] + [u.call.result for u in s.uses if u.call.name in _ORDERED_VIEWS and isinstance(u.call.result, Obj)]
        if any(u.param == "self" and u.call.method == "sort" for v in views for u in v.uses):
            continue  # sorted in place afterwards
        use = next((site for v in views for site in _index_uses(facts, v)), None)
        if use is not None:
            out.append(SetOrder(s.site, s, use))
    return out


def _index_uses(facts: "Facts", v: Obj):
    """Where an ordered collection turns into indices (`enumerate`, `.index`, `classes=`) or
    back (`classes[i]` with a computed index)."""
    for u in v.uses:
        rec = u.call
        if rec.name in ("builtins.enumerate", "builtins.zip") or (u.param == "self" and rec.method == "index"):
            yield rec.site
        elif u.param in ("classes", "class_names"):
            yield rec.site
    for o in facts.objects:
        if o.kind is ObjKind.SUBSCRIPT and o.origin is v and not isinstance(o.args.get("index"), Const):
            yield o.site


def persists(facts: "Facts") -> bool:
    """The notebook saves or loads a model or predictions (so another run's mapping may meet
    this one's)."""
    return any(rec.method in _PERSIST or rec.name.startswith(_PERSIST_CALLS) for rec in facts.calls
               if not rec.site.uncalled) or bool(facts.created("keras.callbacks.ModelCheckpoint"))


# --- encoders fitted per part of a split ---------------------------------------------------------

@dataclass(frozen=True)
class Encoder:
    """Something that derives a class -> index mapping from the data it sees."""

    obj: Obj  # the LabelEncoder, or the Keras flow
    data: Value  # what it was fitted on
    site: Site  # where (the fit call, the flow)
    kind: str  # "label_encoder" | "flow"


def encoders(facts: "Facts") -> list[Encoder]:
    out = []
    for rec in facts.method_calls("fit", "fit_transform"):
        recv = rec.receiver
        if rec.site.uncalled or not isinstance(recv, Obj) or recv.kind is not ObjKind.CALL:
            continue
        if (recv.api or "").rsplit(".", 1)[-1] not in ("LabelEncoder", "OrdinalEncoder", "LabelBinarizer"):
            continue
        data = rec.args.get("#0", rec.args.get("y", rec.args.get("x")))
        if data is not None:
            out.append(Encoder(recv, data, rec.site, "label_encoder"))
    for o in facts.objects:
        if o.kind is ObjKind.METHOD and o.api == "flow_from_dataframe" and not o.site.uncalled:
            classes = o.arg("classes", Const(None))
            mode = o.arg("class_mode", Const("categorical"))
            y = o.arg("y_col", Const("class"))
            if isinstance(classes, Const) and classes.value is None and isinstance(mode, Const) and \
                    mode.value not in (None, "input", "raw", "multi_output") and not (isinstance(y, Const) and y.value is None):
                out.append(Encoder(o, o.arg("dataframe"), o.site, "flow"))
    return out


def split_part(facts: "Facts", data: Value | None) -> Step | None:
    """The part of a split this data is (the nearest part step on its way to its source)."""
    for p in facts.data_paths(data):
        if not p.known:
            continue
        for s in p.steps:
            if s.kind == "part":
                return s
    return None


def stratified(step: Step) -> bool | None:
    """Whether the split keeps every class in each part: True for `train_test_split(stratify=...)`
    and `StratifiedKFold`; False for an unstratified random split; None when unknown."""
    split = step.obj
    if not isinstance(split, Obj) or step.key is None:
        return None
    if step.key[0] == "tts":
        s = split.args.get("stratify")
        return s is not None and not (isinstance(s, Const) and s.value is None)
    if step.key[0] in ("random_split", "sample"):
        return False
    return None


def decodes_with(facts: "Facts") -> list[tuple[CallRecord, Obj]]:
    """(the call that uses it, generator) for every use of `generator.class_indices`
    (`.items()`, `dict(...)`, a comprehension over it)."""
    out = []
    seen: set[int] = set()
    for rec in facts.calls:
        if rec.site.uncalled:
            continue
        for v in [rec.receiver, *rec.args.values()]:
            if isinstance(v, Obj) and v.kind is ObjKind.ATTR and v.api == "class_indices" and \
                    isinstance(v.origin, Obj) and id(v) not in seen:
                seen.add(id(v))
                out.append((rec, v.origin))
    return out

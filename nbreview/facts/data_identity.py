"""Data identity: which images (rows, files) a piece of data holds, traced back to its source.

A data value (a generator flow, a `tf.data` dataset, a DataLoader, a DataFrame, an array) is
traced down to where its rows come from, through the steps that made it:

- a *source*: a folder (`flow_from_directory('train/')`, `ImageFolder(root)`,
  `image_dataset_from_directory`), a CSV file (`pd.read_csv('train.csv')`), a file listing
  (`glob`, `os.listdir`), or an object the analysis cannot look into;
- a *part*: a split that keeps some of the rows (`train_test_split`, `subset='validation'`
  with the generator's `validation_split`, `random_split`, `.sample(frac)` / `.drop(...)`,
  row slices, `take` / `skip`, a boolean filter). A part has a `key` (the split it belongs to)
  and an interval: two parts with the same key and disjoint intervals share no row;
- a *duplication*: rows repeated (oversampling with `replace=True`, `resample`,
  `RandomOverSampler`, `np.repeat`, concatenating data with a part of itself);
- a *concatenation*: rows of several pieces (`pd.concat`, `ConcatDataset`, `np.concatenate`,
  `ds.concatenate`);
- pass-through steps (`.map`, `.batch`, `.reset_index()`, `.sample(frac=1)`, a DataLoader
  over a dataset, a column of a frame) keep the same rows and are skipped; a step the analysis
  does not know is *unknown*: it may keep any rows, so nothing is concluded through it.

`paths(v)` lists every way down from a value to a source, as the steps met on the way (the
value's own step first). The leakage queries compare the paths of training and validation
data: a validation part of a source that training reads in full, parts of one split that
overlap, duplication below the split, a concatenation that brings validation rows into
training, pseudo-labelled test rows put into the data a validation split is drawn from.
"""
from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from . import apis
from .interpreter import unwrap_iterable
from .values import CallRecord, Class, Const, Func, Loop, Obj, ObjKind, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts

MAX_PATHS = 64  # ways down from one value, at most (a guard against absurd fan-out)
MAX_DEPTH = 40

# pandas / numpy / tf.data methods that keep the same rows
_PASS_METHODS = frozenset({
    "reset_index", "copy", "astype", "rename", "assign", "sort_values", "sort_index", "fillna", "set_index",
    "map", "batch", "prefetch", "shuffle", "cache", "repeat", "unbatch", "padded_batch", "with_options",
    "ignore_errors", "rebatch", "to_numpy", "tolist", "numpy", "reshape", "infer_objects", "convert_dtypes",
    "transform",
})
# attributes of data that are not its rows (counts, shapes, names)
_NOT_ROWS = frozenset({"shape", "size", "columns", "dtypes", "dtype", "ndim", "class_indices", "class_names",
                       "classes", "batch_size", "n", "samples", "num_classes", "T", "str", "cat"})
_DIR_SOURCES = ("torchvision.datasets.ImageFolder", "torchvision.datasets.DatasetFolder")
_IDFD = ("keras.utils.image_dataset_from_directory", "keras.preprocessing.image_dataset_from_directory",
         "keras.utils.text_dataset_from_directory")
_CONCAT_CALLS = ("pandas.concat", "numpy.concatenate", "numpy.vstack", "numpy.append", "torch.cat",
                 "torch.utils.data.ConcatDataset", "torch.utils.data.dataset.ConcatDataset", "tensorflow.concat")
_SPLIT_CALLS = ("sklearn.model_selection.train_test_split", "sklearn.cross_validation.train_test_split")
_RANDOM_SPLIT = ("torch.utils.data.random_split", "torch.utils.data.dataset.random_split")
_OVERSAMPLERS = re.compile(r"^imblearn\.over_sampling\.")
_TEST_NAME = re.compile(r"(^|[/_\-.])(test|tests|test_upload|submission|sample[_-]?submission|sample)([/_\-.]|$)",
                        re.I)


@dataclass(frozen=True)
class Step:
    """One step on the way from a data value down to its source."""

    kind: str  # "source" | "part" | "dup" | "concat" | "unknown"
    site: Site | None
    key: tuple | None = None  # source: ("dir", path) / ("csv", path) / ("obj", id); part: the split's key
    lo: float | None = None  # part: the interval of the source it keeps (None: not known)
    hi: float | None = None
    what: str = ""  # how the student wrote it ("train_test_split", "subset='validation'", ...)
    obj: Obj | None = None


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]

    @property
    def source(self) -> Step:
        return self.steps[-1]

    @property
    def parts(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "part"]

    @property
    def known(self) -> bool:
        """Every step on the way is understood (no unknown step)."""
        return all(s.kind != "unknown" for s in self.steps) and self.source.kind == "source"

    @property
    def full(self) -> bool:
        """The value holds every row of its source (no part, no unknown step)."""
        return self.known and not self.parts

    def selection(self) -> tuple:
        """What rows of the source the path keeps: the source and its parts' keys and intervals."""
        return (self.source.key, tuple((s.key, s.lo, s.hi) for s in self.parts))


def norm_dir(path: str) -> str:
    p = posixpath.normpath(path.strip().replace("\\", "/"))
    return p[2:] if p.startswith("./") else p


class Lineage:
    """The ways down from data values to their sources, for one notebook (memoised)."""

    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        self._memo: dict[int, list[Path]] = {}
        self._ids: dict[int, Obj] = {}

    # --- walking down ---------------------------------------------------------------------
    def paths(self, v: Value | None, depth: int = 0) -> list[Path]:
        if isinstance(v, Obj):
            if v.id in self._memo:
                return self._memo[v.id]
            self._memo[v.id] = [Path((Step("unknown", v.site, obj=v),))]  # recursion guard
            out = self._paths(v, depth)[:MAX_PATHS]
            self._memo[v.id] = out
            return out
        if isinstance(v, Seq):
            # a (x, y) tuple: the rows are the first item's
            return self.paths(v.items[0], depth + 1) if v.items else [Path((Step("unknown", None),))]
        if isinstance(v, Const) and isinstance(v.value, str):
            return [Path((Step("source", v.site, ("dir", norm_dir(v.value)), what=v.value),))]
        return [Path((Step("unknown", None),))]

    def _down(self, step: Step, below: Value | None, depth: int) -> list[Path]:
        if depth > MAX_DEPTH:
            return [Path((step, Step("unknown", None)))]
        return [Path((step,) + p.steps) for p in self.paths(below, depth + 1)]

    def _through(self, below: Value | None, depth: int) -> list[Path]:
        """A pass-through step: the same rows as `below`."""
        if depth > MAX_DEPTH:
            return [Path((Step("unknown", None),))]
        return self.paths(below, depth + 1)

    def _paths(self, v: Obj, depth: int) -> list[Path]:
        api = v.api or ""
        site = v.site
        if v.kind is ObjKind.CALL:
            return self._call(v, api, site, depth)
        if v.kind is ObjKind.METHOD:
            return self._method(v, api, site, depth)
        if v.kind is ObjKind.ITEM:
            return self._item(v, int(v.api) if (v.api or "").isdigit() else None, depth)
        if v.kind is ObjKind.SUBSCRIPT:
            return self._subscript(v, depth)
        if v.kind is ObjKind.ATTR:
            if v.api not in _NOT_ROWS:
                return self._through(v.origin, depth)  # a column, `.values`, `.loc`, `.dataset`: the same rows
            return [Path((Step("unknown", site, obj=v),))]
        if v.kind is ObjKind.COMPREHENSION:
            return self._through(v.origin, depth)
        if v.kind is ObjKind.ITER:
            over = v.origin
            if isinstance(over, Obj) and over.kind is ObjKind.METHOD and over.api == "groupby":
                return self._down(Step("part", site, ("group", over.id), what="groupby"), over.origin, depth)
            return [Path((Step("unknown", site, obj=v),))]
        if v.kind is ObjKind.BINOP:
            left, right = v.args.get("left"), v.args.get("right")
            if v.api == "mul" and isinstance(right, Const) and isinstance(right.value, int) and right.value > 1:
                return self._down(Step("dup", site, what="* " + str(right.value), obj=v), left, depth)
            if v.api == "add" and self._datalike(left) and self._datalike(right):
                return self._concat(v, [left, right], depth)
            return [Path((Step("unknown", site, obj=v),))]
        return [Path((Step("unknown", site, obj=v),))]

    def _datalike(self, v: Value | None) -> bool:
        return isinstance(v, Obj) and any(p.known for p in self.paths(v))

    def _call(self, v: Obj, api: str, site: Site, depth: int) -> list[Path]:
        if api in ("pandas.read_csv", "pandas.read_excel", "pandas.read_parquet", "pandas.read_json"):
            path = v.arg("filepath_or_buffer", v.args.get("#0"))
            if isinstance(path, Const) and isinstance(path.value, str):
                return [Path((Step("source", site, ("csv", norm_dir(path.value)), what=path.value, obj=v),))]
            return [Path((Step("source", site, ("obj", v.id), obj=v),))]
        if api in ("glob.glob", "glob.iglob", "os.listdir", "tensorflow.io.gfile.glob", "tensorflow.io.gfile.listdir"):
            pat = v.args.get("#0", v.args.get("pathname", v.args.get("pattern", v.args.get("path"))))
            if isinstance(pat, Const) and isinstance(pat.value, str):
                return [Path((Step("source", site, ("dir", norm_dir(pat.value)), what=pat.value, obj=v),))]
            return [Path((Step("unknown", site, obj=v),))]
        if api.startswith(_DIR_SOURCES):
            return self._folder(v, "root")
        if api in _IDFD:
            return self._idfd(v, None, depth)
        if api in ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"):
            return self._through(v.arg("dataset"), depth)
        if api in ("torch.utils.data.Subset", "torch.utils.data.dataset.Subset"):
            return self._subset(v, depth)
        if api in _CONCAT_CALLS:
            objs = v.args.get("#0", v.args.get("objs", v.args.get("datasets")))
            items = objs.items if isinstance(objs, Seq) and objs.complete else None
            if items is None:
                if isinstance(objs, Obj) and objs.kind is ObjKind.COMPREHENSION:
                    items = [objs.origin]
                elif isinstance(objs, Obj) and objs.kind is ObjKind.BINOP and objs.api == "mul":
                    return self._paths(objs, depth)
                else:
                    return [Path((Step("unknown", site, obj=v),))]
            if api == "numpy.append":
                items = [v.args.get("#0"), v.args.get("#1")]
            return self._concat(v, items, depth)
        if api in ("sklearn.utils.resample", "sklearn.utils._indexing.resample"):
            replace = v.arg("replace", Const(True))
            if isinstance(replace, Const) and replace.value:
                return self._down(Step("dup", site, what="resample(replace=True)", obj=v), v.args.get("#0"), depth)
            return self._down(Step("part", site, ("resample", v.id), what="resample"), v.args.get("#0"), depth)
        if api in ("numpy.repeat", "numpy.tile"):
            return self._down(Step("dup", site, what=api.split(".")[-1], obj=v),
                              v.args.get("#0", v.args.get("a", v.args.get("A"))), depth)
        if api in ("numpy.array", "numpy.asarray", "builtins.list", "builtins.sorted", "builtins.tuple",
                   "pandas.DataFrame", "pandas.Series", "tensorflow.constant", "tensorflow.convert_to_tensor",
                   "torch.tensor", "torch.from_numpy", "tensorflow.data.Dataset.from_tensor_slices",
                   "tensorflow.data.Dataset.list_files"):
            arg = v.args.get("#0", v.args.get("data", v.args.get("tensors", v.args.get("file_pattern"))))
            if api == "tensorflow.data.Dataset.list_files" and isinstance(arg, Const):
                return [Path((Step("source", site, ("dir", norm_dir(str(arg.value))), what=str(arg.value)),))]
            if isinstance(arg, Seq) and arg.items and arg.kind == "tuple":
                arg = arg.items[0]
            if isinstance(arg, Seq) and arg.kind == "list" and api == "pandas.DataFrame":
                return [Path((Step("unknown", site, obj=v),))]
            if isinstance(arg, Const) or arg is None:
                return [Path((Step("source", site, ("obj", v.id), obj=v),))]
            return self._through(arg, depth)
        if api.startswith("notebook.") and isinstance(v.callee, Class):
            data = [a for k, a in v.args.items() if isinstance(a, Obj) and self._rowlike(a)]
            strings = [a for a in v.args.values() if isinstance(a, Const) and isinstance(a.value, str)]
            if len(data) == 1 and not strings:
                return self._through(data[0], depth)
            return [Path((Step("unknown", site, obj=v),))]
        return [Path((Step("source", site, ("obj", v.id), obj=v),))] if self._opaque_source(api) else \
            [Path((Step("unknown", site, obj=v),))]

    @staticmethod
    def _opaque_source(api: str) -> bool:
        """A constructor whose rows we cannot see but whose identity is the object itself."""
        return api.startswith(("torchvision.datasets.", "tensorflow_datasets.", "keras.datasets."))

    def _rowlike(self, v: Obj) -> bool:
        api = v.api or ""
        if api.startswith(("albumentations.", "torchvision.transforms.", "imgaug.", "keras.layers.", "keras.Sequential")):
            return False
        return any(p.known for p in self.paths(v))

    def _method(self, v: Obj, api: str, site: Site, depth: int) -> list[Path]:
        origin = v.origin
        if api in apis.FLOW_METHODS:
            return self._flow(v, api, depth)
        if api == "sample":
            replace, frac, n = v.arg("replace", Const(False)), v.arg("frac"), v.arg("n", v.args.get("#0"))
            if isinstance(replace, Const) and replace.value or (isinstance(frac, Const) and
                                                                isinstance(frac.value, (int, float)) and frac.value > 1):
                return self._down(Step("dup", site, what="sample(replace=True)", obj=v), origin, depth)
            if isinstance(frac, Const) and frac.value == 1 and n is None:
                return self._through(origin, depth)  # a shuffle
            if isinstance(frac, Const) and isinstance(frac.value, (int, float)) and 0 < frac.value < 1:
                return self._down(Step("part", site, ("sample", v.id), 0.0, float(frac.value), "sample(frac)"),
                                  origin, depth)
            return self._down(Step("part", site, ("sample", v.id), what="sample"), origin, depth)
        if api == "drop":
            labels = v.args.get("#0", v.args.get("index", v.args.get("labels")))
            if isinstance(labels, Obj) and labels.kind is ObjKind.ATTR and labels.api == "index":
                other = labels.origin
                if isinstance(other, Obj) and other.kind is ObjKind.METHOD and other.api == "sample":
                    frac = other.arg("frac")
                    if isinstance(frac, Const) and isinstance(frac.value, (int, float)) and 0 < frac.value < 1:
                        return self._down(Step("part", site, ("sample", other.id), float(frac.value), 1.0,
                                               "drop(sample.index)"), origin, depth)
            if v.args.get("columns") is not None or any(isinstance(a, Const) and a.value == 1 for a in
                                                       (v.args.get("axis"),)):
                return self._through(origin, depth)  # dropping columns keeps the rows
            return self._down(Step("part", site, ("drop", v.id), what="drop"), origin, depth)
        if api in ("take", "skip"):
            n = v.args.get("#0", v.args.get("count"))
            if isinstance(n, Const) and isinstance(n.value, int) and isinstance(origin, Obj):
                lo, hi = (0.0, float(n.value)) if api == "take" else (float(n.value), float("inf"))
                # after a `shuffle` that reshuffles every epoch (the default), `take`/`skip`
                # draw different rows each epoch: the two parts overlap over training
                order = "reshuffled" if _reshuffled(origin) else "fixed"
                return self._down(Step("part", site, ("rows", origin.id, order), lo, hi, api), origin, depth)
            return self._down(Step("part", site, ("rows", v.id), what=api), origin, depth)
        if api in ("head", "tail", "filter", "query", "shard", "nlargest", "nsmallest", "dropna", "drop_duplicates"):
            return self._down(Step("part", site, (api, v.id), what=api), origin, depth)
        if api == "append" and isinstance(origin, Obj):
            other = v.args.get("#0", v.args.get("other"))
            return self._concat(v, [origin, other], depth)
        if api == "concatenate" and isinstance(origin, Obj):
            return self._concat(v, [origin, v.args.get("#0", v.args.get("dataset"))], depth)
        if api == "fit_resample" and isinstance(origin, Obj) and _OVERSAMPLERS.match(origin.api or ""):
            return self._down(Step("dup", site, what=(origin.api or "").rsplit(".", 1)[-1], obj=v),
                              v.args.get("#0", v.args.get("X")), depth)
        if api == "apply" and isinstance(origin, Obj) and origin.kind is ObjKind.METHOD and origin.api == "groupby":
            f = v.args.get("#0", v.args.get("func"))
            if isinstance(f, Func) and any(_dup_call(rec) for rec in self.facts.calls_in(f)):
                return self._down(Step("dup", site, what="groupby().apply(sample(replace=True))", obj=v),
                                  origin.origin, depth)
            return [Path((Step("unknown", site, obj=v),))]
        if api == "repeat" and self._is_frame_index(origin):
            return self._down(Step("dup", site, what="index.repeat", obj=v), origin, depth)
        if api in _PASS_METHODS:
            return self._through(origin, depth)
        return [Path((Step("unknown", site, obj=v),))]

    @staticmethod
    def _is_frame_index(v: Value | None) -> bool:
        return isinstance(v, Obj) and v.kind is ObjKind.ATTR and v.api == "index"

    def _concat(self, v: Obj, items: list[Value | None], depth: int) -> list[Path]:
        children = [self.paths(i, depth + 1) for i in items]
        sels = [tuple(sorted({p.selection() for p in ps if p.known})) for ps in children]
        # the same rows twice (a frame concatenated with a part of itself): duplication
        dup = any(_overlaps_any(sels[i], sels[j]) for i in range(len(sels)) for j in range(i + 1, len(sels)))
        step = Step("concat", v.site, ("concat", v.id), what=(v.api or "").rsplit(".", 1)[-1], obj=v)
        out = []
        for ps in children:
            for p in ps:
                steps = (step,) + ((Step("dup", v.site, what="concat of overlapping parts", obj=v),) if dup else ())
                out.append(Path(steps + p.steps))
        return out

    def _flow(self, v: Obj, api: str, depth: int) -> list[Path]:
        """`datagen.flow_from_directory(dir, subset=...)`, `.flow_from_dataframe(df, ...)`, `.flow(x)`."""
        datagen = v.origin
        subset = v.arg("subset", Const(None))
        if api == "flow_from_directory":
            below: list[Path] = self._folder(v, "directory")
        elif api == "flow_from_dataframe":
            below = self.paths(v.arg("dataframe"))
        else:
            below = self.paths(v.arg("x"))
        if isinstance(subset, Const) and subset.value is None:
            return below
        if not isinstance(subset, Const) or subset.value not in ("training", "validation"):
            return [Path((Step("unknown", v.site, obj=v),) + p.steps) for p in below]
        split = datagen.arg("validation_split", Const(0.0)) if isinstance(datagen, Obj) and \
            datagen.kind is ObjKind.CALL else None
        f = float(split.value) if isinstance(split, Const) and isinstance(split.value, (int, float)) else None
        out = []
        for p in below:
            key = ("subset", p.selection())  # the generator splits by file order: any datagen, same split
            lo, hi = ((f, 1.0) if subset.value == "training" else (0.0, f)) if f else (None, None)
            out.append(Path((Step("part", v.site, key, lo, hi, f"subset='{subset.value}'", v),) + p.steps))
        return out

    def _idfd(self, v: Obj, item: int | None, depth: int) -> list[Path]:
        folder = self._folder(v, "directory")
        if folder[-1].source.kind != "source":
            return folder
        src = folder[-1].source  # the folder itself (written files, if any, come first)
        subset, split, seed = v.arg("subset", Const(None)), v.arg("validation_split", Const(None)), v.arg("seed")
        if isinstance(subset, Const) and subset.value is None:
            return folder
        which = subset.value if isinstance(subset, Const) else None
        if which == "both":
            if item is None:
                return [Path((Step("unknown", v.site, obj=v),))]
            which = "training" if item == 0 else "validation"
        if which not in ("training", "validation"):
            return [Path((Step("unknown", v.site, obj=v),) + p.steps) for p in folder]
        f = float(split.value) if isinstance(split, Const) and isinstance(split.value, (int, float)) else None
        s = seed.value if isinstance(seed, Const) else ("?", v.id)
        lo, hi = ((0.0, 1 - f) if which == "training" else (1 - f, 1.0)) if f else (None, None)
        part = Step("part", v.site, ("idfd", src.key, s), lo, hi, f"subset='{which}'", v)
        return [Path((part,) + p.steps) for p in folder]

    def _item(self, v: Obj, index: int | None, depth: int) -> list[Path]:
        """One element of an unpacked result: `tr, va = train_test_split(df)`, `random_split`, ..."""
        split = v.origin
        if not isinstance(split, Obj) or index is None:
            return [Path((Step("unknown", v.site, obj=v),))]
        api = split.api or ""
        if split.kind is ObjKind.CALL and api in _SPLIT_CALLS:
            arrays = [a for k, a in sorted(split.args.items()) if k.startswith("#")]
            if not split.complete or not arrays or index >= 2 * len(arrays):
                return [Path((Step("unknown", v.site, obj=v),))]
            which = index % 2
            step = Step("part", split.site, ("tts", split.id), float(which), float(which + 1),
                        "train_test_split", split)
            return self._down(step, arrays[index // 2], depth)
        if split.kind is ObjKind.CALL and api in _RANDOM_SPLIT:
            step = Step("part", split.site, ("random_split", split.id), float(index), float(index + 1),
                        "random_split", split)
            return self._down(step, split.arg("dataset"), depth)
        if split.kind is ObjKind.CALL and api in _IDFD:
            return self._idfd(split, index, depth)
        if split.kind is ObjKind.METHOD and split.api == "fit_resample":
            return self._paths(split, depth)
        if split.kind is ObjKind.ITER and index == 1:
            return self._paths(split, depth)  # `for key, group in df.groupby(...)`: the group
        return [Path((Step("unknown", v.site, obj=v),))]

    def _subscript(self, v: Obj, depth: int) -> list[Path]:
        base, key = v.origin, v.args.get("index")
        if isinstance(key, Const) and isinstance(key.value, int) and isinstance(base, Obj) and (
                base.kind is ObjKind.CALL and (base.api or "") in _SPLIT_CALLS + _RANDOM_SPLIT + _IDFD):
            return self._item(Obj(ObjKind.ITEM, str(key.value), v.site, origin=base, id=v.id), key.value, depth)
        if isinstance(key, Const) and isinstance(key.value, str):
            return self._through(base, depth)  # a column: the same rows
        if isinstance(key, Const) and isinstance(key.value, slice) and isinstance(base, Obj):
            s = key.value
            if (s.start is None or isinstance(s.start, int)) and (s.stop is None or isinstance(s.stop, int)) \
                    and s.step in (None, 1):
                lo = float(s.start or 0)
                hi = float(s.stop) if s.stop is not None else float("inf")
                if lo >= 0 and hi >= 0:
                    owner = base.origin if base.kind is ObjKind.ATTR and base.api in ("iloc", "loc") else base
                    oid = owner.id if isinstance(owner, Obj) else base.id
                    return self._down(Step("part", v.site, ("rows", oid), lo, hi, "slice"), base, depth)
            return self._down(Step("part", v.site, ("rows", v.id), what="slice"), base, depth)
        if isinstance(key, Seq) and all(isinstance(i, Const) and isinstance(i.value, str) for i in key.items):
            return self._through(base, depth)  # a list of columns
        if isinstance(key, Obj) and key.kind is ObjKind.CALL and (key.api or "") == "numpy.random.choice":
            replace = key.arg("replace", Const(True))
            if isinstance(replace, Const) and replace.value:
                return self._down(Step("dup", v.site, what="np.random.choice(replace=True)", obj=v), base, depth)
        if isinstance(key, Obj) and key.kind is ObjKind.METHOD and key.api == "repeat" and \
                self._is_frame_index(key.origin):
            return self._down(Step("dup", v.site, what="index.repeat", obj=v), base, depth)
        return self._down(Step("part", v.site, ("filter", v.id), what="filter"), base, depth)

    def _subset(self, v: Obj, depth: int) -> list[Path]:
        idx = v.arg("indices")
        ds = v.arg("dataset")
        if isinstance(idx, Obj) and idx.kind is ObjKind.SUBSCRIPT and isinstance(idx.args.get("index"), Const) \
                and isinstance(idx.args["index"].value, slice) and isinstance(idx.origin, Obj):
            s = idx.args["index"].value
            if (s.start is None or isinstance(s.start, int)) and (s.stop is None or isinstance(s.stop, int)):
                lo = float(s.start or 0)
                hi = float(s.stop) if s.stop is not None else float("inf")
                if lo >= 0 and hi >= 0:
                    return self._down(Step("part", v.site, ("rows", idx.origin.id), lo, hi, "Subset"), ds, depth)
        return self._down(Step("part", v.site, ("index", v.id), what="Subset"), ds, depth)

    # --- folders and files written into them ---------------------------------------------------
    def _folder(self, v: Obj, param: str) -> list[Path]:
        """The folder a data object reads (`flow_from_directory(dir)`, `ImageFolder(root)`), with
        the files the notebook wrote into it before: copies of its own files are a duplication,
        copies of test files bring test images in."""
        d = v.arg(param)
        if not (isinstance(d, Const) and isinstance(d.value, str)):
            return [Path((Step("unknown", v.site, obj=v),))]
        src = Step("source", v.site, ("dir", norm_dir(d.value)), what=d.value, obj=v)
        node = v.arg_sites.get(param)
        node = node.value if isinstance(node, ast.keyword) else node
        out = []
        for w in self._writes_into(node, v.seq):
            if w.copies_own:
                out.append(Path((Step("dup", w.site, what=w.text), src)))
            elif w.source is not None:
                step = Step("concat", w.site, ("copy", w.site.cell, w.site.line), what=w.text)
                out.append(Path((step, Step("source", w.site, ("copy", w.source), what=w.source))))
        return out + [Path((src,))] if out else [Path((src,))]

    def _writes_into(self, folder: ast.AST | None, before: int) -> list["_Write"]:
        if folder is None:
            return []
        prefix = _tokens(folder)
        if not prefix:
            return []
        out = []
        for w in self._writes:
            if w.seq < before and w.dest[: len(prefix)] == prefix and len(w.dest) > len(prefix):
                copies_own = w.src is not None and w.src[: len(prefix)] == prefix
                source = None if copies_own or w.src is None else _tokens_text(w.src)
                out.append(_Write(w.site, w.seq, w.dest, w.src, w.text, copies_own, source))
        return out

    @property
    def _writes(self) -> list["_Write"]:
        if not hasattr(self, "_write_list"):
            self._write_list = [w for rec in self.facts.calls if (w := _write_of(rec)) is not None]
        return self._write_list

    # --- questions -------------------------------------------------------------------------
    def is_test_like(self, path: Path) -> Step | None:
        """A step of the path that reads test data: a file or folder named like a test set, or a
        frame whose column was filled from a model's predictions (pseudo-labels)."""
        for step in path.steps:
            if step.kind == "source" and step.key and step.key[0] in ("csv", "dir") and \
                    _TEST_NAME.search(posixpath.basename(step.key[1]) or step.key[1]):
                return step
            if step.kind == "source" and step.key and step.key[0] == "copy" and \
                    _TEST_NAME.search(step.key[1]):
                return step  # files copied in from a test folder
            if step.obj is not None and self._predicted(step.obj):
                return step
        return None

    def _predicted(self, frame: Obj) -> bool:
        for st in self.facts.interp.stores:
            if st.kind == "item" and st.base is frame and _from_predictions(st.value):
                return True
        return False


# calls that write an image file: (index of the source path argument or None, index of the destination)
_WRITES = {"shutil.copy": (0, 1), "shutil.copy2": (0, 1), "shutil.copyfile": (0, 1), "shutil.move": (0, 1),
           "os.symlink": (0, 1), "os.link": (0, 1), "os.rename": (0, 1), "cv2.imwrite": (None, 0),
           "keras.utils.save_img": (None, 0), "keras.preprocessing.image.save_img": (None, 0),
           "imageio.imwrite": (None, 0), "matplotlib.pyplot.imsave": (None, 0), "skimage.io.imsave": (None, 0)}
_READS = ("cv2.imread", "PIL.Image.open", "keras.utils.load_img", "keras.preprocessing.image.load_img",
          "imageio.imread", "skimage.io.imread", "matplotlib.pyplot.imread")


@dataclass(frozen=True)
class _Write:
    site: Site
    seq: int
    dest: tuple  # tokens of the destination path expression
    src: tuple | None  # tokens of the source path (a copy, or the file an image was read from)
    text: str
    copies_own: bool = False
    source: str | None = None


def _write_of(rec: CallRecord) -> _Write | None:
    node = rec.site.node
    if not isinstance(node, ast.Call) or rec.site.uncalled:
        return None
    spec = _WRITES.get(rec.name)
    if spec is None and rec.method == "save" and node.args:
        spec = (None, 0)  # PIL `image.save(path)`
    if spec is None:
        return None
    src_i, dst_i = spec
    if dst_i >= len(node.args):
        return None
    dest = _tokens(node.args[dst_i])
    if not dest:
        return None
    src: tuple | None = None
    if src_i is not None and src_i < len(node.args):
        src = _tokens(node.args[src_i]) or None
    else:
        image = rec.args.get("#1") if rec.method is None else rec.receiver
        read = _read_of(image)
        src = _tokens(read) if read is not None else None
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of a parsed node
        text = rec.name
    return _Write(rec.site, rec.seq, dest, src, text[:80])


def _read_of(v: Value | None, depth: int = 0) -> ast.AST | None:
    """The path expression an image was read from (`cv2.imread(path)`), through the calls and
    operations made on it."""
    if depth > 8 or not isinstance(v, Obj):
        return None
    if v.kind is ObjKind.CALL and (v.api or "") in _READS:
        node = v.site.node
        return node.args[0] if isinstance(node, ast.Call) and node.args else None
    nxt = [v.origin] + [a for k, a in v.args.items() if k.startswith("#")]
    for a in nxt:
        found = _read_of(a, depth + 1)
        if found is not None:
            return found
    return None


def _tokens(node: ast.AST | None) -> tuple:
    """A path expression as tokens, so that a folder is a prefix of the files in it:
    `TRAIN + f'{cat}/x.jpg'` -> (('name', 'TRAIN'), ('expr', 'cat'), ('const', 'x.jpg'))."""
    if node is None:
        return ()
    if isinstance(node, ast.Name):
        return (("name", node.id),)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return tuple(("const", part) for part in node.value.replace("\\", "/").split("/") if part and part != ".")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _tokens(node.left) + _tokens(node.right)
    if isinstance(node, ast.JoinedStr):
        out: tuple = ()
        for part in node.values:
            if isinstance(part, ast.Constant):
                out += _tokens(part)
            else:
                out += (("expr", ast.unparse(part.value)),)  # type: ignore[attr-defined]
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join" and \
            isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "path":
        out = ()
        for a in node.args:
            out += _tokens(a) or (("expr", ast.unparse(a)),)
        return out
    try:
        return (("expr", ast.unparse(node)),)
    except Exception:  # pragma: no cover
        return ()


def _tokens_text(tokens: tuple) -> str:
    return "/".join(t[1] for t in tokens)


def _reshuffled(v: Value | None) -> bool:
    """A tf.data pipeline with a `shuffle` that reshuffles on every iteration (the default)."""
    for _ in range(apis.MAX_CHAIN):
        if not isinstance(v, Obj) or v.kind is not ObjKind.METHOD:
            return False
        if v.api == "shuffle":
            r = v.args.get("reshuffle_each_iteration", Const(True))
            return isinstance(r, Const) and r.value is not False
        if v.api in ("cache",):
            return False  # a cache before the split keeps one order
        v = v.origin
    return False


def _dup_call(rec: CallRecord) -> bool:
    if rec.method == "sample":
        r = rec.args.get("replace")
        return isinstance(r, Const) and bool(r.value)
    if rec.name in ("sklearn.utils.resample",):
        r = rec.args.get("replace", Const(True))
        return isinstance(r, Const) and bool(r.value)
    return False


def _from_predictions(v: Value | None, depth: int = 0) -> bool:
    """A value computed from a model's predictions (`preds.argmax(1)`, `[inv[i] for i in p]`)."""
    if depth > 12 or not isinstance(v, Obj):
        return False
    if v.kind is ObjKind.METHOD and v.api in apis.PREDICT_METHODS:
        return True
    if v.kind is ObjKind.COMPREHENSION:
        return _from_predictions(v.origin, depth + 1) or any(
            isinstance(lp.over, Obj) and _from_predictions(lp.over, depth + 1) for lp in _comp_loops(v))
    nxt = [v.origin] + list(v.args.values())
    return any(_from_predictions(a, depth + 1) for a in nxt if isinstance(a, Obj))


def _comp_loops(v: Obj) -> list[Loop]:
    el = v.args.get("element")
    return list(el.site.loops) if isinstance(el, Obj) else []


def _overlaps_any(a: tuple, b: tuple) -> bool:
    return any(overlap(x, y) for x in a for y in b)


def _seeds_differ(a: tuple, b: tuple) -> bool:
    """`image_dataset_from_directory` subsets of one folder drawn with different seeds: the files
    are shuffled differently before the split, so the parts overlap."""
    (ka, lo_a, hi_a), (kb, lo_b, hi_b) = a, b
    return ka[0] == kb[0] == "idfd" and ka[1] == kb[1] and ka[2] != kb[2] and \
        all(isinstance(s, int) for s in (ka[2], kb[2])) and None not in (lo_a, hi_a, lo_b, hi_b)


def _reshuffled_parts(a: tuple, b: tuple) -> bool:
    """`take` / `skip` of one dataset that reshuffles every epoch."""
    (ka, _lo_a, _hi_a), (kb, _lo_b, _hi_b) = a, b
    return ka == kb and len(ka) == 3 and ka[0] == "rows" and ka[2] == "reshuffled"


def overlap(a: tuple, b: tuple) -> bool:
    """Two selections (`Path.selection()`) surely share rows: the same source, and along the
    parts they have in common, intervals that intersect; a selection with no parts is the
    whole source."""
    (src_a, parts_a), (src_b, parts_b) = a, b
    if src_a != src_b or src_a is None:
        return False
    if not parts_a or not parts_b:
        return True  # one of them is the whole source
    if len(parts_a) == len(parts_b) == 1 and (_seeds_differ(parts_a[0], parts_b[0]) or
                                              _reshuffled_parts(parts_a[0], parts_b[0])):
        return True
    # compare the outermost parts (nearest the source) with the same key
    pa = {k: (lo, hi) for k, lo, hi in parts_a}
    common = [(k, lo, hi) for k, lo, hi in parts_b if k in pa]
    if not common or len(common) != len(parts_a) or len(common) != len(parts_b):
        return False  # different splits: nothing sure
    for k, lo, hi in common:
        lo2, hi2 = pa[k]
        if None in (lo, hi, lo2, hi2) or not (lo < hi2 and lo2 < hi):  # type: ignore[operator]
            return False
    return True


# --- pairs of training and validation data ---------------------------------------------------

@dataclass
class TrainVal:
    """Data a model is trained on and data it is validated on in the same run."""

    train: Value
    val: Value
    at: CallRecord  # the fit, or a call of the training loop
    val_uses: list[CallRecord] = field(default_factory=list)  # where the validation score is computed
    split: float | None = None  # fit(validation_split=...)
    via: str = "fit"  # "fit" (validation_data), "split", "evaluate" (a later evaluate), "loop" (PyTorch)


def train_val_pairs(facts: "Facts") -> list[TrainVal]:
    """Every (training data, validation data) the notebook uses together: `fit(x,
    validation_data=...)` (and a later `evaluate` of the same model on it), `fit(x,
    validation_split=...)`, and a PyTorch training loop with an evaluation loop over other data
    in the same epoch loop."""
    out: list[TrainVal] = []
    for rec in facts.method_calls(*apis.FIT_METHODS):
        x = rec.args.get("x")
        if x is None or rec.site.uncalled:
            continue
        v = rec.args.get("validation_data")
        split = rec.args.get("validation_split")
        if v is not None and not (isinstance(v, Const) and v.value is None):
            later = [e for e in facts.method_calls(*apis.EVALUATE_METHODS)
                     if e.seq > rec.seq and e.receiver is rec.receiver and _same_data(e.args.get("x"), v)]
            out.append(TrainVal(x, v, rec, [rec] + later))
        elif isinstance(split, Const) and isinstance(split.value, (int, float)) and split.value > 0:
            out.append(TrainVal(x, x, rec, [rec], float(split.value), "split"))
        else:  # no validation in the fit: a score computed right after it on other data
            nxt = next((f.seq for f in facts.method_calls(*apis.FIT_METHODS)
                        if f.seq > rec.seq and f.receiver is rec.receiver), None)
            for e in facts.method_calls(*apis.EVALUATE_METHODS):
                ev = e.args.get("x")
                if e.seq > rec.seq and (nxt is None or e.seq < nxt) and e.receiver is rec.receiver and \
                        isinstance(ev, Obj) and ev is not x:
                    out.append(TrainVal(x, ev, rec, [e], None, "evaluate"))
    loops = _data_loops(facts)
    for lt, t, first_t in loops:
        if lt not in facts.training_loops:
            continue
        outer_t = set(first_t.site.loops[: first_t.site.loops.index(lt)])
        for lv, v, first_v in loops:
            if lv in facts.training_loops or v is t:
                continue
            outer_v = set(first_v.site.loops[: first_v.site.loops.index(lv)])
            if outer_t & outer_v:
                out.append(TrainVal(t, v, first_t, [first_v], None, "loop"))
    return out


def _same_data(a: Value | None, b: Value | None) -> bool:
    return a is b or (isinstance(a, Seq) and isinstance(b, Seq) and bool(a.items) and bool(b.items)
                      and a.items[0] is b.items[0])


def _data_loops(facts: "Facts") -> list[tuple[Loop, Obj, CallRecord]]:
    """(loop, data it walks, first call inside) for every loop over a data object."""
    seen: dict[int, tuple[Loop, Obj, CallRecord]] = {}
    for rec in facts.calls:
        if rec.site.uncalled:
            continue
        for lp in rec.site.loops:
            if lp.id in seen or lp.kind != "for":
                continue
            over = unwrap_iterable(lp.over)
            if isinstance(over, Obj) and facts.kind_of(over).value == "data":
                seen[lp.id] = (lp, over, rec)
    return list(seen.values())


def iter_steps(paths: list[Path], kind: str) -> Iterator[tuple[Path, int, Step]]:
    for p in paths:
        for i, s in enumerate(p.steps):
            if s.kind == kind:
                yield p, i, s

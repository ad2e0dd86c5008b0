"""Steps against data sizes: how many samples a data flow yields, in batches of what size, and
which data a number of steps was computed from.

Sizes come from the code when it says them (`batch_size=32`, the defaults of Keras and
PyTorch) and from the notebook's saved outputs when the code cannot (`Found 3113 validated
image filenames belonging to 10 classes.`, `Using 3112 files for validation.`). An output is
matched to a generator only when the cell that made it printed exactly one such line per
generator it made, in order; otherwise the size stays unknown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apis
from .values import Const, Obj, ObjKind, Value

if TYPE_CHECKING:
    from . import Facts

_FOUND = re.compile(r"Found (\d+) (?:validated image filenames|images|files)(?: belonging to (\d+) class(?:es)?)?")
_USING = re.compile(r"Using (\d+) files for (training|validation)")
IDFD = ("keras.utils.image_dataset_from_directory", "keras.preprocessing.image_dataset_from_directory")
DEFAULT_BATCH = 32  # Keras generators and image_dataset_from_directory

# attributes and calls that turn data into a number of samples or batches
SIZE_ATTRS = frozenset({"samples", "n", "shape", "size", "filenames", "classes", "labels", "index", "batch_size",
                        "dataset", "file_paths", "values"})
SIZE_CALLS = ("builtins.len", "builtins.int", "builtins.round", "math.ceil", "math.floor", "numpy.ceil",
              "numpy.floor", "numpy.int32", "numpy.int64")


@dataclass(frozen=True)
class Count:
    """What the notebook's output says a generator found."""

    samples: int
    classes: int | None
    cell: int


class Sizes:
    """The sample counts printed for the notebook's generators (memoised per notebook)."""

    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        self._counts: dict[int, Count] | None = None

    def count(self, data: Value | None) -> Count | None:
        """The printed count of a flow / dataset (through `.map`, `.prefetch`, ...)."""
        if self._counts is None:
            self._counts = self._read()
        for o in _chain(data, through_batch=True):
            c = self._counts.get(o.id)
            if c is not None:
                return c
        return None

    def _read(self) -> dict[int, Count]:
        out: dict[int, Count] = {}
        made: dict[int, list[Obj]] = {}
        for o in self.facts.objects:
            if o.site.loops or o.site.conds or o.site.funcs or o.site.uncalled:
                continue
            if (o.kind is ObjKind.METHOD and o.api in ("flow_from_directory", "flow_from_dataframe")) or (
                    o.kind is ObjKind.CALL and o.api in IDFD):
                made.setdefault(o.site.cell, []).append(o)
        cells = self.facts.program.notebook.cells
        for cell, objs in made.items():
            if not 0 <= cell < len(cells) or not cells[cell].outputs:
                continue
            from ..outputs import output_text

            text = output_text(cells[cell].outputs)
            found = list(_FOUND.finditer(text))
            if len(found) != len(objs):
                continue
            for o, m in zip(sorted(objs, key=lambda x: x.seq), found):
                classes = int(m.group(2)) if m.group(2) else None
                n = int(m.group(1))
                if o.kind is ObjKind.CALL:  # image_dataset_from_directory: the "Using" line after it
                    rest = text[m.end():]
                    nxt = _FOUND.search(rest)
                    using = list(_USING.finditer(rest[: nxt.start()] if nxt else rest))
                    subset = o.arg("subset", Const(None))
                    if isinstance(subset, Const) and subset.value in ("training", "validation"):
                        hit = [u for u in using if u.group(2) == subset.value]
                        if len(hit) != 1:
                            continue
                        n = int(hit[0].group(1))
                    elif using:
                        continue  # subset='both' or unknown: two parts, one object
                out[o.id] = Count(n, classes, cell)
        return out


def _chain(v: Value | None, through_batch: bool = False):
    """The data object and what it passes through (`ds.map(f).prefetch(1)` -> `ds`); batching
    changes the batch size but not the samples (`through_batch`)."""
    stop = {"take", "skip", "filter", "shard"} | (set() if through_batch else
                                                {"batch", "unbatch", "padded_batch", "rebatch"})
    for _ in range(apis.MAX_CHAIN):
        if not isinstance(v, Obj):
            return
        yield v
        if v.kind is ObjKind.METHOD and v.api in apis.DATASET_PASSTHROUGH + ("map",) and v.api not in stop:
            v = v.origin
        else:
            return


def batch_size(data: Value | None) -> int | None:
    """The batch size a flow / dataset / loader yields, when the code says it (or the default)."""
    for o in _chain(data):
        if o.kind is ObjKind.METHOD and o.api in apis.FLOW_METHODS:
            b = o.arg("batch_size", Const(DEFAULT_BATCH))
            return b.value if isinstance(b, Const) and isinstance(b.value, int) else None
        if o.kind is ObjKind.CALL and o.api in IDFD:
            b = o.arg("batch_size", Const(DEFAULT_BATCH))
            return b.value if isinstance(b, Const) and isinstance(b.value, int) else None
        if o.kind is ObjKind.CALL and o.api in ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"):
            b = o.arg("batch_size", Const(1))
            return b.value if isinstance(b, Const) and isinstance(b.value, int) else None
    if isinstance(data, Obj) and data.kind is ObjKind.METHOD and data.api == "batch":
        b = data.args.get("#0", data.args.get("batch_size"))
        return b.value if isinstance(b, Const) and isinstance(b.value, int) else None
    return None


def size_terms(v: Value | None, depth: int = 0) -> list[Obj]:
    """The data objects a number (of steps) is computed from: `train_gen.samples // BS` ->
    [train_gen]; `len(val_df) // 64` -> [val_df]; `math.ceil(n / b)` -> what n and b come from."""
    if depth > 12 or not isinstance(v, Obj):
        return []
    if v.kind is ObjKind.BINOP:
        return size_terms(v.args.get("left"), depth + 1) + size_terms(v.args.get("right"), depth + 1)
    if v.kind is ObjKind.CALL and (v.api or "") in SIZE_CALLS:
        return size_terms(v.args.get("#0"), depth + 1) or _leaf(v.args.get("#0"))
    if v.kind is ObjKind.ATTR and v.api in SIZE_ATTRS:
        return size_terms(v.origin, depth + 1) or _leaf(v.origin)
    if v.kind is ObjKind.SUBSCRIPT:  # `df.shape[0]`
        return size_terms(v.origin, depth + 1)
    if v.kind is ObjKind.METHOD and v.api in ("__len__", "count", "cardinality", "numpy"):
        return size_terms(v.origin, depth + 1) or _leaf(v.origin)
    return []


def _leaf(v: Value | None) -> list[Obj]:
    return [v] if isinstance(v, Obj) else []


def divisor(v: Value | None, depth: int = 0) -> float | None:
    """The constant a number of steps was divided by (`n // 64`, `math.ceil(n / 64)`)."""
    if depth > 6 or not isinstance(v, Obj):
        return None
    if v.kind is ObjKind.BINOP and v.api in ("floordiv", "div"):
        r = v.args.get("right")
        if isinstance(r, Const) and isinstance(r.value, (int, float)) and not isinstance(r.value, bool) and r.value > 0:
            return float(r.value)
        return None
    if v.kind is ObjKind.CALL and (v.api or "") in SIZE_CALLS:
        return divisor(v.args.get("#0"), depth + 1)
    return None


def divided_batches(v: Value | None, depth: int = 0) -> Obj | None:
    """`len(val_gen) // 32`: the generator whose number of *batches* (its `len`) is divided again,
    as if it were a number of images."""
    if depth > 6 or not isinstance(v, Obj):
        return None
    if v.kind is ObjKind.BINOP and v.api in ("floordiv", "div"):
        left = v.args.get("left")
        if isinstance(left, Obj) and left.kind is ObjKind.CALL and left.api == "builtins.len":
            x = left.args.get("#0")
            if isinstance(x, Obj) and batch_size(x) is not None:
                return x
        return None
    if v.kind is ObjKind.CALL and (v.api or "") in SIZE_CALLS:
        return divided_batches(v.args.get("#0"), depth + 1)
    return None


def reads(data: Value | None, obj: Obj, depth: int = 0) -> bool:
    """`data` is `obj` or is built from it: a flow of that frame or array, a loader of that
    dataset, a mapped / batched version of it."""
    if depth > 12 or not isinstance(data, Obj):
        return False
    if data is obj:
        return True
    if data.kind is ObjKind.METHOD:
        if data.api in apis.FLOW_METHODS:
            return any(reads(data.args.get(k), obj, depth + 1) for k in ("dataframe", "x", "directory"))
        if data.api in apis.DATASET_PASSTHROUGH or data.api in ("map", "reset_index", "copy", "sample", "astype"):
            return reads(data.origin, obj, depth + 1)
        return False
    if data.kind is ObjKind.CALL and (data.api or "").startswith("torch.utils.data.DataLoader"):
        return reads(data.args.get("dataset"), obj, depth + 1)
    return False

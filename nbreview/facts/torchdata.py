"""PyTorch data: which transforms a dataset applies, through splits, subsets and loaders.

A PyTorch pipeline is a chain of objects: a transform (torchvision v1/v2 `Compose`, timm
`create_transform`, an albumentations `Compose` ending in `ToTensorV2`, a notebook function)
given to a dataset (`ImageFolder`, `CIFAR10`, or a `Dataset` class of the notebook whose
`__getitem__` applies `self.transform`), the dataset split (`random_split`, `Subset`,
sklearn's `train_test_split` of a dataset) and wrapped in a `DataLoader`. What a batch looks
like is decided at the bottom of the chain:

- subsets share their parent's dataset object, so `random_split` of an augmenting dataset
  gives an augmenting validation subset; `val_subset.dataset.transform = eval_tf` changes the
  parent, hence *every* subset; `val_subset.dataset = copy.deepcopy(full)` gives it its own;
- a dataset's transform can be swapped after creation (`ds.transform = ...`): the one in
  force when the data is walked counts (`at`, a sequence number of the evaluation order);
- a notebook `Dataset` class is read statically: the calls its `__getitem__` (and the methods
  it calls) make on `self.<attr>` or on global names, under the branches the instance's own
  attributes decide (`self.transform = train_tf if mode == 'train' else val_tf` is evaluated
  by the interpreter when the instance is created; `if self.train:` in `__getitem__` is
  decided here from the instance's attribute).

`transforms_of` answers with the transform values and whether the list is complete; the
semantics of a transform (random or not) is `Semantics.transform_augments`.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .apis import is_random_call
from .provenance import dotted_name
from .values import Class, Const, Func, Obj, ObjKind, Ref, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts

LOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
SUBSETS = frozenset({"torch.utils.data.Subset", "torch.utils.data.dataset.Subset"})
CONCAT = frozenset({"torch.utils.data.ConcatDataset", "torch.utils.data.dataset.ConcatDataset"})
SPLITTERS = frozenset({"torch.utils.data.random_split", "torch.utils.data.dataset.random_split",
                       "sklearn.model_selection.train_test_split"})
COPIES = frozenset({"copy.deepcopy", "copy.copy"})
DATASET_BASES = frozenset({"torch.utils.data.Dataset", "torch.utils.data.dataset.Dataset",
                           "torch.utils.data.IterableDataset", "torchvision.datasets.VisionDataset",
                           "torchvision.datasets.ImageFolder", "torchvision.datasets.DatasetFolder"})
# torchvision datasets whose `train=False` / `split='test'` is the official test split
TEST_SPLIT_ARGS = {"train": False, "split": "test"}


@dataclass(frozen=True)
class Transforms:
    """The transforms a dataset applies to its images: `values` (transform objects, functions),
    `complete` False when something it applies could not be identified, `owner` the dataset
    object that holds them (the parent of a subset), `site_obj` the object whose creation
    gave the data this transform (the dataset, or the subset/split that shares it)."""

    values: tuple[Value, ...]
    complete: bool
    owner: Obj | None = None
    randoms: tuple[Site, ...] = ()  # random calls `__getitem__` makes itself (`random.random() < 0.5`)
    applied: tuple[tuple[Obj, ast.Call], ...] = ()  # (transform, the call in `__getitem__` that applies it)


UNKNOWN_TRANSFORMS = Transforms((), False)


def is_dataset_class(cls: Class) -> bool:
    """A notebook class a DataLoader can index: a torch Dataset subclass, or any class with `__getitem__`."""
    from .models import subclasses

    return subclasses(cls, DATASET_BASES) or _method(cls, "__getitem__") is not None


def is_torch_data(v: Value | None) -> bool:
    """A PyTorch loader, dataset, subset or split (what `transforms_of` reads)."""
    if not isinstance(v, Obj):
        return False
    if v.kind is ObjKind.ITEM:
        split = v.origin
        return isinstance(split, Obj) and split.api in SPLITTERS and \
            is_torch_data(split.args.get("dataset", split.args.get("#0")))
    if v.kind is not ObjKind.CALL:
        return False
    api = v.api or ""
    if api in LOADERS | SUBSETS | CONCAT or api.startswith("torchvision.datasets."):
        return True
    if api in COPIES:
        return is_torch_data(v.args.get("#0"))
    return isinstance(v.callee, Class) and is_dataset_class(v.callee)


def base_data(v: Value | None) -> Value | None:
    """The dataset under loaders, subsets and splits (`DataLoader(Subset(ds, idx))` -> ds); the
    first parent when several are concatenated."""
    for _ in range(16):
        nxt = _parent(v)
        if nxt is None:
            return v
        v = nxt
    return v


def _parent(v: Value | None) -> Value | None:
    if not isinstance(v, Obj):
        return None
    if v.kind is ObjKind.CALL and v.api in LOADERS | SUBSETS:
        return v.arg("dataset") if v.api in LOADERS else v.args.get("dataset", v.args.get("#0"))
    if v.kind is ObjKind.ITEM and isinstance(v.origin, Obj) and v.origin.api in SPLITTERS:
        override = v.attr("dataset")
        if override is not None:
            return override
        split = v.origin
        return split.args.get("dataset", split.args.get("#0"))
    if v.kind is ObjKind.CALL and v.api in SUBSETS:
        return v.args.get("dataset")
    return None


def chain(v: Value | None) -> Iterator[Obj]:
    """The data object and what it was made from: loader -> subset -> dataset."""
    for _ in range(16):
        if not isinstance(v, Obj):
            return
        yield v
        v = _parent(v)


class TorchData:
    """Transforms of PyTorch datasets (built once per Facts)."""

    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        interp = facts.interp
        # `subset.dataset.transform = t` changes the parent dataset: (parent, seq, value)
        self.parent_sets: list[tuple[Obj, int, Value]] = []
        for (site, base, attr, value), seq in zip(interp.attr_sets, interp.attr_seqs):
            if site.uncalled or attr not in ("transform", "transforms"):
                continue
            if isinstance(base, Obj) and base.kind is ObjKind.ATTR and base.api == "dataset":
                parent = _parent(base.origin)
                if isinstance(parent, Obj):
                    self.parent_sets.append((parent, seq, value))

    # --- transforms ----------------------------------------------------------------------
    def transforms_of(self, data: Value | None, at: int | None = None, depth: int = 0) -> Transforms:
        """The transforms applied to the images of `data` (a loader, subset, split or dataset)
        when it is walked at sequence number `at`; with `at` None, every transform it ever has
        (a swap `ds.transform = ...` may be in force when it is walked)."""
        if depth > 8 or not isinstance(data, Obj):
            return UNKNOWN_TRANSFORMS
        parent = _parent(data)
        if parent is not None:
            return self.transforms_of(parent, at, depth + 1)
        if data.kind is ObjKind.CALL and data.api in CONCAT:
            parts = data.args.get("datasets", data.args.get("#0"))
            if not (isinstance(parts, Seq) and parts.complete):
                return UNKNOWN_TRANSFORMS
            found = [self.transforms_of(p, at, depth + 1) for p in parts.items]
            return Transforms(tuple(v for t in found for v in t.values), all(t.complete for t in found), data)
        if data.kind is ObjKind.CALL and data.api in COPIES:
            own = self._swaps(data, at)
            if own:
                return Transforms(tuple(own), True, data)
            return self.transforms_of(data.args.get("#0"), at, depth + 1)
        api = data.api or ""
        if data.kind is ObjKind.CALL and api.startswith("torchvision.datasets."):
            if "transform" not in data.args and not data.complete:
                return UNKNOWN_TRANSFORMS
            first = data.args.get("transform", Const(None))
            swaps = self._swaps(data, at)
            if at is None:
                return Transforms((first, *swaps), True, data)
            return Transforms((swaps[-1] if swaps else first,), True, data)
        if data.kind is ObjKind.CALL and isinstance(data.callee, Class) and is_dataset_class(data.callee):
            return self._custom(data, data.callee, at)
        return UNKNOWN_TRANSFORMS

    def _swaps(self, ds: Obj, at: int | None) -> list[Value]:
        """`ds.transform = ...` (on the dataset itself or through a subset's `.dataset`): every one
        when `at` is None (the transform may be any of them), else the last one made before `at`."""
        events: list[tuple[int, Value]] = []
        interp = self.facts.interp
        for (site, base, attr, value), seq in zip(interp.attr_sets, interp.attr_seqs):
            if base is ds and attr in ("transform", "transforms") and not site.uncalled:
                events.append((seq, value))
        events += [(seq, value) for parent, seq, value in self.parent_sets if parent is ds]
        events.sort(key=lambda e: e[0])
        if at is None:
            return [v for _seq, v in events]
        events = [e for e in events if e[0] <= at]  # an attribute set at seq s happened after call s
        return [events[-1][1]] if events else []

    def _custom(self, ds: Obj, cls: Class, at: int | None) -> Transforms:
        """A notebook Dataset class: what its `__getitem__` applies, read statically."""
        getitem = _method(cls, "__getitem__")
        if getitem is None:
            return UNKNOWN_TRANSFORMS
        reader = _GetItem(self.facts, ds, cls, at)
        reader.function(getitem, 0)
        return Transforms(tuple(reader.values), reader.complete, ds, tuple(reader.randoms), tuple(reader.applied))

    def yields_labels(self, data: Value | None) -> bool | None:
        """Whether items of the data are (image, label) pairs: torchvision datasets are; a notebook
        Dataset is when its `__getitem__` returns a tuple on some path."""
        base = base_data(data)
        if not isinstance(base, Obj) or base.kind is not ObjKind.CALL:
            return None
        if (base.api or "").startswith("torchvision.datasets."):
            return True
        if isinstance(base.callee, Class):
            getitem = _method(base.callee, "__getitem__")
            if getitem is None:
                return None
            reader = _GetItem(self.facts, base, base.callee, None)
            returns = []
            for n in ast.walk(getitem.node):
                if isinstance(n, ast.Return) and n.value is not None:
                    value = n.value
                    if isinstance(value, ast.IfExp):
                        decided = reader.decide(value.test)
                        if decided is not None:
                            value = value.body if decided else value.orelse
                    returns.append(value)
            if not returns:
                return None
            if any(isinstance(r, ast.Tuple) for r in returns):
                return True
            if any(isinstance(r, ast.IfExp) for r in returns):
                return None
            return False
        return None


def _class_chain(cls: Class) -> Iterator[Class]:
    """The class and its bases that the notebook defines (first base first)."""
    for _ in range(16):
        yield cls
        nxt = next((b for b in cls.bases if isinstance(b, Class)), None)
        if nxt is None:
            return
        cls = nxt


def _is_method_of(func: Func, cls: Class) -> bool:
    return any(func is f for c in _class_chain(cls) for f in c.methods.values())


def _method(cls: Class, name: str) -> Func | None:
    return next((c.methods[name] for c in _class_chain(cls) if name in c.methods), None)


class _GetItem:
    """Reads a Dataset's `__getitem__` for the transforms it applies to one instance."""

    def __init__(self, facts: "Facts", ds: Obj, cls: Class, at: int | None) -> None:
        self.facts = facts
        self.ds = ds
        self.cls = cls
        self.at = at
        self.values: list[Value] = []
        self.randoms: list[Site] = []
        self.applied: list[tuple[Obj, ast.Call]] = []  # each transform object and the call applying it
        self.complete = True
        self.seen: set[int] = set()
        self.cell = cls.cell
        self.depth_data = 0

    def attr(self, name: str) -> Value | None:
        """The instance's attribute as set when it was built (or later, before `at`)."""
        hist = self.ds.attrs.get(name)
        if not hist:
            return None
        return hist[-1][1]

    def function(self, func: Func, depth: int) -> None:
        if depth > 3 or id(func) in self.seen:
            self.complete = depth <= 3 and self.complete
            return
        self.seen.add(id(func))
        self.block(func.node.body, func, depth)

    def block(self, body: list[ast.stmt], func: Func, depth: int) -> None:
        for stmt in body:
            if isinstance(stmt, ast.If):
                decided = self.decide(stmt.test)
                if decided is None:
                    self.expr(stmt.test, func, depth)
                if decided is not False:
                    self.block(stmt.body, func, depth)
                if decided is not True:
                    self.block(stmt.orelse, func, depth)
                continue
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    self.block([child], func, depth)
                elif isinstance(child, ast.expr):
                    self.expr(child, func, depth)
                elif isinstance(child, ast.excepthandler):
                    self.block(child.body, func, depth)

    def expr(self, node: ast.AST, func: Func, depth: int) -> None:
        if isinstance(node, ast.IfExp):
            decided = self.decide(node.test)
            if decided is None:
                for part in (node.test, node.body, node.orelse):
                    self.expr(part, func, depth)
            else:  # the other branch is not taken for this instance
                self.expr(node.body if decided else node.orelse, func, depth)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Call):
            self.call(node, depth)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and \
                isinstance(node.value.value, ast.Name) and node.value.value.id == "self":
            inner = self.attr(node.value.attr)  # `self.subset[i]`: items come through another dataset
            if isinstance(inner, Obj) and is_torch_data(inner) and self.depth_data < 4:
                sub = TorchData(self.facts).transforms_of(inner, self.at, self.depth_data + 1)
                self.values.extend(sub.values)
                self.randoms.extend(sub.randoms)
                self.complete = self.complete and sub.complete
        for child in ast.iter_child_nodes(node):
            self.expr(child, func, depth)

    def call(self, n: ast.Call, depth: int) -> None:
        qname = self.qname(n.func)
        if qname is not None and is_random_call(qname):
            self.randoms.append(Site(self.cell, n))
            return
        target = self.callee(n.func)
        if target is None:
            return
        if isinstance(target, Func):
            if any(target is f for f in self.cls.methods.values()) or _is_method_of(target, self.cls):
                self.function(target, depth + 1)  # a helper method: read it for this instance
            else:
                self.values.append(target)  # a notebook function applied to the image
        elif isinstance(target, Obj):
            self.values.append(target)
            self.applied.append((target, n))
        elif target == "unknown":
            self.complete = False

    def qname(self, f: ast.expr) -> str | None:
        """`random.random`, `np.random.rand`: the library function a dotted name resolves to."""
        return dotted_name(f, self.facts.interp.globals)

    def callee(self, f: ast.expr) -> Value | str | None:
        """What a call in `__getitem__` calls: a transform object, a notebook function, one of the
        class's own methods; "unknown" for `self.x(...)` we cannot resolve; None for anything
        that cannot be a transform (library functions, methods of other objects)."""
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            own = _method(self.cls, f.attr)
            if own is not None:
                return own
            v = self.attr(f.attr)
            if v is None:
                return "unknown"
            if isinstance(v, Const) and v.value is None:
                return None
            return v if isinstance(v, (Obj, Func)) else "unknown"
        if isinstance(f, ast.Name):
            v = self.facts.interp.globals.lookup(f.id)
            if isinstance(v, Obj) and v.kind is ObjKind.CALL and _is_transform_api(v.api or ""):
                return v
            if isinstance(v, Func):
                return v
            return None
        return None

    def decide(self, test: ast.expr) -> bool | None:
        """A test on the instance's own attributes, when they are constants: `self.train`,
        `not self.train`, `self.mode == 'train'`, `self.transform is not None`."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            d = self.decide(test.operand)
            return None if d is None else not d
        if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self":
            v = self.attr(test.attr)
            if isinstance(v, Const):
                return bool(v.value)
            if isinstance(v, Obj):
                return True
            return None
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, right = test.left, test.comparators[0]
            if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) and left.value.id == "self" and \
                    isinstance(right, ast.Constant):
                v = self.attr(left.attr)
                op = test.ops[0]
                if isinstance(op, (ast.Is, ast.IsNot)) and right.value is None:
                    if v is None:
                        return None
                    none = isinstance(v, Const) and v.value is None
                    return none if isinstance(op, ast.Is) else not none
                if isinstance(v, Const) and isinstance(op, (ast.Eq, ast.NotEq)):
                    return (v.value == right.value) == isinstance(op, ast.Eq)
        return None


def _is_transform_api(api: str) -> bool:
    return api.startswith(("albumentations.", "torchvision.transforms.", "imgaug.", "timm.data."))


def official_test_split(ds: Value | None) -> bool:
    """A torchvision dataset made as its official test split (`CIFAR10(train=False)`, `split='test'`)."""
    if not isinstance(ds, Obj) or not (ds.api or "").startswith("torchvision.datasets."):
        return False
    for key, want in TEST_SPLIT_ARGS.items():
        v = ds.args.get(key)
        if isinstance(v, Const) and v.value == want:
            return True
    return False


def root_path(ds: Value | None) -> str | None:
    """The folder a dataset reads, when it is a literal (`ImageFolder('data/test')`)."""
    if not isinstance(ds, Obj):
        return None
    v = ds.args.get("root", ds.args.get("#0"))
    return v.value if isinstance(v, Const) and isinstance(v.value, str) else None


def is_ref(v: Value | None, *qnames: str) -> bool:
    return isinstance(v, Ref) and v.qname in qnames

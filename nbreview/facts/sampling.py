"""How the training data was put together: classes balanced by oversampling, and test
predictions added to the training data (pseudo-labelling).

- `oversampling()`: places that draw training rows or files *with replacement* per class:
  `df.sample(n, replace=True)` in a loop, comprehension or `groupby(...).apply`,
  `sklearn.utils.resample` (with replacement by default), an imblearn over-sampler's
  `fit_resample`, or `np.random.choice` of file names in a loop that copies files.
- `derived_predictions(value)`: the `predict` results a value is made from (through arrays,
  frames, their columns `df['label'] = ...`, comprehensions, concatenations), each with
  whether a *filter* stands on the way (a boolean mask or threshold, `query`, `head`, `nlargest`,
  a comprehension with an `if`, `np.where`): pseudo-labels kept only for confident predictions
  are filtered.
- `pseudo_labelling()`: a fit whose data is made from test predictions with no filter, or a
  loop that copies every test file into the training folders by its predicted class, followed
  by a fit.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apis
from .values import CallRecord, Const, Dict, Loop, Obj, ObjKind, Seq, Site, Value

if TYPE_CHECKING:
    from . import Facts

COPY_CALLS = frozenset({"shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move", "os.rename", "os.symlink",
                        "os.link", "shutil.copytree"})
FILTER_METHODS = frozenset({"query", "head", "tail", "nlargest", "nsmallest", "where", "mask", "dropna", "filter",
                            "sample", "drop", "isin", "between"})
FILTER_CALLS = frozenset({"numpy.where", "numpy.argwhere", "numpy.nonzero", "numpy.flatnonzero",
                          "tensorflow.where", "tensorflow.boolean_mask", "numpy.extract", "numpy.compress"})
OVERSAMPLERS = ("imblearn.over_sampling.", "imblearn.combine.")
MAX_NODES = 400


@dataclass(frozen=True)
class Oversampling:
    site: Site
    text: str
    how: str  # sample | resample | imblearn | copy


@dataclass(frozen=True)
class PseudoLabels:
    site: Site  # where the predictions join the training data (the concatenation, the copy)
    prediction: Site  # the predict call
    fit: CallRecord  # the fit that trains on them
    how: str  # frame | copy
    data: Obj | None = None  # what they join (the concatenated table)


def _is_prediction(o: Obj) -> bool:
    return o.kind is ObjKind.METHOD and o.api in apis.PREDICT_METHODS


def is_filter(o: Obj) -> bool:
    """A step that keeps only some rows (a mask, a threshold, `query`, ...); a lookup by equality
    (`df[df.Id == name]`) or a column selection is not one."""
    if o.kind is ObjKind.SUBSCRIPT:
        key = o.args.get("index")
        if isinstance(key, Const) and isinstance(key.value, (str, int)) or (
                isinstance(key, Seq) and all(isinstance(i, Const) for i in key.items)):
            return False
        node = o.site.node
        sl = node.slice if isinstance(node, ast.Subscript) else None
        if isinstance(sl, ast.Tuple) and sl.elts:
            sl = sl.elts[0]
        if isinstance(sl, ast.Slice) and sl.lower is None and sl.upper is None:
            return False  # `df.loc[:, 'col']`
        if isinstance(sl, ast.Compare) and all(isinstance(op, (ast.Eq, ast.In)) for op in sl.ops):
            return False
        return True
    if o.kind is ObjKind.METHOD and o.api in FILTER_METHODS:
        return True
    if o.kind is ObjKind.CALL and (o.api or "") in FILTER_CALLS:
        return True
    if o.kind is ObjKind.COMPREHENSION and isinstance(o.args.get("filtered"), Const):
        return True
    return False


def derived_predictions(v: Value | None) -> list[tuple[Obj, bool]]:
    """(predict result, filtered on the way?) for every prediction `v` is made from."""
    out: dict[int, tuple[Obj, bool]] = {}
    seen: dict[int, bool] = {}
    stack: list[tuple[Value, bool]] = [(v, False)] if v is not None else []
    budget = MAX_NODES
    while stack and budget:
        budget -= 1
        cur, filtered = stack.pop()
        if isinstance(cur, Seq):
            stack.extend((i, filtered) for i in cur.items)
            continue
        if isinstance(cur, Dict):
            stack.extend((i, filtered) for i in cur.items.values())
            continue
        if not isinstance(cur, Obj):
            continue
        if cur.id in seen and (seen[cur.id] or filtered):
            continue  # already walked on an unfiltered path, or on a filtered one again
        seen[cur.id] = seen.get(cur.id, False) or not filtered
        if _is_prediction(cur):
            prev = out.get(cur.id)
            if prev is None or (prev[1] and not filtered):
                out[cur.id] = (cur, filtered)
            continue
        here = filtered or is_filter(cur)
        if cur.origin is not None:
            stack.append((cur.origin, here))
        for k, a in cur.args.items():
            if k in ("filtered",):
                continue
            stack.append((a, here))
        for hist in cur.setitems.values():
            stack.extend((val, here) for _s, val in hist)
    return list(out.values())


class Sampling:
    def __init__(self, facts: "Facts") -> None:
        self.facts = facts

    def oversampling(self) -> list[Oversampling]:
        facts = self.facts
        out: list[Oversampling] = []
        for rec in facts.calls:
            if rec.method == "sample":
                replace = rec.args.get("replace")
                if isinstance(replace, Const) and replace.value is True and (
                        rec.site.loops or _in_group_apply(rec) or _class_subset(rec.receiver)):
                    frac = rec.args.get("frac")
                    if isinstance(frac, Const) and frac.value == 1 and not rec.site.loops:
                        continue  # a bootstrap of the whole frame
                    out.append(Oversampling(rec.site, facts.quote(rec.site), "sample"))
            elif rec.name == "sklearn.utils.resample":
                replace = rec.args.get("replace", Const(True))
                if isinstance(replace, Const) and replace.value is True and (
                        rec.site.loops or "n_samples" in rec.args):
                    out.append(Oversampling(rec.site, facts.quote(rec.site), "resample"))
            elif rec.method in ("fit_resample", "fit_sample") and isinstance(rec.receiver, Obj) and \
                    (rec.receiver.api or "").startswith(OVERSAMPLERS):
                out.append(Oversampling(rec.site, facts.quote(rec.site), "imblearn"))
            elif rec.name in ("numpy.random.choice", "random.choices") and rec.site.loops:
                replace = rec.args.get("replace", Const(True))
                if not (isinstance(replace, Const) and replace.value is True):
                    continue
                loop = rec.site.loops[-1]
                if any(c.name in COPY_CALLS for c in facts.calls_inside(loop)):
                    out.append(Oversampling(rec.site, facts.quote(rec.site), "copy"))
        return out

    def pseudo_labelling(self) -> list[PseudoLabels]:
        facts = self.facts
        out: list[PseudoLabels] = []
        fits = [f for f in facts.method_calls(*apis.FIT_METHODS, include_uncalled=True) if _may_be_network(facts, f)]
        for fit in fits:
            for role in ("x", "y"):
                data = fit.args.get(role)
                if data is None:
                    continue
                for pred, filtered in derived_predictions(data):
                    if filtered or pred.seq > fit.seq:
                        continue
                    joint = _joining_step(data, pred)
                    site = joint.site if joint is not None else (data.site if isinstance(data, Obj) else fit.site)
                    out.append(PseudoLabels(site, pred.site, fit, "frame", joint))
        out.extend(self._copies(fits))
        return out

    def _copies(self, fits: list[CallRecord]) -> list[PseudoLabels]:
        """A loop that copies files into folders named after predictions, with no condition."""
        facts = self.facts
        out = []
        loops: dict[int, Loop] = {}
        for rec in facts.calls:
            if rec.name in COPY_CALLS and rec.site.loops and not rec.site.uncalled:
                loop = rec.site.loops[-1]
                loops.setdefault(loop.id, loop)
        for loop in loops.values():
            inside = list(facts.calls_inside(loop))
            if any(len(c.site.conds) > len(loop.conds) for c in inside):
                continue  # a condition inside the loop may keep only confident ones
            copy = next(c for c in inside if c.name in COPY_CALLS)
            preds: list[Obj] = []
            for c in inside:
                for a in list(c.args.values()) + [c.receiver]:
                    for pred, filtered in derived_predictions(a):
                        if not filtered and pred.seq < copy.seq:  # (a frame re-filled later does not count)
                            preds.append(pred)
            if not preds:
                continue
            later = [f for f in fits if f.seq > copy.seq and not f.site.uncalled]
            if later:
                out.append(PseudoLabels(copy.site, max(preds, key=lambda p: p.seq).site, later[0], "copy"))
        return out


def _may_be_network(facts: "Facts", fit: CallRecord) -> bool:
    """The fit trains a network (or something we cannot see): a scikit-learn estimator fitted on a
    network's features is stacking, not pseudo-labelling."""
    recv = fit.receiver
    return not isinstance(recv, Obj) or facts.is_model(recv) or facts.kind_of(recv).value == "unknown"


def _class_subset(v: Value | None) -> bool:
    """Rows of one class: `df[df.label == k]`, `df.loc[df.label == 1]`."""
    if not isinstance(v, Obj) or v.kind is not ObjKind.SUBSCRIPT:
        return False
    node = v.site.node
    sl = node.slice if isinstance(node, ast.Subscript) else None
    return isinstance(sl, ast.Compare) and all(isinstance(op, ast.Eq) for op in sl.ops)


def _in_group_apply(rec: CallRecord) -> bool:
    """The call runs in a function handed to `groupby(...).apply`."""
    return any(f.name == "<lambda>" for f in rec.site.funcs)


def _joining_step(data: Value, pred: Obj) -> Obj | None:
    """Where the predictions join other data: the concatenation (or `append`) on the way."""
    stack: list[Value] = [data]
    seen: set[int] = set()
    budget = MAX_NODES
    while stack and budget:
        budget -= 1
        cur = stack.pop()
        if isinstance(cur, Seq):
            stack.extend(cur.items)
            continue
        if not isinstance(cur, Obj) or cur.id in seen:
            continue
        seen.add(cur.id)
        if (cur.kind is ObjKind.CALL and cur.api in ("pandas.concat", "numpy.concatenate", "numpy.vstack",
                                                     "numpy.append", "numpy.hstack")) or \
                (cur.kind is ObjKind.METHOD and cur.api in ("append", "concatenate")):
            if any(p is pred for p, _f in derived_predictions(cur)):
                return cur
        if cur.origin is not None:
            stack.append(cur.origin)
        stack.extend(cur.args.values())
    return None

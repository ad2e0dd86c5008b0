"""Provenance: which objects a value was computed from, flow-sensitively.

The interpreter's values are symbolic, and a number the notebook accumulates in a loop
(`correct += (pred == y).sum().item()`) is Unknown after the loop. What a rule often needs is
not the number but where it came from: "this accuracy was computed from batches of
`test_loader`". So, beside each name's value, the interpreter keeps the *provenance* of the
name: the ids of the objects (loaders, datasets, models, ...) whose contents flowed into it.

- reading a name contributes its provenance and, when it holds an object, that object;
- a call contributes its arguments, its receiver and, when the interpreter followed a
  notebook function, what the function returned (so `acc = evaluate(model, test_loader)` is
  computed from `test_loader`);
- `x += ...` adds to what `x` had; an assignment replaces it; both branches of an `if` are
  kept; a `for` target comes from the iterable.

Provenance is recorded where rules ask for it: on branch conditions (`Cond.deps`, one set
per operand of a comparison) and on the arguments of every call (`CallRecord.arg_deps`).
It is an over-approximation of data flow (control dependence is not followed), bounded in
size; rules use it to ask "could this value have come from that data?" and "which data did
it come from?".
"""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .apis import normalize
from .values import Dict, Obj, ObjKind, Ref, Value

if TYPE_CHECKING:
    from .interpreter import Frame, Interpreter

EMPTY: frozenset[int] = frozenset()
MAX_DEPS = 256  # ids kept per value (a guard against absurd code)


def _cap(d: frozenset[int]) -> frozenset[int]:
    return d if len(d) <= MAX_DEPS else frozenset(sorted(d)[:MAX_DEPS])


def union(a: frozenset[int], b: frozenset[int]) -> frozenset[int]:
    """`a | b`, reusing an operand when the other adds nothing (fewer objects for the collector)."""
    if not b or b is a:
        return a
    if not a:
        return b
    return b if b >= a else (a if a >= b else _cap(a | b))


def holder(frame: "Frame", name: str) -> "Frame | None":
    """The frame `name` is bound in, seen from `frame` (as `Frame.lookup` finds it)."""
    f: Frame | None = frame
    while f is not None and name not in f.vars:
        f = f.parent
    return f


def lookup_deps(frame: "Frame", name: str) -> frozenset[int]:
    f = holder(frame, name)
    return f.deps.get(name, EMPTY) if f is not None else EMPTY


def with_id(interp: "Interpreter", d: frozenset[int], vid: int) -> frozenset[int]:
    """`d | {vid}`, memoised: a name that holds an object is read many times, and each read
    would otherwise make a new set (many small sets slow the garbage collector down)."""
    if vid in d:
        return d
    key = (id(d), vid)
    hit = interp.deps_memo.get(key)
    if hit is not None and hit[0] is d:
        return hit[1]
    out = _cap(d | {vid})
    interp.deps_memo[key] = (d, out)
    return out


def set_deps(frame: "Frame", name: str, deps: frozenset[int]) -> None:
    """Bind `name`'s provenance in the frame that `Frame.bind` would bind it in (an empty one is
    not stored: a bound name without an entry has none)."""
    if name in frame.globals_decl and frame.parent is not None:
        while frame.parent is not None:
            frame = frame.parent
    if deps:
        frame.deps[name] = _cap(deps)
    else:
        frame.deps.pop(name, None)


def static_value(expr: ast.AST, frame: "Frame") -> Value | None:
    """The object an attribute/subscript chain rooted at a name holds, read without side effects
    (`self.val_loader`, `loaders['val']`, `ds.dataset`); None when it cannot be read."""
    if isinstance(expr, ast.Name):
        return frame.lookup(expr.id)
    if isinstance(expr, ast.Attribute):
        base = static_value(expr.value, frame)
        return known_attribute(base, expr.attr) if isinstance(base, Obj) else None
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        base = static_value(expr.value, frame)
        if isinstance(base, Dict) and isinstance(expr.slice.value, str):
            return base.items.get(expr.slice.value)
    return None


def known_attribute(base: Obj, attr: str) -> Value | None:
    """`obj.attr` when the analysis knows it: assigned on the object, or a library object's
    constructor argument (`DataLoader(ds).dataset` is `ds`)."""
    got = base.attr(attr)
    if got is not None:
        return got
    if base.kind is ObjKind.CALL and not (base.api or "").startswith("notebook.") and \
            isinstance(base.args.get(attr), Obj):
        return base.args[attr]
    return None


def dotted_name(expr: ast.AST, frame: "Frame") -> str | None:
    """The library name a dotted expression resolves to (`np.random.rand` -> `numpy.random.rand`)
    when its root name holds a module or library reference."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    v = frame.lookup(expr.id)
    if not isinstance(v, Ref):
        return None
    return normalize(".".join([v.qname] + parts[::-1]))


def deps_of(interp: "Interpreter", e: ast.AST | None, frame: "Frame") -> frozenset[int]:
    """The provenance of an expression just evaluated in `frame`."""
    if e is None:
        return EMPTY
    t = type(e)
    if t is ast.Constant or t is ast.Lambda:
        return EMPTY
    if t is ast.Name:
        name = e.id  # type: ignore[attr-defined]
        f = holder(frame, name)  # (its value and its provenance, from one walk up the frames)
        if f is None:
            return EMPTY
        d, v = f.deps.get(name, EMPTY), f.vars[name]
        return with_id(interp, d, v.id) if isinstance(v, Obj) else d
    if t is ast.Call:
        return interp.node_deps.get(id(e), EMPTY)
    out = EMPTY
    if t is ast.Attribute or t is ast.Subscript:
        v = static_value(e, frame)
        if isinstance(v, Obj):
            out = with_id(interp, EMPTY, v.id)
    for child in _children(e):
        out = union(out, deps_of(interp, child, frame))
    return out


def _children(e: ast.AST) -> list[ast.AST]:
    """The sub-expressions of an expression (the iterables and conditions of a comprehension)."""
    t = type(e)
    if t is ast.BinOp:
        return [e.left, e.right]  # type: ignore[attr-defined]
    if t is ast.Attribute or t is ast.Starred or t is ast.FormattedValue or t is ast.Await:
        return [e.value]  # type: ignore[attr-defined]
    if t is ast.Subscript:
        return [e.value, e.slice]  # type: ignore[attr-defined]
    if t is ast.UnaryOp:
        return [e.operand]  # type: ignore[attr-defined]
    if t is ast.Compare:
        return [e.left, *e.comparators]  # type: ignore[attr-defined]
    if t in (ast.Tuple, ast.List, ast.Set):
        return e.elts  # type: ignore[attr-defined]
    if t is ast.BoolOp or t is ast.JoinedStr:
        return e.values  # type: ignore[attr-defined]
    if t is ast.IfExp:
        return [e.test, e.body, e.orelse]  # type: ignore[attr-defined]
    if t is ast.Dict:
        return [k for k in e.keys if k is not None] + e.values  # type: ignore[attr-defined]
    if t in (ast.ListComp, ast.SetComp, ast.GeneratorExp):
        return [e.elt] + [x for g in e.generators for x in (g.iter, *g.ifs)]  # type: ignore[attr-defined]
    if t is ast.DictComp:
        return [e.key, e.value] + [x for g in e.generators for x in (g.iter, *g.ifs)]  # type: ignore[attr-defined]
    return [c for c in ast.iter_child_nodes(e) if isinstance(c, ast.expr)]


def operand_deps(interp: "Interpreter", test: ast.AST, frame: "Frame") -> tuple[frozenset[int], ...]:
    """For a branch condition: one provenance per operand of a comparison (`a > b` -> (a, b)),
    else the provenance of the whole test."""
    if isinstance(test, ast.Compare):
        return tuple(deps_of(interp, x, frame) for x in [test.left, *test.comparators])
    return (deps_of(interp, test, frame),)

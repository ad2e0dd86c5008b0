"""A small abstract interpreter over a notebook's code cells, in cell order.

It binds names across cells, resolves imports to normalised qualified names, evaluates
literals and simple arithmetic, follows the notebook's own functions into their bodies
(with the arguments of each call, a few levels deep), and records every call with its
evaluated arguments and its context (cell, loops, enclosing functions). It never runs
the student's code: every value is symbolic.
"""
from __future__ import annotations

import ast
import builtins
import math
import operator
from dataclasses import dataclass, field, replace
from typing import Iterable

from . import apis, limits
from .models import is_network_class
from .provenance import EMPTY, deps_of, known_attribute, lookup_deps, operand_deps, set_deps, union, with_id
from .values import (
    NO_HISTORY,
    UNKNOWN,
    CallRecord,
    Class,
    Cond,
    Const,
    Dict,
    Func,
    Gap,
    Loop,
    Obj,
    ObjKind,
    Reach,
    Ref,
    Seq,
    Site,
    Store,
    Unknown,
    Use,
    Value,
)

MAX_DEPTH = 5  # nested calls of notebook functions followed
MAX_FUNCTION_RUNS = 3000  # bodies of notebook functions evaluated per notebook (guards against fan-out)
_BUILTIN_NAMES = frozenset(dir(builtins))

_BINOPS = {
    ast.Add: ("add", operator.add), ast.Sub: ("sub", operator.sub), ast.Mult: ("mul", operator.mul),
    ast.Div: ("div", operator.truediv), ast.FloorDiv: ("floordiv", operator.floordiv),
    ast.Mod: ("mod", operator.mod), ast.Pow: ("pow", operator.pow), ast.MatMult: ("matmul", None),
    ast.LShift: ("lshift", operator.lshift), ast.RShift: ("rshift", operator.rshift),
    ast.BitOr: ("or", operator.or_), ast.BitAnd: ("and", operator.and_), ast.BitXor: ("xor", operator.xor),
}


@dataclass(slots=True)
class Frame:
    vars: dict[str, Value]
    parent: "Frame | None" = None
    globals_decl: set[str] = field(default_factory=set)
    returns: list[Value] = field(default_factory=list)
    deps: dict[str, frozenset[int]] = field(default_factory=dict)  # provenance of each name (provenance.py)
    return_deps: frozenset[int] = frozenset()

    def lookup(self, name: str) -> Value | None:
        f: Frame | None = self
        while f is not None:
            if name in f.vars:
                return f.vars[name]
            f = f.parent
        return None

    def bind(self, name: str, value: Value) -> None:
        if name in self.globals_decl and self.parent is not None:
            root = self
            while root.parent is not None:
                root = root.parent
            root.vars[name] = value
        else:
            self.vars[name] = value


@dataclass(slots=True)
class _Ctx:
    cell: int
    loops: tuple[Loop, ...] = ()
    funcs: tuple[Func, ...] = ()
    uncalled: bool = False
    contexts: tuple[str, ...] = ()
    conds: tuple[Cond, ...] = ()
    reach: Reach | None = None

    def site(self, node: ast.AST) -> Site:
        return Site(self.cell, node, self.loops, self.funcs, self.uncalled, self.contexts, self.conds, self.reach)

    def with_cond(self, cond: Cond) -> "_Ctx":
        return _Ctx(self.cell, self.loops, self.funcs, self.uncalled, self.contexts, self.conds + (cond,), self.reach)

    def with_loop(self, loop: Loop) -> "_Ctx":
        return _Ctx(self.cell, self.loops + (loop,), self.funcs, self.uncalled, self.contexts, self.conds, self.reach)


class Interpreter:
    def __init__(self) -> None:
        self.globals = Frame({})
        self.calls: list[CallRecord] = []
        self.objects: list[Obj] = []
        self.funcs: list[Func] = []
        self.classes: list[Class] = []
        self.star_imports: list[str] = []
        self.imports: list[tuple[Site, str]] = []  # every imported qualified name
        self.assignments: list[tuple[Site, str, Value]] = []  # name bindings at module/func level
        self.attr_sets: list[tuple[Site, Value, str, Value]] = []  # obj.attr = value
        self.attr_seqs: list[int] = []  # for each of attr_sets: the sequence number when it happened
        # every `if` whose test could not be decided: (its condition, the site of the `if` statement, seq)
        self.branches: list[tuple[Cond, Site, int]] = []
        self.node_deps: dict[int, frozenset[int]] = {}  # call node -> provenance of its last result
        self.deps_memo: dict[tuple[int, int], tuple[frozenset[int], frozenset[int]]] = {}
        self._pending_arg_deps: dict[int, dict[str, frozenset[int]]] = {}
        self._ret_deps: frozenset[int] = EMPTY
        self.stores: list[Store] = []  # obj.attr = value and obj[key] = value, in evaluation order
        self.gaps: list[Gap] = []  # where the analysis could not see everything
        self.item_sets: list[tuple[Site, Value, Value, Value]] = []  # obj[key] = value (base, key, value)
        self.forward_results: dict[int, Value] = {}  # model object id -> what its followed forward returned
        self.shadowed: list[tuple[int, str]] = []  # (cell, name): a binding a newer one kept out
        self._stamps: dict[str, int] = {}  # name -> execution count of the cell that bound it last
        self._newest = -1
        self.seq = 0  # evaluation order of calls and objects
        # branches of notebook functions never taken, decided by a parameter: (if node id, branch) ->
        # (the statement, the branch taken, the frame's names then, the frame, the context); see finish()
        self._dead: dict[tuple[int, bool], tuple[ast.If, bool, dict[str, Value], Frame, _Ctx]] = {}
        self._branches_run: set[tuple[int, bool]] = set()
        self._depth = 0
        self._runs = 0
        self._active: list[Func] = []
        self.budget = limits.Budget()
        self.stopped_in: int | None = None  # the cell where the budget ran out (see limits.py)
        self._call_deps: tuple[list, dict, frozenset[int]] = ([], {}, EMPTY)
        self._assigned_memo: dict[int, frozenset[str]] = {}  # id(loop node) -> _assigned_names (trees outlive it)

    # --- driver ---------------------------------------------------------------------
    def run_cell(self, cell: int, tree: ast.Module, count: int | None = None) -> None:
        """Run one cell in notebook order. `count` is when the cell last ran (its `In [n]`; -1 for
        a cell that did not run in a notebook that was run; None when nothing is known).

        The binding in force is the one made last in kernel time: a cell run earlier than a
        binding it would overwrite (run out of order, or not run at all) sees its own bindings
        while it runs, but does not replace the newer ones for the cells after it."""
        if self.stopped_in is not None:
            return
        try:
            self._run_cell(cell, tree, count)
        except limits.BudgetExceeded:
            self.stopped_in = cell

    def _run_cell(self, cell: int, tree: ast.Module, count: int | None) -> None:
        ctx = _Ctx(cell)
        self.node_deps.clear()  # read only while the statement that made them runs
        if count is None or count >= self._newest:
            before = dict(self.globals.vars) if count is not None else None  # (no counts: no stamps)
            self.exec_block(tree.body, self.globals, ctx)
            if before is not None:
                for name, value in self.globals.vars.items():
                    if before.get(name) is not value:
                        self._stamps[name] = count  # type: ignore[assignment]
                self._newest = max(self._newest, count)  # type: ignore[type-var]
            return
        frame = Frame({}, self.globals)
        self.exec_block(tree.body, frame, ctx)
        for name, value in frame.vars.items():
            if self._stamps.get(name, -2) <= count:
                self.globals.vars[name] = value
                self.globals.deps[name] = frame.deps.get(name, EMPTY)
                self._stamps[name] = count
            else:
                self.shadowed.append((cell, name))

    def finish(self) -> None:
        """Analyse, once each, the code the saved notebook does not run but the student wrote:

        - notebook functions nothing calls (the call was deleted or commented out), with unknown
          arguments and the module's names as they were where the function was defined (over the
          final ones for names bound later): the code the student ran in an earlier version;
        - branches of called functions that no call takes, when the test reads a parameter that
          has the same constant value at every call (`if checkpoint_path is not None:` and no call
          passes a path), evaluated with the function's names as they were at the `if`.

        Their sites are marked `uncalled` with a `Reach` saying why; they never change what the
        running code's values were (see `_may_mutate`)."""
        if self.stopped_in is not None:
            return
        for func in list(self.funcs):
            if func.evaluated == 0 and isinstance(func.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                saved = func.frame
                if func.defined_vars is not None:
                    func.frame = Frame(func.defined_vars, self.globals)
                try:
                    self.call_func(func, [], {}, _Ctx(func.cell, uncalled=True), uncalled=True)
                except limits.BudgetExceeded:
                    self.stopped_in = func.cell
                    return
                finally:
                    func.frame = saved
        for key, (stmt, taken, names, frame, ctx) in list(self._dead.items()):
            if key in self._branches_run:
                continue
            self._branches_run.add(key)
            reach = Reach("dead", ctx.funcs[-1] if ctx.funcs else None, stmt.test, taken, ctx.cell)
            dead_frame = Frame(dict(names), frame.parent, set(frame.globals_decl))
            try:
                self.exec_block(stmt.orelse if taken else stmt.body, dead_frame,
                                replace(ctx, uncalled=True, reach=reach))
            except limits.BudgetExceeded:
                self.stopped_in = ctx.cell
                return

    # --- statements -----------------------------------------------------------------
    def exec_block(self, body: Iterable[ast.stmt], frame: Frame, ctx: _Ctx) -> bool:
        """Run statements in order; True when one of them surely leaves the block (a `return` or
        `raise` reached on every path): the statements after it never run."""
        for stmt in body:
            try:
                if self.exec_stmt(stmt, frame, ctx) is True and ctx.funcs:
                    return True
            except RecursionError:
                self._gap(ctx, stmt, "recursion")
            except Exception:  # an analysis bug must never lose the notebook: skip the statement
                self._gap(ctx, stmt, "error")  # (the stack has unwound by now), and say so
        return False

    def _gap(self, ctx: _Ctx, node: ast.AST, why: str) -> None:
        self.gaps.append(Gap(ctx.cell, getattr(node, "lineno", 1), why, self.seq, ctx.loops, ctx.funcs))

    def exec_stmt(self, s: ast.stmt, frame: Frame, ctx: _Ctx) -> bool | None:
        if isinstance(s, ast.Expr):
            self.eval(s.value, frame, ctx)
        elif isinstance(s, ast.Assign):
            value = self.eval(s.value, frame, ctx)
            deps = deps_of(self, s.value, frame)
            for target in s.targets:
                self.assign(target, value, frame, ctx, s, deps=deps)
                self._unpacked_deps(target, s.value, frame)
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.eval(s.value, frame, ctx), frame, ctx, s,
                            deps=deps_of(self, s.value, frame))
        elif isinstance(s, ast.AugAssign):
            current = self.eval(s.target, frame, ctx) if not isinstance(s.target, ast.Subscript) else UNKNOWN
            right = self.eval(s.value, frame, ctx)
            value = self.binop(s.op, current, right, ctx.site(s))
            if isinstance(s.target, ast.Name):
                frame.bind(s.target.id, value)
                set_deps(frame, s.target.id, union(lookup_deps(frame, s.target.id), deps_of(self, s.value, frame)))
            elif isinstance(current, Seq) and isinstance(s.op, ast.Add) and isinstance(right, Seq) and \
                    _may_mutate(current, ctx.site(s)):
                if limits.seq_ok(len(current.items), len(right.items)):
                    current.items.extend(right.items)
                else:
                    current.complete = False
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            self.exec_import(s, frame, ctx)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorators = [self._qname_of(self.eval(d, frame, ctx)) for d in s.decorator_list]
            func = Func(s, s.name, ctx.cell, frame, [d for d in decorators if d])
            if frame is self.globals:
                func.defined_vars = dict(frame.vars)
            self.funcs.append(func)
            frame.bind(s.name, func)
        elif isinstance(s, ast.ClassDef):
            bases = [self.eval(b, frame, ctx) for b in s.bases]
            cls = Class(s, s.name, ctx.cell, bases)
            defined = dict(frame.vars) if frame is self.globals else None
            for item in s.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    decorators = [self._qname_of(self.eval(d, frame, ctx)) for d in item.decorator_list]
                    f = Func(item, f"{s.name}.{item.name}", ctx.cell, frame, [d or "?" for d in decorators],
                             defined_vars=defined)
                    cls.methods[item.name] = f
                    self.funcs.append(f)
            self.classes.append(cls)
            frame.bind(s.name, cls)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            over = self.eval(s.iter, frame, ctx)
            assigned = self._assigned(s)
            items = _few_constants(over)
            if items is not None and _calls_own_function(s.body, frame):
                # `for flag in [False, True]: train(..., augment=flag)`: the notebook's own code runs
                # once per constant, so each call sees its own argument (branches decided per call)
                loop = Loop(s, ctx.cell, s.lineno, "for", len(items), frozenset(_names(s.target)), assigned, over,
                            ctx.conds)
                loop.span[0] = self.seq
                for item in items:
                    self.assign(s.target, item, frame, ctx, s, record=False)
                    self.exec_block(s.body, frame, ctx.with_loop(loop))
                loop.span[1] = self.seq
                self.exec_block(s.orelse, frame, ctx)
                return None
            loop = Loop(s, ctx.cell, s.lineno, "for", _loop_count(over), frozenset(_names(s.target)),
                        assigned, over, ctx.conds)
            deps = deps_of(self, s.iter, frame)
            items = literal_items(over)
            if items is None:
                self.assign(s.target, self._element_of(over, ctx.site(s)), frame, ctx, s, record=False, deps=deps)
            self._exec_loop_body(s.body, loop, frame, ctx, s.target, items, deps)
            self.exec_block(s.orelse, frame, ctx)
        elif isinstance(s, ast.While):
            test = self.eval(s.test, frame, ctx)
            if isinstance(test, Const) and not test.value:
                return  # `while False:` never runs
            loop = Loop(s, ctx.cell, s.lineno, "while", None, frozenset(), self._assigned(s),
                        None, ctx.conds)
            self._exec_loop_body(s.body, loop, frame, ctx)
            self.exec_block(s.orelse, frame, ctx)
        elif isinstance(s, ast.If):
            return self.exec_if(s, frame, ctx)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            names = list(ctx.contexts)
            for item in s.items:
                v = self.eval(item.context_expr, frame, ctx)
                q = self._qname_of(v)
                if q:
                    names.append(q)
                if item.optional_vars is not None:
                    obj = v if isinstance(v, Obj) else Obj(ObjKind.WITH, q, ctx.site(item.context_expr), origin=v)
                    self.assign(item.optional_vars, obj, frame, ctx, s, record=False,
                                deps=deps_of(self, item.context_expr, frame))
            self.exec_block(s.body, frame, replace(ctx, contexts=tuple(names)))
        elif isinstance(s, ast.Try) or s.__class__.__name__ == "TryStar":
            self.exec_block(s.body, frame, ctx)
            for h in s.handlers:
                if h.name:
                    frame.bind(h.name, UNKNOWN)
                self.exec_block(h.body, frame, ctx.with_cond(Cond(h, False, "except", None, ctx.cell)))
            self.exec_block(s.orelse, frame, ctx)
            self.exec_block(s.finalbody, frame, ctx)
        elif isinstance(s, ast.Return):
            frame.returns.append(self.eval(s.value, frame, ctx) if s.value is not None else Const(None))
            frame.return_deps = union(frame.return_deps, deps_of(self, s.value, frame))
            return True
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                if isinstance(t, ast.Name):
                    frame.vars.pop(t.id, None)
        elif isinstance(s, (ast.Global, ast.Nonlocal)):
            frame.globals_decl.update(s.names)
        elif isinstance(s, ast.Match):
            subject = self.eval(s.subject, frame, ctx)
            for case in s.cases:
                self.exec_block(case.body, frame, ctx.with_cond(Cond(case.pattern, False, "case", subject, ctx.cell)))
        elif isinstance(s, (ast.Raise, ast.Assert)):
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.expr):
                    self.eval(child, frame, ctx)
            return isinstance(s, ast.Raise)
        return None

    def _assigned(self, loop: ast.For | ast.AsyncFor | ast.While) -> frozenset[str]:
        """The names a loop's body assigns (a loop inside a function runs once per call: walked once)."""
        names = self._assigned_memo.get(id(loop))
        if names is None:
            names = self._assigned_memo[id(loop)] = frozenset(_assigned_names(loop.body))
        return names

    def _exec_loop_body(self, body: list[ast.stmt], loop: Loop, frame: Frame, ctx: _Ctx,
                        target: ast.expr | None = None, items: list[Value] | None = None,
                        deps: frozenset[int] = EMPTY) -> None:
        """Run a loop body once, remembering which calls it made (`loop.span`), then close the
        back edge for plain values: a constant the body changes (a counter, an accumulator,
        `best = acc`) holds another value on the next iteration, so after the loop it is
        unknown. Objects keep their first-iteration value; what happens to an object across
        iterations (its mode, its steps) is asked of `flow.py`, over the ordered calls.

        A `for` over a short literal sequence of constants (`for phase in ['train', 'val']:`)
        is unrolled: the body runs once per item with the target bound to it, so each pass
        sees its own branch (`if phase == 'train':`) and its own data (`loaders[phase]`)."""
        before = dict(frame.vars)
        loop.span[0] = self.seq
        if items is not None and target is not None:
            for item in items:
                self.assign(target, item, frame, ctx, loop.node, record=False, deps=deps)
                self.exec_block(body, frame, ctx.with_loop(loop))
        else:
            self.exec_block(body, frame, ctx.with_loop(loop))
        loop.span[1] = self.seq
        for name in loop.assigned:
            old, new = before.get(name), frame.vars.get(name)
            if new is not None and new is not old and isinstance(new, Const) and old is not None \
                    and not (isinstance(old, Const) and old.value == new.value):
                frame.vars[name] = Unknown(f"changed in the loop at line {loop.line}")

    def exec_if(self, s: ast.If, frame: Frame, ctx: _Ctx) -> bool:
        test = self.eval(s.test, frame, ctx)
        if isinstance(test, Const):
            taken = bool(test.value)
            self._branches_run.add((id(s), taken))
            if ctx.funcs and not ctx.uncalled and (s.orelse if taken else s.body) and \
                    (id(s), not taken) not in self._dead and _reads_parameter(s.test, ctx.funcs[-1]):
                self._dead[(id(s), not taken)] = (s, taken, dict(frame.vars), frame, ctx)
            return self.exec_block(s.body if taken else s.orelse, frame, ctx)
        self._branches_run.add((id(s), True))
        self._branches_run.add((id(s), False))
        # Both branches may run: evaluate each on a copy, then keep what they agree on. The
        # sites inside remember the condition they run under.
        before = dict(frame.vars)
        before_deps = dict(frame.deps)
        deps = operand_deps(self, s.test, frame)
        cond = Cond(s.test, False, "if", test, ctx.cell, deps)
        self.branches.append((cond, ctx.site(s), self.seq))
        body_leaves = self.exec_block(s.body, frame, ctx.with_cond(cond))
        after_body = frame.vars
        body_deps = frame.deps
        frame.vars = dict(before)
        frame.deps = dict(before_deps)
        else_leaves = self.exec_block(s.orelse, frame, ctx.with_cond(Cond(s.test, True, "if", test, ctx.cell, deps)))
        after_else = frame.vars
        if body_leaves and not else_leaves:  # only the `else` path goes on: its names hold after the `if`
            frame.vars = after_else
            return False
        if else_leaves and not body_leaves:
            frame.vars = after_body
            frame.deps = body_deps
            return False
        for name, d in body_deps.items():  # provenance: what either branch may have left
            frame.deps[name] = union(frame.deps.get(name, EMPTY), d)
        merged: dict[str, Value] = {}
        for name in set(after_body) | set(after_else):
            a, b = after_body.get(name), after_else.get(name)
            if a is b:
                merged[name] = a  # type: ignore[assignment]
            elif a is None or b is None:
                # bound in one branch only: if it existed before, it may or may not change
                only = a if a is not None else b
                merged[name] = only if name not in before else UNKNOWN  # type: ignore[assignment]
            else:
                merged[name] = UNKNOWN
        frame.vars = merged
        return body_leaves and else_leaves

    def exec_import(self, s: ast.Import | ast.ImportFrom, frame: Frame, ctx: _Ctx) -> None:
        site = ctx.site(s)
        if isinstance(s, ast.Import):
            for alias in s.names:
                q = apis.normalize(alias.name)
                self.imports.append((site, q))
                if alias.asname:
                    frame.bind(alias.asname, Ref(q))
                else:
                    top = alias.name.split(".")[0]
                    frame.bind(top, Ref(apis.normalize(top)))
            return
        if s.level:  # relative import inside a notebook: unknown package
            for alias in s.names:
                if alias.name != "*":
                    frame.bind(alias.asname or alias.name, UNKNOWN)
            return
        module = apis.normalize(s.module or "")
        for alias in s.names:
            if alias.name == "*":
                self.star_imports.append(module)
                self.imports.append((site, module + ".*"))
                continue
            q = apis.normalize(f"{module}.{alias.name}")
            self.imports.append((site, q))
            frame.bind(alias.asname or alias.name, Ref(q))

    def assign(self, target: ast.expr, value: Value, frame: Frame, ctx: _Ctx, stmt: ast.AST,
               record: bool = True, deps: frozenset[int] = EMPTY) -> None:
        if isinstance(target, ast.Name):
            frame.bind(target.id, value)
            set_deps(frame, target.id, deps)
            if record:
                self.assignments.append((ctx.site(stmt), target.id, value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if isinstance(value, Const) and isinstance(value.value, (tuple, list)) and \
                    len(value.value) == len(elts) and not any(isinstance(e, ast.Starred) for e in elts):
                value = Seq([Const(x, value.site) for x in value.value], "tuple", True, value.site)  # `a, b = 64, 16`
            if isinstance(value, Seq) and len(value.items) == len(elts) and not any(
                isinstance(e, ast.Starred) for e in elts
            ):
                for e, v in zip(elts, value.items):
                    self.assign(e, v, frame, ctx, stmt, record, deps)
            else:
                for i, e in enumerate(elts):
                    if isinstance(e, ast.Starred):
                        self.assign(e.value, UNKNOWN, frame, ctx, stmt, record, deps)
                        continue
                    item = (
                        Obj(ObjKind.ITEM, str(i), ctx.site(e), args={"index": Const(i)}, origin=value)
                        if isinstance(value, Obj)
                        else UNKNOWN
                    )
                    self.assign(e, item, frame, ctx, stmt, record, deps)
        elif isinstance(target, ast.Attribute):
            base = self.eval(target.value, frame, ctx)
            site = ctx.site(stmt)
            if isinstance(base, Obj) and _may_mutate(base, site):
                if base.attrs is NO_HISTORY:
                    base.attrs = {}
                base.attrs.setdefault(target.attr, []).append((site, value))
            self.attr_sets.append((site, base, target.attr, value))
            self.attr_seqs.append(self.seq)
            self.stores.append(Store(site, base, "attr", target.attr, value, self.seq))
        elif isinstance(target, ast.Subscript):
            base = self.eval(target.value, frame, ctx)
            key = self.eval(target.slice, frame, ctx)
            site = ctx.site(stmt)
            if isinstance(base, Obj):
                self.stores.append(Store(site, base, "item", key, value, self.seq))
            if not _may_mutate(base, site):
                pass
            elif isinstance(base, Dict):
                if isinstance(key, Const) and isinstance(key.value, str):
                    base.items[key.value] = value
                    base.key_sites[key.value] = site
                else:
                    base.complete = False
            elif isinstance(base, Seq):
                base.complete = False
            elif isinstance(base, Obj):
                self.item_sets.append((site, base, key, value))
                if isinstance(key, Const) and isinstance(key.value, (str, int)):
                    if base.setitems is NO_HISTORY:
                        base.setitems = {}
                    base.setitems.setdefault(str(key.value), []).append((site, value))
                    # `df.loc[:, 'col'] = ...` writes the frame itself
        elif isinstance(target, ast.Starred):
            self.assign(target.value, UNKNOWN, frame, ctx, stmt, record, deps)

    def _unpacked_deps(self, target: ast.expr, value: ast.expr, frame: Frame) -> None:
        """`a, b = x, y`: each name gets the provenance of its own element."""
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) and \
                len(target.elts) == len(value.elts) and not any(isinstance(e, ast.Starred) for e in target.elts):
            for t, v in zip(target.elts, value.elts):
                if isinstance(t, ast.Name):
                    set_deps(frame, t.id, deps_of(self, v, frame))

    # --- expressions ----------------------------------------------------------------
    def eval(self, e: ast.expr | None, frame: Frame, ctx: _Ctx) -> Value:
        if e is None:
            return Const(None)
        self.budget.step()
        method = _EVAL.get(e.__class__)
        if method is None:
            for child in ast.iter_child_nodes(e):
                if isinstance(child, ast.expr):
                    self.eval(child, frame, ctx)
            return UNKNOWN
        return method(self, e, frame, ctx)

    def eval_Constant(self, e: ast.Constant, frame: Frame, ctx: _Ctx) -> Value:
        return Const(e.value, ctx.site(e))

    def eval_Name(self, e: ast.Name, frame: Frame, ctx: _Ctx) -> Value:
        v = frame.lookup(e.id)
        if v is not None:
            return v
        for module in reversed(self.star_imports):
            if e.id in apis.STAR_EXPORTS.get(module, ()) or (
                module == "keras.applications" and apis.KERAS_APPLICATION_NAME.match(e.id)
            ) or (module == "keras.layers" and e.id[:1].isupper() and not apis.KERAS_APPLICATION_NAME.match(e.id)):
                return Ref(apis.normalize(f"{module}.{e.id}"))
        if e.id in _BUILTIN_NAMES:
            return Ref("builtins." + e.id)
        for module in reversed(self.star_imports):
            if module not in apis.STAR_EXPORTS and e.id[:1].isupper():
                return Ref(apis.normalize(f"{module}.{e.id}"))
        return Unknown(f"unbound name {e.id}")

    def eval_Attribute(self, e: ast.Attribute, frame: Frame, ctx: _Ctx) -> Value:
        base = self.eval(e.value, frame, ctx)
        if isinstance(base, Ref):
            q = apis.normalize(f"{base.qname}.{e.attr}")
            if q in MATH_CONSTANTS:
                return Const(MATH_CONSTANTS[q], ctx.site(e))
            return Ref(q)
        if isinstance(base, Obj):
            known = known_attribute(base, e.attr)  # assigned, or a library object's constructor argument
            return known if known is not None else Obj(ObjKind.ATTR, e.attr, ctx.site(e), origin=base)
        if isinstance(base, Class) and e.attr in base.methods:
            return base.methods[e.attr]
        if isinstance(base, Unknown):
            return Obj(ObjKind.ATTR, e.attr, ctx.site(e), origin=base)
        return UNKNOWN

    def eval_Tuple(self, e: ast.Tuple, frame: Frame, ctx: _Ctx) -> Value:
        return self._seq(e.elts, "tuple", frame, ctx, e)

    def eval_List(self, e: ast.List, frame: Frame, ctx: _Ctx) -> Value:
        return self._seq(e.elts, "list", frame, ctx, e)

    def eval_Set(self, e: ast.Set, frame: Frame, ctx: _Ctx) -> Value:
        return self._seq(e.elts, "set", frame, ctx, e)

    def _seq(self, elts: list[ast.expr], kind: str, frame: Frame, ctx: _Ctx, node: ast.AST) -> Value:
        items: list[Value] = []
        complete = True
        for elt in elts:
            if isinstance(elt, ast.Starred):
                v = self.eval(elt.value, frame, ctx)
                if isinstance(v, Seq) and limits.seq_ok(len(items), len(v.items)):
                    items.extend(v.items)
                    complete = complete and v.complete
                else:
                    complete = False
            else:
                items.append(self.eval(elt, frame, ctx))
        if kind == "tuple" and complete and all(isinstance(i, Const) for i in items):
            return Const(tuple(i.value for i in items), ctx.site(node))  # type: ignore[union-attr]
        return Seq(items, kind, complete, ctx.site(node))

    def eval_Dict(self, e: ast.Dict, frame: Frame, ctx: _Ctx) -> Value:
        out = Dict({}, True, ctx.site(e))
        for k, v in zip(e.keys, e.values):
            val = self.eval(v, frame, ctx)
            if k is None:  # {**other}
                if isinstance(val, Dict):
                    out.items.update(val.items)
                    out.key_sites.update(val.key_sites)
                    out.complete = out.complete and val.complete
                else:
                    out.complete = False
                continue
            key = self.eval(k, frame, ctx)
            if isinstance(key, Const) and isinstance(key.value, str):
                out.items[key.value] = val
                out.key_sites[key.value] = ctx.site(k)
            else:
                out.complete = False
        return out

    def eval_JoinedStr(self, e: ast.JoinedStr, frame: Frame, ctx: _Ctx) -> Value:
        parts = []
        known = True
        for v in e.values:  # every part is evaluated: `f'{accuracy(val_loader):.4f}'` calls a helper
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            else:
                inner = self.eval(v.value, frame, ctx) if isinstance(v, ast.FormattedValue) else UNKNOWN
                if isinstance(inner, Const) and getattr(v, "format_spec", None) is None and v.conversion == -1 \
                        and limits.str_ok(inner.value):
                    parts.append(str(inner.value))
                else:
                    known = False
        if not known or sum(map(len, parts)) > limits.MAX_LEN:
            return Unknown("f-string")
        return Const("".join(parts), ctx.site(e))

    def eval_BinOp(self, e: ast.BinOp, frame: Frame, ctx: _Ctx) -> Value:
        left = self.eval(e.left, frame, ctx)
        right = self.eval(e.right, frame, ctx)
        return self.binop(e.op, left, right, ctx.site(e))

    def binop(self, op: ast.operator, left: Value, right: Value, site: Site) -> Value:
        name, fn = _BINOPS.get(type(op), ("op", None))
        if isinstance(left, Const) and isinstance(right, Const) and fn is not None:
            try:
                if name == "pow" and isinstance(right.value, (int, float)) and abs(right.value) > 64:
                    return UNKNOWN
                if name == "mul" and isinstance(left.value, (str, bytes, tuple)) and isinstance(right.value, int) \
                        and right.value > 10_000:
                    return UNKNOWN
                if name == "mod" and isinstance(left.value, str):
                    return Unknown("string formatting")
                if not limits.binop_ok(name, left.value, right.value):
                    return Unknown("too large")
                value = fn(left.value, right.value)
                return Const(value, site) if limits.fits(value) else Unknown("too large")
            except Exception:
                return UNKNOWN
        if name == "add" and isinstance(left, Seq) and isinstance(right, Seq):
            if not limits.seq_ok(len(left.items), len(right.items)):
                return Seq(left.items[:limits.MAX_ITEMS], left.kind, False, site)
            return Seq(left.items + right.items, left.kind, left.complete and right.complete, site)
        if name == "add" and isinstance(left, Const) and isinstance(left.value, str):
            return Unknown("string")
        obj = Obj(ObjKind.BINOP, name, site, args={"left": left, "right": right}, origin=left)
        self._note_obj(obj)
        return obj

    def eval_UnaryOp(self, e: ast.UnaryOp, frame: Frame, ctx: _Ctx) -> Value:
        v = self.eval(e.operand, frame, ctx)
        if isinstance(v, Const):
            try:
                if isinstance(e.op, ast.USub):
                    return Const(-v.value, ctx.site(e))
                if isinstance(e.op, ast.UAdd):
                    return Const(+v.value, ctx.site(e))
                if isinstance(e.op, ast.Not):
                    return Const(not v.value, ctx.site(e))
                if isinstance(e.op, ast.Invert):
                    return Const(~v.value, ctx.site(e))
            except Exception:
                return UNKNOWN
        return UNKNOWN

    def eval_BoolOp(self, e: ast.BoolOp, frame: Frame, ctx: _Ctx) -> Value:
        values = []
        is_and = isinstance(e.op, ast.And)
        for node in e.values:
            v = self.eval(node, frame, ctx)
            values.append(v)
            if isinstance(v, Const) and bool(v.value) is not is_and:
                # `False and ...` / `True or ...`: the result is decided, and Python stops here
                return Const(v.value, ctx.site(e))
        if all(isinstance(v, Const) for v in values):
            result = values[0].value  # type: ignore[union-attr]
            for v in values[1:]:
                result = (result and v.value) if isinstance(e.op, ast.And) else (result or v.value)  # type: ignore
            return Const(result, ctx.site(e))
        # `callbacks or []`, `kwargs or {}`: the first operand whose truth is known decides
        for v in values[:-1]:
            truth = _truth(v)
            if truth is None:
                return UNKNOWN
            if truth is isinstance(e.op, ast.Or):
                return v
        return values[-1]

    def eval_Compare(self, e: ast.Compare, frame: Frame, ctx: _Ctx) -> Value:
        left = self.eval(e.left, frame, ctx)
        rights = [self.eval(c, frame, ctx) for c in e.comparators]
        if len(rights) == 1:
            decided = _identity_or_membership(e.ops[0], left, rights[0])
            if decided is not None:
                return Const(decided, ctx.site(e))
        if isinstance(left, Const) and len(rights) == 1 and isinstance(rights[0], Const):
            ops = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                   ast.Gt: operator.gt, ast.GtE: operator.ge}
            fn = ops.get(type(e.ops[0]))
            if fn is not None and limits.str_ok(left.value) and limits.str_ok(rights[0].value):
                try:
                    return Const(bool(fn(left.value, rights[0].value)), ctx.site(e))
                except Exception:
                    return UNKNOWN
        return UNKNOWN

    def eval_IfExp(self, e: ast.IfExp, frame: Frame, ctx: _Ctx) -> Value:
        test = self.eval(e.test, frame, ctx)
        if isinstance(test, Const):
            return self.eval(e.body if test.value else e.orelse, frame, ctx)
        body = self.eval(e.body, frame, ctx.with_cond(Cond(e.test, False, "ifexp", test, ctx.cell)))
        orelse = self.eval(e.orelse, frame, ctx.with_cond(Cond(e.test, True, "ifexp", test, ctx.cell)))
        return body if body is orelse else UNKNOWN

    def eval_Subscript(self, e: ast.Subscript, frame: Frame, ctx: _Ctx) -> Value:
        base = self.eval(e.value, frame, ctx)
        key = self.eval(e.slice, frame, ctx)
        if isinstance(base, Dict) and isinstance(key, Const):
            return base.items.get(key.value, UNKNOWN) if isinstance(key.value, str) else UNKNOWN
        if isinstance(base, Seq) and isinstance(key, Const) and isinstance(key.value, int) and base.complete:
            try:
                return base.items[key.value]
            except IndexError:
                return UNKNOWN
        if isinstance(base, Const) and isinstance(key, Const):
            try:
                return Const(base.value[key.value], ctx.site(e))
            except Exception:
                return UNKNOWN
        if isinstance(base, Obj):
            return Obj(ObjKind.SUBSCRIPT, None, ctx.site(e), args={"index": key}, origin=base)
        return UNKNOWN

    def eval_Slice(self, e: ast.Slice, frame: Frame, ctx: _Ctx) -> Value:
        parts = [self.eval(p, frame, ctx) if p is not None else Const(None) for p in (e.lower, e.upper, e.step)]
        if all(isinstance(p, Const) for p in parts):
            return Const(slice(*(p.value for p in parts)), ctx.site(e))  # type: ignore[union-attr]
        return UNKNOWN

    def eval_Lambda(self, e: ast.Lambda, frame: Frame, ctx: _Ctx) -> Value:
        func = Func(e, "<lambda>", ctx.cell, frame)
        self.funcs.append(func)
        return func

    def eval_NamedExpr(self, e: ast.NamedExpr, frame: Frame, ctx: _Ctx) -> Value:
        v = self.eval(e.value, frame, ctx)
        frame.bind(e.target.id, v)
        set_deps(frame, e.target.id, deps_of(self, e.value, frame))
        return v

    def eval_Starred(self, e: ast.Starred, frame: Frame, ctx: _Ctx) -> Value:
        self.eval(e.value, frame, ctx)
        return UNKNOWN

    def _comprehension(self, e: ast.AST, elts: list[ast.expr], frame: Frame, ctx: _Ctx) -> Value:
        unrolled = self._unroll(e, elts, frame, ctx)
        if unrolled is not None:
            return unrolled
        inner_frame = Frame({}, frame)
        loops = ctx.loops
        for gen in e.generators:  # type: ignore[attr-defined]
            over = self.eval(gen.iter, inner_frame, replace(ctx, loops=loops))
            names = frozenset(_names(gen.target))
            loops = loops + (Loop(e, ctx.cell, e.lineno, "comprehension", _loop_count(over), names,  # type: ignore
                                  frozenset(), over, ctx.conds),)
            self.assign(gen.target, self._element_of(over, ctx.site(gen.target)), inner_frame, ctx, e,
                        record=False, deps=deps_of(self, gen.iter, inner_frame))
        inner = replace(ctx, loops=loops)
        for gen in e.generators:  # type: ignore[attr-defined]
            for cond in gen.ifs:
                self.eval(cond, inner_frame, inner)
        values = [self.eval(x, inner_frame, inner) for x in elts]
        # the element, and what the (first) `for` walks: `[inv[i] for i in preds.argmax(1)]` is made from preds
        args: dict[str, Value] = {"element": values[-1], "iter": loops[len(ctx.loops)].over or UNKNOWN}
        if any(gen.ifs for gen in e.generators):  # type: ignore[attr-defined]
            args["filtered"] = Const(True)
        return Obj(ObjKind.COMPREHENSION, e.__class__.__name__, ctx.site(e), args=args, origin=values[-1])

    def _unroll(self, e: ast.AST, elts: list[ast.expr], frame: Frame, ctx: _Ctx) -> Value | None:
        """`(f(ds) for ds in (train_ds, val_ds))`: over a short literal sequence of different
        objects, evaluate the element once per item, so that unpacking the result is exact."""
        gens = e.generators  # type: ignore[attr-defined]
        is_dict = isinstance(e, ast.DictComp)
        if len(gens) != 1 or gens[0].ifs or len(elts) != (2 if is_dict else 1):
            return None
        gen = gens[0]
        if not isinstance(gen.iter, (ast.Tuple, ast.List)) or not 2 <= len(gen.iter.elts) <= 8:
            return None
        over = self.eval(gen.iter, frame, ctx)
        items = over.items if isinstance(over, Seq) and over.complete else literal_items(over)
        if items is None:
            return None
        loop = Loop(e, ctx.cell, e.lineno, "comprehension", len(items),  # type: ignore[attr-defined]
                    frozenset(_names(gen.target)), frozenset(), over, ctx.conds)
        inner = ctx.with_loop(loop)
        values = []
        out = Dict({}, True, ctx.site(e))
        for item in items:
            inner_frame = Frame({}, frame)
            self.assign(gen.target, item, inner_frame, ctx, e, record=False)
            if not is_dict:
                values.append(self.eval(elts[0], inner_frame, inner))
                continue
            # `{x: ImageFolder(root / x, tfms[x]) for x in ['train', 'val']}`: a dict with known keys
            key = self.eval(elts[0], inner_frame, inner)
            value = self.eval(elts[1], inner_frame, inner)
            if isinstance(key, Const) and isinstance(key.value, str):
                out.items[key.value] = value
                out.key_sites[key.value] = ctx.site(elts[0])
            else:
                out.complete = False
        return out if is_dict else Seq(values, "tuple", True, ctx.site(e))

    def eval_ListComp(self, e, frame, ctx):
        return self._comprehension(e, [e.elt], frame, ctx)

    eval_SetComp = eval_ListComp
    eval_GeneratorExp = eval_ListComp

    def eval_DictComp(self, e, frame, ctx):
        return self._comprehension(e, [e.key, e.value], frame, ctx)

    def eval_Await(self, e: ast.Await, frame: Frame, ctx: _Ctx) -> Value:
        return self.eval(e.value, frame, ctx)

    # --- calls ----------------------------------------------------------------------
    def eval_Call(self, e: ast.Call, frame: Frame, ctx: _Ctx) -> Value:
        method: str | None = None
        receiver: Value | None = None
        if isinstance(e.func, ast.Attribute):
            receiver = self.eval(e.func.value, frame, ctx)
            method = e.func.attr
            if isinstance(receiver, Ref):
                callee: Value = Ref(apis.normalize(f"{receiver.qname}.{method}"))
                method, receiver = None, None
            elif isinstance(receiver, Obj) and receiver.attr(method) is not None:
                callee = receiver.attr(method)  # type: ignore[assignment]
                method, receiver = None, None
            elif isinstance(receiver, Class) and method in receiver.methods:
                callee = receiver.methods[method]
                method, receiver = None, None
            else:
                callee = UNKNOWN
        else:
            callee = self.eval(e.func, frame, ctx)

        positional: list[Value] = []
        keywords: dict[str, Value] = {}
        arg_nodes: dict[str, ast.AST] = {}
        pdeps: list[frozenset[int]] = []  # provenance of each positional argument
        kdeps: dict[str, frozenset[int]] = {}
        complete = True
        for a in e.args:
            if isinstance(a, ast.Starred):
                v = self.eval(a.value, frame, ctx)
                d = deps_of(self, a.value, frame)
                if isinstance(v, Seq) and v.complete:
                    positional.extend(v.items)
                    pdeps.extend([d] * len(v.items))
                elif isinstance(v, Const) and isinstance(v.value, tuple):
                    positional.extend(Const(x) for x in v.value)
                    pdeps.extend([d] * len(v.value))
                else:
                    complete = False
                continue
            arg_nodes[f"#{len(positional)}"] = a
            positional.append(self.eval(a, frame, ctx))
            pdeps.append(deps_of(self, a, frame))
        star_dicts: list[Dict] = []
        for kw in e.keywords:
            v = self.eval(kw.value, frame, ctx)
            d = deps_of(self, kw.value, frame)
            if kw.arg is None:
                if isinstance(v, Dict):
                    star_dicts.append(v)
                    for k, val in v.items.items():
                        keywords[k] = val
                        kdeps[k] = d
                        # point at the place where the key was written, when the dict is ours
                        key_site = v.key_sites.get(k)
                        arg_nodes[k] = key_site.node if key_site is not None and key_site.cell == ctx.cell \
                            else kw.value
                    complete = complete and v.complete
                else:
                    complete = False
                continue
            keywords[kw.arg] = v
            kdeps[kw.arg] = d
            arg_nodes[kw.arg] = kw
        site = ctx.site(e)
        rdeps = deps_of(self, e.func.value, frame) if isinstance(e.func, ast.Attribute) else EMPTY
        arg_deps = {f"#{i}": d for i, d in enumerate(pdeps) if d}
        arg_deps.update((k, d) for k, d in kdeps.items() if d)
        if rdeps:
            arg_deps["self"] = rdeps
        if arg_deps:
            self._pending_arg_deps[id(e)] = arg_deps
        self._ret_deps = EMPTY
        self._call_deps = (pdeps, kdeps, rdeps)
        result = self._dispatch_call(e, callee, method, receiver, positional, keywords, arg_nodes, complete, site,
                                     frame, ctx)
        self._pending_arg_deps.pop(id(e), None)
        total = union(rdeps, self._ret_deps)
        for d in arg_deps.values():
            total = union(total, d)
        self.node_deps[id(e)] = with_id(self, total, result.id) if isinstance(result, Obj) else total
        if star_dicts and isinstance(result, Obj) and result.site is site:
            result.star_dicts = tuple(star_dicts)
        return result

    def _dispatch_call(self, e: ast.Call, callee: Value, method: str | None, receiver: Value | None,
                       positional: list[Value], keywords: dict[str, Value], arg_nodes: dict[str, ast.AST],
                       complete: bool, site: Site, frame: Frame, ctx: _Ctx) -> Value:
        pdeps, kdeps, rdeps = self._call_deps
        if not isinstance(callee, (Func, Class)):
            # a notebook function handed to a library (dataset.map(f), preprocessing_function=f)
            # runs inside the library: evaluate its body once, with unknown arguments
            for v in list(positional) + list(keywords.values()):
                if isinstance(v, Func) and v.evaluated == 0:
                    self.call_func(v, [Unknown("library argument")] * _arity(v), {}, ctx)

        if isinstance(callee, Func):
            rec = self._record(site, callee.name, None, None, self._map(None, None, positional, keywords),
                               complete, UNKNOWN, callee)
            result = self._follow(callee, positional, keywords, ctx, e, (pdeps, kdeps))
            rec.followed = result is not None
            rec.result = result if result is not None else UNKNOWN
            if result is None:  # the function's effects are hidden: its arguments escape
                self._flows_rec(rec)
            return rec.result
        if isinstance(callee, Class):
            init = callee.methods.get("__init__")
            args = self._map(None, None, positional, keywords)
            if init is not None and isinstance(init.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # name positional arguments after __init__'s parameters (self excluded)
                names = [a.arg for a in init.node.args.posonlyargs + init.node.args.args][1:]
                args = {(names[int(k[1:])] if k.startswith("#") and int(k[1:]) < len(names) else k): v
                        for k, v in args.items()}
            obj = Obj(ObjKind.CALL, f"notebook.{callee.name}", site, args,
                      callee=callee, complete=complete, arg_sites=arg_nodes)
            self._note_obj(obj)
            rec = self._record(site, obj.api or "", None, None, obj.args, complete, obj, callee)
            if init is not None:
                rec.followed = self._follow(init, [obj] + positional, keywords, ctx, e,
                                            ([EMPTY] + pdeps, kdeps)) is not None
            else:
                rec.followed = True  # no __init__ of its own: nothing hidden
            forward = callee.methods.get("call") or callee.methods.get("forward")
            if forward is not None and is_network_class(callee) and self._depth < MAX_DEPTH:
                # a Keras / PyTorch model class: follow its forward pass with this very object as
                # `self`, so that the layers it applies (and in which order) are known
                nargs = max(0, _arity(forward) - 2)
                out = self.call_func(forward, [obj, Obj(ObjKind.CALL, "keras.Input", site)] + [UNKNOWN] * nargs, {},
                                     replace(ctx, loops=(), conds=()))
                self.forward_results[obj.id] = out
            return obj

        if isinstance(callee, Ref):
            q = callee.qname
            args = self._map(q, None, positional, keywords)
            _name_positional_sites(arg_nodes, apis.SIGNATURES.get(q))
            result = self._call_ref(q, args, positional, keywords, complete, site, arg_nodes, frame)
            rec = self._record(site, q, None, None, args, complete, result, callee)
            self._flows_rec(rec)
            return result

        if method is not None:
            args = self._map(None, method, positional, keywords)
            _name_positional_sites(arg_nodes, apis.METHOD_SIGNATURES.get(method))
            own = _own_method(receiver, method)
            if own is not None:
                # a method of the notebook's own class (`trainer.fit_epoch(...)`): recorded as a
                # method call, and its body followed with the object as `self`
                rec = self._record(site, "." + method, method, receiver, args, complete, UNKNOWN, own)
                receiver.uses.append(Use(rec, "self"))  # type: ignore[union-attr]
                result = self._follow(own, [receiver] + positional, keywords, ctx, e,  # type: ignore[list-item]
                                      ([rdeps] + pdeps, kdeps))
                rec.followed = result is not None
                rec.result = result if result is not None else UNKNOWN
                if result is None:
                    self._flows_rec(rec)
                return rec.result
            result = self._call_method(receiver, method, args, positional, complete, site, arg_nodes)
            rec = self._record(site, "." + method, method, receiver, args, complete, result, None)
            if isinstance(receiver, Obj):
                receiver.uses.append(Use(rec, "self"))
            self._flows_rec(rec)
            return result

        # calling an object: a layer applied to a tensor, a transform applied to an image, ...
        args = {f"#{i}": v for i, v in enumerate(positional)}
        args.update(keywords)
        first = positional[0] if positional else (next(iter(keywords.values())) if keywords else None)
        result = Obj(ObjKind.APPLY, None, site, args=args, origin=first, callee=callee, complete=complete,
                     arg_sites=arg_nodes)
        self._note_obj(result)
        rec = self._record(site, "()", None, callee, args, complete, result, callee)
        if isinstance(callee, Obj):
            callee.uses.append(Use(rec, "self"))
        self._flows_rec(rec)
        return result

    def _map(self, qname: str | None, method: str | None, positional: list[Value],
             keywords: dict[str, Value]) -> dict[str, Value]:
        names = None
        if qname is not None:
            names = apis.SIGNATURES.get(qname)
        elif method is not None:
            names = apis.METHOD_SIGNATURES.get(method)
        out: dict[str, Value] = {}
        for i, v in enumerate(positional):
            if names is not None and i < len(names):
                out[names[i]] = v
            else:
                out[f"#{i}"] = v
        for k, v in keywords.items():
            if method is not None and k in apis.METHOD_KEYWORD_ALIASES:
                k = apis.METHOD_KEYWORD_ALIASES[k]
            out[k] = v
        return out

    def _call_ref(self, q: str, args: dict[str, Value], positional: list[Value], keywords: dict[str, Value],
                  complete: bool, site: Site, arg_nodes: dict[str, ast.AST], frame: Frame) -> Value:
        if q in ("builtins.dict",):
            d = Dict({}, complete and not positional, site)
            if positional and isinstance(positional[0], Dict):
                d.items.update(positional[0].items)
                d.complete = complete and positional[0].complete
            d.items.update(keywords)
            for k in keywords:
                if k in arg_nodes:
                    d.key_sites[k] = site.at(arg_nodes[k])
            return d
        if q in ("builtins.list", "builtins.tuple") and positional and isinstance(positional[0], Seq):
            return Seq(list(positional[0].items), q.split(".")[1], positional[0].complete, site)
        if q in ("builtins.int", "builtins.float", "builtins.str", "builtins.bool", "builtins.round",
                 "builtins.abs", "builtins.min", "builtins.max") and positional and all(
            isinstance(p, Const) for p in positional
        ) and not keywords and all(limits.str_ok(p.value) for p in positional):  # type: ignore[union-attr]
            try:
                fn = getattr(builtins, q.split(".")[1])
                return Const(fn(*[p.value for p in positional]), site)  # type: ignore[union-attr]
            except Exception:
                return UNKNOWN
        if q in PURE_MATH and positional and not keywords and all(
            isinstance(p, Const) and isinstance(p.value, (int, float)) and not isinstance(p.value, bool)
            for p in positional
        ):
            try:
                value = PURE_MATH[q](*[p.value for p in positional])  # type: ignore[union-attr]
                return Const(value, site) if isinstance(value, (int, float)) and abs(value) < 1e300 else UNKNOWN
            except Exception:
                return UNKNOWN
        if q == "builtins.len" and positional and isinstance(positional[0], Seq) and positional[0].complete:
            return Const(len(positional[0].items), site)
        obj = Obj(ObjKind.CALL, q, site, args, complete=complete, arg_sites=arg_nodes)
        self._note_obj(obj)
        return obj

    def _call_method(self, receiver: Value | None, method: str, args: dict[str, Value],
                     positional: list[Value], complete: bool, site: Site,
                     arg_nodes: dict[str, ast.AST]) -> Value:
        if isinstance(receiver, (Seq, Dict)) and method in _MUTATORS and not _may_mutate(receiver, site):
            return Const(None, site)  # code that does not run leaves the running code's values alone
        if isinstance(receiver, Seq):
            if method in ("append", "add") and positional:
                receiver.items.append(positional[0])
                return Const(None, site)
            if method in ("extend",) and positional:
                if isinstance(positional[0], Seq) and limits.seq_ok(len(receiver.items), len(positional[0].items)):
                    receiver.items.extend(positional[0].items)
                    receiver.complete = receiver.complete and positional[0].complete
                else:
                    receiver.complete = False
                return Const(None, site)
            if method in ("insert",) and len(positional) == 2:
                receiver.items.append(positional[1])
                return Const(None, site)
            if method in ("copy",):
                return Seq(list(receiver.items), receiver.kind, receiver.complete, site)
        if isinstance(receiver, Dict):
            if method == "update":
                if positional and isinstance(positional[0], Dict):
                    receiver.items.update(positional[0].items)
                    receiver.complete = receiver.complete and positional[0].complete
                elif positional:
                    receiver.complete = False
                for k, v in args.items():
                    if not k.startswith("#"):
                        receiver.items[k] = v
                return Const(None, site)
            if method == "copy":
                return Dict(dict(receiver.items), receiver.complete, site, dict(receiver.key_sites))
            if method == "get" and positional and isinstance(positional[0], Const):
                return receiver.items.get(positional[0].value, positional[1] if len(positional) > 1 else Const(None))
            if method == "setdefault" and positional and isinstance(positional[0], Const):
                return receiver.items.setdefault(positional[0].value, positional[1] if len(positional) > 1
                                                 else Const(None))
            if method == "pop" and positional and isinstance(positional[0], Const):
                return receiver.items.pop(positional[0].value, UNKNOWN)
        if isinstance(receiver, Const) and isinstance(receiver.value, str) and method == "format":
            return Unknown("str.format")
        obj = Obj(ObjKind.METHOD, method, site, args, origin=receiver, complete=complete, arg_sites=arg_nodes)
        self._note_obj(obj)
        return obj

    def _note_obj(self, obj: Obj) -> None:
        self.seq += 1
        obj.seq = self.seq
        self.objects.append(obj)

    def _record(self, site: Site, name: str, method: str | None, receiver: Value | None, args: dict[str, Value],
                complete: bool, result: Value, callee: Value | None) -> CallRecord:
        self.seq += 1
        rec = CallRecord(site, name, method, receiver, args, complete, result, callee, self.seq)
        pending = self._pending_arg_deps.pop(id(site.node), None)
        if pending is not None:
            rec.arg_deps = pending
        self.calls.append(rec)
        return rec

    def _flows_rec(self, rec: CallRecord) -> None:
        for name, v in rec.args.items():
            for obj in _objects_in(v):
                obj.uses.append(Use(rec, name))

    # --- following the notebook's own functions --------------------------------------
    def _follow(self, func: Func, positional: list[Value], keywords: dict[str, Value], ctx: _Ctx,
                at: ast.AST, deps: tuple[list, dict] | None = None) -> Value | None:
        """Evaluate a call of a notebook function at a call site; None (and a gap at the call)
        when the analysis does not follow it (recursion, depth, or the work budget). `deps`:
        the provenance of the positional and keyword arguments (provenance.py)."""
        why = self._refusal(func)
        if why is not None:
            self._gap(ctx, at, why)
            return None
        return self.call_func(func, positional, keywords, ctx, deps=deps)

    def _refusal(self, func: Func) -> str | None:
        if func in self._active:
            return "recursion"
        if self._depth >= MAX_DEPTH:
            return "depth"
        if self._runs >= MAX_FUNCTION_RUNS:
            return "budget"
        return None

    def call_func(self, func: Func, positional: list[Value], keywords: dict[str, Value], ctx: _Ctx,
                  uncalled: bool = False, deps: tuple[list, dict] | None = None) -> Value:
        if self._refusal(func) is not None:
            return UNKNOWN
        func.evaluated += 1
        self._runs += 1
        node = func.node
        params = node.args
        frame = Frame({}, func.frame if isinstance(func.frame, Frame) else self.globals)
        names = [a.arg for a in params.posonlyargs + params.args]
        defaults = params.defaults
        default_start = len(names) - len(defaults)
        for i, name in enumerate(names):
            if i < len(positional):
                frame.vars[name] = positional[i]
            elif name in keywords:
                frame.vars[name] = keywords[name]
            elif i >= default_start:
                frame.vars[name] = self.eval(defaults[i - default_start], func.frame, ctx) if not uncalled \
                    else self.eval(defaults[i - default_start], func.frame, _Ctx(func.cell, uncalled=True))
            else:
                frame.vars[name] = Unknown(f"parameter {name}")
        for a, d in zip(params.kwonlyargs, params.kw_defaults):
            if a.arg in keywords:
                frame.vars[a.arg] = keywords[a.arg]
            elif d is not None:
                frame.vars[a.arg] = self.eval(d, func.frame, _Ctx(func.cell, uncalled=uncalled or ctx.uncalled))
            else:
                frame.vars[a.arg] = UNKNOWN
        if params.vararg:
            frame.vars[params.vararg.arg] = Seq(positional[len(names):], "tuple", True)
        if params.kwarg:
            extra = {k: v for k, v in keywords.items() if k not in names}
            frame.vars[params.kwarg.arg] = Dict(extra, True)
        if deps is not None:
            pdeps, kdeps = deps
            for i, name in enumerate(names):
                d = pdeps[i] if i < len(pdeps) else kdeps.get(name)
                if d:
                    frame.deps[name] = d
            for a in params.kwonlyargs:
                if kdeps.get(a.arg):
                    frame.deps[a.arg] = kdeps[a.arg]
        # a decorator such as `@torch.no_grad()` is a context around the whole body
        inner = _Ctx(func.cell, ctx.loops if not uncalled else (), ctx.funcs + (func,),
                     uncalled or ctx.uncalled, ctx.contexts + tuple(func.decorators),
                     ctx.conds if not uncalled else (),
                     Reach("uncalled", func, cell=func.cell) if uncalled else ctx.reach)
        self._active.append(func)
        self._depth += 1
        try:
            if isinstance(node, ast.Lambda):
                result = self.eval(node.body, frame, inner)
                self._ret_deps = deps_of(self, node.body, frame)
                func.returns.append(result)
                return result
            self.exec_block(node.body, frame, inner)
            self._ret_deps = frame.return_deps
            returns = frame.returns
            func.returns.extend(returns)
            if not returns:
                return Const(None)
            first = returns[0]
            return first if all(r is first for r in returns) else (
                returns[-1] if len(returns) == 1 else _merge_returns(returns)
            )
        finally:
            self._depth -= 1
            self._active.pop()

    # --- helpers --------------------------------------------------------------------
    def _element_of(self, over: Value, site: Site) -> Value:
        if isinstance(over, Seq) and over.items and all(i is over.items[0] for i in over.items):
            return over.items[0]
        if isinstance(over, Obj):
            return Obj(ObjKind.ITER, None, site, origin=over)
        return UNKNOWN

    @staticmethod
    def _qname_of(v: Value) -> str | None:
        if isinstance(v, Ref):
            return v.qname
        if isinstance(v, Obj) and v.kind is ObjKind.CALL:
            return v.api
        return None


def _name_positional_sites(arg_nodes: dict[str, ast.AST], names: list[str] | None) -> None:
    """Where a positional argument of a modelled API was written, also under its parameter name."""
    if names:
        for i, name in enumerate(names):
            node = arg_nodes.get(f"#{i}")
            if node is None:
                break
            arg_nodes.setdefault(name, node)


def _own_method(receiver: Value | None, method: str) -> Func | None:
    """The notebook class method `receiver.method` names, when the receiver is an instance of
    the notebook's own class (its bases of the notebook searched too)."""
    if not (isinstance(receiver, Obj) and receiver.kind is ObjKind.CALL and isinstance(receiver.callee, Class)):
        return None
    cls: Class | None = receiver.callee
    for _ in range(16):
        if cls is None:
            return None
        f = cls.methods.get(method)
        if f is not None:  # (static/class methods and properties take other arguments: not followed)
            return f if isinstance(f.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                all(d in TRANSPARENT_DECORATORS for d in f.decorators) else None
        cls = next((b for b in cls.bases if isinstance(b, Class)), None)
    return None


def _truth(v: Value) -> bool | None:
    """The truth of a value when it is known: constants, and containers whose items are known."""
    if isinstance(v, Const):
        try:
            return bool(v.value)
        except Exception:
            return None
    if isinstance(v, (Seq, Dict)) and v.complete:
        return bool(v.items)
    if isinstance(v, (Func, Class)):
        return True
    return None


def _merge_returns(returns: list[Value]) -> Value:
    # Several different return values: keep the last non-None one only if the others are None
    real = [r for r in returns if not (isinstance(r, Const) and r.value is None)]
    if len(real) == 1:
        return real[0]
    return UNKNOWN


def _objects_in(v: Value, depth: int = 0) -> list[Obj]:
    if isinstance(v, Obj):
        return [v]
    if depth < 3 and isinstance(v, Seq):
        return [o for item in v.items for o in _objects_in(item, depth + 1)]
    if depth < 3 and isinstance(v, Dict):
        return [o for item in v.items.values() for o in _objects_in(item, depth + 1)]
    return []




def literal_items(over: Value) -> list[Value] | None:
    """The items of a short literal sequence of constants (`['train', 'val']`, `(0.1, 0.01)`),
    which loops and comprehensions over it are unrolled into; None for anything else."""
    if isinstance(over, Seq) and over.complete:
        items = over.items
    elif isinstance(over, Const) and isinstance(over.value, (tuple, list)):
        items = [Const(x) for x in over.value]
    else:
        return None
    if not 2 <= len(items) <= 8 or not all(
            isinstance(i, Const) and (i.value is None or isinstance(i.value, (str, int, float, bool))) for i in items):
        return None
    return list(items)


def _arity(func: Func) -> int:
    a = func.node.args
    return len(a.posonlyargs) + len(a.args)


# decorators that leave a method's arguments as they are (the method is followed through them)
TRANSPARENT_DECORATORS = frozenset({"torch.no_grad", "torch.inference_mode", "torch.enable_grad",
                                    "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
                                    "torch.autograd.grad_mode.inference_mode", "tensorflow.function"})

# expression node class -> its Interpreter.eval_* method (one dict lookup per evaluated node)
_EVAL = {getattr(ast, name[5:]): fn for name, fn in vars(Interpreter).items()
         if name.startswith("eval_") and isinstance(getattr(ast, name[5:], None), type)}

ITER_WRAPPERS = ("tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm", "tqdm.tqdm_notebook", "builtins.enumerate",
                  "builtins.iter", "builtins.list", "builtins.reversed", "builtins.sorted")
RANGE_LIKE = ("builtins.range", "tqdm.trange", "tqdm.auto.trange", "tqdm.notebook.trange", "numpy.arange")


def unwrap_iterable(over: Value | None) -> Value | None:
    """`tqdm(range(n))`, `enumerate(...)`: the iterable that is really looped over."""
    for _ in range(5):
        if isinstance(over, Obj) and over.kind is ObjKind.CALL and over.api in ITER_WRAPPERS:
            over = over.args.get("#0", over.args.get("iterable"))
        else:
            break
    return over


def _loop_count(over: Value) -> int | None:
    over = unwrap_iterable(over)  # type: ignore[assignment]
    if isinstance(over, Seq) and over.complete:
        return len(over.items)
    if isinstance(over, Const) and isinstance(over.value, (tuple, list, str)):
        return len(over.value)
    if isinstance(over, Obj) and over.kind is ObjKind.CALL and over.api in RANGE_LIKE:
        vals = [over.args.get(k, over.args.get(f"#{i}")) for i, k in enumerate(("start", "stop", "step"))]
        given = [v for v in vals if v is not None]
        if all(isinstance(v, Const) and isinstance(v.value, int) for v in given) and given:
            try:
                return len(range(*[v.value for v in given]))  # type: ignore[union-attr]
            except Exception:
                return None
    return None


def _names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    """Every name stored to anywhere in `body` (nested blocks, comprehensions, `:=` included)."""
    out: set[str] = set()
    stack: list = list(body)
    AST, Name, Store = ast.AST, ast.Name, ast.Store
    while stack:  # ast.walk, without its per-node generators (loop bodies are walked a lot)
        node = stack.pop()
        if type(node) is Name:
            if type(node.ctx) is Store:
                out.add(node.id)
            continue
        for name in node._fields:
            v = getattr(node, name, None)
            if type(v) is list:
                stack.extend(x for x in v if isinstance(x, AST))
            elif isinstance(v, AST):
                stack.append(v)
    return out


# pure numeric functions the interpreter folds when every argument is a number (schedules in
# `LearningRateScheduler(lambda epoch: 1e-3 * math.exp(-0.1 * epoch))` become numbers)
def _pow(a: float, b: float) -> float:
    if abs(b) > 64:
        raise OverflowError
    return float(a) ** b


PURE_MATH = {
    "math.ceil": math.ceil, "math.floor": math.floor, "math.sqrt": math.sqrt, "math.exp": math.exp,
    "math.log": math.log, "math.cos": math.cos, "math.sin": math.sin, "math.pow": _pow,
    "numpy.ceil": math.ceil, "numpy.floor": math.floor, "numpy.sqrt": math.sqrt, "numpy.exp": math.exp,
    "numpy.log": math.log, "numpy.cos": math.cos, "numpy.sin": math.sin, "numpy.power": _pow,
    "tensorflow.math.exp": math.exp, "tensorflow.exp": math.exp, "tensorflow.math.cos": math.cos,
    "tensorflow.cos": math.cos, "tensorflow.math.pow": _pow, "tensorflow.pow": _pow,
    "builtins.pow": _pow,
}
MATH_CONSTANTS = {"math.pi": math.pi, "numpy.pi": math.pi, "math.e": math.e, "numpy.e": math.e}
_MUTATORS = frozenset({"append", "add", "extend", "insert", "update", "setdefault", "pop", "clear", "remove"})


def _may_mutate(container: Value, site: Site) -> bool:
    """Code that does not run in the saved notebook (`site.uncalled`) may change only the values
    it made itself: a list or object the running code built keeps what the running code gave it."""
    if not site.uncalled:
        return True
    made = getattr(container, "site", None)
    return made is None or made.uncalled


def _reads_parameter(test: ast.AST, func: Func) -> bool:
    """The test of an `if` reads a parameter of `func` (so its value comes from the calls)."""
    node = func.node
    a = node.args
    params = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
    params |= {p.arg for p in (a.vararg, a.kwarg) if p is not None}
    return any(isinstance(n, ast.Name) and n.id in params for n in ast.walk(test))


def _identity_or_membership(op: ast.cmpop, left: Value, right: Value) -> bool | None:
    """`x is None`, `x is not None`, `'acc' in metrics`: decided when the values are known. An
    object the analysis made (a function, a list, a library's module) is never None; the result
    of a library call may be, so it stays undecided."""
    if isinstance(op, (ast.Is, ast.IsNot)):
        singles = (None, True, False)
        a = left.value if isinstance(left, Const) else left
        b = right.value if isinstance(right, Const) else right
        if isinstance(left, Const) and isinstance(right, Const):
            if not (any(a is x for x in singles) or any(b is x for x in singles)):
                return None
            same = a is b
        elif (isinstance(left, Const) and left.value is None and isinstance(right, (Func, Class, Seq, Dict, Ref))) or \
                (isinstance(right, Const) and right.value is None and isinstance(left, (Func, Class, Seq, Dict, Ref))):
            same = False
        else:
            return None
        return same if isinstance(op, ast.Is) else not same
    if isinstance(op, (ast.In, ast.NotIn)) and isinstance(left, Const):
        if isinstance(right, Const) and isinstance(right.value, (tuple, list, str, frozenset, set)):
            try:
                inside = left.value in right.value
            except TypeError:
                return None
        elif isinstance(right, Seq) and right.complete and all(isinstance(i, Const) for i in right.items):
            inside = any(i.value == left.value for i in right.items)  # type: ignore[union-attr]
        elif isinstance(right, Dict) and right.complete and isinstance(left.value, str):
            inside = left.value in right.items
        else:
            return None
        return inside if isinstance(op, ast.In) else not inside
    return None


def _few_constants(over: Value) -> list[Value] | None:
    """The items of a short literal sequence of different constants (2 to 4 of them)."""
    if isinstance(over, Const) and isinstance(over.value, (tuple, list)):
        items: list[Value] = [Const(x, over.site) for x in over.value]
    elif isinstance(over, Seq) and over.complete and all(isinstance(i, Const) for i in over.items):
        items = list(over.items)
    else:
        return None
    if not 2 <= len(items) <= 4:
        return None
    values = [i.value for i in items]  # type: ignore[union-attr]
    try:
        distinct = len({repr(v) for v in values})
    except Exception:  # noqa: BLE001
        return None
    return items if distinct > 1 else None


def _calls_own_function(body: list[ast.stmt], frame: Frame) -> bool:
    """The loop body calls a function or class defined in the notebook."""
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    isinstance(frame.lookup(node.func.id), (Func, Class)):
                return True
    return False

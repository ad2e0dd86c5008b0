"""The abstract values of nbreview's small interpreter.

A value is what a name or expression is known to hold, statically:
- `Const`: a Python literal (or something computed from literals);
- `Ref`: a module, class or function of a library, by normalised qualified name;
- `Seq` / `Dict`: containers of values (mutations such as `d['k'] = v` are followed);
- `Func` / `Class`: a function or class defined in the notebook;
- `Obj`: an object created at a site: by calling an API (`ModelCheckpoint(...)`), by a
  method call on another object (`datagen.flow_from_directory(...)`), by applying a
  callable object (`layer(x)`), by arithmetic (`x / 255`), indexing or iteration.
  Its `origin` links it to the object it was derived from, so pipelines can be walked;
- `Unknown`: anything else. Rules that need an Unknown stay silent.

Control flow is kept on every site: the loops around it (with their iteration counts), the
branch conditions it runs under (`if`, `while`, `except`, `match`), the notebook functions
being followed, and a sequence number on every call and object in evaluation order, so
queries can ask what happened before what (see `flow.py`).
"""
from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping

_ids = itertools.count(1)


class ObjKind(str, Enum):
    """How an object came to be."""

    CALL = "call"  # an API, class or notebook class called: `ModelCheckpoint(...)`, `Net()`
    METHOD = "method"  # a method called on another value: `datagen.flow_from_directory(...)`
    APPLY = "apply"  # an object called: `layer(x)`, `transform(image)`, `model(batch)`
    ATTR = "attr"  # an attribute read that nobody assigned: `model.layers`, `ds.transform`
    BINOP = "binop"  # arithmetic: `x / 255`
    SUBSCRIPT = "subscript"  # `x[i]`, `base.layers[:-20]`
    ITEM = "item"  # one element of an unpacked result: `a, b = random_split(...)`
    ITER = "iter"  # the element a `for` loop draws from an object
    WITH = "with"  # the value bound by `with ... as x` when it is not an object already
    COMPREHENSION = "comprehension"  # `[f(x) for x in xs]` (its element is kept)

    def __str__(self) -> str:  # messages and reprs show the plain word
        return self.value


class Cond:
    """A branch condition a site runs under: `if test:` (negated for its `else:`), a `while`
    test, an `except` handler, a `match` case. `value` is the test as the interpreter saw it
    (Unknown when it could not be evaluated; a constant test never makes a branch)."""

    __slots__ = ("node", "negated", "kind", "value", "cell", "deps")

    def __init__(self, node: ast.AST, negated: bool, kind: str, value: "Value | None", cell: int,
                 deps: tuple[frozenset[int], ...] = ()) -> None:
        self.node = node
        self.negated = negated
        self.kind = kind  # "if" | "ifexp" | "while" | "except" | "case"
        self.value = value
        self.cell = cell
        # provenance of the test (provenance.py): one set per operand of a comparison
        self.deps = deps

    def __repr__(self) -> str:
        return f"Cond({self.kind}{' not' if self.negated else ''} @{self.cell}:{getattr(self.node, 'lineno', '?')})"


@dataclass(frozen=True, eq=False, slots=True)
class Loop:
    """A loop around a site: `for`, `while` or a comprehension (one per execution of it:
    a helper function called twice has two Loop objects for its `for`)."""

    node: ast.AST
    cell: int
    line: int
    kind: str  # "for" | "while" | "comprehension"
    count: int | None  # iterations when known (range(N) with a known N, a literal list)
    targets: frozenset[str]  # names bound by the loop header
    assigned: frozenset[str]  # names assigned anywhere in the loop body
    over: "Value | None" = None  # the iterable
    conds: tuple[Cond, ...] = ()  # the branch conditions the loop itself runs under
    id: int = field(default_factory=lambda: next(_ids))
    # sequence numbers of the calls its body made (first, last + 1); set when the body has run
    span: list[int] = field(default_factory=lambda: [0, 0], repr=False)

    @property
    def runs_at_least_once(self) -> bool:
        return self.kind == "for" and self.count is not None and self.count >= 1


@dataclass(frozen=True, eq=False, slots=True)
class Reach:
    """Why code does not run in the saved notebook, though the student wrote it (and maybe ran
    it in an earlier version): `kind` "uncalled" — inside `func`, a notebook function that
    nothing calls (its call was deleted or commented out); "dead" — inside a branch of `func`
    whose test (`cond`, the `else` branch when `negated`) has the same constant value at every
    call, decided by the arguments the calls pass. Rules report such code like any other; the
    review says it does not run (and a dead branch lowers the remark's severity)."""

    kind: str  # "uncalled" | "dead"
    func: "Func | None" = None
    cond: ast.AST | None = None
    negated: bool = False
    cell: int = 0


@dataclass(unsafe_hash=True, slots=True)  # immutable by convention: a frozen one costs 8 setattr calls
class Site:
    """Where something happens: a node of a cell, and the context it ran in."""

    cell: int
    node: ast.AST
    loops: tuple[Loop, ...] = ()
    funcs: tuple["Func", ...] = ()  # notebook functions being evaluated (outermost first)
    uncalled: bool = False  # does not run in the saved notebook (see `reach` for why)
    contexts: tuple[str, ...] = ()  # qualified names of enclosing `with` contexts
    conds: tuple[Cond, ...] = ()  # branch conditions (outermost first), those of followed callers included
    reach: Reach | None = None  # why it does not run (None when it runs)

    def at(self, node: ast.AST) -> "Site":
        """The same context at another node (an argument of the call, a key of a dict)."""
        return Site(self.cell, node, self.loops, self.funcs, self.uncalled, self.contexts, self.conds, self.reach)

    @property
    def anchor(self) -> ast.AST:
        """The node to point at: for `a.b(...).method(...)`, the `.method` part of the chain."""
        node = self.node
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                getattr(node.func, "end_lineno", None) and node.func.end_lineno != node.lineno:
            return node.func
        return node

    @property
    def line(self) -> int:
        node = self.anchor
        if node is not self.node:
            return node.end_lineno  # type: ignore[attr-defined,return-value]
        return getattr(node, "lineno", 1)

    @property
    def column(self) -> int:
        node = self.anchor
        if node is not self.node:
            return max(1, node.end_col_offset - len(node.attr))  # type: ignore[attr-defined]
        return getattr(node, "col_offset", 0) + 1

    @property
    def end_line(self) -> int:
        return getattr(self.node, "end_lineno", None) or self.line

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.cell, self.line, self.column)


class Value:
    __slots__ = ()


@dataclass(eq=False, slots=True)
class Unknown(Value):
    why: str = ""

    def __repr__(self) -> str:
        return "Unknown"


UNKNOWN = Unknown()


@dataclass(eq=False, slots=True)
class Const(Value):
    value: Any
    site: Site | None = None

    def __repr__(self) -> str:
        return f"Const({self.value!r})"


@dataclass(eq=False, slots=True)
class Ref(Value):
    qname: str

    def __repr__(self) -> str:
        return f"Ref({self.qname})"


@dataclass(eq=False, slots=True)
class Seq(Value):
    items: list[Value]
    kind: str = "list"  # list | tuple | set
    complete: bool = True  # False when a starred or unknown part was merged in
    site: Site | None = None


@dataclass(eq=False, slots=True)
class Dict(Value):
    items: dict[str, Value]
    complete: bool = True  # False when some key is not a known constant
    site: Site | None = None
    key_sites: dict[str, Site] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class Func(Value):
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    name: str
    cell: int
    frame: Any  # the Frame where it was defined (closure)
    decorators: list[str] = field(default_factory=list)
    evaluated: int = 0  # how many times the interpreter ran its body
    returns: list[Value] = field(default_factory=list)
    defined_vars: dict[str, Value] | None = None  # the module's names where it was defined (uncalled: see finish)

    def __repr__(self) -> str:
        return f"Func({self.name})"


@dataclass(eq=False, slots=True)
class Class(Value):
    node: ast.ClassDef
    name: str
    cell: int
    bases: list[Value]
    methods: dict[str, Func] = field(default_factory=dict)


@dataclass(slots=True)
class Use:
    """An object flowing into a call: as its receiver, or as the argument `param`."""

    call: "CallRecord"
    param: str  # parameter name ("x", "validation_data", "#0", ...) or "self" for the receiver


NO_HISTORY: Mapping = MappingProxyType({})


@dataclass(eq=False, slots=True)
class Obj(Value):
    kind: ObjKind
    api: str | None  # qualified name (call), method/attribute name (method/attr), operator (binop)
    site: Site
    args: dict[str, Value] = field(default_factory=dict)
    origin: Value | None = None  # the receiver / input this object was derived from
    callee: Value | None = None  # for `apply`: the callable object applied
    complete: bool = True  # False when **kwargs or *args could not be resolved
    arg_sites: dict[str, ast.AST] = field(default_factory=dict)
    # the histories below start as the shared read-only NO_HISTORY (most objects never get one)
    attrs: Mapping[str, list[tuple[Site, Value]]] = field(default_factory=lambda: NO_HISTORY)
    uses: list[Use] = field(default_factory=list)
    id: int = field(default_factory=lambda: next(_ids))
    seq: int = 0  # when it was made, in evaluation order (see CallRecord.seq)
    star_dicts: tuple["Dict", ...] = ()  # `**kwargs` dicts merged into the call that made it
    setitems: Mapping[str, list[tuple[Site, Value]]] = field(default_factory=lambda: NO_HISTORY)  # `obj['key'] = value`

    def __repr__(self) -> str:
        return f"Obj#{self.id}({self.kind.value}:{self.api})"

    def arg(self, name: str, default: Value | None = None) -> Value | None:
        """The argument `name`; `default` when it is surely absent, UNKNOWN when unsure."""
        if name in self.args:
            return self.args[name]
        if not self.complete:
            return UNKNOWN
        return default

    def attr(self, name: str) -> Value | None:
        hist = self.attrs.get(name)
        return hist[-1][1] if hist else None

    def item(self, key: str) -> Value | None:
        """The last value assigned to `obj[key]` (a constant key), if any."""
        hist = self.setitems.get(key)
        return hist[-1][1] if hist else None


NO_DEPS: dict = {}  # shared by every call without provenance: never mutated


@dataclass(slots=True)
class CallRecord:
    """One evaluated call: what was called, on what, with which arguments, where, and when.

    `seq` numbers calls in evaluation order (notebook functions are followed, so the calls of
    a helper come between the calls around its call site). `followed` is True when the body
    of a notebook function was evaluated for this call; a call into code the analysis does
    not see (a library, an unknown callee, a notebook function beyond the depth or work
    budget) is opaque: objects handed to it "escape" (see `Facts.escapes`)."""

    site: Site
    name: str  # normalised qualified name, or ".method" for a method on an unknown receiver
    method: str | None  # the method name, for `x.method(...)` calls
    receiver: Value | None
    args: dict[str, Value]
    complete: bool
    result: Value
    callee: Value | None = None
    seq: int = 0
    followed: bool = False
    # provenance of each argument as written (provenance.py): "#i" for the i-th positional,
    # the keyword's name, "self" for the receiver
    arg_deps: dict[str, frozenset[int]] = field(default_factory=lambda: NO_DEPS)

    def arg(self, name: str) -> Value | None:
        if name in self.args:
            return self.args[name]
        return None if self.complete else UNKNOWN


@dataclass(frozen=True, slots=True)
class Store:
    """A store into an object: `obj.attr = value` (`key` is the attribute name) or
    `obj[key] = value` (`key` is the evaluated subscript), with its place in evaluation order
    (`seq`: the stores between two calls share the sequence number of the earlier call)."""

    site: Site
    base: "Value"
    kind: str  # "attr" | "item"
    key: Any  # the attribute name, or the subscript's Value
    value: "Value"
    seq: int


@dataclass(frozen=True, slots=True)
class Gap:
    """A place where the analysis could not see everything: a budget or depth limit hit, a
    statement it could not evaluate, a cell that does not parse. Rules about something
    *missing* (no `eval()`, no `step()`) stay silent when a gap could hide it."""

    cell: int
    line: int
    why: str  # "depth" | "budget" | "recursion" | "error" | "unparsed"
    seq: int  # the sequence number at the gap: what happened before / after it
    loops: tuple[Loop, ...] = ()
    funcs: tuple["Func", ...] = ()


def number(v: Value | None) -> float | None:
    """The value of a numeric constant (booleans excluded) as a float, else None."""
    if isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        return float(v.value)
    return None


def const_value(v: Value | None, default: Any = None) -> Any:
    return v.value if isinstance(v, Const) else default


def is_const(v: Value | None, *values: Any) -> bool:
    return isinstance(v, Const) and any(v.value is x or v.value == x for x in values) if values else isinstance(v, Const)

"""Facts: everything the rules know about a notebook, computed once by one interpreter run."""
from __future__ import annotations

from functools import cached_property
from typing import Iterator

from ..program import Program
from . import apis
from .interpreter import Interpreter
from .pipelines import Answer, Evidence, Semantics
from .values import CallRecord, Func, Obj, Site, Value

__all__ = ["Facts", "analyse", "Answer", "Evidence", "CallRecord", "Obj", "Site", "Value"]


class Facts:
    def __init__(self, program: Program, interp: Interpreter) -> None:
        self.program = program
        self.interp = interp
        self.sem = Semantics(self)

    # --- basic queries ---------------------------------------------------------------
    @property
    def calls(self) -> list[CallRecord]:
        return self.interp.calls

    @property
    def objects(self) -> list[Obj]:
        return self.interp.objects

    def created(self, *apis_: str, include_uncalled: bool = False) -> list[Obj]:
        """Objects created by calling one of these APIs (normalised qualified names)."""
        wanted = set(apis_)
        return [o for o in self.interp.objects if o.kind == "call" and o.api in wanted
                and (include_uncalled or not o.site.uncalled)]

    def created_matching(self, pred, include_uncalled: bool = False) -> list[Obj]:
        return [o for o in self.interp.objects if o.kind == "call" and o.api and pred(o.api)
                and (include_uncalled or not o.site.uncalled)]

    def method_calls(self, *names: str, include_uncalled: bool = False) -> list[CallRecord]:
        wanted = set(names)
        return [c for c in self.interp.calls if c.method in wanted and (include_uncalled or not c.site.uncalled)]

    def calls_to(self, *qnames: str, include_uncalled: bool = False) -> list[CallRecord]:
        wanted = set(qnames)
        return [c for c in self.interp.calls if c.name in wanted and (include_uncalled or not c.site.uncalled)]

    def calls_in(self, func: Func) -> Iterator[CallRecord]:
        return (c for c in self.interp.calls if func in c.site.funcs)

    def objects_in(self, func: Func) -> Iterator[Obj]:
        return (o for o in self.interp.objects if func in o.site.funcs)

    def uses(self, obj: Obj, *params: str) -> list:
        return [u for u in obj.uses if not params or u.param in params]

    @cached_property
    def imported(self) -> set[str]:
        return {q for _, q in self.interp.imports}

    @cached_property
    def framework(self) -> str | None:
        keras = any(q.startswith(("keras", "tensorflow")) for q in self.imported)
        torch = any(q.startswith(("torch", "timm")) for q in self.imported)
        if keras and not torch:
            return "keras"
        if torch and not keras:
            return "torch"
        if keras and torch:
            fits = bool(self.method_calls("fit", "fit_generator"))
            return "keras" if fits else "torch"
        return None

    def executed(self, cell: int) -> bool:
        c = self.program.code_cell(cell)
        return bool(c and c.executed)

    # --- pipelines and models (see pipelines.py) ---------------------------------------
    def augments(self, v: Value | None) -> Answer:
        return self.sem.augments(v)

    def unit_scaling(self, v: Value | None) -> Answer:
        return self.sem.unit_scaling(v)

    def models_trained(self) -> list[tuple[CallRecord, Obj]]:
        """(fit call, model object) for every fit on a model the interpreter could follow."""
        out = []
        for rec in self.method_calls(*apis.FIT_METHODS):
            if isinstance(rec.receiver, Obj):
                out.append((rec, rec.receiver))
        return out

    def data_calls(self, model: Obj) -> list[tuple[CallRecord, str, Value]]:
        """Every (call, role, data) that feeds data to `model`: fit x / validation_data, evaluate, predict."""
        out: list[tuple[CallRecord, str, Value]] = []
        for use in model.uses:
            if use.param != "self":
                continue
            rec = use.call
            m = rec.method
            if m in apis.FIT_METHODS:
                for role in ("x", "validation_data"):
                    v = rec.args.get(role)
                    if v is not None:
                        out.append((rec, role, v))
            elif m in apis.PREDICT_METHODS or m in apis.EVALUATE_METHODS:
                v = rec.args.get("x")
                if v is not None:
                    out.append((rec, m, v))
        return out


def analyse(program: Program) -> Facts:
    interp = Interpreter()
    for cc in program.cells:
        if cc.tree is not None:
            interp.run_cell(cc.index, cc.tree)
    interp.finish()
    return Facts(program, interp)


def _first_names(interp: Interpreter) -> dict[int, str]:
    import ast

    names: dict[int, str] = {}
    for _site, name, value in interp.assignments:
        if isinstance(value, Obj) and value.id not in names:
            names[value.id] = name
    for site, _base, _attr, value in interp.attr_sets:  # `self.base = EfficientNetB0(...)`
        if isinstance(value, Obj) and value.id not in names and isinstance(site.node, ast.Assign):
            try:
                names[value.id] = ast.unparse(site.node.targets[0])
            except Exception:
                continue
    return names


def name_of(facts: Facts, v: Value | None) -> str | None:
    """The variable the student bound this object to (the first binding), if any."""
    if not isinstance(v, Obj):
        return None
    cache = facts.__dict__.setdefault("_names", None)
    if cache is None:
        cache = facts.__dict__["_names"] = _first_names(facts.interp)
    return cache.get(v.id)


def source_of(facts: Facts, site: Site, max_len: int = 100) -> str:
    """The student's own text at a site (on one line, trimmed)."""
    from .pipelines import _src

    seg = _src(site.node, site.cell, facts.sem.sources)
    return seg if len(seg) <= max_len else seg[: max_len - 1] + "…"


def describe(facts: Facts, v: Value | None, max_len: int = 60) -> str:
    """How to name an object in a message: the student's variable, else their own code for it."""
    name = name_of(facts, v)
    if name:
        return name
    if isinstance(v, Obj):
        return source_of(facts, v.site, max_len)
    return "…"

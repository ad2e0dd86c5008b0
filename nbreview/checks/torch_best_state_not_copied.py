"""torch-best-state-not-copied: the "best" weights are kept as `model.state_dict()` (or a
shallow copy of it, or the model object itself) while training goes on. A state dict holds
references to the live parameter tensors, so every later optimizer step changes the "saved"
weights too; loading them at the end restores the last epoch, not the best one."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..facts.models import root
from ..facts.values import Dict, Obj, ObjKind, Ref, Site, Value
from .base import Context, FixOffer, Hit, Rule, register

if TYPE_CHECKING:
    from ..edits import NotebookEditor

SHALLOW_CALLS = ("copy.copy", "builtins.dict", "collections.OrderedDict")
CONSUMERS = ("load_state_dict",)


@register
class TorchBestStateNotCopied(Rule):
    slug = "torch-best-state-not-copied"

    def check(self, ctx: Context) -> None:
        facts = ctx.facts
        passes = facts.passes
        candidates: list[tuple[Site, Value]] = [(site, value) for site, _n, value in facts.interp.assignments]
        candidates += [(site, value) for site, _b, _a, value in facts.interp.attr_sets]
        for site, value in candidates:
            if site.uncalled or not isinstance(site.node, (ast.Assign, ast.AnnAssign)):
                continue
            kind, model = _state_view(facts, value)
            wrap = site.node.value
            if kind is None and isinstance(value, Dict):  # `ckpt = {'model': model.state_dict(), ...}`
                for key, item in value.items.items():
                    model = _state_dict_call(facts, item)
                    if model is not None and isinstance(site.node.value, ast.Dict):
                        kind, value = "in_dict", item
                        wrap = next((v for k, v in zip(site.node.value.keys, site.node.value.values)
                                     if isinstance(k, ast.Constant) and k.value == key), None)
                        break
            if kind is None or wrap is None:
                continue
            loop = next((lp for lp in site.loops if lp.id in passes.update_loops and any(
                model in p.models and lp.span[0] <= p.at <= lp.span[1] for p in passes.training_passes())), None)
            if loop is None:
                continue  # this model does not go on training around it
            if kind == "model":
                if not isinstance(site.node.value, (ast.Name, ast.Attribute)):
                    continue  # a new model made here (`model = build()` per fold), not an alias
                use = _name_read_after(facts, site, loop)
            else:
                use = _later_use(facts, value, loop.span[1])
            if use is None:
                continue
            ctx.report(
                Site(site.cell, site.node, site.loops, site.funcs),
                subject=(site, value),
                params={"target": ast.unparse(site.node.targets[0] if isinstance(site.node, ast.Assign)
                                              else site.node.target),
                        "model": facts.describe(model), "code": ast.unparse(wrap)},
                related=[use],
                variant=kind,
                fix=_fix_offer(facts, site, kind, wrap),
            )

    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:
        data = hit.fix.data  # type: ignore[union-attr]
        site: Site = data["site"]
        edit.replace(site, data["code"], node=data["node"])
        if data.get("import"):
            edit.insert_before(site.cell, data["first_line"], "import copy")


def _state_view(facts, value: Value) -> tuple[str | None, Obj | None]:
    """("default", model) for `model.state_dict()`, ("shallow", model) for a dict copy of it,
    ("model", model) for the model object itself; (None, None) otherwise."""
    if not isinstance(value, Obj):
        return None, None
    state = _state_dict_call(facts, value)
    if state is not None:
        return "default", state
    if value.kind is ObjKind.METHOD and value.api == "copy":
        model = _state_dict_call(facts, value.origin)
        return ("shallow", model) if model is not None else (None, None)
    if value.kind is ObjKind.CALL and value.api in SHALLOW_CALLS and len(value.args) == 1:
        model = _state_dict_call(facts, value.args.get("#0"))
        return ("shallow", model) if model is not None else (None, None)
    model = facts.torch_model(value)
    if model is not None and value is root(value, "model") and value.kind is ObjKind.CALL:
        return "model", model
    return None, None


def _state_dict_call(facts, v: Value | None) -> Obj | None:
    if isinstance(v, Obj) and v.kind is ObjKind.METHOD and v.api == "state_dict" and not v.args:
        return facts.torch_model(v.origin)
    return None


def _later_use(facts, value: Obj, after: int) -> Site | None:
    """Where the kept state dict is used after training went on: loaded or saved."""
    for rec in facts.calls:  # through names, branches and returns: the argument's provenance
        if rec.seq <= after or rec.site.uncalled:
            continue
        if rec.method in CONSUMERS or rec.name == "torch.save":
            if any(value.id in d for k, d in rec.arg_deps.items() if k != "self"):
                return rec.site
    return None


def _name_read_after(facts, site: Site, loop) -> Site | None:
    """The alias (`best_model`) read after the training loop ends: later in its cell, or later cells."""
    target = site.node.targets[0] if isinstance(site.node, ast.Assign) else None
    if not isinstance(target, ast.Name) or not isinstance(loop.node, ast.stmt):
        return None
    end = (loop.cell, loop.node.end_lineno or loop.line)
    for cc in facts.program.cells:
        if cc.tree is None or cc.index < loop.cell:
            continue
        for node in ast.walk(cc.tree):
            if isinstance(node, ast.Name) and node.id == target.id and isinstance(node.ctx, ast.Load) and \
                    (cc.index, node.lineno) > end:
                return Site(cc.index, node)
    return None


def _fix_offer(facts, site: Site, kind: str, rhs: ast.expr) -> FixOffer | None:
    if rhs is None:
        return None
    if kind == "shallow":
        inner = rhs.func.value if isinstance(rhs, ast.Call) and isinstance(rhs.func, ast.Attribute) and \
            rhs.func.attr == "copy" else (rhs.args[0] if isinstance(rhs, ast.Call) and rhs.args else None)
        if inner is None:
            return None
        target = ast.unparse(inner)
    else:
        target = ast.unparse(rhs)
    bound = facts.interp.globals.lookup("copy")
    deepcopy = facts.interp.globals.lookup("deepcopy")
    if isinstance(bound, Ref) and bound.qname == "copy":
        code, needs_import = f"copy.deepcopy({target})", False
    elif isinstance(deepcopy, Ref) and deepcopy.qname == "copy.deepcopy":
        code, needs_import = f"deepcopy({target})", False
    elif bound is None:
        code, needs_import = f"copy.deepcopy({target})", True
    else:
        return None  # `copy` means something else here
    tree = facts.program.code_cell(site.cell).tree
    first = tree.body[0].lineno if tree is not None and tree.body else None
    if needs_import and first is None:
        return None
    return FixOffer(safe=True, data={"site": site, "node": rhs, "code": code, "import": needs_import,
                                     "first_line": first})

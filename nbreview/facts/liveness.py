"""Liveness: does an object the student made ever reach the code that would use it?

A Keras callback only acts when it is in the `callbacks=` list of a `fit` that runs; a
callback made and then left out of every list (a copied cell, a list built before it was
made) changes nothing. The question is asked over object identity (the interpreter's
objects) and every way the object flows: lists, `list.append`, `**kwargs` dicts, the
notebook's own functions (followed), and code the analysis cannot see.

The answer is three-valued: True (it reaches a fit that runs), False (surely not), None (it
is handed to code the analysis does not see, driven by hand, replaced by a namesake that is
used, or the analysis has a gap after it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import apis
from .values import CallRecord, Const, Dict, Obj, ObjKind, Seq, Site

if TYPE_CHECKING:
    from . import Facts

# callbacks whose absence changes what training does
EFFECTIVE_CALLBACKS = frozenset({"keras.callbacks.ModelCheckpoint", "keras.callbacks.EarlyStopping",
                                 "keras.callbacks.ReduceLROnPlateau", "keras.callbacks.LearningRateScheduler"})

# calls that only look at an object (or put it into a container): handing a callback to them
# neither uses it nor hides it
_NEUTRAL_CALLS = ("builtins.print", "builtins.len", "builtins.list", "builtins.tuple", "builtins.type",
                  "builtins.isinstance", "builtins.repr", "builtins.str", "builtins.id", "IPython.display.")


@dataclass
class Reach:
    """Where an object goes: `value` True when it reaches a fit that runs."""

    value: bool | None
    fits: list[CallRecord] = field(default_factory=list)
    why: str = ""  # for None / False: what the analysis saw


def fits(facts: "Facts") -> list[CallRecord]:
    """The Keras `fit` calls that run (not inside a function nothing calls, not in a cell left
    unexecuted in a notebook that was run), in order."""
    return [rec for rec in facts.method_calls(*apis.FIT_METHODS) if facts.ran(rec.site) is not False]


def callback_reach(facts: "Facts", cb: Obj) -> Reach:
    """Whether a callback object reaches the `callbacks=` of a fit that runs."""
    used: list[CallRecord] = []
    unsure = ""
    for use in cb.uses:
        rec = use.call
        if rec.method in apis.FIT_METHODS and use.param == "callbacks":
            if facts.ran(rec.site) is False:
                unsure = "a fit that did not run (a function nothing calls, an unexecuted cell)"
            else:
                used.append(rec)
            continue
        if use.param == "self":
            unsure = f"driven by hand (.{rec.method}())"
            continue
        if isinstance(rec.receiver, (Seq, Dict)):
            continue  # callbacks.append(cb)
        if rec.name.startswith(_NEUTRAL_CALLS):
            continue
        unsure = f"handed to {rec.name}"
    if used:
        return Reach(True, used)
    if unsure:
        return Reach(None, why=unsure)
    if any(g.seq >= cb.seq for g in facts.gaps):
        return Reach(None, why="the analysis has a gap after it")
    runs = fits(facts)
    if not runs:
        return Reach(None, why="no fit runs: the notebook trains some other way")
    if any(order_conflict(facts, cb.site, cb.seq, rec.site, rec.seq) for rec in runs):
        return Reach(None, why="cells ran out of order: a fit may have used it")
    for rec in runs:
        if rec.seq > cb.seq and not _callbacks_known(rec.arg("callbacks")):
            return Reach(None, why="a later fit whose callbacks cannot be read")
    return Reach(False)


def order_conflict(facts: "Facts", a: Site, seq_a: int, b: Site, seq_b: int) -> bool:
    """The notebook says these two ran in the other order than they stand: both cells have an
    execution count, and the one evaluated first (cell order) ran later in the kernel. Which of
    them acted on what the other made is then ambiguous."""
    if not facts.notebook_ran:
        return False
    a, b = facts.top_site(a, seq_a), facts.top_site(b, seq_b)  # code in a helper runs where it is called
    if a.cell == b.cell:
        return False
    ca, cb = _count(facts, a.cell), _count(facts, b.cell)
    if ca is None or cb is None:
        return False
    return (seq_a < seq_b) != (ca < cb)


def _count(facts: "Facts", cell: int) -> int | None:
    c = facts.program.code_cell(cell)
    return c.cell.execution_count if c is not None else None


def _callbacks_known(v) -> bool:
    if v is None or (isinstance(v, Const) and v.value is None):
        return True
    if isinstance(v, Seq):
        return v.complete and all(isinstance(i, Obj) or (isinstance(i, Const) and i.value is None) for i in v.items)
    return False


def replaced_by(facts: "Facts", cb: Obj) -> Obj | None:
    """A later callback of the same class bound to the same name (a re-run or corrected cell)
    that does reach a fit: then this one was simply superseded."""
    name = facts.name_of(cb)
    if name is None:
        return None
    for site, bound, value in facts.interp.assignments:
        if bound != name or not isinstance(value, Obj) or value is cb or value.seq < cb.seq:
            continue
        if value.kind is ObjKind.CALL and value.api == cb.api and callback_reach(facts, value).value:
            return value
    return None


def is_effective_callback(v) -> bool:
    return isinstance(v, Obj) and v.kind is ObjKind.CALL and v.api in EFFECTIVE_CALLBACKS


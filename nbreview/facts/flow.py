"""What happened before what: the state of an object at a call, over the ordered calls.

The interpreter numbers every call in evaluation order (`CallRecord.seq`; the calls of a
followed helper come between those around its call site) and remembers, for every loop,
which calls its body made (`Loop.span`) and, for every site, the branch conditions it runs
under. That is enough for a small dataflow analysis on the trace:

- an *effect* is a call that sets some state of an object (`model.eval()` sets its mode,
  `scheduler.step()` advances it);
- the state that *may* hold at a call is found by walking the calls before it, where an
  unconditional effect replaces the state and a conditional one (under an `if`, in a nested
  loop that may not run, in an `except`) adds a possibility;
- **loop back edges**: inside a loop, the state at the end of an iteration flows into the
  next one, so an effect that comes *after* a call in the loop body reaches that call from
  the second iteration on (`model.eval()` at the end of an epoch reaches the next epoch's
  training pass). This is computed as a fixpoint over the loops around the call;
- **escapes and gaps**: when the object is handed to code the analysis does not see (a
  library function, an unknown callee, a helper beyond the depth budget), or when the
  analysis skipped something (a statement it could not evaluate, a budget hit), the state
  may be anything: the answer says UNKNOWN is possible, and a rule about something
  *missing* stays silent.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable

from . import apis
from .models import root
from .values import CallRecord, Class, Const, Func, Gap, Loop, Obj, Ref, Value

if TYPE_CHECKING:
    from . import Facts


class Mode(str, Enum):
    """The training mode of a network (dropout, BatchNorm statistics)."""

    TRAIN = "train"
    EVAL = "eval"
    UNKNOWN = "unknown"  # set by a call we cannot see, or to a value we cannot evaluate


@dataclass(frozen=True)
class StateAt:
    """The states that may hold at a call.

    `first`: on the very first pass (every loop around the call in its first iteration).
    `by_loop`: for each loop around the call (outermost first), the states on that loop's
    second and later iterations, whatever the inner loops do — so "from the second epoch on"
    is `later(epoch_loop)`. `may`: every state on any pass."""

    first: frozenset
    by_loop: tuple[tuple[Loop, frozenset], ...] = ()

    @property
    def may(self) -> frozenset:
        out = set(self.first)
        for _loop, states in self.by_loop:
            out |= states
        return frozenset(out)

    def later(self, loop: Loop) -> frozenset:
        for lp, states in self.by_loop:
            if lp is loop:
                return states
        return frozenset()

    def surely(self, value: object, loop: Loop | None = None) -> bool:
        """The state is `value` on every path (on `loop`'s later iterations only, if given)."""
        states = self.later(loop) if loop is not None else self.may
        return states == frozenset({value})


Effect = Callable[[CallRecord], object]  # the state a call sets on the object, or None


def mode_effect(target: Value) -> Effect:
    """`model.train()` / `model.eval()` / `model.train(False)` on `target` (through `.to(...)`)."""
    base = root(target, "model")

    def effect(rec: CallRecord) -> object:
        if rec.method not in ("train", "eval") or root(rec.receiver, "model") is not base:
            return None
        if rec.method == "eval":
            return Mode.EVAL
        flag = rec.args.get("#0", rec.args.get("mode", Const(True)))
        if isinstance(flag, Const):
            return Mode.TRAIN if flag.value else Mode.EVAL
        return Mode.UNKNOWN

    return effect


class Flow:
    """Trace queries of one notebook (built once per Facts)."""

    def __init__(self, facts: "Facts") -> None:
        self.facts = facts
        self.trace = [c for c in facts.calls if not c.site.uncalled]  # in seq order
        self.seqs = [c.seq for c in self.trace]
        self.gaps = [g for g in facts.interp.gaps]

    # --- escapes -----------------------------------------------------------------------
    def escapes(self, obj: Value) -> list[CallRecord]:
        """Calls that hand `obj` (or its pass-through views) to code the analysis does not see."""
        base = root(obj, "model")
        if not isinstance(base, Obj):
            return []
        views = {id(o) for o in _views(base)}
        out = []
        for rec in self.trace:
            if not _opaque(rec):
                continue
            if any(isinstance(v, Obj) and id(v) in views for v in _arg_objects(rec)):
                out.append(rec)
            elif rec.method is not None and isinstance(rec.receiver, Obj) and id(rec.receiver) in views \
                    and rec.method not in apis.INERT_METHODS and rec.method not in ("train", "eval") \
                    and not rec.followed and _custom_method(rec):
                out.append(rec)  # a method of the student's own class we could not follow
        return out

    # --- state at a call ---------------------------------------------------------------
    def state_at(self, at: CallRecord, effect: Effect, initial: object, escapes: list[CallRecord] = ()) -> StateAt:
        """The states of an object that may hold when `at` runs (see the module docstring)."""
        hidden = {id(r) for r in escapes}
        loops = [lp for lp in at.site.loops if lp.span[1] > lp.span[0]]
        n = len(loops)

        def scan(lo: int, hi: int, state: frozenset, depth: int) -> frozenset:
            """The state after the calls with lo < seq < hi, inside the first `depth` loops."""
            base = loops[:depth]
            base_conds = len(loops[depth - 1].conds) if depth else 0
            cur = set(state)
            i = bisect.bisect_right(self.seqs, lo)
            while i < len(self.trace) and self.trace[i].seq < hi:
                rec = self.trace[i]
                i += 1
                value = effect(rec)
                if value is None:
                    if id(rec) in hidden:
                        cur.add(Mode.UNKNOWN)
                    continue
                conditional = len(rec.site.conds) > base_conds or any(
                    lp not in base and not lp.runs_at_least_once for lp in rec.site.loops)
                if conditional:
                    cur.add(value)
                else:
                    cur = {value}
            if any(lo < g.seq < hi for g in self.gaps):
                cur.add(Mode.UNKNOWN)
            return frozenset(cur)

        def body(d: int) -> tuple[int, int]:
            return loops[d].span[0], loops[d].span[1] + 1

        def until_next(d: int) -> int:
            """Where the part of loop d's body before `at` (or before the next inner loop) ends."""
            return loops[d + 1].span[0] + 1 if d + 1 < n else at.seq

        def all_heads(d: int, entry: frozenset) -> frozenset:
            """Every state loop d's iterations can start in: the entry, and each iteration's end."""
            head = entry
            for _ in range(8):
                new = head | scan(*body(d), head, d + 1)
                if new == head:
                    break
                head = new
            return head

        def at_call(d: int, head: frozenset) -> frozenset:
            """The state at `at`, given the states an iteration of loop d starts in (inner loops merged)."""
            state = scan(loops[d].span[0], until_next(d), head, d + 1)
            if d + 1 == n:
                return state
            return at_call(d + 1, all_heads(d + 1, state))

        if n == 0:
            return StateAt(scan(0, at.seq, frozenset({initial}), 0))
        entry = scan(0, loops[0].span[0] + 1, frozenset({initial}), 0)
        # the very first pass: entry states only, no back edge taken
        first = entry
        for d in range(n):
            first = scan(loops[d].span[0], until_next(d), first, d + 1)
        by_loop = []
        entry_d = entry  # the states loop d can be entered in (outer loops: every iteration)
        for d in range(n):
            heads = all_heads(d, entry_d)
            later_heads = scan(*body(d), heads, d + 1)  # iteration >= 2 starts where one ended
            by_loop.append((loops[d], at_call(d, later_heads)))
            if d + 1 < n:
                entry_d = scan(loops[d].span[0], until_next(d), heads, d + 1)
        return StateAt(first, tuple(by_loop))

    def mode_at(self, model: Value, at: CallRecord) -> StateAt:
        """The training mode of `model` when `at` runs. PyTorch modules start in training mode."""
        return self.state_at(at, mode_effect(model), Mode.TRAIN, self.escapes(model))

    def gaps_between(self, lo: int, hi: int) -> list[Gap]:
        return [g for g in self.gaps if lo < g.seq < hi]


def _views(base: Obj) -> list[Obj]:
    """`base` and its pass-through results (`model.to(device)`, `model.cuda()`)."""
    out = [base]
    methods = apis.PASSTHROUGH["model"]
    frontier = [base]
    for _ in range(apis.MAX_CHAIN):
        if not frontier:
            break
        nxt = []
        for o in frontier:
            for use in o.uses:
                if use.param == "self" and use.call.method in methods and isinstance(use.call.result, Obj):
                    nxt.append(use.call.result)
        out.extend(nxt)
        frontier = nxt
    return out


def _arg_objects(rec: CallRecord) -> list[Value]:
    out: list[Value] = []
    for v in rec.args.values():
        out.append(v)
        if isinstance(v, Obj) and v.kind.value == "attr":  # `model.parameters` handed over
            out.append(v.origin)  # type: ignore[arg-type]
    return out


def _opaque(rec: CallRecord) -> bool:
    """A call into code the analysis does not see, and that could do anything to its arguments."""
    if rec.followed:
        return False
    callee = rec.callee
    if isinstance(callee, Ref):
        return not callee.qname.startswith(apis.INERT_CALL_PREFIXES)
    if isinstance(callee, (Func, Class)):
        return True  # a notebook function or class the analysis did not follow (a gap)
    if rec.method is not None:
        return True  # a method of something: `trainer.fit(model)`
    return not isinstance(callee, Obj)  # an unknown callable (calling a known object is modelled)


def _custom_method(rec: CallRecord) -> bool:
    recv = rec.receiver
    return isinstance(recv, Obj) and isinstance(recv.callee, Class)

"""tta-no-augmentation: several predict passes over data that is not augmented: all identical."""
from __future__ import annotations

import ast
from typing import Iterator

from ..facts import Facts, apis, name_of
from ..facts.interpreter import RANGE_LIKE, unwrap_iterable
from ..facts.values import CallRecord, Loop, Obj
from . import Hit, rule


def tta_loop(facts: Facts, rec: CallRecord) -> Loop | None:
    """The loop that repeats this predict call over the same data (test-time augmentation), if any."""
    node = rec.site.node
    if not isinstance(node, ast.Call):
        return None
    data_node = node.args[0] if node.args else next(
        (k.value for k in node.keywords if k.arg in ("x", "generator")), None)
    if data_node is None:
        return None
    data_names = {n.id for n in ast.walk(data_node) if isinstance(n, ast.Name)}
    recv = node.func.value if isinstance(node.func, ast.Attribute) else None
    recv_names = {n.id for n in ast.walk(recv) if isinstance(n, ast.Name)} if recv is not None else set()
    for loop in reversed(rec.site.loops):
        if loop.count is not None and loop.count < 2:
            continue
        varying = loop.targets | loop.assigned
        if data_names & varying or recv_names & loop.targets:
            continue  # each pass predicts something else (batches, flips, models of an ensemble)
        over = unwrap_iterable(loop.over)
        if loop.kind != "while" and not (
            loop.count is not None or (isinstance(over, Obj) and over.api in RANGE_LIKE)
        ):
            continue  # iterating over data, not repeating
        if any(loop in c.site.loops for c in facts.method_calls(*apis.FIT_METHODS)):
            continue  # a training loop that predicts each epoch
        return loop
    return None


@rule("tta-no-augmentation")
def check(facts: Facts) -> Iterator[Hit]:
    seen: set[tuple[int, int, int]] = set()
    for rec in facts.method_calls(*apis.PREDICT_METHODS):
        loop = tta_loop(facts, rec)
        if loop is None:
            continue
        data = rec.args.get("x")
        if not isinstance(data, Obj):
            continue
        ans = facts.augments(data)
        if ans.value is not False or rec.site.key in seen:
            continue
        seen.add(rec.site.key)
        source = data.origin if data.kind == "method" and data.api in apis.FLOW_METHODS else None
        related = [data.site] if data.site.cell != rec.site.cell else []
        yield Hit(
            rec.site,
            {
                "data": name_of(facts, data) or "…",
                "source": name_of(facts, source) or "…",
                "passes": str(loop.count) if loop.count else "N",
            },
            related=related,
        )

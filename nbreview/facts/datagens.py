"""Keras `ImageDataGenerator` calls as the student wrote them, for corrections that make a
second generator from a first one: which arguments normalise (kept for validation and test
data), which augment, which need statistics from `datagen.fit(x)` (a copy would lack them).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apis
from .models import is_model, root
from .values import Const, Obj, ObjKind

if TYPE_CHECKING:
    from . import Facts
    from .naming import Sources

# what a non-augmenting copy keeps: the normalisation and the split
NORMALISING = ("samplewise_center", "samplewise_std_normalization", "rescale", "preprocessing_function",
               "data_format", "validation_split", "dtype")
# normalisation by statistics that `datagen.fit(x)` computes: a fresh copy would not have them
STATISTICS = ("featurewise_center", "featurewise_std_normalization", "zca_whitening")
# used only by the random transforms
TRANSFORM_ONLY = ("fill_mode", "cval", "interpolation_order", "zca_epsilon")
KNOWN = frozenset(NORMALISING + STATISTICS + TRANSFORM_ONLY + apis.IDG_AUGMENTING)


@dataclass(frozen=True)
class GeneratorCall:
    """An `ImageDataGenerator(...)` call with keyword arguments only, in the student's text."""

    obj: Obj
    node: ast.Call
    callee: str  # `ImageDataGenerator`, `tf.keras.preprocessing.image.ImageDataGenerator`, ...
    args: tuple[tuple[str, str], ...]  # (keyword, value as written), in the order written

    def text(self, keep: tuple[str, ...] | None = None, drop: tuple[str, ...] = ()) -> str:
        """`callee(k=v, ...)` with the arguments in `keep` (all when None) minus those in `drop`."""
        args = [f"{k}={v}" for k, v in self.args if (keep is None or k in keep) and k not in drop]
        return f"{self.callee}({', '.join(args)})"

    def normalising(self, drop: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
        return tuple((k, " ".join(v.split())) for k, v in self.args if k in NORMALISING and k not in drop)


def generator_call(obj: object, sources: "Sources") -> GeneratorCall | None:
    """The generator's call when every argument is a keyword nbreview knows, written in the
    call itself (no `**kwargs`, no positional arguments); None otherwise."""
    if not isinstance(obj, Obj) or obj.kind is not ObjKind.CALL or obj.api != apis.IMAGE_DATA_GENERATOR:
        return None
    node = obj.site.node
    if not isinstance(node, ast.Call) or node.args or not obj.complete or obj.star_dicts:
        return None
    callee = sources.segment(obj.site.cell, node.func)
    if not callee:
        return None
    args = []
    for kw in node.keywords:
        if kw.arg is None or kw.arg not in KNOWN:
            return None
        text = sources.segment(obj.site.cell, kw.value)
        if text is None:
            return None
        args.append((kw.arg, text))
    return GeneratorCall(obj, node, callee, tuple(args))


def needs_statistics(obj: Obj) -> bool | None:
    """Does the generator normalise with statistics fitted on data (`featurewise_*`, ZCA)?"""
    unsure = False
    for name in STATISTICS:
        v = obj.args.get(name)
        if v is None:
            continue
        if not isinstance(v, Const):
            unsure = True
        elif v.value:
            return True
    return None if unsure else False


# what reading these from a flow does not touch the images
FLOW_METADATA = frozenset({"class_indices", "classes", "samples", "n", "filenames", "filepaths", "labels",
                           "batch_size", "num_classes", "image_shape", "index_array", "reset", "on_epoch_end",
                           "class_mode", "directory", "shuffle", "seed", "target_size"})
FLOW_INERT_METHODS = ("reset", "on_epoch_end")
MODEL_DATA_METHODS = apis.FIT_METHODS + apis.PREDICT_METHODS + apis.EVALUATE_METHODS


@dataclass(frozen=True)
class Feeds:
    """Where the images of a generator go."""

    models: tuple[Obj, ...]  # the models fitted, evaluated or predicted with its flows
    elsewhere: bool  # also somewhere else: next(), a loop, indexing, another function, an alias, ...
    flows: tuple[Obj, ...] = ()


def generator_feeds(facts: "Facts", gen: Obj) -> Feeds:
    """The models a generator's flows feed, and whether its images go anywhere else. Read from
    the calls the flows reach and, for each name they are bound to, every place that name is
    read (a name bound more than once, or read in any other way, counts as "elsewhere")."""
    flows = tuple(o for o in facts.objects if o.kind is ObjKind.METHOD and o.api in apis.FLOW_METHODS
                  and o.origin is gen)
    models: dict[int, Obj] = {}
    elsewhere = False
    for u in gen.uses:
        if not (u.param == "self" and u.call.method in apis.FLOW_METHODS):
            elsewhere = True  # `datagen.fit(x)`, the generator handed to a function, ...
    gen_calls = {id(u.call.site.node) for u in gen.uses if u.param == "self" and u.call.method in apis.FLOW_METHODS}
    elsewhere |= not _only_read_as(facts, gen, set(apis.FLOW_METHODS), gen_calls)
    for flow in flows:
        ok_calls: set[int] = set()
        for u in flow.uses:
            rec = u.call
            if rec.method in MODEL_DATA_METHODS and u.param in ("x", "validation_data") and is_model(rec.receiver):
                model = root(rec.receiver, "model")
                assert isinstance(model, Obj)
                models.setdefault(model.id, model)
                ok_calls.add(id(rec.site.node))
            elif (u.param == "self" and rec.method in FLOW_INERT_METHODS) or rec.name == "builtins.len":
                ok_calls.add(id(rec.site.node))
            else:
                elsewhere = True
        elsewhere |= not _only_read_as(facts, flow, FLOW_METADATA, ok_calls)
    return Feeds(tuple(models.values()), elsewhere, flows)


def _only_read_as(facts: "Facts", obj: Obj, attrs: set[str] | frozenset[str], calls: set[int]) -> bool:
    """Every read of the name `obj` is bound to is `name.<attr>` for an attr in `attrs`, or an
    argument of one of the `calls` (ast nodes by id); the name is bound exactly once."""
    name = facts.name_of(obj)
    if name is None:
        return True  # never named: it goes only where its recorded uses say
    if "." in name or "[" in name:
        return False  # an attribute or item of something else: other code may reach it
    binds, reads = facts.syntax.references(name)
    if binds != 1:
        return False
    for cell, node in reads:
        parent = facts.syntax.parent(cell, node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            if parent.attr in attrs:
                continue
            return False
        if isinstance(parent, ast.keyword):
            parent = facts.syntax.parent(cell, parent)
        if isinstance(parent, ast.Call) and id(parent) in calls and parent.func is not node:
            continue
        return False
    return True

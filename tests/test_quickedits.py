"""The text editor of the usual corrections (nbreview/quickedits.py) writes exactly what the
libcst editor writes, and hands over to it whenever it cannot be sure."""
from __future__ import annotations

import ast

import pytest

from nbreview.edits import FixError, NotebookEditor
from nbreview.facts.values import Site
from nbreview.ipython import mask
from nbreview.quickedits import QuickEditor, _Text, _Unhandled

CALLS = [
    "ModelCheckpoint('best.h5')",
    "ModelCheckpoint('best.h5', monitor='val_loss')",
    "ModelCheckpoint('best.h5', monitor='val_loss', save_best_only=False)",
    "ModelCheckpoint('best.h5', 'val_loss', 1, False)",
    "ModelCheckpoint()",
    "ModelCheckpoint( 'a' )",
    "ModelCheckpoint('a',)",
    "ModelCheckpoint('a', m=1,)",
    "ModelCheckpoint('a', **kw)",
    "ModelCheckpoint(*args)",
    "ModelCheckpoint('a', save_best_only=(False))",
    "ModelCheckpoint(\n    'best.h5',\n    monitor='val_loss',\n)",
    "ModelCheckpoint(\n    'best.h5',  # where\n    monitor='val_loss',\n)",
    "ModelCheckpoint('best.h5',\n                monitor='val_loss')",
    "ModelCheckpoint('best.h5',\n                monitor='val_loss'\n)",
    "ModelCheckpoint(('best.h5'), monitor='x')",
    "ModelCheckpoint('ключ.h5', monitor='x')",
    "model.fit_generator(gen, 100, 10, verbose=1)",
    "model.fit_generator(generator=gen, steps_per_epoch=10, workers=4, use_multiprocessing=True)",
    "model.fit_generator(gen, workers=4)",
    "model.fit_generator(\n    gen,\n    steps_per_epoch=10,\n    workers=4,\n)",
    "model.fit_generator(gen, epochs=3, workers=4, max_queue_size=2)",
    "model.fit_generator(workers=4)",
    "model.fit_generator(workers=4,)",
    "model.fit_generator(gen, *extra, workers=2)",
    "fit_generator(gen)",
    "Adam(lr=1e-3)",
    "Adam(lr=1e-3, decay=0.1)",
    "Adam(\n    lr=1e-3,  # speed\n)",
    "ImageDataGenerator(rescale=1./255,\n                   rotation_range=20,\n                   workers=2)",
    "ImageDataGenerator(\n    rescale=1./255,\n    workers=2,\n    zoom_range=0.1,\n)",
    "ImageDataGenerator(\n    rescale=1./255,\n\n    workers=2,\n\n    zoom_range=0.1\n)",
    "ImageDataGenerator(\n    zoom_range=0.1,\n    workers=2\n)",
    "ImageDataGenerator(\n    zoom_range=0.1,\n    workers=2,\n    )",
    "ImageDataGenerator(zoom_range=0.1, workers=2,\n                   rescale=1)",
    "ImageDataGenerator(zoom_range=0.1,\n                   workers=2, rescale=1)",
    "ImageDataGenerator(workers=2,\n                   rescale=1)",
    "ImageDataGenerator(  workers=2 ,  rescale=1)",
    "ImageDataGenerator(workers=2)",
    "ImageDataGenerator(\n    workers=2\n)",
]
OPS = [
    ("set_keyword", ("save_best_only", "True"), {"position": 3}),
    ("set_keyword", ("save_best_only", "True"), {}),
    ("rename_keyword", ("lr", "learning_rate"), {}),
    ("rename_keyword", ("generator", "x"), {}),
    ("keywordize", (["generator", "steps_per_epoch", "epochs"],), {"keep": 1}),
    ("remove_keyword", ("workers",), {}),
    ("remove_keyword", ("use_multiprocessing",), {}),
    ("remove_keyword", ("rescale",), {}),
    ("remove_keyword", ("zoom_range",), {}),
    ("rename_method", ("fit",), {}),
]


def _site(code: str) -> tuple[dict[int, str], Site]:
    source = "x = 1\n" + code + "\ny = 2"
    tree = ast.parse(mask(source).source)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    return {3: source}, Site(3, call)


def _result(editor, ops, site):
    try:
        for name, args, kwargs in ops:
            getattr(editor, name)(site, *args, **kwargs)
        return ("ok", editor.edits())
    except FixError:
        return ("fix-error", None)


@pytest.mark.parametrize("code", CALLS)
def test_same_edits_as_libcst(code):
    for ops in [[op] for op in OPS] + [OPS[4:8], OPS[2:4]]:
        sources, site = _site(code)
        expected = _result(NotebookEditor(sources), ops, site)
        quick = QuickEditor(sources)
        got = _result(quick, ops, site)
        assert got == expected, (code, ops)


def test_the_usual_shapes_never_load_libcst():
    handled = 0
    for code in CALLS:
        for op in OPS:
            sources, site = _site(code)
            cell = _Text(sources[3])
            try:
                getattr(cell, op[0])(site, *op[1], **op[2])
                cell.result()
                handled += 1
            except (_Unhandled, FixError):
                pass
    assert handled >= len(CALLS) * len(OPS) * 0.7


def test_anything_else_goes_to_libcst():
    sources, site = _site("f(dict(a=1))")
    quick = QuickEditor(sources)
    quick.rename_method(site, "g")  # a text operation, recorded...
    quick.set_dict_key(Site(3, site.node.args[0]), "b", "2")  # ...then one that is not: libcst takes over
    assert quick._real is not None
    with pytest.raises(FixError):  # `f` is not a method: the replayed record fails as libcst would
        quick.edits()


CELLS = [
    "x = 1\nval = datagen.flow(df)\nmodel.fit(train, validation_data=val)",
    "x = 1\n# the validation data\nval = datagen.flow(df)\nmodel.fit(train, validation_data=val)",
    "x = 1\n\nval = datagen.flow(df)  # note\nmodel.fit(train, validation_data=val)",
    "for i in range(3):\n    val = datagen.flow(df)\n    model.fit(train, validation_data=val)",
    "x = 1\nval = datagen.flow(\n    df,\n)\nmodel.fit(train, validation_data=val)",
    "x = 1; val = datagen.flow(df)\nmodel.fit(train, validation_data=val)",
    "x = 1\nval = datagen.flow(df)\nmodel.fit(train, validation_data=(val))",
    "x = 1\nval = datagen.flow(df)\nmodel.fit(train, validation_data=val)\n",
    "model.fit(train, validation_data=val)\nval = datagen.flow(df)",
    "if x:\n    model.fit(train, validation_data=val)\n    val = datagen.flow(df)",
]
LOOPS = [
    "x = 1\nfor i in range(3):\n    preds = model.predict(gen)\n",
    "x = 1\n# five passes\nfor i in range(3):\n    preds = model.predict(gen)",
    "for i in range(3):\n    preds = model.predict(gen)",
    "if y:\n    for i in range(3): preds = model.predict(gen)",
    "def f():\n    for i in range(3):\n        preds = model.predict(gen)\n    return preds",
]


@pytest.mark.parametrize("code", LOOPS)
def test_insert_before_a_block_like_libcst(code):
    tree = ast.parse(code)
    loop = next(n for n in ast.walk(tree) if isinstance(n, ast.For))
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "predict")
    site = Site(3, call)
    for new in INSERTS:
        results = []
        for editor in (NotebookEditor({3: code}), QuickEditor({3: code})):
            try:
                editor.insert_before(3, loop.lineno, new)
                editor.replace(site, "tta_gen", node=call.args[0])
                results.append(editor.edits())
            except FixError:
                results.append(None)
        assert results[0] == results[1], (code, new)
INSERTS = ["val_datagen = ImageDataGenerator(rescale=1. / 255)", "a = 1\nb = 2", "if x:\n    y = 1", "# c\nz = 1"]


@pytest.mark.parametrize("code", CELLS)
def test_inserts_and_replacements_like_libcst(code):
    source = code
    tree = ast.parse(mask(source).source)
    stmt = next(n for n in ast.walk(tree) if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "val")
    fit = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "fit")
    arg = fit.keywords[0].value
    site = Site(3, fit)
    for how in ("insert_before", "insert_after"):
        for new in INSERTS:
            ops = [(how, (3, stmt.lineno, new), {})]
            for editor_ops in (ops, ops + [("replace", ("val_gen",), {"node": arg})]):
                results = []
                for editor in (NotebookEditor({3: source}), QuickEditor({3: source})):
                    try:
                        for name, args, kwargs in editor_ops:
                            if name == "replace":
                                editor.replace(site, *args, **kwargs)
                            else:
                                getattr(editor, name)(*args, **kwargs)
                        results.append(("ok", editor.edits()))
                    except FixError:
                        results.append(("fix-error", None))
                assert results[0] == results[1], (code, editor_ops)

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
]
OPS = [
    ("set_keyword", ("save_best_only", "True"), {"position": 3}),
    ("set_keyword", ("save_best_only", "True"), {}),
    ("rename_keyword", ("lr", "learning_rate"), {}),
    ("rename_keyword", ("generator", "x"), {}),
    ("keywordize", (["generator", "steps_per_epoch", "epochs"],), {"keep": 1}),
    ("remove_keyword", ("workers",), {}),
    ("remove_keyword", ("use_multiprocessing",), {}),
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
    sources, site = _site("ModelCheckpoint('a')")
    quick = QuickEditor(sources)
    quick.set_keyword(site, "save_best_only", "True")
    quick.replace(site, "ModelCheckpoint('b')")  # not a text operation: the libcst editor takes over
    assert quick._real is not None
    assert [e.lines for e in quick.edits()] == [("ModelCheckpoint('b')",)]

"""Reading notebooks: every nbformat version, odd encodings, and files that are not notebooks."""
from __future__ import annotations

import json

import nbformat
import pytest

from nbreview.engine import review_path
from nbreview.ipython import mask
from nbreview.notebook import NotebookReadError, load

CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_loss')"


def _v4(minor: int, source, with_ids: bool = True) -> dict:
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": source}
    md = {"cell_type": "markdown", "metadata": {}, "source": "# title"}
    if minor >= 5 and with_ids:
        cell["id"], md["id"] = "c-1", "m-0"
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": {}, "cells": [md, cell]}


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4, 5])
def test_every_v4_minor_is_reviewed(tmp_path, minor):
    p = tmp_path / f"v4_{minor}.ipynb"
    p.write_text(json.dumps(_v4(minor, CKPT.splitlines(keepends=True)), indent=1))
    report = review_path(p)
    assert not report.errors
    [f] = report.findings
    assert (f.rule, f.location.cell, f.location.line) == ("checkpoint-save-best-only", 1, 2)
    assert f.location.cell_id == ("c-1" if minor >= 5 else None)
    # the physical line of the stored file holds the flagged source line
    assert "ModelCheckpoint('best.h5'" in p.read_text().splitlines()[f.location.file_line - 1]


def test_nbformat_3_is_upgraded(tmp_path):
    v3 = {
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
        "worksheets": [{"cells": [
            {"cell_type": "heading", "level": 1, "metadata": {}, "source": ["Old notebook"]},
            {"cell_type": "code", "collapsed": False, "input": CKPT.splitlines(keepends=True), "language": "python",
             "metadata": {}, "outputs": [], "prompt_number": 3},
        ], "metadata": {}}],
    }
    p = tmp_path / "v3.ipynb"
    p.write_text(json.dumps(v3, indent=1))
    report = review_path(p)
    [f] = report.findings
    assert (f.location.cell, f.location.line, f.location.execution_count) == (1, 2, 3)
    assert "ModelCheckpoint('best.h5'" in p.read_text().splitlines()[f.location.file_line - 1]


def test_source_as_one_string_crlf_and_bom(tmp_path):
    nb = _v4(4, CKPT.replace("\n", "\r\n"))
    p = tmp_path / "crlf.ipynb"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(nb).replace("\n", "\r\n").encode())
    report = review_path(p)
    [f] = report.findings
    assert (f.location.cell, f.location.line, f.location.file_line) == (1, 2, 1)


def test_source_split_across_list_items_irregularly(tmp_path):
    parts = ["from tensorflow.keras.callbacks import ModelCheckpoint\nck", "pt = ModelCheckpoint(", "'b.h5')"]
    p = tmp_path / "odd.ipynb"
    p.write_text(json.dumps(_v4(4, parts), indent=1))
    [f] = review_path(p).findings
    assert (f.location.line, f.location.file_line) == (2, p.read_text().splitlines().index('    "from tensorflow.keras.callbacks import ModelCheckpoint\\nck",') + 1)


@pytest.mark.parametrize(
    "content,reason",
    [
        (b'{"nbformat": 4, "cells": [', "invalid JSON"),
        (b"GIF89a\x00\x01\x81\x82", "binary"),
        ("Привет, это не ноутбук".encode("cp1251"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"[1, 2, 3]", "list"),
        (b"", "empty"),
        (b'{"hello": "world"}', "not a Jupyter notebook"),
        (b'{"nbformat": 9, "cells": []}', "unsupported notebook format version 9"),
        (b'{"nbformat": 4, "nbformat_minor": 4, "cells": "nope", "metadata": {}}', "'cells' is not a list"),
    ],
)
def test_not_a_notebook_is_a_clear_error(tmp_path, content, reason):
    p = tmp_path / "bad.ipynb"
    p.write_bytes(content)
    with pytest.raises(NotebookReadError) as exc:
        load(p)
    assert reason.lower() in str(exc.value).lower()
    report = review_path(p)
    assert report.unreadable and report.errors[0].cell is None


def test_cell_that_does_not_parse_is_noted_once_and_the_rest_is_analysed(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("print 'python 2'"),
        nbformat.v4.new_code_cell("def broken(:\n    pass"),
        nbformat.v4.new_code_cell(CKPT),
    ]
    p = tmp_path / "mixed.ipynb"
    nbformat.write(nb, str(p))
    report = review_path(p)
    assert [e.cell for e in report.errors] == [0, 1]
    assert "Python 2" in report.errors[0].message
    assert [f.location.cell for f in report.findings] == [2]


def test_magics_are_masked_without_moving_lines():
    src = "%matplotlib inline\n!pip install -q efficientnet\nfiles = !ls data\nmodel?\nfor i in range(2):\n    !echo hi\n%time y = f(1)\nz = 5 % 3"
    m = mask(src)
    lines = m.source.split("\n")
    assert len(lines) == len(src.split("\n"))
    compile(m.source, "<cell>", "exec")
    assert lines[6].index("y = f(1)") == src.split("\n")[6].index("y = f(1)")
    assert lines[7] == "z = 5 % 3"
    assert [c.text for c in m.shell] == ["pip install -q efficientnet", "ls data", "echo hi"]


def test_cell_magics(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%%bash\npip install efficientnet\necho $HOME"),
        nbformat.v4.new_code_cell("%%writefile app.py\nfrom tensorflow.keras.callbacks import ModelCheckpoint\nModelCheckpoint('x')"),
        nbformat.v4.new_code_cell("%%time\n" + CKPT),
        nbformat.v4.new_code_cell("%%capture\nget_ipython().system('ls')\ndisplay(1)\n%run other.py\nx = 1\nx"),
    ]
    p = tmp_path / "magics.ipynb"
    nbformat.write(nb, str(p))
    report = review_path(p)
    assert not report.errors
    # the %%bash cell's pip line is read (legacy package); the notebook was saved unexecuted
    assert [(f.rule, f.location.cell, f.location.line) for f in report.findings] == [
        ("legacy-efficientnet-package", 0, 2), ("no-outputs", 2, 2), ("checkpoint-save-best-only", 2, 3)]


def test_a_notebook_in_another_language_is_not_reviewed(tmp_path):
    nb = _v4(4, "library(keras)\nmodel %>% fit(x, y)")
    nb["metadata"] = {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"},
                      "language_info": {"name": "R"}}
    p = tmp_path / "r.ipynb"
    p.write_text(json.dumps(nb))
    report = review_path(p)
    assert report.unreadable and "not a Python notebook" in report.errors[0].message
    assert report.findings == []


def test_program_line_map_round_trips(tmp_path):
    from nbreview.notebook import load as load_nb
    from nbreview.program import build

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("%matplotlib inline\nimport os"),
                nbformat.v4.new_code_cell("print 'py2'"), nbformat.v4.new_code_cell("x = 1\n\ny = x + 1")]
    p = tmp_path / "m.ipynb"
    nbformat.write(nb, str(p))
    prog = build(load_nb(p))
    lines = prog.source.split("\n")
    mapping = prog.line_map()
    assert len(lines) == len(mapping) == 5  # the unparseable cell is not part of the program
    assert mapping[0] == (1, 1) and mapping[2] == (3, 1) and mapping[4] == (3, 3)
    assert lines[prog.program_line(3, 3) - 1] == "y = x + 1"
    for n, (cell, line) in enumerate(mapping, 1):
        assert prog.program_line(cell, line) == n

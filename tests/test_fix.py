"""`nbreview fix` and `nbreview check --fix`: what is written where, what is printed, exit
codes, batches, selections and suppressions, notebooks that cannot be fixed, and the safety
net that sets aside a fix whose result the re-check does not confirm."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from nbreview.checks import load_all
from nbreview.cli import app
from nbreview.engine import Options
from nbreview.fixer import MAX_ROUNDS, fix_notebook, line_map
from nbreview.model import CellEdit

from .conftest import FIXTURES, make_notebook

CKPT = ("from tensorflow.keras.callbacks import ModelCheckpoint\n"
        "ckpt = ModelCheckpoint('best.h5', monitor='val_loss')")
CKPT_FIXED = ("from tensorflow.keras.callbacks import ModelCheckpoint\n"
              "ckpt = ModelCheckpoint('best.h5', monitor='val_loss', save_best_only=True)")
LR = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)"
CLEAN = "import numpy as np\nx = np.zeros(3)"
TTA = ['''import numpy as np
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.models import load_model
train_gen = ImageDataGenerator(rescale=1/255, horizontal_flip=True).flow_from_directory('train')
test_gen = ImageDataGenerator(rescale=1/255).flow_from_directory('test', shuffle=False)
model = load_model('m.keras')
model.fit(train_gen, epochs=2)''', '''preds = [model.predict(test_gen) for _ in range(5)]''']


def invoke(*args: str, cwd: Path | None = None):
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        return CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def sources(path: Path) -> list[str]:
    nb = nbformat.read(str(path), as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


# --- where the result goes ---------------------------------------------------------------

def test_default_writes_name_fixed_ipynb_and_prints_a_diff(notebook):
    path = notebook([CKPT, LR])
    before = path.read_bytes()
    r = invoke("fix", str(path), "--no-color")
    assert r.exit_code == 0, r.output  # nothing is left to report
    assert path.read_bytes() == before
    out = path.with_name("student.fixed.ipynb")
    assert sources(out) == [CKPT_FIXED, "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)"]
    assert "-ckpt = ModelCheckpoint('best.h5', monitor='val_loss')" in r.stdout
    assert "+ckpt = ModelCheckpoint('best.h5', monitor='val_loss', save_best_only=True)" in r.stdout
    assert "cell 1, In [1]" in r.stdout and "cell 2, In [2]" in r.stdout
    assert "fixed 2 findings" in r.stderr and "student.fixed.ipynb" in r.stderr
    nbformat.validate(nbformat.read(str(out), as_version=nbformat.NO_CONVERT))


def test_in_place_is_atomic_keeps_a_backup_and_the_file_mode(notebook):
    path = notebook([CKPT])
    os.chmod(path, 0o640)
    before = path.read_bytes()
    r = invoke("fix", str(path), "--in-place")
    assert r.exit_code == 0, r.output
    assert sources(path) == [CKPT_FIXED]
    assert Path(str(path) + ".bak").read_bytes() == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert not path.with_name("student.fixed.ipynb").exists()


def test_in_place_without_backup(notebook):
    path = notebook([CKPT])
    r = invoke("fix", str(path), "--in-place", "--no-backup")
    assert r.exit_code == 0, r.output
    assert sources(path) == [CKPT_FIXED]
    assert not Path(str(path) + ".bak").exists()


def test_diff_writes_nothing(notebook):
    path = notebook([CKPT])
    before = sorted(path.parent.iterdir())
    r = invoke("fix", str(path), "--diff", "--no-color")
    assert "+ckpt = ModelCheckpoint('best.h5', monitor='val_loss', save_best_only=True)" in r.stdout
    assert "would fix 1 finding" in r.stderr
    assert sorted(path.parent.iterdir()) == before
    assert r.exit_code == 0  # what is left after the fix: nothing


def test_output_file(notebook, tmp_path):
    path = notebook([CKPT])
    r = invoke("fix", str(path), "-o", str(tmp_path / "out" / "corrected.ipynb"))
    assert r.exit_code == 0, r.output
    assert sources(tmp_path / "out" / "corrected.ipynb") == [CKPT_FIXED]


@pytest.mark.parametrize("args", [["--diff", "--in-place"], ["--in-place", "-o", "x.ipynb"], ["--fail-on", "bad"],
                                  ["--select", "no-such-rule"]])
def test_bad_usage(notebook, args):
    path = notebook([CKPT])
    r = invoke("fix", str(path), *args)
    assert r.exit_code == 2


def test_output_takes_one_notebook(tmp_path):
    make_notebook([CKPT], tmp_path / "a.ipynb")
    r = invoke("fix", str(tmp_path), "-o", str(tmp_path / "x.ipynb"))
    assert r.exit_code == 2


def test_nothing_to_fix_writes_nothing(notebook):
    path = notebook([CLEAN])
    r = invoke("fix", str(path))
    assert r.exit_code == 0
    assert "nothing to fix" in r.stderr
    assert not path.with_name("student.fixed.ipynb").exists()


def test_unsafe_fixes(notebook):
    path = notebook(TTA)
    r = invoke("fix", str(path), "--no-color")
    assert "nothing to fix" in r.stderr and "1 more fixable with --unsafe-fixes" in r.stderr
    assert r.exit_code == 1  # the TTA remark stays
    r = invoke("fix", str(path), "--unsafe-fixes", "--no-color")
    assert r.exit_code == 0, r.output
    fixed = sources(path.with_name("student.fixed.ipynb"))
    assert fixed[1].splitlines() == [
        "tta_datagen = ImageDataGenerator(rescale=1/255, horizontal_flip=True)",
        "tta_generator = tta_datagen.flow_from_directory('test', shuffle=False)",
        "preds = [model.predict(tta_generator) for _ in range(5)]"]


# --- batches -------------------------------------------------------------------------------

def test_folder_batch_goes_on_past_bad_notebooks(tmp_path):
    make_notebook([CKPT], tmp_path / "a.ipynb")
    make_notebook(["print 'python 2'", CKPT], tmp_path / "b.ipynb")
    (tmp_path / "c.ipynb").write_text("{not json", encoding="utf-8")
    make_notebook([CKPT], tmp_path / "sub" / "d.ipynb")
    r = invoke("fix", str(tmp_path), "--no-color")
    assert (tmp_path / "a.fixed.ipynb").exists() and (tmp_path / "sub" / "d.fixed.ipynb").exists()
    assert not (tmp_path / "b.fixed.ipynb").exists() and not (tmp_path / "c.fixed.ipynb").exists()
    assert "b.ipynb: left untouched: cell 1 (In [1]) does not parse as Python 3" in r.stderr
    assert "c.ipynb: left untouched: invalid JSON" in r.stderr
    assert "fixed 2 findings in 2 notebooks (of 4); 2 left untouched" in r.stderr
    assert r.exit_code == 1  # b.ipynb keeps its checkpoint remark
    # our own output is not an input the next time
    r = invoke("fix", str(tmp_path), "--no-color")
    assert not (tmp_path / "a.fixed.fixed.ipynb").exists()
    assert "a.fixed.ipynb:" not in r.stderr


def test_exit_codes_follow_check(tmp_path):
    make_notebook([CLEAN], tmp_path / "clean.ipynb")
    assert invoke("fix", str(tmp_path / "clean.ipynb")).exit_code == 0
    (tmp_path / "bad.ipynb").write_text("{", encoding="utf-8")
    assert invoke("fix", str(tmp_path / "bad.ipynb")).exit_code == 2
    assert invoke("fix", str(tmp_path / "missing.ipynb")).exit_code == 2
    make_notebook([TTA[0], TTA[1]], tmp_path / "tta.ipynb")
    assert invoke("fix", str(tmp_path / "tta.ipynb")).exit_code == 1
    assert invoke("fix", str(tmp_path / "tta.ipynb"), "--fail-on", "never").exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("fix", str(empty)).exit_code == 2


# --- what is fixed ---------------------------------------------------------------------------

def test_select_ignore_and_config(tmp_path):
    path = make_notebook([CKPT, LR], tmp_path / "s.ipynb")
    invoke("fix", str(path), "--select", "deprecated-generator-api")
    assert sources(tmp_path / "s.fixed.ipynb")[0] == CKPT
    invoke("fix", str(path), "--ignore", "deprecated-generator-api")
    assert sources(tmp_path / "s.fixed.ipynb") == [CKPT_FIXED, LR]
    (tmp_path / "nbreview.toml").write_text('ignore = ["checkpoint-save-best-only"]\n', encoding="utf-8")
    invoke("fix", str(path))
    assert sources(tmp_path / "s.fixed.ipynb")[0] == CKPT
    invoke("fix", str(path), "--isolated")
    assert sources(tmp_path / "s.fixed.ipynb")[0] == CKPT_FIXED


def test_suppressed_findings_are_not_fixed(notebook):
    path = notebook([CKPT + "  # nbreview: ignore[checkpoint-save-best-only]", LR])
    r = invoke("fix", str(path))
    assert r.exit_code == 0, r.output
    fixed = sources(path.with_name("student.fixed.ipynb"))
    assert fixed[0] == CKPT + "  # nbreview: ignore[checkpoint-save-best-only]"
    assert "learning_rate=1e-3" in fixed[1]


def test_a_cell_that_does_not_parse_leaves_the_notebook_untouched(notebook):
    path = notebook([CKPT, "for x in range(3)\n    print(x)"])
    r = fix_notebook(path, Options(use_config=False))
    assert not r.changed and r.fixed is None
    assert "cell 2 (In [2]) does not parse as Python 3 (line 1" in r.error


def test_ipython_magics_and_shell_lines_stay(notebook):
    cell = "%matplotlib inline\n!pip install -q efficientnet\n" + CKPT
    path = notebook([cell])
    r = fix_notebook(path, Options(use_config=False))
    assert r.changed
    assert sources(_write(path, r))[0] == "%matplotlib inline\n!pip install -q efficientnet\n" + CKPT_FIXED


def _write(path: Path, r) -> Path:
    out = path.with_name("out.ipynb")
    out.write_bytes(r.fixed)
    return out


# --- the safety net --------------------------------------------------------------------------

def test_a_fix_that_leaves_its_finding_is_set_aside(notebook, monkeypatch):
    rule = load_all()["checkpoint-save-best-only"]
    monkeypatch.setattr(type(rule), "fix", lambda self, edit, hit: edit.set_keyword(
        hit.subject.site, "verbose", "1"))
    path = notebook([CKPT])
    r = fix_notebook(path, Options(use_config=False))
    assert not r.changed
    assert r.notes and "the fix of checkpoint-save-best-only was not applied: the finding would still be there" \
        in r.notes[0]


def test_a_fix_that_adds_a_finding_is_set_aside_and_the_others_go_in(notebook, monkeypatch):
    rule = load_all()["deprecated-generator-api"]
    def fix(self, edit, hit):  # corrects `lr=` but also writes a checkpoint without save_best_only
        edit.rename_keyword(hit.subject.site, "lr", "learning_rate")
        edit.insert_after(hit.site.cell, 2, "from tensorflow.keras.callbacks import ModelCheckpoint\n"
                                            "bad = ModelCheckpoint('x.h5')")

    monkeypatch.setattr(type(rule), "fix", fix)
    path = notebook([CKPT, LR])
    selected = fix_notebook(path, Options(use_config=False, select={"deprecated-generator-api"}))
    assert not selected.changed and selected.notes  # the checkpoint rule is not selected: still checked
    r = fix_notebook(path, Options(use_config=False))
    assert [a.rule for a in r.applied] == ["checkpoint-save-best-only"]
    assert any("deprecated-generator-api was not applied: the corrected code would get a new finding" in n
               for n in r.notes)
    assert sources(_write(path, r)) == [CKPT_FIXED, LR]


def test_line_map_moves_lines_through_hunks():
    m = line_map([CellEdit(0, 3, 2, ("a", "b")), CellEdit(0, 5, 6, ("c",)), CellEdit(0, 9, 9, ())])
    assert m(1) == (1, 1) and m(2) == (2, 2)
    assert m(3) == (5, 5) and m(4) == (6, 6)  # two lines inserted before line 3
    assert m(5) == (7, 7) and m(6) == (7, 7)  # lines 5-6 became one line
    assert m(7) == (8, 8) and m(8) == (9, 9)
    assert m(9) == (10, 10) and m(10) == (10, 10)  # line 9 was removed: its place is line 10
    assert MAX_ROUNDS >= 5


# --- lossless writing ------------------------------------------------------------------------

def test_everything_but_the_corrected_lines_is_byte_identical(tmp_path):
    """A notebook as Jupyter writes it, with outputs (an image), attachments, metadata, cell
    ids, markdown, non-ASCII text and a CRLF cell; only the flagged line changes."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                        "language_info": {"name": "python"}, "custom": {"ключ": "значение"}})
    md = nbformat.v4.new_markdown_cell("# Обучение\n![img](attachment:a.png)")
    md.attachments = {"a.png": {"image/png": "iVBORw0KGgo="}}
    code = nbformat.v4.new_code_cell("# комментарий\n" + CKPT + "\nprint('готово')\n")
    code.execution_count = 3
    code.outputs = [nbformat.v4.new_output("stream", text="готово\n"),
                    nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    code.metadata = {"scrolled": True, "tags": ["train"]}
    other = nbformat.v4.new_code_cell(LR)
    nb.cells = [md, code, other]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    original = path.read_text(encoding="utf-8")
    r = fix_notebook(path, Options(use_config=False, select={"checkpoint-save-best-only"}))
    new = r.fixed.decode("utf-8")
    changed = [(a, b) for a, b in zip(original.splitlines(), new.splitlines()) if a != b]
    assert len(original.splitlines()) == len(new.splitlines())
    assert changed == [('    "ckpt = ModelCheckpoint(\'best.h5\', monitor=\'val_loss\')\\n",',
                        '    "ckpt = ModelCheckpoint(\'best.h5\', monitor=\'val_loss\', save_best_only=True)\\n",')]
    assert new == nbformat.writes(nbformat.reads(new, as_version=4)) + "\n"  # still exactly what Jupyter writes


def test_layout_of_hand_made_files_is_kept(tmp_path):
    """Two-space indentation, unsorted keys, a source as one string with CRLF, escaped
    non-ASCII, a BOM, nbformat 4.2 without cell ids: all stay as they are."""
    doc = {"nbformat": 4, "nbformat_minor": 2, "metadata": {"language_info": {"name": "python"}},
           "cells": [{"cell_type": "code", "source": ["# \u0448\u0430\u0433 1\r\n", "path = 'data/train'\r\n"]
                      + [line + "\r\n" for line in CKPT.split("\n")[:-1]] + [CKPT.split("\n")[-1]],
                      "metadata": {}, "outputs": [], "execution_count": None}]}
    text = "\ufeff" + json.dumps(doc, indent=2, ensure_ascii=True).replace("data/train", "data\\/train")
    path = tmp_path / "hand.ipynb"
    path.write_bytes(text.encode("utf-8"))
    r = fix_notebook(path, Options(use_config=False))
    new = r.fixed.decode("utf-8")
    assert new.startswith("\ufeff")
    expected = text.replace("monitor='val_loss')", "monitor='val_loss', save_best_only=True)")
    assert new == expected


def test_nbformat3_notebooks_stay_nbformat3(tmp_path):
    doc = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"},
           "worksheets": [{"cells": [
               {"cell_type": "heading", "level": 1, "source": ["Title"], "metadata": {}},
               {"cell_type": "code", "collapsed": False, "input": [line + "\n" for line in CKPT.split("\n")[:-1]]
                + [CKPT.split("\n")[-1]], "language": "python", "metadata": {}, "outputs": [],
                "prompt_number": 1}], "metadata": {}}]}
    path = tmp_path / "v3.ipynb"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    r = fix_notebook(path, Options(use_config=False))
    new = json.loads(r.fixed)
    assert new["nbformat"] == 3
    cell = new["worksheets"][0]["cells"][1]
    assert "".join(cell["input"]) == CKPT_FIXED and cell["prompt_number"] == 1


# --- check --fix -------------------------------------------------------------------------------

def test_check_fix_corrects_in_place_then_reviews_what_is_left(notebook):
    path = notebook([CKPT, TTA[0], TTA[1]])
    r = invoke("check", str(path), "--fix", "--format", "json")
    doc = json.loads(r.stdout)
    rules = [f["rule"] for f in doc["notebooks"][0]["findings"]]
    assert rules == ["callback-not-used", "tta-no-augmentation"]  # `ckpt` reaches no fit: no fix for that
    assert sources(path)[0] == CKPT_FIXED
    assert not Path(str(path) + ".bak").exists()
    assert "fixed 1 finding" in r.stderr
    assert r.exit_code == 1


def test_example_fixture_end_to_end(tmp_path):
    path = tmp_path / "example.ipynb"
    path.write_bytes((FIXTURES / "example_student.ipynb").read_bytes())
    r = invoke("fix", str(path), "--no-color")
    assert r.exit_code == 1  # the TTA remark needs --unsafe-fixes
    assert "fixed 6 findings" in r.stderr, r.stderr
    again = invoke("fix", str(tmp_path / "example.fixed.ipynb"))
    assert "nothing to fix" in again.stderr
    assert not (tmp_path / "example.fixed.fixed.ipynb").exists()


# --- the Action's fix mode ---------------------------------------------------------------------

def test_action_fix_mode(tmp_path):
    from .test_action import Runner, no_pwned

    workspace = tmp_path / "ws"
    workspace.mkdir()
    path = make_notebook([CKPT], workspace / "a;b$(touch pwned).ipynb")
    runner = Runner(tmp_path, workspace, {"paths": path.name, "fix": "true", "lang": "en"})
    rc = runner.run()
    no_pwned(tmp_path)
    assert rc == 0, [(n, p.stdout, p.stderr) for n, p in runner.results]
    assert runner.outputs["fix"]["fixed"] == "1"
    assert sources(path) == [CKPT_FIXED]
    summary = runner.summary.read_text()
    assert "## nbreview fix" in summary and "+ckpt = ModelCheckpoint('best.h5', monitor='val_loss', save_best_only=True)" \
        in summary
    assert runner.outputs["review"]["findings"] == "0"


def test_action_without_fix_mode_changes_nothing(tmp_path):
    from .test_action import Runner

    workspace = tmp_path / "ws"
    workspace.mkdir()
    path = make_notebook([CKPT], workspace / "a.ipynb")
    before = path.read_bytes()
    runner = Runner(tmp_path, workspace, {"paths": path.name})
    assert runner.run() == 1
    assert path.read_bytes() == before and "fix" not in runner.outputs

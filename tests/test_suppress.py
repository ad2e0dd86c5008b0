"""`# nbreview: ignore[...]` comments: per line, per cell, bare; unknown and unused ones become notes."""
from __future__ import annotations

import json

from nbreview.engine import Options, review_paths

from .conftest import make_notebook, run_cli

IMPORT = "from tensorflow.keras.callbacks import ModelCheckpoint"
CKPT = "ckpt = ModelCheckpoint('best.h5', monitor='val_accuracy')"
RULE = "checkpoint-save-best-only"


def review(tmp_path, cells, **kw):
    nb = make_notebook(cells, tmp_path / "a.ipynb")
    [report] = review_paths([nb], Options(**kw)).notebooks
    return report


def notes(report):
    return [(e.cell, e.line, e.message) for e in report.errors if e.kind == "note"]


def test_line_suppression(tmp_path):
    r = review(tmp_path, [IMPORT, f"{CKPT}  # nbreview: ignore[{RULE}]\nother = ModelCheckpoint('o.h5')"])
    assert [(f.location.cell, f.location.line) for f in r.findings] == [(1, 2)]
    assert notes(r) == []


def test_several_slugs_and_spacing(tmp_path):
    r = review(tmp_path, [IMPORT, f"{CKPT}  #nbreview:ignore[ deprecated-generator-api , {RULE} ]"])
    assert r.findings == []
    # deprecated-generator-api is enabled and has no finding there: that part is unused
    assert [m for *_, m in notes(r)] == [
        "unused suppression of 'deprecated-generator-api': no such finding on this line"]


def test_whole_cell_suppression(tmp_path):
    cell = f"# nbreview: ignore[{RULE}]\n{CKPT}\nother = ModelCheckpoint('o.h5')"
    r = review(tmp_path, [IMPORT, cell])
    assert r.findings == [] and notes(r) == []
    # after a %% cell magic too
    r = review(tmp_path, [IMPORT, "%%time\n" + cell])
    assert r.findings == []


def test_bare_ignore_is_for_its_line_only(tmp_path):
    r = review(tmp_path, [IMPORT, f"{CKPT}  # nbreview: ignore\nother = ModelCheckpoint('o.h5')"])
    assert [f.location.line for f in r.findings] == [2]
    # a bare ignore as the first line does not cover the cell, and is unused
    r = review(tmp_path, [IMPORT, f"# nbreview: ignore\n{CKPT}"])
    assert [f.location.line for f in r.findings] == [2]
    assert [(c, ln) for c, ln, _ in notes(r)] == [(1, 1)]


def test_multiline_statement(tmp_path):
    r = review(tmp_path, [IMPORT, f"ckpt = ModelCheckpoint(\n    'best.h5',  # nbreview: ignore[{RULE}]\n)"])
    assert r.findings == []


def test_unknown_and_unused_suppressions_are_notes(tmp_path):
    r = review(tmp_path, [IMPORT, f"x = 1  # nbreview: ignore[{RULE}, no-such-rule]\n{CKPT}"])
    assert [f.location.line for f in r.findings] == [2]
    got = notes(r)
    assert len(got) == 2
    assert all(c == 1 and ln == 1 for c, ln, _ in got)
    assert any("unknown rule 'no-such-rule'" in m for *_, m in got)
    assert any(f"unused suppression of '{RULE}'" in m for *_, m in got)


def test_suppression_of_a_disabled_rule_is_not_unused(tmp_path):
    r = review(tmp_path, [IMPORT, f"x = 1  # nbreview: ignore[{RULE}]"], ignore={RULE})
    assert notes(r) == []


def test_text_in_strings_and_markdown_does_not_suppress(tmp_path):
    cell = f"{CKPT}; s = '# nbreview: ignore[{RULE}]'"
    r = review(tmp_path, [IMPORT, cell])
    assert len(r.findings) == 1
    nb = make_notebook([IMPORT, CKPT], tmp_path / "m.ipynb", markdown={1: f"# nbreview: ignore[{RULE}]"})
    assert len(review_paths([nb], Options()).findings) == 1


def test_cell_that_does_not_tokenize_still_works(tmp_path):
    r = review(tmp_path, [IMPORT, f"{CKPT}  # nbreview: ignore[{RULE}]\nbroken = '''"])
    assert r.findings == []


def test_json_stays_v1_with_notes_in_errors(tmp_path):
    nb = make_notebook([IMPORT, f"x = 1  # nbreview: ignore[{RULE}]", CKPT], tmp_path / "a.ipynb")
    r = run_cli("check", str(nb), "--format", "json", "--lang", "en")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    [entry] = doc["notebooks"][0]["errors"]
    assert set(entry) == {"cell", "line", "message", "code"}  # `code` (the message id) is an addition to v1
    assert entry["code"] == "suppress_unused"
    assert entry["cell"] == 1 and entry["line"] == 1 and "unused suppression" in entry["message"]
    assert doc["summary"]["errors"] == 0  # a note is not an unreadable notebook

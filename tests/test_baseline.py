"""--write-baseline / --baseline: old findings are accepted, new mistakes still fail."""
from __future__ import annotations

import json

from nbreview import baseline as bl
from nbreview.engine import Options, review_paths

from .conftest import make_notebook, run_cli

IMPORT = "from tensorflow.keras.callbacks import ModelCheckpoint"
CKPT = "ckpt = ModelCheckpoint('best.h5', monitor='val_accuracy')"
CKPT2 = "ckpt2 = ModelCheckpoint('other.h5')"


def test_fingerprint_ignores_cell_moves_and_whitespace(tmp_path):
    nb = make_notebook([IMPORT, CKPT], tmp_path / "s" / "a.ipynb")
    base = tmp_path / "baseline.json"
    assert bl.write(review_paths([nb], Options()), base) == 1
    doc = json.loads(base.read_text())
    assert doc["baseline_version"] == 1
    [entry] = doc["findings"]
    assert entry["path"] == "s/a.ipynb" and entry["rule"] == "checkpoint-save-best-only"

    # a markdown cell inserted above, trailing spaces and a re-run: still the same finding
    make_notebook([IMPORT, CKPT + "   \n"], nb, markdown={0: "# new intro"}, executed=False)
    run = review_paths([nb], Options(ignore={"no-outputs"}))  # (saved unexecuted now: that is a remark of its own)
    assert len(run.findings) == 1
    assert bl.apply(run, base) == 1 and run.findings == []


def test_new_mistakes_are_reported(tmp_path):
    nb = make_notebook([IMPORT, CKPT], tmp_path / "a.ipynb")
    base = tmp_path / "baseline.json"
    bl.write(review_paths([nb], Options()), base)
    # same cell edited: its finding is new again; a second checkpoint in a new cell is new
    make_notebook([IMPORT, CKPT, CKPT2], nb)
    run = review_paths([nb], Options())
    assert bl.apply(run, base) == 1
    assert [f.location.cell for f in run.findings] == [2]
    # two findings of one rule in one cell, baseline has one: one stays
    make_notebook([IMPORT, CKPT + "\n" + CKPT2], nb)
    run = review_paths([nb], Options())
    assert len(run.findings) == 2
    assert bl.apply(run, base) == 0  # the flagged cell was edited: both of its findings are new


def test_same_path_rule_and_cell_count_matching(tmp_path):
    nb = make_notebook([IMPORT, CKPT + "\n" + CKPT2], tmp_path / "a.ipynb")
    base = tmp_path / "baseline.json"
    assert bl.write(review_paths([nb], Options()), base) == 2
    run = review_paths([nb], Options())
    assert bl.apply(run, base) == 2 and not run.findings


def test_cli_baseline_round_trip(tmp_path):
    nb = make_notebook([IMPORT, CKPT], tmp_path / "work" / "a.ipynb")
    base = tmp_path / "nbreview-baseline.json"
    r = run_cli("check", str(nb), "--write-baseline", str(base))
    assert r.returncode == 0, r.stderr
    assert "1" in r.stderr and base.exists()
    r = run_cli("check", str(nb), "--baseline", str(base), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["findings"] == 0
    assert "baseline" in r.stderr
    make_notebook([IMPORT, CKPT, CKPT2], nb)
    r = run_cli("check", str(nb), "--baseline", str(base), "--format", "json")
    assert r.returncode == 1
    assert [f["cell"] for f in json.loads(r.stdout)["notebooks"][0]["findings"]] == [2]


def test_cli_bad_baseline_is_exit_2(tmp_path):
    nb = make_notebook([IMPORT, CKPT], tmp_path / "a.ipynb")
    bad = tmp_path / "b.json"
    bad.write_text("[1, 2]")
    r = run_cli("check", str(nb), "--baseline", str(bad))
    assert r.returncode == 2 and "not an nbreview baseline" in r.stderr
    r = run_cli("check", str(nb), "--baseline", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "cannot read baseline" in r.stderr

"""The command line: formats, filters, exit codes, batches with bad files, and what it imports."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import FIXTURES, ROOT, make_notebook, run_cli

CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5')"
LR = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)"


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("nbreview 0.")


def test_json_contract_v1():
    r = run_cli("check", str(FIXTURES / "example_student.ipynb"), "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "nbreview"
    [nb] = doc["notebooks"]
    assert set(nb) >= {"path", "framework", "findings", "praise", "checklist", "errors"}
    assert nb["framework"] == "keras"
    rules = {f["rule"] for f in nb["findings"]}
    assert rules == {"checkpoint-save-best-only", "augmented-validation", "rescale-efficientnet",
                     "tta-no-augmentation", "deprecated-generator-api"}
    stored = (FIXTURES / "example_student.ipynb").read_text().splitlines()
    for f in nb["findings"]:
        assert set(f) >= {"rule", "code", "severity", "cell", "cell_id", "line", "column", "end_line",
                          "file_line", "message", "fix"}
        assert f["severity"] in ("error", "warning", "advice")
        assert f["code"].startswith("NBR")
        assert f["cell_id"]
        assert f["line"] >= 1 and f["column"] >= 1 and f["end_line"] >= f["line"]
        assert f["fix"] is None or set(f["fix"]) == {"safe", "description"}
        assert f["message"] and "{" not in f["message"]
        # file_line is the stored line that holds the flagged source line
        cell_src = json.loads((FIXTURES / "example_student.ipynb").read_text())["cells"][f["cell"]]["source"]
        flagged = "".join(cell_src).split("\n")[f["line"] - 1]
        assert json.dumps(flagged + "\n")[1:-1][:40] in stored[f["file_line"] - 1]
    s = doc["summary"]
    assert s["notebooks"] == 1 and s["findings"] == len(nb["findings"]) and s["errors"] == 0
    assert sum(s["by_rule"].values()) == s["findings"]


def test_folder_batch_with_bad_files(tmp_path):
    make_notebook([CKPT], tmp_path / "a" / "ivanov.ipynb")
    make_notebook(["x = 1"], tmp_path / "b" / "petrova.ipynb")
    make_notebook([CKPT], tmp_path / "a" / ".ipynb_checkpoints" / "ivanov-checkpoint.ipynb")
    (tmp_path / "b" / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "notes.txt").write_text("not a notebook")
    r = run_cli("check", str(tmp_path), "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    paths = [nb["path"] for nb in doc["notebooks"]]
    assert len(paths) == 3 and not any("checkpoint" in p for p in paths)
    broken = next(nb for nb in doc["notebooks"] if nb["path"].endswith("broken.ipynb"))
    assert broken["findings"] == [] and broken["errors"][0]["cell"] is None
    assert broken["errors"][0]["code"] == "invalid_json"
    assert "ошибка JSON в строке 1" in broken["errors"][0]["message"]  # in the review's language
    assert doc["summary"]["errors"] == 1


def test_exit_codes(tmp_path):
    clean = make_notebook(["x = 1"], tmp_path / "clean.ipynb")
    warn = make_notebook([LR], tmp_path / "warn.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("nope")
    assert run_cli("check", str(clean)).returncode == 0
    assert run_cli("check", str(warn)).returncode == 1
    assert run_cli("check", str(warn), "--fail-on", "error").returncode == 0
    assert run_cli("check", str(bad)).returncode == 2
    assert run_cli("check", str(clean), str(bad)).returncode == 2
    assert run_cli("check", str(warn), str(bad)).returncode == 1
    assert run_cli("check", str(tmp_path / "missing.ipynb")).returncode == 2
    assert run_cli("check", str(clean), "--format", "yaml").returncode == 2
    r = run_cli("check", str(clean), "--select", "no-such-rule")
    assert r.returncode == 2 and "no-such-rule" in r.stderr


def test_select_ignore_output_and_lang(tmp_path):
    nb = make_notebook([CKPT, LR], tmp_path / "s.ipynb")
    out = tmp_path / "out" / "review.json"
    r = run_cli("check", str(nb), "--format", "json", "--select", "deprecated-generator-api", "--output", str(out),
                "--lang", "en")
    assert r.returncode == 1 and r.stdout == ""
    doc = json.loads(out.read_text())
    assert [f["rule"] for f in doc["notebooks"][0]["findings"]] == ["deprecated-generator-api"]
    assert "learning_rate" in doc["notebooks"][0]["findings"][0]["message"]
    r = run_cli("check", str(nb), "--format", "json", "--ignore", "deprecated-generator-api,checkpoint-save-best-only")
    assert r.returncode == 0 and json.loads(r.stdout)["summary"]["findings"] == 0


def test_text_output_russian_summary_plural(tmp_path):
    nb = make_notebook([CKPT, LR], tmp_path / "s.ipynb")
    r = run_cli("check", str(nb), "--no-color")
    assert "2 замечания" in r.stdout
    assert "ModelCheckpoint('best.h5')" in r.stdout
    assert "\x1b[" not in r.stdout


def test_rules_and_rule_pages():
    r = run_cli("rules")
    assert r.returncode == 0 and "checkpoint-save-best-only" in r.stdout
    r = run_cli("rule", "augmented-validation", "--lang", "en")
    assert r.returncode == 0 and "Why it matters" in r.stdout and "ImageDataGenerator" in r.stdout
    r = run_cli("rule", "NBR101")
    assert r.returncode == 0 and "save_best_only" in r.stdout
    assert run_cli("rule", "nope").returncode == 2


def test_check_never_imports_training_libraries():
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['nbreview', 'check', {str(FIXTURES)!r}, '--format', 'json']\n"
        "try:\n    runpy.run_module('nbreview', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'torch', 'keras', 'jax', 'torchvision', 'jinja2', 'libcst'))\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY=" in r.stderr
    assert r.stderr.split("HEAVY=")[1].strip() == "", r.stderr


def test_the_readme_shows_what_the_example_review_says():
    """The review quoted at the top of the README is the command's real output (lines elided
    with `...`): it goes stale when a rule, a text or the catalog changes."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ nbreview check fixtures/example_student.ipynb\n", 1)[1].split("```", 1)[0]
    r = run_cli("check", "fixtures/example_student.ipynb", cwd=ROOT)
    assert r.returncode == 1, r.stderr
    shown = r.stdout.splitlines()
    quoted = [line for line in block.splitlines() if line != "..."]
    assert len(quoted) > 40
    missing = [line for line in quoted if line not in shown]
    assert not missing, missing

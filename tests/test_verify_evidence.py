"""`nbreview check --evidence`: measured numbers in the remarks of every format, what could not be
verified, and no TensorFlow/Keras on the check path (no TensorFlow needed to run these tests)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbreview.verify import evidence as evd
from nbreview.verify.recipe import read

from .conftest import FIXTURES, ROOT, run_cli

EXAMPLE = FIXTURES / "example_student.ipynb"


def flat(text: str) -> str:
    """The review with its line wrapping undone."""
    return " ".join(text.split())


def fake_evidence(notebook: Path, path: Path, source: str = "synthetic", status: str = "complete") -> Path:
    doc = evd.new_document(notebook, [0, 1, 2])
    doc.update(status=status, environment={"keras": "3.9.9", "backend": "tensorflow", "device": "cpu"},
               data={"source": source, "images": 600}, recipe=read(notebook).to_json(),
               plan={"backbone": "nbreview-mini", "image_size": 64, "epochs": 5, "batch_size": 16})
    doc["experiments"] = {
        "rescale-efficientnet": {
            "status": "done", "kind": "training", "seeds_done": [0, 1, 2], "wall_s": 61.0,
            "metrics": {"val_accuracy_final": {"as_written": {"values": [0.4, 0.42, 0.25], "mean": 0.357, "std": 0.09},
                                               "fixed": {"values": [0.87, 0.83, 0.81], "mean": 0.837, "std": 0.03}}},
            "effect": {"direction": "fixed_better", "agree": 3, "of": 3},
            "summary": {"ru": "точность 0.36 ± 0.09 как в ноутбуке и 0.84 ± 0.03 без `/255`.",
                        "en": "accuracy 0.36 ± 0.09 as written and 0.84 ± 0.03 without `/255`."},
            "lines": ["seed 0: val_accuracy as written 0.40, fixed 0.87"]},
        "augmented-validation": {"status": "skipped", "kind": "training", "reason": "no augmentation <b>x</b>"},
        "deprecated-generator-api": {
            "status": "done", "kind": "static", "seeds_done": [], "wall_s": 0.1,
            "summary": {"ru": "падает.", "en": "fails."}, "lines": [],
            "places": {"8:3": {"summary": {"ru": "fit_generator падает.", "en": "fit_generator fails."},
                               "lines": ["keras 3.9.9: fit_generator -> AttributeError"]},
                       "7:7": {"summary": {"ru": "lr= падает.", "en": "lr= fails."},
                               "lines": ["keras 3.9.9: Adam(lr=1e-4) -> ValueError"]}}},
        "checkpoint-save-best-only": {"status": "interrupted", "kind": "training", "seeds_done": []},
        "tta-no-augmentation": {
            "status": "partial", "kind": "training", "seeds_done": [0],
            "summary": {"ru": "все проходы совпали.", "en": "every pass was identical."}, "lines": []},
    }
    evd.write(doc, path)
    return path


def test_text_review_cites_the_numbers(tmp_path):
    ev = fake_evidence(EXAMPLE, tmp_path / "ex.verify.json")
    r = run_cli("check", str(EXAMPLE), "--evidence", str(ev), "--no-color")
    assert r.returncode == 1, r.stderr
    out = flat(r.stdout)
    assert ("nbreview verify: Проверено обучением на синтетических данных (3 запуска с разными сидами, "
            "nbreview-mini вместо EfficientNetB3, 64×64): точность 0.36 ± 0.09") in out
    assert "Проверено на установленной Keras 3.9.9: fit_generator падает." in out
    assert "Проверено на установленной Keras 3.9.9: lr= падает." in out
    assert "Не проверено обучением: эксперимент неприменим (no augmentation <b>x</b>)." in out
    assert "Не проверено обучением: проверку прервали" in out  # the checkpoint never ran
    assert "(1 запуск, сид 0, nbreview-mini вместо EfficientNetB3, 64×64): все проходы совпали. Проверка была " \
           "прервана: измерено 1 из 3." in out  # TTA: one seed of three
    assert "seed 0: val_accuracy as written 0.40, fixed 0.87" in out
    en = flat(run_cli("check", str(EXAMPLE), "--evidence", str(ev), "--no-color", "--lang", "en").stdout)
    assert "Verified by training on synthetic data (3 runs with different seeds, nbreview-mini standing in for " \
           "EfficientNetB3, 64×64): accuracy 0.36 ± 0.09 as written" in en
    assert "Not verified by training: the experiment does not apply" in en


def test_your_data_and_every_format(tmp_path):
    ev = fake_evidence(EXAMPLE, tmp_path / "ex.verify.json", source="folder")
    md = run_cli("check", str(EXAMPLE), "--evidence", str(ev), "--format", "markdown").stdout
    assert "> **nbreview verify:** Проверено обучением на ваших данных (3 запуска" in md
    html = run_cli("check", str(EXAMPLE), "--evidence", str(ev), "--format", "html").stdout
    assert '<div class="evidence training"><div class="label">nbreview verify</div>' in html
    assert "Проверено обучением на ваших данных" in html and "0.84 ± 0.03" in html
    assert '<div class="evidence unverified">' in html
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html  # evidence text is escaped like the rest
    doc = json.loads(run_cli("check", str(EXAMPLE), "--evidence", str(ev), "--format", "json").stdout)
    by_rule = {f["rule"]: f for f in doc["notebooks"][0]["findings"]}
    v = by_rule["rescale-efficientnet"]["verification"]
    assert v["status"] == "verified" and v["kind"] == "training" and v["experiment"] == "rescale-efficientnet"
    assert v["metrics"]["val_accuracy_final"]["fixed"]["mean"] == 0.837 and v["seeds"] == [0, 1, 2]
    assert by_rule["augmented-validation"]["verification"]["status"] == "not_verified"
    # without --evidence the JSON is unchanged
    plain = json.loads(run_cli("check", str(EXAMPLE), "--format", "json").stdout)
    assert all("verification" not in f for f in plain["notebooks"][0]["findings"])


def test_stale_and_unmatched_evidence(tmp_path):
    nb = tmp_path / "student.ipynb"
    nb.write_bytes(EXAMPLE.read_bytes())
    ev = fake_evidence(nb, tmp_path / "student.verify.json")
    nb.write_text(nb.read_text(encoding="utf-8").replace("EPOCHS = 8", "EPOCHS = 9"), encoding="utf-8")
    r = run_cli("check", str(nb), "--evidence", str(ev), "--no-color")
    assert "(Измерено на другой версии этого ноутбука.)" in flat(r.stdout)
    assert "was measured on another version" in r.stderr
    other = run_cli("check", str(FIXTURES / "clean_student.ipynb"), "--evidence", str(ev), "--no-color")
    assert "matches none of the notebooks" in other.stderr and "nbreview verify" not in other.stdout


def test_bad_evidence_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    r = run_cli("check", str(EXAMPLE), "--evidence", str(bad))
    assert r.returncode == 2 and "not an nbreview verify evidence file" in r.stderr
    r = run_cli("check", str(EXAMPLE), "--evidence", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "no such file" in r.stderr
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"evidence_version": 99}), encoding="utf-8")
    r = run_cli("check", str(EXAMPLE), "--evidence", str(future))
    assert r.returncode == 2 and "evidence version 99" in r.stderr


CHECK_WITHOUT_TF = """
import sys
from nbreview.cli import app
for fmt in ("text", "json", "markdown", "html", "sarif", "github"):
    try:
        app(["check", sys.argv[1], "--evidence", sys.argv[2], "--format", fmt], standalone_mode=False)
    except SystemExit:
        pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "torch", "jax", "numpy"))
print("HEAVY:" + ",".join(heavy))
"""


def test_check_path_never_imports_tensorflow(tmp_path):
    ev = fake_evidence(EXAMPLE, tmp_path / "ex.verify.json")
    r = subprocess.run([sys.executable, "-c", CHECK_WITHOUT_TF, str(EXAMPLE), str(ev)], capture_output=True,
                       text=True, cwd=ROOT)
    assert "HEAVY:" in r.stdout, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "HEAVY:"  # not even numpy


def test_importtime_of_check_has_no_training_library(tmp_path):
    ev = fake_evidence(EXAMPLE, tmp_path / "ex.verify.json")
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "nbreview", "check", str(EXAMPLE), "--evidence",
                        str(ev), "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    modules = {line.split("|")[-1].strip().split(".")[0] for line in r.stderr.splitlines() if "|" in line}
    assert "nbreview" in modules
    assert not modules & {"tensorflow", "keras", "torch", "jax"}


@pytest.mark.parametrize("status", ["running", "interrupted"])
def test_partial_file_is_valid(tmp_path, status):
    ev = fake_evidence(EXAMPLE, tmp_path / "ex.verify.json", status=status)
    doc = evd.load(ev)
    assert doc["status"] == status and doc["evidence_version"] == 1

"""`--format sarif`: valid SARIF 2.1.0 (official schema, offline), every rule, stored-file lines."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from nbreview import catalog as cat
from nbreview.engine import Options, review_paths
from nbreview.render import RenderContext, renderer

from .conftest import ROOT, make_notebook, run_cli

DATA = Path(__file__).resolve().parent / "data"
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-2.1.0.json"
VENDORED_SCHEMA = DATA / "sarif-2.1.0.json"
CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_accuracy')"


def schemas() -> list[Path]:
    return [p for p in (VENDORED_SCHEMA, SHARED_SCHEMA) if p.exists()]


def validate(doc: dict) -> None:
    assert schemas(), "no SARIF schema found"
    for path in schemas():
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator(schema).validate(doc)


def test_vendored_schema_matches_shared():
    if not SHARED_SCHEMA.exists():
        pytest.skip("no shared/ checkout beside the repository")
    assert json.loads(VENDORED_SCHEMA.read_text()) == json.loads(SHARED_SCHEMA.read_text())


def test_sarif_valid_with_rules_and_physical_lines(tmp_path):
    nb = make_notebook(["import numpy as np", CKPT], tmp_path / "sub" / "student.ipynb", markdown={0: "# Title"})
    r = run_cli("check", "--format", "sarif", "--lang", "en", str(nb))
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    validate(doc)
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "nbreview"
    ids = [rule["id"] for rule in driver["rules"]]
    expected = {r.slug for r in cat.catalog().values() if r.kind != "praise"}
    assert set(ids) == expected
    for rule in driver["rules"]:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    ckpt_rule = driver["rules"][ids.index("checkpoint-save-best-only")]
    assert ckpt_rule["defaultConfiguration"]["level"] == "error"
    assert ckpt_rule["properties"]["code"] == "NBR101"

    [res] = run["results"]
    assert res["ruleId"] == "checkpoint-save-best-only"
    assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
    assert res["level"] == "error"
    # the cell is named in the message and in properties: cell 3 (markdown counts), line 2
    assert res["message"]["text"].startswith("cell 3, In [2], line 2: ")
    assert res["properties"]["cell"] == 2 and res["properties"]["cellLine"] == 2
    loc = res["locations"][0]["physicalLocation"]
    assert Path(loc["artifactLocation"]["uri"]).name == "student.ipynb"
    stored = nb.read_text(encoding="utf-8").split("\n")
    line = stored[loc["region"]["startLine"] - 1]
    assert "ckpt = ModelCheckpoint(" in line
    assert line[loc["region"]["startColumn"] - 1:].startswith("ModelCheckpoint(")


def test_sarif_with_unreadable_file_and_notes_is_valid(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    good = make_notebook(["x = (", "y = 1  # nbreview: ignore[checkpoint-save-best-only]"], tmp_path / "n.ipynb")
    run = review_paths([bad, good], Options(langs=("ru",)))
    doc = json.loads(renderer("sarif")(run, RenderContext(lang="ru")))
    validate(doc)
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    levels = sorted(n["level"] for n in inv["toolExecutionNotifications"])
    assert levels == ["error", "note", "note"]  # unreadable file; a cell that does not parse; unused suppression
    assert doc["runs"][0]["results"] == []


def test_sarif_uri_is_percent_encoded_and_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = make_notebook([CKPT], tmp_path / "my work" / "a;b$(x)#1.ipynb")
    run = review_paths([nb.resolve()], Options(langs=("en",)))
    doc = json.loads(renderer("sarif")(run, RenderContext(lang="en")))
    validate(doc)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20work/a%3Bb%24%28x%29%231.ipynb"
    fp = doc["runs"][0]["results"][0]["partialFingerprints"]
    assert len(fp["nbreviewCell/v1"]) == 64

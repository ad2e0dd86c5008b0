"""`--format github`: workflow-command annotations, escaping, order of importance, the 10-per-type limit."""
from __future__ import annotations

import re

from nbreview.engine import Options, review_paths
from nbreview.model import Finding, Location, NotebookReport, RunReport
from nbreview.render import RenderContext, renderer
from nbreview.render.github import command, escape_data, escape_property

from .conftest import make_notebook, run_cli

CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_accuracy')"
LR = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)"
ANNOTATION = re.compile(r"^::(error|warning|notice) (?P<props>[^:]*)::(?P<msg>.*)$")


def props(line: str) -> dict[str, str]:
    m = ANNOTATION.match(line)
    assert m, line
    return dict(p.split("=", 1) for p in m.group("props").split(","))


def test_escaping_rules():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    # data keeps `:` and `,`; properties do not
    assert escape_data("a:b,c") == "a:b,c"
    line = command("error", "line 1\nline 2 100%", file="x,y:z.ipynb", line=3, title="T: a, b")
    assert line == "::error file=x%2Cy%3Az.ipynb,line=3,title=T%3A a%2C b::line 1%0Aline 2 100%25"


def test_annotation_points_into_the_stored_file(tmp_path):
    nb = make_notebook(["import os", CKPT], tmp_path / "student.ipynb", markdown={1: "## Training"})
    r = run_cli("check", "--format", "github", "--lang", "en", str(nb))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("::error ")
    p = props(lines[0])
    assert p["file"].endswith("student.ipynb")
    assert p["title"].startswith("NBR101 checkpoint-save-best-only%3A ")
    stored = nb.read_text(encoding="utf-8").split("\n")
    physical = stored[int(p["line"]) - 1]
    assert physical[int(p["col"]) - 1:].startswith("ModelCheckpoint('best.h5'")
    assert ANNOTATION.match(lines[0]).group("msg").startswith("cell 3, In [2], line 2: ")
    assert lines[-1].startswith("nbreview: 1 notebook, 1 finding")


def test_column_in_a_source_stored_as_one_string(tmp_path):
    import json

    path = tmp_path / "one.ipynb"
    doc = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
           "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "outputs": [], "execution_count": None,
                      "source": "# \"quoted\" ü\n" + CKPT}]}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=True), encoding="utf-8")
    run = review_paths([path], Options(langs=("en",)))
    [line] = [ln for ln in renderer("github")(run, RenderContext(lang="en")).splitlines() if ln.startswith("::")]
    p = props(line)
    physical = path.read_text().split("\n")[int(p["line"]) - 1]
    assert physical[int(p["col"]) - 1:].startswith("ModelCheckpoint('best.h5'")


def test_severity_mapping_and_importance_order(tmp_path):
    a = make_notebook([LR], tmp_path / "a.ipynb")
    b = make_notebook([CKPT], tmp_path / "b.ipynb")
    run = review_paths([a, b], Options(langs=("en",)))
    out = renderer("github")(run, RenderContext(lang="en")).splitlines()
    kinds = [ANNOTATION.match(ln).group(1) for ln in out if ln.startswith("::")]
    assert kinds == ["error", "warning"]  # the error of b.ipynb before the warning of a.ipynb


def _finding(rule: str, severity: str, cell: int) -> Finding:
    return Finding(rule=rule, code="NBR000", severity=severity,
                   location=Location(cell=cell, line=1, file_line=cell + 10), messages={"en": f"{rule} {cell}"})


def test_limit_of_ten_per_type_is_summarised_and_consequence_orders():
    findings = [_finding("tta-no-augmentation", "error", i) for i in range(8)]  # consequence 60
    findings += [_finding("checkpoint-save-best-only", "error", 100 + i) for i in range(5)]  # consequence 90
    findings += [_finding("deprecated-generator-api", "warning", 200 + i) for i in range(3)]
    findings += [_finding("deprecated-generator-api", "advice", 300 + i) for i in range(11)]
    run = RunReport([NotebookReport(path="n.ipynb", findings=findings)], lang="en")
    out = renderer("github")(run, RenderContext(lang="en")).splitlines()
    ann = [ln for ln in out if ln.startswith("::")]
    assert len(ann) == 27
    # errors first, the catalog's more costly rule (checkpoint, 90) before tta (60)
    assert all("checkpoint-save-best-only" in ln for ln in ann[:5])
    assert all("tta-no-augmentation" in ln for ln in ann[5:13])
    assert all(ln.startswith("::warning") for ln in ann[13:16])
    assert all(ln.startswith("::notice") for ln in ann[16:])
    summary = out[-1]
    assert "27 findings (13 errors, 3 warnings, 11 advice)" in summary
    assert "at most 10 annotations" in summary and "3 error" in summary and "1 notice" in summary
    assert "warning," not in summary.split("annotations:")[1]


def test_notes_and_unreadable_files():
    run = RunReport([NotebookReport(path="bad.ipynb", errors=[])], lang="ru")
    from nbreview.model import NotebookError

    run.notebooks[0].errors = [NotebookError("invalid JSON at line 1", None)]
    out = renderer("github")(run, RenderContext(lang="ru")).splitlines()
    assert out[0] == "::error file=bad.ipynb,title=nbreview::не удалось прочитать ноутбук: invalid JSON at line 1"

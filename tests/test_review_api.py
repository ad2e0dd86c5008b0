"""`nbreview.review(path)` from Python / Jupyter."""
from __future__ import annotations

import html
from pathlib import Path

import nbreview

ROOT = Path(__file__).resolve().parent.parent


def test_review_api_gives_data_and_html():
    r = nbreview.review(ROOT / "fixtures" / "review_keras_mistakes.ipynb")
    assert len(r.findings) == 10 and r.findings[0].rule == "rescale-efficientnet"
    assert [p.rule for p in r.praise] == ["good-fine-tuning"]
    assert {c.task for c in r.checklist} >= {"transfer-learning", "submission-file"}
    shown = r._repr_html_()
    assert shown.startswith("<iframe") and 'sandbox=""' in shown
    page = html.unescape(shown.split('srcdoc="', 1)[1].split('" style=', 1)[0])
    assert page.startswith("<!DOCTYPE html>") and "Ревью ноутбука review_keras_mistakes.ipynb" in page
    assert "findings" in repr(r)


def test_review_api_english_and_markdown():
    r = nbreview.review(ROOT / "fixtures" / "review_keras_good.ipynb", lang="en")
    assert r.findings == [] and "What was done well" in r.to_markdown()
    assert "What was done well" in r.to_text()


def test_review_api_unreadable_file(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("nope")
    r = nbreview.review(bad)
    assert r.findings == [] and r.errors and r.errors[0].cell is None
    assert "не удалось прочитать" in r.to_html()

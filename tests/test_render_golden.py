"""Golden files for the human formats (text without colours, markdown, html) on a few fixtures.

After an intended change of the output, regenerate them and review the diff:

    NBREVIEW_UPDATE_GOLDEN=1 pytest tests/test_render_golden.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from nbreview import __version__
from nbreview.engine import review_path
from nbreview.model import RunReport
from nbreview.render import RenderContext, renderer

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("NBREVIEW_UPDATE_GOLDEN") == "1"
EXT = {"text": "txt", "markdown": "md", "html": "html"}

CASES = [
    ("review_keras_mistakes", "text", "ru"),
    ("review_keras_mistakes", "markdown", "ru"),
    ("review_keras_mistakes", "html", "ru"),
    ("review_keras_mistakes", "markdown", "en"),
    ("review_keras_good", "text", "ru"),
    ("review_keras_good", "markdown", "en"),
    ("review_keras_good", "html", "en"),
    ("review_xss", "markdown", "ru"),
    ("review_xss", "html", "ru"),
]


def render_fixture(name: str, fmt: str, lang: str) -> str:
    cwd = os.getcwd()
    os.chdir(ROOT)  # paths in the output are relative, as a user would type them
    try:
        report = review_path(f"fixtures/{name}.ipynb")
    finally:
        os.chdir(cwd)
    text = renderer(fmt)(RunReport([report], lang), RenderContext(lang=lang, color=False))
    return text.replace(__version__, "VERSION")


@pytest.mark.parametrize("name,fmt,lang", CASES, ids=[f"{n}-{f}-{lang}" for n, f, lang in CASES])
def test_golden(name, fmt, lang):
    got = render_fixture(name, fmt, lang)
    path = GOLDEN / f"{name}.{lang}.{EXT[fmt]}"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing golden file {path.name}; run with NBREVIEW_UPDATE_GOLDEN=1 to create it")
        path.write_text(got, encoding="utf-8")
        return
    want = path.read_text(encoding="utf-8")
    assert got == want, f"{path.name} differs; if intended: NBREVIEW_UPDATE_GOLDEN=1 pytest {__file__}"


def test_text_is_plain_when_not_coloured():
    text = render_fixture("review_keras_mistakes", "text", "ru")
    assert "\x1b[" not in text
    assert "> 1 | checkpoint = ModelCheckpoint(" in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_text_in_colour_highlights_code():
    report = review_path(ROOT / "fixtures/review_keras_mistakes.ipynb")
    text = renderer("text")(RunReport([report], "ru"), RenderContext(lang="ru", color=True))
    assert "\x1b[" in text and "ModelCheckpoint" in text


def test_html_is_self_contained():
    html = render_fixture("review_keras_mistakes", "html", "ru")
    low = html.lower()
    assert "<script" not in low and "<link" not in low and "@import" not in low and "url(" not in low
    assert "http://" not in low.replace("http://www.w3.org/2000/svg", "") and "https://" not in low
    assert '<html lang="ru">' in html and "@media print" in html


def test_markdown_groups_and_marks():
    md = render_fixture("review_keras_mistakes", "markdown", "ru")
    assert "То же самое — в ячейке 13." in md  # fit_generator in cells 10 and 13: one remark
    assert md.count("`evaluate_generator` устарел") == 1  # another method: its own remark
    assert "# ← здесь" in md and "[NBR101 checkpoint-save-best-only](#rule-checkpoint-save-best-only)" in md
    assert '<a id="rule-checkpoint-save-best-only"></a>' in md

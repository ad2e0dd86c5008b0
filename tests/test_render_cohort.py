"""The cohort: one report per notebook (safe, unique names, never outside the folder) and an index."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from nbreview.cohort import report_names, safe_stem

from .conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _submissions(tmp_path: Path) -> Path:
    sub = tmp_path / "submissions"
    (sub / "a").mkdir(parents=True)
    (sub / "b").mkdir()
    for target in (sub / "a" / "work.ipynb", sub / "b" / "work.ipynb", sub / "Иванов И.ipynb"):
        target.write_bytes((FIXTURES / "review_keras_mistakes.ipynb").read_bytes())
    (sub / "good.ipynb").write_bytes((FIXTURES / "review_keras_good.ipynb").read_bytes())
    (sub / "broken.ipynb").write_text('{"cells": [')
    return sub


def test_report_names_are_safe_and_unique():
    names = report_names(["s/a/work.ipynb", "s/b/work.ipynb", "s/A/work.ipynb", "s/index.ipynb",
                          "s/../../etc/passwd.ipynb", "s/.hidden.ipynb", 's/x"><img src=x>.ipynb'], ".html")
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert "/" not in n and "\\" not in n and not n.startswith(".") and n.endswith(".html")
        assert n != "index.html" and "<" not in n and '"' not in n
    assert report_names(["s/a/work.ipynb", "s/b/work.ipynb", "s/b/Work.ipynb"], ".md") == \
        ["a__work.md", "b__work.md", "b__Work-2.md"]
    assert safe_stem("Иванов И.") == "Иванов_И"


def test_cli_writes_reports_and_index(tmp_path):
    sub = _submissions(tmp_path)
    out = tmp_path / "reports"
    r = run_cli("check", str(sub), "--format", "html", "--output", str(out) + "/")
    assert r.returncode == 1, r.stderr  # findings exist
    files = sorted(p.name for p in out.iterdir())
    assert files == ["a__work.html", "b__work.html", "broken.html", "good.html", "index.html",
                     "Иванов_И.html"]
    assert not list(tmp_path.glob("*.html"))  # nothing written outside reports/
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<tr>") >= 5 and "<svg" in index and "<script" not in index
    assert 'href="a__work.html"' in index
    assert "5 ноутбуков" in index
    # the worst notebooks first
    assert index.index("a__work.html") < index.index("good.html")
    assert "не удалось прочитать" in index


def test_markdown_on_a_folder_gives_the_cohort_summary(tmp_path):
    sub = _submissions(tmp_path)
    r = run_cli("check", str(sub), "--format", "markdown", "--lang", "en")
    assert r.returncode == 1
    md = r.stdout
    assert md.startswith("## Cohort summary")
    assert "| Notebook | errors | warnings | advice | total |" in md
    assert "checkpoint-save-best-only" in md and "3 / 5" in md
    assert md.count("<details") == 5


def test_html_to_a_file_for_a_single_notebook(tmp_path):
    out = tmp_path / "one.html"
    r = run_cli("check", str(FIXTURES / "review_keras_good.ipynb"), "--format", "html", "--output", str(out))
    assert r.returncode == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_no_progress_bar_when_not_a_tty(tmp_path):
    sub = _submissions(tmp_path)
    for i in range(4):
        (sub / f"c{i}.ipynb").write_bytes((FIXTURES / "review_keras_good.ipynb").read_bytes())
    r = run_cli("check", str(sub), "--format", "text", "--no-color")
    assert "\x1b[" not in r.stderr and "━" not in r.stderr


def test_progress_wanted_only_for_long_batches_on_a_terminal():
    from nbreview.progress import wanted

    class Tty:
        def isatty(self):
            return True

    assert wanted("text", 20, Tty()) and wanted("html", 5, Tty())
    assert not wanted("json", 20, Tty()) and not wanted("sarif", 20, Tty()) and not wanted("github", 20, Tty())
    assert not wanted("text", 2, Tty()) and not wanted("text", 20, io.StringIO())


def test_cold_json_check_imports_no_renderer_libraries():
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['nbreview', 'check', {str(FIXTURES / 'review_keras_mistakes.ipynb')!r}, '--format', 'json']\n"
        "try:\n    runpy.run_module('nbreview', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'jinja2', 'rich', 'pygments', 'libcst', 'markupsafe'})\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT)
    assert json.loads(r.stdout)["summary"]["findings"] == 10
    assert r.stderr.split("HEAVY=")[1].strip() == "", r.stderr

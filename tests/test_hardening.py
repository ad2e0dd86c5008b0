"""Every bug the fuzzing of issue 15 found, as a test: hostile inputs, file systems and names.

A bad input becomes an error (or a note) of its own notebook, in the review's language; the
rest of the batch is reviewed; every output stays valid (UTF-8, JSON, SARIF, markdown)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nbreview.engine import Options, discover, review_path

from .conftest import ROOT, make_notebook, run_cli

CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_loss')"
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file system features")


def _nb(cells: list[str], **meta) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": meta,
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": i + 1, "outputs": [],
                       "source": src} for i, src in enumerate(cells)]}


def _write(path: Path, doc: dict | str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(doc, dict):
        doc = json.dumps(doc)
    path.write_bytes(doc if isinstance(doc, bytes) else doc.encode("utf-8"))
    return path


def _json(r: subprocess.CompletedProcess) -> dict:
    assert "Traceback" not in r.stderr, r.stderr
    return json.loads(r.stdout)


def _by_name(doc: dict) -> dict[str, dict]:
    return {Path(nb["path"]).name: nb for nb in doc["notebooks"]}


# --- one bad input never loses the batch ------------------------------------------------

def test_hostile_notebooks_become_their_own_errors_and_the_rest_is_reviewed(tmp_path):
    d = tmp_path / "batch"
    _write(d / "deep.ipynb", '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _write(d / "minor.ipynb", {**_nb([CKPT]), "nbformat_minor": "x"})
    _write(d / "minor2.ipynb", {**_nb([CKPT]), "nbformat_minor": -7})
    _write(d / "lang.ipynb", _nb([CKPT], language_info={"name": ["python"]}, kernelspec={"display_name": 3}))
    _write(d / "surrogate.ipynb", json.dumps(_nb([CKPT], kernelspec={"display_name": "Py\ud800"}))
           .replace('"c0"', '"\\udc00id"').replace("best.h5", "b\\ud83dst.h5"))
    _write(d / "cells.ipynb", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1, "x", null]}')
    _write(d / "zz_good.ipynb", _nb([CKPT]))
    for fmt in ("json", "sarif"):
        r = run_cli("check", str(d), "--format", fmt, "--lang", "en")
        assert r.returncode == 1, r.stderr  # findings (deep.ipynb alone would be 2)
        doc = _json(r)
        if fmt == "sarif":
            assert len(doc["runs"][0]["results"]) >= 5
            continue
        nbs = _by_name(doc)
        assert nbs["deep.ipynb"]["errors"][0]["code"] == "json_too_deep"
        for name in ("minor.ipynb", "minor2.ipynb", "lang.ipynb", "surrogate.ipynb", "zz_good.ipynb"):
            assert [f["rule"] for f in nbs[name]["findings"]] == ["checkpoint-save-best-only"], name
        assert "\ufffd" in nbs["surrogate.ipynb"]["findings"][0]["message"]
        assert [e["code"] for e in nbs["cells.ipynb"]["errors"]] == ["cell_not_object"] * 3
    md = run_cli("check", str(d / "surrogate.ipynb"), "--format", "markdown")
    assert md.returncode == 1 and "Py\ufffd" in md.stdout


@POSIX
def test_fifo_device_symlink_loop_and_a_name_that_is_not_utf8(tmp_path):
    d = tmp_path / "fs"
    d.mkdir()
    os.mkfifo(d / "fifo.ipynb")
    os.symlink("/dev/zero", d / "zero.ipynb")
    os.symlink("loop.ipynb", d / "loop.ipynb")
    os.symlink("missing-target", d / "dangling.ipynb")
    bad_name = os.fsdecode(b"\xff\xfe-bad.ipynb")
    _write(d / bad_name, _nb([CKPT]))
    _write(d / "good.ipynb", _nb([CKPT]))
    start = time.monotonic()
    out = tmp_path / "out.json"
    r = run_cli("check", str(d), "--format", "json", "-o", str(out))
    assert time.monotonic() - start < 30  # no hang on the FIFO, no 3.7 GB read of /dev/zero
    assert r.returncode == 1 and "Traceback" not in r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))  # valid UTF-8 JSON despite the file name
    codes = {Path(nb["path"]).name: [e.get("code") for e in nb["errors"]] for nb in doc["notebooks"]}
    assert codes["fifo.ipynb"] == ["not_regular"] and codes["zero.ipynb"] == ["not_regular"]
    assert codes["loop.ipynb"] == ["symlink_loop"] and codes["dangling.ipynb"] == ["missing"]
    assert sum(len(nb["findings"]) for nb in doc["notebooks"]) == 2  # good.ipynb and the odd name
    assert any("\ufffd" in nb["path"] for nb in doc["notebooks"])
    sarif = run_cli("check", str(d), "--format", "sarif")
    uris = {res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for res in _json(sarif)["runs"][0]["results"]}
    assert any("%FF%FE-bad.ipynb" in u for u in uris)


def test_too_large_is_a_clear_error(tmp_path, monkeypatch):
    from nbreview import notebook

    monkeypatch.setattr(notebook, "MAX_BYTES", 1000)
    p = _write(tmp_path / "big.ipynb", _nb(["x = 1\n" * 500]))
    report = review_path(p, Options(langs=("ru",)))
    [err] = report.errors
    assert err.code == "too_large" and "очистите выводы" in err.text("ru")


def test_unlistable_folder_is_reported_not_skipped(tmp_path, monkeypatch):
    _write(tmp_path / "ok" / "a.ipynb", _nb([CKPT]))
    (tmp_path / "locked").mkdir()
    real = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = list(discover([tmp_path]))
    errors = [(p.name, e.code) for p, e in found if e is not None]
    assert errors == [("locked", "cannot_list")]
    assert [p.name for p, e in found if e is None] == ["a.ipynb"]
    assert "нет прав на чтение" in next(e for _, e in found if e is not None).text("ru")


def test_broken_and_deeply_nested_configs_stop_only_their_own_notebooks(tmp_path):
    _write(tmp_path / "a" / "one.ipynb", _nb([CKPT]))
    _write(tmp_path / "b" / "two.ipynb", _nb([CKPT]))
    _write(tmp_path / "c" / "three.ipynb", _nb([CKPT]))
    (tmp_path / "b" / "nbreview.toml").write_text("ignore = [\n")
    (tmp_path / "c" / "nbreview.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    r = run_cli("check", str(tmp_path), "--format", "json")
    doc = _json(r)
    nbs = _by_name(doc)
    assert [f["rule"] for f in nbs["one.ipynb"]["findings"]] == ["checkpoint-save-best-only"]
    for name in ("two.ipynb", "three.ipynb"):
        [err] = nbs[name]["errors"]
        assert err["code"] == "config_error" and "nbreview.toml" in err["message"], err
    assert "ошибка в файле настроек" in nbs["two.ipynb"]["errors"][0]["message"]


# --- hangs and blow-ups in the student's code ------------------------------------------

HOSTILE_CODE = {
    "pow_tower": "x = 10 ** 64\n" + "x = x ** 64\n" * 6,
    "shift": "y = 1 << 10 ** 10\nz = y << y",
    "list_doubling": "a = [1, 2]\n" + "a = a + a\n" * 40,
    "list_iadd": "a = [1]\n" + "a += a\n" * 40,
    "star_doubling": "a = [1]\n" + "a = [*a, *a]\n" * 40,
    "string_product": "s = 'ab' * 10 ** 9\nt = 'x' * 100000\nu = t * t",
    "tuple_product": "t = (1, 2) * 10 ** 8",
    "nested_str": "t = (1,)\n" + "t = (t, t)\n" * 60 + "s = str(t)\nf = f'{t}'\nb = t == t\n",
    "nested_cmp": "a = (1,)\nb = (1,)\n" + "a = (a, a)\nb = (b, b)\n" * 60 + "c = a == b\n",
    "fan_out": "def f0(x):\n    return x\n" + "".join(
        f"def f{i}(x):\n" + "".join(f"    f{i - 1}(x)\n" for _ in range(30)) + "    return x\n" for i in range(1, 7)
    ) + "f6(1)\n",
    "unrolled": "r = " + "".join("[" for _ in range(8)) + "x" + "".join(
        " for x in (a, b, c, d, e, f, g, h)]" for _ in range(8)),
    "whitespace_line": " " * 50_000 + "\nx = 1\n" + "\t" * 50_000 + "=\n",
    "long_expression": "y = " + " + ".join(["a"] * 5000),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CODE))
def test_code_cheap_to_write_and_expensive_to_fold_stays_cheap(tmp_path, name):
    p = make_notebook([HOSTILE_CODE[name], CKPT], tmp_path / f"{name}.ipynb")
    start = time.monotonic()
    report = review_path(p, Options(langs=("ru", "en")))
    assert time.monotonic() - start < 10, name
    assert not report.unreadable, report.errors
    assert [f.rule for f in report.findings] == ["checkpoint-save-best-only"] or any(
        e.code == "budget" for e in report.errors), (name, report.errors)


def test_the_budget_ends_in_a_note_not_a_hang(tmp_path, monkeypatch):
    from nbreview.facts import limits

    monkeypatch.setattr(limits, "MAX_STEPS", 50)
    p = make_notebook(["x = 1\n" * 200, CKPT], tmp_path / "long.ipynb")
    report = review_path(p, Options(langs=("ru", "en")))
    [note] = [e for e in report.errors if e.code == "budget"]
    assert note.kind == "note" and note.cell == 0
    assert "анализ остановился на ячейке 1" in note.text("ru")
    from nbreview.mentor import build_review

    rv = build_review(report, "ru")
    assert any("анализ остановился" in n for n in rv.notes)
    clean = make_notebook(["x = 1\n" * 200], tmp_path / "clean.ipynb")
    rv = build_review(review_path(clean, Options(langs=("ru",))), "ru")
    assert "аккуратно" not in rv.opening and "проверить код целиком не удалось" in rv.opening


def test_value_caps():
    from nbreview.facts import limits

    assert not limits.binop_ok("pow", 10 ** 64, 64 * 64)
    assert limits.binop_ok("pow", 2, 10) and limits.binop_ok("pow", 2, -5000) and limits.binop_ok("pow", 1, 10 ** 9)
    assert not limits.binop_ok("lshift", 1, 10 ** 10)
    assert not limits.binop_ok("mul", "ab", 10 ** 9) and not limits.binop_ok("mul", 10 ** 9, (1, 2))
    assert limits.binop_ok("mul", "-", 80)
    t: tuple = (1,)
    for _ in range(80):
        t = (t, t)
    assert limits.size(t) > limits.MAX_LEN and not limits.str_ok(t)


# --- injection into the outputs -----------------------------------------------------------

def test_markdown_file_names_kernels_and_literals_cannot_hide_or_break_the_review(tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    d = tmp_path / "md"
    _write(d / "<!--.ipynb", _nb(["from tensorflow.keras.callbacks import ModelCheckpoint\n"
                                  "c = ModelCheckpoint('a`b``c <!-- .h5')"], kernelspec={"display_name": "P`y <!--"}))
    _write(d / "b.ipynb", _nb([CKPT], kernelspec={"display_name": "x` *y* [z](javascript:alert(1))"}))
    _write(d / "c.ipynb", _nb([CKPT]))
    r = run_cli("check", str(d), "--format", "markdown", "--lang", "en")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(r.stdout)
    assert "<!--" not in html
    assert html.count("<details") == 3 and html.count("Review of") == 3
    assert 'href="javascript' not in html
    for name in ("b.ipynb", "c.ipynb"):
        assert name in html


def test_text_output_shows_control_characters_and_workflow_commands_inert(tmp_path):
    code = "x = '\x1b[2J\x1b]0;pwned\x07'\n" + CKPT
    p = make_notebook([code], tmp_path / "::error file=x::pwned.ipynb")
    r = run_cli("check", str(p), "--format", "text", "--lang", "en")
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "␛[2J" in r.stdout
    assert not any(line.lstrip().startswith("::") for line in r.stdout.splitlines())
    colored = run_cli("check", str(p), "--format", "text", "--color")
    assert "\x1b[2J" not in colored.stdout and "\x1b]0;" not in colored.stdout


def test_file_names_on_stderr_cannot_start_a_workflow_command(tmp_path):
    name = "x\n::error title=pwned::owned.ipynb"
    p = make_notebook([CKPT], tmp_path / "in" / name)
    out = tmp_path / "reports"
    r = run_cli("check", str(p.parent), "--format", "html", "--output", str(out) + "/")
    assert r.returncode == 1
    assert r.stderr and not any(line.lstrip().startswith("::") for line in r.stderr.splitlines()), r.stderr
    r = run_cli("check", str(tmp_path / "nope\n::warning::x.ipynb"))
    assert not any(line.lstrip().startswith("::") for line in (r.stdout + r.stderr).splitlines())


@POSIX
def test_report_folder_does_not_follow_a_planted_symlink(tmp_path):
    make_notebook([CKPT], tmp_path / "subs" / "a.ipynb")
    make_notebook([CKPT], tmp_path / "subs" / "b.ipynb")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    reports = tmp_path / "reports"
    reports.mkdir()
    os.symlink(victim, reports / "a.html")
    os.symlink(victim, reports / "index.html")
    r = run_cli("check", str(tmp_path / "subs"), "--format", "html", "--output", str(reports))
    assert r.returncode == 1, r.stderr
    assert victim.read_text() == "precious"
    assert not (reports / "a.html").is_symlink() and (reports / "a.html").read_text().startswith("<!DOCTYPE html>")
    assert not list(reports.glob(".nbreview-*"))


def test_output_never_overwrites_an_input_or_the_baseline(tmp_path):
    nb = make_notebook([CKPT], tmp_path / "v.ipynb")
    before = nb.read_bytes()
    r = run_cli("check", str(nb), "-f", "json", "-o", str(nb))
    assert r.returncode == 2 and "would be overwritten" in r.stderr and nb.read_bytes() == before
    base = tmp_path / "base.json"
    assert run_cli("check", str(nb), "--write-baseline", str(base)).returncode == 0
    kept = base.read_bytes()
    r = run_cli("check", str(nb), "--baseline", str(base), "-f", "json", "-o", str(base))
    assert r.returncode == 2 and "baseline" in r.stderr and base.read_bytes() == kept
    r = run_cli("check", str(nb), "--write-baseline", str(nb))
    assert r.returncode == 2 and nb.read_bytes() == before


def test_file_names_that_look_like_options(tmp_path):
    odd = make_notebook([CKPT], tmp_path / "--write-baseline=zz.ipynb")
    make_notebook([CKPT], tmp_path / "-o.ipynb")
    r = subprocess.run([sys.executable, "-m", "nbreview", "check", "--pre-commit", "--lang", "en", "--format", "json",
                        "--write-baseline=zz.ipynb", "-o.ipynb"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert not (tmp_path / "zz.ipynb").exists() and odd.exists()
    assert len(json.loads(r.stdout)["notebooks"]) == 2
    r = subprocess.run([sys.executable, "-m", "nbreview", "check", "--format", "json", "--", "-o.ipynb"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1 and len(json.loads(r.stdout)["notebooks"]) == 1


def test_pre_commit_arguments():
    from nbreview.cli import pre_commit_args

    assert pre_commit_args(["check", "--pre-commit", "--lang", "en", "a.ipynb", "--x=y.ipynb"]) == \
        ["check", "--lang", "en", "--", "a.ipynb", "--x=y.ipynb"]
    assert pre_commit_args(["check", "--pre-commit", "--lang", "en", "--", "a.ipynb"]) == \
        ["check", "--lang", "en", "--", "a.ipynb"]
    assert pre_commit_args(["check", "a.ipynb"]) == ["check", "a.ipynb"]
    assert pre_commit_args(["check", "--", "--pre-commit"]) == ["check", "--", "--pre-commit"]


# --- small ones ----------------------------------------------------------------------------

def test_unterminated_suppression_suppresses_nothing(tmp_path):
    p = make_notebook([CKPT + "  # nbreview: ignore[checkpoint-save-best-only"], tmp_path / "s.ipynb")
    report = review_path(p, Options(langs=("ru", "en")))
    assert [f.rule for f in report.findings] == ["checkpoint-save-best-only"]
    [note] = report.errors
    assert note.code == "suppress_unterminated" and "закройте скобку" in note.text("ru")


def test_notes_always_say_why(tmp_path, monkeypatch):
    import ast

    from nbreview import program

    p = make_notebook(["x = 1", "y = 2\x00", CKPT], tmp_path / "n.ipynb")
    real = ast.parse

    def parse(source, *a, **k):
        if source.startswith("x = 1"):
            raise MemoryError()
        return real(source, *a, **k)

    monkeypatch.setattr(program.ast, "parse", parse)
    report = review_path(p, Options(langs=("ru", "en")))
    notes = [e for e in report.errors if e.kind == "note"]
    assert len(notes) == 2
    for e in notes:
        for lang in ("ru", "en"):
            text = e.text(lang)
            assert not text.rstrip().endswith(":") and len(text.split(":")[-1].strip()) > 3, text


def test_cr_only_line_endings_give_real_lines(tmp_path):
    doc = json.dumps(_nb(["import numpy as np\n", CKPT.splitlines(keepends=True)]), indent=1).replace("\n", "\r")
    p = _write(tmp_path / "cr.ipynb", doc)
    r = run_cli("check", str(p), "--format", "sarif")
    [res] = _json(r)["runs"][0]["results"]
    line = res["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert line > 1 and "ModelCheckpoint('best.h5'" in doc.split("\r")[line - 1]
    gh = run_cli("check", str(p), "--format", "github")
    assert f"line={line}," in gh.stdout


# --- the review's language -------------------------------------------------------------

def test_every_message_is_in_the_reviews_language(tmp_path):
    d = tmp_path / "lang"
    _write(d / "cp1251.ipynb", "Это не ноутбук, а текст в cp1251".encode("cp1251"))
    _write(d / "syntax.ipynb", _nb(["print 'hello'", "def f(:\n    pass", CKPT]))
    r = run_cli("check", str(d), "--format", "json")
    nbs = _by_name(_json(r))
    assert nbs["cp1251.ipynb"]["errors"][0]["message"].startswith("это не ноутбук: файл не в кодировке UTF-8")
    [p2, broken] = nbs["syntax.ipynb"]["errors"]
    assert "Python 2" in p2["message"] and "print(...)" in p2["message"]
    assert broken["message"].startswith("код не разбирается как Python 3 (строка 1")
    assert "Проверьте скобки, кавычки и отступы" in broken["message"]
    text = run_cli("check", str(d), "--format", "text").stdout
    assert "ячейка 2, In [2]: код не разбирается как Python 3" in text
    assert "not UTF-8" not in text and "invalid syntax" not in text
    md = run_cli("check", str(d / "cp1251.ipynb"), "--format", "markdown").stdout
    assert "0 замечаний" not in md and "не удалось прочитать" in md


def test_a_notebook_with_some_bytes_that_are_not_utf8_is_reviewed(tmp_path):
    nb = _nb([CKPT])
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "MARKER"})
    raw = json.dumps(nb, ensure_ascii=False).replace("MARKER", "Привет").encode("utf-8")
    raw = raw.replace("Привет".encode("utf-8"), "Привет".encode("cp1251") + b"\xff\xfe")
    p = _write(tmp_path / "mixed.ipynb", raw)
    report = review_path(p, Options(langs=("ru", "en")))
    assert [f.rule for f in report.findings] == ["checkpoint-save-best-only"]
    [note] = report.errors
    assert note.code == "replaced_bytes" and note.kind == "note" and not report.unreadable
    assert "заменены знаком" in note.text("ru")


# --- batches ---------------------------------------------------------------------------

def _batch(tmp_path: Path) -> Path:
    d = tmp_path / "many"
    sources = sorted((ROOT / "fixtures").rglob("*.ipynb"))
    for i, src in enumerate(sources[:14]):
        (d / f"s{i % 3}").mkdir(parents=True, exist_ok=True)
        (d / f"s{i % 3}" / f"n{i:02d}.ipynb").write_bytes(src.read_bytes())
    _write(d / "broken.ipynb", '{"cells": [')
    return d


@pytest.mark.parametrize("fmt", ["json", "sarif", "text", "markdown", "html", "github"])
def test_jobs_give_the_same_output(tmp_path, fmt):
    d = _batch(tmp_path)
    one = run_cli("check", str(d), "--format", fmt, "--jobs", "1")
    two = run_cli("check", str(d), "--format", fmt, "--jobs", "3")
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout and one.stdout
    assert "Traceback" not in one.stderr + two.stderr
    if fmt in ("json", "sarif"):
        json.loads(one.stdout)


def test_a_worker_that_dies_loses_only_its_notebook(tmp_path, monkeypatch):
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or not sys.platform.startswith("linux"):
        pytest.skip("the crash is planted through fork")
    from nbreview import batch
    from nbreview.render import RenderContext

    d = _batch(tmp_path)
    _write(d / "s1" / "crash.ipynb", _nb([CKPT]))
    real = batch.review_one

    def review_one(path, job, index=0):
        if path.name == "crash.ipynb":
            os._exit(3)
        return real(path, job, index)

    monkeypatch.setattr(batch, "review_one", review_one)
    items = list(discover([d]))
    job = batch.Job(Options(langs=("en",)), "json", RenderContext(lang="en", extra={"total": len(items)}))
    results = list(batch.run(items, job, jobs=2))
    assert [s.path for s, _ in results] == [str(p) for p, _ in items]
    crashed = [s for s, _ in results if s.unreadable and s.path.endswith("crash.ipynb")]
    assert len(crashed) == 1
    assert sum(s.findings for s, _ in results) > 5


def test_a_notebook_that_takes_too_long_is_stopped(tmp_path, monkeypatch):
    from nbreview import batch, engine
    from nbreview.render import RenderContext

    if not hasattr(signal, "setitimer"):
        pytest.skip("needs SIGALRM")
    p = make_notebook([CKPT], tmp_path / "slow.ipynb")
    monkeypatch.setattr(batch, "NOTEBOOK_TIMEOUT", 0.2)
    monkeypatch.setattr(engine, "review_path", lambda *a, **k: time.sleep(5))
    job = batch.Job(Options(langs=("ru",)), "json", RenderContext(lang="ru"))
    start = time.monotonic()
    summary, piece = batch.review_one(p, job)
    assert time.monotonic() - start < 3
    assert summary.unreadable and "остановлен" in piece


@POSIX
def test_ctrl_c_stops_cleanly(tmp_path):
    d = tmp_path / "big"
    src = (ROOT / "fixtures" / "review_keras_mistakes.ipynb").read_bytes()
    for i in range(300):
        _write(d / f"n{i:03d}.ipynb", src)
    proc = subprocess.Popen([sys.executable, "-m", "nbreview", "check", str(d), "--format", "json", "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole process group
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("nbreview did not stop on SIGINT")
    assert proc.returncode in (130, 0, 1), err  # 0/1: it had already finished
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


# --- the command line ------------------------------------------------------------------------

def test_fast_parser_knows_every_option_of_the_typer_command():
    import typer.main

    from nbreview import cli

    command = typer.main.get_command(cli.app).commands["check"]  # type: ignore[attr-defined]
    typer_opts = {o for p in command.params if p.param_type_name == "option"
                  for o in (*p.opts, *getattr(p, "secondary_opts", ()))}
    fast = set(cli.FAST_OPTIONS) | set(cli.FAST_FLAGS)
    assert fast == typer_opts - {"--help"}
    parsed = cli.parse_check(["a.ipynb", "-fjson", "--lang=en", "--select", "x", "--select=y", "-j", "2",
                              "--no-color", "--no-suppressions", "--", "-b.ipynb"])
    assert parsed == {"paths": [Path("a.ipynb"), Path("-b.ipynb")], "format": "json", "lang": "en",
                      "select": ["x", "y"], "jobs": 2, "color": False, "suppressions": False}
    assert cli.parse_check(["a.ipynb", "--help"]) is None and cli.parse_check(["--format"]) is None


def test_unknown_option_and_help_go_to_typer():
    r = run_cli("check", "--no-such-option", "x.ipynb")
    assert r.returncode == 2 and "No such option" in r.stderr
    r = run_cli("check", "--help")
    assert r.returncode == 0 and "--jobs" in r.stdout


def test_progress_counts_every_item_once(tmp_path, monkeypatch):
    from nbreview import cli, progress

    d = _batch(tmp_path)
    steps: list[str] = []
    totals: list[int] = []

    from contextlib import contextmanager

    @contextmanager
    def fake(total, fmt):
        totals.append(total)
        yield lambda path: steps.append(str(path))

    monkeypatch.setattr(progress, "batch_progress", fake)
    out = tmp_path / "out.txt"
    rc = cli.run_check([d, tmp_path / "missing.ipynb"], format="text", output=out, jobs=2)
    assert rc == 1
    assert totals == [len(steps)] and len(steps) == len(set(steps)) == 16


def test_internal_errors_are_notes_in_the_reviews_language(tmp_path, monkeypatch):
    from nbreview import checks, engine

    rule = checks.load_all()["checkpoint-save-best-only"]
    monkeypatch.setattr(type(rule), "check", lambda self, ctx: 1 / 0)
    p = make_notebook([CKPT], tmp_path / "bug.ipynb")
    report = review_path(p, Options(langs=("ru",)))
    [note] = [e for e in report.errors if e.code == "rule_error"]
    assert note.kind == "note" and "ZeroDivisionError" in note.text("ru")
    assert note.text("ru").startswith("внутренняя ошибка в правиле checkpoint-save-best-only")
    monkeypatch.setattr(engine, "review_notebook", lambda *a, **k: 1 / 0)
    report = review_path(p, Options(langs=("ru",)))
    assert report.errors[0].code == "internal_error" and "сообщите" in report.errors[0].text("ru")


def test_masking_fast_path_changes_nothing(monkeypatch):
    from nbreview import ipython
    from nbreview.notebook import load

    sources = [c.source for p in sorted((ROOT / "fixtures").rglob("*.ipynb")) for c in load(p).cells
               if c.cell_type == "code"]
    sources += ["a = !ls\nb = %sx ls", "x?", "  ??y", "x != y", "'%d' % 3", "q = a if b else c  # ?"]
    fast = [ipython.mask(s) for s in sources]
    monkeypatch.setattr(ipython, "_IPYTHON_SYNTAX", type("Always", (), {"search": staticmethod(lambda s: True)}))
    assert fast == [ipython.mask(s) for s in sources]

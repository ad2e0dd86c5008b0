"""The speed work of issue 15 keeps every answer: the caches and indexes give what the plain
computations they replace give."""
from __future__ import annotations

import gc
import json
from pathlib import Path

from nbreview import catalog as cat
from nbreview.facts import analyse
from nbreview.facts.tasks import seq_after
from nbreview.notebook import load, source_positions
from nbreview.program import build

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "fixtures").rglob("*.ipynb"))


def _rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    for p in sorted(cat.content_dir("rules").glob("*.toml"))[:3]:
        (folder / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_catalog_cache_gives_the_parsed_files_and_follows_every_change(tmp_path, monkeypatch):
    import tomllib

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = _rules(tmp_path)
    parsed = [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.toml"))]
    assert cat._parsed(folder) == parsed  # parsed, then written
    cache = cat._cache_file(folder)
    assert cache is not None and cache.is_file()
    assert cat._parsed(folder) == parsed  # read from the cache

    first = sorted(folder.glob("*.toml"))[0]
    first.write_text("severity_note = 'x'\n" + first.read_text(encoding="utf-8"), encoding="utf-8")
    assert cat._parsed(folder)[0]["severity_note"] == "x"  # a changed file is parsed again
    (folder / "extra.toml").write_text('slug = "extra"\ncode = "NBR999"\n', encoding="utf-8")
    assert [d["slug"] for d in cat._parsed(folder)][-1] == "extra"  # so is a new one

    cache.write_text("{not json", encoding="utf-8")
    assert cat._parsed(folder)[-1]["slug"] == "extra"  # a broken cache is only a miss
    assert json.loads(cache.read_text(encoding="utf-8"))["rules"][-1]["slug"] == "extra"


def test_catalog_without_a_writable_cache_folder_is_still_read(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder should be
    folder = _rules(tmp_path)
    assert [d["slug"] for d in cat._parsed(folder)] == [d["slug"] for d in cat._parsed(folder)]
    assert not list(tmp_path.glob("**/*.tmp"))


def test_fact_indexes_answer_as_the_plain_scans():
    for path in NOTEBOOKS:
        facts = analyse(build(load(path)))
        calls, objects = facts.interp.calls, facts.interp.objects
        names = {c.name for c in calls} | {"no.such.api"}
        methods = {c.method for c in calls if c.method} | {"no_such_method"}
        apis = {o.api for o in objects if o.api}
        for every in (False, True):
            for name in names:
                assert facts.calls_to(name, "keras.Model", include_uncalled=every) == [
                    c for c in calls if c.name in (name, "keras.Model") and (every or not c.site.uncalled)]
            for method in methods:
                assert facts.method_calls(method, "fit", include_uncalled=every) == [
                    c for c in calls if c.method in (method, "fit") and (every or not c.site.uncalled)]
            for api in apis:
                assert facts.created(api, api, "keras.layers.Dense", include_uncalled=every) == [
                    o for o in objects if o.kind.name == "CALL" and o.api in (api, "keras.layers.Dense")
                    and (every or not o.site.uncalled)]
            assert facts.created_matching(lambda a: a.startswith("keras."), include_uncalled=every) == [
                o for o in objects if o.kind.name == "CALL" and o.api and o.api.startswith("keras.")
                and (every or not o.site.uncalled)]
        for site in [c.site for c in calls] + [o.site for o in objects]:
            later = [c.seq for c in calls if c.site.funcs == site.funcs and c.site.key >= site.key]
            assert seq_after(facts, site) == (min(later) - 1 if later else max((c.seq for c in calls), default=0))


def test_file_lines_are_the_positions_of_the_stored_text():
    for path in NOTEBOOKS:
        nb = load(path)
        positions = source_positions(nb.raw_text)
        for cell in reversed(range(len(nb.cells))):  # asked in any order
            lines = positions[cell]
            for line in range(1, len(lines) + 1):
                assert nb.file_line(cell, line) == lines[line - 1]


def test_the_collector_is_on_again_after_a_review(tmp_path):
    from nbreview.batch import Job, review_one
    from nbreview.engine import Options

    job = Job(Options(), None)
    review_one(NOTEBOOKS[0], job)
    assert gc.isenabled()

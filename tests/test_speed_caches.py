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


def _layouts():
    """The same notebooks written the ways tools write JSON, and a few that mislead a reader
    going by the layout alone (what `laid_out_cells` and `_laid_out_source` must survive)."""
    src = ["import tensorflow as tf\n", "x = 1\n", "\n", "y = x  # } ]\n", "print(y)"]
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Заголовок\n", "text with \"source\": [ and {\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {"tags": [{"a": 1}, {"b": [1, 2]}]},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["a\n", "  {\n", " \"source\": [\"x\"]\n"]},
                     {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                      "data": {"application/json": {"source": ["import tensorflow as tf\n"], "cells": [{}]}}}],
         "source": src},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "a = 1\r\nb = 2"},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [], "source": []},
        {"cell_type": "raw", "metadata": {}, "source": src[:2]},
    ]
    nb = {"cells": cells, "metadata": {"extra": [{"x": 1}, {"cells": [{"source": "no"}]}]},
          "nbformat": 4, "nbformat_minor": 5}
    for indent in (1, 2, 4, "\t", None):
        for sort in (True, False):
            text = json.dumps(nb, indent=indent, sort_keys=sort, ensure_ascii=False)
            yield text
            yield text.replace("\n", "\r\n")
    # metadata first, laid out so that its arrays look like the cells array
    decoy = {"metadata": {"cells": [{"source": src}] * 5}, "cells": cells, "nbformat": 4, "nbformat_minor": 5}
    yield json.dumps(decoy, indent=1)
    yield json.dumps({"metadata": {"x": {"y": {"cells": [{"source": src}] * 5}}}, **{k: v for k, v in decoy.items()
                                                                                  if k != "metadata"}}, indent=1)
    # one cell's source replaced by a lookalike object placed where the layout reader looks first
    lines = json.dumps(nb, indent=1).split("\n")
    at = next(i for i, line in enumerate(lines) if line == '   "outputs": [],')
    lines.insert(at, '   "source": ["decoy\\n"],')
    yield "\n".join(lines)


def test_file_lines_read_off_the_layout_equal_the_exact_scan(tmp_path):
    from nbreview.notebook import laid_out_cells

    fast = 0
    for k, text in enumerate(_layouts()):
        p = tmp_path / f"layout{k}.ipynb"
        p.write_bytes(text.encode("utf-8"))
        nb = load(p)
        positions = source_positions(nb.raw_text)
        fast += laid_out_cells(nb.raw_text, len(nb.cells)) is not None
        for cell in range(len(nb.cells)):
            for order in (1, -1):  # each cell the first asked for (a mismatch elsewhere must not hide it)
                nb = load(p)
                lines = positions[cell]
                for line in range(1, len(lines) + 1)[::order]:
                    assert nb.file_line(cell, line) == lines[line - 1], (k, cell, line)
    assert fast >= 16  # the usual layouts do take the fast way


def _whole_index(program) -> dict[str, tuple[int, list]]:
    """The notebook-wide name index the per-name queries replaced: one walk over every cell."""
    import ast

    binds: dict[str, int] = {}
    reads: dict[str, list] = {}
    for cc in program.cells:
        if cc.tree is None:
            continue
        for node in ast.walk(cc.tree):
            names, k = (), 1
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    reads.setdefault(node.id, []).append((cc.index, node))
                    continue
                names = (node.id,)
            elif isinstance(node, ast.arg):
                names = (node.arg,)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = (node.name,)
            elif isinstance(node, ast.alias):
                names = ((node.asname or node.name).split(".")[0],)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                names, k = tuple(node.names), 2
            for name in names:
                binds[name] = binds.get(name, 0) + k
    return {n: (binds.get(n, 0), reads.get(n, [])) for n in set(binds) | set(reads)}


def test_name_queries_answer_as_the_whole_notebook_index(tmp_path):
    from nbreview.facts.syntax import Syntax
    from nbreview.notebook import loads

    odd = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1, "id": "a",
         "source": "ｍodel = 1  # a fullwidth letter: the parser reads `model`\nmodel_2 = ｍodel\n"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2, "id": "b",
         "source": "def f():\n    global g, g\n    g = 1\nimport a.b as c, d.e\nfor i in range(3): pass\n"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 3, "id": "c",
         "source": "y = ｍodel + 1  # only the folded spelling in this cell\n"}]}
    programs = [build(load(p)) for p in NOTEBOOKS[::3]] + [build(loads(json.dumps(odd)))]
    for program in programs:
        syntax, index = Syntax(program), _whole_index(program)
        for name in list(index) + ["model_3", "never_used"]:
            binds, reads = index.get(name, (0, []))
            assert syntax.references(name) == (binds, reads), name
            assert syntax.uses(name) == (name in index)
        for base in ["model", "tta_datagen", "val_datagen", "g", "c", "d", "i"]:
            used = frozenset(index)
            want = base if base not in used else next(f"{base}_{n}" for n in range(2, 99) if f"{base}_{n}" not in used)
            assert syntax.fresh_name(base) == want


def test_loop_assigned_names_are_every_store_in_the_body():
    import ast

    from nbreview.facts.interpreter import _assigned_names

    loops = 0
    for path in NOTEBOOKS[::2]:
        for cc in build(load(path)).cells:
            for node in ast.walk(cc.tree) if cc.tree is not None else ():
                if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                    loops += 1
                    want = {n.id for s in node.body for n in ast.walk(s)
                            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                    assert _assigned_names(node.body) == want
    tricky = ast.parse("for x in y:\n    a, (b, *c) = z\n    [d for d in e]\n    if (f := 1): g[0] = h.i = 2\n"
                       "    with o as (p, q): pass\n    try: pass\n    except E as r: del s\n")
    assert _assigned_names(tricky.body[0].body) == {"a", "b", "c", "d", "f", "p", "q"}  # (`del` does not store)
    assert loops > 50


def test_object_histories_are_never_shared():
    from nbreview.facts.values import NO_HISTORY

    src = "import keras\na = keras.Sequential()\nb = keras.Sequential()\na.trainable = False\na['k'] = 1\n"
    from nbreview.notebook import loads

    program = build(loads(json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1, "id": "a", "source": src}]})))
    facts = analyse(program)
    a, b = facts.created("keras.Sequential")
    assert a.attr("trainable").value is False and a.item("k").value == 1
    assert b.attrs is NO_HISTORY and b.setitems is NO_HISTORY and not b.attrs and b.attr("trainable") is None
    assert NO_HISTORY == {}  # still empty: nobody wrote into the shared one


def test_sites_compare_and_hash_by_their_fields():
    import ast

    from nbreview.facts.values import Site

    node = ast.parse("x").body[0]
    a, b = Site(1, node), Site(1, node)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.at(node) == a and a.at(ast.parse("y").body[0]) != a


def test_file_lines_on_random_layouts_equal_the_exact_scan(tmp_path):
    """Seeded random notebooks written every way json.dumps can: each cell asked first on a
    fresh load, so no mismatch found elsewhere can switch the fast way off for it."""
    import random

    from nbreview.notebook import loads

    from nbreview.notebook import laid_out_cells

    rng = random.Random(15)
    fast = 0
    pieces = ['x = 1', '"source": [', '  {', '}', '\\', '"', 'ключ', '\t', '# {"cells": [', '\r', '',
              'print("\\n")', '   "source": ["y"]', '\u2028', '𝔁']

    def text() -> str:
        return "".join(rng.choice(pieces) + rng.choice(["", "\n", " "]) for _ in range(rng.randint(0, 12)))

    for case in range(120):
        cells = []
        for _ in range(rng.randint(1, 6)):
            src = text()
            cell = {"cell_type": rng.choice(["code", "markdown", "raw"]), "metadata": {"k": [{"source": text()}]},
                    "source": src.splitlines(keepends=True) if rng.random() < 0.7 else src}
            if cell["cell_type"] == "code":
                cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [text()]}]
                cell["execution_count"] = None
            cells.append(cell)
        nb = {"cells": cells, "metadata": {"cells": [{"source": text()}]}, "nbformat": 4, "nbformat_minor": 4}
        if rng.random() < 0.5:
            nb = {"metadata": nb["metadata"], "nbformat": 4, "cells": cells}
        raw = json.dumps(nb, indent=rng.choice([1, 2, 3, "\t", " ", None]), sort_keys=rng.random() < 0.5,
                         ensure_ascii=rng.random() < 0.3)
        if rng.random() < 0.3:
            raw = raw.replace("\n", "\r\n")
        positions = source_positions(raw)
        fast += laid_out_cells(raw, len(cells)) is not None
        for cell in range(len(cells)):
            book = loads(raw)
            book.raw_text = raw
            lines = positions[cell]
            for line in range(1, len(lines) + 1):
                assert book.file_line(cell, line) == lines[line - 1], (case, cell, line)
    assert fast > 40  # most layouts take the fast way

"""`nbreview fix` properties, over every notebook we have: the bundled fixtures, the labelled
sets in fixtures/eval/, the dev set (when the checkout has it) and generated benchmark
notebooks.

For every notebook, with safe fixes and with `--unsafe-fixes`:
- the written file is JSON that equals the original except the sources of the corrected
  cells (outputs, metadata, attachments, cell ids, other cells), and validates with nbformat
  when the original does;
- every line of the file that differs lies in a corrected cell's source, and within a cell
  only the lines the corrections replace differ (the rest of the file is byte-identical);
- a check of the written file no longer has the fixed findings and has nothing new (matched
  by rule, cell and the text of an untouched flagged line; no rule gains findings);
- fixing the written file again changes nothing (fix twice = fix once).
"""
from __future__ import annotations

import difflib
import importlib.util
import json
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from nbreview.engine import Options, review_path
from nbreview.fixer import fix_notebook
from nbreview.notebook import source_positions

from .conftest import DEVSET, FIXTURES, ROOT

NOTEBOOKS = sorted(FIXTURES.glob("*.ipynb")) + sorted(FIXTURES.glob("eval/*/*.ipynb")) + \
    (sorted(DEVSET.glob("*.ipynb")) if DEVSET.is_dir() else [])
OPTIONS = Options(use_config=False)


def _id(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def _validates(text: str) -> bool:
    try:
        nbformat.validate(nbformat.reads(text, as_version=nbformat.NO_CONVERT))
        return True
    except Exception:  # noqa: BLE001
        return False


def _cells(doc: dict) -> list[dict]:
    if "cells" in doc:
        return doc["cells"]
    return [c for ws in doc.get("worksheets", []) for c in ws.get("cells", [])]


def _source(cell: dict) -> str:
    src = cell.get("source", cell.get("input", ""))
    return "".join(src) if isinstance(src, list) else src


def _line_text(path: Path, report) -> Counter:
    """Findings keyed by rule, cell and the flagged line's text (stable across edits elsewhere)."""
    cells = {c.index: c.source.split("\n") for c in report.cells}
    out: Counter = Counter()
    for f in report.findings:
        lines = cells.get(f.location.cell, [])
        text = lines[f.location.line - 1].strip() if 0 < f.location.line <= len(lines) else ""
        out[(f.rule, f.location.cell, text)] += 1
    return out


def check_properties(path: Path, tmp_path: Path, unsafe: bool) -> int:
    """Assert every property for one notebook; returns how many findings were fixed."""
    original = path.read_bytes()
    result = fix_notebook(path, OPTIONS, unsafe=unsafe)
    if result.error or not result.changed:
        assert result.fixed is None
        return 0
    fixed = result.fixed
    new = tmp_path / path.name
    new.write_bytes(fixed)
    old_text, new_text = original.decode("utf-8-sig"), fixed.decode("utf-8-sig")
    assert original.startswith(b"\xef\xbb\xbf") == fixed.startswith(b"\xef\xbb\xbf")

    # the JSON is the original's except the corrected sources
    old_doc, new_doc = json.loads(old_text), json.loads(new_text)
    changed = {d.cell for d in result.diffs}
    assert {k: v for k, v in old_doc.items() if k not in ("cells", "worksheets")} == \
        {k: v for k, v in new_doc.items() if k not in ("cells", "worksheets")}
    old_cells, new_cells = _cells(old_doc), _cells(new_doc)
    assert len(old_cells) == len(new_cells)
    for i, (a, b) in enumerate(zip(old_cells, new_cells)):
        if i in changed:
            strip = ("source", "input")
            assert {k: v for k, v in a.items() if k not in strip} == {k: v for k, v in b.items() if k not in strip}
            assert _source(b).replace("\r\n", "\n") == result.diffs[sorted(changed).index(i)].new
        else:
            assert a == b, f"cell {i} changed"
    if _validates(old_text):
        assert _validates(new_text), "the fixed notebook does not validate with nbformat"

    # byte-identical outside the corrected source lines
    major = old_doc.get("nbformat", 4)
    spans = source_positions(old_text, major)
    allowed = {line for i in changed for line in spans[i]}
    old_lines, new_lines = old_text.split("\n"), new_text.split("\n")
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        touched = set(range(i1 + 1, i2 + 1)) or {i1, i1 + 1}  # an insertion sits between two lines
        assert touched & allowed, f"file lines {i1 + 1}..{i2} changed outside a corrected source"
        if i2 > i1:
            assert touched <= allowed, f"file lines {i1 + 1}..{i2} changed outside a corrected source"
    for d in result.diffs:  # within a cell: only the lines of the diff's hunks
        sm = difflib.SequenceMatcher(a=d.old.split("\n"), b=d.new.split("\n"), autojunk=False)
        replaced = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")
        assert replaced <= 12 * max(1, len([a for a in result.applied if a.cell == d.cell])), \
            f"cell {d.cell}: {replaced} lines changed for {len(result.applied)} fixes"

    # re-check: the fixed findings are gone, nothing is new
    before = review_path(path, OPTIONS)
    after = review_path(new, OPTIONS)
    by_rule_before = Counter(f.rule for f in before.findings)
    by_rule_after = Counter(f.rule for f in after.findings)
    applied = Counter(a.rule for a in result.applied)
    for rule, n in by_rule_after.items():
        assert n <= by_rule_before[rule] - applied[rule], (rule, n, by_rule_before[rule], applied[rule])
    old_keys, new_keys = _line_text(path, before), _line_text(new, after)
    for key, n in new_keys.items():
        rule, cell, text = key
        if cell in changed and key not in old_keys:
            # a finding whose flagged line a fix rewrote: it must be one the notebook had there
            assert by_rule_after[rule] <= by_rule_before[rule] - applied[rule]
            continue
        assert n <= old_keys[key], f"new finding after fixing: {key}"
    left = [f for f in after.findings if f.fix is not None and f.edits and (f.fix.safe or unsafe)]
    assert len(left) <= len(result.notes), [f.rule for f in left]

    # fix twice = fix once
    again = fix_notebook(new, OPTIONS, unsafe=unsafe)
    assert again.error is None and not again.changed, [d.unified(str(new)) for d in again.diffs]
    return len(result.applied)


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[_id(p) for p in NOTEBOOKS])
def test_fix_properties(path, unsafe, tmp_path):
    check_properties(path, tmp_path, unsafe)


def _bench_module():
    spec = importlib.util.spec_from_file_location("nbreview_bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_fix_properties_on_generated_notebooks(tmp_path):
    """Thirty notebooks of the benchmark's generator (planted pitfalls, many styles)."""
    bench = _bench_module()
    out = tmp_path / "nbs"
    out.mkdir()
    bench.generate(30, 7, out)
    fixed = 0
    for i, path in enumerate(sorted(out.glob("*.ipynb"))):
        work = tmp_path / f"w{i}"
        work.mkdir()
        fixed += check_properties(path, work, unsafe=False)
    assert fixed > 0


def test_every_fixture_with_fixable_findings_gets_fixed(tmp_path):
    """The property test above would pass vacuously if nothing were fixed."""
    counts = Counter()
    for path in NOTEBOOKS:
        r = fix_notebook(path, OPTIONS)
        counts.update(a.rule for a in r.applied)
    for rule in ("checkpoint-save-best-only", "deprecated-generator-api", "rescale-efficientnet",
                 "augmented-validation"):
        assert counts[rule] > 0, (rule, counts)

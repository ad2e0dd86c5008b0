"""Every rule's documented examples are its tests: bad fires at the right cell and line, good stays silent."""
from __future__ import annotations

import pytest

from nbreview import catalog as cat
from nbreview.checks import load_all
from nbreview.engine import Options, review_path

from .conftest import make_notebook

IMPLEMENTED = load_all()
EXAMPLES = [
    pytest.param(info.slug, i, ex, id=f"{info.slug}-{ex.kind}{i}")
    for info in cat.catalog().values()
    if info.kind == "check"
    for i, ex in enumerate(info.examples)
]


def test_every_implemented_rule_has_a_catalog_entry_with_examples():
    for slug in IMPLEMENTED:
        info = cat.get(slug)
        assert info is not None, slug
        kinds = [e.kind for e in info.examples]
        assert kinds.count("bad") >= 3 and kinds.count("good") >= 3, slug
        for lang in ("ru", "en"):
            for table in (info.title, info.message, info.why, info.fix):
                assert table.get(lang, "").strip(), (slug, lang)


def test_every_catalog_check_is_implemented():
    for info in cat.catalog().values():
        if info.kind == "check":
            assert info.slug in IMPLEMENTED, info.slug


@pytest.mark.parametrize("slug,i,example", EXAMPLES)
def test_example(slug, i, example, tmp_path):
    path = make_notebook(example.cells, tmp_path / f"{slug}-{i}.ipynb")
    report = review_path(path, Options(select={slug}))
    assert not report.unreadable, report.errors
    assert not [e for e in report.errors if "internal error" in e.message], report.errors
    got = sorted({(f.location.cell, f.location.line) for f in report.findings if f.rule == slug})
    if example.kind == "good":
        assert got == [], f"good example fired: {got}"
    else:
        want = sorted({(e["cell"], e["line"]) for e in example.expect})
        assert want, "a bad example must say where it fires"
        assert got == want, f"expected {want}, got {got}"
        for f in report.findings:
            assert "{" not in f.message("ru") and "{" not in f.message("en"), f.message("ru")

"""Every rule's documented examples are its tests (like fixit's Valid/Invalid cases).

A bad example must fire exactly where it says, with the message variant, related cells and
fix it says; its `fixed` cells are what the rule's safe fixes make of it, and the fixed code
no longer fires. A good example stays silent. Every message variant of every rule is shown
by at least one example, and every fix a rule offers is tested by one.
"""
from __future__ import annotations

import pytest

from nbreview import catalog as cat
from nbreview.checks import load_all
from nbreview.edits import fixed_sources
from nbreview.engine import Options, review_path

from .conftest import make_notebook

IMPLEMENTED = load_all()
EXAMPLES = [
    pytest.param(info.slug, i, ex, id=f"{info.slug}-{ex.kind}{i}")
    for info in cat.catalog().values()
    for i, ex in enumerate(info.examples)
]


def test_every_rule_has_a_catalog_entry_with_examples():
    for slug in IMPLEMENTED:
        info = cat.get(slug)
        assert info is not None, slug
        fires = [e for e in info.examples if e.fires]
        assert len(fires) >= 3 and len(info.examples) - len(fires) >= 3, slug
        for lang in ("ru", "en"):
            for table in (info.title, info.message, info.why, info.fix):
                assert table.get(lang, "").strip(), (slug, lang)


def test_every_catalog_entry_is_implemented():
    for info in cat.catalog().values():
        assert info.slug in IMPLEMENTED, info.slug


def test_every_message_variant_is_shown_by_an_example():
    for slug in IMPLEMENTED:
        info = cat.get(slug)
        if info.kind != "check":
            continue
        shown = {e.get("variant", "default") for ex in info.examples if ex.fires for e in ex.expect}
        assert {"default", *info.variants} <= shown, (slug, {"default", *info.variants} - shown)


def _findings(report, slug):
    return [f for f in report.findings if f.rule == slug] + \
        [p for p in report.praise + report.questions if p.rule == slug]


@pytest.mark.parametrize("slug,i,example", EXAMPLES)
def test_example(slug, i, example, tmp_path):
    path = make_notebook(example.cells, tmp_path / f"{slug}-{i}.ipynb", outputs=example.outputs,
                         counts=example.counts)
    report = review_path(path, Options(select={slug}, use_config=False))
    assert not report.unreadable, report.errors
    assert not [e for e in report.errors if "internal error" in e.message], report.errors
    found = _findings(report, slug)
    got = sorted({(f.location.cell, f.location.line) for f in found})
    if not example.fires:
        assert got == [], f"good example fired: {got}"
        return
    want = sorted({(e["cell"], e["line"]) for e in example.expect})
    assert want, "a bad example must say where it fires"
    assert got == want, f"expected {want}, got {got}"
    info = cat.get(slug)
    for expect in example.expect:
        f = next(f for f in found if (f.location.cell, f.location.line) == (expect["cell"], expect["line"]))
        if info.kind != "check":
            continue
        assert f.variant == expect.get("variant", "default"), (f.variant, expect)
        for lang in ("ru", "en"):  # every parameter the message needs is known
            info.render_message(lang, f.params, f.variant, strict=True)
        if "related" in expect:
            assert sorted({r.cell for r in f.related}) == sorted(expect["related"]), f.related
        fix = "none" if f.fix is None else ("safe" if f.fix.safe else "unsafe")
        assert fix == expect.get("fix", fix), (fix, expect)
        if f.fix is not None and f.fix.safe:
            assert example.fixed is not None, "a finding with a safe fix needs `fixed` cells in its example"
            assert f.edits, "a fix is promised but no correction was made"
    if example.fixed is not None:
        _check_fixed(slug, example.fixed, report, tmp_path)
    if example.fixed_unsafe is not None:
        _check_fixed(slug, example.fixed_unsafe, report, tmp_path, unsafe=True)


def _check_fixed(slug, fixed, report, tmp_path, unsafe=False):
    sources = {c.index: c.source for c in report.cells if c.cell_type == "code"}
    safe = [f.edits for f in report.findings if f.rule == slug and f.fix is not None and (f.fix.safe or unsafe)]
    for _ in range(5):  # a round takes every finding whose hunks do not overlap; re-check, repeat
        new, applied = fixed_sources(sources, safe)
        if not applied:
            break
        sources = new
        path = make_notebook([sources[i] for i in sorted(sources)], tmp_path / "fixed.ipynb")
        report = review_path(path, Options(select={slug}, use_config=False))
        safe = [f.edits for f in report.findings if f.fix is not None and (f.fix.safe or unsafe)]
    assert [sources[i] for i in sorted(sources)] == fixed
    remaining = [f for f in report.findings if f.fix is not None and (f.fix.safe or unsafe)]
    assert remaining == [], "the fixed code still has fixable findings"

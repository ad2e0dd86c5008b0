"""The HTML report in a real headless browser (Debian `chromium`, driven by Playwright).

Skipped only when chromium or playwright is missing and CI is not set; under CI=true it runs.
Never runs `playwright install`: it uses the system chromium.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from nbreview.cohort import write_reports
from nbreview.engine import review_path
from nbreview.model import RunReport
from nbreview.render import RenderContext, renderer

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("NBREVIEW_CHROMIUM", "/usr/bin/chromium")
P1 = "<script>alert(1)</script>"
P2 = '"><img src=x onerror=alert(1)>'
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _require_browser():
    under_ci = os.environ.get("CI", "").lower() == "true"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if under_ci:
            pytest.fail("CI=true but playwright is not installed (pip install playwright)")
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        if under_ci:
            pytest.fail(f"CI=true but {CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _open(browser, path: Path):
    page = browser.new_page(java_script_enabled=True)
    events = {"console": [], "dialogs": [], "errors": [], "requests": []}
    page.on("console", lambda m: events["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))

    def on_dialog(d):
        events["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # give an injected onerror handler the time to fire
    return page, events


@pytest.fixture
def hostile(tmp_path):
    """The XSS fixture copied under a file name that carries the payloads too."""
    name = f"x {P1.replace('/', '')} {P2}.ipynb"  # a file name cannot hold '/'
    path = tmp_path / "submissions" / name
    path.parent.mkdir()
    shutil.copy(ROOT / "fixtures" / "review_xss.ipynb", path)
    return path


def _assert_clean(events):
    assert events["dialogs"] == [], events["dialogs"]
    assert events["errors"] == [], events["errors"]
    assert [c for c in events["console"] if c[0] in ("error", "warning")] == [], events["console"]
    assert all(u.startswith(("file://", "data:", "about:")) for u in events["requests"]), events["requests"]


def test_review_renders_without_errors(browser, tmp_path):
    report = review_path(ROOT / "fixtures" / "review_keras_mistakes.ipynb")
    out = tmp_path / "review.html"
    out.write_text(renderer("html")(RunReport([report], "ru"), RenderContext(lang="ru")), encoding="utf-8")
    page, events = _open(browser, out)
    _assert_clean(events)
    assert "Ревью ноутбука review_keras_mistakes.ipynb" in page.title()
    assert page.locator("section.remark").count() == 7  # fit_generator twice: one remark; evaluate_generator: its own
    assert page.locator("tr.m").count() >= 6  # the flagged lines are marked
    assert page.locator("#rule-checkpoint-save-best-only").count() == 1
    page.close()


def test_hostile_notebook_runs_no_script_and_shows_the_text(browser, hostile, tmp_path):
    report = review_path(hostile)
    single = tmp_path / "single.html"
    single.write_text(renderer("html")(RunReport([report], "ru"), RenderContext(lang="ru")), encoding="utf-8")
    page, events = _open(browser, single)
    _assert_clean(events)
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    body = page.inner_text("body")
    assert P1 in body and P2 in body  # shown literally: code, outputs, markdown section, metadata
    assert hostile.name in body  # the file name
    assert f"Python {P1} {P2}" in body  # the kernelspec display name from the metadata
    assert f"раздел «Отчёт {P1}»" in body  # the markdown heading above the cell
    page.close()


def test_cohort_index_and_reports(browser, hostile, tmp_path):
    shutil.copy(ROOT / "fixtures" / "review_keras_mistakes.ipynb", hostile.parent / "b.ipynb")
    (hostile.parent / "broken.ipynb").write_text('{"cells": [')
    from nbreview.engine import review_paths

    run = review_paths([hostile.parent])
    written = write_reports(run, tmp_path / "reports", "html", "ru")
    index = tmp_path / "reports" / "index.html"
    assert index in written
    page, events = _open(browser, index)
    _assert_clean(events)
    assert page.locator("table.cohort tbody tr").count() == 3
    assert page.locator("svg rect").count() >= 1
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    body = page.inner_text("body")
    assert hostile.name.replace(".ipynb", "") in body
    hrefs = [a.get_attribute("href") for a in page.locator("table.cohort a").all()]
    for href in hrefs:
        target, ev2 = _open(browser, index.parent / __import__("urllib.parse").parse.unquote(href))
        _assert_clean(ev2)
        target.close()
    page.close()


def test_javascript_off_still_shows_everything(browser, tmp_path):
    report = review_path(ROOT / "fixtures" / "review_keras_good.ipynb")
    out = tmp_path / "good.html"
    out.write_text(renderer("html")(RunReport([report], "en"), RenderContext(lang="en")), encoding="utf-8")
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(out.as_uri())
    assert "What was done well" in page.inner_text("body")
    assert page.locator("section.note.good").count() == 4
    ctx.close()


def test_numbers_links_and_verdict_agree_in_the_browser(browser, tmp_path):
    """One numbering everywhere: the opening's list, the remarks' headings and the checklist's links
    point at the same remarks; the review ends with a verdict and next steps."""
    report = review_path(ROOT / "fixtures" / "review_keras_mistakes.ipynb")
    out = tmp_path / "numbers.html"
    out.write_text(renderer("html")(RunReport([report], "ru"), RenderContext(lang="ru")), encoding="utf-8")
    page, events = _open(browser, out)
    _assert_clean(events)
    numbers = [t.strip().rstrip(".") for t in page.locator("section.remark h3 .num").all_inner_texts()]
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]
    ids = [page.locator("section.remark").nth(i).get_attribute("id") for i in range(len(numbers))]
    assert ids == [f"remark-{n}" for n in numbers]
    for li in page.locator("ol.top li").all():  # the list under the opening keeps the remarks' numbers
        href = li.locator("a").get_attribute("href")
        assert href == f"#remark-{li.get_attribute('value')}"
    broken = page.locator("ul.checklist li.broken a")
    assert broken.count() >= 1
    for a in broken.all():
        target = a.get_attribute("href")
        assert page.locator(target).count() == 1
        a.click()
        assert page.evaluate("location.hash") == target
    assert page.locator("h3.topic").count() >= 2  # grouped by topic
    assert page.locator("p.verdict").is_visible() and page.locator("ol.steps li").count() == 3
    for text in page.locator("p.autofix").all_inner_texts():
        assert text.startswith(("Автоисправление (nbreview fix)", "Автоматически"))
    page.close()

"""Our labelled sets (fixtures/eval/<purpose>/, the dev set's label schema), scored per label
and per finding over every implemented rule in each notebook's scope (benchmarks/quality.py).
The sets were written independently of the rule code; they are a floor, not an estimate."""
from __future__ import annotations

import pytest

from nbreview import catalog as cat

from .conftest import FIXTURES

import importlib.util
import re
import sys

_spec = importlib.util.spec_from_file_location("nbreview_quality", FIXTURES.parent / "benchmarks" / "quality.py")
quality = importlib.util.module_from_spec(_spec)
sys.modules["nbreview_quality"] = quality
_spec.loader.exec_module(quality)  # type: ignore[union-attr]

SETS = sorted(p for p in (FIXTURES / "eval").iterdir() if (p / "labels.jsonl").exists())
THRESHOLDS = {"error": (0.95, 0.90), "warning": (0.90, 0.80), "advice": (0.90, 0.80)}


@pytest.fixture(scope="module")
def scores():
    return {folder.name: quality.score_set(folder) for folder in SETS}


def test_the_sets_exist_and_use_one_schema():
    assert len(SETS) >= 5
    slug = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
    for folder in SETS:
        for rec in quality.load_labels(folder):
            assert set(rec) <= {"file", "framework", "labels", "praise", "uncertain", "scope", "notes"}, rec["file"]
            assert (folder / rec["file"]).exists(), rec["file"]
            assert "scope" not in rec or set(rec["labels"]) <= set(rec["scope"]), rec["file"]
            assert all(slug.match(s) for s in list(rec["labels"]) + rec.get("scope", [])), rec["file"]


@pytest.mark.parametrize("severity", ["error", "warning", "advice"])
def test_precision_and_recall_per_severity(scores, severity):
    sev = {s: i.severity for s, i in cat.catalog().items()}
    total = quality.Tally()
    for s in scores.values():
        total.add(s.level(severity, sev))
    p_min, r_min = THRESHOLDS[severity]
    details = [d for s in scores.values() for d in s.details if not d.startswith("PRAISE")]
    assert total.precision >= p_min and total.recall >= r_min, (total, details)


def test_findings_point_at_labelled_cells(scores):
    total = quality.Tally()
    for s in scores.values():
        total.add(s.level(None, {}))
    assert total.false == 0 and total.finding_precision >= 0.95, total


def test_praise_is_earned(scores):
    praise = quality.Tally()
    for s in scores.values():
        praise.add(s.praise)
    assert praise.precision >= 0.90, [d for s in scores.values() for d in s.details if d.startswith("PRAISE")]

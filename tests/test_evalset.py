"""Labelled sets written independently of the rule code (fixtures/evalset: varied styles;
fixtures/evalset2: messy course-style notebooks; fixtures/evalset3: traps for false alarms; fixtures/evalset4: modern styles; fixtures/evalset5: notebooks reconstructed from the mentor reviews): the five headline rules must keep
precision >= 0.95 and recall >= 0.90 there, at a labelled cell."""
from __future__ import annotations

import json

import pytest

from nbreview.checks import load_all
from nbreview.engine import Options, review_path

from .conftest import FIXTURES

SCORED = {"checkpoint-save-best-only", "augmented-validation", "rescale-efficientnet", "tta-no-augmentation",
          "deprecated-generator-api"}


@pytest.mark.parametrize("name", ["evalset", "evalset2", "evalset3", "evalset4", "evalset5"])
def test_evalset_precision_recall_and_cells(name):
    evalset = FIXTURES / name
    assert SCORED <= set(load_all())
    tp = fp = fn = wrong_cell = 0
    problems = []
    for line in (evalset / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        unsure = set(rec.get("uncertain", []))
        labels = {slug: set(cells) for slug, cells in rec["labels"].items() if slug in SCORED}
        report = review_path(evalset / rec["file"], Options(select=SCORED))
        assert not report.unreadable, rec["file"]
        found: dict[str, set[int]] = {}
        for f in report.findings:
            found.setdefault(f.rule, set()).add(f.location.cell)
        for slug in SCORED - unsure:
            if slug in labels and slug in found:
                tp += 1
                if labels[slug] and not labels[slug] & found[slug]:
                    wrong_cell += 1
                    problems.append(f"cell {rec['file']} {slug}: {sorted(found[slug])} vs {sorted(labels[slug])}")
            elif slug in found:
                fp += 1
                problems.append(f"FP {rec['file']} {slug} {sorted(found[slug])}")
            elif slug in labels:
                fn += 1
                problems.append(f"FN {rec['file']} {slug}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    assert precision >= 0.95 and recall >= 0.90 and wrong_cell == 0, (precision, recall, problems)

#!/usr/bin/env python3
"""Quality benchmark: nbreview's findings against labelled notebooks, per rule and severity.

    python benchmarks/quality.py                    # every set in fixtures/eval/ and the dev set
    python benchmarks/quality.py fixtures/eval/false-alarm-traps --details
    python benchmarks/quality.py --json quality.json

Every labelled set is a folder with notebooks and a `labels.jsonl` in the dev set's schema
(plus optional `labels.<topic>.jsonl` overlays; see fixtures/eval/README.md): `file`, `framework`, `labels` (slug -> labelled cells; `[]` =
the whole notebook), `praise`, optional `uncertain` (slugs neither rewarded nor punished),
optional `scope` (the slugs the labels are complete for; default: every slug of the
catalog), `notes`.

Two views, over every rule of the catalog that is implemented and in scope:
- per label (notebook x slug, as ../shared/devset/score.py): tp when the slug is labelled
  and found, fp when found but not labelled, fn when labelled but not found;
- per finding: a finding is right when its slug is labelled at its cell, misplaced when the
  slug is labelled elsewhere in that notebook, false when the slug is not labelled there.
Praise is scored the same way per notebook (labels list the praise a mentor would give).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "fixtures" / "eval"
DEVSET = ROOT.parent / "shared" / "devset"


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    right: int = 0  # findings at a labelled cell
    misplaced: int = 0  # findings of a labelled slug at another cell
    false: int = 0  # findings of a slug not labelled in that notebook

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def finding_precision(self) -> float:
        n = self.right + self.misplaced + self.false
        return self.right / n if n else 1.0

    def add(self, other: "Tally") -> None:
        for k in ("tp", "fp", "fn", "right", "misplaced", "false"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Score:
    by_rule: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    praise: Tally = field(default_factory=Tally)
    details: list[str] = field(default_factory=list)
    notebooks: int = 0

    def level(self, severity: str | None, severities: dict[str, str]) -> Tally:
        total = Tally()
        for slug, t in self.by_rule.items():
            if severity is None or severities.get(slug) == severity:
                total.add(t)
        return total


def load_labels(folder: Path) -> list[dict]:
    """The folder's `labels.jsonl`, with any `labels.<topic>.jsonl` overlays merged in: an overlay
    record for the same file adds its labels, scope and uncertain slugs (so labelling a new rule
    on an existing set is a file of its own)."""
    records: dict[str, dict] = {}
    order: list[str] = []
    for path in [folder / "labels.jsonl"] + sorted(folder.glob("labels.*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            name = rec["file"]
            if name not in records:
                records[name] = rec
                order.append(name)
                continue
            base = records[name]
            base.setdefault("labels", {}).update(rec.get("labels", {}))
            if "scope" in base or "scope" in rec:
                base["scope"] = sorted(set(base.get("scope", [])) | set(rec.get("scope", [])))
            if rec.get("uncertain"):
                base["uncertain"] = sorted(set(base.get("uncertain", [])) | set(rec["uncertain"]))
            if rec.get("notes"):
                base["notes"] = (base.get("notes", "") + " " + rec["notes"]).strip()
    return [records[n] for n in order]


def score_set(folder: Path, select: set[str] | None = None) -> Score:
    """Review every labelled notebook of `folder` in process and score it."""
    from nbreview import catalog as cat
    from nbreview.checks import load_all
    from nbreview.engine import Options, review_path

    rules = load_all()
    catalog = cat.catalog()
    checks = {s for s in rules if catalog[s].kind == "check"}
    praises = {s for s in rules if catalog[s].kind == "praise"}
    result = Score()
    for rec in load_labels(folder):
        path = folder / rec["file"]
        report = review_path(path, Options(use_config=False, edits=False))
        result.notebooks += 1
        scope = set(rec["scope"]) if "scope" in rec else set(catalog)
        unsure = set(rec.get("uncertain", []))
        scored = (checks & scope) - unsure
        if select is not None:
            scored &= select
        labels = {s: set(c) for s, c in rec.get("labels", {}).items()}
        found: dict[str, set[int]] = defaultdict(set)
        for f in report.findings:
            found[f.rule].add(f.location.cell)
        for slug in sorted(scored):
            t = result.by_rule[slug]
            lab, got = labels.get(slug), found.get(slug, set())
            if lab is not None and got:
                t.tp += 1
            elif got:
                t.fp += 1
                result.details.append(f"FP {folder.name}/{rec['file']}: {slug} cells {sorted(got)}")
            elif lab is not None:
                t.fn += 1
                result.details.append(f"FN {folder.name}/{rec['file']}: {slug} cells {sorted(lab)}")
            for cell in got:
                if lab is None:
                    t.false += 1
                elif not lab or cell in lab:
                    t.right += 1
                else:
                    t.misplaced += 1
                    result.details.append(f"CELL {folder.name}/{rec['file']}: {slug} at {cell}, "
                                          f"labelled {sorted(lab)}")
        if "praise" in rec and (select is None or select & praises):
            want = set(rec["praise"]) & praises
            given = {p.rule for p in report.praise}
            result.praise.tp += len(want & given)
            result.praise.fp += len(given - want)
            result.praise.fn += len(want - given)
            for slug in sorted(given - want):
                result.details.append(f"PRAISE-FP {folder.name}/{rec['file']}: {slug}")
    return result


def label_sets(args_sets: list[str]) -> list[Path]:
    if args_sets:
        return [Path(s) for s in args_sets]
    found = sorted(p for p in SETS.iterdir() if (p / "labels.jsonl").exists())
    if (DEVSET / "labels.jsonl").exists():
        found.append(DEVSET)
    return found


def severities() -> dict[str, str]:
    from nbreview import catalog as cat

    return {s: i.severity for s, i in cat.catalog().items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="*", help="labelled folders (default: fixtures/eval/* and ../shared/devset)")
    ap.add_argument("--only", help="comma-separated slugs")
    ap.add_argument("--details", action="store_true", help="list every FP, FN and misplaced finding")
    ap.add_argument("--json", type=Path, help="write the numbers here")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    select = set(args.only.split(",")) if args.only else None
    sev = severities()
    out: dict[str, dict] = {}
    total = Score()
    for folder in label_sets(args.sets):
        s = score_set(folder, select)
        total.notebooks += s.notebooks
        for slug, t in s.by_rule.items():
            total.by_rule[slug].add(t)
        total.praise.add(s.praise)
        total.details.extend(s.details)
        a = s.level(None, sev)
        print(f"{folder.name:22} {s.notebooks:3} notebooks  P={a.precision:.2f} R={a.recall:.2f} "
              f"(tp {a.tp} fp {a.fp} fn {a.fn}; findings right {a.right}, misplaced {a.misplaced}, "
              f"false {a.false})  praise P={s.praise.precision:.2f} R={s.praise.recall:.2f}")
        out[folder.name] = {"precision": a.precision, "recall": a.recall, "tp": a.tp, "fp": a.fp, "fn": a.fn}
    print()
    print(f"{'slug':32} {'sev':8} {'tp':>4} {'fp':>4} {'fn':>4} {'right':>6} {'misp':>5} {'false':>6}")
    for slug in sorted(total.by_rule, key=lambda x: (sev.get(x, "?"), x)):
        t = total.by_rule[slug]
        print(f"{slug:32} {sev.get(slug, '?'):8} {t.tp:4} {t.fp:4} {t.fn:4} {t.right:6} {t.misplaced:5} {t.false:6}")
    print()
    for level in ("error", "warning", "advice", None):
        t = total.level(level, sev)
        print(f"{level or 'all':8} P={t.precision:.2f} R={t.recall:.2f} (tp {t.tp} fp {t.fp} fn {t.fn}) "
              f"per finding: {t.finding_precision:.2f} ({t.right} right, {t.misplaced} misplaced, {t.false} false)")
    print(f"praise   P={total.praise.precision:.2f} R={total.praise.recall:.2f} "
          f"(tp {total.praise.tp} fp {total.praise.fp} fn {total.praise.fn})")
    if args.details:
        print()
        print("\n".join(sorted(total.details)))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

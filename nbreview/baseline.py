"""Baselines: adopt nbreview on old submissions and still fail on new mistakes only.

`nbreview check --write-baseline FILE` records every current finding; `--baseline FILE`
then reports only findings that are not in it. A finding is matched by its fingerprint:
sha256 of (the notebook's path relative to the baseline file's folder, the rule slug, the
cell's normalised source). Moving a cell, re-running the notebook or editing other cells
keeps the match; editing the flagged cell makes its findings new again. Several findings
of one rule in one cell are counted: a third one where the baseline has two is new.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from .model import Finding, NotebookReport, RunReport

FORMAT_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or written."""


def normalise(source: str) -> str:
    """Line ends, trailing spaces and blank lines around the code do not change a fingerprint."""
    lines = [ln.rstrip() for ln in source.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def relative_path(notebook: str, root: Path) -> str:
    try:
        rel = os.path.relpath(Path(notebook).resolve(), root.resolve())
    except ValueError:  # another drive on Windows
        rel = str(Path(notebook).resolve())
    return Path(rel).as_posix()


def fingerprint(nb: NotebookReport, f: Finding, root: Path) -> str:
    cell = nb.cell(f.location.cell)
    source = normalise(cell.source) if cell is not None else ""
    h = hashlib.sha256()
    for part in (relative_path(nb.path, root), f.rule, source):
        h.update(part.encode("utf-8", "surrogateescape"))  # a file name need not be UTF-8
        h.update(b"\x00")
    return h.hexdigest()


def report_entries(nb: NotebookReport, root: Path) -> list[dict[str, Any]]:
    """The baseline entries of one notebook's findings."""
    return [{"path": relative_path(nb.path, root), "rule": f.rule, "cell": f.location.cell,
             "fingerprint": fingerprint(nb, f, root)} for f in nb.findings]


def entries(run: RunReport, root: Path) -> list[dict[str, Any]]:
    return [e for nb in run.notebooks for e in report_entries(nb, root)]


def write(run: RunReport, path: Path) -> int:
    """Write the baseline of every finding in `run`; returns how many were recorded."""
    return write_entries(entries(run, path.parent), path)


def write_entries(items: list[dict[str, Any]], path: Path) -> int:
    """Write a baseline of these entries (see report_entries); returns how many were recorded."""
    items = sorted(items, key=lambda e: (e["path"], e["cell"], e["rule"], e["fingerprint"]))
    for e in items:  # a file name that is not UTF-8 is kept as its escaped text
        e["path"] = e["path"].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    doc = {"tool": "nbreview", "baseline_version": FORMAT_VERSION, "findings": items}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(items)


def load(path: Path) -> Counter[str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:  # bad JSON, not UTF-8, absurdly deep
        raise BaselineError(f"baseline {path} is not valid JSON: {str(exc)[:200] or type(exc).__name__}") from None
    if not isinstance(doc, dict) or doc.get("baseline_version") != FORMAT_VERSION \
            or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"{path} is not an nbreview baseline (version {FORMAT_VERSION})")
    try:
        return Counter(str(e["fingerprint"]) for e in doc["findings"])
    except (KeyError, TypeError):
        raise BaselineError(f"baseline {path}: an entry has no fingerprint") from None


def apply(run: RunReport, path: Path) -> int:
    """Remove the findings recorded in the baseline at `path`; returns how many were removed."""
    known = load(path)
    return sum(apply_report(nb, known, path.parent) for nb in run.notebooks)


def apply_report(nb: NotebookReport, known: Counter[str], root: Path) -> int:
    """Remove from one notebook the findings counted in `known` (consumed); returns how many."""
    removed = 0
    kept = []
    for f in nb.findings:
        fp = fingerprint(nb, f, root)
        if known[fp] > 0:
            known[fp] -= 1
            removed += 1
        else:
            kept.append(f)
    nb.findings = kept
    return removed

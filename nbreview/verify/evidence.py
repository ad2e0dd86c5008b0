"""The evidence file of `nbreview verify` (versioned JSON), and how `check --evidence` puts it into
the review. Pure Python: the check path imports this module, never Keras.

Shape (evidence_version 1):

    {"evidence_version": 1, "tool": {...}, "status": "running|complete|interrupted|failed",
     "notebook": {"path", "name", "sha256"}, "started", "finished", "wall_s",
     "environment": {"backend", "device", "keras", "tensorflow", "python", "numpy", ...},
     "data": {"source": "synthetic|folder|csv", "images", "classes", ...},
     "seeds": [0, 1, 2], "recipe": {...}, "plan": {...}, "notes": [...],
     "experiments": {"<rule slug>": {"status": "pending|running|done|partial|interrupted|skipped|failed",
                                     "kind": "training|static", "reason", "seeds_done": [...],
                                     "per_seed": [...], "metrics": {...}, "facts": {...},
                                     "effect": {"direction", "agree", "of"}, "summary": {"ru", "en"},
                                     "lines": [...], "wall_s"}}}

The file is rewritten atomically after every seed of every experiment, so an interrupted run
leaves a valid file with what was measured.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from . import EVIDENCE_VERSION
from .texts import count

DONE = ("done", "partial", "interrupted")


class EvidenceError(Exception):
    pass


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def new_document(notebook: str | Path, seeds: list[int]) -> dict[str, Any]:
    from .. import __version__

    p = Path(notebook)
    return {"evidence_version": EVIDENCE_VERSION, "tool": {"name": "nbreview", "version": __version__},
            "status": "running", "notebook": {"path": str(p), "name": p.name, "sha256": sha256_of(p)},
            "started": now(), "finished": None, "wall_s": 0.0, "environment": {}, "data": {}, "seeds": list(seeds),
            "recipe": {}, "plan": {}, "notes": [], "experiments": {}}


def write(doc: dict[str, Any], path: str | Path) -> None:
    """Atomic: a reader (or a Ctrl-C) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=_jsonable) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _jsonable(v: Any) -> Any:
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, (set, tuple)):
        return list(v)
    return str(v)


def load(path: str | Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or "evidence_version" not in doc:
        raise EvidenceError(f"{path} is not an nbreview verify evidence file")
    if doc["evidence_version"] != EVIDENCE_VERSION:
        raise EvidenceError(f"{path}: evidence version {doc['evidence_version']} (this nbreview reads "
                            f"{EVIDENCE_VERSION}); run nbreview verify again")
    return doc


def load_many(paths: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Evidence files given to --evidence: files, or folders searched for *.verify.json / *.json."""
    out: list[tuple[Path, dict[str, Any]]] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*.json")):
                try:
                    out.append((f, load(f)))
                except EvidenceError:
                    continue
        else:
            out.append((p, load(p)))
    return out


# --- into the review ----------------------------------------------------------------------

SETUP = {
    "ru": {"folder": "на ваших данных", "csv": "на ваших данных", "synthetic": "на синтетических данных"},
    "en": {"folder": "on your data", "csv": "on your data", "synthetic": "on synthetic data"},
}


def attach(run, evidence: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    """Put the measured numbers into the findings of every notebook that has evidence; returns notes
    (evidence matching no notebook, evidence of another version of a notebook)."""
    notes: list[str] = []
    by_sha = {doc["notebook"]["sha256"]: (p, doc) for p, doc in evidence}
    by_name: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for p, doc in evidence:
        by_name.setdefault(doc["notebook"]["name"], []).append((p, doc))
    used: set[str] = set()
    for nb in run.notebooks:
        if nb.unreadable:
            continue
        try:
            sha = sha256_of(nb.path)
        except OSError:
            continue
        match, stale = by_sha.get(sha), False
        if match is None:
            cands = by_name.get(Path(nb.path).name, [])
            if len(cands) == 1:
                match, stale = cands[0], True
                notes.append(f"{match[0]} was measured on another version of {nb.path}")
        if match is None:
            continue
        used.add(str(match[0]))
        attach_report(nb, match[1], str(match[0]), stale)
    for p, _doc in evidence:
        if str(p) not in used:
            notes.append(f"{p} matches none of the notebooks reviewed")
    return notes


def attach_report(report, doc: dict[str, Any], source: str, stale: bool = False) -> None:
    from ..model import OutputEvidence

    exps = doc.get("experiments", {})
    for f in report.findings:  # every finding of a rule carries its measurement (the review shows it once)
        e = exps.get(f.rule)
        ev = OutputEvidence(cell=f.location.cell, execution_count=f.location.execution_count, messages={},
                            lines=[], kind="unverified",
                            data={"experiment": f.rule, "experiment_status": "not_run",
                                  "evidence_file": source})
        if e is not None and e.get("status") in DONE and e.get("summary"):
            ev.kind = "training" if e.get("kind") == "training" else "static"
            part = _for_finding(e, f)
            ev.messages = {lang: message(doc, e, lang, stale, part["summary"].get(lang) if part else None)
                           for lang in ("ru", "en")}
            ev.lines = (part["lines"] if part else list(e.get("lines", []))[:6]) + [setup_line(doc, e)]
            ev.data.update(experiment_status=e["status"], metrics=e.get("metrics", {}), effect=e.get("effect", {}),
                           facts=e.get("facts", {}), seeds=e.get("seeds_done", []))
        else:
            reason_en, reason_ru = unverified_reason(doc, e)
            ev.messages = {"ru": f"Не проверено обучением: {reason_ru}.", "en": f"Not verified by training: {reason_en}."}
            ev.data.update(experiment_status=(e or {}).get("status", "not_run"), reason=reason_en)
        f.evidence.append(ev)


def _for_finding(e: dict[str, Any], f) -> dict[str, Any] | None:
    """The part of an experiment about this finding's place (`places`: "cell:line" -> summary, lines)."""
    places = e.get("places") or {}
    return places.get(f"{f.location.cell}:{f.location.line}")


def message(doc: dict[str, Any], e: dict[str, Any], lang: str, stale: bool, body: str | None = None) -> str:
    """«Проверено обучением на ваших данных (3 запуска ...): <what was measured>»."""
    lang = lang if lang in SETUP else "en"
    body = body if body is not None else (e["summary"].get(lang) or e["summary"].get("en", ""))
    src = doc.get("data", {}).get("source", "synthetic")
    plan = doc.get("plan", {})
    seeds = e.get("seeds_done") or []
    env = doc.get("environment", {})
    if e.get("kind") == "training":
        where = SETUP[lang].get(src, SETUP[lang]["synthetic"])
        nb_backbone = doc.get("recipe", {}).get("fields", {}).get("backbone", {}).get("value")
        if len(seeds) == 1:
            parts = [f"1 {'запуск, сид' if lang == 'ru' else 'run, seed'} {seeds[0]}"]
        else:
            parts = [f"{count(len(seeds), 'run', lang)} " + ("с разными сидами" if lang == "ru" else
                                                             "with different seeds")]
        if plan.get("backbone") and plan.get("backbone") != nb_backbone:
            if nb_backbone in (None, "small-cnn"):
                parts.append(f"{plan['backbone']} " + ("вместо сети ноутбука" if lang == "ru"
                                                       else "standing in for the notebook's network"))
            else:
                parts.append(f"{plan['backbone']} " + ("вместо" if lang == "ru" else "standing in for") +
                             f" {nb_backbone}")
        parts.append(f"{plan.get('image_size')}×{plan.get('image_size')}")
        head = ("Проверено обучением " if lang == "ru" else "Verified by training ") + where
        text = f"{head} ({', '.join(parts)}): {body}"
    else:
        head = "Проверено на установленной Keras" if lang == "ru" else "Checked against the installed Keras"
        text = f"{head} {env.get('keras', '')}: {body}"
    if e.get("status") in ("partial", "interrupted"):
        total = len(doc.get("seeds", []))
        text += (f" Проверка была прервана: измерено {len(seeds)} из {total}." if lang == "ru"
                 else f" The verification was interrupted: {len(seeds)} of {total} runs measured.")
    if stale:
        text += (" (Измерено на другой версии этого ноутбука.)" if lang == "ru"
                 else " (Measured on another version of this notebook.)")
    return text


def setup_line(doc: dict[str, Any], e: dict[str, Any]) -> str:
    env = doc.get("environment", {})
    plan = doc.get("plan", {})
    parts = [f"nbreview verify {doc.get('tool', {}).get('version', '')}".strip()]
    if e.get("kind") == "training":
        parts.append(f"seeds {','.join(str(s) for s in e.get('seeds_done', []))}")
        parts.append(f"{plan.get('backbone')} {plan.get('image_size')}px, {plan.get('epochs')} epochs, "
                     f"batch {plan.get('batch_size')}")
    parts.append(f"keras {env.get('keras', '?')} ({env.get('backend', '?')}, {env.get('device', '?')})")
    if e.get("wall_s") is not None:
        parts.append(f"{e['wall_s']:.0f} s")
    return " · ".join(parts)


def unverified_reason(doc: dict[str, Any], e: dict[str, Any] | None) -> tuple[str, str]:
    if e is None:
        return ("nbreview verify has no experiment for this rule yet",
                "для этого правила в nbreview verify пока нет эксперимента")
    status = e.get("status")
    reason = e.get("reason") or ""
    if status == "skipped":
        return f"the experiment does not apply ({reason})", f"эксперимент неприменим ({reason})"
    if status == "not_selected":
        return "the experiment was not selected (--rules)", "эксперимент не был выбран (--rules)"
    if status == "failed":
        return f"the experiment failed ({reason})", f"эксперимент завершился ошибкой ({reason})"
    if status in ("pending", "running", "interrupted"):
        return "the verification was interrupted before this experiment", \
            "проверку прервали раньше, чем дошла очередь до этого эксперимента"
    return f"no result ({status})", f"нет результата ({status})"

"""Evidence from the notebook's own saved outputs (Keras epoch logs), attached to findings.

Conservative: a log is used only when it clearly belongs to the fit call that the finding
is about, names the monitored metric at every epoch, and the numbers make the point.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .facts import Facts, apis
from .facts.values import Const, Seq
from .model import Finding, OutputEvidence
from .notebook import Notebook

_EPOCH = re.compile(r"^\s*Epoch\s+(\d+)\s*/\s*(\d+)\s*$")
_METRIC = re.compile(r"\b(val_[a-z_0-9]+|loss|accuracy|acc)\s*[:=]\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)")


@dataclass
class EpochLog:
    epoch: int
    metrics: dict[str, float]
    line: str


def output_text(outputs: list) -> str:
    parts: list[str] = []
    for out in outputs:
        if not isinstance(out, dict):
            continue
        if out.get("output_type") == "stream":
            text = out.get("text", "")
        else:
            text = (out.get("data") or {}).get("text/plain", "")
        parts.append("".join(text) if isinstance(text, list) else str(text))
    # progress bars redraw with \r: keep what was printed last on each line
    return "\n".join(seg.split("\r")[-1] for seg in "".join(parts).split("\n"))


def parse_epochs(text: str) -> list[EpochLog]:
    """The last metrics line printed for each `Epoch k/N` header."""
    logs: dict[int, EpochLog] = {}
    current: int | None = None
    for line in text.split("\n"):
        m = _EPOCH.match(line)
        if m:
            current = int(m.group(1))
            continue
        if current is None:
            continue
        metrics = {k: float(v) for k, v in _METRIC.findall(line)}
        if any(k.startswith("val_") for k in metrics):
            logs[current] = EpochLog(current, metrics, line.strip())
    return [logs[k] for k in sorted(logs)]


def attach(nb: Notebook, facts: Facts, findings: list[Finding]) -> None:
    for f in findings:
        if f.rule == "checkpoint-save-best-only":
            ev = _checkpoint_evidence(nb, facts, f)
            if ev is not None:
                f.evidence.append(ev)


def _checkpoint_evidence(nb: Notebook, facts: Facts, f: Finding) -> OutputEvidence | None:
    ckpt = next((o for o in facts.created("keras.callbacks.ModelCheckpoint")
                 if o.site.cell == f.location.cell and o.site.line == f.location.line), None)
    if ckpt is None:
        return None
    monitor = ckpt.arg("monitor", Const("val_loss"))
    if not (isinstance(monitor, Const) and isinstance(monitor.value, str)):
        return None
    metric = monitor.value
    if metric == "val_acc":
        metric = "val_accuracy"  # TF1 name; the log may use either
    for rec in facts.method_calls(*apis.FIT_METHODS):
        cbs = rec.args.get("callbacks")
        if not (isinstance(cbs, Seq) and any(cb is ckpt for cb in cbs.items)):
            continue
        cell = nb.cells[rec.site.cell] if 0 <= rec.site.cell < len(nb.cells) else None
        if cell is None or not cell.outputs:
            continue
        logs = parse_epochs(output_text(cell.outputs))
        key = metric if all(metric in e.metrics for e in logs) else \
            ("val_acc" if metric == "val_accuracy" and all("val_acc" in e.metrics for e in logs) else None)
        if len(logs) < 2 or key is None:
            continue
        higher = "acc" in key
        best = (max if higher else min)(logs, key=lambda e: e.metrics[key])
        last = logs[-1]
        if best.epoch == last.epoch or best.metrics[key] == last.metrics[key]:
            continue
        b, lv = best.metrics[key], last.metrics[key]
        return OutputEvidence(
            cell=rec.site.cell,
            execution_count=cell.execution_count,
            messages={
                "ru": f"По логу обучения лучшее значение `{key}` = {b:g} было на эпохе {best.epoch}, "
                      f"а на последней, {last.epoch}-й, — {lv:g}. Значит, в файле чекпоинта осталась "
                      f"последняя эпоха, а не лучшая.",
                "en": f"In the training log the best `{key}` was {b:g} at epoch {best.epoch}, and "
                      f"{lv:g} at the last one, epoch {last.epoch}. So the checkpoint file holds "
                      f"the last epoch, not the best one.",
            },
            lines=[f"Epoch {best.epoch}: {best.line}", f"Epoch {last.epoch}: {last.line}"],
        )
    return None

"""Per-epoch logs that a notebook printed itself (PyTorch loops, custom Keras loops): the
epoch number and the named numbers on its lines, for evidence from the saved outputs.

Students print epochs in many shapes; what they share is an epoch marker and `name value`
pairs:

    Epoch 12 | lr=0.000245 | train acc 0.6972 | val acc 0.7530
    epoch 03  lr 0.00200  val_loss 0.6588  val_acc 0.7813
    Эпоха 1: lr=5.00e-04, train_loss=1.1269, val_acc=0.6140
    Epoch 29 | lr=0.000109          (and on the next lines)
    train loss: 1.368, train acc: 0.641
    val loss: 2.316, val acc: 0.473

A record starts at each epoch marker and takes the following lines until the next marker.
Names are normalised (`learning rate` -> `lr`, `accuracy` -> `acc`, `valid`/`validation` ->
`val`, spaces -> `_`). Records whose epoch numbers do not increase (several runs printed in
one cell) are cut at the first restart: evidence comes from one run only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_EPOCH = re.compile(r"(?i)(?:^|[^a-zа-я])(?:epoch|эпоха)\s*[:#№]?\s*\[?(\d+)\]?(?:\s*/\s*\d+)?")
_NUM = r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_METRIC = re.compile(
    r"(?i)\b((?:(?:train(?:ing)?|val(?:id(?:ation)?)?|test)[ _]?)?(?:loss|acc(?:uracy)?|f1|score)|lr|learning[ _]rate)"
    r"\s*[:=]?\s*" + _NUM)


@dataclass
class EpochRecord:
    epoch: int
    metrics: dict[str, float] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _key(raw: str) -> str:
    k = re.sub(r"\s+", "_", raw.strip().lower())
    k = k.replace("learning_rate", "lr").replace("training", "train")
    k = re.sub(r"^(validation|valid)", "val", k)
    k = k.replace("accuracy", "acc")
    if k.startswith(("train", "val", "test")) and "_" not in k:
        k = re.sub(r"^(train|val|test)", r"\1_", k)
    return k


def parse(text: str) -> list[EpochRecord]:
    """The per-epoch records of a cell's printed output (one run)."""
    out: list[EpochRecord] = []
    current: EpochRecord | None = None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        m = _EPOCH.search(line)
        if m:
            epoch = int(m.group(1))
            if out and epoch <= out[-1].epoch:
                break  # a second run in the same output: keep the first
            current = EpochRecord(epoch)
            out.append(current)
            line_rest = line[m.end():]
        elif current is None:
            continue
        else:
            line_rest = line
        found = False
        for key, num in _METRIC.findall(line_rest):
            try:
                current.metrics.setdefault(_key(key), float(num))  # type: ignore[union-attr]
                found = True
            except ValueError:
                continue
        if found or m:
            current.lines.append(line)  # type: ignore[union-attr]
    return [r for r in out if r.metrics]


def series(records: list[EpochRecord], key: str) -> list[tuple[int, float, str]]:
    """(epoch, value, the line it was printed on) for every record that has `key`."""
    out = []
    for r in records:
        if key in r.metrics:
            line = next((ln for ln in r.lines if re.search(r"(?i)" + key.replace("_", r"[ _]?")[:6], ln)),
                        r.lines[0] if r.lines else "")
            out.append((r.epoch, r.metrics[key], line))
    return out

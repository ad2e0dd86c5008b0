"""The notebook's own saved outputs, read for evidence: stream and result text with progress
bars collapsed, and Keras epoch logs (`Epoch k/N` then the metrics line). Rules use them in
their `evidence` function, conservatively: a log counts only when it clearly belongs to the
call the finding is about and the numbers make the point."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .notebook import Notebook

_EPOCH = re.compile(r"^\s*Epoch\s+(\d+)\s*/\s*(\d+)\s*$")
_METRIC = re.compile(r"\b(val_[a-z_0-9]+|loss|accuracy|acc|lr|learning_rate)\s*[:=]\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)")
_LR_REDUCED = re.compile(r"ReduceLROnPlateau reducing learning rate", re.I)


@dataclass
class EpochLog:
    epoch: int
    metrics: dict[str, float]
    line: str
    total: int | None = None  # N of the `Epoch k/N` header


@dataclass
class CellError:
    """An exception a cell's saved output shows (`output_type: error`)."""

    name: str  # "KeyboardInterrupt", "ValueError", ...
    value: str  # the exception's message as printed


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
    total: int | None = None
    for line in text.split("\n"):
        m = _EPOCH.match(line)
        if m:
            current, total = int(m.group(1)), int(m.group(2))
            continue
        if current is None:
            continue
        metrics = {k: float(v) for k, v in _METRIC.findall(line)}
        if any(k.startswith("val_") for k in metrics):
            logs[current] = EpochLog(current, metrics, line.strip(), total)
    return [logs[k] for k in sorted(logs)]


class Outputs:
    """The saved outputs of a notebook, as rules read them for evidence."""

    def __init__(self, nb: Notebook) -> None:
        self.nb = nb
        self._epochs: dict[int, list[EpochLog]] = {}

    def cell(self, index: int):
        return self.nb.cells[index] if 0 <= index < len(self.nb.cells) else None

    def text(self, index: int) -> str:
        c = self.cell(index)
        return output_text(c.outputs) if c is not None and c.outputs else ""

    def epochs(self, index: int) -> list[EpochLog]:
        """The Keras epoch log printed by a cell (empty when there is none)."""
        if index not in self._epochs:
            text = self.text(index)
            self._epochs[index] = parse_epochs(text) if text else []
        return self._epochs[index]

    def errors(self, index: int) -> list[CellError]:
        """The exceptions the cell's saved output shows."""
        c = self.cell(index)
        out = []
        for o in (c.outputs if c is not None and c.outputs else []):
            if isinstance(o, dict) and o.get("output_type") == "error":
                out.append(CellError(str(o.get("ename") or ""), str(o.get("evalue") or "")))
        return out

    def lr_reduced(self, index: int) -> bool:
        """Does the output say that ReduceLROnPlateau lowered the learning rate?"""
        return bool(_LR_REDUCED.search(self.text(index)))

    def execution_count(self, index: int) -> int | None:
        c = self.cell(index)
        return c.execution_count if c is not None else None

    @property
    def any(self) -> bool:
        return any(c.has_outputs for c in self.nb.cells)

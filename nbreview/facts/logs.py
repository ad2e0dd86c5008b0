"""The notebook's saved outputs as facts: what Keras printed while the cells ran. Rules cite
them where they prove a point (a monitor Keras warned is unavailable, the metric names an
epoch line shows, the learning rate the log printed) and never need them to fire.
"""
from __future__ import annotations

import re
from functools import cached_property

from ..notebook import Notebook
from ..outputs import Outputs

_PAIR = re.compile(r"^([A-Za-z_][A-Za-z_0-9]*)\s*[:=]\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$")
_EPOCH = re.compile(r"^\s*Epoch\s+(\d+)\s*/\s*(\d+)\s*$")
_NOT_AVAILABLE = re.compile(
    r"(?:conditioned on metric `(?P<a>[^`]+)` which is not available"
    r"|Can save best model only with (?P<b>\S+) available"
    r"|received monitor=(?P<c>[^,\s]+), but Keras isn't able"
    r"|Early stopping conditioned on metric `(?P<d>[^`]+)`)")
_LR_SET = re.compile(r"Epoch\s+0*(\d+):\s*(?:LearningRateScheduler|ReduceLROnPlateau)\s+(?:setting|reducing)\s+"
                     r"learning rate to\s+(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)")
_STEPS = re.compile(r"^\s*(\d+)/(\d+)\s+\[")


class Logs:
    """Keras' printed logs, per cell."""

    def __init__(self, nb: Notebook) -> None:
        self.outputs = Outputs(nb)
        self.nb = nb
        self._lines: dict[int, list[str]] = {}

    @cached_property
    def any(self) -> bool:
        """Does any code cell have saved outputs?"""
        return any(c.has_outputs for c in self.nb.cells if c.cell_type == "code")

    def text(self, cell: int) -> str:
        return self.outputs.text(cell)

    def lines(self, cell: int) -> list[str]:
        if cell not in self._lines:
            self._lines[cell] = [line for line in self.text(cell).split("\n") if line.strip()]
        return self._lines[cell]

    def logged_names(self, cell: int) -> set[str]:
        """Every metric name an epoch line of this cell printed (`loss`, `val_acc`, `lr`, ...)."""
        names: set[str] = set()
        in_epoch = False
        for line in self.lines(cell):
            if _EPOCH.match(line):
                in_epoch = True
                continue
            if not in_epoch or " - " not in line:
                continue
            for part in line.split(" - "):
                m = _PAIR.match(part.strip())
                if m:
                    names.add(m.group(1))
        return names

    def unavailable(self, cell: int, monitor: str) -> str | None:
        """The line where Keras said `monitor` is not available, if this cell printed one."""
        for line in self.lines(cell):
            m = _NOT_AVAILABLE.search(line)
            if m and monitor in {g for g in m.groups() if g}:
                return line.strip()
        return None

    def lr_prints(self, cell: int) -> list[tuple[int, float, str]]:
        """(epoch, learning rate, line) for each LR a callback printed, or the `lr:` of epoch lines."""
        out: list[tuple[int, float, str]] = []
        epoch = 0
        for line in self.lines(cell):
            m = _LR_SET.search(line)
            if m:
                out.append((int(m.group(1)), float(m.group(2)), line.strip()))
                continue
            e = _EPOCH.match(line)
            if e:
                epoch = int(e.group(1))
                continue
            if " - " in line and epoch:
                for part in line.split(" - "):
                    p = _PAIR.match(part.strip())
                    if p and p.group(1) in ("lr", "learning_rate"):
                        out.append((epoch, float(p.group(2)), line.strip()))
        return out

    def steps_per_epoch(self, cell: int) -> int | None:
        """The step count of the progress bars this cell printed (`519/519 [====...`)."""
        totals = {int(m.group(2)) for line in self.lines(cell) if (m := _STEPS.match(line))}
        return totals.pop() if len(totals) == 1 else None

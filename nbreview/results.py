"""What the saved outputs say about the run as a whole, for the review's "results" notes: a
training interrupted by hand, a cell that stopped on an exception, a learning rate that a
schedule never changed. Each note says only what the printed output shows.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .model import OutputEvidence
from .outputs import Outputs
from .plural import count

if TYPE_CHECKING:
    from .facts import Facts
    from .notebook import Notebook

_EPOCH_HEADER = re.compile(r"^\s*Epoch\s+(\d+)\s*/\s*(\d+)\s*$", re.M)
LR_KEYS = ("lr", "learning_rate")
MIN_EPOCHS_FOR_LR = 3
MAX_VALUE = 160


def read(nb: "Notebook", facts: "Facts", outputs: Outputs | None = None) -> list[OutputEvidence]:
    outputs = outputs or Outputs(nb)
    notes: list[OutputEvidence] = []
    for c in nb.cells:
        if c.cell_type != "code" or not c.outputs:
            continue
        note = _stopped(outputs, c.index)
        if note is not None:
            notes.append(note)
    notes.extend(_lr_never_changed(facts, outputs))
    return notes


def _stopped(outputs: Outputs, cell: int) -> OutputEvidence | None:
    errors = outputs.errors(cell)
    if not errors:
        return None
    err = errors[-1]
    ec = outputs.execution_count(cell)
    headers = _EPOCH_HEADER.findall(outputs.text(cell))
    if err.name == "KeyboardInterrupt":
        if headers:
            k, n = (int(x) for x in headers[-1])
            if k <= n:
                return OutputEvidence(cell, ec, {
                    "ru": f"Обучение здесь прервано вручную на эпохе {k} из {n} (в выводе — `KeyboardInterrupt`), "
                          f"то есть модель обучилась не до конца.",
                    "en": f"Training was interrupted by hand here at epoch {k} of {n} (the output shows "
                          f"`KeyboardInterrupt`), so the model did not finish training.",
                })
        return OutputEvidence(cell, ec, {
            "ru": "Выполнение этой ячейки прервано вручную (в выводе — `KeyboardInterrupt`), она не дошла до конца.",
            "en": "This cell was interrupted by hand (the output shows `KeyboardInterrupt`); it did not finish.",
        })
    name = err.name or "Exception"
    value = " ".join(err.value.split())
    if len(value) > MAX_VALUE:
        value = value[:MAX_VALUE].rsplit(" ", 1)[0] + " …"
    return OutputEvidence(cell, ec, {
        "ru": f"В сохранённом выводе этой ячейки — ошибка `{name}`: ячейка не выполнилась до конца.",
        "en": f"The saved output of this cell shows an error, `{name}`: the cell did not finish.",
    }, lines=[f"{name}: {value}" if value else name])


def _lr_never_changed(facts: "Facts", outputs: Outputs) -> list[OutputEvidence]:
    """A fit with an LR callback whose epoch log shows the same learning rate every epoch."""
    from .facts.tasks import KERAS_LR_CALLBACKS

    notes = []
    seen: set[int] = set()
    for cb in facts.created(*KERAS_LR_CALLBACKS):
        for rec in facts.fits_with_callback(cb):
            cell = rec.site.cell
            if cell in seen:
                continue
            logs = outputs.epochs(cell)
            key = next((k for k in LR_KEYS if logs and all(k in e.metrics for e in logs)), None)
            if key is None or len(logs) < MIN_EPOCHS_FOR_LR or outputs.lr_reduced(cell):
                continue
            values = {e.metrics[key] for e in logs}
            if len(values) != 1:
                continue
            seen.add(cell)
            lr = values.pop()
            what = (cb.api or "").rsplit(".", 1)[-1]
            notes.append(OutputEvidence(cell, outputs.execution_count(cell), {
                "ru": f"По логу обучения learning rate за всё обучение ({count(len(logs), 'epoch', 'ru')}) "
                      f"оставался {lr:g}: {what} ни разу его не изменил.",
                "en": f"In the training log the learning rate stayed at {lr:g} for the whole run "
                      f"({count(len(logs), 'epoch', 'en')}): {what} never changed it.",
            }, lines=[logs[0].line, logs[-1].line]))
    return notes

"""The course project's checklist: which tasks the notebook attempted, and where.

A task is marked done only on clear evidence in the code (see each finder below); it is
a query over the same Facts as the rules, with no rule's logic of its own.
"""
from __future__ import annotations

import ast

from .facts import Facts, apis
from .facts.models import is_backbone, is_pretrained
from .facts.values import Const, Obj, Seq, Site

# The course project's task list (see the README's "The review" section).
CHECKLIST_TASKS = ("transfer-learning", "fine-tuning", "lr-schedule", "augmentation", "tta", "ensembling",
                   "external-data", "submission-file")
TASK_TITLES: dict[str, dict[str, str]] = {
    "ru": {
        "transfer-learning": "Transfer learning на предобученной сети",
        "fine-tuning": "Fine-tuning: разморозка предобученной сети",
        "lr-schedule": "Расписание learning rate",
        "augmentation": "Аугментации",
        "tta": "Test-time augmentation (TTA)",
        "ensembling": "Ансамбль моделей",
        "external-data": "Внешние данные",
        "submission-file": "Файл для сабмита",
    },
    "en": {
        "transfer-learning": "Transfer learning from a pretrained backbone",
        "fine-tuning": "Fine-tuning: unfreezing the pretrained backbone",
        "lr-schedule": "Learning-rate schedule",
        "augmentation": "Augmentation",
        "tta": "Test-time augmentation (TTA)",
        "ensembling": "Model ensemble",
        "external-data": "External data",
        "submission-file": "Submission file",
    },
}

LR_SCHEDULE_APIS = ("keras.callbacks.ReduceLROnPlateau", "keras.callbacks.LearningRateScheduler")
LR_SCHEDULE_PREFIXES = ("keras.optimizers.schedules.", "torch.optim.lr_scheduler.",
                        "keras.experimental.CosineDecay", "tensorflow_addons.optimizers.Cyclical")


def checklist(facts: Facts) -> list[tuple[str, bool, int | None]]:
    found: dict[str, int | None] = {}

    def mark(task: str, site: Site | None) -> None:
        if task not in found and site is not None:
            found[task] = site.cell

    backbones = [o for o in facts.created_matching(lambda a: True) if is_backbone(o) and is_pretrained(o)]
    torch_models = facts.created_matching(lambda a: a.startswith(("torchvision.models.", "timm.create_model")))
    for o in backbones + [o for o in torch_models if is_pretrained(o)]:
        mark("transfer-learning", o.site)
        break
    mark("fine-tuning", facts.unfreezes[0][0] if facts.unfreezes else None)
    mark("fine-tuning", facts.torch_fine_tuned[0].optimizer.site if facts.torch_fine_tuned else None)
    for o in facts.created_matching(lambda a: a in LR_SCHEDULE_APIS or a.startswith(LR_SCHEDULE_PREFIXES)):
        mark("lr-schedule", o.site)
        break
    for rec in facts.method_calls(*apis.FIT_METHODS):
        x = rec.args.get("x")
        if isinstance(x, Obj) and facts.augments(x).value:
            mark("augmentation", x.site)
            break
    if "augmentation" not in found:
        for o in facts.created_matching(lambda a: a.startswith(("albumentations.", "imgaug.",
                                                                "torchvision.transforms.", "keras.layers."))):
            if facts.transform_augments(o).value:
                mark("augmentation", o.site)
                break
    for rec, _loop in facts.tta_calls():  # attempted; whether it works is the checks' business
        mark("tta", rec.site)
        break
    for _outer, _inner, rec, _data in facts.repeated_passes():  # PyTorch: the loader walked several times
        mark("tta", rec.site)
        break
    mark("ensembling", _ensemble_site(facts))
    mark("external-data", _external_data_site(facts))
    mark("submission-file", _submission_site(facts))
    return [(t, t in found, found.get(t)) for t in CHECKLIST_TASKS]


def _ensemble_site(facts: Facts) -> Site | None:
    """Predictions of two or more different models combined in one cell, or a loop over models."""
    by_cell: dict[int, dict[int, Site]] = {}
    for rec in facts.method_calls(*apis.PREDICT_METHODS):
        recv = rec.receiver
        if isinstance(recv, Obj):
            by_cell.setdefault(rec.site.cell, {}).setdefault(recv.id, rec.site)
        node = rec.site.node
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Name):
            for loop in rec.site.loops:
                if node.func.value.id in loop.targets and isinstance(loop.over, Seq) and len(loop.over.items) >= 2:
                    return rec.site
    for sites in by_cell.values():
        if len(sites) >= 2:
            return min(sites.values(), key=lambda s: s.key)
    return None


def _external_data_site(facts: Facts) -> Site | None:
    for cell, cmd in facts.program.shell_commands:
        if "kaggle datasets download" in cmd.text:
            cc = facts.program.code_cell(cell)
            if cc is not None and cc.tree is not None:
                return Site(cell, ast.Pass(lineno=cmd.line, col_offset=0))
    for rec in facts.calls_to("tensorflow_datasets.load"):
        return rec.site
    return None


def _submission_site(facts: Facts) -> Site | None:
    for rec in facts.method_calls("to_csv"):
        path = rec.args.get("#0", rec.args.get("path_or_buf"))
        if isinstance(path, Const) and isinstance(path.value, str) and "sub" in path.value.lower():
            return rec.site
    return None

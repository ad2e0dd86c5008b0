"""The course project's checklist: which tasks the notebook did, where, and whether they work.

A task is "done" only when the code that does it is live (it reaches training or prediction,
and its cell ran when the notebook's execution counts can tell) and no finding says it does
not work. A task attempted but broken is "broken" and points at the findings that say so:
a rule declares which task its findings break with `task = "..."` in its catalog file, and a
finding anchored on the very line of the attempt (a callback passed to no `fit`) is linked
too. Code that is there but never used is "unused"; code in a cell that never ran is "not_run".

It is a query over the same Facts as the rules, with no rule's logic of its own.
"""
from __future__ import annotations

import ast
from typing import Iterable

from . import catalog as cat
from .facts import Facts, apis
from .facts.loops import names_in, repeats
from .facts.models import backbones, is_backbone, is_model, is_pretrained, root
from .facts.tasks import Attempt
from .facts.values import Const, Obj, Seq, Site
from .model import ChecklistItem, Finding

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
# What a mentor suggests next when a task is not found (the verdict's next steps use these).
TASK_IDEAS: dict[str, dict[str, str]] = {
    "ru": {
        "fine-tuning": "после обучения головы разморозьте предобученную сеть и дообучите её с маленьким learning rate",
        "lr-schedule": "добавьте расписание learning rate (например, ReduceLROnPlateau или косинусное затухание)",
        "augmentation": "добавьте аугментации обучающих изображений: на небольшом датасете это главный способ бороться с переобучением",
        "tta": "попробуйте TTA: усредните предсказания по нескольким аугментированным версиям тестовых изображений",
        "ensembling": "попробуйте ансамбль: усреднение предсказаний двух-трёх разных моделей обычно прибавляет точность",
    },
    "en": {
        "fine-tuning": "after training the head, unfreeze the pretrained backbone and train it further with a small learning rate",
        "lr-schedule": "add a learning-rate schedule (ReduceLROnPlateau or a cosine decay, for instance)",
        "augmentation": "augment the training images: on a small dataset it is the main defence against overfitting",
        "tta": "try TTA: average the predictions over several augmented versions of each test image",
        "ensembling": "try an ensemble: averaging the predictions of two or three different models usually adds accuracy",
    },
}
MAX_VIEWS = 64  # a loop over at most this many literal views of a batch (flips, crops) is TTA


def checklist(facts: Facts, findings: Iterable[Finding] = ()) -> list[ChecklistItem]:
    """Every task of the project, with its status (see ChecklistItem) and the findings that break it."""
    findings = list(findings)
    rules = cat.catalog()
    was_run = facts.notebook_ran
    attempts = {
        "transfer-learning": _transfer_learning(facts),
        "fine-tuning": _fine_tuning(facts),
        "lr-schedule": facts.lr_schedules(),
        "augmentation": _augmentation(facts),
        "tta": _tta(facts),
        "ensembling": [Attempt(s) for s in facts.ensembles()],
        "external-data": [Attempt(s) for s in _external_data(facts)],
        "submission-file": [Attempt(s) for s in facts.submission_writes()],
    }
    out = []
    for task in CHECKLIST_TASKS:
        breaking = [f for f in findings if (info := rules.get(f.rule)) is not None and info.task == task]
        out.append(_status(task, attempts[task], breaking, findings, facts, was_run))
    return out


def _status(task: str, attempts: list[Attempt], breaking: list[Finding], findings: list[Finding],
            facts: Facts, was_run: bool) -> ChecklistItem:
    """The best attempt decides: a working one makes the task done; otherwise say why not."""
    judged = []
    owners = {id(f): _owners(f, attempts) for f in breaking}
    for i, a in enumerate(attempts):
        broken = [f for f in breaking if i in owners[id(f)]]
        at_line = [f for f in findings if _at(f, a.site) and f not in broken]
        if broken:
            status = "broken"
        elif a.live is False:
            status = "unused"
        elif was_run and not facts.executed(a.site.cell):
            status = "not_run"
        elif a.works is None:
            status = "present"
        else:
            status = "done"
        judged.append((("done", "present", "broken", "unused", "not_run").index(status), a, status,
                       broken if status == "broken" else at_line))
    if judged:
        _rank, a, status, linked = min(judged, key=lambda j: (j[0], j[1].site.key))
        return ChecklistItem(task, status == "done", a.site.cell, status, a.site.line,
                             linked if status != "done" else [])
    if breaking:  # the finding saw an attempt the checklist's own search did not
        first = min(breaking, key=lambda f: f.sort_key)
        return ChecklistItem(task, False, first.location.cell, "broken", first.location.line, breaking)
    return ChecklistItem(task, False, None, "missing")


def _owners(f: Finding, attempts: list[Attempt]) -> set[int]:
    """The attempts a finding is about: those sharing the most cells with it (one attempt: that one)."""
    if len(attempts) == 1:
        return {0}
    overlap = [len(a.cells & _cells(f)) for a in attempts]
    best = max(overlap, default=0)
    return {i for i, n in enumerate(overlap) if n == best and n > 0}


def _cells(f: Finding) -> set[int]:
    return {f.location.cell} | {r.cell for r in f.related}


def _at(f: Finding, site: Site) -> bool:
    locs = [f.location, *f.related]
    return any(loc.cell == site.cell and loc.line <= site.line <= (loc.end_line or loc.line) for loc in locs)


# --- the tasks --------------------------------------------------------------------------

def _transfer_learning(facts: Facts) -> list[Attempt]:
    out = []
    trained = [set(map(id, backbones(model))) for _rec, model in facts.models_trained()]
    for o in facts.created_matching(lambda a: True):
        if not (is_backbone(o) or (o.api or "").startswith(("torchvision.models.", "timm.create_model"))):
            continue
        if not is_pretrained(o):
            continue
        live: bool | None = None
        if is_backbone(o) and trained:
            live = True if any(id(o) in parts for parts in trained) else None
        out.append(Attempt(o.site, live))
    return out


def _fine_tuning(facts: Facts) -> list[Attempt]:
    out = [Attempt(site, facts.trained_after(site, bb)) for site, bb, _whole in facts.unfreezes]
    out += _keras_never_frozen(facts)
    out += _torch_fine_tuning(facts)
    return out


def _keras_never_frozen(facts: Facts) -> list[Attempt]:
    """A pretrained Keras backbone trained as a whole from the start: no `trainable = False`
    anywhere in the notebook (any freezing we cannot tie to a backbone makes us stay silent)."""
    if any(attr == "trainable" and not (isinstance(v, Const) and v.value is True)
           for _site, _base, attr, v in facts.interp.attr_sets):
        return []
    for rec, model in facts.models_trained():
        if any(is_pretrained(bb) for bb in backbones(model)):
            return [Attempt(rec.site)]
    return []


def _torch_fine_tuning(facts: Facts) -> list[Attempt]:
    """A pretrained torchvision/timm model whose parameters the optimizer trains, none frozen
    (full fine-tuning), or frozen and then unfrozen (`requires_grad = True` after `= False`)."""
    pretrained = [o for o in facts.created_matching(lambda a: a.startswith(("torchvision.models.", "timm.create_model")))
                  if is_pretrained(o)]
    if not pretrained:
        return []
    grads = [(site, value) for site, _base, attr, value in facts.interp.attr_sets
             if attr == "requires_grad" and isinstance(value, Const) and not site.uncalled]
    grads += [(rec.site, rec.args.get("#0", Const(True))) for rec in facts.method_calls("requires_grad_")]
    frozen = [s for s, v in grads if isinstance(v, Const) and v.value is False]
    unfrozen = [s for s, v in grads if isinstance(v, Const) and v.value is True]
    if frozen:
        later = [s for s in unfrozen if s.key > min(s2.key for s2 in frozen)]
        return [Attempt(later[0])] if later else []
    for opt in facts.created_matching(lambda a: a.startswith("torch.optim.") and "lr_scheduler" not in a):
        params = opt.args.get("params", opt.args.get("#0"))
        if isinstance(params, Obj) and params.api == "parameters" and root(params.origin, "model") in pretrained:
            return [Attempt(opt.site)]
    return []


def _augmentation(facts: Facts) -> list[Attempt]:
    out = []
    for rec in facts.method_calls(*apis.FIT_METHODS):
        x = rec.args.get("x")
        if isinstance(x, Obj) and facts.augments(x).value:
            out.append(Attempt(x.site))
    for o in facts.created_matching(lambda a: a.startswith(("albumentations.", "imgaug.", "torchvision.transforms.",
                                                            "keras.layers."))):
        if facts.transform_augments(o).value:
            out.append(Attempt(o.site, None))
    return out


def _tta(facts: Facts) -> list[Attempt]:
    """Predictions repeated over the same data (a loop around predict, a repeated pass over a
    loader), or several views of each batch (a loop over flips) that the model predicts."""
    out = []
    for rec, loop in facts.tta_calls():
        data = rec.args.get("x")
        out.append(Attempt(rec.site, cells={loop.cell} | ({data.site.cell} if isinstance(data, Obj) else set()),
                           works=facts.augments(data).value or None))
    for outer, inner, call, data in facts.repeated_passes():
        out.append(Attempt(Site(outer.cell, outer.node), cells={inner.cell, call.site.cell, data.site.cell},
                           works=facts.augments(data).value or None))
    for rec in facts.calls:
        if rec.site.uncalled or not (rec.method in apis.PREDICT_METHODS or
                                     (rec.name == "()" and is_model(rec.callee))):
            continue
        node = rec.site.node
        if not isinstance(node, ast.Call):
            continue
        inputs = set().union(*(names_in(a) for a in node.args)) if node.args else set()
        model_names = names_in(node.func.value if isinstance(node.func, ast.Attribute) else node.func)
        for loop in rec.site.loops:
            views = isinstance(loop.over, Seq) and loop.count is not None and 2 <= loop.count <= MAX_VIEWS
            if views and not (model_names & loop.targets) and (inputs & (loop.targets | loop.assigned)) \
                    and repeats(facts, loop):
                out.append(Attempt(rec.site))
                break
    return out


def _external_data(facts: Facts) -> list[Site]:
    out = []
    for cell, cmd in facts.program.shell_commands:
        if "kaggle datasets download" in cmd.text:
            cc = facts.program.code_cell(cell)
            if cc is not None and cc.tree is not None:
                out.append(Site(cell, ast.Pass(lineno=cmd.line, col_offset=0)))
    out += [rec.site for rec in facts.calls_to("tensorflow_datasets.load")]
    return out

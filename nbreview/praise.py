"""What was done well, what a mentor would ask, and which project tasks were attempted.

Praise, questions and the checklist are queries over the same Facts as the checks. They
are deliberately conservative: praise only what the analysis can see for sure (a wrong
compliment costs trust as much as a wrong remark), and mark a checklist task done only on
clear evidence in the code.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from .facts import Facts, apis
from .facts.pipelines import is_backbone
from .facts.values import Const, Func, Obj, Seq, Site, Value

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
TTA_ENOUGH_PASSES = 10


@dataclass
class Mark:
    """One praise or question as found: which catalog entry, and where."""

    slug: str
    site: Site


@dataclass
class Assessment:
    praise: list[Mark]
    questions: list[Mark]
    checklist: list[tuple[str, bool, int | None]]  # (task, done, cell)


def assess(facts: Facts) -> Assessment:
    praise = _dedupe(list(_praise(facts)))
    questions = _dedupe(list(_questions(facts)))
    return Assessment(praise, questions, checklist(facts))


def _dedupe(marks: list[Mark]) -> list[Mark]:
    seen: set[str] = set()
    out = []
    for m in sorted(marks, key=lambda m: m.site.key):
        if m.slug not in seen:  # one compliment per kind is enough
            seen.add(m.slug)
            out.append(m)
    return out


# --- praise ----------------------------------------------------------------------------

def _praise(facts: Facts) -> Iterator[Mark]:
    yield from _clean_validation(facts)
    yield from _albumentations(facts)
    yield from _real_tta(facts)
    site = _unfreeze_site(facts)
    if site is not None:
        yield Mark("good-fine-tuning", site)


def _clean_validation(facts: Facts) -> Iterator[Mark]:
    for rec in facts.method_calls(*apis.FIT_METHODS):
        x, val = rec.args.get("x"), rec.args.get("validation_data")
        if not isinstance(x, Obj) or not isinstance(val, Obj):
            continue
        if facts.augments(x).value is True and facts.augments(val).value is False:
            yield Mark("good-clean-validation", val.site)


def _albumentations(facts: Facts) -> Iterator[Mark]:
    """An albumentations/imgaug pipeline that augments and feeds the data the model trains on."""
    for rec in facts.method_calls(*apis.FIT_METHODS):
        x = rec.args.get("x")
        if not (isinstance(x, Obj) and facts.augments(x).value):
            continue
        for node in _pipeline(x):
            for v in node.args.values():
                for t in _transforms_in(facts, v):
                    if facts.sem.transform_augments(t).value:
                        yield Mark("good-albumentations", t.site)
                        return


def _pipeline(x: Obj) -> Iterator[Obj]:
    """The data object and what it was derived from (flow -> generator, map -> dataset, ...)."""
    v: Value | None = x
    for _ in range(20):
        if not isinstance(v, Obj):
            return
        yield v
        v = v.origin if v.kind != "call" else v.args.get("dataset")


def _is_albu_pipeline(v: Value | None) -> bool:
    return isinstance(v, Obj) and v.kind == "call" and (v.api or "").startswith(("albumentations.", "imgaug."))


def _transforms_in(facts: Facts, v: Value | None) -> list[Obj]:
    """Albumentations objects used directly as an argument, or called inside a function passed."""
    if _is_albu_pipeline(v):
        return [v]  # type: ignore[list-item]
    if isinstance(v, Func):
        return [rec.callee for rec in facts.calls_in(v) if _is_albu_pipeline(rec.callee)]  # type: ignore[misc]
    return []


def _tta_calls(facts: Facts):
    from .checks.tta_no_augmentation import tta_loop  # the same notion of TTA as the check

    for rec in facts.method_calls(*apis.PREDICT_METHODS):
        loop = tta_loop(facts, rec)
        if loop is not None:
            yield rec, loop


def _real_tta(facts: Facts) -> Iterator[Mark]:
    for rec, loop in _tta_calls(facts):
        data = rec.args.get("x")
        if loop.count is not None and loop.count >= TTA_ENOUGH_PASSES and facts.augments(data).value is True:
            yield Mark("good-real-tta", rec.site)


def _backbone_of(v: Value | None) -> Obj | None:
    """The backbone a value belongs to: the backbone itself, or a layer taken from `backbone.layers`."""
    for _ in range(8):
        if not isinstance(v, Obj):
            return None
        if is_backbone(v):
            return v
        if v.kind in ("iter", "subscript", "item") or (v.kind == "attr" and v.api == "layers"):
            v = v.origin
            continue
        return None
    return None


def _unfreeze_sites(facts: Facts) -> list[tuple[Site, Obj, bool]]:
    """(site, backbone, whole?) for every `.trainable = True` on a backbone or its layers."""
    out = []
    # the unfrozen backbone must be the one inside a model that is trained (a re-created
    # backbone that no fitted model holds changes nothing: that is backbone-not-in-model)
    trained = [facts.sem.backbones(model) for _rec, model in facts.models_trained()]
    for site, base, attr, value in facts.interp.attr_sets:
        if attr != "trainable" or not (isinstance(value, Const) and value.value is True) or site.uncalled:
            continue
        bb = _backbone_of(base)
        if bb is not None and (not trained or any(bb in parts for parts in trained)):
            out.append((site, bb, base is bb))
    return out


def _unfreeze_site(facts: Facts) -> Site | None:
    sites = _unfreeze_sites(facts)
    return sites[0][0] if sites else None


# --- questions -------------------------------------------------------------------------

def _questions(facts: Facts) -> Iterator[Mark]:
    sites = _unfreeze_sites(facts)
    partial = [s for s, _bb, whole in sites if not whole]
    if partial:  # unfreezing layer by layer or a slice of the backbone
        yield Mark("question-staged-unfreezing", partial[0])
    for _rec, model in facts.models_trained():
        parts = facts.sem.model_parts(model)
        if not any(is_backbone(p) for p in parts):
            continue
        dense = [p for p in parts if p.api == "keras.layers.Dense"]
        extra = [p for p in parts if p.api in ("keras.layers.BatchNormalization", "keras.layers.Dropout")]
        if len(dense) >= 2 and extra:
            yield Mark("question-heavy-head", dense[0].site)
            break
    for rec, _loop in _tta_calls(facts):
        if facts.augments(rec.args.get("x")).value is True:
            yield Mark("question-adaptive-tta", rec.site)
            break


# --- the project checklist ---------------------------------------------------------------

def checklist(facts: Facts) -> list[tuple[str, bool, int | None]]:
    found: dict[str, int | None] = {}

    def mark(task: str, site: Site | None) -> None:
        if task not in found and site is not None:
            found[task] = site.cell

    backbones = [o for o in facts.created_matching(lambda a: True) if is_backbone(o) and _pretrained(o)]
    torch_models = facts.created_matching(lambda a: a.startswith(("torchvision.models.", "timm.create_model")))
    for o in backbones + [o for o in torch_models if _torch_pretrained(o)]:
        mark("transfer-learning", o.site)
        break
    mark("fine-tuning", _unfreeze_site(facts))
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
            if facts.sem.transform_augments(o).value:
                mark("augmentation", o.site)
                break
    for rec, _loop in _tta_calls(facts):  # attempted; whether it works is the checks' business
        mark("tta", rec.site)
        break
    mark("ensembling", _ensemble_site(facts))
    mark("external-data", _external_data_site(facts))
    mark("submission-file", _submission_site(facts))
    return [(t, t in found, found.get(t)) for t in CHECKLIST_TASKS]


def _pretrained(o: Obj) -> bool:
    w = o.arg("weights", Const("imagenet"))
    return not (isinstance(w, Const) and w.value is None)


def _torch_pretrained(o: Obj) -> bool:
    p, w = o.args.get("pretrained"), o.args.get("weights")
    if isinstance(p, Const) and p.value is True:
        return True
    return w is not None and not (isinstance(w, Const) and w.value is None)


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

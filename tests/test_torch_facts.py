"""The PyTorch facts: provenance of values, unrolled literal loops, passes over data and model
modes, dataset transforms through splits and swaps, schedulers, metric kinds, best-so-far
checks and data splits, fine-tuning, printed epoch logs."""
from __future__ import annotations

import ast

import pytest

from nbreview.facts import analyse
from nbreview.notebook import load
from nbreview.printed import parse
from nbreview.program import build

from .conftest import make_notebook

IMPORTS = ("import copy\nimport torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader, random_split, "
           "Subset, Dataset\nfrom torchvision import datasets, models, transforms\n")
AUG = "aug = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])\n"
PLAIN = "plain = transforms.Compose([transforms.Resize(224), transforms.ToTensor()])\n"


@pytest.fixture
def facts_of(tmp_path):
    def _facts(*cells: str):
        return analyse(build(load(make_notebook(list(cells), tmp_path / "f.ipynb"))))

    return _facts


def _named(facts, name):
    return next(o for o in facts.objects if facts.name_of(o) == name)


# --- provenance -------------------------------------------------------------------------------
def test_a_score_computed_in_a_helper_remembers_the_loader_it_came_from(facts_of):
    f = facts_of(IMPORTS + "val_loader = DataLoader(datasets.ImageFolder('v'))\n"
                 "test_loader = DataLoader(datasets.ImageFolder('t'))\n"
                 "def evaluate(model, loader):\n    correct = 0\n    for x, y in loader:\n"
                 "        correct += (model(x).argmax(1) == y).sum().item()\n    return correct / 10\n"
                 "best = 0\nfor epoch in range(3):\n    va = evaluate(m, val_loader)\n    te = evaluate(m, test_loader)\n"
                 "    if te > best:\n        best = te\nprint(best)")
    val, test = _named(f, "val_loader"), _named(f, "test_loader")
    (cond, _site, _seq), = f.interp.branches
    assert test.id in cond.deps[0] and val.id not in cond.deps[0]
    printed = next(r for r in f.calls if r.name == "builtins.print")
    assert test.id in printed.arg_deps["#0"] and val.id not in printed.arg_deps["#0"]


def test_reassignment_replaces_provenance_and_augmented_assignment_adds_to_it(facts_of):
    f = facts_of(IMPORTS + "a = DataLoader(datasets.ImageFolder('a'))\nb = DataLoader(datasets.ImageFolder('b'))\n"
                 "x = len(a)\nx = len(b)\ny = len(a)\ny += len(b)\nprint(x)\nprint(y)")
    a, b = _named(f, "a"), _named(f, "b")
    px, py = [r for r in f.calls if r.name == "builtins.print"]
    assert a.id not in px.arg_deps["#0"] and b.id in px.arg_deps["#0"]
    assert {a.id, b.id} <= py.arg_deps["#0"]


def test_the_parts_of_a_split_are_told_apart_by_provenance(facts_of):
    f = facts_of(IMPORTS + "full = datasets.ImageFolder('d')\ntr, va = random_split(full, [0.8, 0.2])\n"
                 "print(len(va))")
    tr, va = f.interp.globals.lookup("tr"), f.interp.globals.lookup("va")
    printed = next(r for r in f.calls if r.name == "builtins.print")
    assert va.id in printed.arg_deps["#0"] and tr.id not in printed.arg_deps["#0"]


# --- the interpreter: literal loops, dict comprehensions, short-circuit -----------------------
def test_a_loop_over_literal_constants_is_unrolled_with_each_value(facts_of):
    f = facts_of("import torch\nloaders = {x: torch.zeros(len(x)) for x in ['train', 'val']}\n"
                 "for phase in ['train', 'val']:\n    if phase == 'train':\n        torch.ones(1)\n    else:\n"
                 "        torch.eye(1)\n    if phase == 'val' and flag:\n        torch.empty(1)\n")
    names = [r.name for r in f.calls]
    assert names.count("torch.ones") == 1 and names.count("torch.eye") == 1
    assert all(not r.site.conds for r in f.calls if r.name in ("torch.ones", "torch.eye"))
    empty = [r for r in f.calls if r.name == "torch.empty"]
    assert len(empty) == 1 and len(empty[0].site.conds) == 1  # `False and flag` is decided, `True and flag` not
    d = f.interp.globals.lookup("loaders")
    assert sorted(d.items) == ["train", "val"]


def test_a_constant_tuple_unpacks_and_fstrings_evaluate_every_part(facts_of):
    f = facts_of("import torch\nA, B = 3, 20\ndef acc(n):\n    return torch.zeros(n)\n"
                 "print(f'{A:02d} {acc(B)}')")
    assert f.interp.globals.lookup("B").value == 20
    assert any(r.name == "torch.zeros" for r in f.calls)


# --- transforms through datasets, splits and swaps --------------------------------------------
def test_a_random_split_shares_the_parents_transform(facts_of):
    f = facts_of(IMPORTS + AUG + PLAIN + "full = datasets.ImageFolder('d', transform=aug)\n"
                 "tr, va = random_split(full, [0.8, 0.2])\nval_loader = DataLoader(va)")
    assert f.data_augments(_named(f, "val_loader")).value is True


def test_setting_the_transform_through_a_subset_changes_the_parent_for_every_subset(facts_of):
    f = facts_of(IMPORTS + AUG + PLAIN + "full = datasets.ImageFolder('d', transform=aug)\n"
                 "tr, va = random_split(full, [0.8, 0.2])\nva.dataset.transform = plain\n"
                 "train_loader = DataLoader(tr)\nprint(1)")
    later = f.calls[-1].seq
    assert f.data_augments(_named(f, "train_loader"), at=later).value is False
    assert f.data_augments(_named(f, "train_loader"), at=0).value is True


def test_a_deep_copy_gives_the_validation_subset_its_own_transform(facts_of):
    f = facts_of(IMPORTS + AUG + PLAIN + "full = datasets.ImageFolder('d', transform=aug)\n"
                 "tr, va = random_split(full, [0.8, 0.2])\nva.dataset = copy.deepcopy(full)\n"
                 "va.dataset.transform = plain\ntrain_loader, val_loader = DataLoader(tr), DataLoader(va)\nprint(1)")
    at = f.calls[-1].seq
    assert f.data_augments(_named(f, "val_loader"), at=at).value is False
    assert f.data_augments(_named(f, "train_loader"), at=at).value is True


def test_a_dataset_class_is_read_for_each_instance(facts_of):
    f = facts_of(IMPORTS + AUG + PLAIN +
                 "class DS(Dataset):\n    def __init__(self, files, mode='train'):\n        self.files = files\n"
                 "        self.mode = mode\n    def __len__(self):\n        return len(self.files)\n"
                 "    def __getitem__(self, i):\n        img = load(self.files[i])\n"
                 "        if self.mode == 'train':\n            img = aug(img)\n        else:\n            img = plain(img)\n"
                 "        return img, 0\n"
                 "train_ds = DS(a)\nval_ds = DS(b, mode='val')")
    assert f.data_augments(_named(f, "train_ds")).value is True
    assert f.data_augments(_named(f, "val_ds")).value is False
    assert f.torchdata.yields_labels(_named(f, "val_ds")) is True


def test_a_wrapper_reads_items_through_the_wrapped_dataset(facts_of):
    f = facts_of(IMPORTS + AUG + PLAIN +
                 "class Wrap(Dataset):\n    def __init__(self, sub, tf):\n        self.sub, self.tf = sub, tf\n"
                 "    def __getitem__(self, i):\n        x, y = self.sub[i]\n        return self.tf(x), y\n"
                 "    def __len__(self):\n        return len(self.sub)\n"
                 "clean = datasets.ImageFolder('d')\nnoisy = datasets.ImageFolder('d', transform=aug)\n"
                 "ok = Wrap(clean, plain)\nbad = Wrap(noisy, plain)")
    assert f.data_augments(_named(f, "ok")).value is False
    assert f.data_augments(_named(f, "bad")).value is True


def test_timm_create_transform_augments_only_for_training(facts_of):
    f = facts_of("from timm.data import create_transform\ntr = create_transform(224, is_training=True)\n"
                 "ev = create_transform(224)\nnoaug = create_transform(224, is_training=True, no_aug=True)")
    assert f.transform_augments(_named(f, "tr")).value is True
    assert f.transform_augments(_named(f, "ev")).value is False
    assert f.transform_augments(_named(f, "noaug")).value is False


# --- passes and modes ---------------------------------------------------------------------------
TRAINING = (IMPORTS + "train_loader = DataLoader(datasets.ImageFolder('t'))\n"
            "val_loader = DataLoader(datasets.ImageFolder('v'))\nmodel = models.resnet18()\n"
            "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n")


def test_passes_are_training_or_evaluation_and_know_their_helper(facts_of):
    f = facts_of(TRAINING + "def validate(loader):\n    with torch.no_grad():\n"
                 "        return [model(x) for x, _ in loader]\n"
                 "for epoch in range(3):\n    model.train()\n    for x, y in train_loader:\n        opt.zero_grad()\n"
                 "        nn.functional.cross_entropy(model(x), y).backward()\n        opt.step()\n"
                 "    validate(val_loader)")
    passes = f.passes
    (t,) = passes.training_passes()
    (e,) = passes.evaluation_passes()
    assert t.data is _named(f, "train_loader") and e.data is _named(f, "val_loader")
    assert passes.held_out(e) and not passes.held_out(t)
    assert e.helper is not None and e.helper.name == "validate" and e.no_grad
    assert passes.surely_training_mode(e.models[0], e.forwards[0])  # train() of the training pass


def test_a_deliberate_train_before_predictions_is_not_a_training_setter(facts_of):
    f = facts_of(TRAINING + "for x, y in train_loader:\n    opt.zero_grad()\n"
                 "    nn.functional.cross_entropy(model(x), y).backward()\n    opt.step()\n"
                 "model.eval()\nmodel.train()\npreds = [model(x) for x, _ in val_loader]")
    (e,) = f.passes.evaluation_passes()
    assert not f.passes.surely_training_mode(e.models[0], e.forwards[0])


def test_switching_a_submodule_makes_the_mode_unknown(facts_of):
    f = facts_of(TRAINING + "model.eval()\nfor m in model.modules():\n    m.train()\n"
                 "preds = [model(x) for x, _ in val_loader]")
    (e,) = f.passes.evaluation_passes()
    states = f.passes.mode_at(e.models[0], e.forwards[0])
    assert any(not isinstance(s, tuple) for s in states.may)


def test_next_of_an_iterator_makes_a_training_pass(facts_of):
    f = facts_of(TRAINING + "it = iter(train_loader)\nfor step in range(100):\n    x, y = next(it)\n"
                 "    opt.zero_grad()\n    nn.functional.cross_entropy(model(x), y).backward()\n    opt.step()")
    (t,) = f.passes.training_passes()
    assert t.data is _named(f, "train_loader")


# --- schedulers and metric kinds -----------------------------------------------------------------
def test_scheduler_steps_per_batch_and_per_epoch(facts_of):
    f = facts_of(TRAINING + "s1 = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10)\n"
                 "s2 = torch.optim.lr_scheduler.StepLR(opt, step_size=3)\n"
                 "for epoch in range(12):\n    for x, y in train_loader:\n        opt.zero_grad()\n"
                 "        nn.functional.cross_entropy(model(x), y).backward()\n        opt.step()\n        s1.step()\n"
                 "    s2.step()")
    s1, s2 = f.schedulers
    assert s1.obj.arg("T_max").value == 10
    assert [st.per for st in s1.steps] == ["batch"] and s1.steps[0].epochs == 12
    assert [st.per for st in s2.steps] == ["epoch"] and s2.steps[0].epochs == 12


@pytest.mark.parametrize("expr,kind", [
    ("val_acc", "score"), ("epoch_loss", "loss"), ("-val_loss", "score"), ("1 - acc", "loss"),
    ("metrics['accuracy']", "score"), ("history['val_loss'][-1]", "loss"), ("100. * correct / total", "score"),
    ("f1_score(a, b)", "score"), ("value", None),
])
def test_metric_kinds(facts_of, expr, kind):
    f = facts_of(f"from sklearn.metrics import f1_score\nprint({expr})")
    node = next(n for n in ast.walk(f.program.code_cell(0).tree) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name) and n.func.id == "print").args[0]
    assert f.metric_kind(node) == kind


def test_metric_kind_from_a_helper_return_and_a_misleading_name(facts_of):
    f = facts_of("def evaluate():\n    total = 0.0\n    for b in data:\n        total += criterion(b)\n"
                 "    return total / 10\nvalue = evaluate()\nscore = evaluate()\nprint(value)\nprint(score)")
    prints = [n.args[0] for n in ast.walk(f.program.code_cell(0).tree) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Name) and n.func.id == "print"]
    assert [f.metric_kind(p) for p in prints] == ["loss", None]  # "score" named, a loss computed: unsure


# --- best checks and splits --------------------------------------------------------------------
def test_best_checks_normalise_the_direction(facts_of):
    f = facts_of("best_acc, best_loss = 0, 1e9\nfor e in range(5):\n    acc, loss = run()\n"
                 "    if acc > best_acc:\n        best_acc = acc\n    if best_loss > loss:\n        best_loss = loss\n"
                 "    if acc > threshold:\n        stop = True")
    checks = {c.best_text: c for c in f.best_checks}
    assert set(checks) == {"best_acc", "best_loss"}
    assert checks["best_acc"].greater and not checks["best_loss"].greater


def test_split_kinds_by_names_folders_and_official_test_splits(facts_of):
    f = facts_of(IMPORTS + "a = DataLoader(datasets.CIFAR10('.', train=False))\n"
                 "b = DataLoader(datasets.ImageFolder('data/test'))\nvalid_dl = DataLoader(datasets.ImageFolder('x'))\n"
                 "c = DataLoader(datasets.ImageFolder('data/train'))")
    assert [f.split_kind(_named(f, n)) for n in ("a", "b", "valid_dl", "c")] == ["test", "test", "val", "train"]


# --- fine-tuning -------------------------------------------------------------------------------
def test_fine_tuning_needs_backbone_parameters_that_are_not_frozen(facts_of):
    head_only = facts_of(TRAINING.replace("models.resnet18()", "models.resnet18(weights='DEFAULT')")
                         .replace("opt = torch.optim.SGD(model.parameters(), lr=0.1)",
                                  "for p in model.parameters():\n    p.requires_grad = False\n"
                                  "model.fc = nn.Linear(512, 2)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)") +
                         "for x, y in train_loader:\n    opt.zero_grad()\n"
                         "    nn.functional.cross_entropy(model(x), y).backward()\n    opt.step()")
    assert head_only.torch_fine_tuned == []
    staged = facts_of(TRAINING.replace("models.resnet18()", "models.resnet18(weights='DEFAULT')") +
                      "for p in model.parameters():\n    p.requires_grad = False\n"
                      "for p in model.layer4.parameters():\n    p.requires_grad = True\n"
                      "for x, y in train_loader:\n    opt.zero_grad()\n"
                      "    nn.functional.cross_entropy(model(x), y).backward()\n    opt.step()")
    assert len(staged.torch_fine_tuned) == 1


# --- printed logs ------------------------------------------------------------------------------
def test_printed_epoch_logs_in_several_shapes():
    text = ("Epoch 1 | lr=0.01 | val acc 0.5\nЭпоха 2: lr=5.00e-04, val_acc=0.6\n"
            "Epoch 3 | lr=0.000109\ntrain loss: 1.36, train acc: 0.64\nval loss: 2.31, val acc: 0.47\n"
            "Epoch 1 | lr=0.5\n")
    recs = parse(text)
    assert [r.epoch for r in recs] == [1, 2, 3]  # the second run is cut off
    assert recs[1].metrics == {"lr": 0.0005, "val_acc": 0.6}
    assert recs[2].metrics["train_loss"] == 1.36 and recs[2].metrics["val_acc"] == 0.47

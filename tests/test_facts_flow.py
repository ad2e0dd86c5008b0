"""The analysis library's control flow: call order, branch conditions, loop back edges,
escapes, gaps, and the notebook's own classes followed into their methods."""
from __future__ import annotations

import ast

import pytest

from nbreview.facts import Mode, ObjKind, ValueKind, analyse
from nbreview.facts.values import Const, Unknown
from nbreview.notebook import load
from nbreview.program import build

from .conftest import make_notebook


@pytest.fixture
def facts_of(tmp_path):
    def _facts(*cells: str):
        return analyse(build(load(make_notebook(list(cells), tmp_path / "f.ipynb"))))

    return _facts


def _forward_calls(facts):
    return [r for r in facts.calls if r.name == "()" and facts.is_model(r.callee)]


TORCH = "import torch\nfrom torchvision import models\nmodel = models.resnet18(weights='DEFAULT')\n"


def test_calls_are_numbered_in_evaluation_order_helpers_included(facts_of):
    f = facts_of("def helper(x):\n    a = str(x)\n    return len(a)\n", "b = int('1')\nc = helper(b)\nd = abs(c)")
    names = [r.name for r in f.calls]
    assert names == ["builtins.int", "helper", "builtins.str", "builtins.len", "builtins.abs"]
    seqs = [r.seq for r in f.calls]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    helper = next(r for r in f.calls if r.name == "helper")
    assert helper.followed


def test_branch_conditions_are_kept_on_sites(facts_of):
    f = facts_of("import torch\nif flag:\n    a = torch.zeros(1)\nelse:\n    b = torch.ones(1)\n"
                 "try:\n    c = torch.rand(1)\nexcept ValueError:\n    d = torch.empty(1)\ne = torch.eye(1)")
    by_name = {r.name.rsplit(".", 1)[-1]: r for r in f.calls}
    (cond,) = by_name["zeros"].site.conds
    assert cond.kind == "if" and not cond.negated and isinstance(cond.node, ast.Name)
    assert isinstance(cond.value, Unknown)
    assert by_name["ones"].site.conds[0].negated
    assert by_name["rand"].site.conds == ()
    assert by_name["empty"].site.conds[0].kind == "except"
    assert by_name["eye"].site.conds == ()


def test_a_constant_test_picks_its_branch_without_a_condition(facts_of):
    f = facts_of("import torch\nDEBUG = False\nif DEBUG:\n    a = torch.zeros(1)\nelse:\n    b = torch.ones(1)")
    names = [r.name for r in f.calls]
    assert "torch.zeros" not in names and "torch.ones" in names
    assert next(r for r in f.calls if r.name == "torch.ones").site.conds == ()


def test_conditions_flow_into_followed_helpers(facts_of):
    f = facts_of("import torch\ndef reset(m):\n    m.train()\nif epoch > 3:\n    reset(net)")
    train = next(r for r in f.calls if r.method == "train")
    assert [c.kind for c in train.site.conds] == ["if"]


def test_loop_spans_hold_the_calls_of_the_body(facts_of):
    f = facts_of("import torch\nfor i in range(3):\n    a = torch.zeros(1)\n    b = torch.ones(1)\nc = torch.eye(1)")
    loop = next(r for r in f.calls if r.name == "torch.zeros").site.loops[0]
    inside = [r.name for r in f.calls_inside(loop)]
    assert inside == ["torch.zeros", "torch.ones"] and loop.count == 3 and loop.runs_at_least_once


def test_a_counter_changed_in_a_loop_is_unknown_after_it(facts_of):
    f = facts_of("n = 0\nfor i in range(10):\n    n = n + 1\nk = n")
    k = f.interp.globals.vars["k"]
    assert not isinstance(k, Const)
    f2 = facts_of("n = 5\nfor i in range(10):\n    n = 5\nk = n")  # the same value: still known
    assert isinstance(f2.interp.globals.vars["k"], Const)


def test_mode_flows_over_the_epoch_back_edge(facts_of):
    f = facts_of(TORCH + "model.train()\nfor epoch in range(5):\n    for x in loader:\n        model(x).backward()\n"
                 "    model.eval()\n")
    (fwd,) = _forward_calls(f)
    epoch_loop = fwd.site.loops[0]
    state = f.mode_at(fwd.callee, fwd)
    assert state.first == {Mode.TRAIN}
    assert state.later(epoch_loop) == {Mode.EVAL} and state.surely(Mode.EVAL, epoch_loop)
    assert not state.surely(Mode.EVAL)  # the first epoch trains in training mode


def test_train_at_the_top_of_the_epoch_wins_over_the_back_edge(facts_of):
    f = facts_of(TORCH + "for epoch in range(5):\n    model.train()\n    for x in loader:\n        model(x).backward()\n"
                 "    model.eval()\n")
    (fwd,) = _forward_calls(f)
    assert f.mode_at(fwd.callee, fwd).may == {Mode.TRAIN}


def test_a_conditional_setter_adds_a_possibility(facts_of):
    f = facts_of(TORCH + "for epoch in range(5):\n    if epoch % 2:\n        model.train()\n"
                 "    for x in loader:\n        model(x).backward()\n    model.eval()\n")
    (fwd,) = _forward_calls(f)
    state = f.mode_at(fwd.callee, fwd)
    assert state.later(fwd.site.loops[0]) == {Mode.TRAIN, Mode.EVAL}


def test_an_escape_makes_the_mode_unknown(facts_of):
    f = facts_of(TORCH + "from helpers import run_validation\nfor epoch in range(5):\n    for x in loader:\n"
                 "        model(x).backward()\n    model.eval()\n    run_validation(model)\n")
    (fwd,) = _forward_calls(f)
    assert [r.name for r in f.escapes(fwd.callee)] == ["helpers.run_validation"]
    assert Mode.UNKNOWN in f.mode_at(fwd.callee, fwd).later(fwd.site.loops[0])


def test_library_calls_that_cannot_change_the_mode_are_not_escapes(facts_of):
    f = facts_of(TORCH + "import copy\nbest = copy.deepcopy(model.state_dict())\ntorch.save(model, 'm.pt')\n"
                 "opt = torch.optim.Adam(model.parameters())\nprint(model)")
    assert f.escapes(f.created("torchvision.models.resnet18")[0]) == []


def test_views_through_to_device_are_the_same_model(facts_of):
    f = facts_of(TORCH + "net = model.to('cuda')\nfor e in range(3):\n    for x in dl:\n        net(x).backward()\n"
                 "    model.eval()\n")
    (fwd,) = _forward_calls(f)
    assert f.root(fwd.callee, "model") is f.created("torchvision.models.resnet18")[0]
    assert f.mode_at(fwd.callee, fwd).surely(Mode.EVAL, fwd.site.loops[0])


def test_methods_of_the_notebooks_own_classes_are_followed(facts_of):
    f = facts_of("import torch\nclass Trainer:\n    def __init__(self, m):\n        self.m = m\n"
                 "    def epoch(self):\n        self.m.train()\n        return 1\n"
                 "t = Trainer(net)\nr = t.epoch()")
    rec = next(r for r in f.calls if r.method == "epoch")
    assert rec.followed and isinstance(rec.result, Const) and rec.result.value == 1
    assert any(r.method == "train" and not r.site.uncalled for r in f.calls)


def test_gaps_record_what_the_analysis_could_not_see(facts_of):
    f = facts_of("def f(n):\n    return f(n - 1)\nx = f(3)", "def broken(:\n    pass")
    whys = {g.why for g in f.gaps}
    assert "recursion" in whys and "unparsed" in whys
    rec = next(r for r in f.calls if r.name == "f" and not r.site.funcs)
    assert rec.followed  # the outer call was followed; the recursive one is a gap
    assert not f.complete_between(0, max(r.seq for r in f.calls) + 1)


def test_value_kinds(facts_of):
    f = facts_of("import torch\nfrom torchvision import models, transforms, datasets\n"
                 "m = models.resnet18().cuda()\nt = transforms.RandomHorizontalFlip()\n"
                 "ds = datasets.ImageFolder('x', transform=t)\ndl = torch.utils.data.DataLoader(ds)\n"
                 "opt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
                 "sch = torch.optim.lr_scheduler.StepLR(opt, 5)\nloss = torch.nn.CrossEntropyLoss()")
    g = f.interp.globals.vars
    kinds = {k: f.kind_of(g[k]) for k in ("m", "t", "ds", "dl", "opt", "sch", "loss")}
    assert kinds == {"m": ValueKind.MODEL, "t": ValueKind.TRANSFORM, "ds": ValueKind.DATA, "dl": ValueKind.DATA,
                     "opt": ValueKind.OPTIMIZER, "sch": ValueKind.SCHEDULER, "loss": ValueKind.LOSS}
    assert g["m"].kind is ObjKind.METHOD and f.chain(g["m"], "model")[-1].api == "torchvision.models.resnet18"


def test_roles_of_data(facts_of):
    f = facts_of("from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
                 "g = ImageDataGenerator()\ntr = g.flow_from_directory('a')\nva = g.flow_from_directory('b')\n"
                 "model.fit(tr, validation_data=va)\np = model.predict(va)")
    g = f.interp.globals.vars
    assert {r.value for r in f.roles_of(g["tr"])} == {"train"}
    assert {r.value for r in f.roles_of(g["va"])} == {"validation", "predict"}


def _nb(tmp_path, cells, counts):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = []
    for src, n in zip(cells, counts):
        c = nbformat.v4.new_code_cell(src)
        c.execution_count = n
        nb.cells.append(c)
    path = tmp_path / "order.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_an_unexecuted_alternative_does_not_replace_what_ran(tmp_path):
    from nbreview.engine import Options, review_path

    cells = ["import keras\nfrom keras.preprocessing.image import ImageDataGenerator\n"
             "gen = ImageDataGenerator(rescale=1./255).flow_from_directory('d')",
             "base = keras.applications.Xception(include_top=False, pooling='avg')",
             "base = keras.applications.EfficientNetB0(include_top=False, pooling='avg')  # tried later, never run",
             "model = keras.Sequential([base, keras.layers.Dense(5, activation='softmax')])\nmodel.fit(gen)"]
    report = review_path(_nb(tmp_path, cells, [1, 2, None, 3]), Options(select={"rescale-efficientnet"}))
    assert report.findings == []  # the model that ran is built on Xception
    report = review_path(_nb(tmp_path, cells, [1, 2, 3, 4]), Options(select={"rescale-efficientnet"}))
    assert [f.location.cell for f in report.findings] == [0]  # here the EfficientNet cell ran
    report = review_path(_nb(tmp_path, cells, [None] * 4), Options(select={"rescale-efficientnet"}))
    assert report.findings  # nothing is known about the runs: the notebook reads top to bottom


def test_the_highest_count_is_the_binding_in_force(tmp_path):
    cells = ["LR = 1e-3", "LR = 1e-4\nfirst = LR", "final = LR"]
    facts = analyse(build(load(_nb(tmp_path, cells, [5, 3, 6]))))  # cell 1 ran before cell 0's last run
    g = facts.interp.globals.vars
    assert g["first"].value == 1e-4  # inside its own run, a cell sees what it bound
    assert g["final"].value == 1e-3 and facts.out_of_order
    assert facts.interp.shadowed == [(1, "LR")]


def test_unexecuted_cells_still_chain_among_themselves(tmp_path):
    cells = ["import numpy as np\nx = np.zeros(3)", "y = np.ones(2)", "z = y"]
    facts = analyse(build(load(_nb(tmp_path, cells, [1, None, None]))))
    g = facts.interp.globals.vars
    assert g["z"] is g["y"]
    sites = {r.site.cell: r.site for r in facts.calls}
    assert facts.ran(sites[0]) is True and facts.ran(sites[1]) is False
    unrun = analyse(build(load(_nb(tmp_path, cells, [None, None, None]))))
    assert unrun.ran(next(r.site for r in unrun.calls)) is None

"""Mutation checks: break one line of the analysis's trickier semantics and the suite must
notice. Each mutant is a copy of the package with one change, run against the semantic
tests in a fresh interpreter; a mutant that survives means a behaviour nothing pins down."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITE = ["tests/test_semantics.py", "tests/test_facts_flow.py", "tests/test_torch_facts.py",
         "tests/test_rule_examples.py", "tests/test_fix.py", "tests/test_submissions_facts.py",
         "tests/test_keras_catalog.py"]

# (file, exact text, replacement): one behaviour each
MUTANTS = [
    # image size at a cutout: a crop that may run (OneOf, p < 1) adds a size, one that surely runs sets it
    ("facts/augparams.py", "sizes = {o.size} if o.certain else sizes | {o.size}", "sizes = {o.size}"),
    ("facts/augparams.py", "certain = self._chance == 0 and (p is None or p >= 1)", "certain = True"),
    # staged unfreezing in PyTorch (the rule examples show the "staged" praise; the review suite does not)
    ("facts/finetune.py", "return True if any(v and k not in HEAD_ATTRS for k, v in parts.items()) else False",
     "return False"),
    # a pretrained backbone inside nn.Sequential(backbone, head): frozen inside means not fine-tuned
    ("facts/finetune.py", "backbone_trainable(events, net, tp.at) is not True for net in {m, held}",
     "backbone_trainable(events, net, tp.at) is not True for net in {held}"),
    # a Keras GradientTape loop trains the model whose trainable_variables get the gradients
    ("facts/tasks.py", "for rec, model in facts.models_trained() + gradient_updates(facts)]",
     "for rec, model in facts.models_trained()]"),
    ("facts/augparams.py", '            if o.kind in ("resize", "center_crop", "random_crop"):', '            if o.kind == "resize":'),
    ("facts/apis.py", "        if isinstance(seed, Const):\n            return False",
     "        if isinstance(seed, Const):\n            return True"),
    ("facts/pipelines.py", '            if _num(v.args.get("p")) == 0:\n                return NO',
     '            if _num(v.args.get("p")) == -1:\n                return NO'),
    ("facts/pipelines.py", 'if short == "RandomApply" and _num(v.args.get("p", v.args.get("#1"))) == 0:',
     'if short == "RandomApply" and _num(v.args.get("p", v.args.get("#1"))) == -1:'),
    ("facts/pipelines.py", "if isinstance(training, Const) and training.value is False:",
     "if isinstance(training, Const) and training.value is None:"),
    ("facts/interpreter.py", "            else:\n                merged[name] = UNKNOWN",
     "            else:\n                merged[name] = a  # type: ignore[assignment]"),
    ("facts/interpreter.py", "merged[name] = only if name not in before else UNKNOWN",
     "merged[name] = only"),
    ("facts/interpreter.py", "return self.exec_block(s.body if taken else s.orelse, frame, ctx)",
     "return self.exec_block(s.body, frame, ctx)"),
    ("facts/interpreter.py", "        return body if body is orelse else UNKNOWN", "        return body"),
    ("facts/interpreter.py", 'frame.vars[name] = Unknown(f"changed in the loop at line {loop.line}")', "pass"),
    ("facts/loops.py", '        if node.api == "cache":\n            return True',
     '        if node.api == "cache":\n            return False'),
    ("facts/loops.py", '        if node.api == "map":\n            return False',
     '        if node.api == "map":\n            return True'),
    ("facts/loops.py", "        if recv_names & loop.targets:\n            continue",
     "        if recv_names & loop.targets:\n            pass"),
    ("facts/loops.py", 'if last_mode == "train" or', 'if last_mode == "never" or'),
    ("facts/loops.py", "    return loop not in facts.training_loops", "    return True"),
    ("facts/loops.py", "    if names & loop.targets:\n        return False", "    if names & loop.targets:\n        return True"),
    ("facts/pipelines.py", "return not (x[0] == 1 and x[1] == 1)", "return True"),
    ("facts/pipelines.py", "            return x != 0", "            return True"),
    ("facts/models.py", "            return bool(ip.value)", "            return True"),
    ("facts/pipelines.py", '_num(v.arg("offset", Const(0.0))) == 0', "True"),
    ("facts/flow.py", "                if conditional:\n                    cur.add(value)",
     "                if False:\n                    cur.add(value)"),
    ("facts/flow.py", "later_heads = scan(*body(d), heads, d + 1)", "later_heads = entry_d"),
    ("facts/flow.py", "                    if id(rec) in hidden:\n                        cur.add(Mode.UNKNOWN)",
     "                    if id(rec) in hidden:\n                        pass"),
    ("facts/models.py", "if bb is not None and is_pretrained(bb) and", "if bb is not None and"),
    ("checks/augmented_validation.py", 'id(data) in train_inputs and role == "evaluate"',
     'False and role == "evaluate"'),
    ("facts/interpreter.py", "            if self._stamps.get(name, -2) <= count:", "            if True:"),
    ("facts/interpreter.py", "        if count is None or count >= self._newest:", "        if True:"),
    # fixes: where a generator's images go, what a copy of it keeps, the fix loop's checks, lossless edits
    ("facts/datagens.py", "        elsewhere |= not _only_read_as(facts, flow, FLOW_METADATA, ok_calls)", "        pass"),
    ("facts/datagens.py", "        elif v.value:\n            return True", "        elif v.value:\n            return False"),
    ("checks/augmented_validation.py", "    safe = Role.TRAIN not in facts.roles_of(data)", "    safe = True"),
    ("checks/augmented_validation.py", "        if facts.syntax.references(name)[0] == 1:\n            return name",
     "        if facts.syntax.references(name)[0] == 1:\n            return None"),
    ("checks/tta_no_augmentation.py",
     'set(train.normalising(drop=("validation_split",))) != set(test.normalising(drop=("validation_split",)))',
     "False"),
    ("checks/rescale_efficientnet.py", "    safe = not feeds.elsewhere and _feeds_only_efficientnet(facts, feeds.models)",
     "    safe = not feeds.elsewhere"),
    ("checks/rescale_efficientnet.py", "    shaping = any(k not in RESCALING_ARGS for k in layer.args)",
     "    shaping = False"),
    ("edits.py", "empty_lines=[*before.empty_lines, *after.empty_lines]", "empty_lines=[*before.empty_lines]"),
    ("fixer.py", '        if id(match) in fixed_ids:\n            return "the finding would still be there after it"',
     '        if id(match) in fixed_ids:\n            pass'),
    ("fixer.py", '            return f"the corrected code would get a new finding ({new.rule}, line {loc.line})"',
     "            continue"),
    ("nbwrite.py", "        stored.setdefault(o, text[i.start:i.end])", "        pass"),
    # object identity, liveness, data identity, sizes, orientation, label maps (the submissions topic)
    ("facts/identity.py", "        return False if self.complete else None", "        return False"),
    ("facts/identity.py", "            state = not ch.value", "            state = ch.value"),
    ("facts/identity.py", "        return attr not in arch.children", "        return attr in arch.children"),
    ("facts/identity.py", "        if rec.callee is outer and not rec.site.funcs:", "        if False:"),
    ("facts/liveness.py", "        if isinstance(rec.receiver, (Seq, Dict)):\n            continue",
     "        if isinstance(rec.receiver, (Seq, Dict)):\n            unsure = 'x'"),
    ("facts/liveness.py", "            return value", "            return None"),
    ("facts/data_identity.py", "        return True  # one of them is the whole source", "        return False"),
    ("facts/data_identity.py", "not (lo < hi2 and lo2 < hi)", "False"),
    ("facts/data_identity.py", "                return self._through(origin, depth)  # a shuffle",
     "                return [Path((Step('unknown', site),))]"),
    ("facts/data_identity.py", "            return isinstance(r, Const) and r.value is not False", "            return True"),
    ("facts/data_identity.py", "        dup = any(_overlaps_any(", "        dup = False and any(_overlaps_any("),
    ("facts/data_sizes.py", "            if len(found) != len(objs):\n                continue",
     "            if not found:\n                continue"),
    ("facts/orientation.py", "        if any(r.search(text) for r in _FREE_RE):\n            return Domain(None)",
     "        if False:\n            return Domain(None)"),
    ("facts/orientation.py", 'o.args.get("#0", Const("horizontal_and_vertical"))', 'o.args.get("#0", Const("horizontal"))'),
    ("facts/orientation.py", "        return True\n    return False\n\n\ndef _random", "        return True\n    return True\n\n\ndef _random"),
    ("facts/label_maps.py", "            continue  # sorted in place afterwards", "            pass"),
    ("facts/label_maps.py", "        return s is not None and not (isinstance(s, Const) and s.value is None)",
     "        return s is not None"),
    ("checks/validation_steps_mismatch.py", "if d is not None and b is not None and d > b:",
     "if d is not None and b is not None and d >= b:"),
    ("checks/validation_steps_mismatch.py", "        if covered + b <= count.samples:", "        if covered < count.samples:"),
    ("facts/data_identity.py", "copies_own = w.src is not None and w.src[: len(prefix)] == prefix", "copies_own = False"),
    ("facts/data_identity.py", "isinstance(ev, Obj) and ev is not x:", "False:"),
    ("facts/data_sizes.py", "            if isinstance(x, Obj) and batch_size(x) is not None:\n                return x",
     "            if isinstance(x, Obj) and batch_size(x) is not None:\n                return None"),
    ("facts/liveness.py", "    return (seq_a < seq_b) != (ca < cb)", "    return False"),
    # Keras catalog (issue 10): identity tests, per-constant loops, early return, code that does not run
    ("facts/interpreter.py", "        return same if isinstance(op, ast.Is) else not same", "        return same"),
    ("facts/interpreter.py", "if items is not None and _calls_own_function(s.body, frame):",
     "if False and _calls_own_function(s.body, frame):"),
    ("facts/interpreter.py", "    return made is None or made.uncalled", "    return True"),
    ("facts/interpreter.py", "                if self.exec_stmt(stmt, frame, ctx) is True and ctx.funcs:",
     "                if self.exec_stmt(stmt, frame, ctx) is True and False:"),
    ("facts/interpreter.py", "                    func.frame = Frame(func.defined_vars, self.globals)", "                    pass"),
    ("facts/interpreter.py", "            if key in self._branches_run:\n                continue",
     "            if key in self._branches_run:\n                pass"),
    ("engine.py", "            severity = cat.lower_severity(severity)", "            pass"),
    ("facts/training.py", "                return None\n        return False", "                return False\n        return False"),
    ("facts/training.py", "            return snake(cls), False", "            return snake(cls), True"),
    ("facts/loops.py", "    if recv_names & loop.assigned:\n        return True", "    if recv_names & loop.assigned:\n        return False"),
    ("facts/preprocessing.py", '    if before.kind == "raw":\n        return step', '    if before.kind == "raw":\n        return before'),
    ("facts/structure.py", "    if not layers or layers[-1].rank != 4:", "    if not layers:"),
    ("facts/sampling.py", "all(isinstance(op, (ast.Eq, ast.In)) for op in sl.ops):\n            return False",
     "all(isinstance(op, (ast.Eq, ast.In)) for op in sl.ops):\n            return True"),
    ("checks/slow_lr_decay.py", "if rises or drops < max(2, (len(lrs) - 1) // 2):", "if rises:"),
    ("checks/slow_lr_decay.py", "return (lrs[-1] / lrs[0]) ** (1 / drops) >= min_factor - 1e-9", "return True"),
    ("facts/training.py", "            return None  # a callback of the notebook's own", "            pass  # a callback of the notebook's own"),
    ("checks/loss_activation_mismatch.py", 'and (act == "softmax" or single_label):', ":"),
    ("facts/labels.py", '            mode = data.arg("class_mode", Const("categorical"))', '            mode = data.arg("class_mode", Const("sparse"))'),
    # PyTorch facts (passes, modes, datasets, provenance, unrolled loops, metric kinds, schedulers)
    ("facts/passes.py", "if any(lp.id in self.update_loops for lp in setter.site.loops):\n            return True",
     "if any(lp.id in self.update_loops for lp in setter.site.loops):\n            return False"),
    ("facts/passes.py", "if derived_from(rec.receiver, model):\n                    return Mode.UNKNOWN",
     "if derived_from(rec.receiver, model):\n                    return None"),
    ("facts/passes.py", "        if state == INIT:\n            return True", "        if state == INIT:\n            return False"),
    ("facts/passes.py", "if lp.id in self.update_loops or (lp.count is not None and lp.count < 2):\n                continue\n"
     "            return True", "if lp.id in self.update_loops or (lp.count is not None and lp.count < 2):\n"
     "                continue\n            return False"),
    ("facts/torchdata.py", "events = [e for e in events if e[0] <= at]", "events = [e for e in events if e[0] > at]"),
    ("facts/torchdata.py", 'base.kind is ObjKind.ATTR and base.api == "dataset":',
     'base.kind is ObjKind.ATTR and base.api == "nothing":'),
    ("facts/torchdata.py", "return (v.value == right.value) == isinstance(op, ast.Eq)", "return True"),
    ("facts/provenance.py", "return with_id(interp, d, v.id) if isinstance(v, Obj) else d", "return d"),
    ("facts/interpreter.py",
     "set_deps(frame, s.target.id, union(lookup_deps(frame, s.target.id), deps_of(self, s.value, frame)))",
     "set_deps(frame, s.target.id, deps_of(self, s.value, frame))"),
    ("facts/interpreter.py", "if items is not None and target is not None:", "if False:"),
    ("facts/interpreter.py", "if isinstance(v, Const) and bool(v.value) is not is_and:", "if False:"),
    ("facts/metrics.py", "if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):\n            return flip(",
     "if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):\n            return ("),
    ("facts/metrics.py", "if k is not None and defs is not None and defs != k:", "if False:"),
    ("facts/schedulers.py", "if data_walked(inner) is not None or _updates_at_level(facts, inner):", "if False:"),
    ("facts/selection.py", "greater = op_greater if side == 1 else not op_greater", "greater = op_greater"),
]


# The review's own judgements (checklist, praise, questions, the student's words), pinned by the review tests.
# the speed work's shortcuts must keep every answer (checked against the plain computations)
SPEED_SUITE = ["tests/test_speed_caches.py"]
SPEED_MUTANTS = [
    ("notebook.py", "    if seen is not None and _join(seen) != expect:\n        return None",
     "    if False:\n        return None"),
    ("notebook.py", "while m is not None and m.group(1) != top.group(1):", "while False:"),
    ("facts/syntax.py", "if cc.tree is None or name not in self._text(cc):",
     "if cc.tree is None or name not in cc.masked.source:"),
    ("facts/syntax.py", "binds += 2 * k if isinstance(node, (ast.Global, ast.Nonlocal)) else k", "binds += k"),
    ("facts/interpreter.py", "            if type(node.ctx) is Store:\n", "            if True:\n"),
]

REVIEW_SUITE = ["tests/test_review_trust.py", "tests/test_review_mentor.py"]
REVIEW_MUTANTS = [
    ("facts/tasks.py", "    return sum(1 for rec in facts.calls if rec.seq < seq and rec.method in WEIGHT_CHANGES",
     "    return 0 * sum(1 for rec in facts.calls if rec.seq < seq and rec.method in WEIGHT_CHANGES"),
    ("checklist.py", "        elif a.live is False:", "        elif False:"),
    ("checklist.py", "    return {i for i, n in enumerate(overlap) if n == best and n > 0}",
     "    return {i for i, n in enumerate(overlap) if n > 0}"),
    ("engine.py", "            if found & set(info.contradicted_by):", "            if False:"),
    ("words.py", "        return False\n    return any(isinstance(n, (ast.Call,", "        return False\n    return False and any(isinstance(n, (ast.Call,"),
    ("mentor.py", "    same_cell = [p for p in places if here is not None and p.cell == here.cell]", "    same_cell = []"),
    ("checks/question_heavy_head.py", "if not hidden or not (len(hidden) >= 2 or any(p.api == NORM for p in head)):",
     "if not hidden:"),
    ("checks/good_fine_tuning.py", "            if ctx.facts.trained_after(site, backbone) is not True:",
     "            if False:"),
]


def _copy_package(dest: Path) -> None:
    """The package and its tests side by side in `dest` (pytest puts the tests' root first on
    sys.path, so the copy is what `import nbreview` finds there)."""
    ignore = shutil.ignore_patterns("__pycache__", "_content")
    shutil.copytree(ROOT / "nbreview", dest / "nbreview", ignore=ignore)
    shutil.copytree(ROOT / "tests", dest / "tests", ignore=ignore)
    for content in ("rules", "templates", "fixtures"):
        (dest / content).symlink_to(ROOT / content)


def _run(dest: Path, suite: list[str] = SUITE) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(dest), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(dest), *suite],
                          cwd=dest, env=env, capture_output=True, text=True, timeout=600)


def test_the_copy_is_what_runs(tmp_path):
    _copy_package(tmp_path)
    (tmp_path / "nbreview" / "facts" / "apis.py").write_text("raise ImportError('the mutated copy is used')\n")
    r = _run(tmp_path)
    assert r.returncode != 0 and "the mutated copy is used" in r.stdout + r.stderr


def _assert_killed(tmp_path: Path, file: str, old: str, new: str, suite: list[str]) -> None:
    _copy_package(tmp_path)
    target = tmp_path / "nbreview" / file
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the mutated text must occur once in {file}"
    target.write_text(text.replace(old, new), encoding="utf-8")
    r = _run(tmp_path, suite)
    assert r.returncode != 0, f"mutant survived: {file}: {old!r} -> {new!r}"


@pytest.mark.parametrize("file,old,new", MUTANTS, ids=[f"{m[0]}:{i}" for i, m in enumerate(MUTANTS)])
def test_mutant_is_killed(tmp_path, file, old, new):
    _assert_killed(tmp_path, file, old, new, SUITE)


@pytest.mark.parametrize("file,old,new", SPEED_MUTANTS, ids=[f"{m[0]}:{i}" for i, m in enumerate(SPEED_MUTANTS)])
def test_speed_mutant_is_killed(tmp_path, file, old, new):
    _assert_killed(tmp_path, file, old, new, SPEED_SUITE)


@pytest.mark.parametrize("file,old,new", REVIEW_MUTANTS, ids=[f"{m[0]}:{i}" for i, m in enumerate(REVIEW_MUTANTS)])
def test_review_mutant_is_killed(tmp_path, file, old, new):
    _assert_killed(tmp_path, file, old, new, REVIEW_SUITE)

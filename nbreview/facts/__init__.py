"""Facts: everything the rules know about a notebook, computed once by one interpreter run.

A rule asks questions of a `Facts` object and never walks the code itself. The queries
below are the analysis library every rule shares; each is documented where it is defined:

- values and calls (this module): `created`, `method_calls`, `calls_to`, `calls_in`,
  `objects_in`, `chain`/`root` (a value's creation chain through pass-through methods
  such as `.to(device)`, `.batch()`), `kind_of` (what a value is: a model, data, ...),
  `framework`, `executed`;
- names (naming.py): `name_of`, `describe`, `quote`;
- data pipelines (pipelines.py): `augments`, `unit_scaling`, `transform_augments`,
  `func_augments`, `func_scaling`, `data_calls`, `roles_of`;
- models (models.py): `is_model`, `model_parts`, `backbones`, `layers_before`,
  `models_trained`, `models_used`, `unfreezes`;
- Keras training (training.py): `fits_with_callback`, `compile_calls`, `history_keys`;
- loops (loops.py): `training_loops`, `calls_inside`, `tta_loop`, `tta_calls`,
  `repeated_passes`, `model_calls`;
- the project's tasks (tasks.py): `lr_schedules`, `ensembles`, `submission_writes`,
  `weights_version`, `trained_after` (what the checklist asks);
- control flow (flow.py): `mode_at` (a model's train/eval mode at a call, across loop
  iterations), `state_at` (any state set by calls), `escapes` (where an object is handed to
  code we do not see), `gaps` (where the analysis was incomplete);
- provenance (provenance.py): `Cond.deps`, `CallRecord.arg_deps` (which objects a compared or
  passed value was computed from), `data_from` (the evaluation passes behind such a value);
- PyTorch (torchdata.py, passes.py, schedulers.py, finetune.py): `transforms_of`,
  `data_augments` (a loader/split/dataset's transform in force when it is walked), `passes`
  (training and evaluation passes over data, held-out data, model modes with their setters),
  `torch_model`, `schedulers` (steps per batch or epoch, the value stepped with),
  `torch_fine_tuned`;
- metrics and selection (metrics.py, selection.py, assigns.py): `metric_kind` (loss or
  score), `best_checks` ("best so far" comparisons), `split_kind` (test / val / train),
  `assignments` (every assignment as written);
- object identity (identity.py): `structure` (what a Keras model is made of, and whether
  that is known in full), `trainable_changes`, `frozen_at`, `top_site`, `layers_on`,
  `include_top`, `arch_of` / `unread_attribute` (what a library network's forward reads),
  `stores` (attribute and item stores, in order);
- liveness (liveness.py): `callback_reach` (does a callback reach a fit that runs),
  `replaced_by`, `fits_run`, `order_conflict` (two places ran in the other order than they stand);
- data identity (data_identity.py): `data_paths` (the ways from data down to its sources:
  parts of splits, duplication, concatenation), `overlap`, `train_val_pairs`, `test_like`;
- steps vs data sizes (data_sizes.py): `sample_count` (what the saved output says a
  generator found), `batch_size`, `size_terms` (the data a number of steps is computed
  from), `divisor`, `reads` (data built from another data object);
- orientation (orientation.py): `domain` (does the student say the images have a natural
  up/down: cars, animals, people, scenes — or not: satellite, microscopy), `turns`
  (augmentations that flip images vertically or turn them by 90 degrees, and are applied);
- label maps (label_maps.py): `set_orders` (class indices from the order of a set of
  strings), `label_persists`, `encoders` (label encoders / flows fitted per part of a split),
  `split_part`, `stratified`, `class_indices_reads`, `str_valued`;
- corrections (syntax.py, datagens.py): `syntax` (the statement around a node, its parent,
  fresh names), `segment` (the student's exact text), `generator_call` (an
  ImageDataGenerator's arguments as written, which of them normalise), `generator_feeds`
  (the models a generator feeds, and whether its images go anywhere else);
- code that does not run (values.py `Reach`): sites in a notebook function nothing calls, or
  in a branch no call takes, are `site.uncalled` with `site.reach` saying why; the queries
  leave them out unless asked (`include_uncalled=True`), and a finding about them is worded
  and graded by the engine (see `Context.report`).
- Keras catalog (structure.py, labels.py, lr.py, augparams.py, preprocessing.py, sampling.py,
  logs.py, packages.py): `spine`/`head` (a model's layers, ranks, output activation),
  `torch_output`/`value_activation`, `compile_for`, `logged_keys` (what a monitor may name),
  `loss_kind`, `label_encoding`, `lr_curve`, `evaluate` (a notebook function on constants),
  `aug_ops`/`transform_ops` (augmentation parameters by value), `preproc`/`model_scaling`
  (scaling and image size of a pipeline, what a backbone expects), `oversampling`,
  `pseudo_labelling`, `derived_predictions`, `logs` (saved outputs), `installs`.

Every answer that can be unsure is three-valued (`Answer`: True with evidence, False,
None) or says UNKNOWN; a rule that needs a sure answer stays silent otherwise.
"""
from __future__ import annotations

import ast
from enum import Enum
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

from ..program import Program
from . import (apis, data_identity, data_sizes, identity, label_maps, labels, liveness, loops, lr, models, orientation,
               structure, tasks, training)
from .augparams import AugOps, AugParams
from .logs import Logs
from .packages import Install, installs
from .preprocessing import Preproc, Preprocessing, Scaling
from .sampling import Oversampling, PseudoLabels, Sampling, derived_predictions
from .flow import Flow, Mode, StateAt
from .interpreter import Interpreter
from .naming import Sources, describe_value, first_names, quote_site
from .pipelines import Answer, Evidence, Semantics
from .assigns import Assignments
from .finetune import FineTuning, fine_tuned
from .metrics import Metrics
from .passes import Pass, Passes, model_of
from .schedulers import Scheduler, Step
from .schedulers import find as find_schedulers
from .selection import BestCheck, split_kind
from .selection import best_checks as find_best_checks
from .torchdata import TorchData, Transforms, is_torch_data
from .torchdata import chain as torchdata_chain
from .values import CallRecord, Class, Cond, Const, Func, Gap, Loop, Obj, ObjKind, Reach, Ref, Site, Value

if TYPE_CHECKING:
    from .datagens import Feeds, GeneratorCall
    from .syntax import Syntax

T = TypeVar("T")

__all__ = ["Facts", "analyse", "Answer", "Evidence", "CallRecord", "Obj", "ObjKind", "Site", "Value", "Loop",
           "Cond", "Gap", "Mode", "StateAt", "ValueKind", "Role", "apis", "Reach"]


class ValueKind(str, Enum):
    """What a value is, for the rules (see `Facts.kind_of`)."""

    MODEL = "model"  # a network: keras.applications / Model / Sequential, torchvision/timm, nn.Module subclass
    LAYER = "layer"  # a Keras layer or torch.nn building block
    DATA = "data"  # a generator flow, tf.data dataset, torch Dataset/DataLoader
    AUGMENTER = "augmenter"  # ImageDataGenerator / ImageDataAugmentor (makes data flows)
    TRANSFORM = "transform"  # albumentations / torchvision / imgaug transforms
    OPTIMIZER = "optimizer"
    SCHEDULER = "scheduler"  # an LR schedule object (torch scheduler, Keras schedule)
    CALLBACK = "callback"  # a Keras callback
    LOSS = "loss"
    ARRAY = "array"  # numpy / tensors made from data
    OTHER = "other"
    UNKNOWN = "unknown"


class Role(str, Enum):
    """How the notebook uses a piece of data (see `Facts.roles_of`)."""

    TRAIN = "train"  # fit(x=...), or walked by a loop that trains
    VALIDATION = "validation"  # fit(validation_data=...)
    EVALUATE = "evaluate"  # evaluate(...)
    PREDICT = "predict"  # predict(...) and friends
    EVAL_LOOP = "eval_loop"  # walked by a loop that runs the model without training


class Facts:
    def __init__(self, program: Program, interp: Interpreter) -> None:
        self.program = program
        self.interp = interp
        self.sources = Sources(program)
        self.sem = Semantics(self)

    # --- calls and objects -----------------------------------------------------------
    @property
    def calls(self) -> list[CallRecord]:
        """Every evaluated call, in evaluation order (`rec.seq`)."""
        return self.interp.calls

    @property
    def objects(self) -> list[Obj]:
        return self.interp.objects

    def created(self, *apis_: str, include_uncalled: bool = False) -> list[Obj]:
        """Objects created by calling one of these APIs (normalised qualified names). Objects made
        inside a notebook function that nothing calls are left out unless asked for."""
        return _select(self._objects_by_api, apis_, include_uncalled)

    def created_matching(self, pred: Callable[[str], bool], include_uncalled: bool = False) -> list[Obj]:
        return _select(self._objects_by_api, [api for api in self._objects_by_api if pred(api)], include_uncalled)

    def method_calls(self, *names: str, include_uncalled: bool = False) -> list[CallRecord]:
        """Calls of `x.name(...)` for any of the names, on any receiver."""
        return _select(self._calls_by_method, names, include_uncalled)

    def calls_to(self, *qnames: str, include_uncalled: bool = False) -> list[CallRecord]:
        """Calls of library functions/classes by normalised qualified name."""
        return _select(self._calls_by_name, qnames, include_uncalled)

    # The queries above are asked hundreds of times per notebook: each reads an index built once,
    # after the interpreter has run (its lists of calls and objects no longer change).
    @cached_property
    def _objects_by_api(self) -> dict[str, list[tuple[int, Obj]]]:
        return _index((i, o.api, o) for i, o in enumerate(self.interp.objects) if o.kind is ObjKind.CALL and o.api)

    @cached_property
    def _calls_by_method(self) -> dict[str, list[tuple[int, CallRecord]]]:
        return _index((i, c.method, c) for i, c in enumerate(self.interp.calls) if c.method is not None)

    @cached_property
    def _calls_by_name(self) -> dict[str, list[tuple[int, CallRecord]]]:
        return _index((i, c.name, c) for i, c in enumerate(self.interp.calls) if c.name is not None)

    @cached_property
    def calls_by_context(self) -> dict[tuple[Func, ...], tuple[list[tuple[int, int, int]], list[int]]]:
        """For each context (`site.funcs`): the site keys of its calls, sorted, and the smallest
        `seq` of the calls from each key on (what `tasks.seq_after` looks up)."""
        by_ctx: dict[tuple[Func, ...], list[tuple[tuple[int, int, int], int]]] = {}
        for c in self.interp.calls:
            by_ctx.setdefault(c.site.funcs, []).append((c.site.key, c.seq))
        out = {}
        for funcs, entries in by_ctx.items():
            entries.sort()
            mins, low = [0] * len(entries), None
            for i in range(len(entries) - 1, -1, -1):
                low = entries[i][1] if low is None else min(low, entries[i][1])
                mins[i] = low
            out[funcs] = ([k for k, _ in entries], mins)
        return out

    @cached_property
    def last_seq(self) -> int:
        return max((c.seq for c in self.interp.calls), default=0)

    def calls_in(self, func: Func) -> Iterator[CallRecord]:
        """Calls made while the body of a notebook function ran (its helpers included)."""
        return (c for c in self.interp.calls if func in c.site.funcs)

    def objects_in(self, func: Func) -> Iterator[Obj]:
        return (o for o in self.interp.objects if func in o.site.funcs)

    def uses(self, obj: Obj, *params: str) -> list:
        return [u for u in obj.uses if not params or u.param in params]

    @staticmethod
    def chain(v: Value | None, table: str) -> list[Obj]:
        """`v` and the objects it was derived from through the pass-through methods of
        `apis.PASSTHROUGH[table]` ("model": `.to()/.cuda()/.train()/.eval()`; "data":
        `.batch()/.prefetch()/...`; "array": `.astype()/.reshape()`), newest first."""
        return list(models.chain(v, table))

    @staticmethod
    def root(v: Value | None, table: str) -> Value | None:
        """The start of that chain: the model behind `model.to(device).eval()`."""
        return models.root(v, table)

    def kind_of(self, v: Value | None) -> ValueKind:
        """What a value is (looked up on the object at the start of its creation chain)."""
        v = models.root(models.root(v, "model"), "data")
        if not isinstance(v, Obj):
            return ValueKind.UNKNOWN
        if models.is_model(v):
            return ValueKind.MODEL
        api = v.api or ""
        if v.kind is ObjKind.METHOD:
            if v.api in apis.FLOW_METHODS or v.api in apis.DATASET_PASSTHROUGH or v.api == "map":
                return ValueKind.DATA
            return ValueKind.UNKNOWN
        if v.kind is not ObjKind.CALL:
            return ValueKind.UNKNOWN
        if api in (apis.IMAGE_DATA_GENERATOR, apis.IMAGE_DATA_AUGMENTOR):
            return ValueKind.AUGMENTER
        if loops.is_data(v) and not api.startswith("notebook."):
            return ValueKind.DATA
        if api.startswith(("albumentations.", "torchvision.transforms.", "imgaug.")):
            return ValueKind.TRANSFORM
        if api.startswith("keras.callbacks."):
            return ValueKind.CALLBACK
        if api.startswith(("torch.optim.lr_scheduler.", "keras.optimizers.schedules.", "timm.scheduler.")):
            return ValueKind.SCHEDULER
        if api.startswith(("keras.optimizers.", "torch.optim.")):
            return ValueKind.OPTIMIZER
        if api.startswith("keras.losses.") or (api.startswith("torch.nn.") and api.endswith("Loss")):
            return ValueKind.LOSS
        if api.startswith(("keras.layers.", "torch.nn.")):
            return ValueKind.LAYER
        if api.startswith(("numpy.", "torch.tensor", "torch.from_numpy", "tensorflow.constant")):
            return ValueKind.ARRAY
        if api.startswith("notebook.") and isinstance(v.callee, Class):
            if models.subclasses(v.callee, frozenset({"torch.utils.data.Dataset", "torch.utils.data.dataset.Dataset",
                                                      "keras.utils.Sequence", "keras.utils.PyDataset"})):
                return ValueKind.DATA
        return ValueKind.OTHER

    @cached_property
    def imported(self) -> set[str]:
        return {q for _, q in self.interp.imports}

    @cached_property
    def framework(self) -> str | None:
        """"keras", "torch", or None (neither imported). With both, the one that trains."""
        keras = any(q.startswith(("keras", "tensorflow")) for q in self.imported)
        torch = any(q.startswith(("torch", "timm")) for q in self.imported)
        if keras and not torch:
            return "keras"
        if torch and not keras:
            return "torch"
        if keras and torch:
            fits = bool(self.method_calls("fit", "fit_generator"))
            return "keras" if fits else "torch"
        return None

    def executed(self, cell: int) -> bool:
        c = self.program.code_cell(cell)
        return bool(c and c.executed)

    @cached_property
    def notebook_ran(self) -> bool:
        """The notebook was saved after running (some code cell has an execution count)."""
        return any(cc.executed for cc in self.program.cells)

    def ran(self, site: Site) -> bool | None:
        """Did the code at this site run before the notebook was saved? False for a cell with an
        empty `In [ ]` in a notebook that was run (and for code in functions nothing calls);
        None when the notebook carries no execution counts at all."""
        if site.uncalled:
            return False
        if not self.notebook_ran:
            return None
        return self.executed(site.cell)

    @cached_property
    def out_of_order(self) -> bool:
        """Cells were run in another order than they stand (an execution count goes down)."""
        counts = [cc.cell.execution_count for cc in self.program.cells if cc.executed]
        return any(b < a for a, b in zip(counts, counts[1:]))

    # --- names -------------------------------------------------------------------------
    @cached_property
    def _names(self) -> dict[int, str]:
        return first_names(self.interp)

    def name_of(self, v: Value | None) -> str | None:
        """The variable the student bound this object to (its first binding), if any."""
        return self._names.get(v.id) if isinstance(v, Obj) else None

    def describe(self, v: Value | None, max_len: int = 60) -> str | None:
        """How to name an object in a message: the student's variable, else their own code for
        it; None when there is nothing to quote."""
        return describe_value(self._names, self.sources, v, max_len)

    def quote(self, site: Site, max_len: int = 100) -> str:
        """The student's own text at a site, on one line, trimmed."""
        return quote_site(self.sources, site, max_len)

    # --- data pipelines (pipelines.py) ---------------------------------------------------
    def augments(self, v: Value | None) -> Answer:
        """Does this data go through a random augmentation on its way to the model?"""
        return self.sem.augments(v)

    def unit_scaling(self, v: Value | None) -> Answer:
        """Does this data reach the model divided by 255 (values in [0, 1])?"""
        return self.sem.unit_scaling(v)

    def transform_augments(self, v: Value | None) -> Answer:
        """Is this transform object (albumentations, torchvision, imgaug, Keras layers) random?"""
        return self.sem.transform_augments(v)

    def func_augments(self, f: Value | None) -> Answer:
        return self.sem.func_augments(f)

    def func_scaling(self, f: Value | None) -> Answer:
        return self.sem.func_scaling(f)

    def data_calls(self, model: Obj) -> list[tuple[CallRecord, str, Value]]:
        """Every (call, role, data) that feeds data to `model`: fit x / validation_data, evaluate, predict."""
        out: list[tuple[CallRecord, str, Value]] = []
        for use in model.uses:
            if use.param != "self":
                continue
            rec = use.call
            m = rec.method
            if m in apis.FIT_METHODS:
                for role in ("x", "validation_data"):
                    v = rec.args.get(role)
                    if v is not None:
                        out.append((rec, role, v))
            elif m in apis.PREDICT_METHODS or m in apis.EVALUATE_METHODS:
                v = rec.args.get("x")
                if v is not None:
                    out.append((rec, m, v))
        return out

    def roles_of(self, data: Value | None) -> set[Role]:
        """How the notebook uses this data: trained on, validated on, evaluated, predicted, or
        walked by an evaluation loop."""
        out: set[Role] = set()
        if not isinstance(data, Obj):
            return out
        for rec in self.calls:
            if rec.site.uncalled:
                continue
            if rec.method in apis.FIT_METHODS:
                if rec.args.get("x") is data:
                    out.add(Role.TRAIN)
                if rec.args.get("validation_data") is data:
                    out.add(Role.VALIDATION)
            elif rec.method in apis.EVALUATE_METHODS and rec.args.get("x") is data:
                out.add(Role.EVALUATE)
            elif rec.method in apis.PREDICT_METHODS and rec.args.get("x") is data:
                out.add(Role.PREDICT)
        for loop in self._data_loops.get(data.id, ()):
            out.add(Role.TRAIN if loop in self.training_loops else Role.EVAL_LOOP)
        return out

    @cached_property
    def _data_loops(self) -> dict[int, list[Loop]]:
        out: dict[int, list[Loop]] = {}
        seen: set[int] = set()
        for rec in self.calls:
            for loop in rec.site.loops:
                if loop.id in seen:
                    continue
                seen.add(loop.id)
                over = loops.unwrap_iterable(loop.over)
                if isinstance(over, Obj):
                    out.setdefault(over.id, []).append(loop)
        return out

    # --- models (models.py) ------------------------------------------------------------
    @staticmethod
    def is_model(v: Value | None) -> bool:
        """A Keras or PyTorch model object (through `.to(device)`, `.eval()` ...)."""
        return models.is_model(v)

    @staticmethod
    def model_parts(model: Value | None) -> list[Obj]:
        """The layers and sub-models a Keras model is made of."""
        return models.model_parts(model)

    @staticmethod
    def backbones(model: Value | None) -> list[Obj]:
        """The pretrained architectures (keras.applications, legacy efficientnet) inside a model."""
        return models.backbones(model)

    @staticmethod
    def layers_before(model: Value | None, backbone: Obj) -> list[Obj]:
        """Layers applied to the input before it reaches `backbone`, inside the model."""
        return models.layers_before(model, backbone)

    def models_trained(self, include_uncalled: bool = False) -> list[tuple[CallRecord, Obj]]:
        """(fit call, model object) for every fit on a model the interpreter could follow (fits in
        code that does not run too, when asked)."""
        out = []
        for rec in self.method_calls(*apis.FIT_METHODS, include_uncalled=include_uncalled):
            if isinstance(rec.receiver, Obj):
                out.append((rec, rec.receiver))
        return out

    def models_used(self, include_uncalled: bool = False) -> list[Obj]:
        """Every model object that is fitted, evaluated or predicted with (first use first)."""
        found: dict[int, Obj] = {}
        for rec in self.method_calls(*apis.FIT_METHODS, *apis.PREDICT_METHODS, *apis.EVALUATE_METHODS,
                                     include_uncalled=include_uncalled):
            if isinstance(rec.receiver, Obj):
                found.setdefault(rec.receiver.id, rec.receiver)
        return list(found.values())

    @cached_property
    def unfreezes(self) -> list[tuple[Site, Obj, bool]]:
        """(site, backbone, whole?) for every `.trainable = True` on a trained backbone or its layers."""
        return models.unfreezes(self)

    # --- Keras training (training.py) -------------------------------------------------------
    def fits_with_callback(self, callback: Obj) -> list[CallRecord]:
        """The fit calls whose `callbacks=` list holds this callback object."""
        return training.fits_with_callback(self, callback)

    def compile_calls(self, model: Value | None) -> list[CallRecord]:
        """`model.compile(...)` calls on this model, in evaluation order."""
        return training.compile_calls(self, model)

    def history_keys(self, fit: CallRecord) -> set[str] | None:
        """The keys a fit logs per epoch (`loss`, `accuracy`, `val_loss`, ...); None when unknown."""
        return training.history_keys(self, fit)

    # --- loops (loops.py) ----------------------------------------------------------------
    @cached_property
    def training_loops(self) -> frozenset[Loop]:
        """Loops with a training call inside (backward, step, fit, ...), helpers included."""
        return loops.training_loops(self)

    def calls_inside(self, loop: Loop) -> Iterator[CallRecord]:
        """The calls made while the loop body ran (helpers included), in evaluation order."""
        return loops.calls_inside(self, loop)

    def tta_loop(self, rec: CallRecord) -> Loop | None:
        """The loop that repeats this predict call over the same data (test-time augmentation)."""
        return loops.tta_loop(self, rec)

    def tta_calls(self, include_uncalled: bool = False) -> Iterator[tuple[CallRecord, Loop]]:
        """(predict call, repeating loop) for every prediction repeated over the same data."""
        return loops.tta_calls(self, include_uncalled)

    def repeated_passes(self) -> Iterator[tuple[Loop, Loop, CallRecord, Obj]]:
        """(repeat loop, data loop, forward call, data): a whole batch-by-batch walk repeated."""
        return loops.repeated_passes(self)

    def model_calls(self, model: Value | None) -> Iterator[CallRecord]:
        """Forward passes `model(x)` of this model (through `.to(device)` & co.)."""
        return loops.model_calls(self, model)

    # --- control flow (flow.py) ------------------------------------------------------------
    @cached_property
    def flow(self) -> Flow:
        return Flow(self)

    def mode_at(self, model: Value | None, at: CallRecord) -> StateAt:
        """The train/eval mode of a PyTorch model when `at` runs, per loop iteration; includes
        `Mode.UNKNOWN` when a call we cannot see could have changed it."""
        return self.flow.mode_at(model, at)

    def state_at(self, at: CallRecord, effect: Callable[[CallRecord], object], initial: object,
                 escapes: list[CallRecord] = ()) -> StateAt:
        """The states that may hold at `at`, for a state set by the calls `effect` recognises."""
        return self.flow.state_at(at, effect, initial, escapes)

    def escapes(self, obj: Value | None) -> list[CallRecord]:
        """Calls that hand `obj` to code the analysis does not see."""
        return self.flow.escapes(obj) if obj is not None else []

    @property
    def gaps(self) -> list[Gap]:
        """Where the analysis was incomplete (budget, depth, a statement it could not evaluate,
        a cell that does not parse)."""
        return self.interp.gaps

    def complete_between(self, lo: int, hi: int) -> bool:
        """No gap between these two points of the evaluation order."""
        return not self.flow.gaps_between(lo, hi)

    # --- PyTorch data (torchdata.py) ------------------------------------------------------
    @cached_property
    def torchdata(self) -> TorchData:
        return TorchData(self)

    def transforms_of(self, data: Value | None, at: int | None = None) -> Transforms:
        """The transforms a PyTorch loader/subset/split/dataset applies to its images when it is
        walked at sequence number `at` (None: any it ever has): through `random_split`/`Subset`
        (subsets share the parent), `ds.transform = ...` swaps, and a notebook Dataset's
        `__getitem__` read for this instance."""
        return self.torchdata.transforms_of(data, at)

    # --- passes over data, model modes (passes.py) ---------------------------------------
    @cached_property
    def passes(self) -> Passes:
        """Every loop over a loader/dataset (`Pass`: trains or evaluates, the data it walks, the
        model's forward calls, the helper it runs in) and the model-mode queries over them
        (`mode_at`, `surely_training_mode`, `training_setter`, `held_out`)."""
        return Passes(self)

    @staticmethod
    def torch_model(v: Value | None) -> Obj | None:
        """The network behind a value (through `.to()`, `nn.DataParallel`, `model.module`;
        `nn.Sequential` included), or None."""
        return model_of(v)

    # --- assignments as written (assigns.py) ------------------------------------------------
    @cached_property
    def assignments(self) -> Assignments:
        """Every assignment of the source, by target name or attribute: value, scope, and
        whether it updates (in a loop or function) or initialises (top level)."""
        return Assignments(self.program)

    # --- schedulers (schedulers.py), metric kinds (metrics.py) ------------------------------
    @cached_property
    def schedulers(self) -> list[Scheduler]:
        """Every LR scheduler object (torch, timm, transformers) with its `step()` calls: per batch
        or per epoch, under which loop (and its iteration count), with what value, and whether
        it was handed to code the analysis does not see."""
        return find_schedulers(self)

    @cached_property
    def metrics(self) -> Metrics:
        return Metrics(self)

    def metric_kind(self, node: "ast.AST | None") -> str | None:
        """"loss" (lower is better), "score" (higher is better: accuracy, F1, ...) or None, for an
        expression of the notebook (names, definitions in its scope, metric functions,
        `-x` / `1 - x` flips)."""
        return self.metrics.kind(node)

    # --- "best so far" logic and data splits (selection.py) -------------------------------
    @cached_property
    def best_checks(self) -> list[BestCheck]:
        """Every `if metric > best:`-style comparison inside a loop (or a function a loop calls)
        that acts on an improvement: its metric and best sides, direction, and the metric's
        provenance."""
        return find_best_checks(self)

    def split_kind(self, data: Value | None) -> str | None:
        """"test", "val" or "train" by the names a piece of data carries (variables, folders,
        `train=False`, the frames a Dataset was built from); None when unsure."""
        return split_kind(self, data)

    def data_from(self, deps: frozenset[int]) -> list[Pass]:
        """The evaluation passes whose data (loader, subset or dataset) is among these provenance
        ids: which held-out data a value was computed from."""
        out = []
        for p in self.passes.evaluation_passes():
            if any(o.id in deps for o in torchdata_chain(p.data)):
                out.append(p)
        return out

    @cached_property
    def torch_fine_tuned(self) -> list[FineTuning]:
        """Pretrained PyTorch networks whose backbone a training pass really trains: the optimizer
        gets backbone parameters and they are not frozen then (staged unfreezing included)."""
        return fine_tuned(self)

    def data_augments(self, data: Value | None, at: int | None = None) -> Answer:
        """`augments` for a PyTorch data object walked at `at`."""
        if isinstance(data, Obj) and is_torch_data(data):
            return self.sem.torch_data_augments(data, at)
        return self.augments(data)

    # --- object identity (identity.py) -----------------------------------------------------
    @property
    def stores(self) -> list:
        """Every `obj.attr = value` and `obj[key] = value` on an object, in evaluation order."""
        return self.interp.stores

    @staticmethod
    def structure(model: Value | None) -> "identity.Structure | None":
        """What a Keras model is made of (`parts`, `backbones`, `weight_layers`) and whether the
        analysis sees all of it (`complete`); `contains(obj)` is False only when it is."""
        return identity.structure(model)

    @cached_property
    def trainable_changes(self) -> list["identity.TrainableChange"]:
        """Every `.trainable = ...` on a pretrained backbone or its layers, in evaluation order."""
        return identity.trainable_changes(self)

    def frozen_at(self, backbone: Obj, seq: int) -> bool | None:
        """Whether the backbone is frozen as a whole when evaluation reaches `seq`."""
        return identity.frozen_at(self, backbone, seq)

    def top_site(self, site: Site, seq: int) -> Site:
        """The student's top-level statement behind a site (the call of their helper function)."""
        return identity.top_site(self, site, seq)

    def layers_on(self, backbone: Obj) -> list[Obj]:
        """Keras layers applied on top of a backbone's output (a head), in any model or none."""
        return identity.layers_on(self, backbone)

    @staticmethod
    def include_top(backbone: Obj) -> bool | None:
        return identity.include_top(backbone)

    @staticmethod
    def arch_of(model: Value | None) -> "identity.Arch | None":
        """The library architecture of a PyTorch model (torchvision, timm, ...): the attributes
        its forward reads, and its head attribute."""
        return identity.arch_of(model)

    @staticmethod
    def unread_attribute(arch: "identity.Arch", attr: str) -> bool:
        """The architecture's forward pass surely never reads this attribute."""
        return identity.unread_attribute(arch, attr)

    @staticmethod
    def is_torch_module(v: Value | None) -> bool:
        return identity.is_torch_module(v)

    @staticmethod
    def is_classifier(v: Value | None) -> bool:
        """A PyTorch classification head: `nn.Linear`, or a container / module of the notebook holding one."""
        return identity.is_classifier(v)

    # --- liveness (liveness.py) -----------------------------------------------------------------
    def callback_reach(self, callback: Obj) -> "liveness.Reach":
        """Does a Keras callback reach the `callbacks=` of a fit that runs (True / False / None)?"""
        return liveness.callback_reach(self, callback)

    def replaced_by(self, callback: Obj) -> Obj | None:
        """A later callback of the same class, bound to the same name, that is used."""
        return liveness.replaced_by(self, callback)

    def order_conflict(self, a: Site, seq_a: int, b: Site, seq_b: int) -> bool:
        """The execution counts say these two ran in the other order than the cells stand."""
        return liveness.order_conflict(self, a, seq_a, b, seq_b)

    def fits_run(self) -> list[CallRecord]:
        """The Keras fit calls that run (not in a function nothing calls), in order."""
        return liveness.fits(self)

    # --- data identity (data_identity.py) -------------------------------------------------------
    @cached_property
    def _lineage(self) -> "data_identity.Lineage":
        return data_identity.Lineage(self)

    def data_paths(self, v: Value | None) -> list["data_identity.Path"]:
        """Every way down from a data value to a source of its rows, as the steps met (the value's
        own step first): parts of splits, duplications, concatenations, unknown steps."""
        return self._lineage.paths(v)

    @staticmethod
    def overlap(a: tuple, b: tuple) -> bool:
        """Two selections (`Path.selection()`) surely share rows."""
        return data_identity.overlap(a, b)

    @cached_property
    def train_val_pairs(self) -> list["data_identity.TrainVal"]:
        """(training data, validation data) used together: fit + validation_data / validation_split
        (and a later evaluate on it), a training loop and an evaluation loop in one epoch loop."""
        return data_identity.train_val_pairs(self)

    def test_like(self, path: "data_identity.Path") -> "data_identity.Step | None":
        """A step of the path reading test data (a file or folder named like a test set) or
        pseudo-labels (a frame whose column was filled from a model's predictions)."""
        return self._lineage.is_test_like(path)

    # --- steps vs data sizes (data_sizes.py) --------------------------------------------------
    @cached_property
    def _sizes(self) -> "data_sizes.Sizes":
        return data_sizes.Sizes(self)

    def sample_count(self, data: Value | None) -> "data_sizes.Count | None":
        """How many samples (and classes) the saved output says this generator found."""
        return self._sizes.count(data)

    @staticmethod
    def batch_size(data: Value | None) -> int | None:
        """The batch size of a flow / dataset / loader (given or the library default)."""
        return data_sizes.batch_size(data)

    @staticmethod
    def size_terms(v: Value | None) -> list[Obj]:
        """The data objects a number is computed from (`train_gen.samples // BS` -> train_gen)."""
        return data_sizes.size_terms(v)

    @staticmethod
    def divisor(v: Value | None) -> float | None:
        """The constant a number of steps is divided by (`n // 64` -> 64)."""
        return data_sizes.divisor(v)

    @staticmethod
    def divided_batches(v: Value | None) -> Obj | None:
        """`len(val_gen) // 32`: the generator whose number of batches is divided again."""
        return data_sizes.divided_batches(v)

    @staticmethod
    def reads(data: Value | None, obj: Obj) -> bool:
        """`data` is `obj`, or a flow / loader / mapped dataset built from it."""
        return data_sizes.reads(data, obj)

    # --- orientation (orientation.py) -----------------------------------------------------------
    @cached_property
    def domain(self) -> "orientation.Domain":
        """What the notebook's own words say its images are, as far as up and down go: `upright`
        True (cars, animals, people, scenes), None (satellite, microscopy, unknown or mixed)."""
        return orientation.domain(self)

    @cached_property
    def turns(self) -> list["orientation.Turn"]:
        """Augmentations that flip images vertically, transpose them or turn them by 90 degrees,
        applied to data."""
        return orientation.turns(self)

    # --- label maps (label_maps.py) -------------------------------------------------------------
    @cached_property
    def set_orders(self) -> list["label_maps.SetOrder"]:
        """Class -> index mappings taken from the iteration order of a set of strings."""
        return label_maps.set_orders(self)

    @cached_property
    def label_persists(self) -> bool:
        """The notebook saves or loads a model, weights or predictions (another run may meet them)."""
        return label_maps.persists(self)

    @cached_property
    def encoders(self) -> list["label_maps.Encoder"]:
        """LabelEncoders and Keras flows that derive class indices from the data they are fitted on."""
        return label_maps.encoders(self)

    def split_part(self, data: Value | None) -> "data_identity.Step | None":
        """The split part this data is (the nearest part step on its way to its source)."""
        return label_maps.split_part(self, data)

    @staticmethod
    def stratified(step: "data_identity.Step") -> bool | None:
        """Whether a split keeps every class in each part (stratified), False for an unstratified
        random split, None when unknown."""
        return label_maps.stratified(step)

    def class_indices_reads(self) -> list[tuple[CallRecord, Obj]]:
        """(the call using it, the generator) for every use of a generator's `class_indices`."""
        return label_maps.decodes_with(self)

    def str_valued(self, v: Value | None) -> bool | None:
        """The values are strings (paths, folder names, a column cast to str): True / False / None."""
        return label_maps.str_valued(self, v)

    # --- corrections (syntax.py, datagens.py): where code sits, what the student wrote ------
    @cached_property
    def syntax(self) -> "Syntax":
        """Syntactic questions for fixes: `statement(cell, node)`, `parent(cell, node)`,
        `block_of(cell, stmt)`, `fresh_name(base)` (a name the notebook does not use)."""
        from .syntax import Syntax

        return Syntax(self.program)

    def segment(self, cell: int, node: object) -> str | None:
        """The exact text of an `ast` node of a cell, as the student wrote it."""
        return self.sources.segment(cell, node)  # type: ignore[arg-type]

    def generator_call(self, obj: Value | None) -> "GeneratorCall | None":
        """An `ImageDataGenerator(...)` written with known keyword arguments only: its callee and
        arguments as text, which of them normalise (see datagens.py); None otherwise."""
        from .datagens import generator_call

        return generator_call(obj, self.sources)

    def generator_feeds(self, gen: Obj) -> "Feeds":
        """The models an ImageDataGenerator's flows feed (`models`), and whether its images also
        go anywhere else (`elsewhere`: next(), a loop, indexing, another function, an alias)."""
        from .datagens import generator_feeds

        return generator_feeds(self, gen)

    # --- the project's tasks (tasks.py) ----------------------------------------------------
    def lr_schedules(self) -> list["tasks.Attempt"]:
        """LR callbacks, schedule objects and schedulers, each with whether it reaches training
        (`live`: True / False when surely not, e.g. never stepped / None when unsure)."""
        return tasks.lr_schedules(self)

    def ensembles(self) -> list[Site]:
        """Where predictions of different models (or of one model with different weights) are
        combined, and loops that predict with each model of a list."""
        return tasks.ensembles(self)

    def submission_writes(self) -> list[Site]:
        """`to_csv` / `np.savetxt` calls that write a submission (by file or table name, or
        because the table holds predictions), helpers included."""
        return tasks.submission_writes(self)

    def weights_version(self, model: Value | None, seq: int) -> int:
        """How many weight changes (load_weights, fit, load_state_dict, ...) the model had before `seq`."""
        return tasks.weights_version(self, model, seq)

    @cached_property
    def _loads(self) -> dict[str, list[tuple[int, int, int]]]:
        import ast

        out: dict[str, list[tuple[int, int, int]]] = {}
        for cc in self.program.cells:
            if cc.tree is None:
                continue
            for node in ast.walk(cc.tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    out.setdefault(node.id, []).append((cc.index, node.lineno, node.col_offset + 1))
        return out

    def loads_of(self, name: str) -> list[tuple[int, int, int]]:
        """Where the notebook reads a variable (cell, line, column), in any cell or function."""
        return self._loads.get(name, [])

    def trained_after(self, site: Site, backbone: Obj) -> bool | None:
        """Is a model holding `backbone` trained after `site`? None when no known model is trained."""
        return tasks.trained_after(self, site, backbone)

    @cached_property
    def training_backbones(self) -> list[tuple[int, list[Obj]]]:
        """(seq, backbones of the model trained) for every training call (what `trained_after` reads)."""
        return tasks.training_backbones(self)

    # --- Keras catalog: model structure, labels, LR, augmentation, preprocessing, data (issue 10) ---
    def spine(self, model: Value | None) -> list[structure.Layer] | None:
        """A Keras model's layers from input to output (ranks, activations; see structure.py)."""
        base = models.root(model, "model")
        if isinstance(base, Obj) and base.kind is ObjKind.CALL and isinstance(base.callee, Class):
            out = self.interp.forward_results.get(base.id)
            return structure._walk_back(out, 0) if out is not None else None
        return structure.spine(base)

    def head(self, model: Value | None) -> structure.Head | None:
        """How a Keras model ends: output layer, final activation, layers after it."""
        return structure.head(self.spine(model))

    def torch_output(self, model: Value | None) -> str | None:
        """What a PyTorch network returns: "logits" | "softmax" | "log_softmax" | "sigmoid" | None."""
        return structure.torch_output(self, model)

    def value_activation(self, v: Value | None) -> str | None:
        """What a tensor is, by how it was made (a network's output, softmax of something, ...)."""
        return structure.value_activation(self, v)

    def compile_for(self, call: CallRecord) -> CallRecord | None:
        """The `compile` in force when this fit/evaluate/predict ran."""
        return training.compile_for(self, call)

    def logged_keys(self, fit: CallRecord) -> training.LoggedKeys | None:
        """The keys this fit logs per epoch, with the unsure ones (see training.py)."""
        return training.logged_keys(self, fit)

    def loss_kind(self, compile_rec: CallRecord) -> labels.Loss | None:
        """The cross-entropy a compile uses ("categorical" | "sparse" | "binary", from_logits)."""
        return labels.loss_kind(compile_rec, self.quote)

    def label_encoding(self, data: Value | None) -> labels.Labels | None:
        """How this data's labels are encoded ("onehot" | "sparse" | "binary"), where it is decided."""
        return labels.label_encoding(data, self.quote)

    def lr_curve(self, fit: CallRecord) -> lr.LrCurve | None:
        """The learning rate over the epochs this fit trains (see lr.py)."""
        return lr.lr_curve(self, fit)

    def evaluate(self, func: Func, args: list[object]) -> Value:
        """The value a notebook function returns for constant arguments (`schedule(3, 1e-3)`),
        evaluated by a scratch interpreter that changes nothing the analysis knows."""
        from .interpreter import Interpreter, _Ctx

        scratch = Interpreter()
        saved = (func.evaluated, list(func.returns))
        try:
            return scratch.call_func(func, [Const(a) for a in args], {}, _Ctx(func.cell, uncalled=True))
        except Exception:  # noqa: BLE001 - an unexpected construct: unknown
            from .values import UNKNOWN

            return UNKNOWN
        finally:
            func.evaluated, func.returns[:] = saved[0], saved[1]

    @cached_property
    def _augparams(self) -> AugParams:
        return AugParams(self)

    def aug_ops(self, data: Value | None) -> AugOps:
        """The augmentations a data pipeline applies, with their strength (see augparams.py)."""
        return self._augparams.ops(data)

    def transform_ops(self, t: Value | None) -> AugOps:
        """The augmentations one transform object (a Compose, a Keras Sequential, ...) applies."""
        return self._augparams.transform_ops(t)

    @cached_property
    def _preprocessing(self) -> Preprocessing:
        return Preprocessing(self)

    def preproc(self, data: Value | None) -> Preproc:
        """The scaling and image size of a data pipeline (see preprocessing.py)."""
        return self._preprocessing.of(data)

    def model_scaling(self, model: Value | None, backbone: Obj) -> Scaling | str | None:
        """What a model's own layers do to the input before `backbone` ("keep" when nothing)."""
        return self._preprocessing.model_scaling(model, backbone)

    def oversampling(self) -> list[Oversampling]:
        """Places that oversample classes (draw rows or files with replacement)."""
        return Sampling(self).oversampling()

    def pseudo_labelling(self) -> list[PseudoLabels]:
        """Fits trained on test predictions with no confidence filter (see sampling.py)."""
        return Sampling(self).pseudo_labelling()

    @staticmethod
    def derived_predictions(v: Value | None) -> list[tuple[Obj, bool]]:
        """(predict result, filtered on the way?) for every prediction a value is made from."""
        return derived_predictions(v)

    def data_loops(self) -> list[tuple[Obj, Loop]]:
        """(data, loop) for every loop that walks over a data object (a loader, a dataset, a flow)."""
        by_id = {o.id: o for o in self.interp.objects}
        return [(by_id[i], lp) for i, lps in self._data_loops.items() if i in by_id for lp in lps]

    @cached_property
    def logs(self) -> Logs:
        """The notebook's saved outputs (Keras epoch lines, warnings, printed LRs)."""
        return Logs(self.program.notebook)

    @cached_property
    def installs(self) -> list[Install]:
        """`pip install` commands (shell escapes, `%pip`, bare automagic lines)."""
        return installs(self.program)

    @cached_property
    def old_keras(self) -> bool:
        """TensorFlow 1.x or Keras < 2.3 is in use (they log `acc` for `'accuracy'`)."""
        from .packages import old_keras

        return old_keras(self.program, self.installs)


def _index(entries: Iterable[tuple[int, str, T]]) -> dict[str, list[tuple[int, T]]]:
    """key -> [(position, item)] in the order of the positions."""
    out: dict[str, list[tuple[int, T]]] = {}
    for i, key, item in entries:
        out.setdefault(key, []).append((i, item))
    return out


def _select(index: dict[str, list[tuple[int, T]]], keys: Iterable[str], include_uncalled: bool) -> list[T]:
    """The items of these keys, in their original order (sites that do not run left out unless asked)."""
    groups = [index[k] for k in dict.fromkeys(keys) if k in index]
    if not groups:
        return []
    # (positions are unique: sorting the few entries of several keys is their merge, and cheaper)
    entries = groups[0] if len(groups) == 1 else sorted([e for g in groups for e in g], key=itemgetter(0))
    if include_uncalled:
        return [item for _, item in entries]
    return [item for _, item in entries if not item.site.uncalled]  # type: ignore[attr-defined]


def analyse(program: Program) -> Facts:
    interp = Interpreter()
    ran = any(cc.executed for cc in program.cells)  # counts mean something only if the notebook was run
    for cc in program.cells:
        if cc.tree is not None:
            count = (cc.cell.execution_count if cc.executed else -1) if ran else None
            interp.run_cell(cc.index, cc.tree, count)
        elif cc.masked.skipped is None:  # a Python cell that does not parse: its code is unseen
            interp.gaps.append(Gap(cc.index, 1, "unparsed", interp.seq))
    interp.finish()
    return Facts(program, interp)

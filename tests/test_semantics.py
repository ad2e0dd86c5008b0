"""The interpreter's trickier semantics, each pinned by a small case (tests/test_mutations.py
checks that breaking any of them makes this suite fail)."""
from __future__ import annotations

import pytest

from nbreview.engine import Options, review_path
from nbreview.facts import analyse
from nbreview.facts.values import Const
from nbreview.notebook import load
from nbreview.program import build

from .conftest import make_notebook


@pytest.fixture
def rules_on(tmp_path):
    def _run(cells, *slugs):
        path = make_notebook(list(cells), tmp_path / "s.ipynb")
        report = review_path(path, Options(select=set(slugs), use_config=False))
        return sorted({(f.rule, f.location.cell) for f in report.findings}) + \
            sorted({(p.rule, p.location.cell) for p in report.praise + report.questions})

    return _run


@pytest.fixture
def facts_of(tmp_path):
    def _facts(*cells):
        return analyse(build(load(make_notebook(list(cells), tmp_path / "f.ipynb"))))

    return _facts


TF_VAL = "model.fit(train_ds, validation_data=val_ds)"


def _tfdata(aug_body: str) -> str:
    return ("import tensorflow as tf\n"
            f"def aug(x, y):\n{aug_body}\n    return x, y\n"
            "train_ds = tf.data.Dataset.from_tensor_slices((a, b)).map(aug)\n"
            "val_ds = tf.data.Dataset.from_tensor_slices((c, d)).map(aug)\n" + TF_VAL)


# --- random ops --------------------------------------------------------------------------

def test_stateless_random_op_with_a_constant_seed_is_deterministic(rules_on):
    cells = [_tfdata("    x = tf.image.stateless_random_flip_left_right(x, seed=(1, 2))")]
    assert rules_on(cells, "augmented-validation") == []


def test_stateless_random_op_with_a_varying_seed_augments(rules_on):
    cells = [_tfdata("    x = tf.image.stateless_random_flip_left_right(x, seed=tf.random.uniform([2], 0, 9, tf.int32))")]
    assert rules_on(cells, "augmented-validation") == [("augmented-validation", 0)]


def test_random_op_augments(rules_on):
    assert rules_on([_tfdata("    x = tf.image.random_brightness(x, 0.2)")], "augmented-validation") == \
        [("augmented-validation", 0)]


# --- probabilities and modes ---------------------------------------------------------------

ALBU_VAL = ("import albumentations as A\nfrom ImageDataAugmentor.image_data_augmentor import ImageDataAugmentor\n"
            "AUG = {aug}\ngen = ImageDataAugmentor(augment=AUG, validation_split=0.2)\n"
            "tr = gen.flow_from_directory('d', subset='training')\nva = gen.flow_from_directory('d', subset='validation')\n"
            "model.fit(tr, validation_data=va)")


def test_albumentations_with_p_zero_does_not_augment(rules_on):
    cells = [ALBU_VAL.format(aug="A.Compose([A.HorizontalFlip(p=0), A.Rotate(limit=20, p=0.0)])")]
    assert rules_on(cells, "augmented-validation") == []


def test_albumentations_with_p_augments(rules_on):
    cells = [ALBU_VAL.format(aug="A.Compose([A.HorizontalFlip(p=0.5)])")]
    assert rules_on(cells, "augmented-validation") == [("augmented-validation", 0)]


def test_torchvision_random_apply_with_p_zero(facts_of):
    f = facts_of("from torchvision import transforms as T\n"
                 "a = T.RandomApply([T.ColorJitter(0.3)], p=0)\nb = T.RandomApply([T.ColorJitter(0.3)], p=0.5)")
    g = f.interp.globals.vars
    assert f.transform_augments(g["a"]).value is False and f.transform_augments(g["b"]).value is True


def test_layers_applied_with_training_false_in_a_map_do_not_augment(rules_on):
    base = ("import keras\nfrom keras import layers\naug = keras.Sequential([layers.RandomFlip(), layers.RandomZoom(0.2)])\n"
            "train_ds = raw_train.map(lambda x, y: (aug(x, training=True), y))\n"
            "val_ds = raw_val.map(lambda x, y: (aug(x, training={flag}), y))\n" + TF_VAL)
    assert rules_on([base.format(flag="False")], "augmented-validation") == []
    assert rules_on([base.format(flag="True")], "augmented-validation") == [("augmented-validation", 0)]


# --- ImageDataGenerator arguments ----------------------------------------------------------

IDG_VAL = ("from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
           "gen = ImageDataGenerator({args}, validation_split=0.2)\n"
           "tr = gen.flow_from_directory('d', subset='training')\nva = gen.flow_from_directory('d', subset='validation')\n"
           "model.fit(tr, validation_data=va)")


@pytest.mark.parametrize("args,augments", [
    ("zoom_range=[1, 1], rotation_range=0, horizontal_flip=False", False),
    ("brightness_range=(1.0, 1.0), width_shift_range=0.0", False),
    ("zoom_range=[0.9, 1.1]", True),
    ("rotation_range=15", True),
    ("rescale=1./255, featurewise_center=True", False),
])
def test_image_data_generator_arguments(rules_on, args, augments):
    assert bool(rules_on([IDG_VAL.format(args=args)], "augmented-validation")) is augments


# --- branches --------------------------------------------------------------------------------

def test_a_branch_merge_keeps_only_what_both_branches_agree_on(facts_of):
    f = facts_of("import tensorflow as tf\nbase = tf.keras.applications.EfficientNetB0()\nalt = base\n"
                 "if cond:\n    m = tf.keras.applications.ResNet50()\n    same = base\nelse:\n"
                 "    m = tf.keras.applications.Xception()\n    same = base\n"
                 "if cond2:\n    alt = tf.keras.applications.VGG16()\n"
                 "if cond3:\n    fresh = tf.keras.applications.MobileNet()\n")
    g = f.interp.globals.vars
    assert g["same"] is g["base"]  # both branches agree
    assert not hasattr(g["m"], "api")  # they disagree: unknown
    assert g["alt"] is not g["base"] and not hasattr(g["alt"], "api")  # may or may not be re-bound: unknown
    assert g["fresh"].api == "keras.applications.MobileNet"  # bound in one branch only, new name: kept


def test_a_name_deleted_in_one_branch_is_unknown_after_it(facts_of):
    f = facts_of("from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
                 "g = ImageDataGenerator()\nif low_memory:\n    del g\nh = g")
    assert not hasattr(f.interp.globals.vars.get("h"), "api")


def test_a_constant_condition_runs_one_branch(rules_on):
    cells = ["from tensorflow.keras.callbacks import ModelCheckpoint\nUSE_BEST = True\n"
             "if USE_BEST:\n    ck = ModelCheckpoint('a.h5', save_best_only=True)\n"
             "else:\n    ck = ModelCheckpoint('a.h5')"]
    assert rules_on(cells, "checkpoint-save-best-only") == []


def test_a_conditional_expression_with_an_unknown_test(facts_of):
    f = facts_of("from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
                 "a = ImageDataGenerator(rotation_range=10)\nb = ImageDataGenerator()\n"
                 "g = a if training else b\nh = a if True else b")
    g = f.interp.globals.vars
    assert not hasattr(g["g"], "api") and g["h"] is g["a"]


# --- TTA ---------------------------------------------------------------------------------------

TTA = ("import numpy as np\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
       "from tensorflow.keras.models import load_model\n"
       "test_gen = ImageDataGenerator(rescale=1/255).flow_from_directory('t', shuffle=False)\n")


def test_tta_over_models_is_an_ensemble(rules_on):
    cells = [TTA + "models = [load_model('a.h5'), load_model('b.h5')]\n"
             "preds = np.mean([m.predict(test_gen) for m in models], axis=0)"]
    assert rules_on(cells, "tta-no-augmentation") == []


def test_tta_repeats_over_the_same_data(rules_on):
    cells = [TTA + "preds = np.mean([model.predict(test_gen) for _ in range(5)], axis=0)"]
    assert rules_on(cells, "tta-no-augmentation") == [("tta-no-augmentation", 0)]


def test_a_loop_whose_data_changes_each_pass_is_not_tta(rules_on):
    cells = [TTA + "plain = ImageDataGenerator(rescale=1/255)\nout = []\nfor i in range(5):\n"
             "    out.append(model.predict(plain.flow(X_test[i * 100:(i + 1) * 100], shuffle=False)))"]
    assert rules_on(cells, "tta-no-augmentation") == []


def test_cache_after_random_maps_freezes_the_passes(rules_on):
    base = ("import tensorflow as tf\nimport numpy as np\n"
            "def aug(x):\n    return tf.image.random_flip_left_right(x)\n"
            "ds = tf.data.Dataset.from_tensor_slices(xs).map(aug){tail}\n"
            "p = np.mean([model.predict(ds) for _ in range(5)], axis=0)")
    assert rules_on([base.format(tail=".cache().batch(8)")], "tta-no-augmentation") == [("tta-no-augmentation", 0)]
    assert rules_on([base.format(tail=".batch(8)")], "tta-no-augmentation") == []
    assert rules_on([base.format(tail=".cache().map(aug).batch(8)")], "tta-no-augmentation") == []


def test_a_training_loop_that_predicts_each_epoch_is_not_tta(rules_on):
    cells = [TTA + "for epoch in range(5):\n    model.fit(train_gen, epochs=1)\n    p = model.predict(test_gen)"]
    assert rules_on(cells, "tta-no-augmentation") == []


TORCH_TTA = ("import torch\nfrom torchvision import models, transforms as T, datasets\n"
             "model = models.resnet18(weights='DEFAULT')\n"
             "ds = datasets.ImageFolder('t', transform=T.Compose([T.Resize(224), T.ToTensor()]))\n"
             "loader = torch.utils.data.DataLoader(ds, batch_size=32)\n"
             "{mode}\npreds = []\nfor i in range(5):\n    for x, _ in loader:\n        preds.append(model(x))")


def test_passes_in_training_mode_differ_mc_dropout(rules_on):
    assert rules_on([TORCH_TTA.format(mode="model.train()")], "tta-no-augmentation") == []
    assert rules_on([TORCH_TTA.format(mode="model.eval()")], "tta-no-augmentation") == [("tta-no-augmentation", 0)]


def test_a_swapped_dataset_transform_counts(rules_on):
    cells = [TORCH_TTA.format(mode="model.eval()\nds.transform = T.RandomHorizontalFlip()")]
    assert rules_on(cells, "tta-no-augmentation") == []


# --- EfficientNet preprocessing ------------------------------------------------------------------

EFF = ("import keras\nfrom keras import layers\n"
       "base = keras.applications.{arch}(include_top=False, pooling='avg'{extra})\n"
       "model = keras.Sequential([{layer}, base, layers.Dense(3, activation='softmax')])\nmodel.fit(ds)")


@pytest.mark.parametrize("arch,extra,layer,fires", [
    ("EfficientNetV2B0", "", "layers.Rescaling(1./255)", True),
    ("EfficientNetV2B0", ", include_preprocessing=False", "layers.Rescaling(1./255)", False),
    ("EfficientNetB3", "", "layers.Rescaling(1./255, offset=-1)", False),
    ("EfficientNetB3", "", "layers.Rescaling(1./255)", True),
    ("ResNet50", "", "layers.Rescaling(1./255)", False),
])
def test_rescaling_in_front_of_efficientnet(rules_on, arch, extra, layer, fires):
    got = rules_on([EFF.format(arch=arch, extra=extra, layer=layer)], "rescale-efficientnet")
    assert bool(got) is fires


# --- loops ---------------------------------------------------------------------------------------

def test_a_value_accumulated_in_a_loop_is_not_its_first_iteration_value(rules_on):
    cells = ["from tensorflow.keras.callbacks import ModelCheckpoint\nbest = False\n"
             "for stage in range(3):\n    best = True\nck = ModelCheckpoint('a.h5', save_best_only=best)"]
    assert rules_on(cells, "checkpoint-save-best-only") == []  # after the loop `best` is not the constant False


def test_evaluating_the_training_data_is_not_validation(rules_on):
    cells = ["from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
             "tr = ImageDataGenerator(rotation_range=20).flow_from_directory('d')\n"
             "model.fit(tr)\nmodel.evaluate(tr)"]
    assert rules_on(cells, "augmented-validation") == []


def test_fine_tuning_needs_pretrained_weights(rules_on):
    cells = ["import tensorflow as tf\nbase = tf.keras.applications.ResNet50(include_top=False, weights={w})\n"
             "model = tf.keras.Sequential([base, tf.keras.layers.Dense(2)])\nbase.trainable = True\nmodel.fit(ds)"]
    assert rules_on([cells[0].format(w="None")], "good-fine-tuning") == []
    assert rules_on([cells[0].format(w="'imagenet'")], "good-fine-tuning") == [("good-fine-tuning", 0)]


def test_constant_arguments_reach_a_followed_function(facts_of):
    f = facts_of("def make(flip=False):\n    return flip\nx = make(True)\ny = make()")
    g = f.interp.globals.vars
    assert isinstance(g["x"], Const) and g["x"].value is True and g["y"].value is False

"""The Keras catalog's shared facts and the first five rules on real-notebook patterns:
import paths, arguments that reach a branch, ensembles that are not TTA, code that does not
run (dead branches, uncalled functions), and the facts the new rules stand on."""
from __future__ import annotations

import math

import pytest

from nbreview.engine import Options, review_path
from nbreview.facts import analyse, apis
from nbreview.notebook import load
from nbreview.program import build

from .conftest import make_notebook


@pytest.fixture
def facts_of(tmp_path):
    def _facts(*cells, outputs=None):
        return analyse(build(load(make_notebook(list(cells), tmp_path / "f.ipynb", outputs=outputs))))

    return _facts


@pytest.fixture
def review(tmp_path):
    def _run(cells, *slugs, outputs=None):
        path = make_notebook(list(cells), tmp_path / "r.ipynb", outputs=outputs)
        return review_path(path, Options(select=set(slugs) or None, use_config=False)).findings

    return _run


# --- import paths: every path a package really exposes reaches the same name -------------------

PATHS = [
    ("from ImageDataAugmentor.image_data_augmentor import ImageDataAugmentor", "ImageDataAugmentor", apis.IMAGE_DATA_AUGMENTOR),
    ("from ImageDataAugmentor import ImageDataAugmentor", "ImageDataAugmentor", apis.IMAGE_DATA_AUGMENTOR),
    ("import ImageDataAugmentor", "ImageDataAugmentor.ImageDataAugmentor", apis.IMAGE_DATA_AUGMENTOR),
    ("from ImageDataAugmentor.image_data_augmentor import *", "ImageDataAugmentor", apis.IMAGE_DATA_AUGMENTOR),
    ("from ImageDataAugmentor import *", "ImageDataAugmentor", apis.IMAGE_DATA_AUGMENTOR),
    ("from tensorflow.keras.preprocessing.image import ImageDataGenerator", "ImageDataGenerator", apis.IMAGE_DATA_GENERATOR),
    ("from keras.preprocessing.image import ImageDataGenerator", "ImageDataGenerator", apis.IMAGE_DATA_GENERATOR),
    ("from keras_preprocessing.image import ImageDataGenerator", "ImageDataGenerator", apis.IMAGE_DATA_GENERATOR),
    ("from keras.src.legacy.preprocessing.image import ImageDataGenerator", "ImageDataGenerator", apis.IMAGE_DATA_GENERATOR),
    ("import tensorflow as tf", "tf.keras.preprocessing.image.ImageDataGenerator", apis.IMAGE_DATA_GENERATOR),
    ("from tensorflow import keras", "keras.preprocessing.image.ImageDataGenerator", apis.IMAGE_DATA_GENERATOR),
    ("from tensorflow.python.keras.preprocessing.image import ImageDataGenerator", "ImageDataGenerator",
     apis.IMAGE_DATA_GENERATOR),
    ("from tensorflow.keras.callbacks import ModelCheckpoint", "ModelCheckpoint", "keras.callbacks.ModelCheckpoint"),
    ("from keras.callbacks.callbacks import ModelCheckpoint", "ModelCheckpoint", "keras.callbacks.ModelCheckpoint"),
    ("from keras.src.callbacks.model_checkpoint import ModelCheckpoint", "ModelCheckpoint",
     "keras.callbacks.ModelCheckpoint"),
    ("import tf_keras", "tf_keras.callbacks.EarlyStopping", "keras.callbacks.EarlyStopping"),
    ("from tensorflow.keras.applications.efficientnet import EfficientNetB0", "EfficientNetB0",
     "keras.applications.EfficientNetB0"),
    ("from tensorflow.keras.applications.efficientnet_v2 import EfficientNetV2S", "EfficientNetV2S",
     "keras.applications.EfficientNetV2S"),
    ("from keras.src.applications.xception import Xception", "Xception", "keras.applications.Xception"),
    ("from tensorflow.keras.layers.experimental.preprocessing import RandomFlip", "RandomFlip", "keras.layers.RandomFlip"),
    ("from tensorflow.keras.layers.experimental import preprocessing", "preprocessing.Rescaling", "keras.layers.Rescaling"),
    ("from keras.layers.core import Dense", "Dense", "keras.layers.Dense"),
    ("from keras.src.layers.core.dense import Dense", "Dense", "keras.layers.Dense"),
    ("from tensorflow.keras.models import Sequential", "Sequential", "keras.Sequential"),
    ("from keras.src.models.sequential import Sequential", "Sequential", "keras.Sequential"),
    ("from tensorflow.keras.models import Model", "Model", "keras.Model"),
    ("from tensorflow.keras.optimizers.legacy import Adam", "Adam", "keras.optimizers.Adam"),
    ("from tensorflow.keras.optimizers.schedules import ExponentialDecay", "ExponentialDecay",
     "keras.optimizers.schedules.ExponentialDecay"),
    ("import tensorflow as tf", "tf.keras.experimental.CosineDecay", "keras.optimizers.schedules.CosineDecay"),
    ("from keras.utils.np_utils import to_categorical", "to_categorical", "keras.utils.to_categorical"),
    ("from tensorflow.keras.utils import image_dataset_from_directory", "image_dataset_from_directory",
     "keras.utils.image_dataset_from_directory"),
    ("from tensorflow.keras.preprocessing import image_dataset_from_directory", "image_dataset_from_directory",
     "keras.utils.image_dataset_from_directory"),
    ("from tensorflow.keras.metrics import AUC", "AUC", "keras.metrics.AUC"),
    ("from keras.src.metrics.accuracy_metrics import CategoricalAccuracy", "CategoricalAccuracy",
     "keras.metrics.CategoricalAccuracy"),
    ("import efficientnet.tfkeras as efn", "efn.EfficientNetB3", "efficientnet.tfkeras.EfficientNetB3"),
    ("from albumentations.augmentations.transforms import CoarseDropout", "CoarseDropout", "albumentations.CoarseDropout"),
    ("from albumentations.core.composition import Compose", "Compose", "albumentations.Compose"),
    ("from torchvision.transforms.transforms import CenterCrop", "CenterCrop", "torchvision.transforms.CenterCrop"),
    ("from torchvision.transforms import v2", "v2.CenterCrop", "torchvision.transforms.CenterCrop"),
]


@pytest.mark.parametrize("imp,expr,api", PATHS, ids=[p[0] + " / " + p[1] for p in PATHS])
def test_every_import_path_resolves(facts_of, imp, expr, api):
    facts = facts_of(f"{imp}\nx = {expr}()")
    assert any(o.api == api for o in facts.objects), [o.api for o in facts.objects]


def test_augmented_validation_through_the_top_level_imagedataaugmentor(review):
    cells = ["""import albumentations as A
from ImageDataAugmentor import ImageDataAugmentor
gen = ImageDataAugmentor(augment=A.Compose([A.HorizontalFlip()]), validation_split=0.2)
tr = gen.flow_from_directory('train', subset='training')
va = gen.flow_from_directory('train', subset='validation')
model.fit(tr, validation_data=va)"""]
    assert [f.location.line for f in review(cells, "augmented-validation")] == [5]


# --- the argument of a call reaches the branch ----------------------------------------------------

TRAIN_MODEL = """import tensorflow as tf
def aug(x, y):
    return tf.image.random_flip_left_right(x), y
def train_model(model, train, val, epochs=3, use_augmentation_for_validation=False, aug_fn=None):
    if use_augmentation_for_validation and aug_fn is not None:
        val = val.map(aug_fn)
    model.fit(train, validation_data=val, epochs=epochs)
tr = tf.data.Dataset.from_tensor_slices(a)
va = tf.data.Dataset.from_tensor_slices(b)"""


@pytest.mark.parametrize("call,fires", [
    ("train_model(m, tr, va, use_augmentation_for_validation=True, aug_fn=aug)", True),
    ("train_model(m, tr, va, 5, True, aug)", True),
    ("cfg = dict(use_augmentation_for_validation=True, aug_fn=aug)\ntrain_model(m, tr, va, **cfg)", True),
    ("for flag in [False, True]:\n    train_model(m, tr, va, use_augmentation_for_validation=flag, aug_fn=aug)", True),
    ("train_model(m, tr, va, use_augmentation_for_validation=True)", False),  # aug_fn is None: nothing mapped
    ("train_model(m, tr, va, aug_fn=aug)", False),
])
def test_a_flag_passed_by_the_call_decides_the_branch(review, call, fires):
    found = review([TRAIN_MODEL, call], "augmented-validation")
    assert bool(found) == fires
    assert all(f.severity == "error" for f in found)


# --- an ensemble is not TTA ---------------------------------------------------------------------------

@pytest.mark.parametrize("loop", [
    "for name in ['effb0.h5', 'effb3.h5']:\n    m = keras.models.load_model(name)\n    preds.append(m.predict(test_gen))",
    "for name in names:\n    model.load_weights(name + '.h5')\n    preds.append(model.predict(test_gen))",
    "for m in [model_a, model_b]:\n    preds.append(m.predict(test_gen))",
    "for i in range(len(models)):\n    preds.append(models[i].predict(test_gen))",
])
def test_an_ensemble_over_models_is_not_tta(review, loop):
    cells = ["""from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator
model = keras.models.load_model('m.h5')
test_gen = ImageDataGenerator().flow_from_directory('test', shuffle=False)
preds = []""", loop]
    assert review(cells, "tta-no-augmentation", "tta-few-steps") == []


def test_a_real_tta_loop_still_counts_its_passes(review):
    cells = ["""from tensorflow.keras.preprocessing.image import ImageDataGenerator
test_gen = ImageDataGenerator().flow_from_directory('test', shuffle=False)
preds = [model.predict(test_gen) for _ in range(3)]"""]
    found = review(cells, "tta-no-augmentation")
    assert [f.params.get("passes") for f in found] == [3]


# --- code that does not run -------------------------------------------------------------------------

def test_a_callback_in_a_branch_no_call_takes_is_a_lower_severity_remark(review):
    cells = ["""import keras
def train(model, data, val, checkpoint_filepath=None):
    callbacks = []
    if checkpoint_filepath is not None:
        callbacks.append(keras.callbacks.ModelCheckpoint(checkpoint_filepath))
    model.fit(data, validation_data=val, callbacks=callbacks)
    return callbacks
cbs = train(m, tr, va)
train(m2, tr, va)"""]
    found = review(cells, "checkpoint-save-best-only")
    assert [(f.location.line, f.severity, f.params.get("not_run")) for f in found] == [(5, "warning", "dead")]
    assert "checkpoint_filepath is not None" in found[0].messages["en"] and "train" in found[0].messages["en"]
    assert "не выполняется" in found[0].messages["ru"]


def test_a_branch_taken_by_one_call_is_reported_at_full_severity(review):
    cells = ["""import keras
def train(model, data, checkpoint_filepath=None):
    callbacks = []
    if checkpoint_filepath is not None:
        callbacks.append(keras.callbacks.ModelCheckpoint(checkpoint_filepath))
    model.fit(data, callbacks=callbacks)
train(m, tr)
train(m, tr, 'best.h5')"""]
    found = review(cells, "checkpoint-save-best-only")
    assert [(f.severity, f.params.get("not_run")) for f in found] == [("error", None)]


def test_a_branch_some_call_takes_is_not_analysed_again_as_dead(facts_of):
    facts = facts_of("""import keras
def train(model, data, checkpoint_filepath=None):
    if checkpoint_filepath is not None:
        keras.callbacks.ModelCheckpoint(checkpoint_filepath)
train(m, tr)
train(m, tr, 'best.h5')""")
    made = facts.created("keras.callbacks.ModelCheckpoint", include_uncalled=True)
    assert [o.site.reach for o in made] == [None]


def test_dead_code_does_not_change_the_running_code_values(facts_of):
    facts = facts_of("""import keras
def train(model, data, checkpoint_filepath=None):
    callbacks = [keras.callbacks.EarlyStopping()]
    if checkpoint_filepath is not None:
        callbacks.append(keras.callbacks.ModelCheckpoint(checkpoint_filepath))
    model.fit(data, callbacks=callbacks)
train(m, tr)""")
    fit = facts.method_calls("fit")[0]
    assert [o.api for o in fit.args["callbacks"].items] == ["keras.callbacks.EarlyStopping"]
    dead = facts.created("keras.callbacks.ModelCheckpoint", include_uncalled=True)
    assert len(dead) == 1 and dead[0].site.reach.kind == "dead"
    assert facts.created("keras.callbacks.ModelCheckpoint") == []


def test_an_uncalled_function_sees_the_globals_of_its_definition(review):
    cells = ["""from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.applications import EfficientNetB2
train_gen = ImageDataGenerator(rescale=1./255).flow_from_directory('train')""",
             """def pretrain_model():
    model = EfficientNetB2(weights='imagenet', classes=1000)
    model.compile('adam', 'categorical_crossentropy')
    model.fit(train_gen, epochs=5)
    return model
# base_model = pretrain_model()""",
             """train_gen = ImageDataGenerator().flow_from_directory('train')"""]
    found = review(cells, "rescale-efficientnet")
    assert [(f.location.cell, f.severity, f.params.get("not_run")) for f in found] == [(0, "error", "uncalled")]
    assert "pretrain_model" in found[0].messages["en"] and "not called" in found[0].messages["en"]


def test_names_bound_after_the_definition_are_still_seen(review):
    cells = ["""def train():
    model.fit(train_gen, validation_data=val_gen)""",
             """from tensorflow.keras.preprocessing.image import ImageDataGenerator
datagen = ImageDataGenerator(rotation_range=20, validation_split=0.2)
train_gen = datagen.flow_from_directory('train', subset='training')
val_gen = datagen.flow_from_directory('train', subset='validation')"""]
    found = review(cells, "augmented-validation")
    assert [(f.location.cell, f.params.get("not_run")) for f in found] == [(1, "uncalled")]


def test_statements_after_a_return_do_not_run(facts_of):
    facts = facts_of("""import keras
def schedule(epoch, lr):
    if epoch < 3:
        return lr
    return lr * 0.5
def f():
    return 1
    keras.callbacks.ModelCheckpoint('never.h5')
f()""")
    from nbreview.facts.values import Func

    fn = next(fn for fn in facts.interp.funcs if fn.name == "schedule")
    assert [facts.evaluate(fn, [e, 1.0]).value for e in (0, 3)] == [1.0, 0.5]
    assert facts.created("keras.callbacks.ModelCheckpoint") == []
    assert isinstance(fn, Func)


# --- history keys -------------------------------------------------------------------------------------

@pytest.mark.parametrize("metrics,key,status", [
    ("['accuracy']", "val_accuracy", True), ("['accuracy']", "val_acc", False), ("['acc']", "val_acc", True),
    ("[keras.metrics.CategoricalAccuracy(name='acc')]", "val_acc", True),
    ("[keras.metrics.AUC()]", "val_auc", None), ("[keras.metrics.AUC()]", "val_auc_1", None),
    ("[keras.metrics.AUC()]", "val_accuracy", False), ("['AUC']", "val_auc", None), ("['AUC']", "val_AUC", None),
    ("['accuracy', f1]", "val_f1", True), ("['accuracy', f1]", "val_f1_score", False),
    ("None", "val_loss", True), ("['accuracy']", "lr", True), ("['accuracy']", "learning_rate", True),
    ("my_metrics", "val_accuracy", "unknown"),
])
def test_logged_keys_follow_tf2_and_keras3_naming(facts_of, metrics, key, status):
    facts = facts_of(f"""import keras
def f1(y_true, y_pred):
    return y_pred
model = keras.Sequential([keras.layers.Dense(3, activation='softmax')])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics={metrics})
model.fit(x, y, validation_data=(vx, vy))""")
    keys = facts.logged_keys(facts.method_calls("fit")[0])
    if status == "unknown":
        assert keys is None
    else:
        assert keys.status(key) is status


def test_without_validation_no_val_keys(facts_of):
    facts = facts_of("""import keras
model = keras.Sequential([keras.layers.Dense(3)])
model.compile(optimizer='adam', loss='mse', metrics=['mae'])
model.fit(x, y, epochs=3)""")
    keys = facts.logged_keys(facts.method_calls("fit")[0])
    assert keys.keys == {"loss", "mae"} and keys.status("val_loss") is False


def test_the_compile_in_force_is_the_last_before_the_fit(facts_of):
    facts = facts_of("""import keras
model = keras.Sequential([keras.layers.Dense(3)])
model.compile(optimizer='adam', loss='mse', metrics=['acc'])
model.fit(x, y, validation_split=0.2)
model.compile(optimizer='adam', loss='mse', metrics=['accuracy'])
model.fit(x, y, validation_split=0.2)""")
    first, second = facts.method_calls("fit")
    assert facts.logged_keys(first).status("val_acc") is True
    assert facts.logged_keys(second).status("val_acc") is False


# --- learning rate ---------------------------------------------------------------------------------------

def test_lr_curve_evaluates_the_schedule_per_epoch(facts_of):
    facts = facts_of("""import math
import tensorflow as tf
def decay(epoch, lr):
    return lr * math.exp(-0.1) if epoch >= 2 else lr
model = tf.keras.Sequential([tf.keras.layers.Dense(3)])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss='mse')
model.fit(x, y, epochs=5, initial_epoch=1, callbacks=[tf.keras.callbacks.LearningRateScheduler(decay)])""")
    curve = facts.lr_curve(facts.method_calls("fit")[0])
    assert curve.epochs == 4 and curve.initial == 0.01
    assert [round(v, 6) for v in curve.lrs] == [0.01, round(0.01 * math.exp(-0.1), 6),
                                                round(0.01 * math.exp(-0.2), 6), round(0.01 * math.exp(-0.3), 6)]


def test_lr_curve_with_a_one_argument_lambda_and_default_epochs(facts_of):
    facts = facts_of("""from keras.callbacks import LearningRateScheduler
model.fit(x, y, callbacks=[LearningRateScheduler(lambda e: 1e-3 * 0.5 ** e)])""")
    assert facts.lr_curve(facts.method_calls("fit")[0]).lrs == [1e-3]


# --- augmentation parameters, sizes, preprocessing ------------------------------------------------------

def test_aug_ops_read_values_and_defaults(facts_of):
    facts = facts_of("""import albumentations as A
from ImageDataAugmentor import ImageDataAugmentor
aug = A.Compose([A.ShiftScaleRotate(p=0.5), A.Rotate(limit=(-15, 25)), A.CoarseDropout(max_height=0.1, max_width=0.1),
                 A.Cutout(), A.OneOf([A.CenterCrop(200, 220)]), A.Resize(300, 300), A.HorizontalFlip(p=0)])
gen = ImageDataAugmentor(augment=aug).flow_from_directory('train', target_size=(256, 256))""")
    ops = facts.aug_ops(facts.method_calls("flow_from_directory")[0].result)
    got = [(o.kind, o.magnitude) for o in ops.ops]
    assert got == [("rotate", 45.0), ("shift", 0.0625), ("zoom", 0.1), ("rotate", 25.0), ("cutout", 0.1),
                   ("cutout", 8.0), ("center_crop", None), ("resize", None)]
    assert ops.input_size == (256, 256)
    cut = ops.of("cutout")[1]
    assert ops.size_at(cut) == (256, 256) and ops.of("cutout")[0].fraction


def test_a_crop_that_may_run_before_the_cutout_leaves_the_image_size_unknown(facts_of):
    # OneOf picks one crop (or none, p=0.5): the images are 100, 120 or 250 px, so no size is
    # stated (20x20 holes are 20 % of a 100 px crop: not tiny)
    facts = facts_of("""import albumentations as A
from ImageDataAugmentor import ImageDataAugmentor
aug = A.Compose([A.OneOf([A.CenterCrop(100, 100), A.RandomCrop(120, 120)]), A.CoarseDropout(max_height=20, max_width=20)])
gen = ImageDataAugmentor(augment=aug).flow_from_directory('train', target_size=(250, 250))""")
    ops = facts.aug_ops(facts.method_calls("flow_from_directory")[0].result)
    assert ops.size_at(ops.of("cutout")[0]) is None


@pytest.mark.parametrize("crop,size", [
    ("A.CenterCrop(384, 384)", (384, 384)),  # p defaults to 1: every image is cropped
    ("A.RandomResizedCrop(300, 300)", (300, 300)),
    ("A.CenterCrop(384, 384, p=0.5)", None),
    ("A.SmallestMaxSize(max_size=512)", None),  # a size we do not compute
])
def test_a_crop_that_surely_runs_before_the_cutout_sets_the_image_size(facts_of, crop, size):
    facts = facts_of(f"""import albumentations as A
from ImageDataAugmentor import ImageDataAugmentor
aug = A.Compose([A.Resize(420, 420), {crop}, A.CoarseDropout(max_height=8, max_width=8)])
gen = ImageDataAugmentor(augment=aug).flow_from_directory('train', target_size=(250, 250))""")
    ops = facts.aug_ops(facts.method_calls("flow_from_directory")[0].result)
    assert ops.size_at(ops.of("cutout")[0]) == size


def test_torchvision_crops_read_their_size_and_random_apply_is_a_chance(facts_of):
    facts = facts_of("""from torchvision import transforms as T
a = T.Compose([T.RandomResizedCrop(224), T.RandomErasing()])
b = T.Compose([T.RandomApply([T.RandomCrop((200, 180))], p=0.3), T.RandomErasing()])""")
    a, b = (facts.transform_ops(o) for o in facts.created("torchvision.transforms.Compose"))
    assert a.of("random_crop")[0].size == (224, 224) and a.of("random_crop")[0].certain
    assert b.of("random_crop")[0].size == (200, 180) and not b.of("random_crop")[0].certain


def test_keras_random_rotation_factor_is_a_fraction_of_a_turn(facts_of):
    facts = facts_of("""import keras
aug = keras.Sequential([keras.layers.RandomRotation(0.1), keras.layers.RandomZoom((-0.3, 0.2))])""")
    ops = facts.transform_ops(facts.created("keras.Sequential")[0])
    assert [(o.kind, round(o.magnitude, 3)) for o in ops.ops] == [("rotate", 36.0), ("zoom", 0.3)]


@pytest.mark.parametrize("code,pixels,size", [
    ("ImageDataGenerator(rescale=1./255).flow_from_directory('t', target_size=(224, 224))", "unit", (224, 224)),
    ("ImageDataGenerator().flow_from_directory('t')", "raw", (256, 256)),
    ("ImageDataGenerator(preprocessing_function=xception.preprocess_input).flow_from_directory('t')", "tf", (256, 256)),
    ("ImageDataGenerator(preprocessing_function=resnet50.preprocess_input).flow_from_directory('t')", "caffe", None),
    ("ImageDataGenerator(featurewise_center=True).flow_from_directory('t')", "other", None),
    ("ImageDataGenerator(rescale=SCALE).flow_from_directory('t')", None, None),
    ("keras.utils.image_dataset_from_directory('t', image_size=(96, 96))", "raw", (96, 96)),
    ("tf.data.Dataset.from_tensor_slices(paths).map(load)", "unit", (128, 128)),
    ("keras.preprocessing.image.img_to_array(keras.preprocessing.image.load_img('a.jpg', target_size=(64, 64))) / 255.",
     "unit", (64, 64)),
])
def test_preprocessing_of_a_pipeline(facts_of, code, pixels, size):
    facts = facts_of(f"""import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.applications import xception, resnet50
def load(p):
    img = tf.image.resize(tf.io.decode_jpeg(tf.io.read_file(p)), (128, 128))
    return img / 255.0
data = {code}""")
    data = next(v for s, n, v in facts.interp.assignments if n == "data")
    pre = facts.preproc(data)
    assert (pre.scaling.pixels if pre.scaling else None) == pixels
    if size is not None:
        assert pre.size == size


# --- model structure ------------------------------------------------------------------------------------

def test_spine_ranks_and_head(facts_of):
    facts = facts_of("""from tensorflow.keras import layers, Sequential, Model, Input
from tensorflow.keras.applications import VGG16
a = Sequential([layers.Conv2D(8, 3, input_shape=(32, 32, 3)), layers.Flatten(), layers.Dense(10),
                layers.Activation('softmax'), layers.Dropout(0.2)])
inp = Input((64, 64, 3))
out = layers.Dense(5, activation='sigmoid')(layers.GlobalMaxPooling2D()(VGG16(include_top=False)(inp)))
b = Model(inp, out)""")
    a, b = facts.created("keras.Sequential")[0], facts.created("keras.Model")[0]
    assert [(x.kind, x.rank) for x in facts.spine(a)] == [("conv", 4), ("flatten", 2), ("dense", 2),
                                                           ("activation", 2), ("dropout", 2)]
    head = facts.head(a)
    assert head.activation == "softmax" and head.units == 10 and [x.kind for x in head.after] == ["dropout"]
    assert [(x.kind, x.rank) for x in facts.spine(b)] == [("input", 4), ("backbone", 4), ("global_pool", 2),
                                                           ("dense", 2)]
    assert facts.head(b).activation == "sigmoid" and facts.head(b).after == []


def test_torch_outputs(facts_of):
    facts = facts_of("""import torch, torchvision
from torch import nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)
net = Net()
seq = nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=1))
tv = torchvision.models.resnet18()
tv2 = torchvision.models.resnet18()
tv2.fc = nn.Sequential(nn.Linear(512, 10), nn.Softmax(dim=1))""")
    objs = {n: v for _s, n, v in facts.interp.assignments}
    assert [facts.torch_output(objs[n]) for n in ("net", "seq", "tv", "tv2")] == \
        ["log_softmax", "softmax", "logits", "softmax"]


# --- data: pseudo-labels, oversampling, installs, logs -----------------------------------------------

def test_pseudo_labels_through_a_column_and_a_lookup_are_unfiltered_a_mask_filters(facts_of):
    facts = facts_of("""import pandas as pd
import numpy as np
test = pd.read_csv('t.csv')
probs = model.predict(test_gen)
test['label'] = np.argmax(probs, axis=1)
row = test[test.Id == 'a.jpg']['label']
sure = test[probs.max(axis=1) > 0.9]""")
    objs = {n: v for _s, n, v in facts.interp.assignments}
    assert [f for _p, f in facts.derived_predictions(objs["row"])] == [False]
    assert [f for _p, f in facts.derived_predictions(objs["sure"])] == [True]


def test_installs_read_bang_percent_and_bare_pip(facts_of):
    facts = facts_of("!pip install -q efficientnet albumentations==1.3", "%pip install -U git+https://github.com/qubvel/efficientnet",
                     "pip install timm\nimport timm")
    assert [i.packages for i in facts.installs] == [("efficientnet", "albumentations"),
                                                    ("git+https://github.com/qubvel/efficientnet",), ("timm",)]


def test_logs_read_keras_warnings_and_lr_lines(facts_of):
    out = ("Epoch 1: LearningRateScheduler setting learning rate to 0.001.\nEpoch 1/2\n"
           "WARNING:tensorflow:Can save best model only with val_acc available, skipping.\n"
           "10/10 [==============================] - 3s 300ms/step - loss: 1.0 - accuracy: 0.5 - val_loss: 1.1 "
           "- val_accuracy: 0.4 - lr: 0.0010\n")
    facts = facts_of("model.fit(x)", outputs=[out])
    logs = facts.logs
    assert logs.unavailable(0, "val_acc") and not logs.unavailable(0, "val_accuracy")
    assert logs.logged_names(0) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert [e for e, _lr, _l in logs.lr_prints(0)] == [1, 1] and logs.steps_per_epoch(0) == 10


@pytest.mark.parametrize("hint,old", [
    ("!pip install tensorflow-gpu==1.15.0", True), ("%tensorflow_version 1.x", True),
    ("!pip install keras==2.2.4", True), ("!pip install tensorflow==2.4.1", False), ("import os", False),
])
def test_old_keras_is_told_by_pins_and_magics(review, hint, old):
    cells = [hint, """import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation='softmax')])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
es = tf.keras.callbacks.EarlyStopping(monitor='val_acc', mode='max')
model.fit(x, y, validation_split=0.2, callbacks=[es])"""]
    assert bool(review(cells, "checkpoint-monitor-invalid")) is not old


def test_a_custom_callback_may_add_the_monitored_key(review):
    cells = ["""import tensorflow as tf
class F1(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs['val_f1'] = 0.5
model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation='softmax')])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
es = tf.keras.callbacks.EarlyStopping(monitor='val_f1', mode='max')
model.fit(x, y, validation_split=0.2, callbacks=[F1(), es])"""]
    assert review(cells, "checkpoint-monitor-invalid") == []


def test_sigmoid_and_binary_crossentropy_over_several_labels_is_multi_label(review):
    cells = ["""import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(64, 64, 3)), tf.keras.layers.Dense(17, activation='sigmoid')])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_multi_hot, epochs=3)"""]
    assert review(cells, "loss-activation-mismatch") == []


def test_a_bootstrap_sample_is_not_oversampling(review):
    cells = ["""import pandas as pd
df = pd.read_csv('train.csv')
boot = df.sample(n=len(df), replace=True)
minority = df[df.label == 1]
up = minority.sample(n=5000, replace=True)
model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
model.fit(datagen.flow_from_dataframe(pd.concat([df, up])), epochs=2)"""]
    assert [f.location.line for f in review(cells, "oversampling-for-accuracy")] == [5]


@pytest.mark.parametrize("metrics,monitor,mode,safe", [
    ("['accuracy']", "val_accuracy", "max", True),
    ("[tf.keras.metrics.AUC(name='auc')]", "val_auc", "max", True),
    ("[tf.keras.metrics.AUC(name='auc')]", "val_auc", "auto", False),  # TF 2.x would keep the worst AUC
    ("[tf.keras.metrics.AUC()]", "val_auc", "max", False),  # might be logged as auc_1
    ("['accuracy', f1]", "val_f1", "max", True),
    ("['accuracy']", "val_acc", "max", False),
])
def test_save_best_only_fix_is_safe_only_when_the_monitor_surely_works(review, metrics, monitor, mode, safe):
    cells = [f"""import tensorflow as tf
def f1(y_true, y_pred):
    return y_pred
model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation='softmax')])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics={metrics})
ck = tf.keras.callbacks.ModelCheckpoint('m.h5', monitor='{monitor}', mode='{mode}')
model.fit(x, y, validation_data=(vx, vy), callbacks=[ck])"""]
    [f] = review(cells, "checkpoint-save-best-only")
    assert f.fix is not None and f.fix.safe is safe


def test_tiny_cutout_states_the_size_after_a_crop(review):
    found = review(["""import albumentations as A
from ImageDataAugmentor import ImageDataAugmentor
aug = A.Compose([A.Resize(420, 420), A.CenterCrop(384, 384), A.CoarseDropout(max_holes=8, max_height=8, max_width=8)])
model.fit(ImageDataAugmentor(augment=aug).flow_from_directory('train', target_size=(420, 420)), epochs=3)"""],
                   "tiny-cutout")
    assert [f.params["image"] for f in found] == ["384x384"]
    assert "384x384" in found[0].message("en") and "420x420" not in found[0].message("en")


@pytest.mark.parametrize("arch,says,not_says", [
    ("EfficientNetV2B0", "ImageNet mean and std", "[-1, 1]"),
    ("EfficientNetV2S", "[-1, 1]", "ImageNet mean"),
    ("EfficientNetB0", None, "include_preprocessing"),  # V1 has no such switch
])
def test_rescaling_layer_message_names_what_the_v2_variant_would_expect(review, arch, says, not_says):
    found = review([f"""from tensorflow import keras
base = keras.applications.{arch}(include_top=False, weights='imagenet', pooling='avg')
model = keras.Sequential([keras.layers.Rescaling(1./255), base, keras.layers.Dense(5, activation='softmax')])
model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(train_ds, epochs=3)"""], "rescale-efficientnet")
    assert len(found) == 1
    for lang in ("en", "ru"):
        text = found[0].message(lang)
        assert not_says not in text
        if says is not None and lang == "en":
            assert says in text


def test_a_list_of_quoted_names_renders_one_code_span_each(review):
    # the rule passes the logged keys as a list; the engine quotes each (no U+02CB look-alikes)
    found = review(["""from tensorflow import keras
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation='softmax')])
model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
es = keras.callbacks.EarlyStopping(monitor='val_acc', patience=3)
model.fit(train_gen, validation_data=val_gen, epochs=5, callbacks=[es])"""], "checkpoint-monitor-invalid")
    assert len(found) == 1
    for lang in ("en", "ru"):
        text = found[0].message(lang)
        assert "`loss`, `accuracy`, `val_loss`, `val_accuracy`" in text and "\u02cb" not in text


def test_quoting_keeps_a_students_backtick_inside_one_span():
    from nbreview.engine import _quotable
    assert _quotable(["a`b", "c"]) == "`a\u02cbb`, `c`"
    assert _quotable([]) is None and _quotable("x`y") == "x\u02cby" and _quotable(3) == 3

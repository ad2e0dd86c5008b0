"""The facts behind the rules found in real submissions: object identity (model structure,
trainable changes, library heads), liveness of callbacks, data identity (lineage down to
sources, parts, duplication, overlap), data sizes, orientation of the task's images, label
maps. Each test pins one behaviour a rule relies on."""
from __future__ import annotations

import pytest

from nbreview.facts import analyse
from nbreview.notebook import load
from nbreview.program import build

from .conftest import make_notebook


@pytest.fixture
def facts_of(tmp_path):
    def _facts(cells, markdown=None, outputs=None):
        path = make_notebook(cells, tmp_path / "nb.ipynb", markdown=markdown, outputs=outputs)
        return analyse(build(load(path)))

    return _facts


def _obj(facts, name):
    """The object the student bound to `name` last."""
    found = [v for _s, n, v in facts.interp.assignments if n == name]
    assert found, name
    return found[-1]


# --- object identity ---------------------------------------------------------------------------

def test_structure_knows_a_functional_model_and_what_is_not_in_it(facts_of):
    f = facts_of(["""
from tensorflow import keras
base = keras.applications.EfficientNetB0(include_top=False)
inputs = keras.Input((224, 224, 3))
x = keras.layers.GlobalAveragePooling2D()(base(inputs))
model = keras.Model(inputs, keras.layers.Dense(10)(x))
other = keras.applications.EfficientNetB0(include_top=False)
"""])
    s = f.structure(_obj(f, "model"))
    assert s.complete
    assert s.contains(_obj(f, "base")) is True
    assert s.contains(_obj(f, "other")) is False
    assert [p.api for p in s.weight_layers] == ["keras.layers.Dense"]


def test_structure_is_incomplete_with_layers_taken_from_elsewhere(facts_of):
    f = facts_of(["""
from tensorflow import keras
old = keras.models.load_model('m.h5')
base = keras.applications.ResNet50(include_top=False)
x = old.layers[-1](base.output)
model = keras.Model(base.input, x)
stranger = keras.applications.ResNet50(include_top=False)
"""])
    s = f.structure(_obj(f, "model"))
    assert not s.complete
    assert s.contains(_obj(f, "stranger")) is None  # not surely absent


def test_trainable_changes_and_frozen_state(facts_of):
    f = facts_of(["""
from tensorflow import keras
base = keras.applications.ResNet50(include_top=False)
base.trainable = False
model = keras.Sequential([base, keras.layers.Dense(10)])
model.fit(x, y)
for layer in base.layers[-10:]:
    layer.trainable = True
model.fit(x, y)
"""])
    base = _obj(f, "base")
    changes = f.trainable_changes
    assert [(c.value, c.whole) for c in changes] == [(False, True), (True, False)]
    fits = f.fits_run()
    assert f.frozen_at(base, fits[0].seq) is True
    assert f.frozen_at(base, fits[1].seq) is None  # some layers unfrozen again


def test_top_site_is_the_call_of_the_students_helper(facts_of):
    f = facts_of(["""
from tensorflow import keras
def build(base):
    return keras.Sequential([base, keras.layers.Dense(10)])
""", """
model = build(keras.applications.Xception(include_top=False))
"""])
    dense = next(o for o in f.objects if o.api == "keras.layers.Dense")
    assert dense.site.cell == 0
    assert f.top_site(dense.site, dense.seq).cell == 1


@pytest.mark.parametrize("ctor,attr,unread", [
    ("models.resnet50()", "classifier", True),
    ("models.resnet50()", "fc", False),
    ("models.efficientnet_b0()", "fc", True),
    ("models.densenet121()", "classifier", False),
    ("models.vit_b_16()", "heads", False),
    ("models.swin_t()", "head", False),
    ("timm.create_model('tf_efficientnet_b3_ns')", "fc", True),
    ("timm.create_model('tf_efficientnet_b3_ns')", "classifier", False),
    ("timm.create_model('resnet50d')", "fc", False),
])
def test_library_heads(facts_of, ctor, attr, unread):
    f = facts_of([f"import timm\nfrom torchvision import models\nm = {ctor}"])
    arch = f.arch_of(_obj(f, "m"))
    assert arch is not None and f.unread_attribute(arch, attr) is unread


def test_unknown_architectures_have_no_known_head(facts_of):
    f = facts_of(["import torch\nm = torch.hub.load('pytorch/vision', 'resnet50')\nn = timm.create_model(name)"])
    assert f.arch_of(_obj(f, "m")) is None and f.arch_of(_obj(f, "n")) is None


# --- liveness ---------------------------------------------------------------------------------------

def test_a_callback_appended_to_a_list_nobody_passes_is_dead(facts_of):
    f = facts_of(["""
from keras.callbacks import EarlyStopping, ModelCheckpoint
spare = []
es = EarlyStopping(patience=3)
spare.append(es)
ck = ModelCheckpoint('b.h5', save_best_only=True)
model.fit(x, y, callbacks=[ck])
"""])
    assert f.callback_reach(_obj(f, "es")).value is False
    assert f.callback_reach(_obj(f, "ck")).value is True


def test_a_callback_behind_an_unreadable_callbacks_argument_is_unknown(facts_of):
    f = facts_of(["""
from keras.callbacks import EarlyStopping
es = EarlyStopping(patience=3)
model.fit(x, y, callbacks=make_callbacks())
"""])
    assert f.callback_reach(_obj(f, "es")).value is None


# --- data identity ------------------------------------------------------------------------------------

def _sel(f, name):
    return {p.selection() for p in f.data_paths(_obj(f, name)) if p.known}


def test_a_shuffle_keeps_the_rows_and_a_split_makes_disjoint_parts(facts_of):
    f = facts_of(["""
import pandas as pd
from sklearn.model_selection import train_test_split
df = pd.read_csv('train.csv')
shuffled = df.sample(frac=1).reset_index(drop=True)
tr, va = train_test_split(shuffled, test_size=0.2)
"""])
    assert _sel(f, "shuffled") == _sel(f, "df")
    (tr,), (va,), (full,) = _sel(f, "tr"), _sel(f, "va"), _sel(f, "df")
    assert not f.overlap(tr, va)
    assert f.overlap(full, va) and f.overlap(va, full)


def test_generator_subsets_overlap_only_when_the_fractions_do(facts_of):
    f = facts_of(["""
from tensorflow.keras.preprocessing.image import ImageDataGenerator
a = ImageDataGenerator(validation_split=0.1)
b = ImageDataGenerator(validation_split=0.1)
c = ImageDataGenerator(validation_split=0.3)
t = a.flow_from_directory('data/train/', subset='training')
v = b.flow_from_directory('./data/train', subset='validation')
w = c.flow_from_directory('data/train', subset='validation')
"""])
    (t,), (v,), (w,) = _sel(f, "t"), _sel(f, "v"), _sel(f, "w")
    assert not f.overlap(t, v)  # one split, whichever generator makes it
    assert f.overlap(t, w)  # training keeps 10%..100%, this validation takes 0%..30%


def test_duplication_and_concatenation_are_steps_on_the_way(facts_of):
    f = facts_of(["""
import pandas as pd
import numpy as np
df = pd.read_csv('train.csv')
up = pd.concat([df, df[df.label == 3]])
boot = df.sample(n=5000, replace=True)
rep = np.repeat(df.values, 2, axis=0)
once = pd.concat([df[df.label == 1], df[df.label == 2]])
"""])
    for name in ("up", "boot", "rep"):
        assert any(s.kind == "dup" for p in f.data_paths(_obj(f, name)) for s in p.steps), name
    assert not any(s.kind == "dup" for p in f.data_paths(_obj(f, "once")) for s in p.steps)


def test_reshuffling_take_skip_overlap(facts_of):
    f = facts_of(["""
import glob
import tensorflow as tf
files = glob.glob('x/*.png')
a = tf.data.Dataset.from_tensor_slices(files).shuffle(100)
b = tf.data.Dataset.from_tensor_slices(files).shuffle(100, reshuffle_each_iteration=False)
a_val, a_tr = a.take(10), a.skip(10)
b_val, b_tr = b.take(10), b.skip(10)
"""])
    (av,), (at,), (bv,), (bt,) = (_sel(f, n) for n in ("a_val", "a_tr", "b_val", "b_tr"))
    assert f.overlap(av, at)
    assert not f.overlap(bv, bt)


def test_test_like_sources(facts_of):
    f = facts_of(["""
import pandas as pd
sub = pd.read_csv('../input/sample-submission.csv')
train = pd.read_csv('../input/train.csv')
"""])
    sub_path, = f.data_paths(_obj(f, "sub"))
    train_path, = f.data_paths(_obj(f, "train"))
    assert f.test_like(sub_path) is not None and f.test_like(train_path) is None


# --- data sizes -----------------------------------------------------------------------------------------

def test_printed_counts_are_matched_to_the_generators_in_order(facts_of):
    f = facts_of(["""
t = gen.flow_from_directory('train', subset='training', batch_size=16)
v = gen.flow_from_directory('train', subset='validation')
""", """
import keras
ds = keras.utils.image_dataset_from_directory('train', validation_split=0.2, subset='validation', seed=1)
"""], outputs=["Found 12452 images belonging to 10 classes.\nFound 3109 images belonging to 9 classes.\n",
               "Found 15561 files belonging to 10 classes.\nUsing 3112 files for validation.\n"])
    assert (f.sample_count(_obj(f, "v")).samples, f.sample_count(_obj(f, "v")).classes) == (3109, 9)
    assert f.sample_count(_obj(f, "ds")).samples == 3112
    assert f.batch_size(_obj(f, "t")) == 16 and f.batch_size(_obj(f, "v")) == 32


def test_a_count_is_not_guessed_when_lines_and_generators_disagree(facts_of):
    f = facts_of(["t = gen.flow_from_directory('train')\nv = gen.flow_from_directory('val')"],
                 outputs=["Found 100 images belonging to 2 classes.\n"])
    assert f.sample_count(_obj(f, "t")) is None and f.sample_count(_obj(f, "v")) is None


def test_what_a_number_of_steps_is_computed_from(facts_of):
    f = facts_of(["""
import math
import pandas as pd
from sklearn.model_selection import train_test_split
tr_df, val_df = train_test_split(pd.read_csv('t.csv'))
train_gen = gen.flow_from_dataframe(tr_df)
n = train_gen.samples // 32
m = math.ceil(len(val_df) / 64)
"""])
    assert f.size_terms(_obj(f, "n")) == [_obj(f, "train_gen")]
    assert f.size_terms(_obj(f, "m")) == [_obj(f, "val_df")]
    assert f.reads(_obj(f, "train_gen"), _obj(f, "tr_df")) and not f.reads(_obj(f, "train_gen"), _obj(f, "val_df"))
    assert f.divisor(_obj(f, "n")) == 32 and f.divisor(_obj(f, "m")) == 64


# --- orientation ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("markdown,upright", [
    ("# Классификация автомобилей", True),
    ("# Dogs vs cats", True),
    ("# EuroSAT: satellite tiles", None),
    ("# Cars seen by a drone (aerial)", None),
    ("# Chest X-ray pneumonia", None),
    ("# Image classification", None),
])
def test_domain_from_the_students_words(facts_of, markdown, upright):
    f = facts_of(["x = 1"], markdown={0: markdown})
    assert f.domain.upright is upright


def test_domain_from_paths_with_underscores_and_the_course_data(facts_of):
    assert facts_of(["root = '/kaggle/input/cats_vs_dogs/train'"]).domain.upright is True
    f = facts_of(["gen.flow_from_directory('data/train')"], outputs=["Found 15561 images belonging to 10 classes.\n"])
    assert (f.domain.upright, f.domain.what) == (True, "cars")
    assert facts_of(["cb = ModelCheckpoint('b.h5', mode='auto')"]).domain.upright is None


def test_turns_are_found_only_where_they_reach_data(facts_of):
    f = facts_of(["""
import keras
from keras import layers
import albumentations as A
default_flip = keras.Sequential([layers.RandomFlip()])
h_flip = keras.Sequential([layers.RandomFlip('horizontal')])
unused = A.Compose([A.VerticalFlip()])
used = A.Compose([A.Transpose()])
train_ds = train_ds.map(lambda x, y: (default_flip(h_flip(x)), y))
ds = MyDataset(files, transform=used)
"""])
    assert sorted(t.kind for t in f.turns) == ["flip", "rotate"]


# --- label maps -------------------------------------------------------------------------------------------

def test_set_orders_of_strings_only(facts_of):
    f = facts_of(["""
import os
import pandas as pd
names = list(set(os.listdir('train')))
a = {n: i for i, n in enumerate(names)}
df = pd.read_csv('t.csv')
ints = list(set(df['Category']))
b = {c: i for i, c in enumerate(ints)}
df['label'] = df['Category'].astype(str)
strs = list(set(df['label']))
c = strs.index('3')
"""])
    assert sorted(s.site.line for s in f.set_orders) == [4, 10]


def test_stratified_splits(facts_of):
    f = facts_of(["""
import pandas as pd
from sklearn.model_selection import train_test_split
df = pd.read_csv('train.csv')
a_tr, a_va = train_test_split(df, test_size=0.2, stratify=df.y)
b_tr, b_va = train_test_split(df, test_size=0.2)
c_tr, c_va = train_test_split(df, test_size=0.2, stratify=None)
"""])
    assert [f.stratified(f.split_part(_obj(f, n))) for n in ("a_va", "b_va", "c_va")] == [True, False, False]


def test_files_copied_into_a_folder_before_it_is_read(facts_of):
    f = facts_of(["""
import shutil
from tensorflow.keras.preprocessing.image import ImageDataGenerator
TRAIN = '../working/train/'
PATH = '../working/'
for i, name in enumerate(files):
    shutil.copy(TRAIN + f'3/{name}', TRAIN + f'3/copy_{i}_{name}')
    shutil.copy(PATH + 'test_upload/' + name, PATH + 'sub/' + name)
flow = ImageDataGenerator().flow_from_directory(TRAIN)
later = ImageDataGenerator().flow_from_directory(PATH + 'sub/')
shutil.copy(TRAIN + 'a.jpg', TRAIN + 'b.jpg')
"""])
    kinds = [[s.kind for s in p.steps] for p in f.data_paths(_obj(f, "flow"))]
    assert kinds == [["dup", "source"], ["source"]]  # the copy made before it, not the one after
    sub = f.data_paths(_obj(f, "later"))
    assert any(f.test_like(p) is not None for p in sub)  # test files copied in


def test_classifiers_and_wrapped_backbones(facts_of):
    f = facts_of(["""
import torch.nn as nn
from tensorflow import keras
head = nn.Sequential(nn.Dropout(0.2), nn.Linear(512, 10))
drop = nn.Dropout(0.5)
base = keras.applications.ResNet50(include_top=False, pooling='avg')
inp = keras.Input((5, 224, 224, 3))
seq = keras.Model(inp, keras.layers.Dense(10)(keras.layers.TimeDistributed(base)(inp)))
lam = keras.Model(inp, keras.layers.Lambda(lambda t: base(t))(inp))
"""])
    assert f.is_classifier(_obj(f, "head")) and not f.is_classifier(_obj(f, "drop"))
    assert f.structure(_obj(f, "seq")).contains(_obj(f, "base")) is True
    assert f.structure(_obj(f, "lam")).contains(_obj(f, "base")) is not False

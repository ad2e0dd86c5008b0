"""The recipe `nbreview verify` reads from a notebook, and the plan it runs (no TensorFlow needed)."""
from __future__ import annotations

import pytest

from nbreview.verify import plan as pln
from nbreview.verify.recipe import read

from .conftest import FIXTURES

HEAD = ("import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n")


def test_example_recipe_values_and_sources():
    r = read(FIXTURES / "example_student.ipynb")
    assert r["backbone"] == "EfficientNetB3"
    assert r["weights"] == "imagenet"
    assert r["preprocessing_inside"] is True
    assert r["input_size"] == 300 and r["batch_size"] == 16 and r["epochs"] == 8
    assert r["optimizer"] == "Adam" and r["learning_rate"] == 1e-4
    assert r["preprocessing"] == "unit"
    assert r["validation_split"] == 0.2 and r["validation_augmented"] is True
    assert [a.kind for a in r["augmentation"]] == ["rotation", "translation", "translation", "flip"]
    assert r["augmentation"][0].params == {"degrees": 20.0}
    assert r["checkpoint"]["save_best_only"] is False and r["checkpoint"]["monitor"] == "val_accuracy"
    assert r["checkpoint"]["defaults"] == ["save_best_only", "save_weights_only"]
    assert r["tta"] == {"passes": 10, "passes_known": True, "augmented": False}
    assert r["num_classes"] == 10
    assert {d.name for d in r.deprecated} == {"fit_generator", "lr"}
    # where each value comes from: the student's own code, cell and line
    src = r.source("preprocessing")
    assert (src.kind, src.cell, src.text) == ("notebook", 4, "rescale=1. / 255")
    assert r.source("learning_rate").text == "lr=1e-4"
    assert r.source("epochs").text == "epochs=EPOCHS"
    assert "lr_schedule" in r.defaults and "epochs" not in r.defaults
    js = r.to_json()
    assert js["fields"]["input_size"] == {"value": 300, "source": "notebook", "cell": 5, "line": 2,
                                          "code": "target_size=(IMG_SIZE, IMG_SIZE)"}
    assert js["fields"]["lr_schedule"]["source"] == "default"


def test_defaults_are_marked(notebook):
    path = notebook([HEAD + "model = keras.Sequential([layers.Conv2D(8, 3), layers.GlobalAveragePooling2D(),\n"
                     "    layers.Dense(3, activation='softmax')])\nmodel.compile(loss='sparse_categorical_crossentropy')\n"
                     "model.fit(x_train, y_train)\n"])
    r = read(path)
    assert r["backbone"] == "small-cnn" and r.source("backbone").kind == "default"
    assert r["epochs"] == 1 and r.source("epochs").kind == "default"  # Keras' own default
    assert r["optimizer"] == "RMSprop" and r["learning_rate"] == 1e-3
    assert r["num_classes"] == 3 and r.source("num_classes").kind == "notebook"
    assert r["checkpoint"] is None and r["tta"] is None
    assert {"epochs", "optimizer", "learning_rate", "input_size", "batch_size"} <= set(r.defaults)


def test_keras3_pipeline_kwargs_layers_and_schedule(notebook):
    path = notebook([
        "import keras\nfrom keras import layers\nimport tensorflow as tf\n",
        "train_ds = keras.utils.image_dataset_from_directory('d', validation_split=0.25, subset='training', seed=1,\n"
        "    image_size=(128, 128), batch_size=24)\n"
        "val_ds = keras.utils.image_dataset_from_directory('d', validation_split=0.25, subset='validation', seed=1,\n"
        "    image_size=(128, 128), batch_size=24)\n",
        "aug = keras.Sequential([layers.RandomFlip('horizontal'), layers.RandomRotation(0.1), layers.RandomZoom(0.2)])\n"
        "base = keras.applications.EfficientNetV2B0(include_top=False, weights='imagenet', input_shape=(128, 128, 3))\n"
        "base.trainable = False\n"
        "inputs = keras.Input((128, 128, 3))\nx = aug(inputs)\nx = layers.Rescaling(1 / 255)(x)\nx = base(x)\n"
        "x = layers.GlobalAveragePooling2D()(x)\nout = layers.Dense(5, activation='softmax')(x)\n"
        "model = keras.Model(inputs, out)\n",
        "sched = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=10000, decay_rate=0.9)\n"
        "kw = dict(monitor='val_acc', mode='max', save_best_only=True)\n"
        "cb = [keras.callbacks.ModelCheckpoint('m.keras', **kw),\n"
        "      keras.callbacks.ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=2)]\n"
        "model.compile(optimizer=keras.optimizers.Adam(learning_rate=sched), loss='sparse_categorical_crossentropy',\n"
        "              metrics=['accuracy'])\n"
        "model.fit(train_ds, validation_data=val_ds, epochs=12, callbacks=cb)\n",
    ])
    r = read(path)
    assert r["backbone"] == "EfficientNetV2B0" and r["preprocessing_inside"] is True
    assert r["backbone_trainable"] is False
    assert r["input_size"] == 128 and r["batch_size"] == 24 and r["validation_split"] == 0.25
    assert r["preprocessing"] == "unit" and r.fields["preprocessing"].note == "Rescaling layer inside the model"
    assert [(a.kind, a.params) for a in r["augmentation"]] == [
        ("flip", {"mode": "horizontal"}), ("rotation", {"factor": 0.1}), ("zoom", {"factor": 0.2})]
    assert r["checkpoint"]["monitor"] == "val_acc" and r["checkpoint"]["save_best_only"] is True
    assert r["lr_schedule"]["type"] == "ExponentialDecay" and r["lr_schedule"]["complete"] is True
    assert r["learning_rate"] == 1e-3
    assert r["reduce_lr_on_plateau"] == {"monitor": "val_loss", "factor": 0.5, "patience": 2}
    assert r["validation_augmented"] is False
    assert r["epochs"] == 12


def test_tf_data_map_augmentation_and_preprocess_input(notebook):
    path = notebook([
        HEAD + "from tensorflow.keras.applications.resnet50 import ResNet50, preprocess_input\n",
        "def augment(img, label):\n    img = tf.image.random_flip_left_right(img)\n"
        "    img = tf.image.random_brightness(img, max_delta=25.0)\n"
        "    img = tf.image.random_contrast(img, 0.8, 1.2)\n    return img, label\n",
        "gen = ImageDataGenerator(preprocessing_function=preprocess_input, horizontal_flip=True, zoom_range=0.1)\n"
        "train = gen.flow_from_directory('d', target_size=(224, 224), batch_size=8)\n",
        "base = ResNet50(include_top=False, weights='imagenet')\nx = layers.GlobalAveragePooling2D()(base.output)\n"
        "model = keras.Model(base.input, layers.Dense(2, activation='softmax')(x))\n"
        "model.compile(optimizer='sgd', loss='categorical_crossentropy')\nmodel.fit(train, epochs=3)\n"
        "ds = tf.data.Dataset.from_tensor_slices((a, b)).map(augment).batch(4)\n",
    ])
    r = read(path)
    assert r["preprocessing"] == "caffe" and r["optimizer"] == "SGD" and r["learning_rate"] == 1e-2
    assert [(a.kind, a.params) for a in r["augmentation"]] == [("zoom", {"range": [0.9, 1.1]}),
                                                             ("flip", {"mode": "horizontal"})]
    from nbreview.verify.recipe import _tf_image_op

    ops = [_tf_image_op("tensorflow.image." + n, {}, n) for n in ("random_flip_left_right", "random_hue")]
    assert ops[0].kind == "flip" and ops[1].fidelity == "not reproduced"


def test_plan_scales_the_recipe_to_a_cpu():
    r = read(FIXTURES / "example_student.ipynb")
    p = pln.make(r, pln.Options(), "cpu")
    assert (p.image_size, p.epochs, p.batch_size, p.images) == (64, 8, 32, 480)
    assert p.learning_rate == pytest.approx(2e-4)  # batch 16 -> 32 on a CPU: the rate scales linearly
    assert p.backbone == "nbreview-mini" and p.stem == "efficientnet" and p.weights == "pretext"
    assert (p.scaling, p.correct_scaling) == ("unit", "none")
    assert p.tta_passes == 8 and not p.mixed_precision
    assert any("300 -> 64" in n for n in p.notes) and any("batch size 16 -> 32" in n for n in p.notes) and any("stands in for EfficientNetB3" in n for n in p.notes)
    g = pln.make(r, pln.Options(weights="none"), "gpu")
    assert (g.image_size, g.epochs, g.backbone, g.weights, g.mixed_precision) == (300, 8, "EfficientNetB3", None, True)
    o = pln.make(r, pln.Options(epochs=2, image_size=32, limit_images=100, backbone="notebook"), "cpu")
    assert (o.epochs, o.image_size, o.images, o.backbone, o.weights) == (2, 32, 100, "EfficientNetB3", "imagenet")


def test_correct_scaling_by_family():
    assert pln.correct_scaling("Xception") == "tf"
    assert pln.correct_scaling("ResNet50") == "caffe"
    assert pln.correct_scaling("ResNet50V2") == "tf"
    assert pln.correct_scaling("DenseNet121") == "torch"
    assert pln.correct_scaling("EfficientNetB0") == "none"
    assert pln.correct_scaling(None) == "unit"

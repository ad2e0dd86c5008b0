"""The traps a careless linter falls into: each must stay silent (or fire exactly where it should)."""
from __future__ import annotations

import nbformat

from nbreview.engine import review_path

from .conftest import make_notebook


def rules_of(path):
    return sorted({(f.rule, f.location.cell) for f in review_path(path).findings})


def test_pitfalls_only_in_markdown_and_comments(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("Раньше было так:\n```python\nckpt = ModelCheckpoint('m.h5')\n"
                                      "model.fit_generator(gen)\nAdam(lr=1e-3)\n```"),
        nbformat.v4.new_code_cell("import tensorflow as tf\n# ckpt = tf.keras.callbacks.ModelCheckpoint('m.h5')\n"
                                  "# model.fit_generator(gen)\n'''\nmodel.fit_generator(gen)\n'''"),
        nbformat.v4.new_raw_cell("model.fit_generator(gen)"),
    ]
    p = tmp_path / "md.ipynb"
    nbformat.write(nb, str(p))
    assert rules_of(p) == []


def test_same_names_from_other_libraries(tmp_path):
    p = make_notebook([
        "import torch\nfrom sklearn.linear_model import SGDClassifier\n"
        "opt = torch.optim.Adam(model.parameters(), lr=1e-3)\nclf = SGDClassifier().fit(X, y)\n"
        "class ModelCheckpoint:\n    def __init__(self, path):\n        self.path = path\n"
        "ck = ModelCheckpoint('x.pt')",
    ], tmp_path / "other.ipynb")
    assert rules_of(p) == []


def test_reassigned_generator_uses_the_binding_in_force(tmp_path):
    p = make_notebook([
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "datagen = ImageDataGenerator(rotation_range=30)\ntrain = datagen.flow_from_directory('tr')",
        "datagen = ImageDataGenerator(rescale=1/255)\nval = datagen.flow_from_directory('va')\n"
        "model.fit(train, validation_data=val)",
    ], tmp_path / "rebind.ipynb")
    assert rules_of(p) == []


def test_generator_from_an_unknown_source_stays_silent(tmp_path):
    p = make_notebook([
        "from my_utils import make_generators\ntrain_gen, val_gen = make_generators(aug=True)\n"
        "model.fit(train_gen, validation_data=val_gen)\n"
        "preds = [model.predict(val_gen) for _ in range(5)]",
    ], tmp_path / "unknown.ipynb")
    assert rules_of(p) == []


def test_efficientnet_fed_raw_pixels_and_augmentation_in_the_model(tmp_path):
    p = make_notebook([
        "import tensorflow as tf\nfrom tensorflow.keras import layers\n"
        "aug = tf.keras.Sequential([layers.RandomFlip(), layers.RandomZoom(0.1)])\n"
        "base = tf.keras.applications.EfficientNetB0(include_top=False)\n"
        "inp = tf.keras.Input((224, 224, 3))\nx = aug(inp)\nx = base(x)\n"
        "out = layers.Dense(3, activation='softmax')(layers.GlobalAveragePooling2D()(x))\n"
        "model = tf.keras.Model(inp, out)",
        "ds = tf.keras.utils.image_dataset_from_directory('d', validation_split=0.2, subset='training', seed=1)\n"
        "vs = tf.keras.utils.image_dataset_from_directory('d', validation_split=0.2, subset='validation', seed=1)\n"
        "model.fit(ds, validation_data=vs, epochs=3)",
    ], tmp_path / "raw.ipynb")
    assert rules_of(p) == []


def test_a_rule_finds_the_problem_in_a_cell_that_was_not_run(tmp_path):
    p = make_notebook(["from tensorflow.keras.callbacks import ModelCheckpoint",
                       "c = ModelCheckpoint('b.h5')"], tmp_path / "unrun.ipynb", executed=False)
    [f] = [f for f in review_path(p).findings if f.rule == "checkpoint-save-best-only"]
    assert f.location.execution_count is None and f.location.cell == 1


def test_augmenting_datagen_used_only_for_training_and_tta(tmp_path):
    p = make_notebook([
        "import numpy as np\nfrom keras.preprocessing.image import ImageDataGenerator\n"
        "aug = ImageDataGenerator(horizontal_flip=True, rotation_range=15)\n"
        "plain = ImageDataGenerator()\n"
        "model.fit(aug.flow(x, y), validation_data=plain.flow(xv, yv, shuffle=False))\n"
        "p = np.mean([model.predict(aug.flow(xt, shuffle=False)) for _ in range(20)], axis=0)",
    ], tmp_path / "tta.ipynb")
    assert rules_of(p) == []


def test_tta_over_fixed_arrays_fires_but_random_arrays_do_not(tmp_path):
    fixed = make_notebook([
        "import numpy as np\nX_test = np.zeros((10, 224, 224, 3))\nX_test = X_test / 255.\n"
        "pred = np.mean([model.predict(X_test) for _ in range(5)], axis=0)",
    ], tmp_path / "fixed.ipynb")
    assert rules_of(fixed) == [("tta-no-augmentation", 0)]
    noisy = make_notebook([
        "import numpy as np\nX_test = np.zeros((10, 224, 224, 3))\n"
        "def jitter(x):\n    return x * np.random.uniform(0.9, 1.1)\n"
        "pred = np.mean([model.predict(jitter(X_test)) for _ in range(5)], axis=0)\n"
        "import albumentations as A\naug = A.Compose([A.HorizontalFlip()])\n"
        "p2 = [model.predict(np.array([aug(image=i)['image'] for i in X_test])) for _ in range(8)]",
    ], tmp_path / "noisy.ipynb")
    assert rules_of(noisy) == []

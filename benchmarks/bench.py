#!/usr/bin/env python
"""Speed benchmark for nbreview: one run prints every number the README's speed section quotes.

Generates N (default 1,000) realistic, deterministic notebooks (tf.keras / standalone Keras 2 /
Keras 3 / PyTorch; magics, Keras epoch logs, base64 PNG outputs, Russian/English markdown,
planted pitfalls or clean) and measures, each command as a fresh process:

* cold ``nbreview check one.ipynb`` in text and in json (interpreter start included), median
  of R runs, and which heavy libraries the check path imported (``-X importtime``);
* throughput of ``nbreview check DIR --format json`` on 50, 1,000 and 10,000 notebooks (the
  10,000 are the 1,000 hard-linked ten times), with ``--jobs`` at its default (every CPU),
  and the peak memory of the largest process of each run: it must not grow with the count;
* the per-notebook cost with ``--jobs 1`` against the parse floor (``json.loads`` of the file
  and ``ast.parse`` of every code cell, in one warm process);
* the same for the course's own notebooks (fixtures/ and, beside a checkout, the development
  set: 8 KB on average, mostly code) repeated up to N, with their own parse floor;
* ``nbqa pylint`` on the same 50 notebooks (``pip install -e .[bench]``), and ruff when installed.

Run ``python benchmarks/bench.py --help``. This is a benchmark, not a test: it always exits 0
unless its own arguments are wrong.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

# --------------------------------------------------------------------------------------------
# Notebook generation
# --------------------------------------------------------------------------------------------

STYLES = ("tfkeras", "keras2", "keras3", "torch")
STYLE_WEIGHTS = (0.35, 0.15, 0.2, 0.3)

# planted pitfall -> nbreview rule slug it should trigger (None: no rule for it yet)
PITFALL_SLUGS = {
    "checkpoint_no_best": "checkpoint-save-best-only",
    "augmented_validation": "augmented-validation",
    "rescale_efficientnet": "rescale-efficientnet",
    "tta_no_augmentation": "tta-no-augmentation",
    "fit_generator": "deprecated-generator-api",
    "adam_lr": "deprecated-generator-api",
    "torch_val_train_transform": "torch-augmented-validation",
    "torch_missing_eval": "torch-missing-eval",
}
KERAS_PITFALLS = ("checkpoint_no_best", "augmented_validation", "rescale_efficientnet",
                  "tta_no_augmentation", "fit_generator", "adam_lr")
KERAS3_PITFALLS = ("checkpoint_no_best", "augmented_validation", "rescale_efficientnet", "tta_no_augmentation")
TORCH_PITFALLS = ("torch_val_train_transform", "torch_missing_eval")

BACKBONES = {  # name -> (module, preprocess available, default size)
    "Xception": ("xception", 299),
    "ResNet50": ("resnet50", 224),
    "MobileNetV2": ("mobilenet_v2", 224),
    "InceptionV3": ("inception_v3", 299),
    "DenseNet121": ("densenet", 224),
    "EfficientNetB3": ("efficientnet", 300),
}

TITLES_RU = ["Классификация автомобилей", "Проект: классификация изображений", "Распознавание моделей машин",
             "Классификация пород собак", "Итоговый проект по компьютерному зрению"]
TITLES_EN = ["Car classification", "Image classification project", "Dog breed classification",
             "Final computer vision project", "Transfer learning baseline"]
MD_RU = ["Посмотрим на данные.", "Видно, что классы примерно сбалансированы.", "## Аугментация данных",
         "Попробуем дообучить всю сеть с маленьким learning rate.", "## Обучение модели",
         "Качество на валидации выросло, но модель начинает переобучаться.",
         "Сделаем предсказание и сохраним сабмит.", "### Выводы\n\n- аугментация помогла\n- fine-tuning дал +3%",
         "Здесь я пробовал разные размеры батча, лучше всего 32."]
MD_EN = ["Let's look at the data.", "The classes are roughly balanced.", "## Data augmentation",
         "Now fine-tune the whole network with a small learning rate.", "## Training",
         "Validation accuracy went up but the model starts to overfit.",
         "Predict and write the submission.", "### Conclusions\n\n- augmentation helped\n- fine-tuning gave +3%",
         "I tried several batch sizes here; 32 worked best."]


def _png(rng: random.Random, target_bytes: int) -> str:
    """A valid PNG (white plot-like canvas with a noisy block) of roughly target_bytes, base64."""
    w, h = rng.choice([(432, 288), (576, 360), (360, 252), (720, 432)])
    noise_px = max(1, min(w * h - 1, target_bytes // 3))
    nh = max(1, min(h, noise_px // w + 1))
    rows = []
    for y in range(h):
        if y < nh:
            row = bytearray(rng.randbytes(w * 3))
        else:
            row = bytearray(b"\xff" * (w * 3))
            bar = rng.randrange(w // 2)
            row[0:bar * 3] = bytes((31, 119, 180)) * bar
        rows.append(b"\x00" + bytes(row))
    raw = zlib.compress(b"".join(rows), 6)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode("ascii")


class Gen:
    """Builds one notebook: a list of (kind, source, outputs)."""

    def __init__(self, rng: random.Random, style: str, pitfalls: set[str], lang: str):
        self.rng = rng
        self.style = style
        self.p = pitfalls
        self.lang = lang
        self.cells: list[tuple[str, str, list]] = []
        r = rng
        self.img = r.choice([128, 160, 192, 224, 256, 299, 300])
        self.batch = r.choice([16, 32, 64])
        self.epochs = r.randint(3, 15)
        self.lr = r.choice(["1e-3", "3e-4", "1e-4", "0.001", "0.0005"])
        self.n_classes = r.choice([2, 5, 10, 10, 12, 120])
        self.val_split = r.choice(["0.1", "0.15", "0.2", "0.25"])
        self.tr = r.choice(["train_gen", "train_generator", "train_data", "tr_gen", "train_flow"])
        self.va = r.choice(["val_gen", "valid_generator", "val_data", "validation_generator", "va_flow"])
        self.te = r.choice(["test_gen", "test_generator", "test_data", "sub_generator"])
        self.dg = r.choice(["train_datagen", "datagen", "aug_gen", "image_gen"])
        self.m = r.choice(["model", "model", "net", "clf_model"])
        self.base = r.choice(["base_model", "backbone", "base", "pretrained"])
        self.hist = r.choice(["history", "hist", "h"])
        self.data_dir = r.choice(["../input/sf-dl-car-classification/", "/kaggle/input/cars/",
                                  "data/", "./dataset/", "/content/drive/MyDrive/data/"])
        self.ckpt = r.choice(["best_model", "model_best", "weights", "checkpoint"])
        self.anchor = 3
        self.images_left = r.randint(1, 7)
        self.prep: str | None = None

    # ---- helpers -----------------------------------------------------------------------
    def md(self, text: str) -> None:
        self.cells.append(("markdown", text, []))

    def code(self, src: str, outputs: list | None = None) -> None:
        self.cells.append(("code", src.strip("\n"), outputs or []))

    def say(self, ru: str, en: str) -> None:
        self.md(ru if self.lang == "ru" else en)

    def stream(self, text: str, name: str = "stdout") -> dict:
        return {"output_type": "stream", "name": name, "text": text}

    def image(self) -> dict:
        """A PNG display_data output; past this notebook's image budget only the text/plain stub."""
        self.images_left -= 1
        if self.images_left < 0:
            return {"output_type": "display_data", "metadata": {},
                    "data": {"text/plain": "<Figure size 864x576 with 1 Axes>"}}
        size = self.rng.choice([5_000, 10_000, 15_000, 25_000, 40_000])
        return {"output_type": "display_data", "metadata": {},
                "data": {"image/png": _png(self.rng, size), "text/plain": "<Figure size 864x576 with 1 Axes>"}}

    def result(self, text: str) -> dict:
        return {"output_type": "execute_result", "metadata": {}, "execution_count": None,
                "data": {"text/plain": text}}

    def epoch_log(self, epochs: int, ckpt_msgs: bool) -> str:
        r = self.rng
        steps = r.randint(80, 900)
        loss, acc = r.uniform(1.2, 2.5), r.uniform(0.2, 0.5)
        best = -1.0
        lines = []
        for e in range(1, epochs + 1):
            loss *= r.uniform(0.7, 0.95)
            acc = min(0.99, acc + r.uniform(0.01, 0.12))
            vloss, vacc = loss * r.uniform(0.9, 1.3), max(0.0, acc - r.uniform(0.0, 0.08))
            sec = r.randint(40, 600)
            lines.append(f"Epoch {e}/{epochs}")
            lines.append(f"{steps}/{steps} [==============================] - {sec}s {sec * 1000 // steps}ms/step"
                         f" - loss: {loss:.4f} - accuracy: {acc:.4f} - val_loss: {vloss:.4f}"
                         f" - val_accuracy: {vacc:.4f}")
            if ckpt_msgs:
                if vacc > best:
                    prev = "-inf" if best < 0 else f"{best:.5f}"
                    lines.append(f"\nEpoch {e:05d}: val_accuracy improved from {prev} to {vacc:.5f},"
                                 f" saving model to {self.ckpt}.h5")
                    best = vacc
                else:
                    lines.append(f"\nEpoch {e:05d}: val_accuracy did not improve from {best:.5f}")
        return "\n".join(lines) + "\n"

    def tqdm_log(self, epochs: int) -> str:
        r = self.rng
        n = r.randint(100, 400)
        out = []
        for _ in range(epochs):
            out.append(f"100%|██████████| {n}/{n} [01:{r.randint(0, 59):02d}<00:00,  {r.uniform(2, 6):.2f}it/s]")
            out.append(f"100%|██████████| {n // 4}/{n // 4} [00:{r.randint(5, 30):02d}<00:00,  "
                       f"{r.uniform(4, 9):.2f}it/s]")
        return "\n".join(out) + "\n"

    # ---- shared filler -----------------------------------------------------------------
    def eda_cells(self) -> None:
        r = self.rng
        self.code(f"train_df = pd.read_csv('{self.data_dir}train.csv')\ntrain_df.head()",
                  [self.result("      Id  Category\n0  1.jpg         3\n1  2.jpg         7\n2  3.jpg         0")])
        self.code("train_df.Category.value_counts().plot(kind='bar', figsize=(12, 4))\nplt.show()", [self.image()])
        self.code("print(train_df.shape)\nprint(train_df.Category.nunique(), 'classes')",
                  [self.stream(f"({r.randint(5000, 20000)}, 2)\n{self.n_classes} classes\n")])
        if r.random() < 0.7:
            self.code(
                "plt.figure(figsize=(12, 8))\n"
                "random_image = train_df.sample(n=9)\n"
                "for index, (name, label) in enumerate(zip(random_image.Id, random_image.Category)):\n"
                f"    im = PIL.Image.open('{self.data_dir}train/' + str(label) + '/' + name)\n"
                "    plt.subplot(3, 3, index + 1)\n"
                "    plt.imshow(im)\n"
                "    plt.title('Class: ' + str(label))\n"
                "    plt.axis('off')\n"
                "plt.show()",
                [self.image()])

    def filler(self) -> None:
        """One random extra cell: markdown, a print, a plot, a helper, an evaluation..."""
        r = self.rng
        k = r.randrange(16)
        n = r.randint(2, 9999)
        if k <= 2:
            self.md(r.choice(MD_RU if self.lang == "ru" else MD_EN))
        elif k == 3:
            v = r.choice(["IMG_SIZE", "BATCH_SIZE", "EPOCHS", "LR", "len(train_df)", "train_df.shape"])
            self.code(f"print({v})", [self.stream(f"{r.randint(1, 300)}\n")])
        elif k == 4:
            self.code("import gc\ngc.collect()", [self.result(str(n))])
        elif k == 5:
            name = r.choice(["show_batch", "plot_images", "imshow_grid", "visualize", "draw_samples"])
            self.code(f"def {name}(images, labels, n={r.randint(4, 16)}):\n"
                      f"    fig = plt.figure(figsize=({r.randint(8, 16)}, {r.randint(4, 10)}))\n"
                      "    for i in range(n):\n"
                      "        ax = fig.add_subplot(2, n // 2, i + 1)\n"
                      "        ax.imshow(images[i])\n"
                      "        ax.set_title(str(labels[i]))\n"
                      "        ax.axis('off')\n"
                      "    plt.show()")
        elif k == 6:
            self.code(r.choice(["!ls -la ", "!du -sh ", "!ls "]) + self.data_dir,
                      [self.stream("total 12\ndrwxr-xr-x 2 root root 4096 train\n-rw-r--r-- 1 root root 1234 train.csv\n")])
        elif k == 7:
            self.code(f"# TODO: попробовать другой размер картинки\n# IMG_SIZE = {r.choice([224, 256, 320])}\n"
                      f"seed = {n}\nnp.random.seed(seed)")
        elif k == 8:
            self.code("sizes = []\nfor path in train_df.Id.sample(" + str(r.choice([200, 500, 1000])) + "):\n"
                      "    with PIL.Image.open(os.path.join(" + repr(self.data_dir + "train") + ", path)) as im:\n"
                      "        sizes.append(im.size)\nsizes = np.array(sizes)\n"
                      "plt.hist(sizes[:, 0], bins=" + str(r.choice([20, 30, 50])) + ")\nplt.show()\nsizes.mean(axis=0)",
                      [self.image(), self.result(f"array([{r.randint(300, 900)}.1, {r.randint(200, 700)}.3])")])
        elif k == 9:
            self.code("from sklearn.utils.class_weight import compute_class_weight\n"
                      "weights = compute_class_weight('balanced', classes=np.unique(train_df.Category), "
                      "y=train_df.Category)\nclass_weight = dict(enumerate(weights))\nclass_weight",
                      [self.result("{" + ", ".join(f"{i}: {r.uniform(0.5, 2):.3f}" for i in range(self.n_classes))
                                   + "}")])
        elif k == 10:
            self.code("from sklearn.metrics import confusion_matrix, classification_report\nimport seaborn as sns\n"
                      f"cm = confusion_matrix(y_true, y_pred)\nplt.figure(figsize=({r.randint(6, 12)}, 8))\n"
                      "sns.heatmap(cm, annot=True, fmt='d', cmap='Blues')\nplt.show()",
                      [self.image()])
        elif k == 11:
            rows = "\n".join(f"{i:>12}       {r.uniform(0.6, 1):.2f}      {r.uniform(0.6, 1):.2f}      "
                             f"{r.uniform(0.6, 1):.2f}       {r.randint(100, 400)}" for i in range(self.n_classes))
            self.code("print(classification_report(y_true, y_pred, digits=2))",
                      [self.stream("              precision    recall  f1-score   support\n\n" + rows + "\n")])
        elif k == 12:
            self.code(f"%%time\nimgs = [np.array(PIL.Image.open(p).resize(({self.img}, {self.img}))) "
                      f"for p in train_df.Id[:{r.choice([64, 128, 256])}]]\nlen(imgs)",
                      [self.stream(f"CPU times: user {r.uniform(0.5, 3):.2f} s, sys: 120 ms, total: 2.1 s\n"
                                   f"Wall time: {r.uniform(1, 5):.2f} s\n"), self.result("128")])
        elif k == 13:
            fn = r.choice(["lr_schedule", "scheduler_fn", "step_decay", "cosine_lr"])
            self.code(f"def {fn}(epoch, lr):\n    if epoch < {r.randint(2, 5)}:\n        return lr\n"
                      f"    return lr * {r.choice(['0.5', '0.7', '0.9', 'math.exp(-0.1)'])}\n\n"
                      f"plt.plot([{fn}(e, 1e-3) for e in range(EPOCHS)])\nplt.show()", [self.image()])
        elif k == 14:
            self.code(f"train_df['path'] = train_df.Id.apply(lambda x: os.path.join('{self.data_dir}', x))\n"
                      "train_df['exists'] = train_df.path.apply(os.path.exists)\ntrain_df.exists.value_counts()",
                      [self.result(f"True    {r.randint(10000, 16000)}\nName: exists, dtype: int64")])
        else:
            self.code("train_df.describe()", [self.result("          Category\ncount  15561.000\nmean       4.51")])

    def big_cell(self) -> None:
        """A 300+ line utility cell (some students paste whole modules into one cell)."""
        r = self.rng
        parts = ["# utils: всё в одной ячейке", "import math", "import itertools", ""]
        i = 0
        while len(parts) < r.randint(310, 520):
            i += 1
            fn = r.choice(["compute", "make", "get", "build", "apply", "norm", "crop", "resize", "score"])
            parts += [
                f"def {fn}_{i}(x, y=None, scale={r.uniform(0.1, 3):.3f}, k={r.randint(1, 9)}):",
                f'    """Helper #{i}: {r.choice(["нормализация", "обрезка", "метрика", "augment"])}."""',
                "    if y is None:",
                "        y = np.zeros_like(x)",
                "    out = []",
                f"    for j in range(k * {r.randint(1, 5)}):",
                "        v = x * scale + j",
                f"        if v.mean() > {r.uniform(0, 1):.2f}:",
                "            out.append(np.clip(v - y, 0, 255))",
                "        else:",
                f"            out.append(np.sqrt(np.abs(v)) * {r.randint(1, 9)})",
                "    res = np.stack(out).mean(axis=0)",
                "    return res if res.ndim else float(res)",
                "",
                "",
            ]
        parts.append("print('utils loaded')")
        self.code("\n".join(parts), [self.stream("utils loaded\n")])

    # ---- Keras -------------------------------------------------------------------------
    def keras_imports(self) -> str:
        if self.style == "tfkeras":
            return ("import tensorflow as tf\n"
                    "from tensorflow.keras import layers, Model, optimizers\n"
                    "from tensorflow.keras.models import Sequential\n"
                    "from tensorflow.keras.callbacks import ModelCheckpoint, EarlyStopping, ReduceLROnPlateau\n"
                    "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
                    "import tensorflow.keras.applications as apps")
        if self.style == "keras2":
            return ("import keras\n"
                    "from keras import layers, optimizers\n"
                    "from keras.models import Model, Sequential\n"
                    "from keras.callbacks import ModelCheckpoint, EarlyStopping, ReduceLROnPlateau\n"
                    "from keras.preprocessing.image import ImageDataGenerator\n"
                    "import keras.applications as apps")
        return ("import keras\n"
                "from keras import layers, ops\n"
                "from keras.callbacks import ModelCheckpoint, EarlyStopping, ReduceLROnPlateau\n"
                "import tensorflow as tf\n"
                "import keras.applications as apps")

    def common_head(self) -> None:
        r = self.rng
        title = r.choice(TITLES_RU if self.lang == "ru" else TITLES_EN)
        self.md(f"# {title}\n\n" + ("Студент: " if self.lang == "ru" else "Author: ") +
                r.choice(["Иван П.", "Anna K.", "Дмитрий С.", "Maria L."]))
        if r.random() < 0.5:
            pkg = r.choice(["efficientnet", "albumentations", "timm", "tensorflow-addons", "imgaug"])
            self.code(f"!pip install -q {pkg}", [self.stream(f"Successfully installed {pkg}\n")])
        if r.random() < 0.4:
            self.code("!nvidia-smi", [self.stream("Tesla P100-PCIE-16GB, 16280 MiB\n")])

    def keras_notebook(self) -> None:
        r = self.rng
        p = self.p
        self.common_head()
        magic = "%matplotlib inline\n" if r.random() < 0.7 else ""
        self.code(magic + "import os\nimport numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
                  "import PIL\n" + self.keras_imports(),
                  [self.stream("2.4.1\n")] if r.random() < 0.3 else [])
        if r.random() < 0.3:
            self.code("%load_ext autoreload\n%autoreload 2")
        if "rescale_efficientnet" in p:
            bb = "EfficientNetB0"
            module = "efficientnet"
        else:
            bb = r.choice(list(BACKBONES))
            module = BACKBONES[bb][0]
        self.code(f"IMG_SIZE = {self.img}\nBATCH_SIZE = {self.batch}\nEPOCHS = {self.epochs}\nLR = {self.lr}\n"
                  f"VAL_SPLIT = {self.val_split}\nDATA_PATH = '{self.data_dir}'\n"
                  f"TRAIN_PATH = DATA_PATH + 'train/'\nTEST_PATH = DATA_PATH + 'test_upload/'")
        self.anchor = len(self.cells)
        self.eda_cells()
        self.say("## Подготовка данных", "## Data preparation")
        if self.style == "keras3":
            self.keras3_data(bb, module)
        else:
            self.keras_generators(bb, module)
        for _ in range(r.randint(0, 3)):
            self.filler()
        self.say("## Модель", "## Model")
        self.keras_model(bb, module)
        self.keras_train()
        for _ in range(r.randint(0, 3)):
            self.filler()
        self.keras_predict()

    def keras_generators(self, bb: str, module: str) -> None:
        r, p = self.rng, self.p
        if "rescale_efficientnet" in p:
            prep = "rescale=1./255"
        elif bb.startswith("EfficientNet"):
            prep = None
        elif r.random() < 0.5:
            prep = f"preprocessing_function=apps.{module}.preprocess_input"
        else:
            prep = "rescale=1./255"
        head = f"{prep},\n    " if prep else ""
        aug = (f"rotation_range={r.choice([5, 10, 15, 20])},\n    width_shift_range=0.1,\n"
               f"    height_shift_range=0.1,\n    zoom_range={r.choice(['0.1', '0.2'])},\n"
               "    horizontal_flip=True,\n")
        src = f"{self.dg} = ImageDataGenerator(\n    {head}{aug}    validation_split=VAL_SPLIT)\n"
        separate_val = "augmented_validation" not in p
        if separate_val:
            src += f"val_datagen = ImageDataGenerator({prep + ', ' if prep else ''}validation_split=VAL_SPLIT)\n"
        self.code(src)
        val_src = "val_datagen" if separate_val else self.dg
        nt, nv = r.randint(8000, 15000), r.randint(1000, 3000)
        self.code(
            f"{self.tr} = {self.dg}.flow_from_directory(\n"
            "    TRAIN_PATH, target_size=(IMG_SIZE, IMG_SIZE), batch_size=BATCH_SIZE,\n"
            "    class_mode='categorical', subset='training', shuffle=True, seed=42)\n"
            f"{self.va} = {val_src}.flow_from_directory(\n"
            "    TRAIN_PATH, target_size=(IMG_SIZE, IMG_SIZE), batch_size=BATCH_SIZE,\n"
            "    class_mode='categorical', subset='validation', shuffle=False, seed=42)",
            [self.stream(f"Found {nt} images belonging to {self.n_classes} classes.\n"
                         f"Found {nv} images belonging to {self.n_classes} classes.\n")])
        self.prep = prep

    def keras3_data(self, bb: str, module: str) -> None:
        r, p = self.rng, self.p
        self.code(
            f"{self.tr} = keras.utils.image_dataset_from_directory(\n"
            "    TRAIN_PATH, validation_split=VAL_SPLIT, subset='training', seed=42,\n"
            "    image_size=(IMG_SIZE, IMG_SIZE), batch_size=BATCH_SIZE, label_mode='categorical')\n"
            f"{self.va} = keras.utils.image_dataset_from_directory(\n"
            "    TRAIN_PATH, validation_split=VAL_SPLIT, subset='validation', seed=42,\n"
            "    image_size=(IMG_SIZE, IMG_SIZE), batch_size=BATCH_SIZE, label_mode='categorical')",
            [self.stream(f"Found {r.randint(10000, 16000)} files belonging to {self.n_classes} classes.\n"
                         "Using 12000 files for training.\n")])
        self.code("augment = keras.Sequential([\n    layers.RandomFlip('horizontal'),\n"
                  f"    layers.RandomRotation({r.choice(['0.05', '0.1'])}),\n    layers.RandomZoom(0.1),\n])")
        val_aug = "augment(x, training=True)" if "augmented_validation" in p else "x"
        self.code(f"{self.tr} = {self.tr}.map(lambda x, y: (augment(x, training=True), y)).prefetch(tf.data.AUTOTUNE)\n"
                  f"{self.va} = {self.va}.map(lambda x, y: ({val_aug}, y)).prefetch(tf.data.AUTOTUNE)")
        self.prep = "rescale=1./255" if "rescale_efficientnet" in p else None

    def keras_model(self, bb: str, module: str) -> None:
        r, p = self.rng, self.p
        shape = "(IMG_SIZE, IMG_SIZE, 3)"
        src = f"{self.base} = apps.{bb}(weights='imagenet', include_top=False, input_shape={shape})\n"
        src += f"{self.base}.trainable = {r.choice(['False', 'True'])}\n\n"
        if self.style == "keras3":
            src += f"inputs = keras.Input(shape={shape})\n"
            if "rescale_efficientnet" in p:
                src += "x = layers.Rescaling(1./255)(inputs)\n"
            else:
                src += "x = inputs\n"
            src += f"x = {self.base}(x)\nx = layers.GlobalAveragePooling2D()(x)\n"
            src += f"x = layers.Dropout({r.choice(['0.2', '0.3', '0.5'])})(x)\n"
            src += f"outputs = layers.Dense({self.n_classes}, activation='softmax')(x)\n"
            src += f"{self.m} = keras.Model(inputs, outputs)"
        elif r.random() < 0.5:
            src += f"{self.m} = Sequential([\n    {self.base},\n    layers.GlobalAveragePooling2D(),\n"
            src += f"    layers.Dense({r.choice([128, 256, 512])}, activation='relu'),\n"
            src += "    layers.BatchNormalization(),\n    layers.Dropout(0.25),\n"
            src += f"    layers.Dense({self.n_classes}, activation='softmax'),\n])"
        else:
            src += f"x = layers.GlobalAveragePooling2D()({self.base}.output)\n"
            src += f"x = layers.Dense({r.choice([128, 256, 512])}, activation='relu')(x)\n"
            src += f"out = layers.Dense({self.n_classes}, activation='softmax')(x)\n"
            src += f"{self.m} = Model(inputs={self.base}.input, outputs=out)"
        self.code(src)
        if r.random() < 0.5:
            self.code(f"{self.m}.summary()", [self.stream(
                'Model: "model"\n' + "_" * 65 + "\n" +
                "\n".join(f" layer_{i} (Conv2D)   (None, {self.img // 2}, {self.img // 2}, 32)   {r.randint(0, 9999)}"
                          for i in range(r.randint(20, 120))) +
                f"\nTotal params: {r.randint(3, 25)},{r.randint(100, 999)},{r.randint(100, 999)}\n")])
        opt_mod = "keras.optimizers" if self.style != "tfkeras" else "optimizers"
        lr_kw = "lr" if "adam_lr" in p else "learning_rate"
        self.code(f"{self.m}.compile(optimizer={opt_mod}.Adam({lr_kw}=LR),\n"
                  "              loss='categorical_crossentropy', metrics=['accuracy'])",
                  [self.stream("UserWarning: The `lr` argument is deprecated, use `learning_rate` instead.\n",
                               "stderr")] if lr_kw == "lr" else [])
        ext = ".keras" if self.style == "keras3" else ".h5"
        best = "" if "checkpoint_no_best" in p else ", save_best_only=True"
        cb = [f"checkpoint = ModelCheckpoint('{self.ckpt}{ext}', monitor='val_accuracy'{best}, mode='max', verbose=1)"]
        if r.random() < 0.7:
            cb.append(f"earlystop = EarlyStopping(monitor='val_loss', patience={r.randint(2, 6)}, "
                      "restore_best_weights=True)")
        if r.random() < 0.5:
            cb.append(f"reduce_lr = ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience={r.randint(1, 3)})")
        names = [c.split(" =")[0] for c in cb]
        cb.append(f"callbacks_list = [{', '.join(names)}]")
        self.code("\n".join(cb))

    def keras_train(self) -> None:
        r, p = self.rng, self.p
        fit = "fit_generator" if "fit_generator" in p else "fit"
        timing = "%%time\n" if r.random() < 0.4 else ""
        steps = ""
        if fit == "fit_generator" or r.random() < 0.3:
            steps = (f",\n    steps_per_epoch=len({self.tr}),\n    validation_steps=len({self.va})")
        self.code(f"{timing}{self.hist} = {self.m}.{fit}(\n    {self.tr},\n    validation_data={self.va},\n"
                  f"    epochs=EPOCHS{steps},\n    callbacks=callbacks_list)",
                  [self.stream(self.epoch_log(self.epochs, True))])
        self.code(f"plt.plot({self.hist}.history['accuracy'], label='train')\n"
                  f"plt.plot({self.hist}.history['val_accuracy'], label='val')\nplt.legend()\nplt.show()",
                  [self.image()])
        if r.random() < 0.5:
            self.say("### Fine-tuning\nРазморозим верхние слои.", "### Fine-tuning\nUnfreeze the top layers.")
            n = r.randint(2, 6)
            self.code(f"{self.base}.trainable = True\nfor layer in {self.base}.layers[:-{r.randint(10, 60)}]:\n"
                      f"    layer.trainable = False\n{self.m}.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-5),"
                      " loss='categorical_crossentropy', metrics=['accuracy'])\n"
                      f"{self.hist}2 = {self.m}.{fit}({self.tr}, validation_data={self.va}, epochs={n},"
                      " callbacks=callbacks_list)",
                      [self.stream(self.epoch_log(n, True))])

    def keras_predict(self) -> None:
        r, p = self.rng, self.p
        self.code(f"{self.m}.load_weights('{self.ckpt}{'.keras' if self.style == 'keras3' else '.h5'}')")
        tta = "tta_no_augmentation" in p or r.random() < 0.4
        if self.style == "keras3":
            self.code(f"{self.te} = keras.utils.image_dataset_from_directory(\n    TEST_PATH, labels=None, "
                      "shuffle=False,\n    image_size=(IMG_SIZE, IMG_SIZE), batch_size=BATCH_SIZE)",
                      [self.stream(f"Found {r.randint(5000, 7000)} files.\n")])
            if tta:
                x = "x" if "tta_no_augmentation" in p else "augment(x, training=True)"
                self.code(f"preds = []\nfor i in range({r.randint(5, 12)}):\n"
                          f"    preds.append({self.m}.predict({self.te}.map(lambda x: {x}), verbose=1))\n"
                          "predictions = np.mean(preds, axis=0)",
                          [self.stream("209/209 [==============================] - 31s 148ms/step\n" * 5)])
            else:
                self.code(f"predictions = {self.m}.predict({self.te}, verbose=1)",
                          [self.stream("209/209 [==============================] - 31s 148ms/step\n")])
        else:
            prep = f"{self.prep}" if self.prep else ""
            pred = "predict_generator" if "fit_generator" in p else "predict"
            if tta and "tta_no_augmentation" not in p:
                gen = f"test_datagen = ImageDataGenerator({prep + ', ' if prep else ''}horizontal_flip=True, zoom_range=0.1)"
            else:
                gen = f"test_datagen = ImageDataGenerator({prep})"
            self.code("sample_submission = pd.read_csv(DATA_PATH + 'sample-submission.csv')\n" + gen + "\n"
                      f"{self.te} = test_datagen.flow_from_dataframe(\n"
                      "    dataframe=sample_submission, directory=TEST_PATH, x_col='Id', y_col=None,\n"
                      "    class_mode=None, target_size=(IMG_SIZE, IMG_SIZE), batch_size=BATCH_SIZE, shuffle=False)",
                      [self.stream(f"Found {r.randint(5000, 7000)} validated image filenames.\n")])
            if tta:
                k = r.randint(5, 12)
                self.code(f"tta_steps = {k}\npredictions = []\nfor i in range(tta_steps):\n"
                          f"    {self.te}.reset()\n"
                          f"    preds = {self.m}.{pred}({self.te}, steps=len({self.te}), verbose=1)\n"
                          "    predictions.append(preds)\npredictions = np.mean(predictions, axis=0)",
                          [self.stream("418/418 [==============================] - 62s 145ms/step\n" * k)])
            else:
                self.code(f"{self.te}.reset()\npredictions = {self.m}.{pred}({self.te}, steps=len({self.te}), verbose=1)",
                          [self.stream("418/418 [==============================] - 62s 145ms/step\n")])
        self.code("predictions = np.argmax(predictions, axis=-1)\n"
                  f"label_map = {{v: k for k, v in {self.tr}.class_indices.items()}}\n"
                  "sample_submission = pd.read_csv(DATA_PATH + 'sample-submission.csv')\n"
                  "sample_submission['Category'] = [label_map[p] for p in predictions]\n"
                  "sample_submission.to_csv('submission.csv', index=False)\nsample_submission.head()",
                  [self.result("           Id Category\n0  305108.jpg        0\n1  295075.jpg        4")])

    # ---- PyTorch -----------------------------------------------------------------------
    def torch_notebook(self) -> None:
        r, p = self.rng, self.p
        self.common_head()
        magic = "%matplotlib inline\n" if r.random() < 0.6 else ""
        self.code(magic + "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\nimport PIL\n"
                  "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader, random_split\n"
                  "from torchvision import datasets, transforms, models\nfrom tqdm.auto import tqdm\n\n"
                  "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\nprint(device)",
                  [self.stream("cuda\n")])
        self.code(f"IMG_SIZE = {self.img}\nBATCH_SIZE = {self.batch}\nEPOCHS = {self.epochs}\nLR = {self.lr}\n"
                  f"DATA_PATH = '{self.data_dir}'")
        self.anchor = len(self.cells)
        self.eda_cells()
        norm = "transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])"
        self.code("train_transform = transforms.Compose([\n"
                  f"    transforms.RandomResizedCrop(IMG_SIZE, scale=({r.choice(['0.6', '0.7', '0.8'])}, 1.0)),\n"
                  "    transforms.RandomHorizontalFlip(),\n"
                  f"    transforms.ColorJitter({r.choice(['0.1', '0.2', '0.3'])}, 0.2, 0.2),\n"
                  f"    transforms.ToTensor(),\n    {norm},\n])\n"
                  "val_transform = transforms.Compose([\n    transforms.Resize((IMG_SIZE, IMG_SIZE)),\n"
                  f"    transforms.ToTensor(),\n    {norm},\n])")
        if "torch_val_train_transform" in p:
            self.code("full_dataset = datasets.ImageFolder(DATA_PATH + 'train', transform=train_transform)\n"
                      "n_val = int(0.2 * len(full_dataset))\n"
                      "train_ds, val_ds = random_split(full_dataset, [len(full_dataset) - n_val, n_val])\n"
                      "print(len(train_ds), len(val_ds))", [self.stream(f"{r.randint(9000, 13000)} 3112\n")])
        else:
            self.code("train_ds = datasets.ImageFolder(DATA_PATH + 'train', transform=train_transform)\n"
                      "val_ds = datasets.ImageFolder(DATA_PATH + 'val', transform=val_transform)\n"
                      "print(len(train_ds), len(val_ds))", [self.stream(f"{r.randint(9000, 13000)} 3112\n")])
        self.code("train_loader = DataLoader(train_ds, batch_size=BATCH_SIZE, shuffle=True, num_workers=4)\n"
                  "val_loader = DataLoader(val_ds, batch_size=BATCH_SIZE, shuffle=False, num_workers=4)")
        for _ in range(r.randint(0, 3)):
            self.filler()
        arch, head = r.choice([("resnet18", "fc"), ("resnet50", "fc"), ("efficientnet_b0", "classifier[1]"),
                               ("mobilenet_v2", "classifier[1]")])
        self.code(f"{self.m} = models.{arch}(weights='IMAGENET1K_V1')\n"
                  f"{self.m}.{head} = nn.Linear({self.m}.{head}.in_features, {self.n_classes})\n"
                  f"{self.m} = {self.m}.to(device)\n\ncriterion = nn.CrossEntropyLoss()\n"
                  f"optimizer = torch.optim.{r.choice(['Adam', 'AdamW'])}({self.m}.parameters(), lr=LR)\n"
                  f"scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size={r.randint(3, 7)}, gamma=0.1)")
        eval_line = "" if "torch_missing_eval" in p else "    model.eval()\n"
        self.code("def train_epoch(model, loader):\n    model.train()\n    total_loss, correct, n = 0.0, 0, 0\n"
                  "    for x, y in tqdm(loader):\n        x, y = x.to(device), y.to(device)\n"
                  "        optimizer.zero_grad()\n        out = model(x)\n        loss = criterion(out, y)\n"
                  "        loss.backward()\n        optimizer.step()\n"
                  "        total_loss += loss.item() * x.size(0)\n"
                  "        correct += (out.argmax(1) == y).sum().item()\n        n += x.size(0)\n"
                  "    return total_loss / n, correct / n\n\n\n"
                  "def validate(model, loader):\n" + eval_line +
                  "    total_loss, correct, n = 0.0, 0, 0\n    with torch.no_grad():\n"
                  "        for x, y in tqdm(loader):\n            x, y = x.to(device), y.to(device)\n"
                  "            out = model(x)\n            total_loss += criterion(out, y).item() * x.size(0)\n"
                  "            correct += (out.argmax(1) == y).sum().item()\n            n += x.size(0)\n"
                  "    return total_loss / n, correct / n")
        timing = "%%time\n" if r.random() < 0.4 else ""
        log = "".join(f"Epoch {e}/{self.epochs} | train loss {r.uniform(0.2, 1.5):.4f} acc {r.uniform(0.5, 0.95):.4f}"
                      f" | val loss {r.uniform(0.2, 1.5):.4f} acc {r.uniform(0.5, 0.95):.4f}\n"
                      for e in range(1, self.epochs + 1))
        self.code(f"{timing}best_acc = 0.0\nfor epoch in range(EPOCHS):\n"
                  f"    tr_loss, tr_acc = train_epoch({self.m}, train_loader)\n"
                  f"    val_loss, val_acc = validate({self.m}, val_loader)\n    scheduler.step()\n"
                  "    print(f'Epoch {epoch + 1}/{EPOCHS} | train loss {tr_loss:.4f} acc {tr_acc:.4f} | "
                  "val loss {val_loss:.4f} acc {val_acc:.4f}')\n"
                  "    if val_acc > best_acc:\n        best_acc = val_acc\n"
                  f"        torch.save({self.m}.state_dict(), '{self.ckpt}.pth')",
                  [self.stream(self.tqdm_log(self.epochs), "stderr"), self.stream(log)])
        for _ in range(r.randint(0, 3)):
            self.filler()
        self.say("## Предсказание с TTA", "## Prediction with TTA")
        self.code(f"{self.m}.load_state_dict(torch.load('{self.ckpt}.pth'))\n{self.m}.eval()\n"
                  "test_ds = datasets.ImageFolder(DATA_PATH + 'test', transform=val_transform)\n"
                  "test_loader = DataLoader(test_ds, batch_size=BATCH_SIZE, shuffle=False)\n"
                  "preds = []\nwith torch.no_grad():\n    for x, _ in tqdm(test_loader):\n"
                  "        x = x.to(device)\n"
                  f"        logits = {self.m}(x) + {self.m}(torch.flip(x, dims=[3]))\n"
                  "        preds.append(logits.argmax(1).cpu().numpy())\npreds = np.concatenate(preds)",
                  [self.stream(self.tqdm_log(1), "stderr")])
        self.code("sub = pd.DataFrame({'Id': [p.split('/')[-1] for p, _ in test_ds.samples], 'Category': preds})\n"
                  "sub.to_csv('submission.csv', index=False)\nsub.head()",
                  [self.result("      Id  Category\n0  1.jpg         3\n1  2.jpg         7")])

    # ---- assembly ----------------------------------------------------------------------
    def build(self, target_cells: int, big: bool) -> list[tuple[str, str, list]]:
        if self.style == "torch":
            self.torch_notebook()
        else:
            self.keras_notebook()
        tail = self.cells[-4:]
        body = self.cells[:-4]
        self.cells = []
        if big:
            self.big_cell()
        extra = self.cells
        self.cells = []
        while len(body) + len(extra) + len(self.cells) + len(tail) < target_cells:
            self.filler()
        fill = self.cells
        self.cells = []
        # sprinkle filler cells between the body cells (after the title/imports)
        out = body[:self.anchor]
        rest = body[self.anchor:] + extra
        for cell in fill:
            pos = self.rng.randrange(len(rest) + 1)
            rest.insert(pos, cell)
        self.say("## Итоги", "## Summary")
        return out + rest + tail + self.cells


def make_notebook(seed: int, index: int):
    """One deterministic notebook and its manifest entry."""
    import nbformat
    from nbformat import v4

    rng = random.Random(f"{seed}:{index}")
    style = rng.choices(STYLES, STYLE_WEIGHTS)[0]
    choices = TORCH_PITFALLS if style == "torch" else KERAS3_PITFALLS if style == "keras3" else KERAS_PITFALLS
    pitfalls: set[str] = set()
    if rng.random() >= 0.35:  # ~35% clean
        pitfalls = {p for p in choices if rng.random() < 0.35} or {rng.choice(choices)}
    lang = "ru" if rng.random() < 0.7 else "en"
    big = rng.random() < 0.15
    target = rng.randint(20, 80)
    gen = Gen(rng, style, pitfalls, lang)
    cells = gen.build(target, big)

    nb = v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python", "version": rng.choice(["3.7.6", "3.8.10", "3.10.12"])}}
    count = 0
    unexecuted = rng.random() < 0.1
    # Cells are built as plain dicts (same shape as v4.new_code_cell / new_output) and the notebook
    # is validated once: per-cell validation in nbformat's constructors dominates generation time.
    for kind, src, outputs in cells:
        cid = f"{rng.getrandbits(32):08x}"
        if kind == "markdown":
            nb.cells.append(nbformat.from_dict({"id": cid, "cell_type": "markdown", "metadata": {}, "source": src}))
            continue
        cell = {"id": cid, "cell_type": "code", "metadata": {}, "execution_count": None, "source": src, "outputs": []}
        if not unexecuted:
            count += 1
            cell["execution_count"] = count
            for o in outputs:
                o = dict(o)
                if o["output_type"] == "execute_result":
                    o["execution_count"] = count
                cell["outputs"].append(o)
        nb.cells.append(nbformat.from_dict(cell))
    nbformat.validate(nb)
    name = f"nb{index:04d}_{style}_{'clean' if not pitfalls else 'pitfalls'}.ipynb"
    code_lines = sum(s.count("\n") + 1 for k, s, _ in cells if k == "code")
    entry = {"file": name, "style": style, "lang": lang, "pitfalls": sorted(pitfalls), "cells": len(nb.cells),
             "code_lines": code_lines, "max_cell_lines": max(s.count("\n") + 1 for _, s, _ in cells)}
    return nbformat.writes(nb), entry


def generate(n: int, seed: int, out: Path) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for i in range(n):
        text, entry = make_notebook(seed, i)
        (out / entry["file"]).write_text(text, encoding="utf-8")
        entry["bytes"] = len(text.encode("utf-8"))
        manifest.append(entry)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


# --------------------------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------------------------

def nbreview_cmd() -> list[str]:
    exe = shutil.which("nbreview", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return [exe] if exe else [sys.executable, "-m", "nbreview"]


def _compile_package() -> None:
    proc = subprocess.run([sys.executable, "-c", "import nbreview, os; print(os.path.dirname(nbreview.__file__))"],
                          capture_output=True, text=True, check=False)
    if proc.returncode == 0 and proc.stdout.strip():
        subprocess.run([sys.executable, "-m", "compileall", "-q", proc.stdout.strip()], capture_output=True,
                       check=False)


def tool(name: str) -> str | None:
    return shutil.which(name, path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))


RUNNER = r"""
import json, os, subprocess, sys, time
out, cwd, cmd = sys.argv[1], sys.argv[2] or None, sys.argv[3:]
with open(out or os.devnull, "wb") as target:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=target, stderr=subprocess.PIPE, cwd=cwd)
    stderr = proc.stderr.read()
    peak = cpu = None
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss / (1024 if sys.platform != "darwin" else 1024 * 1024)
        cpu = usage.ru_utime + usage.ru_stime  # the process and the workers it waited for
    else:
        proc.wait()
    wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "rc": proc.returncode, "peak_mib": peak, "cpu_s": cpu,
                  "stderr": stderr.decode("utf-8", "replace")[-500:]}))
"""


def measured(cmd: list[str], out: Path | None = None, cwd: Path | None = None) -> dict:
    """Run a command once as a fresh process: wall time, exit status, and the peak resident
    memory of its largest process (itself or a worker it waited for; wait4).

    A small runner process starts it: Linux counts in a process's peak the memory of the
    process it was forked from, and this script holds hundreds of MB by then."""
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(out or ""), str(cwd or "")] + cmd,
                          capture_output=True, check=False)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"wall_s": float("nan"), "rc": None, "peak_mib": None,
                "stderr": proc.stderr.decode("utf-8", "replace")[-500:]}


def repeat(cmd: list[str], runs: int, out: Path | None = None, warmup: bool = True) -> dict:
    if warmup:
        measured(cmd, out)
    results = [measured(cmd, out) for _ in range(runs)]
    walls = [r["wall_s"] for r in results]
    peaks = [r["peak_mib"] for r in results if r["peak_mib"] is not None]
    cpus = [r["cpu_s"] for r in results if r.get("cpu_s") is not None]
    return {"median_s": statistics.median(walls), "min_s": min(walls), "runs": runs,
            "cpu_s": statistics.median(cpus) if cpus else None,
            "times_s": [round(t, 4) for t in walls], "rc": results[-1]["rc"],
            "peak_mib": max(peaks) if peaks else None, "stderr": results[-1]["stderr"]}


def imports(one: Path, fmt: str) -> dict:
    """`python -X importtime -m nbreview check one --format FMT`: total, heaviest packages, and
    whether the libraries a check should not need were loaded."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "nbreview", "check", str(one), "--format", fmt],
                          capture_output=True, check=False)
    total, per_pkg, loaded = 0, {}, set()
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        try:
            _, cum, name = line[len("import time:"):].split("|")
            cum_us = int(cum)
        except ValueError:
            continue
        loaded.add(name.strip().split(".")[0])
        if name.startswith("  "):  # nested import (one space is the separator)
            continue
        name = name.strip()
        total += cum_us
        top = name.split(".")[0]
        per_pkg[top] = per_pkg.get(top, 0) + cum_us
    heavy = ("libcst", "jinja2", "jsonschema", "nbformat", "typer", "pydantic", "pygments", "rich")
    top = sorted(per_pkg.items(), key=lambda kv: -kv[1])[:5]
    return {"total_s": total / 1e6, "top": [(k, v / 1e6) for k, v in top],
            "loaded": [h for h in heavy if h in loaded]}


FLOOR = r"""
import ast, json, sys, time, warnings
warnings.simplefilter("ignore")
paths = sys.argv[1:]
t0, c0 = time.perf_counter(), time.process_time()
for p in paths:
    with open(p, "rb") as f:
        nb = json.loads(f.read())
    for c in nb.get("cells", []):
        if c.get("cell_type") == "code":
            src = c.get("source", "")
            try:
                ast.parse("".join(src) if isinstance(src, list) else src)
            except SyntaxError:
                pass
print(json.dumps({"per_nb_s": (time.perf_counter() - t0) / len(paths),
                  "cpu_per_nb_s": (time.process_time() - c0) / len(paths)}))
"""


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1000:.0f} ms" if x < 10 else f"{x:.1f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="synthetic notebooks generated (default 1,000)")
    ap.add_argument("--scale", type=int, default=10, help="the large run is N x SCALE notebooks, hard links "
                                                           "of the N (default 10: 10,000; 0: skip it)")
    ap.add_argument("--small", type=int, default=50, help="the small batch, also for nbqa pylint (default 50)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--out", type=Path, help="write the notebooks here and keep them (default: a temp folder)")
    ap.add_argument("--runs", "-r", type=int, default=7, help="cold single-notebook runs (default 7)")
    ap.add_argument("--batch-runs", type=int, default=3, help="runs of the 50 and N batches (default 3)")
    ap.add_argument("--no-others", action="store_true", help="skip nbqa pylint and ruff")
    ap.add_argument("--json", type=Path, help="write the numbers to this JSON file")
    args = ap.parse_args(argv)
    if args.n < 1 or args.runs < 1 or args.batch_runs < 1 or args.small < 1:
        ap.error("--n, --small, --runs and --batch-runs must be >= 1")

    tmp = Path(tempfile.mkdtemp(prefix="nbreview-bench-"))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _link_tree(files: list[Path], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        _link(f, dest / f.name)


def _link(src: Path, target: Path) -> None:
    """A hard link (the disk holds the notebook once), or a copy where links are refused."""
    try:
        os.link(src, target)
    except OSError:
        shutil.copyfile(src, target)


def _course_corpus(n: int, dest: Path) -> tuple[int, int] | None:
    """Hard links to the repository's own notebooks (fixtures/, and ../shared/devset when present),
    repeated under distinct names up to `n`: (distinct notebooks, n), or None without any."""
    root = Path(__file__).resolve().parent.parent
    found = sorted(p for p in (root / "fixtures").rglob("*.ipynb"))
    devset = root.parent / "shared" / "devset"
    if devset.is_dir():
        found += sorted(devset.glob("*.ipynb"))
    if not found:
        return None
    dest.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        src = found[k % len(found)]
        _link(src, dest / f"c{k:05d}_{src.name}")
    return len(found), n


def _floor(files: list[Path]) -> dict:
    """The parse floor of these notebooks, measured in a fresh process (see FLOOR)."""
    proc = subprocess.run([sys.executable, "-c", FLOOR] + [str(f) for f in files], capture_output=True, check=False)
    return json.loads(proc.stdout)


def _count(out: Path) -> tuple[int | None, dict[str, set[str]]]:
    try:
        doc = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    return len(doc["notebooks"]), {Path(nb["path"]).name: {f["rule"] for f in nb["findings"]}
                                   for nb in doc["notebooks"]}


def _run(args: argparse.Namespace, tmp: Path) -> int:
    nbr = nbreview_cmd()
    folder = args.out or (tmp / "notebooks")
    if folder.exists():
        for old in folder.glob("nb[0-9][0-9][0-9][0-9]_*.ipynb"):
            old.unlink()
    t0 = time.perf_counter()
    manifest = generate(args.n, args.seed, folder)
    t_gen = time.perf_counter() - t0
    files = [folder / e["file"] for e in manifest]
    sizes = sorted(manifest, key=lambda e: e["bytes"])
    typical = folder / sizes[len(sizes) // 2]["file"]
    total_mb = sum(e["bytes"] for e in manifest) / 1e6
    small = tmp / f"n{args.small}"
    _link_tree(files[:: max(1, args.n // args.small)][: args.small], small)
    big = tmp / f"n{args.n * args.scale}"
    for k in range(args.scale):
        _link_tree(files, big / f"copy{k:02d}")
    try:
        cpus = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    res: dict = {"env": {"python": platform.python_version(), "platform": platform.platform(), "cpus": cpus,
                         "nbreview_cmd": nbr},
                 "corpus": {"n": args.n, "seed": args.seed, "total_mb": round(total_mb, 1),
                            "mean_kb": round(total_mb * 1000 / args.n, 1), "generate_s": round(t_gen, 1),
                            "clean": sum(not e["pitfalls"] for e in manifest)}}
    out = print
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    res["env"]["load_before"] = load
    out(f"nbreview benchmark — Python {platform.python_version()}, {cpus} CPUs available, {platform.machine()}"
        + (f", load average {load:.1f} at the start (other work on the machine slows every number)"
           if load is not None else ""))
    out(f"corpus: {args.n} synthetic notebooks (seed {args.seed}), {total_mb:.0f} MB "
        f"({total_mb * 1000 / args.n:.0f} KB each on average), generated in {t_gen:.0f} s")
    out("")

    # 1. cold start, with the package's bytecode written as pip writes it on install (an editable
    # install under PYTHONDONTWRITEBYTECODE would otherwise compile every module on every run);
    # the warm-up run of `repeat` also fills the parsed-catalog cache, as any first run does
    _compile_package()
    cold = {}
    for fmt in ("text", "json"):
        r = repeat(nbr + ["check", str(typical), "--format", fmt], args.runs)
        r["imports"] = imports(typical, fmt)
        cold[fmt] = r
    py_pass = repeat([sys.executable, "-c", "pass"], args.runs)
    res["cold"] = {"file_kb": round(typical.stat().st_size / 1024), **cold, "python_c_pass": py_pass}

    # 2. throughput and memory
    through = {}
    runs = [(args.small, small, args.batch_runs), (args.n, folder, args.batch_runs)]
    if args.scale > 1:
        runs.append((args.n * args.scale, big, 1))
    found: dict[str, set[str]] = {}
    for n, where, k in runs:
        report = tmp / f"report{n}.json"
        r = repeat(nbr + ["check", str(where), "--format", "json"], k, out=report, warmup=n <= args.n)
        r["notebooks_reported"], by_file = _count(report)
        if n == args.n:
            found = by_file
        report.unlink(missing_ok=True)
        r["per_nb_ms"] = r["median_s"] * 1000 / n
        r["nb_per_s"] = n / r["median_s"]
        through[n] = r
    serial = measured(nbr + ["check", str(folder), "--format", "json", "--jobs", "1"], out=tmp / "serial.json")
    (tmp / "serial.json").unlink(missing_ok=True)
    serial["per_nb_ms"] = (serial["wall_s"] - cold["json"]["median_s"]) * 1000 / args.n
    if serial.get("cpu_s") is not None and cold["json"].get("cpu_s") is not None:
        serial["cpu_per_nb_ms"] = (serial["cpu_s"] - cold["json"]["cpu_s"]) * 1000 / args.n
    res["throughput"] = {str(k): v for k, v in through.items()}
    res["serial"] = serial

    # 3. the parse floor
    measured_floor = _floor(files)
    floor = measured_floor["per_nb_s"] * 1000
    res["floor"] = {"per_nb_ms": floor, "ratio_serial": serial["per_nb_ms"] / floor,
                    "ratio_parallel": through[args.n]["per_nb_ms"] / floor,
                    "cpu_per_nb_ms": measured_floor["cpu_per_nb_s"] * 1000}
    if "cpu_per_nb_ms" in serial:  # in CPU time: what a busy machine changes least
        res["floor"]["ratio_serial_cpu"] = serial["cpu_per_nb_ms"] / res["floor"]["cpu_per_nb_ms"]

    # 3b. the course's own notebooks (the labelled fixtures, and the development set when it is
    # beside the checkout), repeated up to N: mostly code, few saved outputs
    course = _course_corpus(args.n, tmp / "course")
    if course:
        r = repeat(nbr + ["check", str(tmp / "course"), "--format", "json"], args.batch_runs,
                   out=tmp / "course.json")
        r["notebooks_reported"], _ = _count(tmp / "course.json")
        (tmp / "course.json").unlink(missing_ok=True)
        r["distinct"], r["n"] = course
        cs = measured(nbr + ["check", str(tmp / "course"), "--format", "json", "--jobs", "1"], out=tmp / "cs.json")
        (tmp / "cs.json").unlink(missing_ok=True)
        r["serial_per_nb_ms"] = (cs["wall_s"] - cold["json"]["median_s"]) * 1000 / args.n
        r["floor_per_nb_ms"] = _floor(sorted((tmp / "course").iterdir()))["per_nb_s"] * 1000
        r["total_mb"] = round(sum(f.stat().st_size for f in (tmp / "course").iterdir()) / 1e6, 1)
        res["course"] = r

    # 4. other tools on the small batch
    others: dict = {}
    if not args.no_others:
        nbqa = tool("nbqa")
        if nbqa and tool("pylint"):
            r = measured([nbqa, "pylint", str(small)], cwd=tmp)
            r["ratio"] = r["wall_s"] / through[args.small]["median_s"]
            others["nbqa_pylint"] = r
        else:
            others["nbqa_pylint"] = "not installed (pip install -e .[bench])"
        ruff = tool("ruff")
        if ruff:
            r = repeat([ruff, "check", "--no-cache", "--isolated", "--exit-zero", str(small)], args.batch_runs)
            r["ratio"] = through[args.small]["median_s"] / r["median_s"]
            others["ruff"] = r
    res["others"] = others

    # sanity: the planted pitfalls are found, clean notebooks stay clean
    recall: dict = {}
    for e in manifest:
        for pit in e["pitfalls"]:
            slug = PITFALL_SLUGS[pit]
            d = recall.setdefault(pit, {"slug": slug, "planted": 0, "found": 0})
            d["planted"] += 1
            d["found"] += slug in found.get(e["file"], set())
    # what fires on the notebooks without a planted pitfall: rules the generator does not plant
    # (its code has such mistakes too), never the planted ones'
    on_clean = {slug for e in manifest if not e["pitfalls"] for slug in found.get(e["file"], ())}
    res["sanity"] = {"pitfalls": recall,
                     "clean_with_findings": sum(1 for e in manifest if not e["pitfalls"] and found.get(e["file"])),
                     "clean_rules": sorted(on_clean),
                     "planted_slugs_on_clean": sorted(on_clean & set(PITFALL_SLUGS.values()))}
    res["env"]["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    _print(res, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        print(f"\nnumbers written to {args.json}")
    return 0


def _print(res: dict, args: argparse.Namespace) -> None:
    rows: list[tuple[str, str, str]] = []
    c = res["cold"]
    for fmt in ("text", "json"):
        r = c[fmt]
        loaded = ", ".join(r["imports"]["loaded"]) or "none"
        rows.append((f"cold `check one.ipynb --format {fmt}` ({c['file_kb']} KB)",
                     f"median {fmt_s(r['median_s'])}, min {fmt_s(r['min_s'])}",
                     f"{r['runs']} runs; CPU {fmt_s(r.get('cpu_s'))}; imports {fmt_s(r['imports']['total_s'])}; "
                     f"heavy libraries loaded: {loaded}"))
    rows.append(("`python -c pass` (the interpreter alone)", f"median {fmt_s(c['python_c_pass']['median_s'])}", ""))
    for n, r in res["throughput"].items():
        ok = "" if r["rc"] in (0, 1) and r["notebooks_reported"] == int(n) else f" (rc {r['rc']}, " \
            f"{r['notebooks_reported']} reported!)"
        runs = f"median of {r['runs']}" if r["runs"] > 1 else "1 run"
        cpu = f"; CPU {fmt_s(r['cpu_s'])}" if r.get("cpu_s") is not None else ""
        rows.append((f"`check DIR --format json`, {int(n):,} notebooks",
                     f"{fmt_s(r['median_s'])} ({runs})",
                     f"{r['nb_per_s']:.0f} nb/s, {r['per_nb_ms']:.1f} ms/nb; peak memory {r['peak_mib']:.0f} MiB"
                     f"{cpu}{ok}"))
    s = res["serial"]
    rows.append((f"`check DIR --format json --jobs 1`, {args.n:,} notebooks", fmt_s(s["wall_s"]),
                 f"{s['per_nb_ms']:.1f} ms/nb (start-up taken off); peak memory {s['peak_mib']:.0f} MiB"
                 + (f"; CPU {fmt_s(s['cpu_s'])}" if s.get("cpu_s") is not None else "")))
    f = res["floor"]
    cpu_ratio = (f"; in CPU time {f['cpu_per_nb_ms']:.2f} ms/nb, nbreview --jobs 1 "
                 f"{s['cpu_per_nb_ms']:.1f} ms/nb = {f['ratio_serial_cpu']:.1f}x") if "ratio_serial_cpu" in f else ""
    rows.append(("parse floor (json.loads + ast.parse of every code cell)", f"{f['per_nb_ms']:.2f} ms/nb",
                 f"nbreview --jobs 1 is {f['ratio_serial']:.1f}x the floor; with every CPU "
                 f"{f['ratio_parallel']:.1f}x{cpu_ratio}"))
    c = res.get("course")
    if c:
        rows.append((f"`check DIR --format json`, {c['n']:,} course notebooks",
                     f"{fmt_s(c['median_s'])} (median of {c['runs']})" if c["runs"] > 1 else fmt_s(c["median_s"]),
                     f"the {c['distinct']} notebooks of fixtures/ and the development set, repeated ({c['total_mb']:.0f} MB); "
                     f"--jobs 1 {c['serial_per_nb_ms']:.1f} ms/nb = {c['serial_per_nb_ms'] / c['floor_per_nb_ms']:.1f}x "
                     f"their parse floor ({c['floor_per_nb_ms']:.2f} ms/nb); CPU {fmt_s(c.get('cpu_s'))}"
                     + ("" if c["notebooks_reported"] == c["n"] else f" ({c['notebooks_reported']} reported!)")))
    o = res["others"]
    if args.no_others:
        rows.append(("nbqa pylint / ruff", "skipped (--no-others)", ""))
    else:
        r = o.get("nbqa_pylint")
        if isinstance(r, str):
            rows.append(("`nbqa pylint DIR`", r, ""))
        else:
            cpu = ""
            if r.get("cpu_s") and res["throughput"][str(args.small)].get("cpu_s"):
                cpu = f" ({r['cpu_s'] / res['throughput'][str(args.small)]['cpu_s']:.0f}x in CPU time)"
            rows.append((f"`nbqa pylint DIR`, {args.small} notebooks", fmt_s(r["wall_s"]),
                         f"1 run; nbreview is {r['ratio']:.0f}x faster on the same notebooks{cpu}"))
        r = o.get("ruff")
        if isinstance(r, dict):
            rows.append((f"`ruff check DIR`, {args.small} notebooks", f"median {fmt_s(r['median_s'])}",
                         f"nbreview takes {r['ratio']:.1f}x ruff's time"))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'measurement':<{w0}}  {'time':<{w1}}  notes")
    print("-" * (w0 + w1 + 40))
    for a, b, cc in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {cc}")
    if res["env"].get("load_after") is not None:
        print(f"\nload average at the end: {res['env']['load_after']:.1f} ({res['env']['cpus']} CPUs)")
    print("\nsanity (findings of the --jobs default run on the planted pitfalls):")
    for pit, d in sorted(res["sanity"]["pitfalls"].items()):
        print(f"  {pit:<26} -> {d['slug']:<28} {d['found']}/{d['planted']} found")
    sane = res["sanity"]
    print(f"  notebooks without a planted pitfall: {sane['clean_with_findings']} have findings of other rules "
          f"({', '.join(sane['clean_rules']) or 'none'}); of the planted pitfalls' rules: "
          f"{', '.join(sane['planted_slugs_on_clean']) or 'none'}")


if __name__ == "__main__":
    sys.exit(main())

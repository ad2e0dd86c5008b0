"""The reference networks: Keras 3 layers and `keras.ops` only (backend-agnostic).

A reference model takes uint8 images (decoded once, moved to the device as bytes) and does
everything else on the device: cast, augmentation (active in training only), the notebook's
scaling, the backbone, a pooling + softmax head. Three models share one set of layers:
`train` (augments in training), `clean` (never augments) and `augmented` (always augments:
a validation or TTA pipeline that augments, as some notebooks write it).

Backbones: the notebook's keras.applications network, or — on a CPU, or when asked —
`nbreview-mini`, a small convolutional network with the same input stem as the notebook's
backbone (EfficientNet's Rescaling(1/255) + ImageNet Normalization inside the network), so
that what the stem receives, and what it was trained to receive, are as in the original.
When the notebook uses pretrained weights and ImageNet weights are not used, nbreview-mini is
pretrained once by nbreview on a synthetic pretext task at the input scale its stem expects
(cached on disk), so the runs fine-tune a pretrained network as the notebook does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
from keras import layers, ops

from .recipe import AugOp

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_VAR = [0.229 ** 2, 0.224 ** 2, 0.225 ** 2]
MIN_SIZE = {"Xception": 71, "InceptionV3": 75, "InceptionResNetV2": 75, "NASNetLarge": 32}
PRETEXT_VERSION = 5
PRETEXT_SIZE = 64
PRETEXT_BUDGET = (2400, 5, 32)  # images, epochs, batch: about half a minute on two CPU cores, once per machine
MINI = "nbreview-mini"


@keras.saving.register_keras_serializable("nbreview")
class ToFloat(layers.Layer):
    def call(self, x):
        return ops.cast(x, "float32")


@keras.saving.register_keras_serializable("nbreview")
class Preprocess(layers.Layer):
    """The scaling a notebook applies before the network: unit (/255), tf ([-1, 1]), caffe (BGR, ImageNet
    means subtracted), torch (ImageNet mean/std), none (raw 0..255)."""

    def __init__(self, mode: str = "none", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, x):
        m = self.mode
        if m == "unit":
            return x / 255.0
        if m == "tf":
            return x / 127.5 - 1.0
        if m == "torch":
            mean = ops.convert_to_tensor(IMAGENET_MEAN, dtype=x.dtype)
            std = ops.convert_to_tensor([math.sqrt(v) for v in IMAGENET_VAR], dtype=x.dtype)
            return (x / 255.0 - mean) / std
        if m == "caffe":
            bgr = ops.flip(x, axis=-1)
            return bgr - ops.convert_to_tensor([103.939, 116.779, 123.68], dtype=x.dtype)
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable("nbreview")
class AlwaysAugment(layers.Layer):
    """Applies the augmentation layers whatever the training flag: a pipeline that augments at
    validation or prediction time."""

    def __init__(self, inner: keras.Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        return self.inner(x, training=True)


# --- augmentation ---------------------------------------------------------------------

def augmenter(ops_: list[AugOp], size: int, seed: int) -> tuple[keras.Sequential | None, list[str]]:
    """Keras random layers reproducing the notebook's augmentation; notes for what is approximate."""
    out: list[layers.Layer] = []
    notes: list[str] = []
    flips: set[str] = set()
    shift = {"height": 0.0, "width": 0.0}
    shift_nearest = False
    k = 0

    def s() -> int:
        nonlocal k
        k += 1
        return seed * 101 + k

    for op in ops_:
        p = op.params
        if op.fidelity == "not reproduced":
            notes.append(f"not reproduced: {op.text}")
            continue
        if op.kind == "flip":
            mode = str(p.get("mode", "horizontal"))
            flips.update(["horizontal", "vertical"] if mode == "horizontal_and_vertical" else [mode])
        elif op.kind == "rotation":
            if "degrees" in p:
                out.append(layers.RandomRotation(float(p["degrees"]) / 360.0, fill_mode="nearest", seed=s()))
            else:
                out.append(layers.RandomRotation(_factor(p["factor"]), seed=s()))
        elif op.kind == "translation":
            for key in ("height", "width"):
                v = p.get(key)
                if isinstance(v, (int, float)) and v:
                    shift[key] = float(v) / size if v >= 1 else float(v)
            shift_nearest = shift_nearest or op.text.split("=")[0].strip().endswith("_range")
        elif op.kind == "zoom":
            if "range" in p:
                lo, hi = p["range"]
                out.append(layers.RandomZoom((lo - 1.0, hi - 1.0), fill_mode="nearest", seed=s()))
            else:
                out.append(layers.RandomZoom(_factor(p["factor"]), seed=s()))
        elif op.kind == "shear":
            deg = float(p.get("degrees", 0.0))
            out.append(layers.RandomShear(x_factor=min(1.0, abs(math.tan(math.radians(deg)))), fill_mode="nearest",
                                          seed=s()))
            notes.append(f"approximated: {op.text} (RandomShear)")
        elif op.kind == "brightness":
            if "range" in p:
                lo, hi = p["range"]
                out.append(layers.RandomBrightness((lo - 1.0, hi - 1.0), value_range=(0, 255), seed=s()))
                notes.append(f"approximated: {op.text} (additive RandomBrightness for a multiplicative range)")
            elif "delta" in p:
                d = float(p["delta"])
                d = d / 255.0 if d > 1 else d
                out.append(layers.RandomBrightness(d, value_range=(0, 255), seed=s()))
            else:
                out.append(layers.RandomBrightness(_factor(p["factor"]), value_range=(0, 255), seed=s()))
        elif op.kind == "contrast":
            if "range" in p:
                lo, hi = p["range"]
                out.append(layers.RandomContrast((1.0 - lo, hi - 1.0), value_range=(0, 255), seed=s()))
            else:
                out.append(layers.RandomContrast(_factor(p["factor"]), value_range=(0, 255), seed=s()))
        else:
            notes.append(f"not reproduced: {op.text}")
    if shift["height"] or shift["width"]:
        out.insert(0, layers.RandomTranslation(shift["height"], shift["width"],
                                               fill_mode="nearest" if shift_nearest else "reflect", seed=s()))
    if flips:
        mode = "horizontal_and_vertical" if len(flips) == 2 else next(iter(flips))
        out.insert(0, layers.RandomFlip(mode, seed=s()))
    if not out:
        return None, notes
    return keras.Sequential(out, name="augmentation"), notes


def _factor(v: Any) -> Any:
    return tuple(v) if isinstance(v, (list, tuple)) else float(v)


# --- backbones ------------------------------------------------------------------------

def mini_backbone(size: int, stem: str, name: str = "nbreview_mini") -> keras.Model:
    """A small CNN; stem "efficientnet" rescales 0..255 inside like keras.applications EfficientNet."""
    inp = keras.Input((size, size, 3))
    x = inp
    if stem == "efficientnet":
        x = layers.Rescaling(1.0 / 255.0, name="stem_rescaling")(x)
        x = layers.Normalization(mean=IMAGENET_MEAN, variance=IMAGENET_VAR, name="stem_normalization")(x)
    for i, width in enumerate((24, 48, 96)):
        x = layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name=f"conv{i}a")(x)
        x = layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name=f"bn{i}a")(x)
        x = layers.Activation("swish")(x)
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}b")(x)
        x = layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name=f"bn{i}b")(x)
        x = layers.Activation("swish")(x)
    return keras.Model(inp, x, name=name)


def application(name: str, size: int, weights: str | None, include_preprocessing: bool | None = None) -> keras.Model:
    ctor = getattr(keras.applications, name)
    kwargs: dict[str, Any] = {"include_top": False, "weights": weights, "input_shape": (size, size, 3)}
    if name.startswith("EfficientNetV2") and include_preprocessing is not None:
        kwargs["include_preprocessing"] = include_preprocessing
    if name.startswith("MobileNetV3"):
        kwargs["include_preprocessing"] = True if include_preprocessing is None else include_preprocessing
    return ctor(**kwargs)


def stem_input_layer(backbone: keras.Model):
    """The tensor the backbone's first convolution reads (before its zero padding): what the stem sees."""
    for layer in backbone.layers:
        if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
            src = layer.input
            producer = src._keras_history.operation if hasattr(src, "_keras_history") else None
            if isinstance(producer, layers.ZeroPadding2D):
                src = producer.input
            return src
    return backbone.input


# --- the reference model ----------------------------------------------------------------

@dataclass
class Bundle:
    train: keras.Model
    clean: keras.Model
    augmented: keras.Model | None
    backbone: keras.Model
    core: keras.Model  # float image (after augmentation) -> probabilities


def head(n_classes: int) -> list[layers.Layer]:
    return [layers.GlobalAveragePooling2D(), layers.Dropout(0.2),
            layers.Dense(n_classes, activation="softmax", dtype="float32", name="predictions")]


def build(backbone: keras.Model, size: int, n_classes: int, scaling: str,
          augmentation: keras.Sequential | None, trainable: bool = True) -> Bundle:
    backbone.trainable = trainable
    f_in = keras.Input((size, size, 3), dtype="float32")
    x = Preprocess(scaling, dtype="float32", name="scaling")(f_in)
    x = backbone(x, training=None if trainable else False)
    for layer in head(n_classes):
        x = layer(x)
    core = keras.Model(f_in, x, name="core")

    def wrap(aug_layer, name: str) -> keras.Model:
        inp = keras.Input((size, size, 3), dtype="uint8")
        y = ToFloat(dtype="float32")(inp)
        if aug_layer is not None:
            y = aug_layer(y)
        return keras.Model(inp, core(y), name=name)

    train = wrap(augmentation, "train")
    clean = wrap(None, "clean")
    augmented = wrap(AlwaysAugment(augmentation, dtype="float32"), "augmented") if augmentation is not None else None
    return Bundle(train, clean, augmented, backbone, core)


def pretext_weights(size: int, stem: str, scaling: str, seed: int = 7, reporter=None) -> tuple[Path, bool]:
    """nbreview-mini pretrained on a synthetic pretext task at the input its stem expects.

    Cached on disk; returns (path, made_now)."""
    from .data import cache_dir, synthetic

    # nbreview-mini is fully convolutional: its weights fit any input size, so one pretraining per stem
    n, epochs, batch = PRETEXT_BUDGET
    path = cache_dir() / "pretext" / (f"mini-{stem}-{scaling}-k{keras.__version__}-v{PRETEXT_VERSION}-"
                                      f"{n}x{epochs}.weights.h5")
    if path.exists():
        return path, False
    keras.utils.set_random_seed(seed)
    classes = 8
    x, y = synthetic(n, PRETEXT_SIZE, classes, seed=seed + 500, task="texture-frequency")
    bb = mini_backbone(PRETEXT_SIZE, stem)
    bundle = build(bb, PRETEXT_SIZE, classes, scaling, None)
    model = bundle.clean
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    callbacks = []
    if reporter is not None:
        from .train import ProgressCallback

        callbacks.append(ProgressCallback(reporter, "pretraining nbreview-mini (once)", n, batch, epochs))
    hist = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=callbacks)
    if reporter is not None:
        reporter.info(f"nbreview-mini pretext accuracy: {hist.history['accuracy'][-1]:.2f} ({n} images, {epochs} epochs)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name.replace(".weights.h5", ".tmp.weights.h5"))
    bb.save_weights(tmp)
    tmp.replace(path)
    return path, True

"""Training helpers of the reference runs: device set-up, seeds, datasets, optimizer, progress."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np


def gpu_name() -> str | None:
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return tf.config.experimental.get_device_details(gpus[0]).get("device_name") or gpus[0].name
    except Exception:  # noqa: BLE001
        return None
    return None


def configure(device: str, mixed_precision: bool, threads: int | None = None) -> None:
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, threads)))
            except RuntimeError:
                pass
        if device == "gpu":
            for g in tf.config.list_physical_devices("GPU"):
                try:
                    tf.config.experimental.set_memory_growth(g, True)
                except RuntimeError:
                    pass
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision and device == "gpu" else "float32")


def seed_all(seed: int) -> None:
    keras.utils.set_random_seed(seed)


def versions() -> dict[str, str]:
    import platform

    out = {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__,
           "backend": keras.backend.backend()}
    try:
        import tensorflow as tf

        out["tensorflow"] = tf.__version__
    except Exception:  # noqa: BLE001
        pass
    return out


def dataset(x: np.ndarray, y: np.ndarray, batch: int, shuffle_seed: int | None = None):
    """uint8 images in memory -> batches on the device (prefetched); shuffled per epoch with a fixed seed."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(y), seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.batch(batch).prefetch(tf.data.AUTOTUNE)


def optimizer(name: str, learning_rate: Any, notes: list[str] | None = None):
    cls = getattr(keras.optimizers, name, None)
    if cls is None or not isinstance(cls, type):
        if notes is not None:
            notes.append(f"optimizer {name} is not in keras.optimizers: Adam instead")
        cls = keras.optimizers.Adam
    return cls(learning_rate=learning_rate)


def lr_schedule(spec: dict | None):
    """A keras.optimizers.schedules object from the recipe's constant arguments (None if it cannot be made)."""
    if not spec or not spec.get("complete"):
        return None
    cls = getattr(keras.optimizers.schedules, spec["type"], None)
    if cls is None:
        return None
    args = {k: v for k, v in spec["args"].items() if not k.startswith("#")}
    positional = [v for k, v in sorted(spec["args"].items()) if k.startswith("#")]
    try:
        return cls(*positional, **args)
    except Exception:  # noqa: BLE001 - arguments this Keras does not take
        return None


def compile_model(model, opt) -> None:
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def current_lr(model) -> float | None:
    try:
        opt = model.optimizer
        lr = opt.learning_rate
        if callable(lr) and not hasattr(lr, "numpy"):
            return float(lr(opt.iterations))
        return float(keras.ops.convert_to_numpy(lr))
    except Exception:  # noqa: BLE001
        return None


@dataclass
class Scores:
    accuracy: float
    loss: float


def scores(probs: np.ndarray, y: np.ndarray) -> Scores:
    p = np.clip(probs.astype(np.float64), 1e-7, 1 - 1e-7)
    acc = float(np.mean(np.argmax(p, axis=1) == y))
    loss = float(np.mean(-np.log(p[np.arange(len(y)), y])))
    return Scores(acc, loss)


def predict(model, x: np.ndarray, batch: int) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch, verbose=0), dtype=np.float32)


class ProgressCallback(keras.callbacks.Callback):
    """Advances a progress task by the images of each training batch."""

    def __init__(self, reporter, description: str, images: int, batch: int, epochs: int) -> None:
        super().__init__()
        self.reporter, self.description = reporter, description
        self.images, self.batch, self.epochs = images, batch, epochs
        self.steps = max(1, math.ceil(images / batch))
        self.task = None

    def on_train_begin(self, logs=None) -> None:
        self.task = self.reporter.task(self.description, self.images * self.epochs)

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self.task is not None:
            last = batch == self.steps - 1
            self.task.advance(self.images - self.batch * (self.steps - 1) if last else self.batch)

    def on_train_end(self, logs=None) -> None:
        if self.task is not None:
            self.task.finish()
            self.task = None

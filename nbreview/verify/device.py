"""Choosing the device before Keras is imported (CUDA_VISIBLE_DEVICES must be set first), and
importing TensorFlow without its start-up chatter on stderr."""
from __future__ import annotations

import os
import sys
import tempfile


def setup_device(device: str) -> str:
    """Pick the device, then import Keras; returns "cpu" or "gpu" (ValueError if a GPU was asked
    for and there is none)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    with _quiet_stderr():
        import keras

        gpus = _gpus(keras.backend.backend())
    if device == "gpu" and not gpus:
        raise ValueError("--device gpu: no GPU is visible to " + keras.backend.backend())
    return "gpu" if gpus and device != "cpu" else "cpu"


class _quiet_stderr:
    """TensorFlow's C++ start-up lines (absl, oneDNN, CPU features) go to fd 2 before any log level
    applies: hold them back, and show them only if the import fails."""

    def __enter__(self) -> None:
        try:
            sys.stderr.flush()
            self.saved = os.dup(2)
            self.tmp = tempfile.TemporaryFile()
            os.dup2(self.tmp.fileno(), 2)
        except OSError:  # no real fd 2 (embedded interpreters): leave it alone
            self.saved = None

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.saved is None:
            return
        os.dup2(self.saved, 2)
        os.close(self.saved)
        if exc_type is not None:
            self.tmp.seek(0)
            sys.stderr.write(self.tmp.read().decode("utf-8", "replace"))
        self.tmp.close()


def _gpus(backend: str) -> list[str]:
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return [d.name for d in tf.config.list_physical_devices("GPU")]
        if backend == "jax":
            import jax

            return [str(d) for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - no GPU runtime: CPU
        return []
    return []

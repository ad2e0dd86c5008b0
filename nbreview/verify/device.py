"""Choosing the device before Keras is imported (CUDA_VISIBLE_DEVICES must be set first)."""
from __future__ import annotations

import os


def setup_device(device: str) -> str:
    """Pick the device before Keras is imported; returns "cpu" or "gpu" (ValueError if a GPU was asked
    for and there is none)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    import keras

    gpus = _gpus(keras.backend.backend())
    if device == "gpu" and not gpus:
        raise ValueError("--device gpu: no GPU is visible to " + keras.backend.backend())
    return "gpu" if gpus and device != "cpu" else "cpu"


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

"""Experiments that prove rules, one module per rule (see base.py for the registry)."""
from __future__ import annotations

from .base import REGISTRY, Context, Experiment, register

MODULES = (
    "rescale_efficientnet",
    "augmented_validation",
    "checkpoint_save_best_only",
    "tta_no_augmentation",
    "deprecated_generator_api",
    "checkpoint_monitor_invalid",
    "slow_lr_decay",
)


def load_all() -> dict[str, Experiment]:
    import importlib

    for m in MODULES:
        importlib.import_module(f"{__name__}.{m}")
    return REGISTRY


__all__ = ["REGISTRY", "Context", "Experiment", "register", "load_all", "MODULES"]

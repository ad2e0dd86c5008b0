"""Rule logic: one small module per rule, each a function over Facts yielding Hits.

A rule's texts and examples live in `rules/<slug>.toml`; its logic lives here in
`checks/<slug with underscores>.py`, registered with `@rule("slug")`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..facts import Facts
from ..facts.values import Site

# Modules holding the checks (kept explicit: importing only what is listed keeps start-up fast)
CHECK_MODULES = (
    "checkpoint_save_best_only",
    "augmented_validation",
    "rescale_efficientnet",
    "tta_no_augmentation",
    "deprecated_generator_api",
)


@dataclass
class Hit:
    """One finding as a rule sees it: where, with which words, and which other places matter."""

    site: Site
    params: dict[str, Any] = field(default_factory=dict)
    related: list[Site] = field(default_factory=list)
    variant: str = "default"
    severity: str | None = None  # a rule may lower its severity when it is less sure
    group: str = ""  # findings of one rule with the same variant and group read as one remark


CheckFn = Callable[[Facts], Iterable[Hit]]
REGISTRY: dict[str, CheckFn] = {}


def rule(slug: str) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY[slug] = fn
        return fn

    return deco


def load_all() -> dict[str, CheckFn]:
    if len(REGISTRY) < len(CHECK_MODULES):
        for name in CHECK_MODULES:
            importlib.import_module(f"{__name__}.{name}")
    return REGISTRY

"""The rules: one module per catalog entry (checks, praise and mentor questions alike).

Each module here defines one `Rule` subclass registered with `@register` (see base.py); its
texts and examples live in `rules/<slug>.toml`. Every module of this package is a rule and
is found automatically: adding a rule is adding its module and its TOML file.
"""
from __future__ import annotations

import importlib
import pkgutil

from .base import REGISTRY, Context, FixOffer, Hit, Rule, register

__all__ = ["Context", "FixOffer", "Hit", "Rule", "register", "load_all", "RULE_MODULES"]

_NOT_RULES = {"base"}


def rule_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_RULES)


RULE_MODULES: list[str] = []


def load_all() -> dict[str, Rule]:
    """slug -> rule, every rule module imported once."""
    if not RULE_MODULES:
        RULE_MODULES.extend(rule_modules())
        for name in RULE_MODULES:
            importlib.import_module(f"{__name__}.{name}")
    return REGISTRY

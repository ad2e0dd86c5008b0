"""The rule catalog: one TOML file per rule in `rules/` (ru and en texts, examples).

The catalog is content a mentor edits without touching Python. It ships inside the wheel
(as `nbreview/_content/rules`); in a source checkout it is read from `rules/` at the root.
"""
from __future__ import annotations

import string
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LANGS = ("ru", "en")


def content_dir(name: str) -> Path:
    """`rules` or `templates`: inside the installed package, else beside it in a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "_content" / name
    if packaged.is_dir():
        return packaged
    return here.parent / name


@dataclass
class Example:
    kind: str  # "bad" | "good"
    cells: list[str]
    title: str = ""
    expect: list[dict[str, int]] = field(default_factory=list)  # [{cell, line}] for bad examples


@dataclass
class RuleInfo:
    slug: str
    code: str
    severity: str
    framework: str
    kind: str  # "check" | "praise"
    title: dict[str, str]
    message: dict[str, str]
    why: dict[str, str]
    fix: dict[str, str]
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    fix_variants: dict[str, dict[str, str]] = field(default_factory=dict)  # how to fix, per message variant
    checks: dict[str, str] = field(default_factory=dict)  # what the rule looks for (its page)
    autofix: dict[str, Any] | None = None
    examples: list[Example] = field(default_factory=list)
    consequence: int = 50  # 0..100: how much it costs the student (for ordering)
    options: dict[str, Any] = field(default_factory=dict)  # configurable options -> defaults

    def text(self, table: dict[str, str], lang: str) -> str:
        return table.get(lang) or table.get("en") or next(iter(table.values()), "")

    def fix_for(self, lang: str, variant: str = "default") -> str:
        """How to fix a finding of this variant (the rule's general advice when none is specific)."""
        return self.text(self.fix_variants.get(variant) or self.fix, lang).strip()

    def render_message(self, lang: str, params: dict[str, Any], variant: str = "default") -> str:
        table = self.variants.get(variant, self.message) if variant != "default" else self.message
        return _format(self.text(table, lang), params)


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(template: str, params: dict[str, Any]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Safe(params))
    except (ValueError, IndexError, KeyError):
        return template


def _load_one(path: Path) -> RuleInfo:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    examples = [
        Example(kind=e["kind"], cells=list(e["cells"]), title=e.get("title", ""), expect=list(e.get("expect", [])))
        for e in data.get("example", [])
    ]
    return RuleInfo(
        slug=data["slug"],
        code=data["code"],
        severity=data.get("severity", "advice"),
        framework=data.get("framework", "any"),
        kind=data.get("kind", "check"),
        title=data.get("title", {}),
        message=data.get("message", {}),
        why=data.get("why", {}),
        fix=data.get("fix", {}),
        variants=data.get("variants", {}),
        fix_variants=data.get("fix_variants", {}),
        checks=data.get("checks", {}),
        autofix=data.get("autofix"),
        examples=examples,
        consequence=int(data.get("consequence", 50)),
        options=dict(data.get("options", {})),
    )


@lru_cache(maxsize=1)
def catalog() -> dict[str, RuleInfo]:
    out: dict[str, RuleInfo] = {}
    folder = content_dir("rules")
    for path in sorted(folder.glob("*.toml")):
        info = _load_one(path)
        out[info.slug] = info
    return out


def get(slug: str) -> RuleInfo | None:
    return catalog().get(slug)

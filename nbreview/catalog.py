"""The rule catalog: one TOML file per rule in `rules/` (ru and en texts, examples).

The catalog is content a mentor edits without touching Python. It ships inside the wheel
(as `nbreview/_content/rules`); in a source checkout it is read from `rules/` at the root.
"""
from __future__ import annotations

import re
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
    """A documented example that runs as a test. `kind`: "bad" (the rule fires; for praise and
    questions also "fires") or "good" (it stays silent; also "silent"). Each `expect` entry
    says where a finding is (`cell`, `line`), and may say which message `variant` it has, which
    other cells it points at (`related`) and whether it offers a fix (`fix`: "safe" | "unsafe"
    | "none"). `fixed` is the notebook's code cells after `nbreview fix` (safe fixes);
    `fixed_unsafe` after `nbreview fix --unsafe-fixes`, where that differs."""

    kind: str
    cells: list[str]
    title: str = ""
    expect: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[str] | None = None
    fixed_unsafe: list[str] | None = None
    outputs: list[str] | None = None  # the saved stream output of each code cell ("" for none)
    counts: list[int] | None = None  # each code cell's `In [n]` (0: not run), for out-of-order notebooks

    @property
    def fires(self) -> bool:
        return self.kind in ("bad", "fires")


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
    # --- how the review reads a finding (all optional; see the README, "Adding a rule") ---
    topic: str = "other"  # the review groups remarks by topic (mentor.TOPICS)
    task: str | None = None  # a finding marks this project task as attempted but not working
    contradicted_by: list[str] = field(default_factory=list)  # praise/question: withdrawn by these findings
    step: dict[str, str] = field(default_factory=dict)  # the next step a verdict names, per language
    words: dict[str, list[str]] = field(default_factory=dict)  # student's words it explains: about/symptom
    explains: dict[str, str] = field(default_factory=dict)  # how a remark answers those words

    def text(self, table: dict[str, str], lang: str) -> str:
        return table.get(lang) or table.get("en") or next(iter(table.values()), "")

    def fix_for(self, lang: str, variant: str = "default") -> str:
        """How to fix a finding of this variant (the rule's general advice when none is specific)."""
        return self.text(self.fix_variants.get(variant) or self.fix, lang).strip()

    def render_message(self, lang: str, params: dict[str, Any], variant: str = "default",
                       strict: bool = False) -> str:
        """The message of a variant with its parameters. A required parameter that is unknown is
        a rule bug: `strict` (the tests) raises; otherwise the rule's title stands in."""
        table = self.variants.get(variant, self.message) if variant != "default" else self.message
        try:
            return _format(self.text(table, lang), params)
        except KeyError:
            if strict:
                raise
            return self.text(self.title, lang).rstrip(".") + "."

    def autofix_text(self, lang: str, variant: str = "default") -> str:
        """What the automatic fix changes, for this fix variant (`[autofix.variants.<v>]`)."""
        table = self.autofix or {}
        specific = (table.get("variants") or {}).get(variant)
        if specific:
            return self.text(specific, lang).strip()
        return str(table.get(lang) or table.get("en") or "").strip()


class _Missing(Exception):
    pass


class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise _Missing(key)


_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)


def _format(template: str, params: dict[str, Any]) -> str:
    """Fill `{param}`s. A segment in `[[...]]` is dropped when a parameter inside it is unknown
    (missing or None), so a sentence never shows a placeholder: "Чекпоинт[[ `{name}`]] ..."."""
    known = {k: v for k, v in params.items() if v is not None and v != ""}

    def optional(m: re.Match) -> str:
        try:
            return string.Formatter().vformat(m.group(1), (), _Strict(known))
        except (_Missing, ValueError, IndexError, KeyError):
            return ""

    text = _OPTIONAL.sub(optional, template)
    try:
        return string.Formatter().vformat(text, (), _Strict(known))
    except _Missing as exc:  # a required parameter is unknown: a rule bug, shown plainly
        raise KeyError(f"message parameter {exc.args[0]!r} is unknown") from None
    except (ValueError, IndexError):
        return text


def _load_one(path: Path) -> RuleInfo:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    examples = [
        Example(kind=e["kind"], cells=list(e["cells"]), title=e.get("title", ""), expect=list(e.get("expect", [])),
                fixed=list(e["fixed"]) if "fixed" in e else None,
                fixed_unsafe=list(e["fixed_unsafe"]) if "fixed_unsafe" in e else None,
                outputs=list(e["outputs"]) if "outputs" in e else None,
                counts=list(e["counts"]) if "counts" in e else None)
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
        topic=str(data.get("topic", "other")),
        task=data.get("task"),
        contradicted_by=list(data.get("contradicted_by", [])),
        step=dict(data.get("step", {})),
        words={k: list(v) for k, v in (data.get("words") or {}).items()},
        explains=dict(data.get("explains", {})),
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

"""The rule catalog: one TOML file per rule in `rules/` (ru and en texts, examples).

The catalog is content a mentor edits without touching Python. It ships inside the wheel
(as `nbreview/_content/rules`); in a source checkout it is read from `rules/` at the root.
"""
from __future__ import annotations

import json
import os
import re
import string
import sys
import zlib
from contextlib import suppress
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
    executed: bool = True  # False: saved as never run (no execution counts)

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


def _load_one(data: dict[str, Any]) -> RuleInfo:
    examples = [
        Example(kind=e["kind"], cells=list(e["cells"]), title=e.get("title", ""), expect=list(e.get("expect", [])),
                fixed=list(e["fixed"]) if "fixed" in e else None,
                fixed_unsafe=list(e["fixed_unsafe"]) if "fixed_unsafe" in e else None,
                outputs=list(e["outputs"]) if "outputs" in e else None,
                counts=list(e["counts"]) if "counts" in e else None, executed=bool(e.get("executed", True)))
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
    for data in _parsed(content_dir("rules")):
        info = _load_one(data)
        out[info.slug] = info
    return out


_CACHE_FORMAT = 1


def _parsed(folder: Path) -> list[dict[str, Any]]:
    """Every rule file of `folder` as parsed TOML, in file name order.

    Parsing the catalog's TOML (texts and examples of every rule) would be a third of a cold
    check's time, so the parsed files are kept in a JSON file in the user's cache folder, valid
    while no rule file changes (name, size and modification time of each). Without a usable
    cache folder the files are simply parsed."""
    paths = sorted(folder.glob("*.toml"))
    stamp = [[p.name, st.st_size, st.st_mtime_ns] for p in paths for st in (p.stat(),)]
    cache = _cache_file(folder)
    try:
        doc = json.loads(cache.read_text(encoding="utf-8")) if cache is not None else None
        if doc is not None and doc["format"] == _CACHE_FORMAT and doc["stamp"] == stamp:
            return doc["rules"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    rules = [tomllib.loads(p.read_text(encoding="utf-8")) for p in paths]
    if cache is not None:
        _write_cache(cache, {"format": _CACHE_FORMAT, "stamp": stamp, "rules": rules})
    return rules


def _cache_file(folder: Path) -> Path | None:
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home folder
        return None
    return base / "nbreview" / f"catalog-{zlib.crc32(str(folder).encode('utf-8')):08x}.json"


def _write_cache(cache: Path, doc: dict[str, Any]) -> None:
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        text = json.dumps(doc, ensure_ascii=False)
        if json.loads(text) != doc:  # only what JSON keeps exactly (a TOML date would not be)
            return
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, cache)  # atomic: a concurrent run reads the old file or the new one
    except (OSError, TypeError, ValueError):  # a cache we cannot write: the next run parses again
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def get(slug: str) -> RuleInfo | None:
    return catalog().get(slug)


# The sentence that opens a remark about code the saved notebook does not run (see
# `nbreview.facts.values.Reach`): the function nothing calls, or the branch no call takes.
REACH_NOTES = {
    "uncalled": {
        "ru": "Функция[[ `{func}`]] в сохранённом ноутбуке не вызывается (вызов удалён или закомментирован), "
              "но её код остаётся и сработает так же, как только вы её снова вызовете. ",
        "en": "The function[[ `{func}`]] is not called in the saved notebook (its call was removed or commented "
              "out), but its code is still there and will behave the same as soon as you call it again. ",
    },
    "dead": {
        "ru": "Этот код в сохранённом ноутбуке не выполняется:[[ при всех вызовах `{func}`]] условие "
              "`{cond}` {truth}. Замечание относится к нему на случай, если вы его включите. ",
        "en": "This code does not run in the saved notebook:[[ at every call of `{func}`,]] `{cond}` is {truth}. "
              "The remark applies once you enable it. ",
    },
}
_TRUTH = {"ru": ("ложно", "истинно"), "en": ("false", "true")}


def code_quotable(text: str) -> str:
    """Student text shown inside a message's `code span`: a backtick in it would end the span early
    (and turn the rest into markup) in every markdown renderer, so it becomes the look-alike U+02CB."""
    return text.replace("`", "\u02cb")


def reach_note(lang: str, reach: Any, cell_source: str) -> str:
    """The opening sentence for a finding about code that does not run (`reach`: a Reach)."""
    import ast

    func = getattr(reach.func, "name", None)
    if func == "<lambda>":
        func = None
    cond = None
    if reach.cond is not None:
        try:
            cond = ast.get_source_segment(cell_source, reach.cond) or ast.unparse(reach.cond)
        except Exception:  # noqa: BLE001 - a quote is a nicety
            cond = None
        cond = code_quotable(" ".join(cond.split())) if cond else None
    table = REACH_NOTES.get(reach.kind, {})
    template = table.get(lang) or table.get("en", "")
    truth = _TRUTH.get(lang, _TRUTH["en"])[1 if reach.negated else 0]
    if reach.kind == "dead" and not cond:
        return ""
    return _format(template, {"func": func, "cond": cond, "truth": truth})


def lower_severity(severity: str) -> str:
    """One step less: error -> warning -> advice."""
    order = ("error", "warning", "advice")
    return order[min(order.index(severity) + 1, 2)] if severity in order else severity

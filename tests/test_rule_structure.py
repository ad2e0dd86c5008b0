"""The shape of the rule platform: one rule = one module, reporting through its context.

A reader writes a new rule by reading one rule module and the documented queries of
`nbreview.facts`; so no rule imports another rule, and a rule's slug appears only in its own
module, its catalog file and the catalog."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from nbreview import catalog as cat
from nbreview.checks import RULE_MODULES, load_all
from nbreview.checks.base import Rule

PKG = Path(__file__).resolve().parent.parent / "nbreview"


def test_one_module_per_rule_named_after_its_slug():
    rules = load_all()
    assert sorted(s.replace("-", "_") for s in rules) == sorted(RULE_MODULES)
    for slug, rule in rules.items():
        assert isinstance(rule, Rule)
        assert type(rule).__module__ == f"nbreview.checks.{slug.replace('-', '_')}"


def test_no_rule_imports_another_rule():
    modules = set(RULE_MODULES)
    for name in RULE_MODULES:
        tree = ast.parse((PKG / "checks" / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = (node.module or "").split(".")[-1] if node.level == 1 else None
                assert target not in modules, f"{name} imports the rule {target}"
                if node.level == 1 and node.module is None:
                    assert not {a.name for a in node.names} & modules, name


def test_slugs_appear_only_in_their_own_module():
    slugs = set(cat.catalog())
    pattern = re.compile(r"""["']([a-z0-9]+(?:-[a-z0-9]+)+)["']""")
    for path in PKG.rglob("*.py"):
        if "_content" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        own = path.parent.name == "checks" and path.stem.replace("_", "-")
        for slug in set(pattern.findall(text)) & slugs:
            assert slug == own, f"{path.relative_to(PKG)} names the rule {slug}"


def test_every_rule_module_documents_itself():
    for name in RULE_MODULES:
        tree = ast.parse((PKG / "checks" / f"{name}.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), name

"""`[tool.nbreview]` / nbreview.toml: discovery upwards, CLI overrides, per-file-ignores, rule options, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbreview import catalog as cat
from nbreview import checks
from nbreview.config import ConfigError, Resolver, read
from nbreview.engine import Options, review_path, review_paths

from .conftest import make_notebook, run_cli

CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_accuracy')"
LR = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)"


def rules_of(path: Path, **kw) -> list[str]:
    return [f.rule for f in review_paths([path], Options(**kw)).findings]


def test_pyproject_found_from_a_parent_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.nbreview]\nignore = ["checkpoint-save-best-only"]\n')
    (tmp_path / "course" / "pyproject.toml").parent.mkdir()
    (tmp_path / "course" / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.nbreview]: skipped
    nb = make_notebook([CKPT, LR], tmp_path / "course" / "week1" / "a.ipynb")
    assert rules_of(nb) == ["deprecated-generator-api"]
    assert rules_of(nb, use_config=False) == ["checkpoint-save-best-only", "deprecated-generator-api"]


def test_nbreview_toml_wins_in_its_folder_and_nearest_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.nbreview]\nignore = ["checkpoint-save-best-only"]\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.nbreview]\nselect = ["checkpoint-save-best-only"]\n')
    (sub / "nbreview.toml").write_text('select = ["deprecated-generator-api"]\n')
    nb = make_notebook([CKPT, LR], sub / "a.ipynb")
    assert rules_of(nb) == ["deprecated-generator-api"]
    other = make_notebook([CKPT, LR], tmp_path / "b.ipynb")
    assert rules_of(other) == ["deprecated-generator-api"]


def test_cli_flags_override_config(tmp_path):
    (tmp_path / "nbreview.toml").write_text(
        'ignore = ["checkpoint-save-best-only"]\nlang = "en"\nfail-on = "error"\n')
    nb = make_notebook([CKPT, LR], tmp_path / "a.ipynb")
    r = run_cli("check", str(nb), "--format", "json")
    doc = json.loads(r.stdout)
    [f] = doc["notebooks"][0]["findings"]
    assert f["rule"] == "deprecated-generator-api"
    assert "Adam" in f["message"] and r.returncode == 0  # a warning only, and fail-on = error
    assert not any(ch in f["message"] for ch in "абвгдеж")  # English from the config
    r = run_cli("check", str(nb), "--format", "json", "--select", "checkpoint-save-best-only",
                "--lang", "ru", "--fail-on", "warning")
    doc = json.loads(r.stdout)
    assert [f["rule"] for f in doc["notebooks"][0]["findings"]] == ["checkpoint-save-best-only"]
    assert r.returncode == 1
    assert any(ch in doc["notebooks"][0]["findings"][0]["message"] for ch in "абвгдеж")
    r = run_cli("check", str(nb), "--format", "json", "--isolated")
    assert len(json.loads(r.stdout)["notebooks"][0]["findings"]) == 2


def test_explicit_config_file(tmp_path):
    cfg = tmp_path / "elsewhere" / "nbreview.toml"
    cfg.parent.mkdir()
    cfg.write_text('select = ["checkpoint-save-best-only"]\n')
    nb = make_notebook([CKPT, LR], tmp_path / "a.ipynb")
    r = run_cli("check", str(nb), "--format", "json", "--config", str(cfg))
    assert [f["rule"] for f in json.loads(r.stdout)["notebooks"][0]["findings"]] == ["checkpoint-save-best-only"]


def test_per_file_ignores(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.nbreview.per-file-ignores]\n'
        '"old/**" = ["checkpoint-save-best-only"]\n'
        '"*_draft.ipynb" = ["deprecated-generator-api"]\n')
    old = make_notebook([CKPT, LR], tmp_path / "old" / "2022" / "a.ipynb")
    draft = make_notebook([CKPT, LR], tmp_path / "new" / "b_draft.ipynb")
    new = make_notebook([CKPT, LR], tmp_path / "new" / "c.ipynb")
    assert rules_of(old) == ["deprecated-generator-api"]
    assert rules_of(draft) == ["checkpoint-save-best-only"]
    assert len(rules_of(new)) == 2


@pytest.mark.parametrize("text, named", [
    ('[tool.nbreview]\nselct = ["checkpoint-save-best-only"]\n', "selct"),
    ('[tool.nbreview]\nignore = ["no-such-rule"]\n', "no-such-rule"),
    ('[tool.nbreview]\nfail-on = "always"\n', "fail-on"),
    ('[tool.nbreview]\nlang = "de"\n', "lang"),
    ('[tool.nbreview.per-file-ignores]\n"*.ipynb" = ["nope"]\n', "nope"),
    ('[tool.nbreview.rules.no-such-rule]\nx = 1\n', "rules.no-such-rule"),
    ('[tool.nbreview.rules.checkpoint-save-best-only]\nmin-passes = 1\n', "min-passes"),
    ('[tool.nbreview\n', "invalid TOML"),
])
def test_bad_config_is_a_clear_exit_2(tmp_path, text, named):
    (tmp_path / "pyproject.toml").write_text(text)
    nb = make_notebook([CKPT], tmp_path / "a.ipynb")
    r = run_cli("check", str(nb))
    assert r.returncode == 2, r.stdout
    assert named in r.stderr and "pyproject.toml" in r.stderr
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        review_paths([nb], Options())


def test_rule_options_reach_the_rules(tmp_path, monkeypatch):
    info = cat.catalog()["checkpoint-save-best-only"]
    monkeypatch.setattr(info, "options", {"min-passes": 10, "strict": False})
    seen = []
    original = checks.load_all()["checkpoint-save-best-only"]

    class Spy(type(original)):
        def check(self, ctx):
            seen.append((ctx.option("min-passes"), ctx.option("strict")))
            return super().check(ctx)

    monkeypatch.setitem(checks.REGISTRY, "checkpoint-save-best-only", Spy())
    nb = make_notebook([CKPT], tmp_path / "a.ipynb")
    review_paths([nb], Options())
    assert seen[-1] == (10, False)  # the catalog's defaults
    (tmp_path / "nbreview.toml").write_text('[rules.checkpoint-save-best-only]\nmin-passes = 16\n')
    review_path(nb, Options())
    assert seen[-1] == (16, False)
    cfg = Resolver().for_path(nb)
    assert cfg is not None and cfg.rule_options == {"checkpoint-save-best-only": {"min-passes": 16}}
    assert Options(rule_options=cfg.rule_options).rule_option("checkpoint-save-best-only", "min-passes") == 16
    assert Options().rule_option("checkpoint-save-best-only", "strict") is False
    (tmp_path / "nbreview.toml").write_text('[rules.checkpoint-save-best-only]\nmin-passes = "many"\n')
    with pytest.raises(ConfigError, match="min-passes.*expected int"):
        read(tmp_path / "nbreview.toml")


def test_resolver_reads_each_folder_once(tmp_path, monkeypatch):
    (tmp_path / "nbreview.toml").write_text('ignore = ["deprecated-generator-api"]\n')
    nbs = [make_notebook([CKPT], tmp_path / "d" / f"{i}.ipynb") for i in range(3)]
    calls = []
    from nbreview import config

    real = config.read
    monkeypatch.setattr(config, "read", lambda p: calls.append(p) or real(p))
    resolver = Resolver()
    assert {id(resolver.for_path(nb)) for nb in nbs} == {id(resolver.for_path(nbs[0]))}
    assert calls == [tmp_path / "nbreview.toml"]


def test_readme_config_example_is_valid(tmp_path):
    from .conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Configuration", 1)[1]
    example = section.split("```toml", 1)[1].split("```", 1)[0]
    (tmp_path / "pyproject.toml").write_text(example)
    cfg = read(tmp_path / "pyproject.toml")
    assert cfg is not None and cfg.fail_on == "error" and "deprecated-generator-api" in cfg.ignore

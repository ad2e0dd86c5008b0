""".pre-commit-hooks.yaml: the `nbreview` hook, run by the real pre-commit against a temporary git repo.

pre-commit builds the hook's virtualenv from this repository with pip (the package and its
dependencies come from PyPI), so the test is skipped only when that install cannot reach
the registry. It takes some seconds: pre-commit installs nbreview once into its cache.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, make_notebook

CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_accuracy')"
CLEAN = "import numpy as np\nx = np.zeros(3)"
NETWORK_TROUBLE = ("Could not find a version", "NewConnectionError", "Failed to establish a new connection",
                   "Temporary failure in name resolution", "No matching distribution found", "ProxyError")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
       "-c", "init.defaultBranch=main"]


def test_hook_definition():
    yaml = pytest.importorskip("yaml")
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "nbreview" and hook["entry"] == "nbreview check --pre-commit"
    assert hook["types"] == ["jupyter"] and hook["language"] == "python"


def _copy_working_tree(dest: Path) -> None:
    """What a commit of the working tree would hold: tracked and untracked-not-ignored files."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not rel.startswith("tests/"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def test_precommit_try_repo(tmp_path):
    pytest.importorskip("pre_commit")
    if shutil.which("git") is None:
        pytest.skip("needs git")
    hook_repo = tmp_path / "nbreview-repo"
    hook_repo.mkdir()
    _copy_working_tree(hook_repo)
    subprocess.run([*GIT, "init", "-q"], cwd=hook_repo, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=hook_repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "nbreview"], cwd=hook_repo, check=True)

    work = tmp_path / "submissions"
    work.mkdir()
    subprocess.run([*GIT, "init", "-q"], cwd=work, check=True)
    make_notebook([CKPT], work / "x.ipynb")
    make_notebook([CLEAN], work / "clean.ipynb")
    (work / "notes.txt").write_text("not a notebook\n")
    subprocess.run([*GIT, "add", "-A"], cwd=work, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)

    def try_repo(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "nbreview",
                               "--verbose", "--files", *files],
                              cwd=work, env=env, capture_output=True, text=True, timeout=900, check=False)

    r = try_repo("x.ipynb", "notes.txt")
    out = r.stdout + r.stderr
    if r.returncode not in (0, 1) or "An unexpected error" in out:
        log = tmp_path / "pre-commit-cache" / "pre-commit.log"
        text = out + (log.read_text() if log.exists() else "")
        if any(s in text for s in NETWORK_TROUBLE):
            pytest.skip("pre-commit could not install the hook from the package registry")
        pytest.fail(text)
    assert r.returncode == 1, out
    assert "checkpoint-save-best-only" in out
    assert "notes.txt" not in out  # types: [jupyter] filters it out (nbreview would call it unreadable)
    r = try_repo("clean.ipynb")
    assert r.returncode == 0, r.stdout + r.stderr

"""The wheel carries rules/ and templates/: build it, install it into a fresh venv, run a check there."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile

import pytest

from .conftest import FIXTURES, ROOT


@pytest.mark.skipif(os.environ.get("NBREVIEW_SKIP_WHEEL") == "1", reason="NBREVIEW_SKIP_WHEEL=1")
def test_wheel_installs_and_checks(tmp_path):
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(ROOT)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    [wheel] = list(dist.glob("nbreview-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("nbreview/_content/rules/") and n.endswith(".toml") for n in names)
    assert any(n.startswith("nbreview/_content/templates/") for n in names) or not list((ROOT / "templates").iterdir())

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    exe = env_dir / "bin" / "nbreview"
    # run from a folder without the source tree, so only the installed package is used
    r = subprocess.run([str(exe), "check", str(FIXTURES / "example_student.ipynb"), "--format", "json"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["summary"]["findings"] >= 5
    r = subprocess.run([str(exe), "rule", "checkpoint-save-best-only"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and "save_best_only" in r.stdout

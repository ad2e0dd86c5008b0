"""The labelled development set (../shared/devset): the implemented rules must keep their quality."""
from __future__ import annotations

import subprocess
import sys

import pytest

from nbreview.checks import load_all

from .conftest import DEVSET, ROOT


@pytest.mark.skipif(not (DEVSET / "score.py").exists(), reason="shared/devset not present beside the checkout")
def test_implemented_rules_on_the_devset():
    only = ",".join(sorted(load_all()))
    r = subprocess.run(
        [sys.executable, str(DEVSET / "score.py"), "--cmd", f"{sys.executable} -m nbreview", "--only", only,
         "--min-precision", "0.95", "--min-recall", "0.9"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "right cell" in r.stdout

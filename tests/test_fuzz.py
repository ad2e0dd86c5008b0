"""A short, seeded run of the fuzzing campaign of benchmarks/fuzz.py (the long one is run by hand).

Mutated notebooks (broken JSON, hostile values and code, odd encodings), hostile file names
and file-system entries: no traceback, no hang, no lost notebook, valid outputs."""
from __future__ import annotations

import importlib.util
import sys

from .conftest import ROOT


def _fuzz():
    spec = importlib.util.spec_from_file_location("nbreview_fuzz", ROOT / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["nbreview_fuzz"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_short_fuzzing_campaign():
    res = _fuzz().campaign(n=240, seed=2024, batch=120, jobs=2, slow=10.0, keep=None, log=None)
    assert res["notebooks"] == 240 and res["batches"] == 2
    assert len(res["mutations"]) >= 10  # the mutations really vary
    assert res["problems"] == []


def test_mutations_are_repeatable():
    fuzz = _fuzz()
    pool = fuzz.seeds()
    assert [fuzz.make(5, i, pool) for i in range(20)] == [fuzz.make(5, i, pool) for i in range(20)]

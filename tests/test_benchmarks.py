"""benchmarks/bench.py stays runnable: a tiny run prints every row the README's speed section
quotes and writes its numbers (nothing here is timed: the numbers are the benchmark's to report)."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT


def test_the_speed_benchmark_runs_end_to_end(tmp_path):
    out = tmp_path / "numbers.json"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--n", "12", "--small", "4",
                        "--scale", "2", "--runs", "1", "--batch-runs", "1", "--no-others", "--json", str(out)],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    for row in ("cold `check one.ipynb --format text`", "cold `check one.ipynb --format json`",
                "`check DIR --format json`, 12 notebooks", "`check DIR --format json`, 24 notebooks",
                "--jobs 1`, 12 notebooks", "parse floor", "12 course notebooks", "nbqa pylint / ruff"):
        assert row in r.stdout, row
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["throughput"]["12"]["notebooks_reported"] == 12
    assert res["throughput"]["24"]["notebooks_reported"] == 24
    assert res["course"]["notebooks_reported"] == 12 and res["course"]["floor_per_nb_ms"] > 0
    assert res["floor"]["per_nb_ms"] > 0 and res["serial"]["per_nb_ms"] > 0
    # the planted pitfalls are all found, and no planted rule fires on a notebook without its pitfall
    assert all(d["found"] == d["planted"] for d in res["sanity"]["pitfalls"].values())
    assert res["sanity"]["planted_slugs_on_clean"] == []
